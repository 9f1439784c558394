/* Internal declarations shared by the library's source files (never installed).
 *
 * Error reporting: every failure goes through FAIL(ctx, ...) (runtime and solver layers) or
 * FAIL_HERE(...) (core and reference, which know no context), which format the detail message into
 * the thread-local last error (and FAIL also into the context's), and return the status so that
 * call sites read `return FAIL(ctx, SMNN_ERROR_..., "fmt", ...)`. */
#ifndef SMNN_INTERNAL_H
#define SMNN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <smnn/smnn.h>

#if defined(__GNUC__)
#define SMNN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SMNN_PRINTF(a, b)
#endif

/* Formats "STATUS: message [file:line]" into this thread's last error and returns it (core). */
const char *smnn__record_error(smnn_status status, const char *file, int line, const char *fmt,
                               va_list ap);
/* Records the last error of this thread only; for the layers below contexts (core, reference). */
smnn_status smnn__fail_here(smnn_status status, const char *file, int line, const char *fmt, ...)
    SMNN_PRINTF(4, 5);
#define FAIL_HERE(status, ...) smnn__fail_here((status), __FILE__, __LINE__, __VA_ARGS__)
/* Records the last error of this thread and of ctx if not NULL (runtime/errors.c). */
smnn_status smnn__fail(smnn_context *ctx, smnn_status status, const char *file, int line,
                       const char *fmt, ...) SMNN_PRINTF(5, 6);
#define FAIL(ctx, status, ...) smnn__fail((ctx), (status), __FILE__, __LINE__, __VA_ARGS__)
/* Fails with SMNN_ERROR_OPENCL (or DEVICE_OUT_OF_MEMORY / OUT_OF_HOST_MEMORY for those codes),
 * naming the OpenCL call and its error. */
smnn_status smnn__fail_cl(smnn_context *ctx, cl_int err, const char *call, const char *file,
                          int line);
#define FAIL_CL(ctx, err, call) smnn__fail_cl((ctx), (err), (call), __FILE__, __LINE__)
/* Forwards a failing status unchanged (the callee already recorded the detail). */
#define FORWARD_IF_ERROR(expr)                                                                     \
    do {                                                                                           \
        smnn_status fwd_status_ = (expr);                                                          \
        if (fwd_status_ != SMNN_SUCCESS) return fwd_status_;                                       \
    } while (0)
/* Clears the thread's last error at the start of a public call. */
void smnn__clear_error(void);

/* Growable string, for messages, build options and device listings. */
typedef struct smnn__str {
    char *data;
    size_t len, cap;
    int failed; /* set when an allocation failed; data then holds what fitted */
} smnn__str;
void smnn__str_printf(smnn__str *s, const char *fmt, ...) SMNN_PRINTF(2, 3);
void smnn__str_append(smnn__str *s, const char *text, size_t len);
void smnn__str_free(smnn__str *s);

/* 64-bit FNV-1a, chained: pass the previous hash as seed (start with SMNN__FNV_SEED). */
#define SMNN__FNV_SEED UINT64_C(0xcbf29ce484222325)
uint64_t smnn__hash(uint64_t seed, const void *data, size_t len);

/* Reads a string device/platform property into buf (always terminated; "" on failure). */
void smnn__device_string(cl_device_id dev, cl_device_info what, char *buf, size_t len);
void smnn__platform_string(cl_platform_id pf, cl_platform_info what, char *buf, size_t len);
/* Serialise the driver's platform and device discovery and context creation (devices.c): the
 * first of those calls in a process sets the driver up, which is not thread-safe everywhere. */
void smnn__discovery_lock(void);
void smnn__discovery_unlock(void);
/* Fills info from a device handle; indexes left as given. */
void smnn__device_info_fill(cl_device_id dev, smnn_device_info *info);
/* Whether the device belongs to PoCL (its platform name), whose kernel cache and compiler
 * several of smnn's choices depend on (program.c, lib/solver/tuning.c). */
int smnn__device_is_pocl(const smnn_device_info *info);

/* ---- Kernel programs ---------------------------------------------------------------------- */

/* The embedded kernel sources (generated from the cl/ folder at build time), in the order in which they
 * are concatenated into one program. */
typedef struct smnn__cl_source {
    const char *name; /* file name, e.g. "factor.cl" */
    const char *text;
} smnn__cl_source;
extern const smnn__cl_source smnn__cl_sources[];
extern const size_t smnn__cl_source_count;

/* Returns the program built from the given sources (concatenated in order) with the given
 * options, from the context's memory cache, else the disk cache, else a source build (stored in
 * both caches). The program is owned by the context. Sets *from (if not NULL) to where it came
 * from. Errors: SMNN_ERROR_BUILD_FAILED with the options and build log in the message;
 * SMNN_ERROR_OPENCL. Thread-safe. */
typedef enum smnn__program_origin {
    SMNN__FROM_MEMORY = 0,
    SMNN__FROM_DISK = 1,
    SMNN__FROM_SOURCE = 2,
} smnn__program_origin;
smnn_status smnn__program_get(smnn_context *ctx, const char *const *sources, size_t nsources,
                              const char *options, cl_program *program,
                              smnn__program_origin *from);

/* The build options of the library's kernels program for one precision and one set of tuning
 * defines (extra may be NULL), appended to *out; in single precision with correct_div_sqrt
 * (smnn_device_info.fp32_correct_div_sqrt), -cl-fp32-correctly-rounded-divide-sqrt. */
