/* The multi-device plan: the split of the batch over the contexts, one plan per non-empty part,
 * queries and the failure reports over the whole batch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multi_internal.h"

#define MAX_PARTS 64
/* Size of the first version of smnn_multi_options. */
#define MULTI_OPTIONS_MIN_SIZE (offsetof(smnn_multi_options, split) + sizeof(smnn_split))

void smnn_multi_options_init(smnn_multi_options *opt) {
    if (!opt) return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->split = SMNN_SPLIT_MEASURED;
}

void smnn__part_name(const smnn_multi_plan *plan, size_t i, char *buf, size_t len) {
    const smnn__part *pt = &plan->parts[i];
    if (pt->count)
        snprintf(buf, len, "part %zu of %zu (device '%s', systems %zu..%zu)", i, plan->nparts,
                 pt->ctx->info.device_name, pt->first, pt->first + pt->count - 1);
    else
        snprintf(buf, len, "part %zu of %zu (device '%s', no systems)", i, plan->nparts,
                 pt->ctx->info.device_name);
}

void smnn_multi_plan_free(smnn_multi_plan *plan) {
    if (!plan) return;
    for (size_t i = 0; i < plan->nparts; i++) smnn_plan_free(plan->parts[i].plan);
    free(plan->parts);
    free(plan);
}

/* Boundaries of the parts: part i ends where the cumulative share of the weights reaches it,
 * rounded to a multiple of `unit` systems (the last part ends at B). */
static void split(smnn_multi_plan *plan, const double *w, size_t unit) {
    size_t B = plan->p.batch, n = plan->nparts;
    double total = 0, acc = 0;
    for (size_t i = 0; i < n; i++) total += w[i];
    size_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        acc += w[i];
        size_t end = B;
        if (i + 1 < n) {
            double target = (double)B * acc / total / (double)unit;
            end = (size_t)floor(target + 0.5) * unit;
            if (end > B) end = B;
            if (end < prev) end = prev;
        }
        plan->parts[i].first = prev;
        plan->parts[i].count = end - prev;
        prev = end;
    }
}

/* Records a part's failure as the plan's, naming the part. */
static smnn_status part_failed(const smnn_multi_plan *plan, size_t i, smnn_status st,
                               const char *what) {
    char name[256];
    smnn__part_name(plan, i, name, sizeof name);
    return FAIL(plan->parts[i].ctx, st, "%s, %s: %s", name, what, smnn_last_error());
}

