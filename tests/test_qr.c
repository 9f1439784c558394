/* The QR factorization (cl/factor_qr.cl) against independent references: the dense double
 * reference (LAPACK QR of the whole weighted problem), closed-form ODE solutions, and the double
 * precision results of the same problems.
 *
 *  - single precision, random shapes up to n = 64, both variants, shared inputs, variable steps
 *    in [1e-2, 1]: relative error against the reference <= 1e-5, or within 100x of what rounding
 *    the inputs to float alone does to y; frozen solves (semi-normal equations) <= 1e-3; steps
 *    down to 1e-3 with n_orders 4..5 reported, and never failing where the reference solves;
 *  - the paper's six ODEs (T = 1000, step 0.01) in single precision: within one decimal digit of
 *    the double-precision solution (relative MSE within 100x, or <= 1e-9), or reported as not
 *    confirmed (SMNN_ERROR_NOT_CONVERGED);
 *  - double precision on the cases where the normal equations lose: y'' = -y over T = 2e4 at
 *    step 5e-4 (max error <= 1e-5) and T = 1e6 at step 1e-4 (reported), and widely spread
 *    weights (w_gov 1e6, w_smooth 1e6, w_gov 1e-8) within 1e-7 of the reference;
 *  - gradients in single precision within 1e-4 of the double-precision gradients;
 *  - rank-deficient systems isolated and reported as SMNN_ERROR_RANK_DEFICIENT, as the reference
 *    reports them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odes.h"
#include "testutil.h"

#define SC(x) SMNN_SHARE_##x

static smnn_plan_options qr_options(smnn_precision prec, smnn_variant variant) {
    smnn_plan_options o = test_options(prec, variant);
    o.factorization = SMNN_FACTORIZATION_QR;
    return o;
}

/* Shapes: both variants, shared inputs, blocks up to n = 64 (V * n_orders). */
static const test_case cases[] = {
    {3, 17, 1, 3, 1, 1, 1, 0, SMNN_VARIANT_PRIVATE},
    {130, 17, 1, 3, 1, 1, 1, SC(C_BATCH) | SC(C_TIME) | SC(S_BATCH), SMNN_VARIANT_PRIVATE},
    {3, 17, 2, 2, 2, 2, 0, 0, SMNN_VARIANT_LOCAL},
    {3, 17, 3, 4, 3, 2, 1, SC(D_BATCH) | SC(U_BATCH), SMNN_VARIANT_PRIVATE},
    {3, 17, 3, 4, 3, 1, 0, SC(C_TIME), SMNN_VARIANT_LOCAL},
    {1, 200, 2, 4, 2, 1, 0, 0, SMNN_VARIANT_LOCAL},
    {9, 40, 2, 4, 2, 1, 2, 0, SMNN_VARIANT_PRIVATE},
    {2, 5, 8, 4, 3, 1, 0, 0, SMNN_VARIANT_LOCAL},   /* n = 32, fewer equations than variables */
    {2, 5, 16, 4, 16, 2, 1, 0, SMNN_VARIANT_LOCAL}, /* n = 64 */
    {16, 5, 8, 4, 8, 1, 0, 0, SMNN_VARIANT_PRIVATE},                 /* n = 32, two lane groups */
    {16, 5, 8, 4, 8, 1, 0, 0, SMNN_VARIANT_LOCAL},
    {9, 4, 16, 4, 16, 2, 0, SC(C_TIME), SMNN_VARIANT_PRIVATE},        /* n = 64 */
};
#define NCASES (sizeof cases / sizeof cases[0])

static void round_to_float(double *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (double)(float)x[i];
}

/* How much y moves (relative, normwise) when the inputs are rounded to float: the error that
 * merely storing the problem in single precision causes, which no single-precision solver can
 * avoid (about cond(A) eps_float, measured with the double reference). A backward-stable
 * single-precision solver stays within a modest multiple of it; the normal equations do not
 * (their error grows with its square). */
static double input_rounding_floor(const smnn_problem *p, const test_inputs *in,
                                   const double *ref) {
    size_t cnt[4] = {smnn_problem_c_count(p), smnn_problem_d_count(p), smnn_problem_u_count(p),
                     smnn_problem_s_count(p)};
    const double *src[4] = {in->c, in->d, in->u, in->s};
    double *r[4];
    for (int j = 0; j < 4; j++) {
        r[j] = malloc(cnt[j] * sizeof(double));
        memcpy(r[j], src[j], cnt[j] * sizeof(double));
        round_to_float(r[j], cnt[j]);
    }
    size_t ny = smnn_problem_y_count(p);
    double *y = malloc(ny * sizeof *y);
    assert_status(smnn_reference_solve(p, r[0], r[1], r[2], r[3], y, 0), SMNN_SUCCESS);
    double e = test_rel_err(y, ref, ny);
    for (int j = 0; j < 4; j++) free(r[j]);
    free(y);
    return e;
}

