/* The dense reference solver: closed-form solutions of the paper's six standalone ODEs,
 * hand-solved tiny systems, and every invalid input (which must leave y untouched). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odes.h"
#include "testutil.h"

/* Paper Appendix B.1 / Table 3: T = 1000 points, step 0.01, relative MSE of y <= 1e-6. Left out
 * under the sanitizer setup (SMNN_TEST_SANITIZE): its time (about 250 s) is LAPACK's, which is
 * not instrumented, and the host code around it is the same as in the small cases below. */
static void test_six_odes(void **state) {
    (void)state;
    if (getenv("SMNN_TEST_SANITIZE")) {
        fprintf(stderr, "# six ODEs: skipped under the sanitizer (LAPACK time only)\n");
        skip();
    }
    for (int i = 0; i < ODE_COUNT; i++) {
        const ode_def *o = &ode_table[i];
        smnn_problem p;
        double *c, *d, *u, *s;
        size_t orders = (size_t)o->order + 2;
        assert_int_equal(ode_problem(o, ODE_SINGLE, 1000, 0.01, orders, 1, &p, &c, &d, &u, &s), 0);
        double *y = malloc(smnn_problem_y_count(&p) * sizeof *y);
        assert_status(smnn_reference_solve(&p, c, d, u, s, y, 0), SMNN_SUCCESS);
        for (int k = 0; k < 3 && (size_t)k < orders; k++) {
            double e = ode_rel_mse(o, ODE_SINGLE, &p, y, 0, k, 0.01);
            fprintf(stderr, "# %-28s n_orders %zu: rel MSE y^(%d) = %.2e\n", o->name, orders, k, e);
            if (k == 0 && !(e <= 1e-6)) fail_msg("%s: relative MSE of y %g > 1e-6", o->name, e);
        }
        free(c);
        free(d);
        free(u);
        free(s);
        free(y);
    }
}

static void tiny(smnn_problem *p) {
    smnn_problem_init(p);
    p->steps = 2;
}

/* T = 2, one order: rows y0 = d0, y1 = d1, y0 = u, y1 - y0 = 0 (twice). With weights
 * (w_gov, w_init, w_smooth) = (1, 1, 1) and d = (1, 2), u = 3 the normal equations
 * [[4, -2], [-2, 3]] y = [4, 2] give y = (2, 2); with w_gov = 2 they become
 * [[7, -2], [-2, 6]] y = [7, 8], so y = (29/19, 35/19). */
static void test_tiny_by_hand(void **state) {
    (void)state;
    smnn_problem p;
    tiny(&p);
    double c[2] = {1, 1}, d[2] = {1, 2}, u[1] = {3}, s[1] = {0.25}, y[2];
    assert_status(smnn_reference_solve(&p, c, d, u, s, y, 0), SMNN_SUCCESS);
    double want[2] = {2, 2};
    assert_allclose(y, want, 2, 1e-14, 1e-14);
    p.w_gov = 2;
    assert_status(smnn_reference_solve(&p, c, d, u, s, y, 0), SMNN_SUCCESS);
    double want2[2] = {29.0 / 19, 35.0 / 19};
    assert_allclose(y, want2, 2, 1e-14, 1e-14);
}

/* y' = 1, y(0) = 0 with two orders is consistent: every constraint holds for y = t, y' = 1, so
 * the least-squares solution is exact whatever the weights: y = (0, 1, h, 1). */
static void test_consistent_by_hand(void **state) {
    (void)state;
    smnn_problem p;
    tiny(&p);
    p.orders = 2;
    p.w_smooth = 3.7;
    double c[4] = {0, 1, 0, 1}, d[2] = {1, 1}, u[1] = {0}, s[1] = {0.3}, y[4];
    assert_status(smnn_reference_solve(&p, c, d, u, s, y, 0), SMNN_SUCCESS);
    double want[4] = {0, 1, 0.3, 1};
    assert_allclose(y, want, 4, 1e-13, 1e-13);
}

/* Shared inputs are read in place: a batch of 3 with everything shared equals 3 copies of one
 * unshared system. */
static void test_shared_equals_copies(void **state) {
    (void)state;
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = 3;
    p.steps = 6;
    p.dims = 2;
    p.orders = 2;
    p.equations = 2;
    p.shared = 0xff;
    test_rng r = test_rng_make(7);
    test_inputs in;
    test_inputs_make(&p, &r, 0.2, 0.9, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *y = malloc(ny * sizeof *y);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, y, 0), SMNN_SUCCESS);
    /* Expand by hand into an unshared single system and compare each batch member. */
    smnn_problem q = p;
    q.batch = 1;
    q.shared = 0;
    size_t n = 4;
    double *c = malloc(6 * 2 * n * sizeof *c), *d = malloc(6 * 2 * sizeof *d);
    double *s = malloc(5 * sizeof *s), u[2] = {in.u[0], in.u[1]}, y1[24];
    for (size_t t = 0; t < 6; t++) {
        memcpy(c + t * 2 * n, in.c, 2 * n * sizeof *c);
        memcpy(d + t * 2, in.d, 2 * sizeof *d);
        if (t < 5) s[t] = in.s[0];
    }
    assert_status(smnn_reference_solve(&q, c, d, u, s, y1, 0), SMNN_SUCCESS);
    for (size_t b = 0; b < 3; b++) assert_allclose(y + b * 24, y1, 24, 1e-14, 1e-14);
    free(c);
    free(d);
    free(s);
    free(y);
    test_inputs_free(&in);
}

