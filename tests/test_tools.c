/* The command-line tools as a user runs them: smnn-solve on random problems agrees with
 * smnn-solve --reference (shared and unshared inputs), bad usage exits 2, bad files exit 1 and
 * leave an existing output untouched; smnn-info lists the device, passes its self-check, and
 * fails clearly for a bad device spec or a missing OpenCL platform; --factorization reaches the
 * library from every tool and the factorization used is reported. Tool paths come from the
 * environment (SMNN_SOLVE, SMNN_INFO, SMNN_BENCH, SMNN_VALIDATE, SMNN_LORENZ), set by meson. */
#define _GNU_SOURCE /* usleep */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npy.h"
#include "testutil.h"

static char dir[128];

static int run(const char *cmd) {
    return test_run_in(dir, cmd);
}

/* A file of the scratch folder (test_slurp). */
static const char *slurp(const char *name) {
    return test_slurp(dir, name);
}

static void write_npy(const char *name, const double *x, const size_t *shape, int nd) {
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (npy_write(path, x, shape, nd, 0, err, sizeof err) != 0) fail_msg("%s", err);
}

static void read_npy(const char *name, npy_array *a) {
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (npy_read(path, a, err, sizeof err) != 0) fail_msg("%s", err);
}

static const char *solve_cmd(const char *extra) {
    static char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s --coefficients %s/c.npy --rhs %s/d.npy --init %s/u.npy --steps %s/s.npy "
             "--w-init 2 --w-smooth 0.5 %s",
             getenv("SMNN_SOLVE"), dir, dir, dir, dir, extra);
    return cmd;
}

/* Random problem files; cshared/sshared give c and s a batch (and time) dimension of 1. */
static void make_files(size_t B, size_t T, int cshared, int sshared) {
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = B;
    p.steps = T;
    p.dims = 2;
    p.orders = 3;
    p.equations = 2;
    p.init_orders = 2;
    if (cshared) p.shared |= SMNN_SHARE_C_BATCH | SMNN_SHARE_C_TIME;
    if (sshared) p.shared |= SMNN_SHARE_S_BATCH | SMNN_SHARE_S_TIME;
    test_rng r = test_rng_make(99);
    test_inputs in;
    test_inputs_make(&p, &r, 0.3, 1.2, &in);
    size_t cs[5] = {cshared ? 1 : B, cshared ? 1 : T, 2, 2, 3}, ds[3] = {B, T, 2};
    size_t us[4] = {B, 1, 2, 2}, ss[2] = {sshared ? 1 : B, sshared ? 1 : T - 1};
    write_npy("c.npy", in.c, cs, 5);
    write_npy("d.npy", in.d, ds, 3);
    write_npy("u.npy", in.u, us, 4);
    write_npy("s.npy", in.s, ss, 2);
    test_inputs_free(&in);
}

static void test_solve_matches_reference(void **state) {
    (void)state;
    test_skip_without_fp64(); /* smnn-solve's default precision is double */
    for (int shared = 0; shared < 2; shared++) {
        make_files(4, 12, shared, shared);
        char extra[512];
        snprintf(extra, sizeof extra, "--out %s/y.npy", dir);
        assert_int_equal(run(solve_cmd(extra)), 0);
        snprintf(extra, sizeof extra, "--out %s/yref.npy --reference", dir);
        assert_int_equal(run(solve_cmd(extra)), 0);
        npy_array y, yr;
        read_npy("y.npy", &y);
        read_npy("yref.npy", &yr);
        assert_int_equal(y.ndim, 4);
        size_t want[4] = {4, 12, 2, 3};
        assert_memory_equal(y.shape, want, sizeof want);
        assert_int_equal(y.count, yr.count);
        assert_allclose(y.data, yr.data, y.count, 1e-10, 1e-12);
        npy_free(&y);
        npy_free(&yr);
    }
    /* Single precision: float32 output, close to the double result. */
    char extra[512];
    snprintf(extra, sizeof extra, "--out %s/y32.npy --precision single", dir);
    assert_int_equal(run(solve_cmd(extra)), 0);
    npy_array y32, yr;
    read_npy("y32.npy", &y32);
    read_npy("yref.npy", &yr);
    assert_true(y32.was_f32);
    assert_allclose(y32.data, yr.data, y32.count, 1e-3, 1e-4);
    npy_free(&y32);
    npy_free(&yr);
}

/* --grad-y / --grad-out: device gradients agree with the reference's finite differences. */
static void test_solve_gradients(void **state) {
    (void)state;
    test_skip_without_fp64(); /* smnn-solve's default precision is double */
    make_files(2, 6, 1, 1); /* c and s shared: their gradients are sums */
    size_t ys[4] = {2, 6, 2, 3};
    double gyv[72];
    test_rng r = test_rng_make(4);
    for (int i = 0; i < 72; i++) gyv[i] = test_uniform(&r, -1, 1);
    write_npy("gy.npy", gyv, ys, 4);
    char extra[1024];
    snprintf(extra, sizeof extra, "--out %s/y.npy --grad-y %s/gy.npy --grad-out %s/g", dir, dir,
             dir);
    assert_int_equal(run(solve_cmd(extra)), 0);
    snprintf(extra, sizeof extra, "--out %s/yr.npy --grad-y %s/gy.npy --grad-out %s/r --reference",
             dir, dir, dir);
    assert_int_equal(run(solve_cmd(extra)), 0);
    const char *names[4] = {"coefficients", "rhs", "init", "steps"};
    const size_t shapes[4][5] = {{1, 1, 2, 2, 3}, {2, 6, 2}, {2, 1, 2, 2}, {1, 1}};
    const int nds[4] = {5, 3, 4, 2};
    for (int i = 0; i < 4; i++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "g-%s.npy", names[i]);
        snprintf(b, sizeof b, "r-%s.npy", names[i]);
        npy_array ga, gb;
        read_npy(a, &ga);
        read_npy(b, &gb);
        assert_int_equal(ga.ndim, nds[i]);
        assert_memory_equal(ga.shape, shapes[i], (size_t)nds[i] * sizeof(size_t));
        double e = test_rel_err(ga.data, gb.data, ga.count);
        fprintf(stderr, "# smnn-solve gradient %s: rel err vs reference %.1e\n", names[i], e);
        if (!(e <= 1e-6)) fail_msg("%s: %g", names[i], e);
        npy_free(&ga);
        npy_free(&gb);
    }
    snprintf(extra, sizeof extra, "--out %s/y.npy --grad-y %s/gy.npy", dir, dir);
    assert_int_equal(run(solve_cmd(extra)), 2);
    size_t bad[4] = {2, 5, 2, 3};
    write_npy("gy.npy", gyv, bad, 4);
    snprintf(extra, sizeof extra, "--out %s/y.npy --grad-y %s/gy.npy --grad-out %s/g", dir, dir, dir);
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "like y"));
}