/* Case k in single precision with QR (systems_per_item per_item) against the reference, steps in
 * [slo, shi): the relative error of the solve and of a frozen solve after it (both -1 when the
 * device cannot run it: test_skip_local_memory, test_skip_loops_cut), and the solve's status in
 * *st (success, or NOT_CONVERGED when the guarded refinement declined). */
static void qr_case(const test_case *k, int per_item, double slo, double shi, uint64_t seed,
                    double *err, double *err_frozen, double *floor, smnn_status *st) {
    smnn_problem p;
    test_problem_of(k, 2.0, 10.0, 0.5, &p);
    smnn_plan_options opt = qr_options(SMNN_PRECISION_SINGLE, k->variant);
    opt.systems_per_item = per_item;
    test_rng r = test_rng_make(seed);
    test_inputs in;
    test_inputs_make(&p, &r, slo, shi, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *ref = malloc(ny * sizeof *ref), *y = test_canaried(ny);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0), SMNN_SUCCESS);
    *floor = input_rounding_floor(&p, &in, ref);
    smnn_plan *plan = NULL;
    smnn_status made = smnn_plan_create(test_context(), &p, &opt, &plan);
    if (test_skip_local_memory(made, "this case")) {
        *err = *err_frozen = -1;
        test_canaried_free(y);
        free(ref);
        test_inputs_free(&in);
        return;
    }
    assert_status(made, SMNN_SUCCESS);
    assert_int_equal(smnn_plan_variant(plan), k->variant);
    assert_int_equal(smnn_plan_factorization(plan), SMNN_FACTORIZATION_QR);
    *st = smnn_solve(plan, in.c, in.d, in.u, in.s, y);
    assert_true(test_canary_ok(y, ny));
    if (test_skip_loops_cut(*st, "this case")) {
        *err = *err_frozen = -1; /* nothing computed */
    } else {
        if (*st != SMNN_SUCCESS && *st != SMNN_ERROR_NOT_CONVERGED)
            fail_msg("solve: %s (%s)", smnn_status_name(*st), smnn_last_error());
        *err = test_rel_err(y, ref, ny);
        smnn_status sf = smnn_solve_frozen(plan, in.c, in.d, in.u, y);
        if (sf != SMNN_SUCCESS && sf != SMNN_ERROR_NOT_CONVERGED)
            fail_msg("frozen solve: %s (%s)", smnn_status_name(sf), smnn_last_error());
        *err_frozen = test_rel_err(y, ref, ny);
    }

    smnn_plan_free(plan);
    test_canaried_free(y);
    free(ref);
    test_inputs_free(&in);
}

static void test_single_cases(void **state) {
    (void)state;
    const int widths[2] = {1, 8};
    for (int w = 0; w < 2; w++) {
        for (size_t i = 0; i < NCASES; i++) {
            if (w == 1 && cases[i].variant == SMNN_VARIANT_LOCAL) continue;
            if (test_skip_wide(cases[i].V * cases[i].R1, widths[w], cases[i].variant, "this case"))
                continue;
            double e, ef, fl;
            smnn_status st;
            qr_case(&cases[i], widths[w], 1e-2, 1.0, 2000 + i, &e, &ef, &fl, &st);
            if (e < 0) continue; /* the device cannot run it (printed) */
            fprintf(stderr, "# case %2zu n = %2zu %-7s %d per item, steps [1e-2, 1]: solve %.2e, "
                    "frozen %.2e (%s); inputs rounded to float move y by %.2e\n", i,
                    cases[i].V * cases[i].R1, smnn_variant_name(cases[i].variant), widths[w], e,
                    ef, smnn_status_name(st), fl);
            if (!(e <= fmax(1e-5, 100 * fl)))
                fail_msg("case %zu: single-precision QR error %g > max(1e-5, 100 x %g)", i, e, fl);
            /* Frozen solves are semi-normal equations (R^T R y = beta) with corrected steps: their
             * error grows with cond(A)^2 (documented in solver.h). */
            if (!(ef <= 1e-3)) fail_msg("case %zu: frozen QR solve error %g > 1e-3", i, ef);
        }
    }
}

