/* Kernel programs: assembles sources, builds them for the context's device and keeps them.
 *
 * Lookup order: the context's memory cache (one program per source set and option string), then
 * the disk cache of binaries (cache.c), then a build from source, whose binary is then stored on
 * disk. A binary that the driver rejects is treated like a cache miss. A failed source build
 * returns SMNN_ERROR_BUILD_FAILED with the options and the full build log in the message. The disk
 * cache is skipped where the driver keeps its own (smnn__disk_cache_wanted: PoCL). */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

static uint64_t program_key(const smnn_context *ctx, const char *const *sources, size_t n,
                            const char *options) {
    uint64_t h = SMNN__FNV_SEED;
    for (size_t i = 0; i < n; i++) h = smnn__hash(h, sources[i], strlen(sources[i]));
    h = smnn__hash(h, options, strlen(options));
    const smnn_device_info *d = &ctx->info;
    h = smnn__hash(h, d->platform_name, strlen(d->platform_name));
    h = smnn__hash(h, d->platform_version, strlen(d->platform_version));
    h = smnn__hash(h, d->device_name, strlen(d->device_name));
    h = smnn__hash(h, d->device_version, strlen(d->device_version));
    h = smnn__hash(h, d->driver_version, strlen(d->driver_version));
    h = smnn__hash(h, SMNN_VERSION_STRING, strlen(SMNN_VERSION_STRING));
    return h;
}

static char *build_log(cl_program prog, cl_device_id dev) {
    size_t n = 0;
    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) != CL_SUCCESS)
        return NULL;
    char *log = malloc(n + 1);
    if (!log) return NULL;
    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, n, log, NULL) != CL_SUCCESS) n = 0;
    log[n] = '\0';
    return log;
}

/* Tries the disk cache; returns a built program or NULL. */
static cl_program from_disk(smnn_context *ctx, uint64_t key, const char *options) {
    size_t size = 0;
    unsigned char *bin = smnn__cache_load(key, &size);
    if (!bin) return NULL;
    cl_int err, bstat = CL_SUCCESS;
    const unsigned char *bins[1] = {bin};
    cl_program prog =
        clCreateProgramWithBinary(ctx->cl_ctx, 1, &ctx->device, &size, bins, &bstat, &err);
    free(bin);
    if (!prog || err != CL_SUCCESS || bstat != CL_SUCCESS) {
        if (prog) clReleaseProgram(prog);
        return NULL;
    }
    if (clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return NULL;
    }
    return prog;
}

int smnn__disk_cache_wanted(const smnn_device_info *info) {
    /* PoCL (measured on 3.1, bench/RESULTS.md "Compile time"): its kernel cache holds the program
     * and every kernel compiled for each local size launched, so a second process builds from
     * source in 0.19 s without smnn's entry (0.27 s with it), while fetching the binary for
     * smnn's entry compiles every kernel again for a dynamic local size (n = 3, double: 5.7 of
     * a cold build's 8.2 s). */
    const char *pocl_cache = getenv("POCL_KERNEL_CACHE");
    int pocl_caches = !pocl_cache || strcmp(pocl_cache, "0") != 0;
    return !(smnn__device_is_pocl(info) && pocl_caches);
}

static void to_disk(smnn_context *ctx, cl_program prog, uint64_t key) {
    /* Only when there is a cache to store into: asking for the binary may compile. */
    char *dir = smnn__cache_dir();
    if (!dir) return;
    free(dir);
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
        size == 0)
        return;
    unsigned char *bin = malloc(size);
    if (!bin) return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS)
        smnn__cache_store(key, bin, size);
    free(bin);
    (void)ctx;
}

