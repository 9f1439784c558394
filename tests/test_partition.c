/* Parallel in time (solver.h "Parallel in time", cl/partition.cl): the partitioned walk against
 * the sequential one (options.time_chunks = 1) and against the dense reference, on every path
 * (solve, factor + frozen solve, backward pass, refinement), both precisions, shared inputs,
 * variable steps, unequal chunks, batch chunking and failure isolation; long horizons against
 * the closed form; the automatic rule; options refused with their reasons.
 *
 * Well-conditioned problems (the 1e-12 comparisons): steps in [0.5, 1.5] and a dominant
 * top-order coefficient in every equation (testutil.c) keep the normal matrix's condition
 * number modest, so two elimination orders agree to a few ulps times T-independent factors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odes.h"
#include "testutil.h"

#define SC(x) SMNN_SHARE_##x
static const test_case cases[] = {
    {1, 40, 1, 3, 1, 1, 0, 0, SMNN_VARIANT_PRIVATE},
    {3, 37, 2, 2, 2, 2, 0, 0, SMNN_VARIANT_PRIVATE},
    {5, 61, 1, 4, 1, 1, 2, SC(C_TIME) | SC(S_BATCH), SMNN_VARIANT_PRIVATE},
    {2, 50, 3, 3, 3, 3, 1, SC(D_BATCH) | SC(U_BATCH), SMNN_VARIANT_PRIVATE},
    {9, 33, 1, 3, 1, 1, 0, SC(C_BATCH) | SC(C_TIME) | SC(S_BATCH) | SC(S_TIME),
     SMNN_VARIANT_PRIVATE},
    {1, 25, 3, 2, 2, 1, 0, SC(D_TIME), SMNN_VARIANT_PRIVATE},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Chunk counts for a case of T points: 2, 3 (unequal), 5, 16 where T allows, and the most
 * allowed ((T + 1) / 2: every interior one point, separators every other point). */
static int parts_of(size_t T, int i) {
    static const int list[] = {2, 3, 5, 16};
    if (i < 4) return (size_t)list[i] <= (T + 1) / 2 ? list[i] : 0;
    return i == 4 ? (int)((T + 1) / 2) : 0;
}
#define NPARTS 5

static smnn_plan *make_plan(const smnn_problem *p, smnn_precision prec, int parts, int width) {
    smnn_plan_options opt = test_options(prec, SMNN_VARIANT_PRIVATE);
    opt.factorization = SMNN_FACTORIZATION_CHOLESKY;
    opt.refine_steps = 0;
    opt.time_chunks = parts;
    opt.systems_per_item = width;
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), p, &opt, &plan), SMNN_SUCCESS);
    assert_int_equal(smnn_plan_get_options(plan)->time_chunks, parts);
    return plan;
}

typedef struct run_out {
    double *y, *yf, *gc, *gd, *gu, *gs;
} run_out;

static void run_free(run_out *o) {
    free(o->y);
    free(o->yf);
    free(o->gc);
    free(o->gd);
    free(o->gu);
    free(o->gs);
}

/* Solve, frozen solve with other d and u, and the backward pass of dl/dy = gy. Returns 0 (and
 * prints why, o freed) when the device ends the kernels' loops early (test_skip_loops_cut). */
static int run_all(smnn_plan *plan, const smnn_problem *p, const test_inputs *in,
                   const double *d2, const double *u2, const double *gy, run_out *o) {
    size_t ny = smnn_problem_y_count(p);
    o->y = malloc(ny * sizeof *o->y);
    o->yf = malloc(ny * sizeof *o->yf);
    o->gc = malloc(smnn_problem_c_count(p) * sizeof *o->gc);
    o->gd = malloc(smnn_problem_d_count(p) * sizeof *o->gd);
    o->gu = malloc(smnn_problem_u_count(p) * sizeof *o->gu);
    o->gs = malloc(smnn_problem_s_count(p) * sizeof *o->gs);
    smnn_status st = smnn_solve(plan, in->c, in->d, in->u, in->s, o->y);
    if (test_skip_loops_cut(st, "this case")) {
        run_free(o);
        return 0;
    }
    assert_status(st, SMNN_SUCCESS);
    assert_status(smnn_backward(plan, in->c, in->d, in->s, o->y, gy, o->gc, o->gd, o->gu, o->gs),
                  SMNN_SUCCESS);
    assert_status(smnn_solve_frozen(plan, in->c, d2, u2, o->yf), SMNN_SUCCESS);
    return 1;
}