/* Small steps make the high orders nearly invisible to the rows (steps 1e-3..1e-2 with n_orders
 * 4..5: cond(A) 1e7..1e8; n_orders 5 even with steps up to 1). Double precision with QR solves them (within 1e-7 of the reference);
 * in single precision their high-order columns fall below the rounding (R_t's diagonal reaches
 * 0.05..10 eps of its column), the solution is lost, and each system must be reported (rank
 * deficient, or refinement not converged) or else be accurate: never a silent wrong number. */
static void test_small_steps(void **state) {
    (void)state;
    const test_case small[] = {
        {4, 40, 1, 4, 1, 1, 2, 0, SMNN_VARIANT_PRIVATE},
        {4, 40, 2, 5, 2, 1, 2, 0, SMNN_VARIANT_PRIVATE},
        {4, 40, 2, 4, 2, 1, 1, 0, SMNN_VARIANT_LOCAL},
        {9, 40, 2, 5, 2, 1, 2, 0, SMNN_VARIANT_PRIVATE}, /* n_orders 5, steps [1e-2, 1] */
    };
    const double lo[] = {1e-3, 1e-3, 1e-3, 1e-2}, hi[] = {1e-2, 1e-2, 1e-2, 1};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        smnn_problem p;
        test_problem_of(&small[i], 2.0, 10.0, 0.5, &p);
        test_rng r = test_rng_make(3000 + i);
        test_inputs in;
        test_inputs_make(&p, &r, lo[i], hi[i], &in);
        size_t ny = smnn_problem_y_count(&p), per = ny / p.batch;
        double *ref = malloc(ny * sizeof *ref), *y = malloc(ny * sizeof *y);
        assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0), SMNN_SUCCESS);
        for (int prec = 0; prec < 2; prec++) {
            if (prec == 0 && test_lacks_fp64("the double-precision half")) continue;
            smnn_plan_options opt = qr_options(prec ? SMNN_PRECISION_SINGLE
                                                    : SMNN_PRECISION_DOUBLE, small[i].variant);
            smnn_plan *plan = NULL;
            assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
            smnn_status st = smnn_solve(plan, in.c, in.d, in.u, in.s, y);
            if (test_skip_loops_cut(st, "this shape")) {
                smnn_plan_free(plan);
                continue;
            }
            smnn_failure_report fail, unconv;
            assert_status(smnn_plan_failures(plan, &fail), SMNN_SUCCESS);
            assert_status(smnn_plan_unconverged(plan, &unconv), SMNN_SUCCESS);
            /* Per system: reported, or accurate. */
            size_t silent_bad = 0, reported = fail.count + unconv.count;
            double worst = 0;
            for (size_t b = 0; b < p.batch; b++) {
                double e = test_rel_err(y + b * per, ref + b * per, per);
                if (isfinite(e) && e > worst) worst = e;
                if (!(e <= 1e-3) && st == SMNN_SUCCESS) silent_bad++;
            }
            fprintf(stderr, "# steps [%g, %g], V = %zu, n_orders %zu, %-7s %s: %s, %zu of %zu "
                    "systems reported, worst error of the others %.2e\n", lo[i], hi[i], small[i].V,
                    small[i].R1, smnn_variant_name(small[i].variant), prec ? "single" : "double",
                    smnn_status_name(st), reported, p.batch, worst);
            assert_int_equal(silent_bad, 0);
            if (prec == 0) {
                assert_status(st, SMNN_SUCCESS);
                if (!(worst <= 1e-7)) fail_msg("double QR error %g > 1e-7", worst);
            }
            smnn_plan_free(plan);
        }
        free(ref);
        free(y);
        test_inputs_free(&in);
    }
}

/* The paper's six ODEs, T = 1000, step 0.01, in single precision with QR against the same in
 * double: at most one decimal digit lost (relative MSE, the square of the error, within 100x),
 * or a relative MSE <= 1e-9. */
