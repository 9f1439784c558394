/* Iterative refinement on the corrected semi-normal equations (see cl/refine.cl): per step,
 * r = A^T W (b - A y) from the rows of A (r = g - A^T W A y for the backward pass's lambda),
 * delta = M^-1 r with the stored factors, y += delta; and the size of the last correction per
 * system, for smnn_plan_unconverged. Cholesky plans in single precision refine twice by
 * default: the factorization of M = A^T W A squares the condition number, the residual from A's
 * rows does not. QR plans refine once by default: after a solve, guarded (a correction larger
 * than the tolerance is declined per system, which keeps the QR solution, accurate to cond(A)
 * eps); their frozen solves and lambda come from the semi-normal equations (R^T R x = b, error
 * cond(A)^2 eps) and take one step more, unguarded, so that the last step measures convergence. */
#include "solver_internal.h"

smnn_status smnn__refine(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d, cl_mem u,
                         cl_mem g, cl_mem y, int after_qr_solve, cl_uint num_wait,
                         const cl_event *wait_list, cl_event *last) {
    if (plan->opt.refine_steps <= 0) return SMNN_SUCCESS;
    const int qr = plan->shape.factorization == SMNN_FACTORIZATION_QR;
    /* Guarded after a QR solve (its y is accurate already); a QR plan's frozen solve or lambda
     * starts from the semi-normal equations and takes one unguarded step more. */
    const int guarded = qr && after_qr_solve;
    const int steps = plan->opt.refine_steps + (qr && !after_qr_solve ? 1 : 0);
    if (!plan->refine_s)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_STATE, "refinement needs the factorization's "
                    "steps, which the plan does not hold");
    plan->refine_guarded = guarded;
    const smnn_problem *p = &plan->p;
    const size_t ny = smnn_problem_y_count(p);
    /* The private variant computes the residual inside its forward substitution; the local
     * variant writes it to refine_r first (cl/refine.cl). */
    const int separate = plan->shape.variant == SMNN_VARIANT_LOCAL || plan->parts > 1;
    if (separate)
        FORWARD_IF_ERROR(smnn__ensure_buffer(plan, &plan->refine_r, &plan->refine_bytes[0],
                                             ny * plan->elem, "clCreateBuffer(refinement)"));
    FORWARD_IF_ERROR(smnn__ensure_buffer(plan, &plan->refine_delta, &plan->refine_bytes[1],
                                         ny * plan->elem, "clCreateBuffer(refinement)"));
    FORWARD_IF_ERROR(smnn__ensure_buffer(plan, &plan->refine_change, &plan->change_bytes,
                                         p->batch * plan->elem, "clCreateBuffer(refinement)"));
    /* A guarded step measures its correction before adding it (cl/refine.cl). */
    cl_int batch = (cl_int)p->batch, guard = guarded;
    cl_long per = (cl_long)(p->steps * plan->n);
    double tol = smnn__refine_tolerance(plan);
    cl_double told = tol;
    cl_float tolf = (cl_float)tol;
    cl_kernel kr = plan->k_residual, ku = plan->k_update;
    /* The local variant's residual kernel: one work-item per (system, time point). */
    const smnn__arg residual[] = {
        {SMNN_RESIDUAL_C, sizeof(cl_mem), &c},           {SMNN_RESIDUAL_D, sizeof(cl_mem), &d},
        {SMNN_RESIDUAL_U, sizeof(cl_mem), &u},           {SMNN_RESIDUAL_S, sizeof(cl_mem), &plan->refine_s},
        {SMNN_RESIDUAL_G, sizeof(cl_mem), &g},           {SMNN_RESIDUAL_Y, sizeof(cl_mem), &y},
        {SMNN_RESIDUAL_BATCH, sizeof batch, &batch},     {SMNN_RESIDUAL_R, sizeof(cl_mem), &plan->refine_r},
    };
    const smnn__arg update[] = {
        {SMNN_UPDATE_Y, sizeof(cl_mem), &y},
        {SMNN_UPDATE_DELTA, sizeof(cl_mem), &plan->refine_delta},
        {SMNN_UPDATE_PER, sizeof per, &per},
        {SMNN_UPDATE_BATCH, sizeof batch, &batch},
        {SMNN_UPDATE_GUARDED, sizeof guard, &guard},
        {SMNN_UPDATE_TOL, plan->elem, plan->elem == 8 ? (const void *)&told : (const void *)&tolf},
        {SMNN_UPDATE_CHANGE, sizeof(cl_mem), &plan->refine_change},
    };
    _Static_assert(SMNN__NARGS(residual) + SMNN_PROBLEM_COUNT_ == SMNN_RESIDUAL_COUNT_ &&
                       SMNN__NARGS(update) == SMNN_UPDATE_COUNT_,
                   "every per-call argument of contract.h's tables is set");
    if (separate) FORWARD_IF_ERROR(smnn__set_args(plan, kr, residual, SMNN__NARGS(residual)));
    FORWARD_IF_ERROR(smnn__set_args(plan, ku, update, SMNN__NARGS(update)));
    for (int step = 0; step < steps; step++) {
        if (separate) {
            FORWARD_IF_ERROR(smnn__enqueue_items(plan, q, kr, p->batch * p->steps, num_wait,
                                                 wait_list, last));
            FORWARD_IF_ERROR(smnn__enqueue_substitutions(plan, q, c, d, u, plan->refine_r,
                                                         plan->refine_delta, num_wait, wait_list,
                                                         last));
        } else {
            FORWARD_IF_ERROR(smnn__enqueue_residual_substitutions(
                plan, q, c, d, u, plan->refine_s, g, y, plan->refine_delta, num_wait, wait_list,
                last));
        }
        /* y += delta and how much it changed each system (the last step's is what
         * smnn_plan_unconverged reads). */
        FORWARD_IF_ERROR(smnn__enqueue_items(plan, q, ku, p->batch, num_wait, wait_list, last));
    }
    return SMNN_SUCCESS;
}
