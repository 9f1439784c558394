/* The backward pass: gradients of a loss with respect to c, d, u and s, given dl/dy.
 *
 * One substitution with the stored factors gives lambda = dl/dbeta = M^-1 dl/dy (paper Eq. 14);
 * smnn_gradient (cl/gradient.cl) then applies the adjoint of the assembly per (system, time
 * point) into full layouts, and smnn_reduce sums the gradients of shared inputs over what they
 * are shared across, in a fixed order. */
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

enum { GRAD_C = 1, GRAD_D = 2, GRAD_U = 4, GRAD_S = 8 };

/* Element counts of each input's full (unshared) layout and its reduction shape (B, T, R). */
typedef struct grad_shape {
    size_t B, T, R;
    int sum_b, sum_t;
} grad_shape;

static grad_shape shape_of(const smnn_problem *p, int which) {
    grad_shape g = {p->batch, p->steps, 0, 0, 0};
    unsigned sh = p->shared;
    switch (which) {
    case 0:
        g.R = p->equations * p->dims * p->orders;
        g.sum_b = !!(sh & SMNN_SHARE_C_BATCH);
        g.sum_t = !!(sh & SMNN_SHARE_C_TIME);
        break;
    case 1:
        g.R = p->equations;
        g.sum_b = !!(sh & SMNN_SHARE_D_BATCH);
        g.sum_t = !!(sh & SMNN_SHARE_D_TIME);
        break;
    case 2:
        g.T = p->init_steps;
        g.R = p->dims * p->init_orders;
        g.sum_b = !!(sh & SMNN_SHARE_U_BATCH);
        g.sum_t = !!(sh & SMNN_SHARE_U_TIME);
        break;
    default:
        g.T = p->steps - 1;
        g.R = 1;
        g.sum_b = !!(sh & SMNN_SHARE_S_BATCH);
        g.sum_t = !!(sh & SMNN_SHARE_S_TIME);
        break;
    }
    return g;
}

static smnn_status ensure_buffer(smnn_plan *plan, cl_mem *buf, size_t *have, size_t bytes,
                                 const char *what) {
    if (*buf && *have >= bytes) return SMNN_SUCCESS;
    if (*buf) clReleaseMemObject(*buf);
    cl_int err;
    *buf = clCreateBuffer(plan->ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    *have = *buf ? bytes : 0;
    if (!*buf) return FAIL_CL(plan->ctx, err, what);
    return SMNN_SUCCESS;
}

smnn_status smnn_backward_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d,
                                cl_mem s, cl_mem y, cl_mem grad_y, cl_mem grad_c, cl_mem grad_d,
                                cl_mem grad_u, cl_mem grad_s, cl_uint num_wait,
                                const cl_event *wait_list, cl_event *event) {
    FORWARD_IF_ERROR(smnn__begin_async(plan, &queue, num_wait, wait_list, event, 1));
    const smnn_problem *p = &plan->p;
    int want = (grad_c ? GRAD_C : 0) | (grad_d ? GRAD_D : 0) | (grad_u ? GRAD_U : 0) |
               (grad_s ? GRAD_S : 0);
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "grad_y", grad_y, smnn_problem_y_count(p)));
    if (want & (GRAD_C | GRAD_D))
        FORWARD_IF_ERROR(smnn__check_buffer(plan, "c", c, smnn_problem_c_count(p)));
    if (want & GRAD_C) FORWARD_IF_ERROR(smnn__check_buffer(plan, "d", d, smnn_problem_d_count(p)));
    if (want & GRAD_S) FORWARD_IF_ERROR(smnn__check_buffer(plan, "s", s, smnn_problem_s_count(p)));
    if (want & (GRAD_C | GRAD_S))
        FORWARD_IF_ERROR(smnn__check_buffer(plan, "y", y, smnn_problem_y_count(p)));
    cl_mem outs[4] = {grad_c, grad_d, grad_u, grad_s};
    const char *names[4] = {"grad_c", "grad_d", "grad_u", "grad_s"};
    size_t counts[4] = {smnn_problem_c_count(p), smnn_problem_d_count(p),
                        smnn_problem_u_count(p), smnn_problem_s_count(p)};
    for (int i = 0; i < 4; i++)
        if (outs[i]) FORWARD_IF_ERROR(smnn__check_buffer(plan, names[i], outs[i], counts[i]));

    /* Buffers: lambda, and a full-layout scratch for every requested shared input. */
    size_t ly = smnn_problem_y_count(p) * plan->elem, lhave = plan->lambda ? ly : 0;
    FORWARD_IF_ERROR(ensure_buffer(plan, &plan->lambda, &lhave, ly, "clCreateBuffer(lambda)"));
    cl_mem full[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++) {
        if (!outs[i]) continue;
        grad_shape g = shape_of(p, i);
        if (!g.sum_b && !g.sum_t) {
            full[i] = outs[i];
            continue;
        }
        FORWARD_IF_ERROR(ensure_buffer(plan, &plan->scratch[i], &plan->scratch_bytes[i],
                                       g.B * g.T * g.R * plan->elem, "clCreateBuffer(scratch)"));
        full[i] = plan->scratch[i];
    }

    cl_event last = NULL;
    smnn_status st = SMNN_SUCCESS;
    /* 1. lambda = M^-1 dl/dy, chunk by chunk. */
    for (size_t ch = 0; ch < plan->nchunks && st == SMNN_SUCCESS; ch++)
        st = smnn__enqueue_substitution(plan, queue, ch, grad_y, grad_y, grad_y, grad_y,
                                        plan->lambda, num_wait, wait_list, &last);
    /* 2. The adjoint of the assembly, one work-item per (system, time point). */
    if (st == SMNN_SUCCESS && want) {
        cl_kernel k = plan->k_gradient;
        cl_int batch = (cl_int)p->batch, w = want;
        cl_mem none = grad_y; /* stands in for inputs the requested gradients do not read */
        cl_mem args[5] = {c ? c : none, d ? d : none, s ? s : none, y ? y : none, plan->lambda};
        cl_int err = smnn__set_problem_args(plan, k, 1);
        for (int i = 0; i < 5; i++) err |= clSetKernelArg(k, 4 + i, sizeof(cl_mem), &args[i]);
        err |= clSetKernelArg(k, 9, sizeof batch, &batch);
        err |= clSetKernelArg(k, 10, sizeof w, &w);
        for (int i = 0; i < 4; i++) {
            cl_mem m = full[i] ? full[i] : none;
            err |= clSetKernelArg(k, 11 + i, sizeof(cl_mem), &m);
        }
        if (err != CL_SUCCESS)
            st = FAIL_CL(plan->ctx, err, "clSetKernelArg(smnn_gradient)");
        else
            st = smnn__launch_flat(plan, queue, k, p->batch * p->steps, num_wait, wait_list,
                                   &last);
    }
    /* 3. Sums over shared dimensions. */
    for (int i = 0; i < 4 && st == SMNN_SUCCESS; i++) {
        if (!outs[i] || full[i] == outs[i]) continue;
        grad_shape g = shape_of(p, i);
        cl_kernel k = plan->k_reduce;
        cl_long B = (cl_long)g.B, T = (cl_long)g.T, R = (cl_long)g.R;
        cl_int sb = g.sum_b, stt = g.sum_t;
        cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), &full[i]);
        err |= clSetKernelArg(k, 1, sizeof(cl_mem), &outs[i]);
        err |= clSetKernelArg(k, 2, sizeof B, &B);
        err |= clSetKernelArg(k, 3, sizeof T, &T);
        err |= clSetKernelArg(k, 4, sizeof R, &R);
        err |= clSetKernelArg(k, 5, sizeof sb, &sb);
        err |= clSetKernelArg(k, 6, sizeof stt, &stt);
        if (err != CL_SUCCESS)
            st = FAIL_CL(plan->ctx, err, "clSetKernelArg(smnn_reduce)");
        else
            st = smnn__launch_flat(plan, queue, k, counts[i], num_wait, wait_list, &last);
    }
    if (event)
        *event = last;
    else if (last)
        clReleaseEvent(last);
    return st;
}