static smnn_status from_source(smnn_context *ctx, const char *const *sources, size_t n,
                               const char *options, cl_program *out) {
    cl_int err;
    cl_program prog =
        clCreateProgramWithSource(ctx->cl_ctx, (cl_uint)n, (const char **)sources, NULL, &err);
    if (!prog) return FAIL_CL(ctx, err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        char *log = build_log(prog, ctx->device);
        clReleaseProgram(prog);
        if (err != CL_BUILD_PROGRAM_FAILURE && err != CL_INVALID_BUILD_OPTIONS)
            return FAIL_CL(ctx, err, "clBuildProgram");
        smnn_status st = FAIL(ctx, SMNN_ERROR_BUILD_FAILED,
                              "clBuildProgram failed with %s on '%s'\noptions: %s\nbuild log:\n%s",
                              smnn_cl_error_name(err), ctx->info.device_name, options,
                              log ? log : "(none)");
        free(log);
        return st;
    }
    *out = prog;
    return SMNN_SUCCESS;
}

smnn_status smnn__program_get(smnn_context *ctx, const char *const *sources, size_t nsources,
                              const char *options, cl_program *program,
                              smnn__program_origin *from) {
    if (!options) options = "";
    uint64_t key = program_key(ctx, sources, nsources, options);
    smnn__context_lock(ctx);
    for (smnn__program_entry *e = ctx->programs; e; e = e->next) {
        if (e->key == key && !strcmp(e->options, options)) {
            *program = e->program;
            smnn__context_unlock(ctx);
            if (from) *from = SMNN__FROM_MEMORY;
            return SMNN_SUCCESS;
        }
    }
    smnn__program_entry *e = calloc(1, sizeof *e);
    char *opts = strdup(options);
    if (!e || !opts) {
        smnn__context_unlock(ctx);
        free(e);
        free(opts);
        return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "program cache entry");
    }
    smnn__program_origin origin = SMNN__FROM_DISK;
    cl_program prog = ctx->disk_cache ? from_disk(ctx, key, options) : NULL;
    if (!prog) {
        origin = SMNN__FROM_SOURCE;
        smnn_status st = from_source(ctx, sources, nsources, options, &prog);
        if (st != SMNN_SUCCESS) {
            smnn__context_unlock(ctx);
            free(e);
            free(opts);
            return st;
        }
        if (ctx->disk_cache) to_disk(ctx, prog, key);
    }
    e->key = key;
    e->options = opts;
    e->program = prog;
    e->next = ctx->programs;
    ctx->programs = e;
    smnn__context_unlock(ctx);
    *program = prog;
    if (from) *from = origin;
    return SMNN_SUCCESS;
}

void smnn__kernels_options(smnn_precision precision, const char *extra, int correct_div_sqrt,
                           smnn__str *out) {
    smnn__str_printf(out, "-cl-std=CL1.2 -DSMNN_DOUBLE=%d%s%s%s", precision == SMNN_PRECISION_DOUBLE,
                     precision == SMNN_PRECISION_SINGLE && correct_div_sqrt
                         ? " -cl-fp32-correctly-rounded-divide-sqrt"
                         : "",
                     extra ? " " : "", extra ? extra : "");
}

smnn_status smnn__kernels_program(smnn_context *ctx, smnn_precision precision, const char *extra,
                                  cl_program *program) {
    if (precision != SMNN_PRECISION_DOUBLE && precision != SMNN_PRECISION_SINGLE)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "precision %d is neither double (0) nor "
                    "single (1)", (int)precision);
    if (precision == SMNN_PRECISION_DOUBLE && !ctx->info.has_fp64)
        return FAIL(ctx, SMNN_ERROR_UNSUPPORTED,
                    "double precision needs cl_khr_fp64, which device '%s' lacks; use "
                    "single precision", ctx->info.device_name);
    const char *srcs[16];
    size_t n = smnn__cl_source_count < 16 ? smnn__cl_source_count : 16;
    for (size_t i = 0; i < n; i++) srcs[i] = smnn__cl_sources[i].text;
    smnn__str opts = {0};
    smnn__kernels_options(precision, extra, ctx->info.fp32_correct_div_sqrt, &opts);
    if (opts.failed) {
        smnn__str_free(&opts);
        return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "build options");
    }
    smnn_status st = smnn__program_get(ctx, srcs, n, opts.data, program, NULL);
    smnn__str_free(&opts);
    return st;
}
