/* The backward pass against central finite differences of the dense reference (double), over a
 * table of small shapes with shared inputs and variable steps; shared gradients equal sums of
 * unshared ones; frozen-LHS gradients for d and u; determinism; a loss-decrease step; single
 * precision error reported; invalid calls, including non-finite host inputs. The loss is
 * l = sum(g * y) for a random g, so dl/dy = g. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef test_case grad_case;

#define SC(x) SMNN_SHARE_##x
static const grad_case cases[] = {
    {1, 2, 1, 1, 1, 1, 1, 0, SMNN_VARIANT_PRIVATE},
    {3, 5, 1, 3, 1, 1, 0, 0, SMNN_VARIANT_PRIVATE},
    {4, 6, 1, 3, 1, 1, 1, SC(C_BATCH) | SC(C_TIME) | SC(S_BATCH) | SC(S_TIME),
     SMNN_VARIANT_PRIVATE},
    {2, 5, 2, 2, 2, 2, 0, SC(D_BATCH) | SC(U_TIME), SMNN_VARIANT_PRIVATE},
    {2, 4, 3, 2, 3, 2, 1, SC(C_TIME) | SC(U_BATCH), SMNN_VARIANT_LOCAL},
    {1, 17, 1, 4, 1, 2, 0, SC(D_TIME) | SC(C_BATCH), SMNN_VARIANT_PRIVATE},
    {2, 4, 2, 3, 2, 1, 0, SC(S_TIME) | SC(D_BATCH) | SC(D_TIME), SMNN_VARIANT_LOCAL},
    /* Two lane groups at 8 systems per work-item, the second with one real lane. */
    {9, 6, 2, 2, 2, 2, 1, SC(D_TIME), SMNN_VARIANT_PRIVATE},
};

static void problem_of(const grad_case *k, smnn_problem *p) {
    test_problem_of(k, 1.3, 2.0, 0.8, p);
}

typedef struct grads {
    double *c, *d, *u, *s;
} grads;

static void grads_alloc(const smnn_problem *p, grads *g) {
    g->c = malloc(smnn_problem_c_count(p) * sizeof(double));
    g->d = malloc(smnn_problem_d_count(p) * sizeof(double));
    g->u = malloc(smnn_problem_u_count(p) * sizeof(double));
    g->s = malloc(smnn_problem_s_count(p) * sizeof(double));
}

static void grads_free(grads *g) {
    free(g->c);
    free(g->d);
    free(g->u);
    free(g->s);
}

/* e[k] = the relative error of a's gradient k (c, d, u, s) against ref's. */
static void grads_rel_err(const smnn_problem *p, const grads *a, const grads *ref, double e[4]) {
    e[0] = test_rel_err(a->c, ref->c, smnn_problem_c_count(p));
    e[1] = test_rel_err(a->d, ref->d, smnn_problem_d_count(p));
    e[2] = test_rel_err(a->u, ref->u, smnn_problem_u_count(p));
    e[3] = test_rel_err(a->s, ref->s, smnn_problem_s_count(p));
}

/* Case k's problem, its inputs and a random dl/dy (returned; the caller frees it), from seed. */
static double *case_inputs(const grad_case *k, unsigned seed, smnn_problem *p, test_inputs *in) {
    problem_of(k, p);
    test_rng r = test_rng_make(seed);
    test_inputs_make(p, &r, 0.4, 1.3, in);
    size_t ny = smnn_problem_y_count(p);
    double *gy = malloc(ny * sizeof *gy);
    for (size_t i = 0; i < ny; i++) gy[i] = test_uniform(&r, -1, 1);
    return gy;
}

/* Device forward + backward with options opt; returns y in *yout (caller frees). */
static void device_grads(const smnn_problem *p, const smnn_plan_options *opt, test_inputs *in,
                         const double *gy, grads *out, double **yout) {
    size_t ny = smnn_problem_y_count(p);
    double *y = malloc(ny * sizeof *y);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), p, opt, &plan), SMNN_SUCCESS);
    assert_status(smnn_solve(plan, in->c, in->d, in->u, in->s, y), SMNN_SUCCESS);
    assert_status(smnn_backward(plan, in->c, in->d, in->s, y, gy, out->c, out->d, out->u, out->s),
                  SMNN_SUCCESS);
    smnn_plan_free(plan);
    if (yout)
        *yout = y;
    else
        free(y);
}