/* --devices: the batch over two contexts of the test device (and two sub-devices where it has
 * two compute units) gives the outputs of one device bit for bit, gradients of shared inputs
 * included; bad lists fail before anything is written. */
static void test_solve_devices(void **state) {
    (void)state;
    test_skip_without_fp64(); /* smnn-solve's default precision is double */
    make_files(21, 7, 1, 0);
    size_t ys[4] = {21, 7, 2, 3}, ny = 21 * 7 * 2 * 3;
    double *gyv = malloc(ny * sizeof *gyv);
    test_rng r = test_rng_make(5);
    for (size_t i = 0; i < ny; i++) gyv[i] = test_uniform(&r, -1, 1);
    write_npy("gy.npy", gyv, ys, 4);
    free(gyv);
    char extra[1024];
    snprintf(extra, sizeof extra, "--out %s/y1.npy --grad-y %s/gy.npy --grad-out %s/g1", dir, dir,
             dir);
    assert_int_equal(run(solve_cmd(extra)), 0);
    const smnn_device_info *dev = smnn_context_device(test_context());
    char lists[2][64];
    snprintf(lists[0], sizeof lists[0], "'%u:%u,%u:%u' --split equal", dev->platform_index,
             dev->device_index, dev->platform_index, dev->device_index);
    snprintf(lists[1], sizeof lists[1], "split:2:%u:%u", dev->platform_index, dev->device_index);
    const char *names[5] = {"y%d.npy", "g%d-coefficients.npy", "g%d-rhs.npy", "g%d-init.npy",
                            "g%d-steps.npy"};
    for (int l = 0; l < 2; l++) {
        if (l == 1 && dev->compute_units < 2) {
            fprintf(stderr, "# skipped split:2: device '%s' has one compute unit\n",
                    dev->device_name);
            continue;
        }
        snprintf(extra, sizeof extra, "--out %s/y2.npy --grad-y %s/gy.npy --grad-out %s/g2 "
                 "--devices %s", dir, dir, dir, lists[l]);
        if (run(solve_cmd(extra)) != 0) fail_msg("--devices %s: %s", lists[l], slurp("stderr.txt"));
        assert_non_null(strstr(slurp("stderr.txt"), "part 1: "));
        for (int k = 0; k < 5; k++) {
            char a[64], b[64];
            snprintf(a, sizeof a, names[k], 1);
            snprintf(b, sizeof b, names[k], 2);
            npy_array x1, x2;
            read_npy(a, &x1);
            read_npy(b, &x2);
            assert_int_equal(x1.count, x2.count);
            if (memcmp(x1.data, x2.data, x1.count * sizeof(double)) != 0)
                fail_msg("--devices %s: %s differs from one device's", lists[l], b);
            npy_free(&x1);
            npy_free(&x2);
        }
        fprintf(stderr, "# smnn-solve --devices %s: y and gradients bit-identical\n", lists[l]);
    }
    /* Usage and bad lists: y2 stays as it is. */
    snprintf(extra, sizeof extra, "--out %s/y2.npy --devices all --device 0", dir);
    assert_int_equal(run(solve_cmd(extra)), 2);
    snprintf(extra, sizeof extra, "--out %s/y2.npy --devices all --split sideways", dir);
    assert_int_equal(run(solve_cmd(extra)), 2);
    const char *bad[] = {"split:0", "0:0,,0:0", "no-such-device"};
    for (int i = 0; i < 3; i++) {
        snprintf(extra, sizeof extra, "--out %s/y1.npy --devices %s", dir, bad[i]);
        assert_int_equal(run(solve_cmd(extra)), 1);
        npy_array x1, x2;
        read_npy("y1.npy", &x1);
        read_npy("y2.npy", &x2);
        assert_int_equal(x1.count, x2.count);
        assert_memory_equal(x1.data, x2.data, x1.count * sizeof(double));
        npy_free(&x1);
        npy_free(&x2);
    }
}

static void test_solve_errors(void **state) {
    (void)state;
    make_files(3, 8, 0, 0);
    char path[256], extra[512];
    snprintf(path, sizeof path, "%s/keep.npy", dir);
    FILE *f = fopen(path, "w");
    fputs("precious", f);
    fclose(f);
    snprintf(extra, sizeof extra, "--out %s/keep.npy", dir);
    char cmd[4096];
    /* Usage errors: exit 2. */
    snprintf(cmd, sizeof cmd, "%s --help", getenv("SMNN_SOLVE"));
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s --rhs x.npy", getenv("SMNN_SOLVE"));
    assert_int_equal(run(cmd), 2);
    assert_non_null(strstr(slurp("stderr.txt"), "--coefficients is required"));
    snprintf(cmd, sizeof cmd, "%s %s --precision half", solve_cmd(extra), "");
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s --w-gov -1", solve_cmd(extra));
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s --n-steps 1", solve_cmd(extra));
    assert_int_equal(run(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s --bogus", solve_cmd(extra));
    assert_int_equal(run(cmd), 2);
    /* Data errors: exit 1, output untouched. */
    snprintf(cmd, sizeof cmd, "%s --n-steps 9", solve_cmd(extra));
    assert_int_equal(run(cmd), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "time points disagree"));
    snprintf(cmd, sizeof cmd, "%s --device no-such-device", solve_cmd(extra));
    assert_int_equal(run(cmd), 1);
    double v[21] = {0};
    size_t s_bad[2] = {2, 7}; /* batch 2 vs 3 */
    write_npy("s.npy", v, s_bad, 2);
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "batch sizes disagree"));
    size_t s_3d[3] = {3, 7, 1};
    write_npy("s.npy", v, s_3d, 3);
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "dimensions"));
    /* Non-positive steps reach the library's check. */
    double zeros[21] = {0};
    size_t s_ok[2] = {3, 7};
    write_npy("s.npy", zeros, s_ok, 2);
    /* The check is the same in either precision: single where the device has no fp64. */
    if (!test_has_fp64()) strcat(extra, " --precision single");
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "steps must be > 0"));
    /* A Fortran-order file and a truncated file. */
    snprintf(path, sizeof path, "%s/s.npy", dir);
    f = fopen(path, "wb");
    const char *hdr = "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 7), }";
    unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(strlen(hdr) + 1), 0};
    fwrite(head, 1, 10, f);
    fputs(hdr, f);
    fputc('\n', f);
    fwrite(zeros, 8, 21, f);
    fclose(f);
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "Fortran"));
    snprintf(cmd, sizeof cmd, "truncate -s 100 %s/c.npy", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "truncated"));
    assert_string_equal(slurp("keep.npy"), "precious");
}

