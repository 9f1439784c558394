/* Asynchronous entry points: argument checks, kernel arguments and enqueueing per batch chunk.
 *
 * Every check runs before the first enqueue, so a failing call leaves the caller's buffers
 * untouched. Kernels of one call are chained with events, so the calls also work on an
 * out-of-order queue; the caller's wait list gates the first kernel and the returned event is the
 * last kernel's. */
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

smnn_status smnn__check_buffer(smnn_plan *plan, const char *name, cl_mem mem, size_t count) {
    if (!mem) return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT, "buffer '%s' is NULL", name);
    size_t size = 0;
    cl_int err = clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clGetMemObjectInfo(CL_MEM_SIZE)");
    size_t need = count * plan->elem;
    if (size < need)
        return FAIL(plan->ctx, SMNN_ERROR_BUFFER_TOO_SMALL,
                    "buffer '%s' holds %zu bytes, the problem needs %zu (%zu %s values)", name,
                    size, need, count, plan->elem == 8 ? "double" : "float");
    return SMNN_SUCCESS;
}

smnn_status smnn__check_queue(smnn_plan *plan, cl_command_queue *queue) {
    if (!*queue) *queue = plan->ctx->queue;
    cl_context qctx = NULL;
    cl_int err = clGetCommandQueueInfo(*queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clGetCommandQueueInfo(queue)");
    if (qctx != plan->ctx->cl_ctx)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "argument 'queue' belongs to another OpenCL context than the plan");
    return SMNN_SUCCESS;
}

smnn_status smnn__check_wait(smnn_plan *plan, cl_uint num_wait, const cl_event *wait_list) {
    if ((num_wait == 0) != (wait_list == NULL))
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "num_wait = %u does not match wait_list %s", num_wait,
                    wait_list ? "(not NULL)" : "(NULL)");
    return SMNN_SUCCESS;
}

/* The four leading arguments every kernel shares: dims, init (and for assembling kernels the
 * weights and strides). */
cl_int smnn__set_problem_args(smnn_plan *plan, cl_kernel k, int with_inputs) {
    const smnn_problem *p = &plan->p;
    unsigned sh = p->shared;
    cl_int4 dims = {{(cl_int)p->steps, (cl_int)p->dims, (cl_int)p->orders, (cl_int)p->equations}};
    cl_int4 init = {{(cl_int)p->init_steps, (cl_int)p->init_orders, (cl_int)plan->n, 0}};
    cl_int err = clSetKernelArg(k, 0, sizeof dims, &dims);
    err |= clSetKernelArg(k, 1, sizeof init, &init);
    if (!with_inputs) return err;
    size_t n = plan->n, Q = p->equations, T = p->steps;
    size_t cT = (sh & SMNN_SHARE_C_TIME) ? 1 : T;
    size_t dT = (sh & SMNN_SHARE_D_TIME) ? 1 : T;
    size_t uT = (sh & SMNN_SHARE_U_TIME) ? 1 : p->init_steps;
    size_t sT = (sh & SMNN_SHARE_S_TIME) ? 1 : T - 1;
    size_t urow = p->dims * p->init_orders;
    cl_long8 str = {{
        (sh & SMNN_SHARE_C_BATCH) ? 0 : (cl_long)(cT * Q * n),
        (sh & SMNN_SHARE_C_TIME) ? 0 : (cl_long)(Q * n),
        (sh & SMNN_SHARE_D_BATCH) ? 0 : (cl_long)(dT * Q),
        (sh & SMNN_SHARE_D_TIME) ? 0 : (cl_long)Q,
        (sh & SMNN_SHARE_U_BATCH) ? 0 : (cl_long)(uT * urow),
        (sh & SMNN_SHARE_U_TIME) ? 0 : (cl_long)urow,
        (sh & SMNN_SHARE_S_BATCH) ? 0 : (cl_long)sT,
        (sh & SMNN_SHARE_S_TIME) ? 0 : 1,
    }};
    double wg2 = p->w_gov * p->w_gov, wi2 = p->w_init * p->w_init,
           ws2 = p->w_smooth * p->w_smooth;
    if (plan->elem == 8) {
        cl_double4 w = {{wg2, wi2, ws2, 0}};
        err |= clSetKernelArg(k, 2, sizeof w, &w);
    } else {
        cl_float4 w = {{(cl_float)wg2, (cl_float)wi2, (cl_float)ws2, 0}};
        err |= clSetKernelArg(k, 2, sizeof w, &w);
    }
    err |= clSetKernelArg(k, 3, sizeof str, &str);
    return err;
}