/* Every case at its automatic width; the private ones also at 8 systems per work-item, whose
 * gradient kernel walks time per lane group (cl/gradient.cl) where one system per work-item runs
 * one work-item per time point, with the backward pass apart ($SMNN_FUSED_BACKWARD=0) and fused
 * (=1) at one and at eight systems per work-item; cases of more than 8 systems also at 4 and 16
 * per work-item (the other widths whose lanes move rows four elements at a time, common.cl
 * smnn_gather_part: 4 x 4 transposes per group of four lanes, some groups holding no system). */
static void test_against_finite_differences(void **state) {
    (void)state;
    test_skip_without_fp64();
    static const int widths[] = {0, 8, 1, 8, 4, 16};
    enum { MODES = sizeof widths / sizeof widths[0] };
    for (size_t m = 0; m < MODES * (sizeof cases / sizeof cases[0]); m++) {
        size_t i = m / MODES;
        int mode = (int)(m % MODES), width = widths[mode];
        if (mode && cases[i].variant == SMNN_VARIANT_LOCAL) continue;
        if (mode >= 4 && cases[i].B <= 8) continue;
        smnn_problem p;
        problem_of(&cases[i], &p);
        smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, cases[i].variant);
        opt.systems_per_item = width;
        test_fused_backward(mode == 2 || mode == 3);
        test_rng r = test_rng_make(500 + i);
        test_inputs in;
        test_inputs_make(&p, &r, 0.4, 1.3, &in);
        size_t ny = smnn_problem_y_count(&p);
        double *gy = malloc(ny * sizeof *gy);
        for (size_t k = 0; k < ny; k++) gy[k] = test_uniform(&r, -1, 1);
        grads dev, fd;
        grads_alloc(&p, &dev);
        grads_alloc(&p, &fd);
        device_grads(&p, &opt, &in, gy, &dev, NULL);
        assert_status(smnn_reference_gradient(&p, in.c, in.d, in.u, in.s, gy, fd.c, fd.d, fd.u,
                                              fd.s, 0),
                      SMNN_SUCCESS);
        double e[4];
        grads_rel_err(&p, &dev, &fd, e);
        static const char *const modes[MODES] = {"automatic width, apart", "8 per item, apart",
                                                 "1 per item, fused", "8 per item, fused",
                                                 "4 per item, apart", "16 per item, apart"};
        fprintf(stderr, "# case %zu, %s: rel err vs finite differences: c %.1e d %.1e u %.1e "
                "s %.1e\n", i, modes[mode], e[0], e[1], e[2], e[3]);
        for (int k = 0; k < 4; k++)
            if (!(e[k] <= 1e-6))
                fail_msg("case %zu (systems per item %d): gradient %d relative error %g > 1e-6", i,
                         width, k, e[k]);
        grads_free(&dev);
        grads_free(&fd);
        free(gy);
        test_inputs_free(&in);
    }
    test_fused_backward(-1);
}

/* Expands a shared input of a (B, T, R) layout into the unshared one. */
static double *expand(const double *x, size_t B, size_t T, size_t R, int sb, int st) {
    double *out = malloc(B * T * R * sizeof *out);
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++)
            memcpy(out + (b * T + t) * R, x + ((sb ? 0 : b) * (st ? 1 : T) + (st ? 0 : t)) * R,
                   R * sizeof *out);
    return out;
}

/* Sums an unshared (B, T, R) gradient over the shared dimensions. */
static void reduce(const double *x, size_t B, size_t T, size_t R, int sb, int st, double *out) {
    size_t OB = sb ? 1 : B, OT = st ? 1 : T;
    memset(out, 0, OB * OT * R * sizeof *out);
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < R; k++)
                out[((sb ? 0 : b) * OT + (st ? 0 : t)) * R + k] += x[(b * T + t) * R + k];
}