/* Each invalid input returns the expected status and leaves y as it was. */
static void test_invalid_inputs(void **state) {
    (void)state;
    double c[8] = {1, 1, 1, 1, 1, 1, 1, 1}, d[4] = {1, 2, 3, 4}, u[4] = {3, 3, 3, 3};
    double s[4] = {0.5, 0.5, 0.5, 0.5}, y[8];
    struct {
        const char *what;
        void (*mutate)(smnn_problem *);
    } bad[] = {
        {"steps 1", NULL}, {"steps 0", NULL}, {"batch 0", NULL}, {"dims 0", NULL},
        {"orders 0", NULL}, {"equations 0", NULL}, {"init_steps 0", NULL},
        {"init_steps > steps", NULL}, {"init_orders 0", NULL}, {"init_orders > orders", NULL},
        {"w_gov 0", NULL}, {"w_init < 0", NULL}, {"w_smooth NaN", NULL}, {"w_gov Inf", NULL},
        {"struct_size", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smnn_problem p;
        tiny(&p);
        switch (i) {
        case 0: p.steps = 1; break;
        case 1: p.steps = 0; break;
        case 2: p.batch = 0; break;
        case 3: p.dims = 0; break;
        case 4: p.orders = 0; break;
        case 5: p.equations = 0; break;
        case 6: p.init_steps = 0; break;
        case 7: p.init_steps = 3; break;
        case 8: p.init_orders = 0; break;
        case 9: p.init_orders = 2; break;
        case 10: p.w_gov = 0; break;
        case 11: p.w_init = -1; break;
        case 12: p.w_smooth = NAN; break;
        case 13: p.w_gov = INFINITY; break;
        case 14: p.struct_size = 3; break;
        }
        for (int k = 0; k < 8; k++) y[k] = 42;
        smnn_status st = smnn_reference_solve(&p, c, d, u, s, y, 0);
        if (st != SMNN_ERROR_INVALID_ARGUMENT)
            fail_msg("%s: got %s", bad[i].what, smnn_status_name(st));
        assert_true(strlen(smnn_last_error()) > 0);
        for (int k = 0; k < 8; k++) assert_true(y[k] == 42);
    }
    smnn_problem p;
    tiny(&p);
    for (int k = 0; k < 8; k++) y[k] = 42;
    assert_status(smnn_reference_solve(NULL, c, d, u, s, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_reference_solve(&p, NULL, d, u, s, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(smnn_last_error(), "coefficients"));
    assert_status(smnn_reference_solve(&p, c, NULL, u, s, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_reference_solve(&p, c, d, NULL, s, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_reference_solve(&p, c, d, u, NULL, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_reference_solve(&p, c, d, u, s, NULL, 0), SMNN_ERROR_INVALID_ARGUMENT);
    double cn[2] = {1, NAN}, di[2] = {INFINITY, 1}, un[1] = {NAN};
    double s0[1] = {0}, sneg[1] = {-0.1}, sinf[1] = {INFINITY};
    assert_status(smnn_reference_solve(&p, cn, d, u, s, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(smnn_last_error(), "coefficients[1]"));
    assert_status(smnn_reference_solve(&p, c, di, u, s, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_reference_solve(&p, c, d, un, s, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_reference_solve(&p, c, d, u, s0, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(smnn_last_error(), "steps[0]"));
    assert_status(smnn_reference_solve(&p, c, d, u, sneg, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_reference_solve(&p, c, d, u, sinf, y, 0), SMNN_ERROR_INVALID_ARGUMENT);
    for (int k = 0; k < 8; k++) assert_true(y[k] == 42);
}

/* Sizes beyond the cap are refused before any allocation, with TOO_LARGE. */
static void test_memory_cap(void **state) {
    (void)state;
    smnn_problem p;
    smnn_problem_init(&p);
    p.steps = 100000;
    p.orders = 3;
    size_t need = smnn_reference_bytes(&p);
    assert_true(need > ((size_t)100 << 30)); /* 100k points: ~ 0.5 TB of dense matrix */
    /* The inputs are never read: the cap check comes first after validation of the values. */
    double *c = calloc(3 * 100000, sizeof *c), *d = calloc(100000, sizeof *d);
    double u[1] = {0}, *s = malloc(99999 * sizeof *s), y[1] = {42};
    for (size_t i = 0; i < 99999; i++) s[i] = 0.01;
    assert_status(smnn_reference_solve(&p, c, d, u, s, y, 0), SMNN_ERROR_TOO_LARGE);
    assert_non_null(strstr(smnn_last_error(), "bytes"));
    smnn_problem small;
    tiny(&small);
    double c2[2] = {1, 1}, d2[2] = {1, 2}, u2[1] = {3}, s2[1] = {0.5}, y2[2] = {42, 42};
    assert_status(smnn_reference_solve(&small, c2, d2, u2, s2, y2, 10), SMNN_ERROR_TOO_LARGE);
    assert_true(y2[0] == 42 && y2[1] == 42);
    setenv("SMNN_REFERENCE_MAX_BYTES", "10", 1);
    assert_status(smnn_reference_solve(&small, c2, d2, u2, s2, y2, 0), SMNN_ERROR_TOO_LARGE);
    setenv("SMNN_REFERENCE_MAX_BYTES", "ten", 1);
    assert_status(smnn_reference_solve(&small, c2, d2, u2, s2, y2, 0), SMNN_ERROR_INVALID_ARGUMENT);
    unsetenv("SMNN_REFERENCE_MAX_BYTES");
    assert_status(smnn_reference_solve(&small, c2, d2, u2, s2, y2, 0), SMNN_SUCCESS);
    free(c);
    free(d);
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_by_hand),
        cmocka_unit_test(test_consistent_by_hand),
        cmocka_unit_test(test_shared_equals_copies),
        cmocka_unit_test(test_invalid_inputs),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_six_odes),
    };
    return cmocka_run_group_tests_name("reference", tests, NULL, NULL);
}
