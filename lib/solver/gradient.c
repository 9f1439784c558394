/* The backward pass on device buffers: gradients of a loss with respect to c, d, u and s, given
 * dl/dy.
 *
 * One substitution with the stored factors gives lambda = dl/dbeta = M^-1 dl/dy (paper Eq. 14);
 * smnn_gradient (cl/gradient.cl) then applies the adjoint of the assembly per time point into
 * full layouts (with $SMNN_FUSED_BACKWARD=1 the private variant does both in one backward walk
 * per chunk when lambda needs no refinement: smnn_back_gradient_private), and smnn_reduce sums
 * the gradients of shared inputs over what they are shared across (the inputs' smnn_layout), in
 * a fixed order. */
#include "solver_internal.h"

/* The fused backward pass (cl/gradient.cl smnn_back_gradient_private), chunk by chunk. */
static smnn_status fused_backward(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d,
                                  cl_mem s, cl_mem y, cl_mem grad_y, int want, const cl_mem *full,
                                  cl_uint num_wait, const cl_event *wait_list, cl_event *last) {
    smnn__solver_io fwd = {NULL, NULL, NULL, NULL, grad_y, NULL, SMNN_FLAG_FROM_RHS};
    cl_kernel k = plan->k_back_gradient;
    cl_int w = want;
    for (size_t ch = 0; ch < plan->nchunks; ch++) {
        FORWARD_IF_ERROR(
            smnn__enqueue_solver(plan, q, plan->k_forward, ch, &fwd, num_wait, wait_list, last));
        smnn__chunk g;
        smnn__chunk_launch(plan, ch, &g);
        const smnn__arg args[] = {
            {SMNN_BACKGRAD_C, sizeof(cl_mem), &c},          {SMNN_BACKGRAD_D, sizeof(cl_mem), &d},
            {SMNN_BACKGRAD_S, sizeof(cl_mem), &s},          {SMNN_BACKGRAD_Y, sizeof(cl_mem), &y},
            {SMNN_BACKGRAD_WS, sizeof(cl_mem), &plan->ws[ch]},
            {SMNN_BACKGRAD_BOFS, sizeof g.bofs, &g.bofs},   {SMNN_BACKGRAD_BCOUNT, sizeof g.bcount, &g.bcount},
            {SMNN_BACKGRAD_BCAP, sizeof g.bcap, &g.bcap},   {SMNN_BACKGRAD_INFO, sizeof(cl_mem), &plan->info},
            {SMNN_BACKGRAD_WANT, sizeof w, &w},
            {SMNN_BACKGRAD_GC, sizeof(cl_mem), &full[0]},   {SMNN_BACKGRAD_GD, sizeof(cl_mem), &full[1]},
            {SMNN_BACKGRAD_GU, sizeof(cl_mem), &full[2]},   {SMNN_BACKGRAD_GS, sizeof(cl_mem), &full[3]},
        };
        _Static_assert(SMNN__NARGS(args) + SMNN_PROBLEM_COUNT_ == SMNN_BACKGRAD_COUNT_,
                       "every per-call argument of contract.h's SMNN_BACKGRAD_ARGS is set");
        FORWARD_IF_ERROR(smnn__set_args(plan, k, args, SMNN__NARGS(args)));
        FORWARD_IF_ERROR(
            smnn__enqueue_range(plan, q, k, g.global, g.local, num_wait, wait_list, last));
    }
    return SMNN_SUCCESS;
}

/* The backward pass; with unreduced, the gradients of inputs shared across the batch are left
 * in full layout (the multi-device plan sums them over its parts). */