static double *random_array(test_rng *r, size_t n) {
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = test_uniform(r, -1, 1);
    return x;
}

static void check_close(const char *what, const test_case *k, int parts, const double *a,
                        const double *b, size_t n, double tol, double *worst) {
    double e = test_rel_err(a, b, n);
    if (e > *worst) *worst = e;
    if (!(e <= tol))
        fail_msg("B = %zu, T = %zu, n = %zu, P = %d: %s differs from the sequential walk by %.2e "
                 "(relative), more than %.0e", k->B, k->T, k->V * k->R1, parts, what, e, tol);
}

/* A partitioned run o against the sequential one s0 of problem p (case k, P = parts): y and the
 * frozen y within ytol, the four gradients within gtol; the worst of each kept. */
static void check_runs(const test_case *k, int parts, const smnn_problem *p, const run_out *o,
                       const run_out *s0, double ytol, double gtol, double *worst_y,
                       double *worst_g) {
    size_t ny = smnn_problem_y_count(p);
    check_close("y", k, parts, o->y, s0->y, ny, ytol, worst_y);
    check_close("frozen y", k, parts, o->yf, s0->yf, ny, ytol, worst_y);
    check_close("dl/dc", k, parts, o->gc, s0->gc, smnn_problem_c_count(p), gtol, worst_g);
    check_close("dl/dd", k, parts, o->gd, s0->gd, smnn_problem_d_count(p), gtol, worst_g);
    check_close("dl/du", k, parts, o->gu, s0->gu, smnn_problem_u_count(p), gtol, worst_g);
    check_close("dl/ds", k, parts, o->gs, s0->gs, smnn_problem_s_count(p), gtol, worst_g);
}

/* Every case and chunk count, at one and at eight lanes per work-item, in double precision
 * (where the device has it) and in single: y and the frozen y within 1e-12 of the sequential walk
 * and within the reference's bound, gradients within 1e-9. Single precision keeps the suite's
 * own bounds for float results: 1e-4 for y (test_solve's, normwise) and 1e-3 for gradients
 * (the Oclgrind driver's against the reference's finite differences); measured on PoCL 5.7e-5
 * and 3.4e-4, the two walks' orders of elimination rounding differently in float. */
static void test_matches_sequential(void **state) {
    (void)state;
    for (int pr = SMNN_PRECISION_DOUBLE; pr <= SMNN_PRECISION_SINGLE; pr++) {
        smnn_precision prec = (smnn_precision)pr;
        if (prec == SMNN_PRECISION_DOUBLE && test_lacks_fp64("the double-precision comparison"))
            continue;
        const int dbl = prec == SMNN_PRECISION_DOUBLE;
        const double ytol = dbl ? 1e-12 : 1e-4, gtol = dbl ? 1e-9 : 1e-3;
        double worst_y = 0, worst_g = 0;
        for (size_t ci = 0; ci < NCASES; ci++) {
            const test_case *k = &cases[ci];
            smnn_problem p;
            test_problem_of(k, 1.0, 2.0, 0.7, &p);
            test_rng r = test_rng_make(100 + ci);
            test_inputs in;
            test_inputs_make(&p, &r, 0.5, 1.5, &in);
            size_t ny = smnn_problem_y_count(&p);
            double *d2 = random_array(&r, smnn_problem_d_count(&p));
            double *u2 = random_array(&r, smnn_problem_u_count(&p));
            double *gy = random_array(&r, ny);
            double *ref = malloc(ny * sizeof *ref);
            assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0), SMNN_SUCCESS);
            smnn_plan *seq = make_plan(&p, prec, 1, 1);
            run_out s0;
            int ran = run_all(seq, &p, &in, d2, u2, gy, &s0);
            smnn_plan_free(seq);
            for (int w = 1; ran && w <= 8; w *= 8) {
                if (test_skip_wide(p.dims * p.orders, w, SMNN_VARIANT_PRIVATE, "this width"))
                    continue;
                for (int pi = 0; pi < NPARTS; pi++) {
                    int parts = parts_of(k->T, pi);
                    if (parts < 2) continue;
                    smnn_plan *plan = make_plan(&p, prec, parts, w);
                    run_out o;
                    if (!run_all(plan, &p, &in, d2, u2, gy, &o)) {
                        smnn_plan_free(plan);
                        continue;
                    }
                    assert_matches_reference(o.y, ref, ny, prec);
                    check_runs(k, parts, &p, &o, &s0, ytol, gtol, &worst_y, &worst_g);
                    run_free(&o);
                    smnn_plan_free(plan);
                }
            }
            if (ran) run_free(&s0);
            free(ref);
            free(d2);
            free(u2);
            free(gy);
            test_inputs_free(&in);
        }
        fprintf(stderr, "# %s: partitioned vs sequential: y, frozen y within %.1e; gradients "
                "within %.1e\n", dbl ? "double" : "single", worst_y, worst_g);
    }
}

