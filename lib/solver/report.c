/* Reports after a solve: which systems failed (factorization or substitution), which did not
 * converge in refinement, and the blocking calls' errors built from them. Both queries read
 * through the context's queue (blocking). */
#include <stdlib.h>

#include "solver_internal.h"

/* The common start of the report queries: checks the arguments and empties *report. */
static smnn_status begin_report(smnn_plan *plan, smnn_failure_report *report) {
    smnn__clear_error();
    if (!plan || !report)
        return FAIL(plan ? plan->ctx : NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !plan ? "plan" : "report");
    report->count = 0;
    report->first_system = report->first_step = SIZE_MAX;
    /* Before any factorization there is nothing to report (and a factorization whose enqueue
     * failed part-way left the plan unfactored). */
    return smnn__check_factored(plan);
}

smnn_status smnn_plan_failures(smnn_plan *plan, smnn_failure_report *report) {
    FORWARD_IF_ERROR(begin_report(plan, report));
    size_t B = plan->p.batch;
    cl_int *info = malloc(B * sizeof *info);
    if (!info) return FAIL(plan->ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "failure report");
    cl_int err = clEnqueueReadBuffer(plan->ctx->queue, plan->info, CL_TRUE, 0, B * sizeof *info,
                                     info, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        free(info);
        return FAIL_CL(plan->ctx, err, "clEnqueueReadBuffer(info)");
    }
    size_t cut = 0, first_cut = 0;
    for (size_t b = 0; b < B; b++)
        if (info[b] == SMNN_INFO_LOOPS_CUT && cut++ == 0) first_cut = b;
    if (cut) {
        free(info);
        return FAIL(plan->ctx, SMNN_ERROR_UNSUPPORTED,
                    "device '%s' ended the kernels' loops early for %zu of %zu systems (first: "
                    "system %zu), so their results are not computed: Mesa's llvmpipe stops every "
                    "loop of a work-item after 65,535 iterations in all, which OpenCL does not "
                    "allow; this shape needs more per system (fewer time points or smaller blocks "
                    "fit, or use another device)",
                    plan->ctx->info.device_name, cut, B, first_cut);
    }
    for (size_t b = 0; b < B; b++) {
        if (info[b] == 0) continue;
        if (report->count++ == 0) {
            report->first_system = b;
            report->first_step = (size_t)(info[b] > 0 ? info[b] : -info[b]) - 1;
        }
    }
    free(info);
    return SMNN_SUCCESS;
}

/* The tolerance on the last correction: the cube root of the precision's epsilon (4.9e-3 in
 * single, 6.1e-6 in double). A converging refinement's last step is far below it; one that
 * stalls or diverges (the factorization kept no correct digit) stays far above. */
double smnn__refine_tolerance(const smnn_plan *plan) {
    return plan->elem == 4 ? 4.9e-3 : 6.1e-6;
}

smnn_status smnn_plan_unconverged(smnn_plan *plan, smnn_failure_report *report) {
    FORWARD_IF_ERROR(begin_report(plan, report));
    if (plan->opt.refine_steps <= 0 || !plan->refine_change) return SMNN_SUCCESS;
    size_t B = plan->p.batch;
    double *change = malloc(B * sizeof *change);
    if (!change) return FAIL(plan->ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "refinement report");
    smnn_status st = smnn__download(plan, plan->refine_change, B, change);
    double tol = smnn__refine_tolerance(plan);
    for (size_t b = 0; st == SMNN_SUCCESS && b < B; b++)
        /* NaN marks a failed system, reported by smnn_plan_failures instead. */
        if (change[b] > tol && report->count++ == 0) report->first_system = b;
    free(change);
    return st;
}

smnn_status smnn__report_failures(smnn_plan *plan) {
    smnn_failure_report r;
    FORWARD_IF_ERROR(smnn_plan_failures(plan, &r));
    if (r.count == 0) return SMNN_SUCCESS;
    if (plan->shape.factorization == SMNN_FACTORIZATION_QR)
        return FAIL(plan->ctx, SMNN_ERROR_RANK_DEFICIENT,
                    "%zu of %zu systems failed (first: system %zu at time point %zu): their rows "
                    "are rank deficient (a diagonal entry of R_t was not above %d eps times its "
                    "column's norm) or a value became NaN/Inf; their y is NaN, the other systems "
                    "are solved",
                    r.count, plan->p.batch, r.first_system, r.first_step, SMNN_QR_RANK_TOL);
    return FAIL(plan->ctx, SMNN_ERROR_NOT_POSITIVE_DEFINITE,
                "%zu of %zu systems failed (first: system %zu at time point %zu): the pivot block "
                "was not positive definite or a value became NaN/Inf; their y is NaN, the other "
                "systems are solved",
                r.count, plan->p.batch, r.first_system, r.first_step);
}

smnn_status smnn__report_refinement(smnn_plan *plan) {
    smnn_failure_report r;
    FORWARD_IF_ERROR(smnn_plan_unconverged(plan, &r));
    if (r.count == 0) return SMNN_SUCCESS;
    if (plan->refine_guarded)
        return FAIL(plan->ctx, SMNN_ERROR_NOT_CONVERGED,
                    "%zu of %zu systems: the refinement's correction exceeded %.1e of y and was "
                    "declined (first: system %zu), so their accuracy is not confirmed: y holds the "
                    "QR solution (error about cond(A) eps, which this suggests is large; frozen "
                    "solves and gradients use R^T R, error about cond(A)^2 eps). Use double "
                    "precision or larger steps",
                    r.count, plan->p.batch, smnn__refine_tolerance(plan), r.first_system);
    return FAIL(plan->ctx, SMNN_ERROR_NOT_CONVERGED,
                "%zu of %zu systems: the last of %d refinement steps still changed y by more than "
                "%.1e of its size (first: system %zu); the factorization of the normal equations "
                "is too ill-conditioned in this precision. y holds the last iterate; use double "
                "precision, more refinement steps or larger steps",
                r.count, plan->p.batch, plan->opt.refine_steps, smnn__refine_tolerance(plan),
                r.first_system);
}
