/* Parallel in time on the host (solver.h "Parallel in time"): the automatic number of time
 * chunks, the caller's checked against T, and the size of the partitioned workspace. The kernels
 * are cl/partition.cl; enqueue.c launches them in place of the sequential walk's. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "solver_internal.h"

/* The shortest chunk the automatic rule makes: below it the separators' share of the work (a
 * reduced walk step per chunk, sequential per system) stops being small. */
#define MIN_CHUNK 32

size_t smnn_time_chunks_choose(const smnn_device_info *dev, size_t n, size_t batch, size_t steps,
                               smnn_precision prec) {
    /* Single precision stays sequential: on the ill-conditioned ODEs of the tests the
     * partitioned float factorization is a weaker preconditioner for the refinement (population
     * growth, T = 1000, 8 steps: 2.0e-2 from the double solution against 9.5e-4 sequential). */
    if (!dev || prec != SMNN_PRECISION_DOUBLE || batch == 0 || n == 0 || n > 64 ||
        steps < 2 * MIN_CHUNK + 1)
        return 1;
    size_t units = dev->compute_units > 0 ? (size_t)dev->compute_units : 1;
    /* CPUs: one vector of 8 lanes per compute unit (B = 16 on 2 cores runs at 51 ns per
     * system and point sequentially, 79 with P = 4; B = 1, T = 1e6: P = 16 at 65-79 ns per
     * point, P = 64 at 72-85). Other devices: 256 work-items per compute unit. */
    size_t want = dev->is_cpu ? units * 8 : 256 * units;
    if (batch >= want) return 1;
    size_t parts = (want + batch - 1) / batch;
    size_t by_length = steps / MIN_CHUNK;
    size_t by_separators = (size_t)(2.0 * sqrt((double)steps));
    if (parts > by_length) parts = by_length;
    if (parts > by_separators) parts = by_separators;
    if (parts > INT32_MAX / batch) parts = INT32_MAX / batch;
    return parts < 2 ? 1 : parts;
}

smnn_status smnn__time_chunks_resolve(smnn_context *ctx, const smnn_problem *p,
                                      const smnn_plan_options *opt, int *parts) {
    const size_t T = p->steps, n = p->dims * p->orders;
    if (opt->time_chunks == 0) {
        /* Automatic: the rule, or $SMNN_TIME_CHUNKS (a whole number, at most (T + 1) / 2), for
         * plans that can run it; others stay sequential. */
        *parts = 1;
        if (opt->factorization != SMNN_FACTORIZATION_CHOLESKY ||
            opt->variant == SMNN_VARIANT_LOCAL || n > 64)
            return SMNN_SUCCESS;
        const char *env = getenv("SMNN_TIME_CHUNKS");
        char *end = NULL;
        unsigned long long v = env && *env && *env != '-' ? strtoull(env, &end, 10) : 0;
        if (end && !*end && v > 0) {
            size_t cap = (T + 1) / 2, lanes = INT32_MAX / p->batch;
            if (cap > lanes) cap = lanes;
            *parts = (int)(v < cap ? v : cap < 1 ? 1 : cap);
        } else {
            *parts = (int)smnn_time_chunks_choose(&ctx->info, n, p->batch, T, opt->precision);
        }
        return SMNN_SUCCESS;
    }
    if (opt->time_chunks > 1 && (size_t)opt->time_chunks > (T + 1) / 2)
        return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                    "options.time_chunks = %d: %zu time points hold at most %zu chunks (each "
                    "needs an interior point, and P - 1 points separate them)",
                    opt->time_chunks, T, (T + 1) / 2);
    if ((size_t)opt->time_chunks > INT32_MAX / p->batch)
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE,
                    "options.time_chunks = %d with batch %zu: more (system, chunk) lanes than "
                    "the kernels count", opt->time_chunks, p->batch);
    *parts = opt->time_chunks;
    return SMNN_SUCCESS;
}

size_t smnn__partition_reals(size_t n, size_t steps, int parts, int compact) {
    size_t rec = compact ? SMNN_REC_COMPACT(n) : SMNN_REC(n);
    if (parts <= 1) return smnn__mul_overflows(rec, steps, &steps) ? 0 : steps;
    size_t P = (size_t)parts, inner = steps - (P - 1);
    size_t longest = inner / P + (inner % P > 0);
    size_t chunks, bnd, seps, total;
    if (smnn__mul_overflows(P, longest, &chunks) ||
        smnn__mul_overflows(chunks, SMNN_PREC(n), &chunks) ||
        smnn__mul_overflows(P, SMNN_BREC(n) + 1, &bnd) ||
        smnn__mul_overflows(P - 1, SMNN_REC(n), &seps))
        return 0;
    total = chunks + bnd;
    if (total < chunks || total + seps < total) return 0;
    return total + seps;
}

size_t smnn__partition_chunk_reals(size_t n, size_t steps, int parts, size_t bcap, size_t vw) {
    size_t P = (size_t)parts, inner = steps - (P - 1);
    size_t longest = inner / P + (inner % P > 0);
    size_t lanes, seps, chunks, bnd, sep, total;
    if (smnn__mul_overflows(bcap, P, &lanes) || lanes > SIZE_MAX - vw) return 0;
    lanes = (lanes + vw - 1) / vw * vw;
    seps = (bcap + vw - 1) / vw * vw;
    if (smnn__mul_overflows(lanes, longest, &chunks) ||
        smnn__mul_overflows(chunks, SMNN_PREC(n), &chunks) ||
        smnn__mul_overflows(lanes, SMNN_BREC(n) + 1, &bnd) ||
        smnn__mul_overflows(seps, P - 1, &sep) || smnn__mul_overflows(sep, SMNN_REC(n), &sep))
        return 0;
    total = chunks + bnd;
    if (total < chunks || total + sep < total) return 0;
    return total + sep;
}
