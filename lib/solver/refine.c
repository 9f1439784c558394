/* Iterative refinement on the corrected semi-normal equations (see cl/refine.cl): per step,
 * r = A^T W (b - A y) from the rows of A, delta = M^-1 r with the stored factors, y += delta.
 * Single-precision plans do two steps by default: the factorization of M = A^T W A squares the
 * condition number, the residual from A's rows does not. */
#include <stdlib.h>

#include "solver_internal.h"

static smnn_status ensure(smnn_plan *plan, cl_mem *buf, size_t bytes) {
    if (*buf) return SMNN_SUCCESS;
    cl_int err;
    *buf = clCreateBuffer(plan->ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (!*buf) return FAIL_CL(plan->ctx, err, "clCreateBuffer(refinement)");
    return SMNN_SUCCESS;
}

smnn_status smnn__refine(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d, cl_mem u,
                         cl_mem y, cl_uint num_wait, const cl_event *wait_list, cl_event *last) {
    if (plan->refine <= 0) return SMNN_SUCCESS;
    if (!plan->refine_s)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_STATE, "refinement needs the factorization's "
                    "steps, which the plan does not hold");
    const smnn_problem *p = &plan->p;
    size_t ny = smnn_problem_y_count(p);
    FORWARD_IF_ERROR(ensure(plan, &plan->refine_r, ny * plan->elem));
    FORWARD_IF_ERROR(ensure(plan, &plan->refine_delta, ny * plan->elem));
    cl_int batch = (cl_int)p->batch;
    cl_long count = (cl_long)ny;
    for (int step = 0; step < plan->refine; step++) {
        cl_kernel k = plan->k_residual;
        cl_int err = smnn__set_problem_args(plan, k, 1);
        err |= clSetKernelArg(k, 4, sizeof(cl_mem), &c);
        err |= clSetKernelArg(k, 5, sizeof(cl_mem), &d);
        err |= clSetKernelArg(k, 6, sizeof(cl_mem), &u);
        err |= clSetKernelArg(k, 7, sizeof(cl_mem), &plan->refine_s);
        err |= clSetKernelArg(k, 8, sizeof(cl_mem), &y);
        err |= clSetKernelArg(k, 9, sizeof batch, &batch);
        err |= clSetKernelArg(k, 10, sizeof(cl_mem), &plan->refine_r);
        if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clSetKernelArg(smnn_residual)");
        FORWARD_IF_ERROR(smnn__launch_flat(plan, q, k, p->batch * p->steps, num_wait, wait_list,
                                           last));
        for (size_t ch = 0; ch < plan->nchunks; ch++)
            FORWARD_IF_ERROR(smnn__enqueue_substitution(plan, q, ch, c, d, u, plan->refine_r,
                                                        plan->refine_delta, num_wait, wait_list,
                                                        last));
        k = plan->k_add;
        err = clSetKernelArg(k, 0, sizeof(cl_mem), &y);
        err |= clSetKernelArg(k, 1, sizeof(cl_mem), &plan->refine_delta);
        err |= clSetKernelArg(k, 2, sizeof count, &count);
        if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clSetKernelArg(smnn_add)");
        FORWARD_IF_ERROR(smnn__launch_flat(plan, q, k, ny, num_wait, wait_list, last));
    }
    /* How much the last step still changed each system. */
    FORWARD_IF_ERROR(ensure(plan, &plan->refine_change, p->batch * plan->elem));
    cl_kernel k = plan->k_refine_check;
    cl_long per = (cl_long)(p->steps * plan->n);
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), &plan->refine_delta);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), &y);
    err |= clSetKernelArg(k, 2, sizeof per, &per);
    err |= clSetKernelArg(k, 3, sizeof batch, &batch);
    err |= clSetKernelArg(k, 4, sizeof(cl_mem), &plan->refine_change);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clSetKernelArg(smnn_refine_check)");
    return smnn__launch_flat(plan, q, k, p->batch, num_wait, wait_list, last);
}

/* The tolerance on the last correction: the cube root of the precision's epsilon (4.9e-3 in
 * single, 6.1e-6 in double). A converging refinement's last step is far below it; one that
 * stalls or diverges (the factorization kept no correct digit) stays far above. */
static double refine_tolerance(const smnn_plan *plan) {
    return plan->elem == 4 ? 4.9e-3 : 6.1e-6;
}

smnn_status smnn_plan_unconverged(smnn_plan *plan, smnn_failure_report *report) {
    FORWARD_IF_ERROR(smnn__begin_report(plan, report));
    if (plan->refine <= 0 || !plan->refine_change) return SMNN_SUCCESS;
    size_t B = plan->p.batch;
    double *change = malloc(B * sizeof *change);
    if (!change) return FAIL(plan->ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "refinement report");
    smnn_status st = smnn__download(plan, plan->refine_change, B, change);
    double tol = refine_tolerance(plan);
    for (size_t b = 0; st == SMNN_SUCCESS && b < B; b++)
        /* NaN marks a failed system, reported by smnn_plan_failures instead. */
        if (change[b] > tol && report->count++ == 0) report->first_system = b;
    free(change);
    return st;
}

smnn_status smnn__report_refinement(smnn_plan *plan) {
    smnn_failure_report r;
    FORWARD_IF_ERROR(smnn_plan_unconverged(plan, &r));
    if (r.count == 0) return SMNN_SUCCESS;
    return FAIL(plan->ctx, SMNN_ERROR_NOT_CONVERGED,
                "%zu of %zu systems: the last of %d refinement steps still changed y by more than "
                "%.1e of its size (first: system %zu); the factorization of the normal equations "
                "is too ill-conditioned in this precision. y holds the last iterate; use double "
                "precision, more refinement steps or larger steps",
                r.count, plan->p.batch, plan->refine, refine_tolerance(plan), r.first_system);
}
