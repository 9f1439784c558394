/* The variant rule, the tuning table and the compile-time shapes of the kernel programs.
 *
 * PRIVATE (the whole block of one or several systems per work-item) wins whenever the blocks fit
 * in registers or cache: n <= 8 on every device, and on CPUs every n <= 64 once the batch fills a
 * vector of systems. Otherwise one work-group per system (LOCAL) keeps the pivot block in local
 * memory and spreads each block operation over its rows (the GPU choice for n > 8). Generic
 * programs are compiled for a block capacity NMAX from a short ladder (private 4 .. 64, local 16,
 * 32, 64); plans specialise them for their exact block shape. */
#include <stdio.h>
#include <stdlib.h>

#include "solver_internal.h"

smnn_variant smnn_variant_choose(const smnn_device_info *dev, size_t n, size_t batch) {
    if (n <= 8) return SMNN_VARIANT_PRIVATE;
    if (dev && dev->is_cpu) {
        /* On CPUs private memory is cache and vector lanes carry systems: with a full vector of
         * systems the private variant wins at every block size (n = 32: 2.2 us per system-step
         * against 13.2 us for the local variant and 6.6 us for LAPACK; n = 64: 15.6 us against
         * 104 us). Below a vector's worth of systems, blocks up to 16 still run well one system
         * per work-item; larger ones go to the local variant. */
        if (n <= 16 || batch >= 8) return SMNN_VARIANT_PRIVATE;
    }
    return SMNN_VARIANT_LOCAL;
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

/* The tuning table: systems per work-item of the private variant, by device kind. CPU drivers
 * do not vectorise across work-items, so there each work-item takes one vector of systems
 * (double8 measured 7.7x faster than scalar on PoCL, see bench/RESULTS.md); GPUs keep one system
 * per work-item. SMNN_SYSTEMS_PER_ITEM (1, 2, 4, 8 or 16) overrides it. */
static int systems_per_item(const smnn_device_info *dev, size_t batch) {
    const char *env = getenv("SMNN_SYSTEMS_PER_ITEM");
    if (env && *env) {
        int v = atoi(env);
        if (v == 1 || v == 2 || v == 4 || v == 8 || v == 16) return v;
    }
    /* A batch smaller than one vector would only fill lanes with copies (B = 1, T = 1e5:
     * 218 ns per step with 8 lanes, 138 with one). */
    if (dev->is_cpu && batch >= 8) return 8;
    return 1;
}

static const int private_ladder[] = {4, 8, 16, 32, 64};
static const int local_ladder[] = {16, 32, 64};
#define LADDER_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

smnn_status smnn__kernel_shape_for(smnn_context *ctx, smnn_variant v, size_t n, size_t batch,
                                   smnn_precision precision, smnn__kernel_shape *shape) {
    if (v == SMNN_VARIANT_AUTO) v = smnn_variant_choose(&ctx->info, n, batch);
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
        size_t elem = precision == SMNN_PRECISION_DOUBLE ? 8 : 4;
        size_t local = (size_t)nmax * nmax * elem + 2 * (size_t)nmax * elem + 16;
        if (local > ctx->info.local_mem_bytes)
            return FAIL(ctx, SMNN_ERROR_UNSUPPORTED,
                        "the local variant for n = %zu needs %zu bytes of local memory; device "
                        "'%s' has %llu", n, local, ctx->info.device_name,
                        (unsigned long long)ctx->info.local_mem_bytes);
    }
    shape->variant = v;
    shape->nmax = nmax;
    shape->wg = wg;
    shape->vw = v == SMNN_VARIANT_PRIVATE ? systems_per_item(&ctx->info, batch) : 1;
    shape->dims = shape->orders = shape->equations = 0;
    return SMNN_SUCCESS;
}

smnn_status smnn__shape_program(smnn_context *ctx, smnn_precision precision,
                                const smnn__kernel_shape *shape, cl_program *program) {
    char extra[160];
    int n = snprintf(extra, sizeof extra, "-DSMNN_VARIANT=%d -DNMAX=%d -DWG=%d -DVW=%d",
                     (int)shape->variant, shape->nmax, shape->wg, shape->vw);
    if (shape->dims > 0 && n > 0 && (size_t)n < sizeof extra)
        snprintf(extra + n, sizeof extra - (size_t)n, " -DNFIX=%d -DVFIX=%d -DR1FIX=%d -DQFIX=%d",
                 shape->dims * shape->orders, shape->dims, shape->orders, shape->equations);
    return smnn__kernels_program(ctx, precision, extra, program);
}

smnn_status smnn_context_build_all(smnn_context *ctx, int precision) {
    smnn__clear_error();
    if (!ctx) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'ctx' is NULL");
    for (int v = SMNN_VARIANT_PRIVATE; v <= SMNN_VARIANT_LOCAL; v++) {
        const int *ladder = v == SMNN_VARIANT_PRIVATE ? private_ladder : local_ladder;
        int steps = v == SMNN_VARIANT_PRIVATE ? LADDER_LEN(private_ladder) : LADDER_LEN(local_ladder);
        for (int i = 0; i < steps; i++) {
            smnn__kernel_shape shape;
            smnn_status st = smnn__kernel_shape_for(ctx, (smnn_variant)v, (size_t)ladder[i], 1024,
                                                    (smnn_precision)precision, &shape);
            if (st == SMNN_ERROR_UNSUPPORTED && v == SMNN_VARIANT_LOCAL) {
                smnn__clear_error(); /* this device cannot hold that block: nothing to build */
                continue;
            }
            FORWARD_IF_ERROR(st);
            cl_program prog;
            FORWARD_IF_ERROR(smnn__shape_program(ctx, (smnn_precision)precision, &shape, &prog));
        }
    }
    return SMNN_SUCCESS;
}