static int count_leftovers(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s | grep smnn-tmp)\"", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static int is_npy(const char *name) {
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    npy_array a;
    if (npy_read(path, &a, err, sizeof err) != 0) return 0;
    npy_free(&a);
    return 1;
}

/* smnn-solve's outputs: no planted link followed, devices and FIFOs written in place, all
 * outputs of a run committed together or not at all, --out never one of the gradient files. */
static void test_solve_outputs(void **state) {
    (void)state;
    test_skip_without_fp64(); /* smnn-solve's default precision is double */
    make_files(2, 6, 1, 1);
    size_t ys[4] = {2, 6, 2, 3};
    double gyv[72] = {0};
    gyv[5] = 1;
    write_npy("gy.npy", gyv, ys, 4);
    char cmd[4096], extra[1024];
    /* A link planted at the old writer's temporary name (OUT.tmp.PID). */
    FILE *f = fopen(strcat(strcpy(extra, dir), "/precious.txt"), "w");
    fputs("precious", f);
    fclose(f);
    snprintf(extra, sizeof extra, "--out %s/out.npy", dir);
    snprintf(cmd, sizeof cmd, "sh -c 'ln -s %s/precious.txt %s/out.npy.tmp.$$; exec %s'", dir,
             dir, solve_cmd(extra));
    assert_int_equal(run(cmd), 0);
    assert_string_equal(slurp("precious.txt"), "precious");
    assert_true(is_npy("out.npy"));
    /* Same for the gradients' names. */
    snprintf(extra, sizeof extra, "--out %s/out.npy --grad-y %s/gy.npy --grad-out %s/g", dir, dir,
             dir);
    snprintf(cmd, sizeof cmd,
             "sh -c 'for s in coefficients rhs init steps; do ln -s %s/precious.txt "
             "%s/g-$s.npy.tmp.$$; done; exec %s'", dir, dir, solve_cmd(extra));
    assert_int_equal(run(cmd), 0);
    assert_string_equal(slurp("precious.txt"), "precious");
    assert_true(is_npy("g-rhs.npy") && is_npy("g-steps.npy"));
    assert_int_equal(count_leftovers(), 0);
    /* A FIFO with a reader and a private null device stay what they are. */
    snprintf(extra, sizeof extra, "--out %s/y.fifo", dir);
    snprintf(cmd, sizeof cmd, "mkfifo %s/y.fifo && (cat %s/y.fifo > %s/from-fifo.npy &) && %s",
             dir, dir, dir, solve_cmd(extra));
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "test -p %s/y.fifo", dir);
    assert_int_equal(system(cmd), 0);
    for (int i = 0; i < 50 && !is_npy("from-fifo.npy"); i++) usleep(100000);
    assert_true(is_npy("from-fifo.npy"));
    snprintf(cmd, sizeof cmd, "mknod %s/null c 1 3 2>/dev/null", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "# skipped --out on a character device: mknod not permitted\n");
    } else {
        snprintf(extra, sizeof extra, "--out %s/null", dir);
        assert_int_equal(run(solve_cmd(extra)), 0);
        snprintf(cmd, sizeof cmd, "test -c %s/null", dir);
        assert_int_equal(system(cmd), 0);
    }
    snprintf(extra, sizeof extra, "--out %s", dir);
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "is a directory"));
    /* All or nothing: gradients into a missing folder, a gradient target that is a directory,
     * and y failing to be written (file size limit) leave every existing output as it was. */
    const char *names[] = {"keep-y.npy", "g-coefficients.npy", "g-rhs.npy", "g-init.npy",
                           "g-steps.npy"};
    for (int i = 0; i < 5; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        f = fopen(path, "w");
        fputs("precious", f);
        fclose(f);
    }
    snprintf(extra, sizeof extra, "--out %s/keep-y.npy --grad-y %s/gy.npy --grad-out %s/none/g",
             dir, dir, dir);
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "none"));
    snprintf(cmd, sizeof cmd, "mkdir %s/gd-init.npy", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(extra, sizeof extra, "--out %s/keep-y.npy --grad-y %s/gy.npy --grad-out %s/gd", dir,
             dir, dir);
    assert_int_equal(run(solve_cmd(extra)), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "is a directory"));
    snprintf(extra, sizeof extra, "--out %s/keep-y.npy --grad-y %s/gy.npy --grad-out %s/g", dir,
             dir, dir);
    snprintf(cmd, sizeof cmd, "sh -c 'trap \"\" XFSZ; ulimit -f 1; exec %s'", solve_cmd(extra));
    assert_int_equal(run(cmd), 1);
    for (int i = 0; i < 5; i++)
        if (strcmp(slurp(names[i]), "precious")) fail_msg("%s was replaced", names[i]);
    snprintf(cmd, sizeof cmd, "test ! -e %s/gd-coefficients.npy && test ! -e %s/gd-rhs.npy", dir,
             dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(count_leftovers(), 0);
    /* --out naming one of the gradient files: the same string, another spelling, a hard link,
     * a symbolic link. */
    snprintf(cmd, sizeof cmd, "ln %s/g-init.npy %s/hard.npy && ln -s g-steps.npy %s/soft.npy",
             dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    const char *same[] = {"%s/g-rhs.npy", "%s/./g-coefficients.npy", "%s/hard.npy",
                          "%s/soft.npy"};
    for (int i = 0; i < 4; i++) {
        char out[512];
        snprintf(out, sizeof out, same[i], dir);
        snprintf(extra, sizeof extra, "--out %s --grad-y %s/gy.npy --grad-out %s/g", out, dir,
                 dir);
        if (run(solve_cmd(extra)) != 2) fail_msg("--out %s was not refused", out);
        assert_non_null(strstr(slurp("stderr.txt"), "name the same file"));
    }
    for (int i = 0; i < 5; i++)
        if (strcmp(slurp(names[i]), "precious")) fail_msg("%s was replaced", names[i]);
}

/* --factorization: QR and Cholesky solve the same problems to the same answer in double
 * precision; auto is Cholesky there (bitwise the same run), and qr really is another
 * factorization (not bitwise the same: the option reaches the library). Single precision runs
 * with both too. */
static void test_solve_factorization(void **state) {
    (void)state;
    test_skip_without_fp64(); /* smnn-solve's default precision is double */
    for (int shared = 0; shared < 2; shared++) {
        make_files(4, 12, shared, shared);
        const char *runs[4][2] = {{"yq.npy", "--factorization qr"},
                                  {"yc.npy", "--factorization cholesky"},
                                  {"ya.npy", "--factorization auto"},
                                  {"yr.npy", "--reference"}};
        npy_array y[4];
        for (int i = 0; i < 4; i++) {
            char extra[512];
            snprintf(extra, sizeof extra, "--out %s/%s %s", dir, runs[i][0], runs[i][1]);
            if (run(solve_cmd(extra)) != 0)
                fail_msg("smnn-solve %s failed: %s", runs[i][1], slurp("stderr.txt"));
            read_npy(runs[i][0], &y[i]);
            assert_int_equal(y[i].count, 4 * 12 * 2 * 3);
        }
        double e_qc = test_rel_err(y[0].data, y[1].data, y[0].count);
        double e_qr = test_rel_err(y[0].data, y[3].data, y[0].count);
        double e_cr = test_rel_err(y[1].data, y[3].data, y[1].count);
        fprintf(stderr, "# shared %d: qr vs cholesky %.1e, qr vs reference %.1e, cholesky vs "
                "reference %.1e\n", shared, e_qc, e_qr, e_cr);
        if (!(e_qc <= 1e-9)) fail_msg("qr and cholesky differ by %g (relative)", e_qc);
        if (!(e_qr <= 1e-9)) fail_msg("qr differs from the reference by %g", e_qr);
        if (!(e_cr <= 1e-9)) fail_msg("cholesky differs from the reference by %g", e_cr);
        if (!memcmp(y[0].data, y[1].data, y[0].count * sizeof(double)))
            fail_msg("--factorization qr gave bitwise the Cholesky result: option ignored?");
        if (memcmp(y[2].data, y[1].data, y[2].count * sizeof(double)))
            fail_msg("--factorization auto is not the Cholesky run in double precision");
        for (int i = 0; i < 4; i++) npy_free(&y[i]);
    }
    /* Single precision, both factorizations, against the (double) reference. */
    npy_array yr;
    read_npy("yr.npy", &yr);
    const char *single[2] = {"--precision single --factorization qr",
                             "--precision single --factorization cholesky"};
    for (int i = 0; i < 2; i++) {
        char extra[512];
        snprintf(extra, sizeof extra, "--out %s/y32.npy %s", dir, single[i]);
        if (run(solve_cmd(extra)) != 0)
            fail_msg("smnn-solve %s failed: %s", single[i], slurp("stderr.txt"));
        npy_array y32;
        read_npy("y32.npy", &y32);
        assert_true(y32.was_f32);
        double e = test_rel_err(y32.data, yr.data, y32.count);
        if (!(e <= 1e-4)) fail_msg("%s: relative error %g vs the reference", single[i], e);
        npy_free(&y32);
    }
    npy_free(&yr);
}

/* A --factorization value that is not auto, cholesky or qr (matched exactly), or none at all:
 * exit 2 from every tool, with a message naming the option and the value. */
static void test_factorization_usage(void **state) {
    (void)state;
    const char *tools[] = {"SMNN_SOLVE", "SMNN_BENCH", "SMNN_VALIDATE", "SMNN_LORENZ"};
    const char *values[] = {"lu", "QR", "Cholesky", "qr ", ""};
    int tried = 0;
    for (size_t t = 0; t < sizeof tools / sizeof tools[0]; t++) {
        const char *exe = getenv(tools[t]);
        if (!exe || !*exe) continue; /* not built in this configuration */
        tried++;
        char cmd[2048];
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            snprintf(cmd, sizeof cmd, "%s --factorization '%s'", exe, values[v]);
            int rc = run(cmd);
            const char *err = slurp("stderr.txt");
            char want[64];
            snprintf(want, sizeof want, "'%s'", values[v]);
            if (rc != 2 || !strstr(err, "--factorization") || !strstr(err, want))
                fail_msg("%s --factorization '%s': exit %d (expected 2), stderr: %s", exe,
                         values[v], rc, err);
            assert_string_equal(slurp("stdout.txt"), "");
        }
        snprintf(cmd, sizeof cmd, "%s --factorization", exe);
        if (run(cmd) != 2) fail_msg("%s --factorization without a value did not exit 2", exe);
        assert_non_null(strstr(slurp("stderr.txt"), "factorization"));
        snprintf(cmd, sizeof cmd, "%s --help", exe);
        assert_int_equal(run(cmd), 0);
        if (!strstr(slurp("stdout.txt"), "--factorization F"))
            fail_msg("%s --help does not document --factorization", exe);
    }
    assert_true(tried >= 1);
}