smnn_status smnn_backward(smnn_plan *plan, const double *c, const double *d, const double *s,
                          const double *y, const double *grad_y, double *grad_c, double *grad_d,
                          double *grad_u, double *grad_s) {
    smnn__clear_error();
    if (!plan) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'plan' is NULL");
    const smnn_problem *p = &plan->p;
    const double *ins[5] = {c, d, s, y, grad_y};
    size_t in_counts[5] = {smnn_problem_c_count(p), smnn_problem_d_count(p),
                           smnn_problem_s_count(p), smnn_problem_y_count(p),
                           smnn_problem_y_count(p)};
    const char *in_names[5] = {"c", "d", "s", "y", "grad_y"};
    int need[5] = {grad_c || grad_d, grad_c != NULL, grad_s != NULL, grad_c || grad_s, 1};
    for (int i = 0; i < 5; i++)
        if (need[i] && !ins[i])
            return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT,
                        "argument '%s' is NULL but the requested gradients need it", in_names[i]);
    double *outs[4] = {grad_c, grad_d, grad_u, grad_s};
    size_t out_counts[4] = {smnn_problem_c_count(p), smnn_problem_d_count(p),
                            smnn_problem_u_count(p), smnn_problem_s_count(p)};
    cl_mem din[5] = {NULL}, dout[4] = {NULL};
    smnn_status st = SMNN_SUCCESS;
    for (int i = 0; i < 5 && st == SMNN_SUCCESS; i++)
        if (need[i]) st = smnn__upload(plan, ins[i], in_counts[i], &din[i]);
    for (int i = 0; i < 4 && st == SMNN_SUCCESS; i++) {
        if (!outs[i]) continue;
        cl_int err;
        dout[i] = clCreateBuffer(plan->ctx->cl_ctx, CL_MEM_READ_WRITE, out_counts[i] * plan->elem,
                                 NULL, &err);
        if (!dout[i]) st = FAIL_CL(plan->ctx, err, "clCreateBuffer(gradient)");
    }
    if (st == SMNN_SUCCESS)
        st = smnn_backward_async(plan, NULL, din[0], din[1], din[2], din[3], din[4], dout[0],
                                 dout[1], dout[2], dout[3], 0, NULL, NULL);
    if (st == SMNN_SUCCESS) {
        cl_int err = clFinish(plan->ctx->queue);
        if (err != CL_SUCCESS) st = FAIL_CL(plan->ctx, err, "clFinish");
    }
    for (int i = 0; i < 4 && st == SMNN_SUCCESS; i++)
        if (outs[i]) st = smnn__download(plan, dout[i], out_counts[i], outs[i]);
    if (st == SMNN_SUCCESS) st = smnn__report_failures(plan);
    for (int i = 0; i < 5; i++)
        if (din[i]) clReleaseMemObject(din[i]);
    for (int i = 0; i < 4; i++)
        if (dout[i]) clReleaseMemObject(dout[i]);
    return st;
}