void smnn__kernels_options(smnn_precision precision, const char *extra, int correct_div_sqrt,
                           smnn__str *out);
/* The library's kernels program for one precision and one set of tuning defines (extra may be
 * NULL). Adds the precision define and checks fp64. */
smnn_status smnn__kernels_program(smnn_context *ctx, smnn_precision precision, const char *extra,
                                  cl_program *program);

/* ---- Disk cache of program binaries (cache.c) ---------------------------------------------- */

/* Whether programs built for this device should go through smnn's disk cache: not on PoCL while
 * its own kernel cache is on (POCL_KERNEL_CACHE unset or not "0"). PoCL already keeps every
 * program's compiled code on disk, keyed by its source and options, and asking it for a binary
 * (clGetProgramInfo CL_PROGRAM_BINARIES) makes it compile every kernel of the program once more
 * for a run-time local size, which it never launches: about half of a cold build's time
 * (program.c). */
int smnn__disk_cache_wanted(const smnn_device_info *info);

/* The cache folder: $SMNN_CACHE_DIR, else $XDG_CACHE_HOME/smnn, else $HOME/.cache/smnn; NULL
 * when SMNN_CACHE_DISABLE is set to anything but "" or "0", or no folder can be named. Returns a
 * malloc'd string. */
char *smnn__cache_dir(void);
/* Loads the binary stored under key; returns a malloc'd buffer and its size, or NULL when absent,
 * unreadable, truncated or corrupt (a corrupt entry is removed). */
unsigned char *smnn__cache_load(uint64_t key, size_t *size);
/* Stores a binary under key (atomically: temporary file and rename); failures are ignored,
 * since the cache is only an optimisation. Returns 1 when stored. */
int smnn__cache_store(uint64_t key, const unsigned char *data, size_t size);

/* ---- Context (context.c) ------------------------------------------------------------------ */

typedef struct smnn__program_entry {
    struct smnn__program_entry *next;
    uint64_t key;
    char *options;
    cl_program program;
} smnn__program_entry;

struct smnn_context {
    cl_context cl_ctx;
    cl_device_id device;
    cl_command_queue queue;
    smnn_device_info info;
    smnn__program_entry *programs; /* memory cache, guarded by lock */
    /* 1: source builds are stored in, and looked up from, smnn's disk cache (cache.c); 0: the
     * driver keeps its own (smnn__disk_cache_wanted). Set when the context is created. */
    int disk_cache;
    void *lock;                    /* pthread_mutex_t *, opaque here */
    char last_error[4096];
};

void smnn__context_lock(smnn_context *ctx);
void smnn__context_unlock(smnn_context *ctx);
void smnn__context_set_error(smnn_context *ctx, const char *msg);

/* ---- Problems (core/problem.c, core/layout.c) --------------------------------------------- */

/* Size of the first version of smnn_problem: the smallest struct_size accepted. */
#define SMNN__PROBLEM_MIN_SIZE (offsetof(smnn_problem, shared) + sizeof(unsigned))
/* 1 when p is not NULL and its struct_size is one the library knows. */
int smnn__problem_size_ok(const smnn_problem *p);
/* Every check of smnn_problem_validate without recording an error: returns its status and, when
 * why is not NULL, writes the reason there (a problem that passes has every element and byte
 * count of its inputs, y and the solver's workspace inside size_t). */
smnn_status smnn__problem_check(const smnn_problem *p, char *why, size_t len);
/* A full-size copy of *in (struct_size checked by the caller), defaults past its struct_size. */
void smnn__problem_copy(const smnn_problem *in, smnn_problem *out);
/* The four input layouts of a problem that passed validation (smnn_input order). */
void smnn__layouts(const smnn_problem *p, smnn_layout out[4]);

/* ---- Dense reference (reference/dense.c) ---------------------------------------------------- */

/* The reference's memory cap: *max_bytes when not 0, else $SMNN_REFERENCE_MAX_BYTES (digits
 * only; anything else fails naming the variable), else SMNN_REFERENCE_DEFAULT_MAX_BYTES. */
smnn_status smnn__reference_cap(size_t *max_bytes);
/* Fails naming `name` and the index unless x is not NULL and its count values are finite (and
 * > 0 when positive). */
smnn_status smnn__reference_check_values(const char *name, const double *x, size_t count,
                                         int positive);

/* Fails unless mem belongs to ctx's OpenCL context (SMNN_ERROR_INVALID_ARGUMENT) and holds at
 * least `bytes` bytes (SMNN_ERROR_BUFFER_TOO_SMALL); `what` names the buffer and `owner` what
 * it must share the context with, in the messages (runtime/transfer.c). */
smnn_status smnn__check_mem(smnn_context *ctx, cl_mem mem, size_t bytes, const char *what,
                            const char *owner);

/* ---- Solver hooks for the multi-device plan (solver/, used by multi/) ---------------------- */

/* Fails naming `name` and the index unless x is not NULL and its count values are finite, inside
 * the float range when single, and > 0 (also as floats when single) when positive
 * (solver/blocking.c; the checks of the blocking calls). Records the error on ctx. */
smnn_status smnn__check_host_values(smnn_context *ctx, const char *name, const double *x,
                                    size_t count, int single, int positive);
/* Allocation helper: multiplies with overflow check; returns 0 on overflow. */
int smnn__mul_overflows(size_t a, size_t b, size_t *out);

#endif