static smnn_status backward(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d, cl_mem s,
                            cl_mem y, cl_mem grad_y, cl_mem grad_c, cl_mem grad_d, cl_mem grad_u,
                            cl_mem grad_s, int unreduced, cl_uint num_wait,
                            const cl_event *wait_list, cl_event *event) {
    FORWARD_IF_ERROR(smnn__begin_async(plan, &queue, num_wait, wait_list, event, 1));
    const smnn_problem *p = &plan->p;
    const smnn_layout *in = plan->in;
    int want = (grad_c ? SMNN_GRAD_C : 0) | (grad_d ? SMNN_GRAD_D : 0) |
               (grad_u ? SMNN_GRAD_U : 0) | (grad_s ? SMNN_GRAD_S : 0);
    size_t ny = smnn_problem_y_count(p);
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "grad_y", grad_y, ny));
    if (want & (SMNN_GRAD_C | SMNN_GRAD_D))
        FORWARD_IF_ERROR(smnn__check_buffer(plan, "c", c, in[SMNN_INPUT_C].count));
    if (want & SMNN_GRAD_C) FORWARD_IF_ERROR(smnn__check_buffer(plan, "d", d, in[SMNN_INPUT_D].count));
    if (want & SMNN_GRAD_S) FORWARD_IF_ERROR(smnn__check_buffer(plan, "s", s, in[SMNN_INPUT_S].count));
    if (want & (SMNN_GRAD_C | SMNN_GRAD_S)) FORWARD_IF_ERROR(smnn__check_buffer(plan, "y", y, ny));
    cl_mem outs[4] = {grad_c, grad_d, grad_u, grad_s};
    const char *names[4] = {"grad_c", "grad_d", "grad_u", "grad_s"};
    int keep_full[4];
    for (int i = 0; i < 4; i++) {
        keep_full[i] = unreduced && in[i].shared_batch;
        size_t count = keep_full[i] ? in[i].full_batch * in[i].full_time * in[i].row : in[i].count;
        if (outs[i]) FORWARD_IF_ERROR(smnn__check_buffer(plan, names[i], outs[i], count));
    }

    /* The private variant's fused pass when lambda is final after its back substitution (not
     * refined: QR plans refine it when c is given): per chunk, the forward substitution of dl/dy,
     * then one backward walk that solves for lambda and applies the adjoint of the assembly;
     * lambda is never stored. */
    const int refined = c && plan->shape.factorization == SMNN_FACTORIZATION_QR;
    const int fused = want && !refined && plan->fused_backward;
    /* Buffers: lambda (unless fused), and a full-layout scratch for every requested shared
     * input. */
    if (!fused)
        FORWARD_IF_ERROR(smnn__ensure_buffer(plan, &plan->lambda, &plan->lambda_bytes,
                                             ny * plan->elem, "clCreateBuffer(lambda)"));
    cl_mem full[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++) {
        if (!outs[i]) continue;
        if (keep_full[i] || (!in[i].shared_batch && !in[i].shared_time)) {
            full[i] = outs[i];
            continue;
        }
        size_t bytes = in[i].full_batch * in[i].full_time * in[i].row * plan->elem;
        FORWARD_IF_ERROR(smnn__ensure_buffer(plan, &plan->scratch[i], &plan->scratch_bytes[i],
                                             bytes, "clCreateBuffer(scratch)"));
        full[i] = plan->scratch[i];
    }

    cl_event last = NULL;
    smnn_status st;
    if (fused) {
        st = fused_backward(plan, queue, c, d, s, y, grad_y, want, full, num_wait, wait_list,
                            &last);
    } else {
        /* 1. lambda = M^-1 dl/dy. */
        st = smnn__enqueue_substitutions(plan, queue, NULL, NULL, NULL, grad_y, plan->lambda,
                                         num_wait, wait_list, &last);
        /* QR plans: lambda from R^T R is the semi-normal equations; refine it like a frozen
         * solve (the residual needs c: without it, as when only dl/du is wanted, lambda stays as
         * is). */
        if (st == SMNN_SUCCESS && refined)
            st = smnn__refine(plan, queue, c, NULL, NULL, grad_y, plan->lambda, 0, num_wait,
                              wait_list, &last);
        /* 2. The adjoint of the assembly. */
        if (st == SMNN_SUCCESS && want) {
            cl_kernel k = plan->k_gradient;
            cl_int batch = (cl_int)p->batch, w = want;
            const smnn__arg args[] = {
                {SMNN_GRADIENT_C, sizeof(cl_mem), &c},     {SMNN_GRADIENT_D, sizeof(cl_mem), &d},
                {SMNN_GRADIENT_S, sizeof(cl_mem), &s},     {SMNN_GRADIENT_Y, sizeof(cl_mem), &y},
                {SMNN_GRADIENT_LAM, sizeof(cl_mem), &plan->lambda},
                {SMNN_GRADIENT_BATCH, sizeof batch, &batch}, {SMNN_GRADIENT_WANT, sizeof w, &w},
                {SMNN_GRADIENT_GC, sizeof(cl_mem), &full[0]}, {SMNN_GRADIENT_GD, sizeof(cl_mem), &full[1]},
                {SMNN_GRADIENT_GU, sizeof(cl_mem), &full[2]}, {SMNN_GRADIENT_GS, sizeof(cl_mem), &full[3]},
                {SMNN_GRADIENT_INFO, sizeof(cl_mem), &plan->info},
            };
            _Static_assert(SMNN__NARGS(args) + SMNN_PROBLEM_COUNT_ == SMNN_GRADIENT_COUNT_,
                           "every per-call argument of contract.h's SMNN_GRADIENT_ARGS is set");
            st = smnn__set_args(plan, k, args, SMNN__NARGS(args));
            /* cl/gradient.cl: one work-item per (system, time point) at one system per work-item,
             * one per lane group walking time above; one per VW time points of a system in a
             * partitioned program. */
            size_t vw = (size_t)plan->shape.vw;
            size_t items = vw == 1          ? p->batch * p->steps
                           : plan->parts > 1 ? p->batch * ((p->steps + vw - 1) / vw)
                                             : (p->batch + vw - 1) / vw;
            if (st == SMNN_SUCCESS)
                st = smnn__enqueue_items(plan, queue, k, items, num_wait, wait_list, &last);
        }
    }
    /* 3. Sums over shared dimensions. */
    for (int i = 0; i < 4 && st == SMNN_SUCCESS; i++) {
        if (!outs[i] || full[i] == outs[i]) continue;
        cl_kernel k = plan->k_reduce;
        cl_long B = (cl_long)in[i].full_batch, T = (cl_long)in[i].full_time,
                R = (cl_long)in[i].row;
        cl_int sb = in[i].shared_batch, stt = in[i].shared_time;
        const smnn__arg args[] = {
            {SMNN_REDUCE_FULL, sizeof(cl_mem), &full[i]}, {SMNN_REDUCE_OUT, sizeof(cl_mem), &outs[i]},
            {SMNN_REDUCE_B, sizeof B, &B},                {SMNN_REDUCE_T, sizeof T, &T},
            {SMNN_REDUCE_R, sizeof R, &R},                {SMNN_REDUCE_SUM_B, sizeof sb, &sb},
            {SMNN_REDUCE_SUM_T, sizeof stt, &stt},
        };
        _Static_assert(SMNN__NARGS(args) == SMNN_REDUCE_COUNT_, "every SMNN_REDUCE_ARGS is set");
        st = smnn__set_args(plan, k, args, SMNN__NARGS(args));
        if (st == SMNN_SUCCESS)
            st = smnn__enqueue_items(plan, queue, k, in[i].count, num_wait, wait_list, &last);
    }
    return smnn__finish_events(last, event, st);
}

smnn_status smnn_backward_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d,
                                cl_mem s, cl_mem y, cl_mem grad_y, cl_mem grad_c, cl_mem grad_d,
                                cl_mem grad_u, cl_mem grad_s, cl_uint num_wait,
                                const cl_event *wait_list, cl_event *event) {
    return backward(plan, queue, c, d, s, y, grad_y, grad_c, grad_d, grad_u, grad_s, 0, num_wait,
                    wait_list, event);
}

smnn_status smnn__backward_unreduced_async(smnn_plan *plan, cl_mem c, cl_mem d, cl_mem s,
                                           cl_mem y, cl_mem grad_y, cl_mem grad_c, cl_mem grad_d,
                                           cl_mem grad_u, cl_mem grad_s) {
    return backward(plan, NULL, c, d, s, y, grad_y, grad_c, grad_d, grad_u, grad_s, 1, 0, NULL,
                    NULL);
}