static void test_shared_is_sum(void **state) {
    (void)state;
    test_skip_without_fp64();
    smnn_problem p;
    problem_of(&cases[3], &p); /* shares d over the batch, u over time */
    smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, cases[3].variant);
    p.shared = 0xff;                                   /* share everything */
    p.batch = 3;
    test_rng r = test_rng_make(8);
    test_inputs in;
    test_inputs_make(&p, &r, 0.4, 1.3, &in);
    size_t ny = smnn_problem_y_count(&p), B = p.batch, T = p.steps, n = p.dims * p.orders;
    double *gy = malloc(ny * sizeof *gy);
    for (size_t k = 0; k < ny; k++) gy[k] = test_uniform(&r, -1, 1);
    grads gs, gu, sum;
    grads_alloc(&p, &gs);
    device_grads(&p, &opt, &in, gy, &gs, NULL);
    smnn_problem q = p;
    q.shared = 0;
    test_inputs ex = {expand(in.c, B, T, p.equations * n, 1, 1), expand(in.d, B, T, p.equations, 1, 1),
                      expand(in.u, B, p.init_steps, p.dims * p.init_orders, 1, 1),
                      expand(in.s, B, T - 1, 1, 1, 1)};
    grads_alloc(&q, &gu);
    grads_alloc(&p, &sum);
    device_grads(&q, &opt, &ex, gy, &gu, NULL);
    reduce(gu.c, B, T, p.equations * n, 1, 1, sum.c);
    reduce(gu.d, B, T, p.equations, 1, 1, sum.d);
    reduce(gu.u, B, p.init_steps, p.dims * p.init_orders, 1, 1, sum.u);
    reduce(gu.s, B, T - 1, 1, 1, 1, sum.s);
    assert_allclose(gs.c, sum.c, smnn_problem_c_count(&p), 1e-12, 1e-12);
    assert_allclose(gs.d, sum.d, smnn_problem_d_count(&p), 1e-12, 1e-12);
    assert_allclose(gs.u, sum.u, smnn_problem_u_count(&p), 1e-12, 1e-12);
    assert_allclose(gs.s, sum.s, smnn_problem_s_count(&p), 1e-12, 1e-12);
    grads_free(&gs);
    grads_free(&gu);
    grads_free(&sum);
    test_inputs_free(&ex);
    test_inputs_free(&in);
    free(gy);
}

static int grads_equal(const smnn_problem *p, const grads *a, const grads *b) {
    return !memcmp(a->c, b->c, smnn_problem_c_count(p) * sizeof(double)) &&
           !memcmp(a->d, b->d, smnn_problem_d_count(p) * sizeof(double)) &&
           !memcmp(a->u, b->u, smnn_problem_u_count(p) * sizeof(double)) &&
           !memcmp(a->s, b->s, smnn_problem_s_count(p) * sizeof(double));
}

/* The default backward pass ($SMNN_FUSED_BACKWARD unset) is the fused one, bit for bit, where
 * the program unrolls its blocks in registers (double precision on PoCL), n <= 5 and T <= 50
 * (here n = 4, T = 6), and the two kernels apart elsewhere (lib/solver/tuning.c
 * smnn__fused_backward). */
