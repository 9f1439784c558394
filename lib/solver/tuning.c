/* The tuning table (variant and systems per work-item by vendor -> device kind -> shape, with a
 * default row), plan options and the compile-time shape of a plan's program.
 *
 * The table is read top to bottom; the first row whose vendor, device kind, block size and batch
 * match applies. Rows carry the measurement behind them; `smnn-info` prints them. No row is
 * vendor-specific yet: every timing so far is PoCL's CPU device (bench/RESULTS.md); the GPU rows
 * rest on the offline compile of every program for nvptx64 and amdgcn (bench/smnn-gpu-compile,
 * numbers in bench/RESULTS.md "GPU"): per-work-item private memory grows as n^2 and reaches
 * kilobytes above n = 8, where one work-group per system keeps the block in local memory. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

static const smnn_tuning_rule table[] = {
    {"Mesa", "", 16, 1, SMNN_VARIANT_PRIVATE, 1,
     "Rusticl on llvmpipe: it ends a work-item's loops after 65,535 turns (reported as "
     "unsupported), which one work-item walking all of a system's time points reaches soonest "
     "for large blocks (n = 32 at any T), so only small blocks go private"},
    {"Mesa", "", 64, 1, SMNN_VARIANT_LOCAL, 1,
     "Rusticl on llvmpipe: local variant above n = 16, its loops shared by the work-group "
     "(n = 64 needs more than its 32 KiB of local memory and falls back to private)"},
    {"", "cpu", 64, 8, SMNN_VARIANT_PRIVATE, 8,
     "CPU drivers do not vectorise across work-items: one double8 of systems per work-item ran "
     "7.7x faster than one system (n = 3); n = 32: 2.2 us per system-step against 13.2 us local"},
    {"", "cpu", 16, 1, SMNN_VARIANT_PRIVATE, 1,
     "below a vector of systems, lanes would only hold copies (B = 1, T = 1e5: 138 ns per step "
     "with one lane, 218 with eight); blocks up to 16 still run well one per work-item"},
    {"", "", 8, 1, SMNN_VARIANT_PRIVATE, 1,
     "small blocks: one system per work-item, coalesced workspace, no barriers; offline "
     "(smnn-gpu-compile) the factor keeps 264 B (n = 3) to 1.5 KB (n = 8) per work-item in "
     "PTX local memory in double, 192-256 VGPRs on gfx90a; not yet timed on a GPU"},
    {"", "", 64, 1, SMNN_VARIANT_LOCAL, 1,
     "larger blocks: one work-group per system, the pivot block in local memory; offline the "
     "private factor needs 5 KB (n = 16) to 69 KB (n = 64) per work-item in double, the local "
     "one 0.6-2.6 KB"},
};
#define TABLE_LEN (sizeof table / sizeof table[0])

size_t smnn_tuning_rule_count(void) {
    return TABLE_LEN;
}

const smnn_tuning_rule *smnn_tuning_rule_at(size_t i) {
    return i < TABLE_LEN ? &table[i] : NULL;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t k = 0;
        while (k < n && hay[k] && tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k]))
            k++;
        if (k == n) return 1;
    }
    return n == 0;
}

static int row_matches(const smnn_tuning_rule *r, const smnn_device_info *dev, size_t n,
                       size_t batch) {
    if (n > r->max_block || batch < r->min_batch) return 0;
    if (*r->vendor && (!dev || !contains_nocase(dev->device_vendor, r->vendor))) return 0;
    if (!strcmp(r->device, "cpu") && !(dev && dev->is_cpu)) return 0;
    if (!strcmp(r->device, "gpu") && !(dev && dev->is_gpu)) return 0;
    return 1;
}

smnn_variant smnn_variant_choose(const smnn_device_info *dev, size_t n, size_t batch) {
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (row_matches(&table[i], dev, n, batch)) return table[i].variant;
    return SMNN_VARIANT_LOCAL;
}

/* Systems per work-item for a variant already chosen: the first matching row of that variant.
 * Rows give the width in double precision; single precision takes twice as many systems, the
 * same bytes of vector (measured on PoCL, AVX-512, B = 1536, T = 50, single-precision QR, three
 * interleaved rounds: forward n = 3 5.8-6.0 -> 3.7-4.0 ms, n = 9 53-55 -> 32-34 ms, n = 16
 * 138-200 -> 107-128 ms, n = 32 764-815 -> 504-854 ms; forward + backward n = 32 1.06-1.22 ->
 * 0.71-0.95 s). */
