/* One batch over several devices (multi.h) against one device: the batch split over two and four
 * sub-devices of the test device (PoCL's CPU device reports $POCL_MAX_PTHREAD_COUNT compute
 * units; this test sets 4 unless the caller set it) and over two contexts on the same device,
 * with uneven batches, a batch smaller than the number of devices, shared inputs, variable
 * steps, frozen solves and gradients: results must be bit-identical to one plan over the whole
 * batch on the test device. A failing system is reported with its global index; a failing
 * device (injected through link-time wrapping of clEnqueueNDRangeKernel and clCreateBuffer)
 * fails the whole call naming the part, and leaves every output untouched. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- Fault injection: every launch on one queue, or every buffer on one context, fails. ---- */

static cl_command_queue fail_queue;
static cl_context fail_context;

cl_int __real_clEnqueueNDRangeKernel(cl_command_queue, cl_kernel, cl_uint, const size_t *,
                                     const size_t *, const size_t *, cl_uint, const cl_event *,
                                     cl_event *);
cl_int __wrap_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim,
                                     const size_t *off, const size_t *global, const size_t *local,
                                     cl_uint nw, const cl_event *wl, cl_event *ev) {
    if (fail_queue && q == fail_queue) return CL_OUT_OF_RESOURCES;
    return __real_clEnqueueNDRangeKernel(q, k, dim, off, global, local, nw, wl, ev);
}

cl_mem __real_clCreateBuffer(cl_context, cl_mem_flags, size_t, void *, cl_int *);
cl_mem __wrap_clCreateBuffer(cl_context c, cl_mem_flags fl, size_t size, void *host, cl_int *err) {
    if (fail_context && c == fail_context) {
        if (err) *err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
        return NULL;
    }
    return __real_clCreateBuffer(c, fl, size, host, err);
}

/* ---- Device sets ---------------------------------------------------------------------------- */

/* The default device named twice ("P:D,P:D"): two contexts on one device. */
static const char *twice_spec(void) {
    static char spec[64];
    const smnn_device_info *d = smnn_context_device(test_context());
    snprintf(spec, sizeof spec, "%u:%u,%u:%u", d->platform_index, d->device_index,
             d->platform_index, d->device_index);
    return spec;
}

/* Contexts for `devices`; 0 (after saying why) when the device cannot be split that way. */
static int make_contexts(const char *devices, smnn_context ***ctxs, size_t *n) {
    smnn_status st = smnn_contexts_create(devices, ctxs, n);
    if (st == SMNN_ERROR_UNSUPPORTED || (st == SMNN_ERROR_INVALID_ARGUMENT &&
                                         strstr(smnn_last_error(), "compute units"))) {
        fprintf(stderr, "# skipped '%s': %s\n", devices, smnn_last_error());
        return 0;
    }
    assert_status(st, SMNN_SUCCESS);
    return 1;
}

/* ---- Comparisons ------------------------------------------------------------------------- */

/* Bit-identical, NaN payloads aside (both sides' NaN where one side has one). */
static void assert_identical(const double *a, const double *b, size_t n, const char *what,
                             const char *where) {
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) && isnan(b[i])) continue;
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0)
            fail_msg("%s, %s: element %zu differs: %.17g (multi) vs %.17g (one device)", where,
                     what, i, a[i], b[i]);
    }
}

/* The shapes: uneven batches, shared inputs, a batch smaller than the number of devices. */
#define SC(x) SMNN_SHARE_##x
static const test_case cases[] = {
    {37, 9, 2, 3, 2, 2, 0, 0, SMNN_VARIANT_AUTO},
    {29, 7, 1, 3, 1, 1, 1, SC(C_BATCH) | SC(C_TIME) | SC(S_BATCH) | SC(D_BATCH),
     SMNN_VARIANT_AUTO},
    {3, 6, 2, 2, 2, 2, 1, SC(U_BATCH) | SC(S_TIME), SMNN_VARIANT_AUTO},
    {21, 5, 2, 2, 1, 1, 0, SC(C_TIME) | SC(D_TIME) | SC(U_BATCH), SMNN_VARIANT_LOCAL},
};
#define NCASES (sizeof cases / sizeof cases[0])

typedef struct outputs {
    double *y, *yf, *g[4];
    smnn_status st_solve;
} outputs;