static void test_fused_default(void **state) {
    (void)state;
    test_skip_without_fp64();
    smnn_problem p;
    test_inputs in;
    double *gy = case_inputs(&cases[7], 620, &p, &in); /* n = 4, B = 9: two lane groups of 8 */
    smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_PRIVATE);
    opt.systems_per_item = 8;
    grads g[3]; /* apart, fused, default */
    int pocl = test_is_pocl(smnn_context_device(test_context()));
    for (int mode = 0; mode < 3; mode++) {
        test_fused_backward(mode < 2 ? mode : -1);
        smnn_plan *plan = NULL;
        assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
        assert_int_equal(smnn_plan_backward_fused(plan), mode < 2 ? mode : pocl);
        smnn_plan_free(plan);
        grads_alloc(&p, &g[mode]);
        device_grads(&p, &opt, &in, gy, &g[mode], NULL);
    }
    test_fused_backward(-1);
    assert_int_equal(smnn_plan_backward_fused(NULL), 0);
    int differ = !grads_equal(&p, &g[0], &g[1]);
    fprintf(stderr, "# default backward pass: %s expected; fused and apart %s\n",
            pocl ? "fused" : "apart", differ ? "differ in their bits" : "agree bit for bit");
    if (!grads_equal(&p, &g[2], &g[pocl ? 1 : 0]))
        fail_msg("the default backward pass is not the %s one", pocl ? "fused" : "apart");
    for (int mode = 0; mode < 3; mode++) grads_free(&g[mode]);
    free(gy);
    test_inputs_free(&in);
}

/* The private variant's block updates that stay loops (blocks above 9, and shape-generic
 * programs) give the same bits in 2 x 2 and in 4 x 4 register tiles ($SMNN_SMALL_TILES = 1 / 0,
 * lib/solver/tuning.c; the default depends on the device's vector registers), and agree with the
 * dense reference: n = 10 (V = 2, n_orders = 5: 2 x 2 tiles against the plain loop, since 10 is
 * not a multiple of 4) with Q = 5 (the assembly's equations in chunks of 4 and 1), B = 9 at 8
 * systems per work-item (the second lane group with one system); y and every gradient. Its rows
 * of ten (C_t, y, lambda, dl/dc) move as two parts of four and two single elements
 * (cl/common.cl smnn_gather_row_at). One shape, two programs: each program of a block above 9
 * takes PoCL 10-25 s to compile, and this test runs in every CI pass. */
static void test_small_tiles(void **state) {
    (void)state;
    test_skip_without_fp64();
    const grad_case k = {9, 7, 2, 5, 5, 2, 0, SC(D_TIME), SMNN_VARIANT_PRIVATE};
    smnn_problem p;
    test_inputs in;
    double *gy = case_inputs(&k, 640, &p, &in);
    const size_t n = p.dims * p.orders, ny = smnn_problem_y_count(&p);
    smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_PRIVATE);
    opt.systems_per_item = 8;
    grads g[2], ref;
    double *y[2];
    char *saved = test_env_save("SMNN_SMALL_TILES");
    for (int small = 0; small < 2; small++) {
        setenv("SMNN_SMALL_TILES", small ? "1" : "0", 1);
        grads_alloc(&p, &g[small]);
        device_grads(&p, &opt, &in, gy, &g[small], &y[small]);
    }
    test_env_restore("SMNN_SMALL_TILES", saved);
    double *yref = malloc(ny * sizeof *yref);
    grads_alloc(&p, &ref);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, yref, 0), SMNN_SUCCESS);
    assert_status(smnn_reference_gradient(&p, in.c, in.d, in.u, in.s, gy, ref.c, ref.d, ref.u,
                                          ref.s, 0),
                  SMNN_SUCCESS);
    const int same_y = !memcmp(y[0], y[1], ny * sizeof(double));
    const int same_g = grads_equal(&p, &g[0], &g[1]);
    double ey = test_rel_err(y[1], yref, ny), e[4];
    grads_rel_err(&p, &g[1], &ref, e);
    fprintf(stderr, "# n = %zu: 2 x 2 and 4 x 4 tiles %s; rel err vs the reference: y %.1e, "
            "dl/dc %.1e\n", n, same_y && same_g ? "agree bit for bit" : "DIFFER", ey, e[0]);
    if (!same_y) fail_msg("n = %zu: y differs between 2 x 2 and 4 x 4 tiles", n);
    if (!same_g) fail_msg("n = %zu: gradients differ between 2 x 2 and 4 x 4 tiles", n);
    if (!(ey <= 1e-9)) fail_msg("n = %zu: y relative error %g > 1e-9", n, ey);
    for (int i = 0; i < 4; i++)
        if (!(e[i] <= 1e-6)) fail_msg("n = %zu: gradient %d relative error %g > 1e-6", n, i, e[i]);
    for (int small = 0; small < 2; small++) {
        grads_free(&g[small]);
        free(y[small]);
    }
    grads_free(&ref);
    free(yref);
    free(gy);
    test_inputs_free(&in);
}

