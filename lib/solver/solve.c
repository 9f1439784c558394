/* The forward entry points on device buffers: solve (assemble, factor, substitute), factor only,
 * and the frozen solve with a kept factorization; each refines when the plan says so.
 *
 * Every check runs before the first enqueue, so a failing call leaves the caller's buffers
 * untouched. */
#include "solver_internal.h"

/* The factorization of every chunk (with y: also the forward and back substitutions), then the
 * refinement. */
static smnn_status run_factor(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d, cl_mem u,
                              cl_mem s, cl_mem y, cl_uint num_wait, const cl_event *wait_list,
                              cl_event *event) {
    /* The Cholesky factorization runs the back substitution itself where the plan says so. */
    const int then_back =
        y && plan->then_back && plan->shape.factorization == SMNN_FACTORIZATION_CHOLESKY;
    smnn__solver_io fac = {c, d, u, s, NULL, then_back ? y : NULL,
                           (y ? SMNN_FLAG_WITH_RHS : 0) | (then_back ? SMNN_FLAG_THEN_BACK : 0)};
    smnn__solver_io back = {NULL, NULL, NULL, NULL, NULL, y, 0};
    cl_event last = NULL;
    smnn_status st = SMNN_SUCCESS;
    /* The workspace is overwritten from here on: until every chunk's factorization is enqueued
     * the plan holds no usable factorization (nor failure codes to report). */
    plan->factored = 0;
    if (plan->factor_event) clReleaseEvent(plan->factor_event);
    plan->factor_event = NULL;
    for (size_t ch = 0; ch < plan->nchunks && st == SMNN_SUCCESS; ch++) {
        st = smnn__enqueue_solver(plan, q, plan->k_factor, ch, &fac, num_wait, wait_list, &last);
        if (st == SMNN_SUCCESS && y && !then_back)
            st = smnn__enqueue_solver(plan, q, plan->k_back, ch, &back, num_wait, wait_list,
                                      &last);
    }
    if (st == SMNN_SUCCESS) {
        plan->factored = 1;
        if (last) clRetainEvent(last);
        plan->factor_event = last;
        if (plan->opt.refine_steps > 0 && plan->refine_s != s) {
            /* Refinement needs the steps of this factorization for its residuals. */
            clRetainMemObject(s);
            if (plan->refine_s) clReleaseMemObject(plan->refine_s);
            plan->refine_s = s;
        }
        if (y) st = smnn__refine(plan, q, c, d, u, NULL, y, 1, num_wait, wait_list, &last);
    }
    return smnn__finish_events(last, event, st);
}

smnn_status smnn_solve_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d, cl_mem u,
                             cl_mem s, cl_mem y, cl_uint num_wait, const cl_event *wait_list,
                             cl_event *event) {
    FORWARD_IF_ERROR(smnn__begin_async(plan, &queue, num_wait, wait_list, event, 0));
    const smnn_layout *in = plan->in;
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "c", c, in[SMNN_INPUT_C].count));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "d", d, in[SMNN_INPUT_D].count));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "u", u, in[SMNN_INPUT_U].count));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "s", s, in[SMNN_INPUT_S].count));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "y", y, smnn_problem_y_count(&plan->p)));
    return run_factor(plan, queue, c, d, u, s, y, num_wait, wait_list, event);
}

smnn_status smnn_factor_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem s,
                              cl_uint num_wait, const cl_event *wait_list, cl_event *event) {
    FORWARD_IF_ERROR(smnn__begin_async(plan, &queue, num_wait, wait_list, event, 0));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "c", c, plan->in[SMNN_INPUT_C].count));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "s", s, plan->in[SMNN_INPUT_S].count));
    /* d and u are not read without a right-hand side. */
    return run_factor(plan, queue, c, NULL, NULL, s, NULL, num_wait, wait_list, event);
}

smnn_status smnn_solve_frozen_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d,
                                    cl_mem u, cl_mem y, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *event) {
    FORWARD_IF_ERROR(smnn__begin_async(plan, &queue, num_wait, wait_list, event, 1));
    const smnn_layout *in = plan->in;
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "c", c, in[SMNN_INPUT_C].count));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "d", d, in[SMNN_INPUT_D].count));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "u", u, in[SMNN_INPUT_U].count));
    FORWARD_IF_ERROR(smnn__check_buffer(plan, "y", y, smnn_problem_y_count(&plan->p)));
    cl_event last = NULL;
    smnn_status st =
        smnn__enqueue_substitutions(plan, queue, c, d, u, NULL, y, num_wait, wait_list, &last);
    if (st == SMNN_SUCCESS)
        st = smnn__refine(plan, queue, c, d, u, NULL, y, 0, num_wait, wait_list, &last);
    return smnn__finish_events(last, event, st);
}