/* Sets (ws, bofs, bcount, bcap, info) starting at argument index a. */
cl_int smnn__set_chunk_args(smnn_plan *plan, cl_kernel k, cl_uint a, size_t chunk) {
    cl_long bofs = (cl_long)(chunk * plan->chunk_cap);
    size_t left = plan->p.batch - chunk * plan->chunk_cap;
    cl_int bcount = (cl_int)(left < plan->chunk_cap ? left : plan->chunk_cap);
    cl_int bcap = (cl_int)plan->bcap;
    cl_int err = clSetKernelArg(k, a, sizeof(cl_mem), &plan->ws[chunk]);
    err |= clSetKernelArg(k, a + 1, sizeof bofs, &bofs);
    err |= clSetKernelArg(k, a + 2, sizeof bcount, &bcount);
    err |= clSetKernelArg(k, a + 3, sizeof bcap, &bcap);
    err |= clSetKernelArg(k, a + 4, sizeof(cl_mem), &plan->info);
    return err;
}

/* Enqueues kernel k over one chunk, after *prev (or the caller's wait list when *prev is NULL);
 * *prev becomes this launch's event. */
/* Enqueues k after *prev (or after the caller's wait list when *prev is NULL); *prev becomes
 * this launch's event. */
static smnn_status enqueue_nd(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t global,
                              size_t local, cl_uint num_wait, const cl_event *wait_list,
                              cl_event *prev) {
    cl_event ev = NULL;
    cl_int err;
    if (*prev)
        err = clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 1, prev, &ev);
    else
        err = clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, num_wait, wait_list, &ev);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clEnqueueNDRangeKernel");
    if (*prev) clReleaseEvent(*prev);
    *prev = ev;
    return SMNN_SUCCESS;
}

smnn_status smnn__launch(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t chunk,
                          cl_uint num_wait, const cl_event *wait_list, cl_event *prev) {
    size_t left = plan->p.batch - chunk * plan->chunk_cap;
    size_t count = left < plan->chunk_cap ? left : plan->chunk_cap;
    size_t local, global;
    if (plan->shape.variant == SMNN_VARIANT_LOCAL) {
        local = (size_t)plan->shape.wg;
        global = count * local;
    } else {
        size_t items = (count + (size_t)plan->shape.vw - 1) / (size_t)plan->shape.vw;
        local = plan->ctx->info.max_work_group_size < 64 ? plan->ctx->info.max_work_group_size
                                                          : 64;
        /* Blocks above 16 hold tens of KiB of private arrays per work-item; CPU drivers may keep
         * a whole work-group's private memory on one thread's stack, so run them one per group. */
        if (plan->shape.nmax > 16) local = 1;
        global = (items + local - 1) / local * local;
    }
    return enqueue_nd(plan, q, k, global, local, num_wait, wait_list, prev);
}

smnn_status smnn__launch_flat(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t items,
                              cl_uint num_wait, const cl_event *wait_list, cl_event *prev) {
    size_t local = plan->ctx->info.max_work_group_size < 64 ? plan->ctx->info.max_work_group_size
                                                             : 64;
    size_t global = (items + local - 1) / local * local;
    return enqueue_nd(plan, q, k, global, local, num_wait, wait_list, prev);
}