/* Splits a CSV line (no quoting) in place into at most max fields; returns the count. */
static int csv_fields(char *line, char **field, int max) {
    int n = 0;
    for (char *p = line; n < max; p++) {
        field[n++] = p;
        p = strchr(p, ',');
        if (!p) break;
        *p = '\0';
    }
    return n;
}

/* smnn-bench --factorization: a last CSV column "factorization" after the 18 columns that
 * bench/plot.sh and bench/gpu.sh read by position, "qr" on the plan's rows and "-" on the
 * peers'; the same as a JSON field; the factorization used (auto: qr in single precision) in
 * the text table. */
static void test_bench_factorization(void **state) {
    (void)state;
    const char *exe = getenv("SMNN_BENCH");
    if (!exe || !*exe) skip();
    test_skip_without_fp64(); /* the peers run in double precision */
    char cmd[1024];
    const char *tiny = "--batch 4 --steps 10 --orders 3 --repeats 1 --warmup 0";
    snprintf(cmd, sizeof cmd, "%s %s --factorization qr --format csv", exe, tiny);
    if (run(cmd) != 0) fail_msg("smnn-bench failed: %s", slurp("stderr.txt"));
    char *out = strdup(slurp("stdout.txt"));
    assert_non_null(out);
    char *save = NULL, *line = strtok_r(out, "\n", &save);
    assert_non_null(line);
    assert_string_equal(line, "batch,steps,dims,orders,equations,n,precision,variant,phase,"
                              "median_ms,min_ms,max_ms,wall_ms,ns_per_system_step,"
                              "bytes_per_system_step,gbps,floor_ratio,ratio_to_lapack,"
                              "factorization,time_chunks,time_chunks_option");
    int plan_rows = 0, peer_rows = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[32];
        int n = csv_fields(line, f, 32);
        if (n != 21) fail_msg("a CSV row has %d fields, not 21", n);
        int peer = !strcmp(f[8], "lapack_pbsv") || !strcmp(f[8], "dense_reference");
        if (peer) {
            assert_string_equal(f[7], "-");
            assert_string_equal(f[18], "-");
            assert_string_equal(f[19], "0");
            peer_rows++;
        } else {
            assert_string_equal(f[18], "qr");
            assert_string_equal(f[19], "1"); /* QR plans walk time sequentially */
            assert_string_equal(f[20], "0");
            plan_rows++;
        }
    }
    free(out);
    assert_int_equal(plan_rows, 3); /* forward, frozen_solve, forward_backward */
    assert_int_equal(peer_rows, 2);
    /* --time-chunks: the P asked for and the P in use, in the last two columns. */
    snprintf(cmd, sizeof cmd, "%s --batch 1 --steps 40 --repeats 1 --warmup 0 --no-peers "
             "--factorization cholesky --time-chunks 3 --format csv", exe);
    if (run(cmd) != 0) fail_msg("smnn-bench failed: %s", slurp("stderr.txt"));
    out = strdup(slurp("stdout.txt"));
    assert_non_null(out);
    save = NULL;
    line = strtok_r(out, "\n", &save);
    plan_rows = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[32];
        assert_int_equal(csv_fields(line, f, 32), 21);
        assert_string_equal(f[19], "3");
        assert_string_equal(f[20], "3");
        plan_rows++;
    }
    free(out);
    assert_int_equal(plan_rows, 3);
    snprintf(cmd, sizeof cmd, "%s --batch 1 --steps 4 --time-chunks 3 --no-peers", exe);
    assert_int_equal(run(cmd), 1); /* 4 points hold at most 2 chunks */
    assert_non_null(strstr(slurp("stderr.txt"), "time_chunks"));
    /* JSON: a "factorization" field in every record. */
    snprintf(cmd, sizeof cmd, "%s %s --factorization cholesky --format json", exe, tiny);
    if (run(cmd) != 0) fail_msg("smnn-bench failed: %s", slurp("stderr.txt"));
    const char *json = slurp("stdout.txt");
    int chol = 0, dash = 0;
    for (const char *p = json; (p = strstr(p, "\"factorization\": \"cholesky\"")); p++) chol++;
    for (const char *p = json; (p = strstr(p, "\"factorization\": \"-\"")); p++) dash++;
    assert_int_equal(chol, 3);
    assert_int_equal(dash, 2);
    /* Text: auto resolves to qr in single precision, and the table says so. */
    snprintf(cmd, sizeof cmd, "%s %s --precision single --no-peers", exe, tiny);
    if (run(cmd) != 0) fail_msg("smnn-bench failed: %s", slurp("stderr.txt"));
    const char *text = slurp("stdout.txt");
    assert_non_null(strstr(text, "/lapack factorization\n"));
    int qr = 0;
    for (const char *p = text; (p = strstr(p, " qr\n")); p++) qr++;
    if (qr != 3) fail_msg("%d text rows end in qr, expected 3:\n%s", qr, text);
}

