/* Enqueueing: the checks every asynchronous entry point starts with, kernel arguments that change
 * per call, and launches per batch chunk (solver kernels) or per item (everything else).
 *
 * Kernels of one call are chained with events, so the calls also work on an out-of-order queue;
 * the caller's wait list gates the first kernel and the returned event is the last kernel's. */
#include "solver_internal.h"

static smnn_status check_queue(smnn_plan *plan, cl_command_queue *queue) {
    if (!*queue) *queue = plan->ctx->queue;
    cl_context qctx = NULL;
    cl_int err = clGetCommandQueueInfo(*queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clGetCommandQueueInfo(queue)");
    if (qctx != plan->ctx->cl_ctx)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "argument 'queue' belongs to another OpenCL context than the plan");
    return SMNN_SUCCESS;
}

smnn_status smnn__check_factored(smnn_plan *plan) {
    if (plan->factored && plan->factor_event) {
        cl_int status = CL_COMPLETE;
        cl_int err = clGetEventInfo(plan->factor_event, CL_EVENT_COMMAND_EXECUTION_STATUS,
                                    sizeof status, &status, NULL);
        if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clGetEventInfo(factorization)");
        if (status < 0) {
            plan->factored = 0;
            return FAIL(plan->ctx, SMNN_ERROR_INVALID_STATE,
                        "the plan's last factorization did not run (its kernel ended with %s "
                        "(%d), e.g. after a failed wait-list event): factor again",
                        smnn_cl_error_name(status), (int)status);
        }
    }
    if (!plan->factored)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_STATE,
                    "the plan holds no factorization yet: call smnn_factor or smnn_solve first");
    return SMNN_SUCCESS;
}

smnn_status smnn__begin_async(smnn_plan *plan, cl_command_queue *queue, cl_uint num_wait,
                              const cl_event *wait_list, cl_event *event, int need_factors) {
    smnn__clear_error();
    if (event) *event = NULL;
    if (!plan) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'plan' is NULL");
    if (need_factors) FORWARD_IF_ERROR(smnn__check_factored(plan));
    FORWARD_IF_ERROR(check_queue(plan, queue));
    if ((num_wait == 0) != (wait_list == NULL))
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "num_wait = %u does not match wait_list %s", num_wait,
                    wait_list ? "(not NULL)" : "(NULL)");
    /* Every event must exist and belong to the plan's context: OpenCL refuses a foreign one
     * only at enqueue time with a generic error, and some drivers do not refuse it at all. */
    for (cl_uint i = 0; i < num_wait; i++) {
        if (!wait_list[i])
            return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT, "wait_list[%u] is NULL", i);
        cl_context ectx = NULL;
        cl_int err =
            clGetEventInfo(wait_list[i], CL_EVENT_CONTEXT, sizeof ectx, &ectx, NULL);
        if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clGetEventInfo(wait_list)");
        if (ectx != plan->ctx->cl_ctx)
            return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT,
                        "wait_list[%u] belongs to another OpenCL context than the plan", i);
    }
    return SMNN_SUCCESS;
}

smnn_status smnn__set_arg(smnn_plan *plan, cl_kernel k, cl_uint index, size_t size,
                          const void *value) {
    cl_int err = clSetKernelArg(k, index, size, value);
    if (err == CL_SUCCESS) return SMNN_SUCCESS;
    char name[64] = "?";
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
    name[sizeof name - 1] = '\0';
    return FAIL(plan->ctx, err == CL_OUT_OF_HOST_MEMORY ? SMNN_ERROR_OUT_OF_HOST_MEMORY
                                                         : SMNN_ERROR_OPENCL,
                "clSetKernelArg(%s, argument %u) failed with %s (%d)", name, index,
                smnn_cl_error_name(err), (int)err);
}

smnn_status smnn__set_args(smnn_plan *plan, cl_kernel k, const smnn__arg *args, size_t n) {
    for (size_t i = 0; i < n; i++)
        FORWARD_IF_ERROR(smnn__set_arg(plan, k, args[i].index, args[i].size, args[i].value));
    return SMNN_SUCCESS;
}

