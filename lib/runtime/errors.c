/* Failures that also concern a context: the context keeps its own copy of the last error, and
 * OpenCL error codes map to smnn statuses. (The thread-local last error is core/status.c's.) */
#include "../internal.h"

smnn_status smnn__fail(smnn_context *ctx, smnn_status status, const char *file, int line,
                       const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const char *msg = smnn__record_error(status, file, line, fmt, ap);
    va_end(ap);
    if (ctx) smnn__context_set_error(ctx, msg);
    return status;
}

smnn_status smnn__fail_cl(smnn_context *ctx, cl_int err, const char *call, const char *file,
                          int line) {
    smnn_status st = SMNN_ERROR_OPENCL;
    if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES)
        st = SMNN_ERROR_DEVICE_OUT_OF_MEMORY;
    else if (err == CL_OUT_OF_HOST_MEMORY)
        st = SMNN_ERROR_OUT_OF_HOST_MEMORY;
    return smnn__fail(ctx, st, file, line, "%s failed with %s (%d)", call, smnn_cl_error_name(err),
                      (int)err);
}