/* Single precision (Cholesky, refined by default): the partitioned walk against the double
 * reference within the single-precision bound. */
static void test_single_precision(void **state) {
    (void)state;
    const test_case *k = &cases[1];
    smnn_problem p;
    test_problem_of(k, 1.0, 2.0, 0.7, &p);
    test_rng r = test_rng_make(7);
    test_inputs in;
    test_inputs_make(&p, &r, 0.5, 1.5, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *ref = malloc(ny * sizeof *ref), *y = malloc(ny * sizeof *y);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0), SMNN_SUCCESS);
    for (int parts = 2; parts <= 7; parts += 5) {
        smnn_plan_options opt = test_options(SMNN_PRECISION_SINGLE, SMNN_VARIANT_AUTO);
        opt.factorization = SMNN_FACTORIZATION_CHOLESKY;
        opt.time_chunks = parts;
        smnn_plan *plan = NULL;
        assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
        assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
        assert_matches_reference(y, ref, ny, SMNN_PRECISION_SINGLE);
        smnn_plan_free(plan);
    }
    free(ref);
    free(y);
    test_inputs_free(&in);
}

/* Refinement steps with the residual computed apart (refine.c): a double plan refining twice
 * matches the reference, partitioned as sequential. */
static void test_refinement(void **state) {
    (void)state;
    test_skip_without_fp64();
    const test_case *k = &cases[2];
    smnn_problem p;
    test_problem_of(k, 1.0, 2.0, 0.7, &p);
    test_rng r = test_rng_make(8);
    test_inputs in;
    test_inputs_make(&p, &r, 0.5, 1.5, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *ref = malloc(ny * sizeof *ref), *y = malloc(ny * sizeof *y);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0), SMNN_SUCCESS);
    smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_AUTO);
    opt.time_chunks = 4;
    opt.refine_steps = 2;
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
    assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
    assert_matches_reference(y, ref, ny, SMNN_PRECISION_DOUBLE);
    assert_status(smnn_solve_frozen(plan, in.c, in.d, in.u, y), SMNN_SUCCESS);
    assert_matches_reference(y, ref, ny, SMNN_PRECISION_DOUBLE);
    smnn_plan_free(plan);
    free(ref);
    free(y);
    test_inputs_free(&in);
}

/* A batch split into workspace chunks (max_alloc_bytes) gives the same y as one chunk, bit for
 * bit (each system's arithmetic is its own). */
static void test_batch_chunking(void **state) {
    (void)state;
    test_skip_without_fp64();
    smnn_problem p;
    const test_case k = {21, 45, 1, 3, 1, 1, 0, 0, SMNN_VARIANT_PRIVATE};
    test_problem_of(&k, 1.0, 2.0, 0.7, &p);
    test_rng r = test_rng_make(9);
    test_inputs in;
    test_inputs_make(&p, &r, 0.5, 1.5, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *y1 = malloc(ny * sizeof *y1), *y2 = malloc(ny * sizeof *y2);
    smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_PRIVATE);
    opt.time_chunks = 3;
    opt.systems_per_item = 2;
    smnn_plan *one = NULL, *many = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &one), SMNN_SUCCESS);
    assert_int_equal(smnn_plan_chunks(one), 1);
    opt.max_alloc_bytes = smnn_plan_workspace_bytes(one) / 5;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &many), SMNN_SUCCESS);
    assert_true(smnn_plan_chunks(many) > 1);
    assert_status(smnn_solve(one, in.c, in.d, in.u, in.s, y1), SMNN_SUCCESS);
    assert_status(smnn_solve(many, in.c, in.d, in.u, in.s, y2), SMNN_SUCCESS);
    assert_memory_equal(y1, y2, ny * sizeof *y1);
    fprintf(stderr, "# batch chunking: %zu chunks, y bit-identical to one\n",
            smnn_plan_chunks(many));
    smnn_plan_free(one);
    smnn_plan_free(many);
    free(y1);
    free(y2);
    test_inputs_free(&in);
}