static int table_width(const smnn_device_info *dev, smnn_variant v, size_t n, size_t batch,
                       smnn_precision prec) {
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (table[i].variant == v && row_matches(&table[i], dev, n, batch)) {
            int w = table[i].systems_per_item;
            return prec == SMNN_PRECISION_SINGLE && w > 1 && w < 16 ? 2 * w : w;
        }
    return 1;
}

const char *smnn_variant_name(smnn_variant v) {
    switch (v) {
    case SMNN_VARIANT_AUTO:
        return "auto";
    case SMNN_VARIANT_PRIVATE:
        return "private";
    case SMNN_VARIANT_LOCAL:
        return "local";
    }
    return "unknown";
}

/* ---- Options ---------------------------------------------------------------------------- */

/* The versions of smnn_plan_options: the first ended with refine_steps, the second with
 * max_alloc_bytes, the third with factorization; the fourth (time_chunks) is the current
 * struct. */
#define OPTIONS_MIN_SIZE (offsetof(smnn_plan_options, refine_steps) + sizeof(int))
#define OPTIONS_V2_SIZE (offsetof(smnn_plan_options, max_alloc_bytes) + sizeof(size_t))
#define OPTIONS_V3_SIZE (offsetof(smnn_plan_options, factorization) + sizeof(smnn_factorization))

void smnn_plan_options_init(smnn_plan_options *opt) {
    if (!opt) return;
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->precision = SMNN_PRECISION_DOUBLE;
    opt->variant = SMNN_VARIANT_AUTO;
    opt->refine_steps = -1;
    opt->systems_per_item = 0;
    opt->generic_kernels = 0;
    opt->max_alloc_bytes = 0;
    opt->factorization = SMNN_FACTORIZATION_AUTO;
    opt->time_chunks = 0;
}

const char *smnn_factorization_name(smnn_factorization f) {
    switch (f) {
    case SMNN_FACTORIZATION_AUTO:
        return "auto";
    case SMNN_FACTORIZATION_CHOLESKY:
        return "cholesky";
    case SMNN_FACTORIZATION_QR:
        return "qr";
    }
    return "unknown";
}

/* An environment override: the variable's value as a whole decimal number, or 0 when unset,
 * empty or not a number (ignored, as documented). */
static unsigned long long env_number(const char *name) {
    const char *env = getenv(name);
    if (!env || !*env) return 0;
    char *end;
    unsigned long long v = strtoull(env, &end, 10);
    return (*end || env[0] == '-') ? 0 : v;
}

/* A switch in the environment: 1 for "1", 0 for "0", -1 when unset or anything else (the
 * automatic choice). */
static int env_switch(const char *name) {
    const char *env = getenv(name);
    if (env && !strcmp(env, "1")) return 1;
    if (env && !strcmp(env, "0")) return 0;
    return -1;
}

static int valid_width(int w) {
    return w == 1 || w == 2 || w == 4 || w == 8 || w == 16;
}