static void test_six_odes_single(void **state) {
    (void)state;
    test_skip_without_fp64();
    for (int form = ODE_SINGLE; form <= ODE_SYSTEM; form++) {
        for (int i = 0; i < ODE_COUNT; i++) {
            const ode_def *o = &ode_table[i];
            if (form == ODE_SYSTEM && o->order == 1) continue;
            size_t orders = form == ODE_SINGLE ? (size_t)o->order + 2 : 3;
            smnn_problem p;
            double *c, *d, *u, *s;
            assert_int_equal(ode_problem(o, form, 1000, 0.01, orders, 2, &p, &c, &d, &u, &s), 0);
            size_t ny = smnn_problem_y_count(&p);
            double *yd = malloc(ny * sizeof *yd), *ys = malloc(ny * sizeof *ys);
            smnn_plan *plan = NULL;
            assert_status(smnn_plan_create(test_context(), &p, NULL, &plan), SMNN_SUCCESS);
            assert_status(smnn_solve(plan, c, d, u, s, yd), SMNN_SUCCESS);
            smnn_plan_free(plan);
            smnn_plan_options opt = qr_options(SMNN_PRECISION_SINGLE, SMNN_VARIANT_AUTO);
            assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
            smnn_status st = smnn_solve(plan, c, d, u, s, ys);
            assert_true(st == SMNN_SUCCESS || st == SMNN_ERROR_NOT_CONVERGED);
            smnn_plan_free(plan);
            for (int k = 0; k < 3; k++) {
                double ed = ode_rel_mse(o, form, &p, yd, 1, k, 0.01);
                double es = ode_rel_mse(o, form, &p, ys, 1, k, 0.01);
                fprintf(stderr, "# %-27s %-6s y^(%d): rel MSE double %.2e, single QR %.2e (%s)\n",
                        o->name, form == ODE_SINGLE ? "single" : "system", k, ed, es,
                        smnn_status_name(st));
                assert_true(isfinite(es));
                /* A solve whose accuracy is not confirmed says so (NOT_CONVERGED); one that
                 * returns success must be within a digit. */
                if (st == SMNN_SUCCESS && !(es <= fmax(100 * ed, 1e-9)))
                    fail_msg("%s: single QR relative MSE %g of y^(%d) against %g in double",
                             o->name, es, k, ed);
            }
            free(yd);
            free(ys);
            free(c);
            free(d);
            free(u);
            free(s);
        }
    }
}

/* y'' = -y given y(0) = 1, y'(0) = 0, constant step h over T points, in double: max |y - cos t|
 * with the given factorization. */
static double oscillator(smnn_factorization f, size_t T, double h, int frozen) {
    smnn_problem p;
    smnn_problem_init(&p);
    p.steps = T;
    p.orders = 3;
    p.init_orders = 2;
    p.shared = SC(C_TIME) | SC(D_TIME) | SC(S_TIME);
    double c[3] = {1, 0, 1}, d[1] = {0}, u[2] = {1, 0}, s[1] = {h};
    double *y = malloc(T * 3 * sizeof *y);
    smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_AUTO);
    opt.factorization = f;
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
    smnn_status st = smnn_solve(plan, c, d, u, s, y);
    if (frozen && st == SMNN_SUCCESS) st = smnn_solve_frozen(plan, c, d, u, y);
    double err = 0;
    for (size_t t = 0; t < T; t++) err = fmax(err, fabs(y[3 * t] - cos((double)t * h)));
    smnn_plan_free(plan);
    free(y);
    if (st != SMNN_SUCCESS && st != SMNN_ERROR_NOT_CONVERGED)
        fail_msg("oscillator T = %zu: %s", T, smnn_status_name(st));
    return st == SMNN_SUCCESS ? err : INFINITY;
}

static void test_double_long_horizon(void **state) {
    (void)state;
    test_skip_without_fp64();
    double chol = oscillator(SMNN_FACTORIZATION_CHOLESKY, 20000, 5e-4, 0);
    double qr = oscillator(SMNN_FACTORIZATION_QR, 20000, 5e-4, 0);
    double qrf = oscillator(SMNN_FACTORIZATION_QR, 20000, 5e-4, 1);
    fprintf(stderr, "# y'' = -y, T = 2e4, step 5e-4: max error Cholesky %.2e, QR %.2e, QR frozen "
            "%.2e\n", chol, qr, qrf);
    assert_true(qr <= 1e-5);
    assert_true(qrf <= 1e-5);
    double far = oscillator(SMNN_FACTORIZATION_QR, 1000000, 1e-4, 0);
    fprintf(stderr, "# y'' = -y, T = 1e6, step 1e-4 (t <= 100): max error QR %.2e\n", far);
    assert_true(far <= 1e-3); /* the normal equations: 1.0, i.e. no digit */
}

