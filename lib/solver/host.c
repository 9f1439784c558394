/* Blocking host-pointer entry points: check the values, copy to device buffers (converting to
 * float for single-precision plans), run the asynchronous path, read y back and report failing
 * systems. y is written only after every check passed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

static smnn_status check_values(smnn_plan *plan, const char *name, const double *x, size_t count,
                                int positive) {
    if (!x) return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL", name);
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(x[i]))
            return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT, "%s[%zu] = %g is not finite",
                        name, i, x[i]);
        if (positive && !(x[i] > 0))
            return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT,
                        "%s[%zu] = %g, steps must be > 0", name, i, x[i]);
    }
    return SMNN_SUCCESS;
}

/* Creates a device buffer holding count values of x in the plan's precision. */
smnn_status smnn__upload(smnn_plan *plan, const double *x, size_t count, cl_mem *out) {
    size_t bytes = count * plan->elem;
    void *tmp = (void *)x;
    if (plan->elem == 4) {
        float *f = malloc(bytes);
        if (!f) return FAIL(plan->ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "input conversion");
        for (size_t i = 0; i < count; i++) f[i] = (float)x[i];
        tmp = f;
    }
    cl_int err;
    *out = clCreateBuffer(plan->ctx->cl_ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, tmp,
                          &err);
    if (plan->elem == 4) free(tmp);
    if (!*out) return FAIL_CL(plan->ctx, err, "clCreateBuffer(input)");
    return SMNN_SUCCESS;
}

smnn_status smnn__download(smnn_plan *plan, cl_mem buf, size_t count, double *y) {
    size_t bytes = count * plan->elem;
    void *tmp = plan->elem == 8 ? (void *)y : malloc(bytes);
    if (!tmp) return FAIL(plan->ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "output conversion");
    cl_int err =
        clEnqueueReadBuffer(plan->ctx->queue, buf, CL_TRUE, 0, bytes, tmp, 0, NULL, NULL);
    if (err == CL_SUCCESS && plan->elem == 4)
        for (size_t i = 0; i < count; i++) y[i] = ((float *)tmp)[i];
    if (plan->elem == 4) free(tmp);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clEnqueueReadBuffer(result)");
    return SMNN_SUCCESS;
}

smnn_status smnn__report_failures(smnn_plan *plan) {
    smnn_failure_report r;
    FORWARD_IF_ERROR(smnn_plan_failures(plan, &r));
    if (r.count == 0) return SMNN_SUCCESS;
    return FAIL(plan->ctx, SMNN_ERROR_NOT_POSITIVE_DEFINITE,
                "%zu of %zu systems failed (first: system %zu at time point %zu): the pivot block "
                "was not positive definite or a value became NaN/Inf; their y is NaN, the other "
                "systems are solved",
                r.count, plan->p.batch, r.first_system, r.first_step);
}

/* Which of c, d, u, s, y a blocking call moves. */
enum { USE_C = 1, USE_D = 2, USE_U = 4, USE_S = 8, USE_Y = 16 };

static smnn_status run(smnn_plan *plan, int use, const double *c, const double *d,
                       const double *u, const double *s, double *y) {
    smnn__clear_error();
    if (!plan) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'plan' is NULL");
    const smnn_problem *p = &plan->p;
    if (use & USE_C) FORWARD_IF_ERROR(check_values(plan, "c", c, smnn_problem_c_count(p), 0));
    if (use & USE_D) FORWARD_IF_ERROR(check_values(plan, "d", d, smnn_problem_d_count(p), 0));
    if (use & USE_U) FORWARD_IF_ERROR(check_values(plan, "u", u, smnn_problem_u_count(p), 0));
    if (use & USE_S) FORWARD_IF_ERROR(check_values(plan, "s", s, smnn_problem_s_count(p), 1));
    if ((use & USE_Y) && !y)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument 'y' is NULL");
    if ((use & USE_D) && !(use & USE_S) && !plan->factored)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_STATE,
                    "the plan holds no factorization yet: call smnn_factor or smnn_solve first");
    cl_mem bc = NULL, bd = NULL, bu = NULL, bs = NULL, by = NULL;
    smnn_status st = SMNN_SUCCESS;
    if (use & USE_C) st = smnn__upload(plan, c, smnn_problem_c_count(p), &bc);
    if (st == SMNN_SUCCESS && (use & USE_D)) st = smnn__upload(plan, d, smnn_problem_d_count(p), &bd);
    if (st == SMNN_SUCCESS && (use & USE_U)) st = smnn__upload(plan, u, smnn_problem_u_count(p), &bu);
    if (st == SMNN_SUCCESS && (use & USE_S)) st = smnn__upload(plan, s, smnn_problem_s_count(p), &bs);
    if (st == SMNN_SUCCESS && (use & USE_Y)) {
        cl_int err;
        by = clCreateBuffer(plan->ctx->cl_ctx, CL_MEM_READ_WRITE, /* refinement reads y */
                            smnn_problem_y_count(p) * plan->elem, NULL, &err);
        if (!by) st = FAIL_CL(plan->ctx, err, "clCreateBuffer(y)");
    }
    if (st == SMNN_SUCCESS) {
        if ((use & USE_S) && (use & USE_Y))
            st = smnn_solve_async(plan, NULL, bc, bd, bu, bs, by, 0, NULL, NULL);
        else if (use & USE_S)
            st = smnn_factor_async(plan, NULL, bc, bs, 0, NULL, NULL);
        else
            st = smnn_solve_frozen_async(plan, NULL, bc, bd, bu, by, 0, NULL, NULL);
    }
    if (st == SMNN_SUCCESS) {
        cl_int err = clFinish(plan->ctx->queue);
        if (err != CL_SUCCESS) st = FAIL_CL(plan->ctx, err, "clFinish");
    }
    if (st == SMNN_SUCCESS && by) st = smnn__download(plan, by, smnn_problem_y_count(p), y);
    if (st == SMNN_SUCCESS) st = smnn__report_failures(plan);
    if (st == SMNN_SUCCESS && by) st = smnn__report_refinement(plan);
    cl_mem bufs[] = {bc, bd, bu, bs, by};
    for (size_t i = 0; i < 5; i++)
        if (bufs[i]) clReleaseMemObject(bufs[i]);
    return st;
}

smnn_status smnn_solve(smnn_plan *plan, const double *c, const double *d, const double *u,
                       const double *s, double *y) {
    return run(plan, USE_C | USE_D | USE_U | USE_S | USE_Y, c, d, u, s, y);
}

smnn_status smnn_factor(smnn_plan *plan, const double *c, const double *s) {
    return run(plan, USE_C | USE_S, c, NULL, NULL, s, NULL);
}

smnn_status smnn_solve_frozen(smnn_plan *plan, const double *c, const double *d, const double *u,
                              double *y) {
    return run(plan, USE_C | USE_D | USE_U | USE_Y, c, d, u, NULL, y);
}
