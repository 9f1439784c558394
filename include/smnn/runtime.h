/* The OpenCL host runtime: device enumeration and choice, and the smnn context.
 *
 * An smnn_context owns (or borrows, retained) one cl_context, one cl_device_id and one in-order
 * cl_command_queue, and keeps the kernel programs compiled for that device. Thread safety: a
 * context may be used by several threads at once only through distinct smnn_plan objects (the
 * program cache is locked); the last-error message of a shared context then belongs to whichever
 * call failed last, so prefer smnn_last_error(), which is per thread. Contexts and device lists
 * may be created from several threads at once, even as a process's first OpenCL use: smnn
 * serialises the driver's platform and device discovery. */
#ifndef SMNN_RUNTIME_H
#define SMNN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <smnn/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What smnn needs to know of one device. Read-only; owned by the list or context it came from.
 * New fields are only ever appended, so reach entries through smnn_device_list_at(). */
typedef struct smnn_device_info {
    unsigned platform_index; /* position of the platform in clGetPlatformIDs order */
    unsigned device_index;   /* position of the device within its platform */
    char platform_name[128];
    char platform_version[128];
    char device_name[128];
    char device_vendor[128];
    char device_version[128];
    char driver_version[128];
    int is_gpu;                   /* CL_DEVICE_TYPE_GPU */
    int is_cpu;                   /* CL_DEVICE_TYPE_CPU */
    int has_fp64;                 /* cl_khr_fp64: double precision kernels are available */
    unsigned compute_units;       /* CL_DEVICE_MAX_COMPUTE_UNITS */
    uint64_t local_mem_bytes;     /* CL_DEVICE_LOCAL_MEM_SIZE */
    uint64_t global_mem_bytes;    /* CL_DEVICE_GLOBAL_MEM_SIZE */
    uint64_t max_alloc_bytes;     /* CL_DEVICE_MAX_MEM_ALLOC_SIZE: largest single buffer */
    size_t max_work_group_size;   /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    /* CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT in CL_DEVICE_SINGLE_FP_CONFIG: the device can round
     * single-precision division and sqrt correctly, and the library's single-precision programs
     * are then built with -cl-fp32-correctly-rounded-divide-sqrt (OpenCL allows 2.5 and 3 ulp
     * without it; the QR factorization's accuracy depends on them, bench/RESULTS.md). */
    int fp32_correct_div_sqrt;
} smnn_device_info;

typedef struct smnn_device_list smnn_device_list;

/* Enumerates every device of every OpenCL platform into *out (caller frees with
 * smnn_device_list_free). Errors: SMNN_ERROR_NO_PLATFORM when the ICD loader finds no platform
 * (the message says what to install), SMNN_ERROR_OPENCL, SMNN_ERROR_OUT_OF_HOST_MEMORY. */
smnn_status smnn_device_list_create(smnn_device_list **out);
void smnn_device_list_free(smnn_device_list *list); /* accepts NULL */
size_t smnn_device_list_count(const smnn_device_list *list);
/* The i-th device (platform-major order), or NULL when i is out of range. */
const smnn_device_info *smnn_device_list_at(const smnn_device_list *list, size_t i);

/* Chooses a device from the list by spec and writes its position in the list to *index.
 *  - spec NULL or "": the environment variable SMNN_DEVICE if set and non-empty, otherwise the
 *    default: the first GPU, else the first device.
 *  - "PLATFORM:DEVICE", "PLATFORM" or ":DEVICE": each part is either a decimal index or a
 *    case-insensitive substring of the platform / device name (an empty part matches all); the
 *    first device that matches both parts is chosen.
 * If why is not NULL it receives a static phrase saying why the device was chosen ("first GPU",
 * "matches SMNN_DEVICE=...", ...). Errors: SMNN_ERROR_DEVICE_NOT_FOUND (the message lists the
 * devices), SMNN_ERROR_INVALID_ARGUMENT for a malformed spec. */
smnn_status smnn_device_list_choose(const smnn_device_list *list, const char *spec, size_t *index,
                                    const char **why);

typedef struct smnn_context smnn_context;

/* Creates a context, an in-order command queue (with profiling enabled) on the device chosen by
 * spec (see smnn_device_list_choose) and the empty program caches. *out is NULL on failure. */
smnn_status smnn_context_create(const char *spec, smnn_context **out);

/* Adopts the caller's OpenCL objects: each is retained here and released by smnn_context_free, so
 * the caller may release its own references at any time. The queue must belong to the context and
 * the device; it may be out-of-order only if the caller orders smnn's calls with events. */
smnn_status smnn_context_create_from_cl(cl_context context, cl_device_id device,
                                        cl_command_queue queue, smnn_context **out);

/* Waits for the context's queue to finish and releases everything. Accepts NULL. Every plan made
 * on the context must be freed first. */
void smnn_context_free(smnn_context *ctx);

/* The context's last error message (see smnn_last_error()); "" when none. Never NULL. */
const char *smnn_context_last_error(const smnn_context *ctx);

/* Capabilities of the context's device; owned by the context. */
const smnn_device_info *smnn_context_device(const smnn_context *ctx);

/* The OpenCL objects in use (not retained for the caller). */
cl_context smnn_context_cl_context(const smnn_context *ctx);
cl_device_id smnn_context_cl_device(const smnn_context *ctx);
cl_command_queue smnn_context_cl_queue(const smnn_context *ctx);

/* Floating-point precision of device buffers and kernels. */
typedef enum smnn_precision {
    SMNN_PRECISION_DOUBLE = 0, /* needs cl_khr_fp64 on the device */
    SMNN_PRECISION_SINGLE = 1,
} smnn_precision;

/* Creates a read-write device buffer on ctx holding the count values of x (host doubles)
 * converted to precision (cl_double or cl_float elements), for the asynchronous entry points.
 * count 0 makes a one-element buffer. The caller owns *out (clReleaseMemObject); *out is NULL on
 * failure. Errors: SMNN_ERROR_INVALID_ARGUMENT (NULL ctx, out, or x with count > 0; unknown
 * precision), SMNN_ERROR_TOO_LARGE (count overflows), SMNN_ERROR_OUT_OF_HOST_MEMORY,
 * SMNN_ERROR_DEVICE_OUT_OF_MEMORY, SMNN_ERROR_OPENCL. */
smnn_status smnn_buffer_from_host(smnn_context *ctx, smnn_precision precision, const double *x,
                                  size_t count, cl_mem *out);

/* Reads count values of precision from buf into y (host doubles) through the context's queue,
 * blocking (so after work on another queue, wait for its event first). y is written only when
 * the read succeeded. Errors: SMNN_ERROR_INVALID_ARGUMENT (NULL argument, unknown precision,
 * buf of another OpenCL context),
 * SMNN_ERROR_BUFFER_TOO_SMALL (buf holds fewer values), SMNN_ERROR_OUT_OF_HOST_MEMORY,
 * SMNN_ERROR_OPENCL. */
smnn_status smnn_buffer_to_host(smnn_context *ctx, smnn_precision precision, cl_mem buf,
                                size_t count, double *y);

/* The OpenCL name of a cl_int error code, e.g. "CL_OUT_OF_RESOURCES"; static, never NULL. */
const char *smnn_cl_error_name(cl_int err);

#ifdef __cplusplus
}
#endif
#endif