smnn_status smnn__options_resolve(smnn_context *ctx, const smnn_plan_options *opt,
                                  smnn_plan_options *out) {
    smnn_plan_options_init(out);
    if (opt) {
        if (opt->struct_size < OPTIONS_MIN_SIZE || opt->struct_size > sizeof *out)
            return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                        "options.struct_size is %zu, expected %zu to %zu: call "
                        "smnn_plan_options_init() first",
                        opt->struct_size, (size_t)OPTIONS_MIN_SIZE, sizeof *out);
        /* Only whole versions are read: a smaller struct is an earlier version, whose padding
         * after its last field must not reach the fields appended since. */
        size_t take = opt->struct_size >= sizeof *out      ? sizeof *out
                      : opt->struct_size >= OPTIONS_V3_SIZE ? OPTIONS_V3_SIZE
                      : opt->struct_size >= OPTIONS_V2_SIZE ? OPTIONS_V2_SIZE
                                                            : OPTIONS_MIN_SIZE;
        memcpy(out, opt, take);
        out->struct_size = sizeof *out;
    }
    if (out->precision != SMNN_PRECISION_DOUBLE && out->precision != SMNN_PRECISION_SINGLE)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "options.precision = %d is not a smnn_precision", (int)out->precision);
    if (out->variant != SMNN_VARIANT_AUTO && out->variant != SMNN_VARIANT_PRIVATE &&
        out->variant != SMNN_VARIANT_LOCAL)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "options.variant = %d is not a smnn_variant",
                    (int)out->variant);
    if (out->factorization != SMNN_FACTORIZATION_AUTO &&
        out->factorization != SMNN_FACTORIZATION_CHOLESKY &&
        out->factorization != SMNN_FACTORIZATION_QR)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "options.factorization = %d is not a smnn_factorization",
                    (int)out->factorization);
    if (out->refine_steps < -1 || out->refine_steps > 10)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "options.refine_steps = %d, must be -1 (automatic) or 0..10",
                    out->refine_steps);
    if (out->systems_per_item != 0 && !valid_width(out->systems_per_item))
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "options.systems_per_item = %d, must be 0 (automatic), 1, 2, 4, 8 or 16",
                    out->systems_per_item);
    if (out->time_chunks < 0)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "options.time_chunks = %d, must be 0 (automatic), 1 (sequential) or more",
                    out->time_chunks);
    if (out->generic_kernels != 0 && out->generic_kernels != 1)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "options.generic_kernels = %d, must be 0 or 1",
                    out->generic_kernels);
    /* Environment overrides of the automatic values (README.md, "Environment variables"). */
    if (out->systems_per_item == 0) {
        unsigned long long w = env_number("SMNN_SYSTEMS_PER_ITEM");
        if (w <= 16 && valid_width((int)w)) out->systems_per_item = (int)w;
    }
    if (out->generic_kernels == 0 && env_number("SMNN_GENERIC_KERNELS") == 1)
        out->generic_kernels = 1;
    if (out->max_alloc_bytes == 0) out->max_alloc_bytes = (size_t)env_number("SMNN_MAX_ALLOC_BYTES");
    if (out->factorization == SMNN_FACTORIZATION_AUTO)
        out->factorization = out->precision == SMNN_PRECISION_SINGLE ? SMNN_FACTORIZATION_QR
                                                                     : SMNN_FACTORIZATION_CHOLESKY;
    if (out->refine_steps < 0) {
        if (out->factorization == SMNN_FACTORIZATION_QR)
            out->refine_steps = 1;
        else
            out->refine_steps = out->precision == SMNN_PRECISION_SINGLE ? 2 : 0;
    }
    return SMNN_SUCCESS;
}

/* ---- Program shapes ----------------------------------------------------------------------- */

static const int private_ladder[] = {4, 8, 16, 32, 64};
static const int local_ladder[] = {16, 32, 64};
#define LADDER_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE of the context's device: doubles per vector register
 * (PoCL: 4 on AVX2, 8 on AVX-512); 0 when unknown (no device, or the query fails). */
static cl_uint native_double_width(smnn_context *ctx) {
    cl_uint w = 0;
    if (!ctx->device || clGetDeviceInfo(ctx->device, CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE,
                                        sizeof w, &w, NULL) != CL_SUCCESS)
        return 0;
    return w;
}