static void read_back(cl_mem m, double *x, size_t n) {
    assert_int_equal(clEnqueueReadBuffer(smnn_context_cl_queue(test_context()), m, CL_TRUE, 0,
                                         n * sizeof *x, x, 0, NULL, NULL),
                     CL_SUCCESS);
}

/* Systems with NaN, Inf or overflowing inputs fail alone, reported at their first failing time
 * point, wherever that falls (inside a chunk, on a separator); the others match the reference. */
static void test_failure_isolation(void **state) {
    (void)state;
    test_skip_without_fp64();
    smnn_problem p;
    const test_case k = {6, 24, 2, 3, 2, 1, 0, 0, SMNN_VARIANT_PRIVATE};
    test_problem_of(&k, 1.0, 2.0, 0.7, &p);
    test_rng r = test_rng_make(11);
    test_inputs in;
    test_inputs_make(&p, &r, 0.3, 1.2, &in);
    size_t ny = smnn_problem_y_count(&p), n = 6, T = p.steps, Q = 2;
    double *ref = malloc(ny * sizeof *ref), *y = malloc(ny * sizeof *y);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0), SMNN_SUCCESS);
    /* P = 5 over T = 24: interiors 0-3, 5-8, 10-13, 15-18, 20-23; separators 4, 9, 14, 19. */
    in.c[(1 * T + 9) * Q * n + 3] = NAN;    /* system 1, time 9 (a separator) */
    in.s[3 * (T - 1) + 12] = INFINITY;      /* system 3, step 12: blocks 12 and 13 */
    in.c[(4 * T + 6) * Q * n + 0] = 1e300;  /* system 4, time 6: C^T C overflows */
    in.d[5 * T * Q + 21 * Q] = NAN;         /* system 5, time 21: only the rhs */
    cl_mem bc = test_device_copy(in.c, smnn_problem_c_count(&p));
    cl_mem bd = test_device_copy(in.d, smnn_problem_d_count(&p));
    cl_mem bu = test_device_copy(in.u, smnn_problem_u_count(&p));
    cl_mem bs = test_device_copy(in.s, smnn_problem_s_count(&p));
    cl_mem by = test_device_copy(ref, ny);
    smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_PRIVATE);
    opt.time_chunks = 5;
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
    cl_event ev = NULL;
    assert_status(smnn_solve_async(plan, NULL, bc, bd, bu, bs, by, 0, NULL, &ev), SMNN_SUCCESS);
    assert_int_equal(clWaitForEvents(1, &ev), CL_SUCCESS);
    clReleaseEvent(ev);
    smnn_failure_report rep;
    assert_status(smnn_plan_failures(plan, &rep), SMNN_SUCCESS);
    assert_int_equal(rep.count, 4);
    assert_int_equal(rep.first_system, 1);
    assert_int_equal(rep.first_step, 9);
    read_back(by, y, ny);
    size_t per = T * n;
    for (size_t b = 0; b < 6; b++) {
        int bad = b == 1 || b == 3 || b == 4 || b == 5;
        for (size_t i = 0; i < per; i++) {
            if (bad)
                assert_true(isnan(y[b * per + i]));
            else if (!(fabs(y[b * per + i] - ref[b * per + i]) <=
                       1e-10 * (1 + fabs(ref[b * per + i]))))
                fail_msg("system %zu element %zu: %g vs %g", b, i, y[b * per + i],
                         ref[b * per + i]);
        }
    }
    /* Each corruption alone, in system 2 of the six: the report names the time point the
     * sequential walk fails at, wherever it falls: inside a chunk, on a separator (its own
     * rows), at the chunk after a separator (a failing chunk makes its left separator fail
     * too, which must not be reported), in the right-hand side only. */
    static const struct {
        int what; /* 0: c NaN, 1: s Inf, 2: c overflowing, 3: d NaN */
        size_t t, expect;
    } alone[] = {{0, 9, 9}, {1, 12, 12}, {2, 6, 6}, {3, 21, 21}, {1, 4, 4}, {0, 10, 10},
                 {3, 15, 15}, {2, 14, 14}};
    for (size_t a = 0; a < sizeof alone / sizeof alone[0]; a++) {
        test_inputs clean;
        test_rng r2 = test_rng_make(11);
        test_inputs_make(&p, &r2, 0.3, 1.2, &clean);
        size_t t = alone[a].t;
        if (alone[a].what == 0) clean.c[(2 * T + t) * Q * n + 3] = NAN;
        if (alone[a].what == 1) clean.s[2 * (T - 1) + t] = INFINITY;
        if (alone[a].what == 2) clean.c[(2 * T + t) * Q * n + 0] = 1e300;
        if (alone[a].what == 3) clean.d[2 * T * Q + t * Q] = NAN;
        cl_mem b[5];
        test_device_inputs(&p, &clean, b);
        assert_status(smnn_solve_async(plan, NULL, b[0], b[1], b[2], b[3], b[4], 0, NULL, &ev),
                      SMNN_SUCCESS);
        assert_int_equal(clWaitForEvents(1, &ev), CL_SUCCESS);
        clReleaseEvent(ev);
        assert_status(smnn_plan_failures(plan, &rep), SMNN_SUCCESS);
        if (rep.count != 1 || rep.first_system != 2 || rep.first_step != alone[a].expect)
            fail_msg("corruption %d at %zu: %zu failures, first system %zu at %zu (expected "
                     "system 2 at %zu)", alone[a].what, t, rep.count, rep.first_system,
                     rep.first_step, alone[a].expect);
        test_release_buffers(b, 5);
        test_inputs_free(&clean);
    }
    /* The blocking form names the same first system and time point. */
    in.c[(4 * T + 6) * Q * n + 0] = 1.0;
    in.c[(1 * T + 9) * Q * n + 3] = 1e300;
    in.s[3 * (T - 1) + 12] = 1.0;
    in.d[5 * T * Q + 21 * Q] = 0.5;
    assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y),
                  SMNN_ERROR_NOT_POSITIVE_DEFINITE);
    assert_status(smnn_plan_failures(plan, &rep), SMNN_SUCCESS);
    assert_int_equal(rep.count, 1);
    assert_int_equal(rep.first_system, 1);
    assert_int_equal(rep.first_step, 9);
    smnn_plan_free(plan);
    cl_mem all[] = {bc, bd, bu, bs, by};
    test_release_buffers(all, 5);
    free(ref);
    free(y);
    test_inputs_free(&in);
}

