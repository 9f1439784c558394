/* Status codes, their names and messages, version queries and the thread-local last error.
 *
 * Every smnn call that can fail returns an smnn_status. The numeric values are pinned: they never
 * change between versions, new codes are only appended. A human-readable detail for the most
 * recent failure is available from smnn_context_last_error() (calls that take a context) or from
 * smnn_last_error() (every call, per thread). */
#ifndef SMNN_STATUS_H
#define SMNN_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message). One list generates the enum and both string functions. */
#define SMNN_STATUS_MAP(X)                                                                          \
    X(SMNN_SUCCESS, 0, "success")                                                                  \
    X(SMNN_ERROR_INVALID_ARGUMENT, 1, "invalid argument")                                          \
    X(SMNN_ERROR_OUT_OF_HOST_MEMORY, 2, "out of host memory")                                      \
    X(SMNN_ERROR_NO_PLATFORM, 3, "no OpenCL platform found (install an ICD such as pocl-opencl-icd)") \
    X(SMNN_ERROR_DEVICE_NOT_FOUND, 4, "no OpenCL device matches the request")                     \
    X(SMNN_ERROR_OPENCL, 5, "an OpenCL call failed")                                              \
    X(SMNN_ERROR_BUILD_FAILED, 6, "kernel program failed to compile")                              \
    X(SMNN_ERROR_UNSUPPORTED, 7, "not supported by this device or build")                         \
    X(SMNN_ERROR_NOT_POSITIVE_DEFINITE, 8,                                                         \
      "a system's matrix is not positive definite or its values became NaN/Inf")                   \
    X(SMNN_ERROR_TOO_LARGE, 9, "problem exceeds a size or memory limit")                           \
    X(SMNN_ERROR_BUFFER_TOO_SMALL, 10, "a buffer is smaller than the problem needs")               \
    X(SMNN_ERROR_LAPACK, 11, "a LAPACK routine failed")                                            \
    X(SMNN_ERROR_IO, 12, "file input/output failed")                                               \
    X(SMNN_ERROR_DEVICE_OUT_OF_MEMORY, 13, "out of device memory")                                 \
    X(SMNN_ERROR_INVALID_STATE, 14, "the object is not in a state that allows this call")        \
    X(SMNN_ERROR_NOT_CONVERGED, 15,                                                                \
      "iterative refinement did not converge: the solution is not accurate")                      \
    X(SMNN_ERROR_RANK_DEFICIENT, 16,                                                               \
      "a system's rows do not determine its solution (rank deficient) or its values became NaN/Inf")

typedef enum smnn_status {
#define SMNN_STATUS_ENUM_(name, value, message) name = value,
    SMNN_STATUS_MAP(SMNN_STATUS_ENUM_)
#undef SMNN_STATUS_ENUM_
} smnn_status;

/* The enumerator's name, e.g. "SMNN_ERROR_BUILD_FAILED"; "SMNN_STATUS_UNKNOWN" for other values.
 * The string is static; never NULL. */
const char *smnn_status_name(smnn_status status);

/* A short English description of the status; static, never NULL. */
const char *smnn_status_string(smnn_status status);

/* The detailed message of the most recent failing smnn call made by this thread (argument name,
 * failing OpenCL call with its cl_int name, build log, failing system...), or "" when none failed
 * yet. The pointer stays valid until the next smnn call on this thread. Thread-safe. */
const char *smnn_last_error(void);

/* Version of the loaded library, as "MAJOR.MINOR.PATCH" and as MAJOR*10000+MINOR*100+PATCH.
 * Compare with SMNN_VERSION_NUMBER from <smnn/version.h> to detect a header/library mismatch. */
const char *smnn_version(void);
unsigned smnn_version_number(void);

#ifdef __cplusplus
}
#endif
#endif