smnn_status smnn__kernel_shape_for(smnn_context *ctx, const smnn_problem *p,
                                   const smnn_plan_options *opt, smnn__kernel_shape *shape) {
    size_t n = p->dims * p->orders;
    /* A partitioned plan's lanes are (system, time chunk) pairs (opt->time_chunks resolved). */
    const int parts = opt->time_chunks > 1 ? opt->time_chunks : 1;
    const size_t lanes = p->batch * (size_t)parts;
    smnn_variant v = opt->variant;
    if (v == SMNN_VARIANT_AUTO)
        v = parts > 1 ? SMNN_VARIANT_PRIVATE : smnn_variant_choose(&ctx->info, n, lanes);
    if (parts > 1 && (v != SMNN_VARIANT_PRIVATE ||
                      opt->factorization != SMNN_FACTORIZATION_CHOLESKY))
        return FAIL(ctx, SMNN_ERROR_UNSUPPORTED,
                    "options.time_chunks = %d: the partitioned walk exists for the private "
                    "variant with the Cholesky factorization only (this plan: %s variant, %s); "
                    "use time_chunks = 1 or those options", parts, smnn_variant_name(v),
                    smnn_factorization_name(opt->factorization));
    const int *ladder = v == SMNN_VARIANT_PRIVATE ? private_ladder : local_ladder;
    int steps = v == SMNN_VARIANT_PRIVATE ? LADDER_LEN(private_ladder) : LADDER_LEN(local_ladder);
    int nmax = 0;
    for (int i = 0; i < steps; i++) {
        if ((size_t)ladder[i] >= n) {
            nmax = ladder[i];
            break;
        }
    }
    if (!nmax)
        return FAIL(ctx, SMNN_ERROR_UNSUPPORTED,
                    "block size n = dims * orders = %zu exceeds the %s variant's maximum of %d", n,
                    smnn_variant_name(v), ladder[steps - 1]);
    int wg = nmax;
    if (v == SMNN_VARIANT_LOCAL) {
        if ((size_t)wg > ctx->info.max_work_group_size) wg = (int)ctx->info.max_work_group_size;
        size_t elem = opt->precision == SMNN_PRECISION_DOUBLE ? 8 : 4;
        size_t reals = (size_t)SMNN_LOCAL_REALS(nmax);
        if (opt->factorization == SMNN_FACTORIZATION_QR &&
            (size_t)SMNN_QR_LOCAL_REALS(nmax) > reals)
            reals = (size_t)SMNN_QR_LOCAL_REALS(nmax);
        size_t local = reals * elem + SMNN_LOCAL_EXTRA_BYTES;
        if (local > ctx->info.local_mem_bytes)
            return FAIL(ctx, SMNN_ERROR_UNSUPPORTED,
                        "the local variant for n = %zu needs %zu bytes of local memory; device "
                        "'%s' has %llu", n, local, ctx->info.device_name,
                        (unsigned long long)ctx->info.local_mem_bytes);
    }
    shape->variant = v;
    shape->factorization = opt->factorization;
    shape->nmax = nmax;
    shape->wg = wg;
    shape->vw = 1;
    if (v == SMNN_VARIANT_PRIVATE)
        shape->vw = opt->systems_per_item ? opt->systems_per_item
                                          : table_width(&ctx->info, v, n, lanes,
                                                        opt->precision);
    shape->time_lanes = parts > 1;
    /* Unrolled blocks and inlined helpers (bench/RESULTS.md, optimisation log entry 13): in
     * double precision on PoCL's CPU device, where they were measured. Single precision keeps
     * calls and loops: inlined, its kernels rounded differently, enough to move the refinement's
     * results across test bounds (population growth, 8 refinement steps: 4.0e-3 from the double
     * solution against the bound 1e-3). Other devices keep them too: the GPU compilers' register
     * allocation of them is not measured (smnn-gpu-compile showed spills on gfx90a at n = 3),
     * and Oclgrind cannot run inlined code (it lacks the llvm.experimental.noalias.scope.decl
     * intrinsic that inlining adds). */
    shape->blocks_in_registers = opt->precision == SMNN_PRECISION_DOUBLE && ctx->info.is_cpu &&
                                 smnn__device_is_pocl(&ctx->info);
    /* The back substitution in the forward walks' work-items (bench/RESULTS.md, optimisation
     * log entry 15): in double precision on PoCL's CPU device, where it was measured (B = 1536:
     * forward 0.82-0.90x, frozen solve 0.72x at T = 500). Elsewhere the kernels stay apart:
     * single precision and GPUs are not measured, and Mesa's llvmpipe compiles the larger
     * kernels minutes longer (CI's Rusticl pass: 2 -> 5.6 minutes). */
    shape->then_back = v == SMNN_VARIANT_PRIVATE && !shape->time_lanes &&
                       shape->blocks_in_registers;
    /* The compact record with the reciprocal diagonal (bench/RESULTS.md, optimisation log entry
     * 16): where the back substitution runs in the walks, for Cholesky plans (the QR
     * factorization writes K_t = S_t^T). Measured at 0.59-0.97x the full record's time over
     * n = 3..32 (forward, frozen solve, forward + backward), with 10 reals per point instead
     * of 18 at n = 3. */
    shape->compact = shape->then_back && shape->factorization == SMNN_FACTORIZATION_CHOLESKY;
    /* Register tiles of the updates in blocks that stay loops (bench/RESULTS.md, optimisation
     * log entries 18 and 22): 4 x 4 tiles keep 16 sums of vw systems; where the device's native
     * double vector is narrower than vw (PoCL on AVX2: 4 doubles against vw = 8), each sum takes
     * two registers or more, the tile spills, and 2 x 2 tiles measured 0.85-0.99x its time
     * (n = 12 to 32, medians of seven rounds). The 4 x 4 tiles stay where they were measured
     * (AVX-512, vw = 8). $SMNN_SMALL_TILES = "1" / "0" overrides for private programs (the
     * results are the same bit for bit either way). */
    shape->small_tiles = 0;
    if (v == SMNN_VARIANT_PRIVATE) {
        const int forced = env_switch("SMNN_SMALL_TILES");
        const cl_uint native = native_double_width(ctx);
        shape->small_tiles = forced >= 0 ? forced
                                         : shape->blocks_in_registers && native > 0 &&
                                               (cl_uint)shape->vw > native;
    }
    shape->dims = shape->orders = shape->equations = 0;
    if (!opt->generic_kernels) {
        /* Specialise the program for this block shape: the loops over the block unroll. */
        shape->dims = (int)p->dims;
        shape->orders = (int)p->orders;
        shape->equations = (int)p->equations;
        if (v == SMNN_VARIANT_PRIVATE) shape->nmax = (int)n;
    }
    return SMNN_SUCCESS;
}