/* smnn-bench --fused: two more phases, forward_backward_fused and forward_backward_apart, timed on
 * plans whose backward pass is forced fused and apart; the fused one moves lambda's round trip
 * (2 n reals per system and time point) fewer bytes by the bench's count, and forward_backward
 * (the plan's default) counts as the fused one where it is the default (double on PoCL). */
static void test_bench_fused(void **state) {
    (void)state;
    const char *exe = getenv("SMNN_BENCH");
    if (!exe || !*exe) skip();
    char cmd[1024];
    int dbl = test_device_precision() == SMNN_PRECISION_DOUBLE;
    /* Cholesky, whose lambda the fused pass can take, in the device's precision. */
    snprintf(cmd, sizeof cmd, "%s --batch 16 --steps 10 --orders 3 --repeats 1 --warmup 0 "
             "--no-peers --fused --factorization cholesky --precision %s --format csv", exe,
             dbl ? "double" : "single");
    if (run(cmd) != 0) fail_msg("smnn-bench failed: %s", slurp("stderr.txt"));
    char *out = strdup(slurp("stdout.txt"));
    assert_non_null(out);
    const char *want[] = {"forward", "frozen_solve", "forward_backward", "forward_backward_fused",
                          "forward_backward_apart"};
    double bytes[5] = {0};
    int rows = 0;
    char *save = NULL, *line = strtok_r(out, "\n", &save); /* the header */
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[32];
        int n = csv_fields(line, f, 32);
        if (n != 21) fail_msg("a CSV row has %d fields, not 21", n);
        if (rows >= 5) fail_msg("more than five rows: %s", f[8]);
        assert_string_equal(f[8], want[rows]);
        if (!(atof(f[9]) > 0)) fail_msg("%s: median %s ms", f[8], f[9]);
        bytes[rows] = atof(f[14]);
        rows++;
    }
    free(out);
    assert_int_equal(rows, 5);
    double es = dbl ? 8 : 4;
    if (fabs(bytes[4] - bytes[3] - 2 * 3 * es) > 0.11) /* printed to 0.1 */
        fail_msg("bytes per system step: apart %g, fused %g; expected a difference of %g",
                 bytes[4], bytes[3], 2 * 3 * es);
    int pocl = test_is_pocl(smnn_context_device(test_context()));
    double dflt = dbl && pocl ? bytes[3] : bytes[4];
    if (bytes[2] != dflt)
        fail_msg("forward_backward counts %g bytes per system step, the %s pass %g", bytes[2],
                 dbl && pocl ? "fused" : "apart", dflt);
}

