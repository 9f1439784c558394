/* smnn-solve-mpi under mpirun -n 2 and -n 3 against smnn-solve in one process: every output
 * (y and the four gradients, shared inputs among them) byte for byte the same file, in double and
 * single precision, also with more ranks than systems; a rank given a bad slice (a non-finite
 * value only it reads), a truncated input and an output that is not a regular file make every
 * rank exit 1 with the failing rank named, and leave the existing outputs untouched.
 * Needs $SMNN_SOLVE, $SMNN_SOLVE_MPI and $SMNN_MPIRUN (set by meson). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npy.h"
#include "testutil.h"

static char dir[128];

static int run(const char *cmd) {
    return test_run_in(dir, cmd);
}

static const char *slurp(const char *name) {
    return test_slurp(dir, name);
}

static const char *in_dir(const char *name) {
    return test_path_in(dir, name);
}

static void write_npy(const char *name, const double *x, const size_t *shape, int nd) {
    char err[256];
    if (npy_write(in_dir(name), x, shape, nd, 0, err, sizeof err) != 0) fail_msg("%s", err);
}

/* Random inputs of B systems, T points, V = 2, n_orders 3, Q = 2; c and s shared across the
 * batch (and time) when asked; dl/dy too. Returns the value count of c. */
static size_t make_files(size_t B, size_t T, int cshared, int sshared) {
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = B;
    p.steps = T;
    p.dims = 2;
    p.orders = 3;
    p.equations = 2;
    p.init_orders = 2;
    if (cshared) p.shared |= SMNN_SHARE_C_BATCH | SMNN_SHARE_C_TIME;
    if (sshared) p.shared |= SMNN_SHARE_S_BATCH;
    test_rng r = test_rng_make(31 + B);
    test_inputs in;
    test_inputs_make(&p, &r, 0.3, 1.0, &in);
    size_t cs[5] = {cshared ? 1 : B, cshared ? 1 : T, 2, 2, 3}, ds[3] = {B, T, 2};
    size_t us[4] = {B, 1, 2, 2}, ss[2] = {sshared ? 1 : B, T - 1}, ys[4] = {B, T, 2, 3};
    write_npy("c.npy", in.c, cs, 5);
    write_npy("d.npy", in.d, ds, 3);
    write_npy("u.npy", in.u, us, 4);
    write_npy("s.npy", in.s, ss, 2);
    double *gy = malloc(B * T * 6 * sizeof *gy);
    for (size_t i = 0; i < B * T * 6; i++) gy[i] = test_uniform(&r, -1, 1);
    write_npy("gy.npy", gy, ys, 4);
    free(gy);
    test_inputs_free(&in);
    return cs[0] * cs[1] * 12;
}

static const char *mpirun(int n) {
    static char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s--oversubscribe -n %d %s", getenv("SMNN_MPIRUN"),
             geteuid() == 0 ? "--allow-run-as-root " : "", n, getenv("SMNN_SOLVE_MPI"));
    return cmd;
}

/* The solve command of `exe` writing OUT.npy and OUT-*.npy gradients. */
static const char *solve_cmd(const char *exe, const char *out, const char *extra) {
    static char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s --coefficients %s/c.npy --rhs %s/d.npy --init %s/u.npy --steps %s/s.npy "
             "--w-init 2 --w-smooth 0.5 --out %s/%s.npy --grad-y %s/gy.npy --grad-out %s/%s %s",
             exe, dir, dir, dir, dir, dir, out, dir, dir, out, extra);
    return cmd;
}