/* Gradients of a plan whose workspace is split into chunks (max_alloc_bytes) are bit-identical
 * to one chunk's: at one and at eight systems per work-item, and with the fused backward pass,
 * which walks each chunk (case 7 has B = 9 and d shared over time, through the reduction). */
static void test_backward_chunked(void **state) {
    (void)state;
    const grad_case *k = &cases[7];
    smnn_problem p;
    test_inputs in;
    double *gy = case_inputs(k, 610, &p, &in);
    const int widths[] = {1, 8, 8}; /* the last with the fused backward pass */
    for (size_t w = 0; w < 3; w++) {
        test_fused_backward(w == 2);
        smnn_plan_options opt = test_options(test_device_precision(), k->variant);
        opt.systems_per_item = widths[w];
        smnn_plan *plan = NULL;
        assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
        assert_int_equal(smnn_plan_chunks(plan), 1);
        /* One system's workspace, from the plan's total (failure codes: one int per system). */
        size_t cap = (p.batch + (size_t)widths[w] - 1) / (size_t)widths[w] * (size_t)widths[w];
        size_t per = (smnn_plan_workspace_bytes(plan) - p.batch * sizeof(cl_int)) / cap;
        smnn_plan_free(plan);
        grads one, split;
        grads_alloc(&p, &one);
        grads_alloc(&p, &split);
        device_grads(&p, &opt, &in, gy, &one, NULL);
        opt.max_alloc_bytes = (widths[w] > 1 ? (size_t)widths[w] : 2) * per + 3;
        assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
        size_t chunks = smnn_plan_chunks(plan);
        smnn_plan_free(plan);
        assert_true(chunks > 1);
        device_grads(&p, &opt, &in, gy, &split, NULL);
        fprintf(stderr, "# %d per work-item%s: %zu chunks, gradients bit-identical to one chunk\n",
                widths[w], w == 2 ? ", fused" : "", chunks);
        assert_memory_equal(one.c, split.c, smnn_problem_c_count(&p) * sizeof(double));
        assert_memory_equal(one.d, split.d, smnn_problem_d_count(&p) * sizeof(double));
        assert_memory_equal(one.u, split.u, smnn_problem_u_count(&p) * sizeof(double));
        assert_memory_equal(one.s, split.s, smnn_problem_s_count(&p) * sizeof(double));
        grads_free(&one);
        grads_free(&split);
    }
    test_fused_backward(-1);
    free(gy);
    test_inputs_free(&in);
}

/* Frozen left-hand side: dl/dd and dl/du from c and dl/dy alone equal the full backward pass;
 * repeated calls are bit-identical. On both variants, for d and u shared (case 3, through the
 * reductions) and unshared (case 1, written directly). */