/* The six standalone ODEs (step 0.01) with P = 16. Their normal equations are far from the
 * well-conditioned table: two elimination orders cannot agree to 1e-12 there (at T = 1000 the
 * sequential walk and LAPACK's dense solve differ by 2e-11 to 1e-4, measured once: the dense
 * solve of 5000 unknowns takes a minute here). So at T = 200 the partitioned solution must stay
 * within 10x the sequential walk's own distance to the dense reference, and at T = 1000 within
 * the closed form's 1e-6 (relative MSE of y, y', y'': test_solve's bound). */
static void test_six_odes(void **state) {
    (void)state;
    test_skip_without_fp64();
    for (int i = 0; i < ODE_COUNT; i++) {
        const ode_def *o = &ode_table[i];
        for (size_t T = 200; T <= 1000; T += 800) {
            smnn_problem p;
            double *c, *d, *u, *s;
            assert_int_equal(ode_problem(o, ODE_SINGLE, T, 0.01, (size_t)o->order + 2, 2, &p, &c,
                                         &d, &u, &s), 0);
            size_t ny = smnn_problem_y_count(&p);
            double *y0 = malloc(ny * sizeof *y0), *y1 = malloc(ny * sizeof *y1);
            smnn_plan *seq = make_plan(&p, SMNN_PRECISION_DOUBLE, 1, 0);
            smnn_plan *par = make_plan(&p, SMNN_PRECISION_DOUBLE, 16, 0);
            smnn_status st0 = smnn_solve(seq, c, d, u, s, y0);
            int cut = test_skip_loops_cut(st0, o->name);
            if (!cut) assert_status(st0, SMNN_SUCCESS);
            smnn_status st1 = smnn_solve(par, c, d, u, s, y1);
            if (!cut) cut = test_skip_loops_cut(st1, o->name);
            if (!cut) assert_status(st1, SMNN_SUCCESS);
            double e = cut ? 0 : test_rel_err(y1, y0, ny);
            if (cut) {
                /* nothing to compare: printed by test_skip_loops_cut */
            } else if (T == 200) {
                double *ref = malloc(ny * sizeof *ref);
                assert_status(smnn_reference_solve(&p, c, d, u, s, ref, 0), SMNN_SUCCESS);
                double e0 = test_rel_err(y0, ref, ny), e1 = test_rel_err(y1, ref, ny);
                fprintf(stderr, "# %-27s T = %4zu: P = 16 vs sequential %.1e; to the dense "
                        "reference: sequential %.1e, partitioned %.1e\n", o->name, T, e, e0, e1);
                if (!(e1 <= 10 * e0 || e1 <= 1e-12))
                    fail_msg("%s: partitioned %.2e from the reference, sequential %.2e", o->name,
                             e1, e0);
                free(ref);
            } else {
                double m[3];
                for (int kd = 0; kd < 3; kd++) {
                    m[kd] = ode_rel_mse(o, ODE_SINGLE, &p, y1, 1, kd, 0.01);
                    if (!(m[kd] <= 1e-6))
                        fail_msg("%s: relative MSE of derivative %d is %g > 1e-6", o->name, kd,
                                 m[kd]);
                }
                fprintf(stderr, "# %-27s T = %4zu: P = 16 vs sequential %.1e; relative MSE of "
                        "y, y', y'' %.1e %.1e %.1e\n", o->name, T, e, m[0], m[1], m[2]);
            }
            smnn_plan_free(seq);
            smnn_plan_free(par);
            free(c);
            free(d);
            free(u);
            free(s);
            free(y0);
            free(y1);
        }
    }
}

