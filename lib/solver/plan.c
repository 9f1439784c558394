/* Plans: validation, the program and kernels of one problem shape (with the problem arguments
 * set once), and the device workspace.
 *
 * The workspace holds, per system and time point, SMNN_REC(n) reals, or SMNN_REC_COMPACT(n) in
 * plans whose program keeps the compact record (contract.h; tuning.c). When the whole
 * batch would exceed the device's largest single allocation (or options.max_alloc_bytes) it is
 * split into chunks of systems, each with its own buffer; the solver kernels then run once per
 * chunk. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

/* Problem and options copied and checked, layouts and program shape decided: everything that
 * smnn_plan_create and smnn_plan_prepare share. */
typedef struct plan_setup {
    smnn_problem p;
    smnn_plan_options opt;
    smnn__kernel_shape shape;
    size_t per_system;          /* workspace bytes of one system */
    int parts;                  /* time chunks (partition.c); 1: the sequential walk */
    size_t chunk_cap, bcap, nchunks;
    size_t chunk_bytes;         /* workspace bytes of one batch chunk */
    size_t info_bytes;          /* the failure codes: an int per system */
    int explicit_width;         /* options.systems_per_item was set by the caller */
    cl_program program;         /* the shape's program (owned by the context) */
} plan_setup;

/* Splits the batch into chunks whose workspace fits one allocation. Chunks hold whole lane
 * groups of vw systems (the layout is padded to one), so a system's arithmetic is the same in
 * every chunk. When not even one group fits in an allocation: a width the caller chose
 * (options.systems_per_item) is never changed, since results are only bit-identical at one
 * width (solver.h), so the plan fails; an automatic width falls back to one system per work-item
 * (before the program is built; smnn_plan_get_options reports the width in use). Then the
 * totals: the failure codes (an int per system, one buffer) must fit one allocation, and the
 * workspace of every chunk plus the failure codes the device's global memory; all before
 * anything is allocated. */
static smnn_status chunking(smnn_context *ctx, plan_setup *s, int check_totals) {
    const smnn_problem *p = &s->p;
    size_t n = p->dims * p->orders, elem = s->opt.precision == SMNN_PRECISION_DOUBLE ? 8 : 4;
    size_t reals = smnn__partition_reals(n, p->steps, s->parts, s->shape.compact);
    if (reals == 0 || smnn__mul_overflows(reals, elem, &s->per_system)) s->per_system = SIZE_MAX;
    size_t lim = (size_t)ctx->info.max_alloc_bytes;
    if (s->opt.max_alloc_bytes && s->opt.max_alloc_bytes < lim) lim = s->opt.max_alloc_bytes;
    if (s->per_system > lim)
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE,
                    "one system's workspace (%zu bytes for T = %zu, n = %zu) exceeds the "
                    "largest allocation (%zu bytes)", s->per_system, p->steps, n, lim);
    size_t groups = lim / (s->per_system * (size_t)s->shape.vw);
    if (groups == 0 && s->parts == 1) {
        if (s->explicit_width)
            return FAIL(ctx, SMNN_ERROR_TOO_LARGE,
                        "options.systems_per_item = %d: one lane group's workspace (%d systems x "
                        "%zu bytes) exceeds the largest allocation (%zu bytes); lower "
                        "systems_per_item or raise the limit",
                        s->shape.vw, s->shape.vw, s->per_system, lim);
        s->shape.vw = 1;
        groups = lim / s->per_system;
    }
    size_t vw = (size_t)s->shape.vw;
    s->chunk_cap = groups * vw < p->batch ? groups * vw : p->batch;
    s->bcap = (s->chunk_cap + vw - 1) / vw * vw;
    if (s->parts > 1) {
        /* Parallel in time: the lanes are (system, time chunk) pairs, padded to whole groups per
         * region (partition.c), so a chunk holds any number of systems whose exact size fits;
         * the layout is the chunk's own (bcap = chunk_cap). */
        size_t cap = lim / s->per_system;
        if (cap > p->batch) cap = p->batch;
        for (;;) {
            size_t r = smnn__partition_chunk_reals(n, p->steps, s->parts, cap, vw);
            if (cap == 0 || (r && !smnn__mul_overflows(r, elem, &s->chunk_bytes) &&
                             s->chunk_bytes <= lim))
                break;
            cap--;
        }
        if (cap == 0)
            return FAIL(ctx, SMNN_ERROR_TOO_LARGE,
                        "one system's partitioned workspace (%d time chunks, T = %zu, n = %zu, "
                        "padded to lane groups of %zu) exceeds the largest allocation (%zu "
                        "bytes); lower time_chunks or systems_per_item", s->parts, p->steps, n,
                        vw, lim);
        s->chunk_cap = s->bcap = cap;
    } else {
        s->chunk_bytes = s->bcap * s->per_system; /* <= groups * vw * per_system <= lim */
    }
    s->nchunks = (p->batch + s->chunk_cap - 1) / s->chunk_cap;
    if (!check_totals) return SMNN_SUCCESS;
    /* p->batch <= INT32_MAX (setup), so this product cannot wrap. */
    s->info_bytes = p->batch * sizeof(cl_int);
    if (s->info_bytes > lim)
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE,
                    "the failure codes (one int per system: %zu bytes for batch %zu) exceed the "
                    "largest allocation (%zu bytes)", s->info_bytes, p->batch, lim);
    size_t ws, total;
    uint64_t global = ctx->info.global_mem_bytes;
    if (smnn__mul_overflows(s->nchunks, s->chunk_bytes, &ws) || ws > SIZE_MAX - s->info_bytes)
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE,
                    "the workspace of batch %zu (%zu bytes per system) overflows the address "
                    "space", p->batch, s->per_system);
    total = ws + s->info_bytes;
    if (global && total > global)
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE,
                    "the plan needs %zu bytes of device memory (workspace %zu bytes in %zu "
                    "chunks for batch %zu, T = %zu, n = %zu, plus %zu bytes of failure codes), "
                    "more than the device's global memory (%llu bytes)",
                    total, ws, s->nchunks, p->batch, p->steps, n, s->info_bytes,
                    (unsigned long long)global);
    return SMNN_SUCCESS;
}