int smnn__fused_backward(const smnn__kernel_shape *shape, size_t steps) {
    /* The fused walk keeps lambda_t, y_t and a step's inputs in registers instead of a round trip
     * of lambda through memory, but holds more blocks at once. Measured (bench/RESULTS.md,
     * optimisation log entry 14; B = 1536, T = 50, double on PoCL, two interleaved rounds) at
     * 0.65-1.07x the time of the two kernels apart for n = 1 to 16, where the program keeps its
     * blocks in registers (inlined helpers; unrolled loops up to n = 9), results byte-identical;
     * n = 32 a tie (1.12, 0.97). With calls and loops (single precision, other drivers) it lost:
     * entry 10, 1.76 ms at n = 3 against 0.39 + 0.96 ms apart. GPUs are yet to measure.
     * Since the compact record and the tiles (entries 16-19) the blocks above n = 9, which stay
     * loops, ran faster apart: n = 12 0.84-0.98x, n = 16 0.85-0.95x the fused time, three
     * rounds each on an AVX2 CPU (entry 21). Once rows of four moved with one vector access per
     * lane (entry 25), which made the gradient kernel apart cheaper, apart also won at n = 6, 8
     * and 9 (0.86-0.93x the fused time, B = 1536, T = 50, three rounds, each round the same
     * way), while n = 2 to 5 stayed ties or went the fused way there (n = 2 1.25x, n = 3 1.03x
     * the fused time apart, medians of six rounds, both passes in each process). Over T the
     * fused walk lost: n = 3 apart at 0.84x its time at T = 100, 200 and 500 and 0.70x at T =
     * 1e4; n = 2 a tie at T = 100, 0.88x at 500. So the fused pass is the default for blocks of
     * at most 5 and T <= 50. $SMNN_FUSED_BACKWARD = "1" / "0" overrides. */
    if (shape->variant != SMNN_VARIANT_PRIVATE) return 0;
    const int env = env_switch("SMNN_FUSED_BACKWARD");
    if (env >= 0) return env;
    return shape->blocks_in_registers && shape->nmax <= 5 && steps <= 50;
}

/* Appends printf-style text at buf + *used (len bytes in all); *used becomes -1, and nothing more
 * is appended, once the text does not fit or fails to format. */
static void append(char *buf, size_t len, int *used, const char *fmt, ...) {
    if (*used < 0 || (size_t)*used >= len) return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + *used, len - (size_t)*used, fmt, ap);
    va_end(ap);
    *used = m >= 0 ? *used + m : -1;
}

