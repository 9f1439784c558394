/* Shared test helpers: seeded random numbers (printed, replayable with SMNN_TEST_SEED), an
 * allclose assertion that reports the worst element, random problems, canaried buffers, and a
 * shared OpenCL context for group fixtures. */
#ifndef SMNN_TESTUTIL_H
#define SMNN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <smnn/smnn.h>

#include "randprob.h"

/* The shared generator (splitmix64, tools/common/randprob.h) under the tests' names. */
typedef rp_rng test_rng;
/* Seeds from SMNN_TEST_SEED if set, else from `fallback`; prints the seed once per binary. */
test_rng test_rng_make(uint64_t fallback);
double test_uniform(test_rng *r, double lo, double hi);

/* Fails the test (with the smnn_last_error() detail) unless st == expected. */
#define assert_status(st, expected) test_assert_status((st), (expected), #st, __FILE__, __LINE__)
void test_assert_status(smnn_status st, smnn_status expected, const char *expr, const char *file,
                        int line);

/* Normwise relative error max|a - b| / max(max|b|, tiny); NaN if any element is NaN. */
double test_rel_err(const double *a, const double *b, size_t n);
/* Fails unless |a_i - b_i| <= atol + rtol |b_i| for all i (NaN never passes); names the worst. */
#define assert_allclose(a, b, n, rtol, atol)                                                       \
    test_assert_allclose((a), (b), (n), (rtol), (atol), #a, __FILE__, __LINE__)
void test_assert_allclose(const double *a, const double *b, size_t n, double rtol, double atol,
                          const char *what, const char *file, int line);

/* A device solution y against the dense reference: elementwise within rtol 1e-10, atol 1e-12
 * in double precision; in single, a normwise relative error of at most 1e-4 (float keeps 7
 * digits, and the well-conditioned test problems lose at most 3 of them: test_solve's bound). */
#define assert_matches_reference(y, ref, n, prec)                                                  \
    test_assert_matches_reference((y), (ref), (n), (prec), #y, __FILE__, __LINE__)
void test_assert_matches_reference(const double *y, const double *ref, size_t n,
                                   smnn_precision prec, const char *what, const char *file,
                                   int line);

/* Random inputs for p from the shared maker (rp_inputs_make): coefficients in [-1, 1) with the
 * highest order of variable q (mod V) in equation q raised by 1.5, rhs and init in [-1, 1),
 * steps in [slo, shi). Fails the test when memory runs out. */
typedef rp_inputs test_inputs;
void test_inputs_make(const smnn_problem *p, test_rng *r, double slo, double shi, test_inputs *in);
void test_inputs_free(test_inputs *in);

/* One row of a table of test shapes, the problem it describes (weights given) and the plan
 * options it runs with (its variant, the given precision, every other option at its default). */
typedef struct test_case {
    size_t B, T, V, R1, Q, Ti, Ri1; /* Ri1 = 0 means n_orders */
    unsigned shared;
    smnn_variant variant;
} test_case;
void test_problem_of(const test_case *k, double w_gov, double w_init, double w_smooth,
                     smnn_problem *p);
smnn_plan_options test_options(smnn_precision prec, smnn_variant variant);

/* Buffers with a canary region after the end: test_canary_ok checks it is untouched. */
double *test_canaried(size_t n);
int test_canary_ok(const double *buf, size_t n);
void test_canaried_free(double *buf);

/* The context shared by a test binary (created on first use from SMNN_DEVICE / default). */
smnn_context *test_context(void);
void test_context_release(void);
/* Whether the shared context's device has cl_khr_fp64, and the precision tests that can run in
 * either take there: double with fp64, single without. */
int test_has_fp64(void);
smnn_precision test_device_precision(void);
/* Prints "# skipped: WHAT needs double precision (cl_khr_fp64), which device 'NAME' lacks" to
 * stderr and returns 1 when the shared device has no fp64, else returns 0: for the
 * double-precision parts of a test whose other parts run in single. */
int test_lacks_fp64(const char *what);
/* At the start of a test that needs fp64 throughout: prints the reason and skips the test
 * (cmocka's skip()) on a device without it. */
#define test_skip_without_fp64()                                                                   \
    do {                                                                                           \
        if (test_lacks_fp64(__func__)) skip();                                                     \
    } while (0)
/* A cmocka group teardown that releases the shared context. */
int test_teardown_context(void **state);

/* 1 when the test device ends long loops early (tools/common/loopprobe.h, probed once per
 * binary: Mesa's llvmpipe), else 0. Fails the test when the probe cannot run. */
int test_device_cuts_loops(void);
/* For the status st of a call on the test device: 1, after printing "# skipped: <what>: ...",
 * when st is the library's report that the device ended the kernels' loops early
 * (SMNN_ERROR_UNSUPPORTED naming it) on a device the probe found cutting loops; else 0. */
int test_skip_loops_cut(smnn_status st, const char *what);
/* For the status st of smnn_plan_create with a forced local variant: 1, after printing
 * "# skipped: <what>: ...", when st is the library's refusal of a kernel whose local memory (as
 * the driver reports it) exceeds the device's, and the device's size it names is the one the
 * device reports (Rusticl's llvmpipe at n = 64: 33,800 bytes of its 32 KiB); else 0. */
int test_skip_local_memory(smnn_status st, const char *what);
/* A copy of the environment variable `name` (malloc'd; NULL when unset), to hand back to
 * test_env_restore once a test has changed the variable. */
char *test_env_save(const char *name);
/* Sets `name` back to `saved` (unset when NULL) and frees `saved`. */
void test_env_restore(const char *name, char *saved);
/* Whether plans created from now on fuse the backward pass: 1 fused ($SMNN_FUSED_BACKWARD=1), 0
 * apart (=0), -1 the library's default (unset: fused where blocks unroll, n <= 5, T <= 50). */
void test_fused_backward(int mode);
/* Whether dev is one of PoCL's, by its platform name: the tests' own check, apart from the
 * library's (smnn__device_is_pocl), so that a broken detection there shows. */
int test_is_pocl(const smnn_device_info *dev);
/* 1, after printing "# skipped: <what>: ...", when SMNN_TEST_SKIP_WIDE_FROM is set to a block
 * size N and the case is a private-variant (or automatic) plan of more than one system per
 * work-item with n >= N (tests/rusticl.sh sets 1: llvmpipe takes minutes to compile each such
 * program, whose private arrays hold 3 n^2 vectors of 8 systems); else 0. */
int test_skip_wide(size_t n, int per_item, smnn_variant variant, const char *what);

/* Device buffers (double) on the shared context: a copy of x[0..n), or n uninitialised values
 * when x is NULL. Fails the test when the allocation fails. */
cl_mem test_device_copy(const double *x, size_t n);
/* Copies of c, d, u, s of p into b[0..4) and an output buffer of y's size into b[4]. */
void test_device_inputs(const smnn_problem *p, const test_inputs *in, cl_mem b[5]);
/* The same with elements of precision prec (cl_double or cl_float), for a plan of that
 * precision; read y back with smnn_buffer_to_host. */
void test_device_inputs_as(const smnn_problem *p, const test_inputs *in, smnn_precision prec,
                           cl_mem b[5]);
void test_release_buffers(cl_mem *b, size_t n);

/* Builds a unique one-kernel source (named by tag) through a new context, so the memory cache is
 * empty, with the disk cache on whatever the driver (context field disk_cache = 1); checks that
 * the program works and that a second lookup comes from memory. Returns where the first build
 * came from (an smnn__program_origin: source, disk or memory). */
int test_build_fresh(const char *tag);

/* Runs a shell command with its stdout and stderr in dir/stdout.txt and dir/stderr.txt (read
 * them with test_slurp); returns its exit status, -1 when it did not exit. */
int test_run_in(const char *dir, const char *cmd);
/* "dir/name" in one of 8 rotating static buffers (so a call may take several). */
const char *test_path_in(const char *dir, const char *name);

/* The contents of dir/name (at most 64 KiB; "" when unreadable) in a static buffer valid until
 * the next call. */
const char *test_slurp(const char *dir, const char *name);

#endif