/* With check_totals 0 (smnn_plan_options_resolve), the batch's totals are not checked against
 * the device: only a part of it will run there. */
static smnn_status setup(smnn_context *ctx, const smnn_problem *p, const smnn_plan_options *opt,
                         int check_totals, plan_setup *s) {
    if (!ctx) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'ctx' is NULL");
    smnn_status st = smnn_problem_validate(p);
    if (st != SMNN_SUCCESS) {
        smnn__context_set_error(ctx, smnn_last_error());
        return st;
    }
    smnn__problem_copy(p, &s->p);
    FORWARD_IF_ERROR(smnn__options_resolve(ctx, opt, &s->opt));
    /* Only the caller's own choice is kept at any cost; $SMNN_SYSTEMS_PER_ITEM overrides the
     * automatic width and may fall back like it. */
    s->explicit_width = opt && opt->struct_size >= offsetof(smnn_plan_options, systems_per_item) +
                                                       sizeof opt->systems_per_item &&
                        opt->systems_per_item != 0;
    if (s->p.batch > INT32_MAX || s->p.steps > INT32_MAX / 2)
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE, "batch %zu or steps %zu too large for the kernels",
                    s->p.batch, s->p.steps);
    FORWARD_IF_ERROR(smnn__time_chunks_resolve(ctx, &s->p, &s->opt, &s->parts));
    s->opt.time_chunks = s->parts;
    FORWARD_IF_ERROR(smnn__kernel_shape_for(ctx, &s->p, &s->opt, &s->shape));
    FORWARD_IF_ERROR(chunking(ctx, s, check_totals));
    st = smnn__shape_program(ctx, s->opt.precision, &s->shape, &s->program);
    if (st == SMNN_ERROR_UNSUPPORTED && s->opt.variant == SMNN_VARIANT_AUTO &&
        s->shape.variant == SMNN_VARIANT_LOCAL) {
        /* The table chose the local variant but this driver cannot run its kernels (local
         * memory): the private variant holds every block the local one does. */
        smnn__clear_error();
        smnn_plan_options priv = s->opt;
        priv.variant = SMNN_VARIANT_PRIVATE;
        FORWARD_IF_ERROR(smnn__kernel_shape_for(ctx, &s->p, &priv, &s->shape));
        FORWARD_IF_ERROR(chunking(ctx, s, check_totals));
        st = smnn__shape_program(ctx, s->opt.precision, &s->shape, &s->program);
    }
    return st;
}