/* Weights spread over many decades, random V = 2 problem: within 1e-7 of the reference. */
static void test_double_spread_weights(void **state) {
    (void)state;
    test_skip_without_fp64();
    const double w[3][3] = {{1e6, 1, 1}, {1, 1, 1e6}, {1e-8, 1, 1}}; /* gov, init, smooth */
    const test_case k = {2, 40, 2, 3, 2, 1, 2, 0, SMNN_VARIANT_AUTO};
    for (int i = 0; i < 3; i++) {
        smnn_problem p;
        test_problem_of(&k, w[i][0], w[i][1], w[i][2], &p);
        test_rng r = test_rng_make(4000 + (uint64_t)i);
        test_inputs in;
        test_inputs_make(&p, &r, 0.02, 0.2, &in);
        size_t ny = smnn_problem_y_count(&p);
        double *ref = malloc(ny * sizeof *ref), *y = malloc(ny * sizeof *y);
        assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0), SMNN_SUCCESS);
        double err[2];
        for (int f = 0; f < 2; f++) {
            smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_AUTO);
            opt.factorization = f ? SMNN_FACTORIZATION_QR : SMNN_FACTORIZATION_CHOLESKY;
            smnn_plan *plan = NULL;
            assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
            smnn_status st = smnn_solve(plan, in.c, in.d, in.u, in.s, y);
            err[f] = st == SMNN_SUCCESS ? test_rel_err(y, ref, ny) : INFINITY;
            smnn_plan_free(plan);
        }
        fprintf(stderr, "# w_gov %g, w_smooth %g: relative error Cholesky %.2e, QR %.2e\n",
                w[i][0], w[i][2], err[0], err[1]);
        if (!(err[1] <= 1e-7)) fail_msg("weights case %d: QR error %g > 1e-7", i, err[1]);
        free(ref);
        free(y);
        test_inputs_free(&in);
    }
}

/* Gradients of l = sum(g * y) in single precision with QR against the same in double. */
static void test_single_gradients(void **state) {
    (void)state;
    test_skip_without_fp64();
    const test_case gk[] = {
        {3, 12, 1, 3, 1, 1, 1, 0, SMNN_VARIANT_PRIVATE},
        {4, 10, 2, 3, 2, 1, 2, SC(C_TIME) | SC(S_BATCH), SMNN_VARIANT_PRIVATE},
        {2, 9, 2, 4, 2, 1, 0, SC(D_BATCH), SMNN_VARIANT_LOCAL},
    };
    for (size_t i = 0; i < sizeof gk / sizeof gk[0]; i++) {
        smnn_problem p;
        test_problem_of(&gk[i], 1.0, 2.0, 0.7, &p);
        test_rng r = test_rng_make(5000 + i);
        test_inputs in;
        test_inputs_make(&p, &r, 0.05, 0.5, &in);
        size_t ny = smnn_problem_y_count(&p), cnt[4] = {smnn_problem_c_count(&p),
                                                        smnn_problem_d_count(&p),
                                                        smnn_problem_u_count(&p),
                                                        smnn_problem_s_count(&p)};
        double *gy = malloc(ny * sizeof *gy), *y = malloc(ny * sizeof *y);
        for (size_t e = 0; e < ny; e++) gy[e] = test_uniform(&r, -1, 1);
        double *g[2][4];
        for (int prec = 0; prec < 2; prec++) {
            for (int j = 0; j < 4; j++) g[prec][j] = malloc(cnt[j] * sizeof(double));
            smnn_plan_options opt =
                qr_options(prec ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE, gk[i].variant);
            smnn_plan *plan = NULL;
            assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
            smnn_status st = smnn_solve(plan, in.c, in.d, in.u, in.s, y);
            assert_true(st == SMNN_SUCCESS || st == SMNN_ERROR_NOT_CONVERGED);
            st = smnn_backward(plan, in.c, in.d, in.s, y, gy, g[prec][0], g[prec][1], g[prec][2],
                               g[prec][3]);
            assert_true(st == SMNN_SUCCESS || st == SMNN_ERROR_NOT_CONVERGED);
            smnn_plan_free(plan);
        }
        const char *names[4] = {"c", "d", "u", "s"};
        fprintf(stderr, "# gradient case %zu, single QR vs double QR:", i);
        for (int j = 0; j < 4; j++) {
            double e = test_rel_err(g[1][j], g[0][j], cnt[j]);
            fprintf(stderr, " %s %.1e", names[j], e);
            if (!(e <= 1e-4)) fail_msg("case %zu: gradient of %s error %g > 1e-4", i, names[j], e);
        }
        fprintf(stderr, "\n");
        for (int prec = 0; prec < 2; prec++)
            for (int j = 0; j < 4; j++) free(g[prec][j]);
        free(gy);
        free(y);
        test_inputs_free(&in);
    }
}

