/* Fuzz target: problem validation, the element counts and input layouts derived from it, and the
 * validation and resolution of plan options, with every field of smnn_problem and of
 * smnn_plan_options taken from the input (sizes up to 2^40, any weights, flags, precisions,
 * variants, widths, struct sizes older, newer and wrong). Options are resolved as
 * smnn_plan_create resolves them (smnn__options_resolve), since a plan needs a device.
 *
 * Input layout (little-endian, missing bytes read as 0): seven 5-byte sizes, three doubles,
 * precision (1), shared (2), variant (1), problem struct_size selector (1); then refine_steps,
 * systems_per_item, generic_kernels (1 signed byte each), max_alloc_bytes (8) and the options
 * struct_size selector (1). The seed corpus of the first version (64 bytes) keeps its meaning. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smnn/smnn.h>

#include "internal.h"
#include "solver/solver_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take(const uint8_t **p, size_t *left, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes && *left; i++, (*p)++, (*left)--) v |= (uint64_t)**p << (8 * i);
    return v;
}

static double take_double(const uint8_t **p, size_t *left) {
    uint64_t bits = take(p, left, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* A valid problem's layouts agree with the counts and address exactly their elements. */
static void check_layouts(const smnn_problem *pr) {
    size_t counts[4] = {smnn_problem_c_count(pr), smnn_problem_d_count(pr),
                        smnn_problem_u_count(pr), smnn_problem_s_count(pr)};
    for (int i = 0; i < 4; i++) {
        smnn_layout L;
        if (smnn_problem_layout(pr, (smnn_input)i, &L) != SMNN_SUCCESS) abort();
        if (L.count != counts[i] || L.rank < 2 || L.rank > 5) abort();
        size_t prod = 1;
        for (size_t k = 0; k < L.rank; k++) prod *= L.shape[k];
        if (prod != L.count || L.full_batch != pr->batch) abort();
        size_t last =
            (L.full_batch - 1) * L.batch_stride + (L.full_time - 1) * L.time_stride + L.row;
        if (last != L.count) abort();
        if ((L.shared_batch && L.batch_stride) || (L.shared_time && L.time_stride)) abort();
    }
}

/* Resolves options as plan creation does and checks what comes out. */
static void check_options(const smnn_plan_options *opt) {
    smnn_plan_options out;
    smnn_status st = smnn__options_resolve(NULL, opt, &out);
    if (st != SMNN_SUCCESS) {
        /* Every refusal is an invalid argument naming an options field. */
        if (st != SMNN_ERROR_INVALID_ARGUMENT || !strstr(smnn_last_error(), "options.")) abort();
        return;
    }
    if (out.struct_size != sizeof out) abort();
    if (out.precision != SMNN_PRECISION_DOUBLE && out.precision != SMNN_PRECISION_SINGLE) abort();
    if ((unsigned)out.variant > SMNN_VARIANT_LOCAL) abort();
    if (out.refine_steps < 0 || out.refine_steps > 10) abort(); /* automatic is resolved */
    int w = out.systems_per_item;
    if (!(w == 0 || w == 1 || w == 2 || w == 4 || w == 8 || w == 16)) abort();
    if (out.generic_kernels != 0 && out.generic_kernels != 1) abort();
    /* The fields a smaller (older) struct lacks take their defaults, whatever lies beyond it
     * (the environment overrides are cleared below). */
    if (opt->struct_size < offsetof(smnn_plan_options, systems_per_item) + sizeof(int) &&
        (out.systems_per_item != 0 || out.generic_kernels != 0 || out.max_alloc_bytes != 0))
        abort();
    if (opt->struct_size == sizeof *opt && (out.systems_per_item != opt->systems_per_item ||
                                            out.max_alloc_bytes != opt->max_alloc_bytes))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int cleared;
    if (!cleared) {
        unsetenv("SMNN_SYSTEMS_PER_ITEM");
        unsetenv("SMNN_GENERIC_KERNELS");
        unsetenv("SMNN_MAX_ALLOC_BYTES");
        cleared = 1;
    }
    const uint8_t *p = data;
    size_t left = size;
    smnn_problem pr;
    smnn_problem_init(&pr);
    size_t *fields[] = {&pr.batch, &pr.steps, &pr.dims, &pr.orders, &pr.equations,
                        &pr.init_steps, &pr.init_orders};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        *fields[i] = (size_t)(take(&p, &left, 5) & ((UINT64_C(1) << 40) - 1));
    pr.w_gov = take_double(&p, &left);
    pr.w_init = take_double(&p, &left);
    pr.w_smooth = take_double(&p, &left);
    smnn_plan_options opt;
    smnn_plan_options_init(&opt);
    opt.precision = (smnn_precision)(int)take(&p, &left, 1);
    pr.shared = (unsigned)take(&p, &left, 2);
    opt.variant = (smnn_variant)(int)take(&p, &left, 1);
    switch (take(&p, &left, 1)) {
    case 0xff: pr.struct_size = 0; break;
    case 0xfe: pr.struct_size = SMNN__PROBLEM_MIN_SIZE; break;
    case 0xfd: pr.struct_size = sizeof pr + 8; break;
    case 0xfc: pr.struct_size = SMNN__PROBLEM_MIN_SIZE - 1; break;
    default: break;
    }
    opt.refine_steps = (int8_t)take(&p, &left, 1);
    opt.systems_per_item = (int8_t)take(&p, &left, 1);
    opt.generic_kernels = (int8_t)take(&p, &left, 1);
    opt.max_alloc_bytes = (size_t)take(&p, &left, 8);
    switch (take(&p, &left, 1) % 5) {
    case 1: opt.struct_size = offsetof(smnn_plan_options, refine_steps) + sizeof(int); break;
    case 2: opt.struct_size = sizeof(size_t); break;
    case 3: opt.struct_size = sizeof opt + 8; break;
    case 4: opt.struct_size = (size_t)take(&p, &left, 1); break;
    default: break;
    }

    smnn_status st = smnn_problem_validate(&pr);
    size_t counts[5] = {smnn_problem_c_count(&pr), smnn_problem_d_count(&pr),
                        smnn_problem_u_count(&pr), smnn_problem_s_count(&pr),
                        smnn_problem_y_count(&pr)};
    if (st == SMNN_SUCCESS) {
        /* A valid problem has positive, consistent counts and finite positive weights. */
        for (int i = 0; i < 5; i++)
            if (counts[i] == 0) abort();
        if (counts[4] != pr.batch * pr.steps * pr.dims * pr.orders) abort();
        if (!(pr.w_gov > 0) || !isfinite(pr.w_gov) || pr.init_steps > pr.steps) abort();
        check_layouts(&pr);
        (void)smnn_reference_bytes(&pr);
    } else if (smnn_status_name(st)[0] == '\0' || smnn_last_error()[0] == '\0') {
        abort(); /* every refusal names its reason */
    } else {
        smnn_layout L;
        if (smnn_problem_layout(&pr, SMNN_INPUT_C, &L) == SMNN_SUCCESS) abort();
    }
    check_options(&opt);
    return 0;
}
