/* The generator and random-problem maker shared by the tests and the bench
 * (tools/common/randprob.h): its stream is pinned to the published splitmix64 values, so the
 * tests' random problems cannot drift, and the inputs it makes have the promised order, ranges
 * and dominant top-order terms. */
#include <stdint.h>
#include <stdlib.h>

#include "randprob.h"
#include "testutil.h"

static void test_stream(void **state) {
    (void)state;
    /* splitmix64 from seed 0 (Vigna's reference implementation). */
    const uint64_t want[3] = {UINT64_C(0xe220a8397b1dcdaf), UINT64_C(0x6e789e6aa1b965f4),
                              UINT64_C(0x06c45d188009454f)};
    rp_rng r = rp_rng_make(0);
    for (int i = 0; i < 3; i++) assert_true(rp_next(&r) == want[i]);
    /* rp_uniform maps the top 53 bits onto [lo, hi). */
    r = rp_rng_make(0);
    double x = rp_uniform(&r, -1, 1);
    assert_true(x == -1 + 2 * ((double)(want[0] >> 11) / 9007199254740992.0));
    for (int i = 0; i < 1000; i++) {
        double v = rp_uniform(&r, 0.05, 0.15);
        assert_true(v >= 0.05 && v < 0.15);
    }
}

static void test_problem_inputs(void **state) {
    (void)state;
    /* B = 3, T = 5, V = 2, n_orders = 3, Q = 3 (so Q is not a multiple of V), d shared. */
    const test_case k = {3, 5, 2, 3, 3, 1, 2, SMNN_SHARE_D_BATCH, SMNN_VARIANT_AUTO};
    smnn_problem p;
    test_problem_of(&k, 1, 1, 1, &p);
    rp_rng r = rp_rng_make(7);
    rp_inputs in;
    assert_int_equal(rp_inputs_make(&p, &r, 0.5, 0.75, &in), 0);
    /* The draws come in the order c, d, u, s, and only the raise changes c. */
    size_t nc = smnn_problem_c_count(&p), nd = smnn_problem_d_count(&p);
    size_t nu = smnn_problem_u_count(&p), ns = smnn_problem_s_count(&p);
    rp_rng replay = rp_rng_make(7);
    size_t n = p.dims * p.orders;
    for (size_t i = 0; i < nc; i++) {
        size_t row = i / n, q = row % p.equations, top = (q % p.dims) * p.orders + p.orders - 1;
        double raw = rp_uniform(&replay, -1, 1);
        assert_true(in.c[i] == raw + (i % n == top ? 1.5 : 0.0));
    }
    for (size_t i = 0; i < nd; i++) assert_true(in.d[i] == rp_uniform(&replay, -1, 1));
    for (size_t i = 0; i < nu; i++) assert_true(in.u[i] == rp_uniform(&replay, -1, 1));
    for (size_t i = 0; i < ns; i++) {
        assert_true(in.s[i] == rp_uniform(&replay, 0.5, 0.75));
        assert_true(in.s[i] >= 0.5 && in.s[i] < 0.75);
    }
    assert_true(r.state == replay.state);
    rp_inputs_free(&in);
    assert_null(in.c);
    rp_inputs_free(&in); /* freeing twice is harmless */
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stream),
                                       cmocka_unit_test(test_problem_inputs)};
    return cmocka_run_group_tests_name("randprob", tests, NULL, NULL);
}