/* Back substitution of one chunk into out (y or lambda, laid out (B, T, n)). */
static smnn_status enqueue_back_substitution(smnn_plan *plan, cl_command_queue q, size_t ch,
                                             cl_mem out, cl_uint num_wait,
                                             const cl_event *wait_list, cl_event *last) {
    cl_kernel k = plan->k_backward;
    cl_int err = smnn__set_problem_args(plan, k, 0);
    err |= smnn__set_chunk_args(plan, k, 2, ch);
    err |= clSetKernelArg(k, 7, sizeof(cl_mem), &out);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clSetKernelArg(smnn_backward)");
    return smnn__launch(plan, q, k, ch, num_wait, wait_list, last);
}

smnn_status smnn__enqueue_substitution(smnn_plan *plan, cl_command_queue q, size_t ch, cl_mem c,
                                       cl_mem d, cl_mem u, cl_mem rhs, cl_mem out,
                                       cl_uint num_wait, const cl_event *wait_list,
                                       cl_event *last) {
    cl_kernel k = plan->k_forward;
    cl_int from_rhs = rhs != NULL;
    cl_mem r = rhs ? rhs : c; /* not read when assembling beta */
    cl_int err = smnn__set_problem_args(plan, k, 1);
    err |= clSetKernelArg(k, 4, sizeof(cl_mem), &c);
    err |= clSetKernelArg(k, 5, sizeof(cl_mem), &d);
    err |= clSetKernelArg(k, 6, sizeof(cl_mem), &u);
    err |= smnn__set_chunk_args(plan, k, 7, ch);
    err |= clSetKernelArg(k, 12, sizeof(cl_mem), &r);
    err |= clSetKernelArg(k, 13, sizeof from_rhs, &from_rhs);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clSetKernelArg(smnn_forward)");
    FORWARD_IF_ERROR(smnn__launch(plan, q, k, ch, num_wait, wait_list, last));
    return enqueue_back_substitution(plan, q, ch, out, num_wait, wait_list, last);
}

static smnn_status finish_events(smnn_plan *plan, cl_event last, cl_event *event,
                                 smnn_status st) {
    if (event)
        *event = last;
    else if (last)
        clReleaseEvent(last);
    (void)plan;
    return st;
}

/* The factorization kernels (with_rhs: also the forward substitution) and, if y is given, the
 * back substitution, chunk by chunk. */
static smnn_status run_factor(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d, cl_mem u,
                              cl_mem s, cl_mem y, cl_uint num_wait, const cl_event *wait_list,
                              cl_event *event) {
    cl_int with_rhs = y != NULL;
    cl_event last = NULL;
    smnn_status st = SMNN_SUCCESS;
    for (size_t ch = 0; ch < plan->nchunks && st == SMNN_SUCCESS; ch++) {
        cl_kernel k = plan->k_factor;
        cl_int err = smnn__set_problem_args(plan, k, 1);
        err |= clSetKernelArg(k, 4, sizeof(cl_mem), &c);
        err |= clSetKernelArg(k, 5, sizeof(cl_mem), &d);
        err |= clSetKernelArg(k, 6, sizeof(cl_mem), &u);
        err |= clSetKernelArg(k, 7, sizeof(cl_mem), &s);
        err |= smnn__set_chunk_args(plan, k, 8, ch);
        err |= clSetKernelArg(k, 13, sizeof with_rhs, &with_rhs);
        if (err != CL_SUCCESS) {
            st = FAIL_CL(plan->ctx, err, "clSetKernelArg(smnn_factor)");
            break;
        }
        st = smnn__launch(plan, q, k, ch, num_wait, wait_list, &last);
        if (st == SMNN_SUCCESS && y)
            st = enqueue_back_substitution(plan, q, ch, y, num_wait, wait_list, &last);
    }
    if (st == SMNN_SUCCESS) {
        plan->factored = 1;
        if (plan->refine > 0 && plan->refine_s != s) {
            /* Refinement needs the steps of this factorization for its residuals. */
            clRetainMemObject(s);
            if (plan->refine_s) clReleaseMemObject(plan->refine_s);
            plan->refine_s = s;
        }
        if (y) st = smnn__refine(plan, q, c, d, u, y, num_wait, wait_list, &last);
    }
    return finish_events(plan, last, event, st);
}