smnn_status smnn__enqueue_range(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t global,
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

/* Work-groups of 64 work-items, or fewer where the device or a kernel allows less. A CPU device
 * runs whole work-groups on its compute units (threads), so a launch of few work-items is cut into
 * groups of at most items / (4 units), at least four per unit: B = 1536 systems of 8 lanes made
 * 3 groups of 64 on 2 threads, one thread idle for a third of every kernel. The size is rounded
 * down to a power of two: a CPU driver compiles each kernel once more for every local size it is
 * launched with (PoCL: seconds each for the factorization), so batches of any size share at most
 * seven (bench/RESULTS.md "Compile time"). */
static size_t default_local(const smnn_plan *plan, size_t items) {
    const smnn_device_info *dev = &plan->ctx->info;
    size_t local = dev->max_work_group_size < 64 ? dev->max_work_group_size : 64;
    if (dev->is_cpu && dev->compute_units > 0) {
        size_t fair = items / (4 * (size_t)dev->compute_units);
        if (fair < local) local = fair > 0 ? fair : 1;
    }
    if (local > plan->kernel_wg_cap) local = plan->kernel_wg_cap;
    size_t pow2 = 1;
    while (pow2 * 2 <= local) pow2 *= 2;
    return pow2;
}

/* The launch over batch chunk ch with `per_system` lanes per system (the partitioned walk's
 * chunk kernels: one per time chunk). */
static void launch_lanes(const smnn_plan *plan, size_t ch, size_t per_system, smnn__chunk *out) {
    size_t left = plan->p.batch - ch * plan->chunk_cap;
    size_t count = left < plan->chunk_cap ? left : plan->chunk_cap;
    out->bofs = (cl_long)(ch * plan->chunk_cap);
    out->bcount = (cl_int)count;
    out->bcap = (cl_int)plan->bcap;
    if (plan->shape.variant == SMNN_VARIANT_LOCAL) {
        out->local = (size_t)plan->shape.wg;
        out->global = count * out->local;
    } else {
        size_t vw = (size_t)plan->shape.vw;
        size_t items = (count * per_system + vw - 1) / vw;
        out->local = default_local(plan, items);
        /* Blocks above 16 hold tens of KiB of private arrays per work-item; CPU drivers may keep
         * a whole work-group's private memory on one thread's stack (PoCL: 660 KB of stack for a
         * group of 16 at n = 16), so run them one per group (above 8 for the partitioned walk,
         * which holds twice as many blocks). On CPUs, blocks above 8 too: at n = 9 to 16 one
         * work-item per group ran 0.88-1.00x the time of groups of 16 (bench/RESULTS.md,
         * optimisation log entry 22); at n = 3 the groups' launch cost dominates (1.6x slower),
         * n = 6 and 8 were ties. */
        const int cap = plan->parts > 1 || plan->ctx->info.is_cpu ? 8 : 16;
        if (plan->shape.nmax > cap) out->local = 1;
        out->global = (items + out->local - 1) / out->local * out->local;
    }
}

void smnn__chunk_launch(const smnn_plan *plan, size_t ch, smnn__chunk *out) {
    launch_lanes(plan, ch, 1, out);
}

/* One solver kernel over batch chunk ch, per_system lanes per system. */
static smnn_status enqueue_lanes(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t ch,
                                 size_t per_system, const smnn__solver_io *io, cl_uint num_wait,
                                 const cl_event *wait_list, cl_event *prev) {
    smnn__chunk g;
    launch_lanes(plan, ch, per_system, &g);
    const cl_int parts = plan->parts;
    /* Unused buffers are passed as NULL, which OpenCL allows for global pointer arguments. */
    const smnn__arg args[] = {
        {SMNN_SOLVER_C, sizeof(cl_mem), &io->c},       {SMNN_SOLVER_D, sizeof(cl_mem), &io->d},
        {SMNN_SOLVER_U, sizeof(cl_mem), &io->u},       {SMNN_SOLVER_S, sizeof(cl_mem), &io->s},
        {SMNN_SOLVER_RHS, sizeof(cl_mem), &io->rhs},   {SMNN_SOLVER_Y, sizeof(cl_mem), &io->y},
        {SMNN_SOLVER_WS, sizeof(cl_mem), &plan->ws[ch]}, {SMNN_SOLVER_BOFS, sizeof g.bofs, &g.bofs},
        {SMNN_SOLVER_BCOUNT, sizeof g.bcount, &g.bcount}, {SMNN_SOLVER_BCAP, sizeof g.bcap, &g.bcap},
        {SMNN_SOLVER_INFO, sizeof(cl_mem), &plan->info}, {SMNN_SOLVER_FLAGS, sizeof io->flags, &io->flags},
        {SMNN_SOLVER_PARTS, sizeof parts, &parts},
    };
    _Static_assert(SMNN__NARGS(args) + SMNN_PROBLEM_COUNT_ == SMNN_SOLVER_COUNT_,
                   "every per-call argument of contract.h's SMNN_SOLVER_ARGS is set");
    FORWARD_IF_ERROR(smnn__set_args(plan, k, args, SMNN__NARGS(args)));
    return smnn__enqueue_range(plan, q, k, g.global, g.local, num_wait, wait_list, prev);
}

smnn_status smnn__enqueue_solver(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t ch,
                                 const smnn__solver_io *io, cl_uint num_wait,
                                 const cl_event *wait_list, cl_event *prev) {
    if (plan->parts == 1) return enqueue_lanes(plan, q, k, ch, 1, io, num_wait, wait_list, prev);
    /* Parallel in time (cl/partition.cl): the factorization is the chunk walks then the
     * separators' factorization; the back substitution the separators' solve then the chunks'
     * back substitutions; a forward substitution the chunk walks alone. */
    const size_t parts = (size_t)plan->parts;
    if (k == plan->k_back)
        FORWARD_IF_ERROR(enqueue_lanes(plan, q, plan->k_sep_solve, ch, 1, io, num_wait, wait_list,
                                       prev));
    FORWARD_IF_ERROR(enqueue_lanes(plan, q, k, ch, parts, io, num_wait, wait_list, prev));
    if (k == plan->k_factor)
        FORWARD_IF_ERROR(enqueue_lanes(plan, q, plan->k_sep_factor, ch, 1, io, num_wait,
                                       wait_list, prev));
    return SMNN_SUCCESS;
}

/* Forward substitution with fwd, then back substitution into out, chunk by chunk. */
static smnn_status substitutions(smnn_plan *plan, cl_command_queue q, const smnn__solver_io *fwd,
                                 cl_mem out, cl_uint num_wait, const cl_event *wait_list,
                                 cl_event *prev) {
    smnn__solver_io back = {NULL, NULL, NULL, NULL, NULL, out, 0};
    /* The forward substitution runs the back substitution itself where the plan says so (not
     * when its walk reads y for the refinement's residual). */
    const int then_back = plan->then_back && !(fwd->flags & SMNN_FLAG_RESIDUAL);
    smnn__solver_io both = *fwd;
    both.y = out;
    both.flags |= SMNN_FLAG_THEN_BACK;
    for (size_t ch = 0; ch < plan->nchunks; ch++) {
        FORWARD_IF_ERROR(smnn__enqueue_solver(plan, q, plan->k_forward, ch, then_back ? &both : fwd,
                                              num_wait, wait_list, prev));
        if (!then_back)
            FORWARD_IF_ERROR(
                smnn__enqueue_solver(plan, q, plan->k_back, ch, &back, num_wait, wait_list, prev));
    }
    return SMNN_SUCCESS;
}

smnn_status smnn__enqueue_substitutions(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d,
                                        cl_mem u, cl_mem rhs, cl_mem out, cl_uint num_wait,
                                        const cl_event *wait_list, cl_event *prev) {
    smnn__solver_io fwd = {c, d, u, NULL, rhs, NULL, rhs ? SMNN_FLAG_FROM_RHS : 0};
    return substitutions(plan, q, &fwd, out, num_wait, wait_list, prev);
}

smnn_status smnn__enqueue_residual_substitutions(smnn_plan *plan, cl_command_queue q, cl_mem c,
                                                 cl_mem d, cl_mem u, cl_mem s, cl_mem g,
                                                 cl_mem y, cl_mem out, cl_uint num_wait,
                                                 const cl_event *wait_list, cl_event *prev) {
    if (plan->shape.variant == SMNN_VARIANT_LOCAL)
        return FAIL(plan->ctx, SMNN_ERROR_INVALID_STATE,
                    "the local variant's forward substitution does not compute the residual");
    smnn__solver_io fwd = {c, d, u, s, g, y, SMNN_FLAG_RESIDUAL};
    return substitutions(plan, q, &fwd, out, num_wait, wait_list, prev);
}

smnn_status smnn__enqueue_items(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t items,
                                cl_uint num_wait, const cl_event *wait_list, cl_event *prev) {
    size_t local = default_local(plan, items);
    size_t global = (items + local - 1) / local * local;
    return smnn__enqueue_range(plan, q, k, global, local, num_wait, wait_list, prev);
}

smnn_status smnn__finish_events(cl_event last, cl_event *event, smnn_status st) {
    if (event)
        *event = last;
    else if (last)
        clReleaseEvent(last);
    return st;
}