/* The contents of a file (malloc'd), its size in *len; NULL when unreadable. */
static unsigned char *file_bytes(const char *name, size_t *len) {
    FILE *f = fopen(in_dir(name), "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void assert_same_file(const char *a, const char *b, const char *where) {
    size_t la = 0, lb = 0;
    unsigned char *x = file_bytes(a, &la), *y = file_bytes(b, &lb);
    if (!x || !y) fail_msg("%s: %s or %s missing", where, a, b);
    if (la != lb || memcmp(x, y, la) != 0)
        fail_msg("%s: %s and %s differ (%zu and %zu bytes)", where, a, b, la, lb);
    free(x);
    free(y);
}

static const char *const outputs[5] = {"%s.npy", "%s-coefficients.npy", "%s-rhs.npy",
                                       "%s-init.npy", "%s-steps.npy"};

static void compare_all(const char *one, const char *many, const char *where) {
    for (int k = 0; k < 5; k++) {
        char a[64], b[64];
        snprintf(a, sizeof a, outputs[k], one);
        snprintf(b, sizeof b, outputs[k], many);
        assert_same_file(a, b, where);
    }
}

static void test_bit_identical_to_one_process(void **state) {
    (void)state;
    test_skip_without_fp64(); /* smnn-solve's default precision is double */
    const struct {
        size_t B;
        int cshared, sshared;
    } shapes[] = {{23, 0, 1}, {17, 1, 0}, {2, 1, 1}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        make_files(shapes[i].B, 9, shapes[i].cshared, shapes[i].sshared);
        for (int single = 0; single < 2; single++) {
            const char *prec = single ? "--precision single" : "";
            if (run(solve_cmd(getenv("SMNN_SOLVE"), "one", prec)) != 0)
                fail_msg("smnn-solve: %s", slurp("stderr.txt"));
            for (int n = 2; n <= 3; n++) {
                if (run(solve_cmd(mpirun(n), "many", prec)) != 0)
                    fail_msg("mpirun -n %d: %s", n, slurp("stderr.txt"));
                char where[128];
                snprintf(where, sizeof where, "B = %zu, c %s, s %s, %s, -n %d", shapes[i].B,
                         shapes[i].cshared ? "shared" : "per system",
                         shapes[i].sshared ? "shared" : "per system",
                         single ? "single" : "double", n);
                compare_all("one", "many", where);
                fprintf(stderr, "# %s: every output byte-identical\n", where);
            }
        }
    }
}

/* Failures: every rank exits 1, the failing rank is named, existing outputs are untouched. */
static void test_failures_leave_outputs(void **state) {
    (void)state;
    test_skip_without_fp64();
    make_files(12, 7, 0, 0);
    /* Outputs that exist and must survive. */
    for (int k = 0; k < 5; k++) {
        char name[64];
        snprintf(name, sizeof name, outputs[k], "keep");
        FILE *f = fopen(in_dir(name), "w");
        fputs("precious", f);
        fclose(f);
    }
    /* A NaN in system 9's coefficients: under -n 2 only rank 1 (systems 6..11) reads it. */
    npy_array c;
    char err[256];
    if (npy_read(in_dir("c.npy"), &c, err, sizeof err) != 0) fail_msg("%s", err);
    c.data[9 * 7 * 12 + 5] = NAN;
    write_npy("c.npy", c.data, c.shape, c.ndim);
    npy_free(&c);
    assert_int_equal(run(solve_cmd(mpirun(2), "keep", "")), 1);
    const char *msg = slurp("stderr.txt");
    if (!strstr(msg, "rank 1 of 2") || !strstr(msg, "not finite"))
        fail_msg("the message does not name rank 1 and the value: %s", msg);
    for (int k = 0; k < 5; k++) {
        char name[64];
        snprintf(name, sizeof name, outputs[k], "keep");
        assert_string_equal(test_slurp(dir, name), "precious");
    }
    /* A truncated input: refused on every rank before anything runs. */
    make_files(12, 7, 0, 0);
    assert_int_equal(truncate(in_dir("d.npy"), 200), 0);
    assert_int_equal(run(solve_cmd(mpirun(2), "keep", "")), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "d.npy"));
    assert_string_equal(test_slurp(dir, "keep.npy"), "precious");
    /* An output that is not a regular file. */
    make_files(12, 7, 0, 0);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s --coefficients %s/c.npy --rhs %s/d.npy --init %s/u.npy --steps %s/s.npy "
             "--out /dev/null", mpirun(2), dir, dir, dir, dir);
    assert_int_equal(run(cmd), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "not a regular file"));
    /* Bad usage: 2 on every rank, said once. */
    snprintf(cmd, sizeof cmd, "%s --reference", mpirun(2));
    assert_int_equal(run(cmd), 2);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/smnn-test-mpi-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return -1;
    return test_teardown_context(state);
}

int main(void) {
    const char *need[] = {"SMNN_SOLVE", "SMNN_SOLVE_MPI", "SMNN_MPIRUN"};
    for (int i = 0; i < 3; i++)
        if (!getenv(need[i]) || !*getenv(need[i])) {
            fprintf(stderr, "# skipped: $%s is not set\n", need[i]);
            return 77;
        }
    /* Under the sanitizer setup: LeakSanitizer's fast unwinder stops inside Open MPI's
     * frame-pointer-less libraries, so its leaks at exit show no module to suppress
     * (tests/lsan.supp); the full unwinder, for the processes started from here, reaches them. */
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan && strstr(asan, "detect_leaks=1")) {
        char opts[1024];
        snprintf(opts, sizeof opts, "%s:fast_unwind_on_malloc=0", asan);
        setenv("ASAN_OPTIONS", opts, 1);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_identical_to_one_process),
        cmocka_unit_test(test_failures_leave_outputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
