/* Iterative refinement on the corrected semi-normal equations (see cl/refine.cl): per step,
 * r = A^T W (b - A y) from the rows of A, delta = M^-1 r with the stored factors, y += delta.
 * Single-precision plans do two steps by default: the factorization of M = A^T W A squares the
 * condition number, the residual from A's rows does not. */
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
    return SMNN_SUCCESS;
}