smnn_status smnn_plan_prepare(smnn_context *ctx, const smnn_problem *p,
                              const smnn_plan_options *opt) {
    smnn__clear_error();
    plan_setup s;
    return setup(ctx, p, opt, 1, &s);
}

smnn_status smnn_plan_options_resolve(smnn_context *ctx, const smnn_problem *p,
                                      const smnn_plan_options *opt, smnn_plan_options *out) {
    smnn__clear_error();
    if (!out) return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    plan_setup s;
    FORWARD_IF_ERROR(setup(ctx, p, opt, 0, &s));
    *out = s.opt;
    out->variant = s.shape.variant;
    out->systems_per_item = s.shape.variant == SMNN_VARIANT_PRIVATE ? s.shape.vw : 0;
    return SMNN_SUCCESS;
}

/* Creates kernel `base`_`suffix` (suffix NULL: `base`), checks the local variant's work-group
 * size, and sets the problem arguments when with_problem. */
static smnn_status make_kernel(smnn_plan *plan, cl_program prog, const char *base,
                               const char *suffix, int with_problem, cl_kernel *out) {
    char name[64];
    snprintf(name, sizeof name, "%s%s%s", base, suffix ? "_" : "", suffix ? suffix : "");
    cl_int err;
    *out = clCreateKernel(prog, name, &err);
    if (!*out) return FAIL_CL(plan->ctx, err, "clCreateKernel");
    /* The driver's work-group limit for this kernel: launches never exceed the smallest (a
     * driver may allow a kernel less than the device's maximum: llvmpipe, 32). */
    size_t wg = 0;
    err = clGetKernelWorkGroupInfo(*out, plan->ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg,
                                   &wg, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clGetKernelWorkGroupInfo");
    if (wg < plan->kernel_wg_cap) plan->kernel_wg_cap = wg;
    if (suffix && plan->shape.variant == SMNN_VARIANT_LOCAL && wg < (size_t)plan->shape.wg)
        return FAIL(plan->ctx, SMNN_ERROR_UNSUPPORTED,
                    "kernel %s allows work-groups of %zu, the local variant needs %d", name, wg,
                    plan->shape.wg);
    if (!with_problem) return SMNN_SUCCESS;
    /* contract.h SMNN_PROBLEM_ARGS: the same four leading arguments in every table. */
    const smnn_problem *p = &plan->p;
    const smnn_layout *L = plan->in;
    cl_int4 dims = {{(cl_int)p->steps, (cl_int)p->dims, (cl_int)p->orders, (cl_int)p->equations}};
    cl_int4 init = {{(cl_int)p->init_steps, (cl_int)p->init_orders, (cl_int)plan->n, 0}};
    cl_long8 str = {{(cl_long)L[SMNN_INPUT_C].batch_stride, (cl_long)L[SMNN_INPUT_C].time_stride,
                     (cl_long)L[SMNN_INPUT_D].batch_stride, (cl_long)L[SMNN_INPUT_D].time_stride,
                     (cl_long)L[SMNN_INPUT_U].batch_stride, (cl_long)L[SMNN_INPUT_U].time_stride,
                     (cl_long)L[SMNN_INPUT_S].batch_stride, (cl_long)L[SMNN_INPUT_S].time_stride}};
    double wg2 = p->w_gov * p->w_gov, wi2 = p->w_init * p->w_init,
           ws2 = p->w_smooth * p->w_smooth;
    cl_double4 wd = {{wg2, wi2, ws2, 0}};
    cl_float4 wf = {{(cl_float)wg2, (cl_float)wi2, (cl_float)ws2, 0}};
    cl_double4 wrd = {{p->w_gov, p->w_init, p->w_smooth, 0}};
    cl_float4 wrf = {{(cl_float)p->w_gov, (cl_float)p->w_init, (cl_float)p->w_smooth, 0}};
    /* The tables' problem indices agree (SMNN_SOLVER_DIMS == SMNN_RESIDUAL_DIMS == ...). */
    FORWARD_IF_ERROR(smnn__set_arg(plan, *out, SMNN_SOLVER_DIMS, sizeof dims, &dims));
    FORWARD_IF_ERROR(smnn__set_arg(plan, *out, SMNN_SOLVER_INIT, sizeof init, &init));
    if (plan->elem == 8) {
        FORWARD_IF_ERROR(smnn__set_arg(plan, *out, SMNN_SOLVER_W, sizeof wd, &wd));
        FORWARD_IF_ERROR(smnn__set_arg(plan, *out, SMNN_SOLVER_WR, sizeof wrd, &wrd));
    } else {
        FORWARD_IF_ERROR(smnn__set_arg(plan, *out, SMNN_SOLVER_W, sizeof wf, &wf));
        FORWARD_IF_ERROR(smnn__set_arg(plan, *out, SMNN_SOLVER_WR, sizeof wrf, &wrf));
    }
    return smnn__set_arg(plan, *out, SMNN_SOLVER_STR, sizeof str, &str);
}

_Static_assert((int)SMNN_SOLVER_DIMS == (int)SMNN_RESIDUAL_DIMS && (int)SMNN_SOLVER_DIMS == (int)SMNN_GRADIENT_DIMS &&
                   (int)SMNN_SOLVER_STR == (int)SMNN_RESIDUAL_STR && (int)SMNN_SOLVER_STR == (int)SMNN_GRADIENT_STR,
               "every table starts with SMNN_PROBLEM_ARGS");

static smnn_status make_kernels(smnn_plan *plan, cl_program prog) {
    const char *var = smnn_variant_name(plan->shape.variant);
    plan->kernel_wg_cap = SIZE_MAX;
    const char *factor =
        plan->shape.factorization == SMNN_FACTORIZATION_QR ? "smnn_factor_qr" : "smnn_factor";
    if (plan->parts > 1) {
        /* Parallel in time (cl/partition.cl): the chunk walks in the sequential walk's places,
         * the separators' kernels beside them (enqueue.c). */
        FORWARD_IF_ERROR(make_kernel(plan, prog, "smnn_factor_chunks", NULL, 1, &plan->k_factor));
        FORWARD_IF_ERROR(make_kernel(plan, prog, "smnn_forward_chunks", NULL, 1, &plan->k_forward));
        FORWARD_IF_ERROR(make_kernel(plan, prog, "smnn_back_chunks", NULL, 1, &plan->k_back));
        FORWARD_IF_ERROR(
            make_kernel(plan, prog, "smnn_factor_separators", NULL, 1, &plan->k_sep_factor));
        FORWARD_IF_ERROR(
            make_kernel(plan, prog, "smnn_solve_separators", NULL, 1, &plan->k_sep_solve));
    } else {
        FORWARD_IF_ERROR(make_kernel(plan, prog, factor, var, 1, &plan->k_factor));
        FORWARD_IF_ERROR(
            make_kernel(plan, prog, "smnn_forward_substitute", var, 1, &plan->k_forward));
        FORWARD_IF_ERROR(make_kernel(plan, prog, "smnn_back_substitute", var, 1, &plan->k_back));
    }
    FORWARD_IF_ERROR(make_kernel(plan, prog, "smnn_gradient", NULL, 1, &plan->k_gradient));
    plan->fused_backward = plan->parts == 1 && smnn__fused_backward(&plan->shape, plan->p.steps);
    plan->then_back = plan->shape.then_back; /* never in a partitioned plan's shape */
    if (plan->fused_backward)
        FORWARD_IF_ERROR(make_kernel(plan, prog, "smnn_back_gradient", var, 1, &plan->k_back_gradient));
    FORWARD_IF_ERROR(make_kernel(plan, prog, "smnn_reduce", NULL, 0, &plan->k_reduce));
    if (plan->opt.refine_steps == 0) return SMNN_SUCCESS;
    /* The private variant's forward substitution computes the residual itself (refine.c); the
     * local variant's and the partitioned walk's do not. */
    if (plan->shape.variant == SMNN_VARIANT_LOCAL || plan->parts > 1)
        FORWARD_IF_ERROR(make_kernel(plan, prog, "smnn_residual", NULL, 1, &plan->k_residual));
    return make_kernel(plan, prog, "smnn_refine_update", NULL, 0, &plan->k_update);
}

/* Allocates the chunks' workspace buffers and the failure codes. */
static smnn_status make_workspace(smnn_plan *plan, const plan_setup *s) {
    smnn_context *ctx = plan->ctx;
    plan->chunk_cap = s->chunk_cap;
    plan->bcap = s->bcap;
    plan->nchunks = s->nchunks;
    plan->ws = calloc(plan->nchunks, sizeof *plan->ws);
    if (!plan->ws) return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "plan chunks");
    cl_int err;
    for (size_t k = 0; k < plan->nchunks; k++) {
        size_t bytes = s->chunk_bytes;
        plan->ws[k] = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (!plan->ws[k]) return FAIL_CL(ctx, err, "clCreateBuffer(workspace)");
        plan->ws_bytes += bytes;
    }
    plan->info = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, s->info_bytes, NULL, &err);
    if (!plan->info) return FAIL_CL(ctx, err, "clCreateBuffer(info)");
    /* Zeros ("no failure") until a factorization writes them, so that nothing ever reads an
     * uninitialised failure code; waited for here, since the plan's calls may use other
     * queues. */
    cl_int zero = 0;
    cl_event filled = NULL;
    err = clEnqueueFillBuffer(ctx->queue, plan->info, &zero, sizeof zero, 0, s->info_bytes, 0,
                              NULL, &filled);
    if (err == CL_SUCCESS) {
        err = clWaitForEvents(1, &filled);
        clReleaseEvent(filled);
    }
    if (err != CL_SUCCESS) return FAIL_CL(ctx, err, "clEnqueueFillBuffer(info)");
    return SMNN_SUCCESS;
}

