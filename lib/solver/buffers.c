/* Buffers: checks of the caller's device buffers, the plan's own scratch buffers, and host <->
 * device copies in the plan's precision (through runtime/transfer.c). */
#include <stdio.h>

#include "solver_internal.h"

smnn_status smnn__check_buffer(smnn_plan *plan, const char *name, cl_mem mem, size_t count) {
    size_t need;
    if (smnn__mul_overflows(count, plan->elem, &need))
        return FAIL(plan->ctx, SMNN_ERROR_TOO_LARGE, "buffer '%s': %zu values overflow the address "
                    "space", name, count);
    if (!mem) return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT, "buffer '%s' is NULL", name);
    char what[64];
    snprintf(what, sizeof what, "buffer '%s' (%zu %s values)", name, count,
             plan->elem == 8 ? "double" : "float");
    return smnn__check_mem(plan->ctx, mem, need, what, "the plan");
}

smnn_status smnn__ensure_buffer(smnn_plan *plan, cl_mem *buf, size_t *have, size_t bytes,
                                const char *what) {
    if (*buf && *have >= bytes) return SMNN_SUCCESS;
    if (*buf) clReleaseMemObject(*buf);
    cl_int err;
    *buf = clCreateBuffer(plan->ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    *have = *buf ? bytes : 0;
    if (!*buf) return FAIL_CL(plan->ctx, err, what);
    return SMNN_SUCCESS;
}

smnn_status smnn__upload(smnn_plan *plan, const double *x, size_t count, cl_mem *out) {
    return smnn_buffer_from_host(plan->ctx, plan->opt.precision, x, count, out);
}

smnn_status smnn__download(smnn_plan *plan, cl_mem buf, size_t count, double *y) {
    return smnn_buffer_to_host(plan->ctx, plan->opt.precision, buf, count, y);
}