/* Rank deficiency: with c = 0 nothing fixes the first derivative (n_orders 2 or 3, one initial
 * value), and with T = 2 the Taylor rows cannot fix six orders. The reference refuses such
 * systems; QR plans isolate them (NaN y) and report SMNN_ERROR_RANK_DEFICIENT, in both variants
 * and precisions, and solve the healthy system of the batch. */
static void test_rank_deficient(void **state) {
    (void)state;
    const struct { size_t T, R1; } shapes[] = {{20, 2}, {20, 3}, {2, 6}};
    for (size_t i = 0; i < 3; i++) {
        for (int v = SMNN_VARIANT_PRIVATE; v <= SMNN_VARIANT_LOCAL; v++) {
            for (int prec = 0; prec < 2; prec++) {
                if (prec == 0 && !test_has_fp64()) continue;
                smnn_problem p;
                smnn_problem_init(&p);
                /* T = 2 leaves six orders undetermined whatever c is: no healthy neighbour. */
                const int healthy = i < 2;
                p.batch = healthy ? 2 : 1;
                p.steps = shapes[i].T;
                p.orders = shapes[i].R1;
                p.init_orders = 1;
                p.shared = SC(D_BATCH) | SC(U_BATCH) | SC(S_BATCH);
                size_t nc = smnn_problem_c_count(&p), ny = smnn_problem_y_count(&p);
                double *c = calloc(nc, sizeof *c), *y = malloc(ny * sizeof *y);
                double d[64] = {0}, u[1] = {1}, s[64];
                for (size_t t = 0; t < 64; t++) s[t] = 0.1;
                /* System 1 is healthy: y' + y = 0 at every point (highest order kept). */
                for (size_t t = 0; healthy && t < p.steps; t++) {
                    double *ct = c + (p.steps + t) * p.orders;
                    ct[0] = 1;
                    ct[1] = 1;
                    if (p.orders > 2) ct[p.orders - 1] = 1e-3;
                }
                if (v == SMNN_VARIANT_PRIVATE && prec == 0) {
                    /* The reference agrees: system 0 rank deficient, system 1 solvable. */
                    smnn_problem one = p;
                    one.batch = 1;
                    assert_status(smnn_reference_solve(&one, c, d, u, s, y, 0),
                                  SMNN_ERROR_NOT_POSITIVE_DEFINITE);
                    if (healthy)
                        assert_status(smnn_reference_solve(&one, c + nc / 2, d, u, s, y, 0),
                                      SMNN_SUCCESS);
                }
                smnn_plan_options opt =
                    qr_options(prec ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE,
                               (smnn_variant)v);
                smnn_plan *plan = NULL;
                assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
                assert_status(smnn_solve(plan, c, d, u, s, y), SMNN_ERROR_RANK_DEFICIENT);
                assert_non_null(strstr(smnn_last_error(), "rank deficient"));
                smnn_failure_report rep;
                assert_status(smnn_plan_failures(plan, &rep), SMNN_SUCCESS);
                if (rep.count != 1)
                    fail_msg("T = %zu, n_orders %zu, %s, %s: %zu systems reported, expected 1",
                             p.steps, p.orders, smnn_variant_name((smnn_variant)v),
                             prec ? "single" : "double", rep.count);
                assert_int_equal(rep.first_system, 0);
                size_t per = ny / p.batch;
                for (size_t e = 0; e < per; e++) assert_true(isnan(y[e]));
                for (size_t e = per; e < ny; e++) assert_true(isfinite(y[e]));
                smnn_plan_free(plan);
                free(c);
                free(y);
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_cases),
        cmocka_unit_test(test_small_steps),
        cmocka_unit_test(test_six_odes_single),
        cmocka_unit_test(test_double_long_horizon),
        cmocka_unit_test(test_double_spread_weights),
        cmocka_unit_test(test_single_gradients),
        cmocka_unit_test(test_rank_deficient),
    };
    return cmocka_run_group_tests_name("qr", tests, NULL, test_teardown_context);
}