smnn_status smnn__begin_async(smnn_plan *plan, cl_command_queue *queue, cl_uint num_wait,
                              const cl_event *wait_list, cl_event *event, int need_factors) {
    smnn__clear_error();
    if (event) *event = NULL;
    if (!plan) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'plan' is NULL");
    if (need_factors && !plan->factored)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_STATE,
                    "the plan holds no factorization yet: call smnn_factor or smnn_solve first");
    FORWARD_IF_ERROR(smnn__check_queue(plan, queue));
    return smnn__check_wait(plan, num_wait, wait_list);
}

smnn_status smnn_solve_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d, cl_mem u,
                             cl_mem s, cl_mem y, cl_uint num_wait, const cl_event *wait_list,
                             cl_event *event) {
    FORWARD_IF_ERROR(smnn__begin_async(plan, &queue, num_wait, wait_list, event, 0));
    const smnn_problem *p = &plan->p;
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "c", c, smnn_problem_c_count(p)));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "d", d, smnn_problem_d_count(p)));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "u", u, smnn_problem_u_count(p)));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "s", s, smnn_problem_s_count(p)));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "y", y, smnn_problem_y_count(p)));
    return run_factor(plan, queue, c, d, u, s, y, num_wait, wait_list, event);
}

smnn_status smnn_factor_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem s,
                              cl_uint num_wait, const cl_event *wait_list, cl_event *event) {
    FORWARD_IF_ERROR(smnn__begin_async(plan, &queue, num_wait, wait_list, event, 0));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "c", c, smnn_problem_c_count(&plan->p)));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "s", s, smnn_problem_s_count(&plan->p)));
    /* d and u are not read without a right-hand side; c stands in for them. */
    return run_factor(plan, queue, c, c, c, s, NULL, num_wait, wait_list, event);
}

smnn_status smnn_solve_frozen_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d,
                                    cl_mem u, cl_mem y, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *event) {
    FORWARD_IF_ERROR(smnn__begin_async(plan, &queue, num_wait, wait_list, event, 1));
    const smnn_problem *p = &plan->p;
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "c", c, smnn_problem_c_count(p)));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "d", d, smnn_problem_d_count(p)));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "u", u, smnn_problem_u_count(p)));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "y", y, smnn_problem_y_count(p)));
    cl_event last = NULL;
    smnn_status st = SMNN_SUCCESS;
    for (size_t ch = 0; ch < plan->nchunks && st == SMNN_SUCCESS; ch++)
        st = smnn__enqueue_substitution(plan, queue, ch, c, d, u, NULL, y, num_wait, wait_list,
                                        &last);
    if (st == SMNN_SUCCESS) st = smnn__refine(plan, queue, c, d, u, y, num_wait, wait_list, &last);
    return finish_events(plan, last, event, st);
}

smnn_status smnn__begin_report(smnn_plan *plan, smnn_failure_report *report) {
    smnn__clear_error();
    if (!plan || !report)
        return FAIL(plan ? plan->ctx : NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !plan ? "plan" : "report");
    report->count = 0;
    report->first_system = report->first_step = SIZE_MAX;
    return SMNN_SUCCESS;
}

smnn_status smnn_plan_failures(smnn_plan *plan, smnn_failure_report *report) {
    FORWARD_IF_ERROR(smnn__begin_report(plan, report));
    size_t B = plan->p.batch;
    cl_int *info = malloc(B * sizeof *info);
    if (!info) return FAIL(plan->ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "failure report");
    cl_int err = clEnqueueReadBuffer(plan->ctx->queue, plan->info, CL_TRUE, 0, B * sizeof *info,
                                     info, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        free(info);
        return FAIL_CL(plan->ctx, err, "clEnqueueReadBuffer(info)");
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