/* y'' = -y, y(0) = 1, y'(0) = 0 over T = 1e5 points at step 1e-3 (the normal equations keep
 * about 3 digits there): for P in {2, 3, 16, 1000} (chunks of unequal length: T - P + 1 is not
 * a multiple of P) the distance to cos t stays within 10x the sequential walk's own. (At
 * T = 1e6 the discretisation itself drifts a whole amplitude off cos t for both walks, at steps
 * 1e-3 and 1e-2 alike, so the longer horizon is compared on a well-conditioned problem below.) */
static void test_long_horizon(void **state) {
    (void)state;
    test_skip_without_fp64();
    const size_t T = 100000;
    const double h = 1e-3;
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = 1;
    p.steps = T;
    p.dims = 1;
    p.orders = 3;
    p.equations = 1;
    p.init_steps = 1;
    p.init_orders = 2;
    double *c = calloc(T * 3, sizeof *c), *d = calloc(T, sizeof *d), u[2] = {1, 0};
    double *s = malloc((T - 1) * sizeof *s), *y = malloc(T * 3 * sizeof *y);
    for (size_t t = 0; t < T; t++) c[t * 3] = c[t * 3 + 2] = 1;
    for (size_t t = 0; t + 1 < T; t++) s[t] = h;
    double e0 = 0;
    const int list[] = {1, 2, 3, 16, 1000};
    for (int i = 0; i < 5; i++) {
        smnn_plan *plan = make_plan(&p, SMNN_PRECISION_DOUBLE, list[i], 0);
        smnn_status st = smnn_solve(plan, c, d, u, s, y);
        if (test_skip_loops_cut(st, "y'' = -y over T = 1e5")) {
            smnn_plan_free(plan);
            break;
        }
        assert_status(st, SMNN_SUCCESS);
        double e = 0;
        for (size_t t = 0; t < T; t++) {
            double dv = fabs(y[t * 3] - cos((double)t * h));
            if (!(dv <= e)) e = dv; /* NaN propagates */
        }
        if (i == 0) e0 = e;
        fprintf(stderr, "# y'' = -y, T = 1e5: P = %4d max |y - cos t| = %.2e (%.2fx sequential)\n",
                list[i], e, e / e0);
        if (!(e <= 10 * e0)) fail_msg("P = %d: error %.2e > 10x the sequential %.2e", list[i], e, e0);
        smnn_plan_free(plan);
    }
    free(c);
    free(d);
    free(s);
    free(y);
}