static void outputs_alloc(const smnn_problem *p, outputs *o) {
    size_t ny = smnn_problem_y_count(p);
    size_t cnt[4] = {smnn_problem_c_count(p), smnn_problem_d_count(p), smnn_problem_u_count(p),
                     smnn_problem_s_count(p)};
    o->y = malloc(ny * sizeof(double));
    o->yf = malloc(ny * sizeof(double));
    for (int k = 0; k < 4; k++) o->g[k] = malloc(cnt[k] * sizeof(double));
}

static void outputs_free(outputs *o) {
    free(o->y);
    free(o->yf);
    for (int k = 0; k < 4; k++) free(o->g[k]);
}

/* Solve, factor + frozen solve with another d, backward: on one plan over the whole batch. */
static void run_single(const smnn_problem *p, const smnn_plan_options *opt, const test_inputs *in,
                       const double *d2, const double *gy, outputs *o) {
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), p, opt, &plan), SMNN_SUCCESS);
    assert_status(smnn_factor(plan, in->c, in->s), SMNN_SUCCESS);
    assert_status(smnn_solve_frozen(plan, in->c, d2, in->u, o->yf), SMNN_SUCCESS);
    o->st_solve = smnn_solve(plan, in->c, in->d, in->u, in->s, o->y);
    assert_status(smnn_backward(plan, in->c, in->d, in->s, o->y, gy, o->g[0], o->g[1], o->g[2],
                                o->g[3]),
                  o->st_solve);
    smnn_plan_free(plan);
}

/* The same on a multi plan. */
static void run_multi(smnn_context **ctxs, size_t n, smnn_split split, const smnn_problem *p,
                      const smnn_plan_options *opt, const test_inputs *in, const double *d2,
                      const double *gy, outputs *o) {
    smnn_multi_options mo;
    smnn_multi_options_init(&mo);
    mo.split = split;
    smnn_multi_plan *mp = NULL;
    assert_status(smnn_multi_plan_create(ctxs, n, p, opt, &mo, &mp), SMNN_SUCCESS);
    /* The parts tile the batch in order. */
    assert_int_equal(smnn_multi_plan_parts(mp), n);
    size_t next = 0;
    for (size_t i = 0; i < n; i++) {
        smnn_multi_part part;
        assert_status(smnn_multi_plan_part(mp, i, &part), SMNN_SUCCESS);
        assert_int_equal(part.first, next);
        assert_true((part.count == 0) == (part.plan == NULL));
        if (split == SMNN_SPLIT_MEASURED && n > 1) assert_true(part.throughput > 0);
        next += part.count;
    }
    assert_int_equal(next, p->batch);
    assert_status(smnn_multi_factor(mp, in->c, in->s), SMNN_SUCCESS);
    assert_status(smnn_multi_solve_frozen(mp, in->c, d2, in->u, o->yf), SMNN_SUCCESS);
    o->st_solve = smnn_multi_solve(mp, in->c, in->d, in->u, in->s, o->y);
    assert_status(smnn_multi_backward(mp, in->c, in->d, in->s, o->y, gy, o->g[0], o->g[1],
                                      o->g[2], o->g[3]),
                  o->st_solve);
    smnn_multi_plan_free(mp);
}

static void compare(const smnn_problem *p, const outputs *a, const outputs *b, const char *where) {
    assert_int_equal(a->st_solve, b->st_solve);
    size_t ny = smnn_problem_y_count(p);
    size_t cnt[4] = {smnn_problem_c_count(p), smnn_problem_d_count(p), smnn_problem_u_count(p),
                     smnn_problem_s_count(p)};
    static const char *const names[4] = {"dl/dc", "dl/dd", "dl/du", "dl/ds"};
    assert_identical(a->y, b->y, ny, "y", where);
    assert_identical(a->yf, b->yf, ny, "frozen y", where);
    for (int k = 0; k < 4; k++) assert_identical(a->g[k], b->g[k], cnt[k], names[k], where);
}

