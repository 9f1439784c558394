/* Host <-> device copies of double arrays in either precision: the one place where values are
 * converted to and from float for single-precision buffers (the library's blocking calls, the
 * tools and the bench all go through it). */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

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
    cl_context owner = NULL;
    cl_int err = clGetMemObjectInfo(buf, CL_MEM_CONTEXT, sizeof owner, &owner, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(ctx, err, "clGetMemObjectInfo(CL_MEM_CONTEXT)");
    if (owner != ctx->cl_ctx)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "argument 'buf' belongs to another OpenCL context than ctx");
    size_t have = 0;
    err = clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof have, &have, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(ctx, err, "clGetMemObjectInfo(CL_MEM_SIZE)");
    if (have < bytes)
        return FAIL(ctx, SMNN_ERROR_BUFFER_TOO_SMALL, "buffer holds %zu bytes, reading %zu values "
                    "needs %zu", have, count, bytes);
    void *tmp = es == 8 ? (void *)y : malloc(bytes);
    if (!tmp) return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "conversion of %zu values", count);
    err = clEnqueueReadBuffer(ctx->queue, buf, CL_TRUE, 0, bytes, tmp, 0, NULL, NULL);
    if (err == CL_SUCCESS && es == 4)
        for (size_t i = 0; i < count; i++) y[i] = ((float *)tmp)[i];
    if (es == 4) free(tmp);
    if (err != CL_SUCCESS) return FAIL_CL(ctx, err, "clEnqueueReadBuffer");
    return SMNN_SUCCESS;
}