smnn_status smnn_multi_plan_create(smnn_context *const *contexts, size_t ncontexts,
                                   const smnn_problem *p, const smnn_plan_options *opt,
                                   const smnn_multi_options *mopt, smnn_multi_plan **out) {
    smnn__clear_error();
    if (!out) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    *out = NULL;
    if (!contexts) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'contexts' is NULL");
    if (ncontexts < 1 || ncontexts > MAX_PARTS)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "ncontexts = %zu, must be 1 to %d",
                    ncontexts, MAX_PARTS);
    for (size_t i = 0; i < ncontexts; i++) {
        if (!contexts[i])
            return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "contexts[%zu] is NULL", i);
        for (size_t j = 0; j < i; j++)
            if (contexts[j] == contexts[i])
                return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                            "contexts[%zu] and contexts[%zu] are the same context (one plan per "
                            "context: create another context for a second part on a device)",
                            j, i);
    }
    smnn_multi_options mo;
    smnn_multi_options_init(&mo);
    if (mopt) {
        if (mopt->struct_size < MULTI_OPTIONS_MIN_SIZE || mopt->struct_size > sizeof mo)
            return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                        "multi options.struct_size is %zu, expected %zu to %zu: call "
                        "smnn_multi_options_init() first",
                        mopt->struct_size, (size_t)MULTI_OPTIONS_MIN_SIZE, sizeof mo);
        memcpy(&mo, mopt, mopt->struct_size);
        mo.struct_size = sizeof mo;
        if (mo.split != SMNN_SPLIT_MEASURED && mo.split != SMNN_SPLIT_EQUAL)
            return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                        "multi options.split = %d is not a smnn_split", (int)mo.split);
    }
    FORWARD_IF_ERROR(smnn_problem_validate(p));

    smnn_multi_plan *plan = calloc(1, sizeof *plan);
    double *w = calloc(ncontexts, sizeof *w);
    if (plan) plan->parts = calloc(ncontexts, sizeof *plan->parts);
    if (!plan || !w || !plan->parts) {
        free(w);
        smnn_multi_plan_free(plan);
        return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "multi plan");
    }
    smnn__problem_copy(p, &plan->p);
    smnn__layouts(&plan->p, plan->in);
    plan->mopt = mo;
    plan->nparts = ncontexts;
    smnn_status st = SMNN_SUCCESS;
    size_t unit = 1;
    /* The options of the whole-batch plan on each device, then the throughputs. */
    for (size_t i = 0; i < ncontexts && st == SMNN_SUCCESS; i++) {
        smnn__part *pt = &plan->parts[i];
        pt->ctx = contexts[i];
        st = smnn_plan_options_resolve(pt->ctx, &plan->p, opt, &pt->opt);
        if (st != SMNN_SUCCESS) {
            st = part_failed(plan, i, st, "resolving the plan's options");
            break;
        }
        if (pt->opt.systems_per_item > (int)unit) unit = (size_t)pt->opt.systems_per_item;
        w[i] = 1;
        if (mo.split == SMNN_SPLIT_MEASURED && ncontexts > 1) {
            st = smnn__calibrate(pt->ctx, &plan->p, &pt->opt, &pt->throughput);
            if (st != SMNN_SUCCESS) st = part_failed(plan, i, st, "calibration");
            w[i] = pt->throughput;
        }
    }
    if (st == SMNN_SUCCESS) split(plan, w, unit);
    free(w);
    for (size_t i = 0; i < ncontexts && st == SMNN_SUCCESS; i++) {
        smnn__part *pt = &plan->parts[i];
        if (!pt->count) continue;
        smnn_problem pp = plan->p;
        pp.batch = pt->count;
        st = smnn_plan_create(pt->ctx, &pp, &pt->opt, &pt->plan);
        if (st != SMNN_SUCCESS) st = part_failed(plan, i, st, "creating its plan");
    }
    if (st != SMNN_SUCCESS) {
        smnn_multi_plan_free(plan);
        return st;
    }
    *out = plan;
    return SMNN_SUCCESS;
}

size_t smnn_multi_plan_parts(const smnn_multi_plan *plan) {
    return plan ? plan->nparts : 0;
}

smnn_status smnn_multi_plan_part(const smnn_multi_plan *plan, size_t i, smnn_multi_part *out) {
    smnn__clear_error();
    if (!plan || !out)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !plan ? "plan" : "out");
    if (i >= plan->nparts)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "part %zu of a plan of %zu parts", i,
                    plan->nparts);
    const smnn__part *pt = &plan->parts[i];
    out->context = pt->ctx;
    out->first = pt->first;
    out->count = pt->count;
    out->plan = pt->plan;
    out->throughput = pt->throughput;
    return SMNN_SUCCESS;
}

const smnn_problem *smnn_multi_plan_problem(const smnn_multi_plan *plan) {
    return plan ? &plan->p : NULL;
}

/* One report over the parts, system indexes made global. */
static smnn_status report(smnn_multi_plan *plan, smnn_failure_report *r, int unconverged) {
    smnn__clear_error();
    if (!plan || !r)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !plan ? "plan" : "report");
    r->count = 0;
    r->first_system = r->first_step = SIZE_MAX;
    for (size_t i = 0; i < plan->nparts; i++) {
        smnn__part *pt = &plan->parts[i];
        if (!pt->plan) continue;
        smnn_failure_report pr;
        smnn_status st = unconverged ? smnn_plan_unconverged(pt->plan, &pr)
                                     : smnn_plan_failures(pt->plan, &pr);
        if (st != SMNN_SUCCESS) return part_failed(plan, i, st, "report");
        if (pr.count && r->count == 0) {
            r->first_system = pt->first + pr.first_system;
            r->first_step = pr.first_step;
        }
        r->count += pr.count;
    }
    return SMNN_SUCCESS;
}

smnn_status smnn_multi_plan_failures(smnn_multi_plan *plan, smnn_failure_report *r) {
    return report(plan, r, 0);
}

smnn_status smnn_multi_plan_unconverged(smnn_multi_plan *plan, smnn_failure_report *r) {
    return report(plan, r, 1);
}