/* Every case on every device set, both splits, against one device. */
static void test_bit_identical_to_one_device(void **state) {
    (void)state;
    const char *sets[] = {"split:2", "split:4", twice_spec()};
    smnn_precision prec = test_device_precision();
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        smnn_context **ctxs = NULL;
        size_t n = 0;
        if (!make_contexts(sets[s], &ctxs, &n)) continue;
        for (size_t i = 0; i < NCASES; i++) {
            smnn_problem p;
            test_problem_of(&cases[i], 1.2, 1.7, 0.9, &p);
            smnn_plan_options opt = test_options(prec, cases[i].variant);
            test_rng r = test_rng_make(900 + i);
            test_inputs in;
            test_inputs_make(&p, &r, 0.2, 0.9, &in);
            size_t ny = smnn_problem_y_count(&p), nd = smnn_problem_d_count(&p);
            double *gy = malloc(ny * sizeof *gy), *d2 = malloc(nd * sizeof *d2);
            for (size_t k = 0; k < ny; k++) gy[k] = test_uniform(&r, -1, 1);
            for (size_t k = 0; k < nd; k++) d2[k] = test_uniform(&r, -1, 1);
            outputs one, multi;
            outputs_alloc(&p, &one);
            outputs_alloc(&p, &multi);
            run_single(&p, &opt, &in, d2, gy, &one);
            assert_status(one.st_solve, SMNN_SUCCESS);
            for (int split = 0; split < 2; split++) {
                char where[128];
                snprintf(where, sizeof where, "devices '%s', case %zu (B = %zu), %s split",
                         sets[s], i, p.batch, split ? "equal" : "measured");
                run_multi(ctxs, n, split ? SMNN_SPLIT_EQUAL : SMNN_SPLIT_MEASURED, &p, &opt, &in,
                          d2, gy, &multi);
                compare(&p, &multi, &one, where);
                fprintf(stderr, "# %s: bit-identical\n", where);
            }
            outputs_free(&one);
            outputs_free(&multi);
            free(gy);
            free(d2);
            test_inputs_free(&in);
        }
        smnn_contexts_free(ctxs, n);
    }
}

/* A failing system (coefficient 1e300, finite) in the second half of the batch: the status of
 * one device, the failure named with its global index, and the same outputs as one device. */
static void test_failing_system_global_index(void **state) {
    (void)state;
    smnn_context **ctxs = NULL;
    size_t n = 0;
    if (!make_contexts(twice_spec(), &ctxs, &n)) return;
    smnn_precision prec = test_device_precision();
    const test_case k = {24, 8, 1, 3, 1, 1, 1, 0, SMNN_VARIANT_AUTO};
    smnn_problem p;
    test_problem_of(&k, 1.2, 1.7, 0.9, &p);
    smnn_plan_options opt = test_options(prec, SMNN_VARIANT_AUTO);
    test_rng r = test_rng_make(950);
    test_inputs in;
    test_inputs_make(&p, &r, 0.2, 0.9, &in);
    const size_t bad = 19, bad_t = 5, pc = p.steps * p.equations * p.dims * p.orders;
    in.c[bad * pc + bad_t * p.equations * p.dims * p.orders] = prec == SMNN_PRECISION_DOUBLE
                                                                    ? 1e300
                                                                    : 1e38;
    size_t ny = smnn_problem_y_count(&p), nd = smnn_problem_d_count(&p);
    double *gy = malloc(ny * sizeof *gy), *d2 = malloc(nd * sizeof *d2);
    for (size_t j = 0; j < ny; j++) gy[j] = test_uniform(&r, -1, 1);
    for (size_t j = 0; j < nd; j++) d2[j] = test_uniform(&r, -1, 1);
    outputs one, multi;
    outputs_alloc(&p, &one);
    outputs_alloc(&p, &multi);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
    one.st_solve = smnn_solve(plan, in.c, in.d, in.u, in.s, one.y);
    smnn_plan_free(plan);
    assert_true(one.st_solve == SMNN_ERROR_NOT_POSITIVE_DEFINITE ||
                one.st_solve == SMNN_ERROR_RANK_DEFICIENT);
    smnn_multi_options mo;
    smnn_multi_options_init(&mo);
    mo.split = SMNN_SPLIT_EQUAL;
    smnn_multi_plan *mp = NULL;
    assert_status(smnn_multi_plan_create(ctxs, n, &p, &opt, &mo, &mp), SMNN_SUCCESS);
    smnn_multi_part last;
    assert_status(smnn_multi_plan_part(mp, n - 1, &last), SMNN_SUCCESS);
    assert_true(last.first <= bad); /* the failing system is not in the first part */
    assert_status(smnn_multi_solve(mp, in.c, in.d, in.u, in.s, multi.y), one.st_solve);
    char expect[64];
    snprintf(expect, sizeof expect, "system %zu at time point %zu", bad, bad_t);
    if (!strstr(smnn_last_error(), expect))
        fail_msg("the message does not name %s: %s", expect, smnn_last_error());
    smnn_failure_report rep;
    assert_status(smnn_multi_plan_failures(mp, &rep), SMNN_SUCCESS);
    assert_int_equal(rep.count, 1);
    assert_int_equal(rep.first_system, bad);
    assert_int_equal(rep.first_step, bad_t);
    assert_identical(multi.y, one.y, ny, "y", "failing system");
    for (size_t j = bad * ny / p.batch; j < (bad + 1) * ny / p.batch; j++)
        assert_true(isnan(multi.y[j]));
    smnn_multi_plan_free(mp);
    outputs_free(&one);
    outputs_free(&multi);
    free(gy);
    free(d2);
    test_inputs_free(&in);
    smnn_contexts_free(ctxs, n);
}

