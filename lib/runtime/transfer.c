/* Host <-> device copies of double arrays in either precision: the one place where values are
 * converted to and from float for single-precision buffers (the library's blocking calls, the
 * tools and the bench all go through it). */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

smnn_status smnn__check_mem(smnn_context *ctx, cl_mem mem, size_t bytes, const char *what,
                            const char *owner) {
    /* A buffer of another OpenCL context cannot be used here (drivers may accept it and then
     * read the wrong memory), so it is refused by name. */
    cl_context in = NULL;
    cl_int err = clGetMemObjectInfo(mem, CL_MEM_CONTEXT, sizeof in, &in, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(ctx, err, "clGetMemObjectInfo(CL_MEM_CONTEXT)");
    if (in != ctx->cl_ctx)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "%s belongs to another OpenCL context than %s", what, owner);
    size_t size = 0;
    err = clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(ctx, err, "clGetMemObjectInfo(CL_MEM_SIZE)");
    if (size < bytes)
        return FAIL(ctx, SMNN_ERROR_BUFFER_TOO_SMALL, "%s holds %zu bytes, %zu are needed", what,
                    size, bytes);
    return SMNN_SUCCESS;
}

static size_t elem_size(smnn_precision precision) {
    return precision == SMNN_PRECISION_DOUBLE ? 8 : precision == SMNN_PRECISION_SINGLE ? 4 : 0;
}

smnn_status smnn_buffer_from_host(smnn_context *ctx, smnn_precision precision, const double *x,
                                  size_t count, cl_mem *out) {
    if (out) *out = NULL;
    if (!ctx || !out || (!x && count))
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !ctx ? "ctx" : !out ? "out" : "x");
    size_t es = elem_size(precision), n = count ? count : 1, bytes;
    if (!es)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "precision %d is not a smnn_precision",
                    (int)precision);
    if (smnn__mul_overflows(n, sizeof(double), &bytes)) /* the host array's size bounds both */
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE, "%zu values overflow the address space", count);
    bytes = n * es;
    void *tmp = (void *)x;
    double zero = 0;
    if (!count) tmp = &zero;
    if (es == 4) {
        float *f = malloc(bytes);
        if (!f) return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "conversion of %zu values", count);
        for (size_t i = 0; i < count; i++) f[i] = (float)x[i];
        if (!count) f[0] = 0;
        tmp = f;
    }
    cl_int err;
    *out = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, tmp, &err);
    if (es == 4) free(tmp);
    if (!*out) return FAIL_CL(ctx, err, "clCreateBuffer");
    return SMNN_SUCCESS;
}

smnn_status smnn_buffer_to_host(smnn_context *ctx, smnn_precision precision, cl_mem buf,
                                size_t count, double *y) {
    if (!ctx || !buf || (!y && count))
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !ctx ? "ctx" : !buf ? "buf" : "y");
    size_t es = elem_size(precision), bytes;
    if (!es)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "precision %d is not a smnn_precision",
                    (int)precision);
    if (!count) return SMNN_SUCCESS;
    if (smnn__mul_overflows(count, sizeof(double), &bytes))
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE, "%zu values overflow the address space", count);
    bytes = count * es;
    FORWARD_IF_ERROR(smnn__check_mem(ctx, buf, bytes, "argument 'buf'", "ctx"));
    void *tmp = es == 8 ? (void *)y : malloc(bytes);
    if (!tmp) return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "conversion of %zu values", count);
    cl_int err = clEnqueueReadBuffer(ctx->queue, buf, CL_TRUE, 0, bytes, tmp, 0, NULL, NULL);
    if (err == CL_SUCCESS && es == 4)
        for (size_t i = 0; i < count; i++) y[i] = ((float *)tmp)[i];
    if (es == 4) free(tmp);
    if (err != CL_SUCCESS) return FAIL_CL(ctx, err, "clEnqueueReadBuffer");
    return SMNN_SUCCESS;
}