/* smnn-lorenz --factorization: a short run in each factorization, reported in the JSON. */
/* smnn-bench --devices: the four host-pointer phases, one device against two contexts of the
 * test device, each with a positive time, the multi rows labelled with the number of parts. */
static void test_bench_devices(void **state) {
    (void)state;
    const char *exe = getenv("SMNN_BENCH");
    if (!exe || !*exe) skip();
    const smnn_device_info *dev = smnn_context_device(test_context());
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --batch 20 --steps 10 --orders 3 --repeats 1 --warmup 0 "
             "--devices %u:%u,%u:%u --split equal --precision %s --format csv", exe,
             dev->platform_index, dev->device_index, dev->platform_index, dev->device_index,
             test_device_precision() == SMNN_PRECISION_DOUBLE ? "double" : "single");
    if (run(cmd) != 0) fail_msg("smnn-bench failed: %s", slurp("stderr.txt"));
    char *out = strdup(slurp("stdout.txt"));
    assert_non_null(out);
    const char *want[][2] = {{"host_forward", "1 dev"},
                             {"host_forward_backward", "1 dev"},
                             {"multi_forward", "2 dev"},
                             {"multi_forward_backward", "2 dev"}};
    int rows = 0;
    char *save = NULL, *line = strtok_r(out, "\n", &save); /* the header */
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[32];
        int n = csv_fields(line, f, 32);
        if (n != 21) fail_msg("a CSV row has %d fields, not 21", n);
        if (rows >= 4) fail_msg("more than four rows: %s", f[8]);
        assert_string_equal(f[8], want[rows][0]);
        assert_string_equal(f[7], want[rows][1]);
        if (!(atof(f[9]) > 0)) fail_msg("%s: median %s ms", f[8], f[9]);
        rows++;
    }
    free(out);
    assert_int_equal(rows, 4);
    assert_non_null(strstr(slurp("stderr.txt"), "part 1: "));
}

static void test_lorenz_factorization(void **state) {
    (void)state;
    const char *exe = getenv("SMNN_LORENZ");
    if (!exe || !*exe) skip(); /* built only with GSL and CLBlast */
    test_skip_without_fp64(); /* smnn-lorenz solves in double precision by default */
    const char *names[] = {"qr", "cholesky", "auto"};
    const char *used[] = {"qr", "cholesky", "cholesky"};
    for (int i = 0; i < 3; i++) {
        char cmd[1024], want[64];
        snprintf(cmd, sizeof cmd,
                 "%s --iterations 2 --batch 4 --chunk 10 --progress 0 --format json "
                 "--factorization %s", exe, names[i]);
        if (run(cmd) != 0) fail_msg("smnn-lorenz --factorization %s failed: %s", names[i],
                                    slurp("stderr.txt"));
        const char *out = slurp("stdout.txt");
        snprintf(want, sizeof want, "\"factorization\": \"%s\"", used[i]);
        if (!strstr(out, want)) fail_msg("no %s in: %s", want, out);
        const char *loss = strstr(out, "\"final_loss\": ");
        assert_non_null(loss);
        double l = strtod(loss + strlen("\"final_loss\": "), NULL);
        if (!(l >= 0 && l < 1e30)) fail_msg("--factorization %s: final loss %g", names[i], l);
    }
}

static void test_info(void **state) {
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s", getenv("SMNN_INFO"));
    assert_int_equal(run(cmd), 0);
    const char *out = slurp("stdout.txt");
    assert_non_null(strstr(out, "<- default"));
    assert_non_null(strstr(out, "fp64"));
    assert_non_null(strstr(out, "self-check passed"));
    /* Every variant and precision self-checked with both factorizations. */
    const char *lines[] = {"solve private single cholesky:", "solve private single qr      :",
                           "solve local   single cholesky:", "solve local   single qr      :",
                           "solve private double cholesky:", "solve private double qr      :",
                           "solve local   double cholesky:", "solve local   double qr      :"};
    for (int i = 0; i < (test_has_fp64() ? 8 : 4); i++)
        if (!strstr(out, lines[i])) fail_msg("no '%s' in smnn-info's output:\n%s", lines[i], out);
    snprintf(cmd, sizeof cmd, "%s --device 77:77", getenv("SMNN_INFO"));
    assert_int_equal(run(cmd), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "no device matches '77:77'"));
    snprintf(cmd, sizeof cmd, "SMNN_DEVICE=nothing-like-this %s", getenv("SMNN_INFO"));
    assert_int_equal(run(cmd), 1);
    snprintf(cmd, sizeof cmd, "%s --frobnicate", getenv("SMNN_INFO"));
    assert_int_equal(run(cmd), 2);
    /* No OpenCL platform at all: the ICD loader sees an empty vendor folder. */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/no-icd && OCL_ICD_VENDORS=%s/no-icd %s", dir, dir,
             getenv("SMNN_INFO"));
    assert_int_equal(run(cmd), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "pocl-opencl-icd"));
    make_files(2, 5, 0, 0);
    snprintf(cmd, sizeof cmd, "OCL_ICD_VENDORS=%s/no-icd %s", dir, solve_cmd("--out /dev/null"));
    assert_int_equal(run(cmd), 1);
    assert_non_null(strstr(slurp("stderr.txt"), "no platform"));
}