static void test_frozen_and_deterministic(void **state) {
    (void)state;
    test_skip_without_fp64();
    for (int run = 0; run < 4; run++) {
        int v = SMNN_VARIANT_PRIVATE + run % 2;
        smnn_problem p;
        problem_of(&cases[run < 2 ? 3 : 1], &p);
        smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, (smnn_variant)v);
        test_rng r = test_rng_make(9);
        test_inputs in;
        test_inputs_make(&p, &r, 0.4, 1.3, &in);
        size_t ny = smnn_problem_y_count(&p);
        double *gy = malloc(ny * sizeof *gy);
        for (size_t k = 0; k < ny; k++) gy[k] = test_uniform(&r, -1, 1);
        grads full, again, fro;
        grads_alloc(&p, &full);
        grads_alloc(&p, &again);
        grads_alloc(&p, &fro);
        double *y = NULL;
        device_grads(&p, &opt, &in, gy, &full, &y);
        smnn_plan *plan = NULL;
        assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
        assert_status(smnn_backward(plan, in.c, NULL, NULL, NULL, gy, NULL, fro.d, fro.u, NULL),
                      SMNN_ERROR_INVALID_STATE);
        assert_status(smnn_factor(plan, in.c, in.s), SMNN_SUCCESS);
        assert_status(smnn_backward(plan, in.c, NULL, NULL, NULL, gy, NULL, fro.d, fro.u, NULL),
                      SMNN_SUCCESS);
        assert_allclose(fro.d, full.d, smnn_problem_d_count(&p), 1e-12, 1e-14);
        assert_allclose(fro.u, full.u, smnn_problem_u_count(&p), 1e-12, 1e-14);
        /* Determinism: the same call twice gives the same bits. */
        assert_status(smnn_backward(plan, in.c, in.d, in.s, y, gy, full.c, full.d, full.u, full.s),
                      SMNN_SUCCESS);
        assert_status(smnn_backward(plan, in.c, in.d, in.s, y, gy, again.c, again.d, again.u,
                                    again.s),
                      SMNN_SUCCESS);
        assert_memory_equal(full.c, again.c, smnn_problem_c_count(&p) * sizeof(double));
        assert_memory_equal(full.s, again.s, smnn_problem_s_count(&p) * sizeof(double));
        /* Missing inputs for the requested gradients. */
        assert_status(smnn_backward(plan, in.c, NULL, in.s, y, gy, full.c, NULL, NULL, NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(smnn_last_error(), "'d'"));
        assert_status(smnn_backward(plan, in.c, in.d, in.s, NULL, gy, NULL, NULL, NULL, full.s),
                      SMNN_ERROR_INVALID_ARGUMENT);
        assert_status(smnn_backward(plan, in.c, in.d, in.s, y, NULL, NULL, full.d, NULL, NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
        /* Non-finite host inputs and non-positive steps are refused like smnn_solve's, naming
         * the input and index, before any output is written. */
        size_t nd = smnn_problem_d_count(&p), ns = smnn_problem_s_count(&p);
        for (size_t k = 0; k < nd; k++) fro.d[k] = 1234.5;
        for (size_t k = 0; k < ns; k++) fro.s[k] = 1234.5;
        struct {
            double *at, value;
            const char *name;
        } bad[] = {{&gy[3], NAN, "grad_y[3]"}, {&in.c[1], INFINITY, "c[1]"},
                   {&y[2], NAN, "y[2]"},       {&in.s[0], -INFINITY, "s[0]"},
                   {&in.s[1], 0, "s[1]"}};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            double keep = *bad[k].at;
            *bad[k].at = bad[k].value;
            assert_status(smnn_backward(plan, in.c, in.d, in.s, y, gy, NULL, fro.d, NULL, fro.s),
                          SMNN_ERROR_INVALID_ARGUMENT);
            if (!strstr(smnn_last_error(), bad[k].name))
                fail_msg("message '%s' does not name %s", smnn_last_error(), bad[k].name);
            *bad[k].at = keep;
        }
        for (size_t k = 0; k < nd; k++) assert_true(fro.d[k] == 1234.5);
        for (size_t k = 0; k < ns; k++) assert_true(fro.s[k] == 1234.5);
        smnn_plan_free(plan);
        grads_free(&full);
        grads_free(&again);
        grads_free(&fro);
        free(y);
        free(gy);
        test_inputs_free(&in);
    }
}

/* One gradient step on every input lowers l = |y - target|^2 / 2. */
static void test_loss_decreases(void **state) {
    (void)state;
    smnn_problem p;
    problem_of(&cases[1], &p);
    /* The device's precision: a step of 1e-3 lowers the loss far beyond single precision's
     * rounding. */
    smnn_plan_options opt = test_options(test_device_precision(), cases[1].variant);
    test_rng r = test_rng_make(12);
    test_inputs in;
    test_inputs_make(&p, &r, 0.4, 1.3, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *target = malloc(ny * sizeof *target), *gy = malloc(ny * sizeof *gy), *y = NULL;
    for (size_t k = 0; k < ny; k++) target[k] = test_uniform(&r, -1, 1);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
    y = malloc(ny * sizeof *y);
    assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
    double l0 = 0;
    for (size_t k = 0; k < ny; k++) {
        gy[k] = y[k] - target[k];
        l0 += 0.5 * gy[k] * gy[k];
    }
    grads g;
    grads_alloc(&p, &g);
    assert_status(smnn_backward(plan, in.c, in.d, in.s, y, gy, g.c, g.d, g.u, g.s), SMNN_SUCCESS);
    double lr = 1e-3;
    for (size_t k = 0; k < smnn_problem_c_count(&p); k++) in.c[k] -= lr * g.c[k];
    for (size_t k = 0; k < smnn_problem_d_count(&p); k++) in.d[k] -= lr * g.d[k];
    for (size_t k = 0; k < smnn_problem_u_count(&p); k++) in.u[k] -= lr * g.u[k];
    for (size_t k = 0; k < smnn_problem_s_count(&p); k++) in.s[k] -= lr * g.s[k];
    assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
    double l1 = 0;
    for (size_t k = 0; k < ny; k++) l1 += 0.5 * (y[k] - target[k]) * (y[k] - target[k]);
    fprintf(stderr, "# loss %.6f -> %.6f after one gradient step\n", l0, l1);
    assert_true(l1 < l0);
    smnn_plan_free(plan);
    grads_free(&g);
    free(target);
    free(gy);
    free(y);
    test_inputs_free(&in);
}

/* Single precision against double. Each case is checked unshared (the per-element gradients the
 * kernels compute) against a bound, and reported as given: the gradient of an input shared by
 * every system and time point is a sum of B*T terms that largely cancel, so its single-precision
 * relative error is larger (measured 1.6e-3 for case 2) without any kernel defect. */
static void single_vs_double(const grad_case *k, unsigned shared, size_t i, double e[4]) {
    smnn_problem p;
    problem_of(k, &p);
    p.shared = shared;
    smnn_plan_options od = test_options(SMNN_PRECISION_DOUBLE, k->variant);
    smnn_plan_options os = test_options(SMNN_PRECISION_SINGLE, k->variant);
    test_rng r = test_rng_make(500 + i);
    test_inputs in;
    test_inputs_make(&p, &r, 0.4, 1.3, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *gy = malloc(ny * sizeof *gy);
    for (size_t j = 0; j < ny; j++) gy[j] = test_uniform(&r, -1, 1);
    grads gd, gs;
    grads_alloc(&p, &gd);
    grads_alloc(&p, &gs);
    device_grads(&p, &od, &in, gy, &gd, NULL);
    device_grads(&p, &os, &in, gy, &gs, NULL);
    grads_rel_err(&p, &gs, &gd, e);
    grads_free(&gd);
    grads_free(&gs);
    free(gy);
    test_inputs_free(&in);
}

static void test_single_precision(void **state) {
    (void)state;
    test_skip_without_fp64();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double e[4], es[4];
        single_vs_double(&cases[i], 0, i, e);
        single_vs_double(&cases[i], cases[i].shared, i, es);
        fprintf(stderr,
                "# case %zu single vs double, unshared: c %.1e d %.1e u %.1e s %.1e; as given: "
                "c %.1e d %.1e u %.1e s %.1e\n",
                i, e[0], e[1], e[2], e[3], es[0], es[1], es[2], es[3]);
        for (int k = 0; k < 4; k++)
            if (!(e[k] <= 1e-3)) fail_msg("case %zu: single-precision gradient %d error %g", i, k, e[k]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_finite_differences),
        cmocka_unit_test(test_shared_is_sum),
        cmocka_unit_test(test_backward_chunked),
        cmocka_unit_test(test_fused_default),
        cmocka_unit_test(test_small_tiles),
        cmocka_unit_test(test_frozen_and_deterministic),
        cmocka_unit_test(test_loss_decreases),
        cmocka_unit_test(test_single_precision),
    };
    return cmocka_run_group_tests_name("gradient", tests, NULL, test_teardown_context);
}