/* T = 1e6 on a well-conditioned random problem (steps in [0.5, 1.5]): for P in {2, 3, 16, 1000}
 * y within 1e-12 of the sequential walk and the four gradients within 1e-9. */
static void test_million_points(void **state) {
    (void)state;
    test_skip_without_fp64();
    const test_case k = {1, 1000000, 1, 3, 1, 1, 0, 0, SMNN_VARIANT_PRIVATE};
    smnn_problem p;
    test_problem_of(&k, 1.0, 2.0, 0.7, &p);
    test_rng r = test_rng_make(12);
    test_inputs in;
    test_inputs_make(&p, &r, 0.5, 1.5, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *gy = random_array(&r, ny);
    smnn_plan *seq = make_plan(&p, SMNN_PRECISION_DOUBLE, 1, 0);
    run_out s0;
    smnn_status st = smnn_solve(seq, in.c, in.d, in.u, in.s, gy); /* probe: loops cut? */
    if (test_skip_loops_cut(st, "T = 1e6")) {
        smnn_plan_free(seq);
        free(gy);
        test_inputs_free(&in);
        return;
    }
    for (size_t i = 0; i < ny; i++) gy[i] = test_uniform(&r, -1, 1);
    run_all(seq, &p, &in, in.d, in.u, gy, &s0);
    smnn_plan_free(seq);
    const int list[] = {2, 3, 16, 1000};
    double worst_y = 0, worst_g = 0;
    for (int i = 0; i < 4; i++) {
        smnn_plan *plan = make_plan(&p, SMNN_PRECISION_DOUBLE, list[i], 0);
        run_out o;
        run_all(plan, &p, &in, in.d, in.u, gy, &o);
        check_runs(&k, list[i], &p, &o, &s0, 1e-12, 1e-9, &worst_y, &worst_g);
        run_free(&o);
        smnn_plan_free(plan);
    }
    fprintf(stderr, "# T = 1e6, P = 2, 3, 16, 1000: y within %.1e of the sequential walk, "
            "gradients within %.1e\n", worst_y, worst_g);
    run_free(&s0);
    free(gy);
    test_inputs_free(&in);
}

/* One batch over two contexts on the device (lib/multi): the parts' plans take the whole
 * batch's time chunks, the calibration solve (64 points) as many as it holds, and every system
 * comes out bit-identical to one plan's. P = 100 over T = 5000 made the calibration plan fail
 * before (100 chunks need 199 points). */
static void test_several_contexts(void **state) {
    (void)state;
    const smnn_device_info *d = smnn_context_device(test_context());
    char spec[64];
    snprintf(spec, sizeof spec, "%u:%u,%u:%u", d->platform_index, d->device_index,
             d->platform_index, d->device_index);
    smnn_context **ctxs = NULL;
    size_t nctx = 0;
    assert_status(smnn_contexts_create(spec, &ctxs, &nctx), SMNN_SUCCESS);
    const test_case k = {3, 5000, 1, 3, 1, 1, 0, SMNN_SHARE_S_BATCH, SMNN_VARIANT_PRIVATE};
    smnn_problem p;
    test_problem_of(&k, 1.0, 2.0, 0.7, &p);
    test_rng r = test_rng_make(13);
    test_inputs in;
    test_inputs_make(&p, &r, 0.5, 1.5, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *y1 = malloc(ny * sizeof *y1), *y2 = malloc(ny * sizeof *y2);
    smnn_plan_options opt = test_options(test_device_precision(), SMNN_VARIANT_PRIVATE);
    opt.factorization = SMNN_FACTORIZATION_CHOLESKY;
    opt.time_chunks = 100;
    smnn_plan *one = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &one), SMNN_SUCCESS);
    smnn_status st = smnn_solve(one, in.c, in.d, in.u, in.s, y1);
    if (!test_skip_loops_cut(st, "T = 5000")) {
        assert_status(st, SMNN_SUCCESS);
        smnn_multi_plan *multi = NULL;
        assert_status(smnn_multi_plan_create(ctxs, nctx, &p, &opt, NULL, &multi), SMNN_SUCCESS);
        assert_status(smnn_multi_solve(multi, in.c, in.d, in.u, in.s, y2), SMNN_SUCCESS);
        assert_memory_equal(y1, y2, ny * sizeof *y1);
        smnn_multi_plan_free(multi);
    }
    smnn_plan_free(one);
    smnn_contexts_free(ctxs, nctx);
    free(y1);
    free(y2);
    test_inputs_free(&in);
}