/* smnn-validate: the paper's accuracy on this device in JSON, the figure, and usage errors. */
static void test_validate(void **state) {
    (void)state;
    const char *exe = getenv("SMNN_VALIDATE");
    if (!exe || !*exe) skip(); /* built only with GSL */
    test_skip_without_fp64(); /* smnn-validate's default precision is double */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --format json --repeats 1 --plot %s/fig.png", exe, dir);
    assert_int_equal(run(cmd), 0);
    const char *out = slurp("stdout.txt");
    assert_non_null(strstr(out, "\"problems\": ["));
    int count = 0;
    for (char *p = strstr(out, "\"smnn\": {\"rel_mse_y\": "); p;
         p = strstr(p + 1, "\"smnn\": {\"rel_mse_y\": ")) {
        double e = strtod(p + strlen("\"smnn\": {\"rel_mse_y\": "), NULL);
        if (!(e <= 1e-6)) fail_msg("problem %d: relative MSE of y %g > 1e-6", count, e);
        count++;
    }
    assert_int_equal(count, 6);
    assert_non_null(strstr(out, "\"gsl_rkf45\""));
    assert_non_null(strstr(out, "\"gsl_msbdf\""));
    assert_non_null(strstr(out, "first-order system"));
    assert_non_null(strstr(out, "\"precision\": \"double\", \"factorization\": \"cholesky\""));
    char png[256];
    snprintf(png, sizeof png, "%s/fig.png", dir);
    FILE *f = fopen(png, "rb");
    assert_non_null(f);
    unsigned char magic[8];
    assert_int_equal(fread(magic, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
    /* Text table, batched copies, single precision (errors reported, not bounded). */
    snprintf(cmd, sizeof cmd, "%s --repeats 1 --batch 3 --format csv", exe);
    assert_int_equal(run(cmd), 0);
    assert_non_null(strstr(slurp("stdout.txt"), "problem,formulation,method"));
    assert_non_null(strstr(slurp("stdout.txt"), ",device_time_ms,factorization\n"));
    assert_non_null(strstr(slurp("stdout.txt"), ",smnn,"));
    assert_non_null(strstr(slurp("stdout.txt"), ",cholesky\n"));
    snprintf(cmd, sizeof cmd, "%s --repeats 1 --precision single --steps 200 --step-size 0.05", exe);
    assert_int_equal(run(cmd), 0);
    assert_non_null(strstr(slurp("stdout.txt"), "single precision, qr factorization"));
    /* QR in double precision: the paper's accuracy too. */
    snprintf(cmd, sizeof cmd, "%s --format json --repeats 1 --factorization qr", exe);
    assert_int_equal(run(cmd), 0);
    out = slurp("stdout.txt");
    assert_non_null(strstr(out, "\"factorization\": \"qr\""));
    count = 0;
    for (char *p = strstr(out, "\"smnn\": {\"rel_mse_y\": "); p;
         p = strstr(p + 1, "\"smnn\": {\"rel_mse_y\": ")) {
        double e = strtod(p + strlen("\"smnn\": {\"rel_mse_y\": "), NULL);
        if (!(e <= 1e-6)) fail_msg("qr, problem %d: relative MSE of y %g > 1e-6", count, e);
        count++;
    }
    assert_int_equal(count, 6);
    const char *bad[] = {"--steps 1", "--step-size 0", "--step-size -1", "--format xml",
                         "--precision half", "--batch 0", "--formulation weird", "--bogus", "extra"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s %s", exe, bad[i]);
        if (run(cmd) != 2) fail_msg("'%s' did not exit with 2", bad[i]);
    }
    snprintf(cmd, sizeof cmd, "%s --device 42:42", exe);
    assert_int_equal(run(cmd), 1);
}

/* Fails unless out is one JSON document of printable ASCII (no byte of a PNG or of gnuplot's
 * messages) that opens with '{' and closes with '}' on its last line. */
static void assert_clean_json(const char *out) {
    for (const char *p = out; *p; p++)
        if ((*p < 0x20 && *p != '\n') || (unsigned char)*p >= 0x7f)
            fail_msg("stdout has byte 0x%02x at %zu", (unsigned char)*p, (size_t)(p - out));
    size_t n = strlen(out);
    if (n < 3 || out[0] != '{' || strcmp(out + n - 2, "}\n")) fail_msg("stdout is not JSON: %s", out);
    int depth = 0;
    for (const char *p = out; *p; p++) depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
    assert_int_equal(depth, 0);
    assert_null(strstr(out, "PNG"));
}

static int exists(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* A gnuplot first on PATH that prints PNG-like bytes to its stdout, a message to stderr, and
 * fails (or, with ok = 1, succeeds without writing anything). */
static void fake_gnuplot(int ok) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/fake && printf '#!/bin/sh\\ncat >/dev/null\\nprintf \"\\\\211PNG junk\" %s\\n"
             "echo \"fake gnuplot: failure\" >&2\\nexit %d\\n' > %s/fake/gnuplot && chmod +x "
             "%s/fake/gnuplot", dir, ok ? ">/dev/null" : "", ok ? 0 : 1, dir, dir);
    assert_int_equal(system(cmd), 0);
}

/* smnn-validate --plot: a hostile or odd file name is a file name, never gnuplot commands;
 * gnuplot's failure is an error on stderr and exit 1 with stdout's JSON intact; unwritable
 * targets are refused before the run. Sizes: stop at the library's refusal, checked
 * allocations, spans the closed forms cannot represent refused as usage. */
/* smnn-bench with sizes that wrap, exceed the device or carry a sign: a clear error and exit 1
 * (sizes) or 2 (usage), never a crash or an unchecked allocation (issue 13, class 9). */
static void test_bench_sizes(void **state) {
    (void)state;
    const char *exe = getenv("SMNN_BENCH");
    if (!exe || !*exe) skip();
    static const struct {
        const char *args, *message;
        int rc;
    } cases[] = {
        {"--batch 1000000000", "SMNN_ERROR_TOO_LARGE", 1},
        {"--batch 100000000 --steps 100000", "SMNN_ERROR_TOO_LARGE", 1},
        {"--steps 2147483648", "problem.steps", 1},
        {"--dims 4294967296 --orders 4294967296", "SMNN_ERROR", 1},
        {"--batch -1", "not a whole number", 2},
        {"--batch 3x", "not a whole number", 2},
        {"--steps 1", "out of range", 2},
    };
    char cmd[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s %s --no-peers --repeats 1 --warmup 0", exe, cases[i].args);
        int rc = run(cmd);
        const char *err = slurp("stderr.txt");
        if (rc != cases[i].rc || !strstr(err, cases[i].message))
            fail_msg("smnn-bench %s: exit %d (expected %d), stderr: %s", cases[i].args, rc,
                     cases[i].rc, err);
    }
}

static void test_validate_hardening(void **state) {
    (void)state;
    const char *exe = getenv("SMNN_VALIDATE");
    if (!exe || !*exe) skip(); /* built only with GSL */
    test_skip_without_fp64(); /* smnn-validate's default precision is double */
    char cmd[4096];
    const char *fast = "--steps 40 --repeats 1";
    const char *names[] = {"v.png'; system 'touch PWNED'; set output 'w.png", "it's.png",
                           "v.png\\\"; system \\\"touch PWNED\\\"; \\\"", "a\\`touch PWNED\\`.png"};
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "cd %s && %s %s --plot \"%s\"", dir, exe, fast, names[i]);
        if (run(cmd) != 0) fail_msg("--plot '%s' failed: %s", names[i], slurp("stderr.txt"));
        if (exists("PWNED") || exists("w.png")) fail_msg("--plot '%s' ran a command", names[i]);
    }
    FILE *f = fopen(strcat(strcpy(cmd, dir), "/it's.png"), "rb");
    assert_non_null(f);
    unsigned char magic[8] = {0};
    assert_int_equal(fread(magic, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
    /* gnuplot fails (or writes nothing): exit 1, a clear message, JSON intact, no file. */
    for (int ok = 0; ok < 2; ok++) {
        fake_gnuplot(ok);
        snprintf(cmd, sizeof cmd, "PATH=%s/fake:$PATH %s %s --format json --plot %s/fake.png", dir,
                 exe, fast, dir);
        assert_int_equal(run(cmd), 1);
        assert_clean_json(slurp("stdout.txt"));
        assert_non_null(strstr(slurp("stderr.txt"), ok ? "wrote no image" : "gnuplot failed"));
        assert_false(exists("fake.png"));
    }
    /* Targets refused before the run: a missing folder, a directory, control characters. */
    const char *bad_targets[] = {"%s/none/fig.png", "%s", "\"$(printf '%s/a\\nb.png')\""};
    for (int i = 0; i < 3; i++) {
        char target[512], fmt[600];
        snprintf(target, sizeof target, bad_targets[i], dir);
        snprintf(fmt, sizeof fmt, "%s %s --format json --plot %s", exe, fast, target);
        assert_int_equal(run(fmt), 1);
        assert_string_equal(slurp("stdout.txt"), "");
        assert_non_null(strstr(slurp("stderr.txt"), "--plot: "));
    }
    /* Sizes. */
    snprintf(cmd, sizeof cmd, "%s --steps 1000000000 --step-size 1e-8 --repeats 1", exe);
    assert_int_equal(run(cmd), 1);
    const char *err = slurp("stderr.txt");
    assert_non_null(strstr(err, "TOO_LARGE"));
    assert_null(strstr(err, "Population growth")); /* stopped at the first refusal */
    snprintf(cmd, sizeof cmd, "%s --batch 1000000000 --repeats 1", exe);
    assert_int_equal(run(cmd), 1);
    err = slurp("stderr.txt");
    assert_null(strstr(err, "NULL"));
    if (!strstr(err, "out of memory") && !strstr(err, "TOO_LARGE")) fail_msg("stderr: %s", err);
    const char *spans[] = {"--step-size 1e300", "--steps 100002", "--steps 2 --step-size 1001",
                           "--steps 18446744073709551615"};
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "%s %s", exe, spans[i]);
        if (run(cmd) != 2) fail_msg("'%s' did not exit with 2", spans[i]);
        assert_non_null(strstr(slurp("stderr.txt"), "span"));
    }
}

static int setup(void **state) {
    (void)state;
    if (!getenv("SMNN_SOLVE") || !getenv("SMNN_INFO")) {
        fprintf(stderr, "SMNN_SOLVE and SMNN_INFO must name the tools\n");
        return -1;
    }
    snprintf(dir, sizeof dir, "/tmp/smnn-tools-%ld", (long)getpid());
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    test_context_release(); /* opened to ask whether the device has fp64 */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_solve_matches_reference),
        cmocka_unit_test(test_solve_gradients),
        cmocka_unit_test(test_solve_errors),
        cmocka_unit_test(test_solve_devices),
        cmocka_unit_test(test_solve_outputs),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_validate_hardening),
        cmocka_unit_test(test_bench_sizes),
        cmocka_unit_test(test_solve_factorization),
        cmocka_unit_test(test_factorization_usage),
        cmocka_unit_test(test_bench_factorization),
        cmocka_unit_test(test_bench_fused),
        cmocka_unit_test(test_bench_devices),
        cmocka_unit_test(test_lorenz_factorization),
    };
    return cmocka_run_group_tests_name("tools", tests, setup, teardown);
}