/* What a rank-per-device application does (README): one plan per slice of the batch with the
 * options resolved for the whole batch, the gradients of batch-shared inputs per system
 * (smnn_backward_unreduced), concatenated and summed by smnn_gradient_sum: bit-identical to one
 * plan over the whole batch. */
static void test_slices_by_hand(void **state) {
    (void)state;
    smnn_precision prec = test_device_precision();
    const test_case k = {26, 7, 2, 2, 2, 2, 1,
                         SC(C_BATCH) | SC(C_TIME) | SC(D_BATCH) | SC(U_BATCH) | SC(S_BATCH),
                         SMNN_VARIANT_AUTO};
    smnn_problem p;
    test_problem_of(&k, 1.2, 1.7, 0.9, &p);
    smnn_plan_options opt = test_options(prec, SMNN_VARIANT_AUTO), whole;
    smnn_context *ctx = test_context();
    assert_status(smnn_plan_options_resolve(ctx, &p, &opt, &whole), SMNN_SUCCESS);
    test_rng r = test_rng_make(980);
    test_inputs in;
    test_inputs_make(&p, &r, 0.2, 0.9, &in);
    size_t ny = smnn_problem_y_count(&p), per_y = ny / p.batch;
    double *gy = malloc(ny * sizeof *gy), *y = malloc(ny * sizeof *y);
    for (size_t j = 0; j < ny; j++) gy[j] = test_uniform(&r, -1, 1);
    outputs one;
    outputs_alloc(&p, &one);
    run_single(&p, &opt, &in, in.d, gy, &one);
    smnn_layout l[4];
    double *full[4], *sum[4];
    for (int i = 0; i < 4; i++) {
        assert_status(smnn_problem_layout(&p, (smnn_input)i, &l[i]), SMNN_SUCCESS);
        full[i] = malloc(l[i].full_batch * l[i].full_time * l[i].row * sizeof(double));
        sum[i] = malloc(l[i].count * sizeof(double));
    }
    const size_t cut[3] = {0, 11, 26}; /* slices 0..10 and 11..25 */
    for (int part = 0; part < 2; part++) {
        size_t first = cut[part], count = cut[part + 1] - first;
        smnn_problem pp = p;
        pp.batch = count;
        const double *x[4] = {in.c, in.d, in.u, in.s};
        for (int i = 0; i < 4; i++)
            if (!l[i].shared_batch) x[i] += first * l[i].batch_stride;
        double *g[4];
        for (int i = 0; i < 4; i++)
            g[i] = full[i] + first * (l[i].shared_batch ? l[i].full_time * l[i].row
                                                        : l[i].batch_stride);
        smnn_plan *plan = NULL;
        assert_status(smnn_plan_create(ctx, &pp, &whole, &plan), SMNN_SUCCESS);
        assert_status(smnn_solve(plan, x[0], x[1], x[2], x[3], y + first * per_y), SMNN_SUCCESS);
        assert_status(smnn_backward_unreduced(plan, x[0], x[1], x[3], y + first * per_y,
                                              gy + first * per_y, g[0], g[1], g[2], g[3]),
                      SMNN_SUCCESS);
        smnn_plan_free(plan);
    }
    assert_identical(y, one.y, ny, "y", "slices by hand");
    static const char *const names[4] = {"dl/dc", "dl/dd", "dl/du", "dl/ds"};
    for (int i = 0; i < 4; i++) {
        /* Shared across the batch: summed here; the others were written in place. */
        assert_status(smnn_gradient_sum(&p, (smnn_input)i, prec, full[i], sum[i]), SMNN_SUCCESS);
        assert_identical(sum[i], one.g[i], l[i].count, names[i], "slices by hand");
    }
    assert_status(smnn_gradient_sum(&p, SMNN_INPUT_C, (smnn_precision)5, full[0], sum[0]),
                  SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_gradient_sum(&p, SMNN_INPUT_C, prec, NULL, sum[0]),
                  SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_gradient_sum(NULL, SMNN_INPUT_C, prec, full[0], sum[0]),
                  SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_plan_options_resolve(ctx, &p, &opt, NULL), SMNN_ERROR_INVALID_ARGUMENT);
    for (int i = 0; i < 4; i++) {
        free(full[i]);
        free(sum[i]);
    }
    outputs_free(&one);
    free(gy);
    free(y);
    test_inputs_free(&in);
}