void smnn__shape_defines(const smnn__kernel_shape *shape, char *buf, size_t len) {
    int used = 0;
    append(buf, len, &used, "-DSMNN_VARIANT=%d -DSMNN_FACTOR=%d -DNMAX=%d -DWG=%d -DVW=%d",
           (int)shape->variant, (int)shape->factorization, shape->nmax, shape->wg, shape->vw);
    if (shape->dims > 0)
        append(buf, len, &used, " -DNFIX=%d -DVFIX=%d -DR1FIX=%d -DQFIX=%d",
               shape->dims * shape->orders, shape->dims, shape->orders, shape->equations);
    if (shape->time_lanes) append(buf, len, &used, " -DSMNN_TIME_LANES=1");
    if (shape->blocks_in_registers) append(buf, len, &used, " -DSMNN_BLOCKS_IN_REGISTERS=1");
    if (shape->then_back) append(buf, len, &used, " -DSMNN_THEN_BACK=1");
    if (shape->compact) append(buf, len, &used, " -DSMNN_COMPACT=1");
    if (shape->small_tiles) append(buf, len, &used, " -DSMNN_SMALL_TILES=1");
}

/* What the driver says of the local variant's kernels in prog: the smallest
 * CL_KERNEL_WORK_GROUP_SIZE and the largest CL_KERNEL_LOCAL_MEM_SIZE (both 0 on error). */
static void local_kernels_limits(smnn_context *ctx, const smnn__kernel_shape *shape,
                                 cl_program prog, size_t *wg_limit, cl_ulong *local_bytes) {
    const char *names[] = {shape->factorization == SMNN_FACTORIZATION_QR ? "smnn_factor_qr_local"
                                                                          : "smnn_factor_local",
                           "smnn_forward_substitute_local", "smnn_back_substitute_local"};
    *wg_limit = SIZE_MAX;
    *local_bytes = 0;
    for (int i = 0; i < 3; i++) {
        cl_int err;
        cl_kernel k = clCreateKernel(prog, names[i], &err);
        size_t wg = 0;
        cl_ulong lm = 0;
        if (k) {
            err = clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg,
                                           &wg, NULL);
            if (err == CL_SUCCESS)
                err = clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_LOCAL_MEM_SIZE,
                                               sizeof lm, &lm, NULL);
            clReleaseKernel(k);
        }
        if (!k || err != CL_SUCCESS) {
            *wg_limit = 0;
            *local_bytes = 0;
            return;
        }
        if (wg < *wg_limit) *wg_limit = wg;
        if (lm > *local_bytes) *local_bytes = lm;
    }
}

smnn_status smnn__shape_program(smnn_context *ctx, smnn_precision precision,
                                smnn__kernel_shape *shape, cl_program *program) {
    char extra[SMNN__SHAPE_DEFINES_LEN];
    smnn__shape_defines(shape, extra, sizeof extra);
    FORWARD_IF_ERROR(smnn__kernels_program(ctx, precision, extra, program));
    if (shape->variant != SMNN_VARIANT_LOCAL || !ctx->device) return SMNN_SUCCESS;
    /* The driver's own account of the local kernels can differ from ours (llvmpipe: work-groups
     * of at most 32, and 33,800 bytes of local memory for a 17,168-byte request at n = 64 in
     * single precision, beyond its 32 KiB; run anyway, they computed garbage). A kernel whose
     * local memory exceeds the device's is refused; a smaller work-group limit is met by
     * rebuilding with the largest power of two it allows (the kernels loop over rows in steps
     * of WG, so any size works). */
    size_t limit;
    cl_ulong local_bytes;
    local_kernels_limits(ctx, shape, *program, &limit, &local_bytes);
    if (local_bytes > ctx->info.local_mem_bytes)
        return FAIL(ctx, SMNN_ERROR_UNSUPPORTED,
                    "the local variant's kernels for this block need %llu bytes of local memory "
                    "on device '%s', which has %llu", (unsigned long long)local_bytes,
                    ctx->info.device_name, (unsigned long long)ctx->info.local_mem_bytes);
    if (limit == 0 || limit >= (size_t)shape->wg) return SMNN_SUCCESS;
    int wg = 1;
    while ((size_t)wg * 2 <= limit) wg *= 2;
    shape->wg = wg;
    smnn__shape_defines(shape, extra, sizeof extra);
    return smnn__kernels_program(ctx, precision, extra, program);
}