smnn_status smnn_plan_create(smnn_context *ctx, const smnn_problem *p,
                             const smnn_plan_options *opt, smnn_plan **out) {
    smnn__clear_error();
    if (!out) return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    *out = NULL;
    plan_setup s;
    FORWARD_IF_ERROR(setup(ctx, p, opt, 1, &s));
    smnn_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "plan");
    plan->ctx = ctx;
    plan->p = s.p;
    plan->opt = s.opt;
    plan->shape = s.shape;
    plan->n = s.p.dims * s.p.orders;
    plan->elem = s.opt.precision == SMNN_PRECISION_DOUBLE ? 8 : 4;
    plan->parts = s.parts;
    smnn__layouts(&plan->p, plan->in);
    smnn_status st = make_workspace(plan, &s);
    if (st == SMNN_SUCCESS) st = make_kernels(plan, s.program);
    if (st != SMNN_SUCCESS) {
        smnn_plan_free(plan);
        return st;
    }
    plan->opt.systems_per_item = plan->shape.variant == SMNN_VARIANT_PRIVATE ? plan->shape.vw : 0;
    plan->opt.variant = plan->shape.variant;
    *out = plan;
    return SMNN_SUCCESS;
}

void smnn_plan_free(smnn_plan *plan) {
    if (!plan) return;
    if (plan->ctx && plan->ctx->queue) clFinish(plan->ctx->queue);
    cl_kernel ks[] = {plan->k_factor,   plan->k_forward,  plan->k_back,   plan->k_gradient,
                      plan->k_back_gradient, plan->k_reduce, plan->k_residual, plan->k_update,
                      plan->k_sep_factor, plan->k_sep_solve};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        if (ks[i]) clReleaseKernel(ks[i]);
    cl_mem ms[] = {plan->refine_change, plan->refine_s,   plan->refine_r,   plan->refine_delta,
                   plan->lambda,        plan->scratch[0], plan->scratch[1], plan->scratch[2],
                   plan->scratch[3],    plan->info};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (ms[i]) clReleaseMemObject(ms[i]);
    if (plan->factor_event) clReleaseEvent(plan->factor_event);
    for (size_t k = 0; plan->ws && k < plan->nchunks; k++)
        if (plan->ws[k]) clReleaseMemObject(plan->ws[k]);
    free(plan->ws);
    free(plan);
}

const smnn_problem *smnn_plan_problem(const smnn_plan *plan) {
    return plan ? &plan->p : NULL;
}

const smnn_plan_options *smnn_plan_get_options(const smnn_plan *plan) {
    return plan ? &plan->opt : NULL;
}

smnn_factorization smnn_plan_factorization(const smnn_plan *plan) {
    return plan ? plan->shape.factorization : SMNN_FACTORIZATION_AUTO;
}

smnn_variant smnn_plan_variant(const smnn_plan *plan) {
    return plan ? plan->shape.variant : SMNN_VARIANT_AUTO;
}

size_t smnn_plan_workspace_bytes(const smnn_plan *plan) {
    return plan ? plan->ws_bytes + plan->p.batch * sizeof(cl_int) : 0;
}

size_t smnn_plan_chunks(const smnn_plan *plan) {
    return plan ? plan->nchunks : 0;
}

int smnn_plan_backward_fused(const smnn_plan *plan) {
    return plan ? plan->fused_backward : 0;
}