static int all_equal(const double *x, size_t n, double v) {
    for (size_t i = 0; i < n; i++)
        if (x[i] != v) return 0;
    return 1;
}

/* A device whose launches fail: the whole call fails naming its part and device, no output is
 * written (solve, frozen solve, backward), the plan then holds no factorization; once the fault
 * is gone the same plan solves and agrees with one device. A device that cannot allocate fails
 * the plan's creation, naming the part. */
static void test_failing_device(void **state) {
    (void)state;
    smnn_context **ctxs = NULL;
    size_t n = 0;
    if (!make_contexts(twice_spec(), &ctxs, &n)) return;
    smnn_precision prec = test_device_precision();
    const test_case k = {20, 6, 2, 2, 2, 2, 1, SC(C_BATCH) | SC(C_TIME), SMNN_VARIANT_AUTO};
    smnn_problem p;
    test_problem_of(&k, 1.2, 1.7, 0.9, &p);
    smnn_plan_options opt = test_options(prec, SMNN_VARIANT_AUTO);
    test_rng r = test_rng_make(960);
    test_inputs in;
    test_inputs_make(&p, &r, 0.2, 0.9, &in);
    size_t ny = smnn_problem_y_count(&p), nc = smnn_problem_c_count(&p),
           nd = smnn_problem_d_count(&p);
    double *gy = malloc(ny * sizeof *gy), *y = malloc(ny * sizeof *y),
           *gc = malloc(nc * sizeof *gc), *gd = malloc(nd * sizeof *gd);
    for (size_t j = 0; j < ny; j++) gy[j] = test_uniform(&r, -1, 1);
    smnn_multi_options mo;
    smnn_multi_options_init(&mo);
    mo.split = SMNN_SPLIT_EQUAL;
    smnn_multi_plan *mp = NULL;
    assert_status(smnn_multi_plan_create(ctxs, n, &p, &opt, &mo, &mp), SMNN_SUCCESS);
    char part1[256];
    snprintf(part1, sizeof part1, "part 1 of 2 (device '%s'",
             smnn_context_device(ctxs[1])->device_name);

    /* A good solve first, so that a factorization exists before the failing one. */
    assert_status(smnn_multi_solve(mp, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
    fail_queue = smnn_context_cl_queue(ctxs[1]);
    for (size_t j = 0; j < ny; j++) y[j] = 7.0;
    for (size_t j = 0; j < nc; j++) gc[j] = 7.0;
    for (size_t j = 0; j < nd; j++) gd[j] = 7.0;
    /* The backward pass on the good factorization, failing on part 1. */
    assert_status(smnn_multi_backward(mp, in.c, in.d, in.s, gy, gy, gc, gd, NULL, NULL),
                  SMNN_ERROR_DEVICE_OUT_OF_MEMORY);
    if (!strstr(smnn_last_error(), part1))
        fail_msg("the message does not name '%s': %s", part1, smnn_last_error());
    assert_true(all_equal(gc, nc, 7.0) && all_equal(gd, nd, 7.0));
    assert_status(smnn_multi_solve_frozen(mp, in.c, in.d, in.u, y),
                  SMNN_ERROR_DEVICE_OUT_OF_MEMORY);
    assert_true(all_equal(y, ny, 7.0));
    assert_status(smnn_multi_solve(mp, in.c, in.d, in.u, in.s, y), SMNN_ERROR_DEVICE_OUT_OF_MEMORY);
    if (!strstr(smnn_last_error(), part1) || !strstr(smnn_last_error(), "no output was written"))
        fail_msg("the message does not name '%s': %s", part1, smnn_last_error());
    assert_true(all_equal(y, ny, 7.0));
    /* The failed solve left part 1 unfactored: no frozen solve on half a factorization. */
    assert_status(smnn_multi_solve_frozen(mp, in.c, in.d, in.u, y), SMNN_ERROR_INVALID_STATE);
    assert_true(all_equal(y, ny, 7.0));

    /* The fault gone: the same plan works and agrees with one device. */
    fail_queue = NULL;
    assert_status(smnn_multi_solve(mp, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
    smnn_plan *plan = NULL;
    double *y1 = malloc(ny * sizeof *y1);
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
    assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y1), SMNN_SUCCESS);
    assert_identical(y, y1, ny, "y", "after the fault");
    smnn_plan_free(plan);
    smnn_multi_plan_free(mp);

    /* Out of device memory on part 1 while creating the plan. */
    fail_context = smnn_context_cl_context(ctxs[1]);
    mp = NULL;
    assert_status(smnn_multi_plan_create(ctxs, n, &p, &opt, &mo, &mp),
                  SMNN_ERROR_DEVICE_OUT_OF_MEMORY);
    assert_null(mp);
    if (!strstr(smnn_last_error(), part1))
        fail_msg("the message does not name '%s': %s", part1, smnn_last_error());
    fail_context = NULL;
    free(y1);
    free(gy);
    free(y);
    free(gc);
    free(gd);
    test_inputs_free(&in);
    smnn_contexts_free(ctxs, n);
}

/* Bad arguments: clear errors, nothing written. */
static void test_invalid_arguments(void **state) {
    (void)state;
    smnn_context **ctxs = NULL;
    size_t n = 0;
    static const char *const bad_lists[] = {"", ",", "0:0,", "split:", "split:0", "split:x",
                                            "split:100000", "no-such-device-name"};
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
        smnn_status st = smnn_contexts_create(bad_lists[i], &ctxs, &n);
        if (st == SMNN_SUCCESS) fail_msg("'%s' was accepted", bad_lists[i]);
        assert_null(ctxs);
        assert_int_equal(n, 0);
        fprintf(stderr, "# '%s': %s\n", bad_lists[i], smnn_last_error());
    }
    assert_status(smnn_contexts_create(NULL, &ctxs, &n), SMNN_ERROR_INVALID_ARGUMENT);
    /* A node-local rank's device: item rank mod count of a list, or of the "all" devices. */
    const smnn_device_info *dev = smnn_context_device(test_context());
    char list[64];
    snprintf(list, sizeof list, "no-such-device,%u:%u", dev->platform_index, dev->device_index);
    smnn_context *local = NULL;
    assert_status(smnn_context_create_local(3, list, &local), SMNN_SUCCESS);
    assert_string_equal(smnn_context_device(local)->device_name, dev->device_name);
    smnn_context_free(local);
    assert_status(smnn_context_create_local(2, list, &local), SMNN_ERROR_DEVICE_NOT_FOUND);
    assert_null(local);
    assert_status(smnn_context_create_local(1, "0:0,,0:0", &local), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_context_create_local(-1, NULL, &local), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_context_create_local(0, NULL, NULL), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_context_create_local(7, "all", &local), SMNN_SUCCESS);
    smnn_context_free(local);
    /* $SMNN_DEVICE as a list (one spec per local rank) or "all": read as such, never as one
     * spec, also where "all" asks for the default device. */
    char *keep_env = test_env_save("SMNN_DEVICE");
    snprintf(list, sizeof list, "%u:%u,%u:%u", dev->platform_index, dev->device_index,
             dev->platform_index, dev->device_index);
    const char *envs[2] = {list, "all"};
    for (int e = 0; e < 2; e++) {
        setenv("SMNN_DEVICE", envs[e], 1);
        assert_status(smnn_context_create_local(1, NULL, &local), SMNN_SUCCESS);
        smnn_context_free(local);
        assert_status(smnn_contexts_create("all", &ctxs, &n), SMNN_SUCCESS);
        assert_true(n >= 1);
        smnn_contexts_free(ctxs, n);
    }
    test_env_restore("SMNN_DEVICE", keep_env);
    ctxs = NULL;
    n = 0;
    assert_status(smnn_contexts_create("all", NULL, &n), SMNN_ERROR_INVALID_ARGUMENT);

    if (!make_contexts(twice_spec(), &ctxs, &n)) return;
    smnn_precision prec = test_device_precision();
    const test_case k = {10, 5, 1, 2, 1, 1, 1, 0, SMNN_VARIANT_AUTO};
    smnn_problem p;
    test_problem_of(&k, 1.0, 1.0, 1.0, &p);
    smnn_plan_options opt = test_options(prec, SMNN_VARIANT_AUTO);
    smnn_multi_plan *mp = NULL;
    smnn_context *same[2] = {ctxs[0], ctxs[0]};
    const smnn_status bad = SMNN_ERROR_INVALID_ARGUMENT;
    assert_status(smnn_multi_plan_create(same, 2, &p, &opt, NULL, &mp), bad);
    assert_status(smnn_multi_plan_create(ctxs, 0, &p, &opt, NULL, &mp), bad);
    assert_status(smnn_multi_plan_create(NULL, 2, &p, &opt, NULL, &mp), bad);
    smnn_multi_options mo;
    smnn_multi_options_init(&mo);
    mo.split = (smnn_split)7;
    assert_status(smnn_multi_plan_create(ctxs, n, &p, &opt, &mo, &mp), SMNN_ERROR_INVALID_ARGUMENT);
    mo.split = SMNN_SPLIT_EQUAL;
    mo.struct_size = 3;
    assert_status(smnn_multi_plan_create(ctxs, n, &p, &opt, &mo, &mp), SMNN_ERROR_INVALID_ARGUMENT);
    smnn_multi_options_init(&mo);
    mo.split = SMNN_SPLIT_EQUAL;
    assert_status(smnn_multi_plan_create(ctxs, n, &p, &opt, &mo, &mp), SMNN_SUCCESS);

    test_rng r = test_rng_make(970);
    test_inputs in;
    test_inputs_make(&p, &r, 0.2, 0.9, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *y = malloc(ny * sizeof *y);
    for (size_t j = 0; j < ny; j++) y[j] = 7.0;
    /* Before any factorization. */
    assert_status(smnn_multi_solve_frozen(mp, in.c, in.d, in.u, y), SMNN_ERROR_INVALID_STATE);
    /* A non-finite value in the second part's slice, named by its index in the whole batch. */
    size_t at = smnn_problem_c_count(&p) - 3;
    double keep = in.c[at];
    in.c[at] = NAN;
    assert_status(smnn_multi_solve(mp, in.c, in.d, in.u, in.s, y), SMNN_ERROR_INVALID_ARGUMENT);
    char expect[32];
    snprintf(expect, sizeof expect, "c[%zu]", at);
    if (!strstr(smnn_last_error(), expect))
        fail_msg("the message does not name %s: %s", expect, smnn_last_error());
    in.c[at] = keep;
    in.s[1] = -0.5;
    assert_status(smnn_multi_solve(mp, in.c, in.d, in.u, in.s, y), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_multi_solve(mp, in.c, in.d, NULL, in.s, y), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_multi_solve(NULL, in.c, in.d, in.u, in.s, y), SMNN_ERROR_INVALID_ARGUMENT);
    assert_true(all_equal(y, ny, 7.0));
    smnn_multi_part part;
    assert_status(smnn_multi_plan_part(mp, 2, &part), SMNN_ERROR_INVALID_ARGUMENT);
    smnn_multi_plan_free(mp);
    smnn_multi_plan_free(NULL);
    smnn_contexts_free(NULL, 0);
    free(y);
    test_inputs_free(&in);
    smnn_contexts_free(ctxs, n);
}

int main(void) {
    /* Four compute units on PoCL's CPU device, so that it splits into four sub-devices (set
     * before the first OpenCL call; a caller's own value wins). */
    setenv("POCL_MAX_PTHREAD_COUNT", "4", 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_identical_to_one_device),
        cmocka_unit_test(test_failing_system_global_index),
        cmocka_unit_test(test_slices_by_hand),
        cmocka_unit_test(test_failing_device),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, test_teardown_context);
}