/* Options the partitioned walk cannot take are refused with their reason; the automatic rule
 * picks P = 1 for full batches, more for small ones, and the plan reports it. */
static void test_options_and_rule(void **state) {
    (void)state;
    smnn_problem p;
    const test_case k = {2, 20, 1, 3, 1, 1, 0, 0, SMNN_VARIANT_PRIVATE};
    test_problem_of(&k, 1.0, 1.0, 1.0, &p);
    smnn_precision prec = test_device_precision();
    smnn_plan_options opt = test_options(prec, SMNN_VARIANT_AUTO);
    smnn_plan *plan = NULL;
    opt.time_chunks = 11; /* 20 points hold at most 10 chunks */
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(smnn_last_error(), "time_chunks"));
    opt.time_chunks = -1;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_ERROR_INVALID_ARGUMENT);
    opt.time_chunks = 4;
    opt.factorization = SMNN_FACTORIZATION_QR;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_ERROR_UNSUPPORTED);
    assert_non_null(strstr(smnn_last_error(), "Cholesky"));
    opt.factorization = SMNN_FACTORIZATION_CHOLESKY;
    opt.variant = SMNN_VARIANT_LOCAL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_ERROR_UNSUPPORTED);
    assert_null(plan);
    /* An older options struct (ending with factorization) means automatic. */
    opt = test_options(prec, SMNN_VARIANT_AUTO);
    opt.time_chunks = 7;
    opt.struct_size = offsetof(smnn_plan_options, factorization) + sizeof(smnn_factorization);
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
    assert_int_equal(smnn_plan_get_options(plan)->time_chunks, 1); /* T = 20: too short */
    smnn_plan_free(plan);
    /* The rule on a described device: a 4-unit CPU wants 32 lanes in double. */
    smnn_device_info cpu;
    memset(&cpu, 0, sizeof cpu);
    cpu.is_cpu = 1;
    cpu.compute_units = 4;
    assert_int_equal(smnn_time_chunks_choose(&cpu, 3, 1536, 50, SMNN_PRECISION_DOUBLE), 1);
    assert_int_equal(smnn_time_chunks_choose(&cpu, 3, 1, 100000, SMNN_PRECISION_DOUBLE), 32);
    assert_int_equal(smnn_time_chunks_choose(&cpu, 3, 5, 100000, SMNN_PRECISION_DOUBLE), 7);
    assert_int_equal(smnn_time_chunks_choose(&cpu, 3, 1, 100000, SMNN_PRECISION_SINGLE), 1);
    assert_int_equal(smnn_time_chunks_choose(&cpu, 3, 32, 100000, SMNN_PRECISION_DOUBLE), 1);
    assert_int_equal(smnn_time_chunks_choose(&cpu, 3, 1, 64, SMNN_PRECISION_DOUBLE), 1);
    assert_int_equal(smnn_time_chunks_choose(&cpu, 3, 1, 300, SMNN_PRECISION_DOUBLE), 9);
    assert_int_equal(smnn_time_chunks_choose(&cpu, 65, 1, 100000, SMNN_PRECISION_DOUBLE), 1);
    smnn_device_info gpu = cpu;
    gpu.is_cpu = 0;
    gpu.is_gpu = 1;
    gpu.compute_units = 132;
    assert_int_equal(smnn_time_chunks_choose(&gpu, 3, 1, 1000000, SMNN_PRECISION_DOUBLE), 2000);
    assert_int_equal(smnn_time_chunks_choose(&gpu, 3, 1536, 100000, SMNN_PRECISION_DOUBLE), 22);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_and_rule),
        cmocka_unit_test(test_matches_sequential),
        cmocka_unit_test(test_single_precision),
        cmocka_unit_test(test_refinement),
        cmocka_unit_test(test_batch_chunking),
        cmocka_unit_test(test_failure_isolation),
        cmocka_unit_test(test_six_odes),
        cmocka_unit_test(test_long_horizon),
        cmocka_unit_test(test_million_points),
        cmocka_unit_test(test_several_contexts),
    };
    return cmocka_run_group_tests(tests, NULL, test_teardown_context);
}
