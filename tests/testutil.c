/* Shared test helpers; see testutil.h. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "internal.h"
#include "loopprobe.h"

test_rng test_rng_make(uint64_t fallback) {
    static int printed;
    const char *env = getenv("SMNN_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : fallback;
    if (!printed) {
        fprintf(stderr, "# random seed %llu (replay with SMNN_TEST_SEED=%llu)\n",
                (unsigned long long)seed, (unsigned long long)seed);
        printed = 1;
    }
    return rp_rng_make(seed);
}

double test_uniform(test_rng *r, double lo, double hi) {
    return rp_uniform(r, lo, hi);
}

void test_assert_status(smnn_status st, smnn_status expected, const char *expr, const char *file,
                        int line) {
    if (st != expected) {
        print_error("%s:%d: %s returned %s, expected %s\n  last error: %s\n", file, line, expr,
                    smnn_status_name(st), smnn_status_name(expected), smnn_last_error());
        _fail(file, line);
    }
}

double test_rel_err(const double *a, const double *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(b[i])) return NAN;
        double e = fabs(a[i] - b[i]);
        if (e > num) num = e;
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return num / (den > 1e-300 ? den : 1e-300);
}

void test_assert_allclose(const double *a, const double *b, size_t n, double rtol, double atol,
                          const char *what, const char *file, int line) {
    size_t worst = 0, bad = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < n; i++) {
        double tol = atol + rtol * fabs(b[i]);
        double e = fabs(a[i] - b[i]);
        double excess = (isnan(e) || isnan(a[i])) ? INFINITY : e - tol;
        if (excess > 0) bad++;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (bad) {
        print_error("%s:%d: %s: %zu of %zu elements differ beyond rtol %g atol %g; worst at "
                    "[%zu]: %.17g vs %.17g\n",
                    file, line, what, bad, n, rtol, atol, worst, a[worst], b[worst]);
        _fail(file, line);
    }
}

void test_assert_matches_reference(const double *y, const double *ref, size_t n,
                                   smnn_precision prec, const char *what, const char *file,
                                   int line) {
    if (prec == SMNN_PRECISION_DOUBLE) {
        test_assert_allclose(y, ref, n, 1e-10, 1e-12, what, file, line);
        return;
    }
    double e = test_rel_err(y, ref, n);
    if (!(e <= 1e-4)) {
        print_error("%s:%d: %s: single-precision relative error %g > 1e-4\n", file, line, what, e);
        _fail(file, line);
    }
}

void test_inputs_make(const smnn_problem *p, test_rng *r, double slo, double shi,
                      test_inputs *in) {
    assert_int_equal(rp_inputs_make(p, r, slo, shi, in), 0);
}

void test_inputs_free(test_inputs *in) {
    rp_inputs_free(in);
}

void test_problem_of(const test_case *k, double w_gov, double w_init, double w_smooth,
                     smnn_problem *p) {
    smnn_problem_init(p);
    p->batch = k->B;
    p->steps = k->T;
    p->dims = k->V;
    p->orders = k->R1;
    p->equations = k->Q;
    p->init_steps = k->Ti;
    p->init_orders = k->Ri1 ? k->Ri1 : k->R1;
    p->shared = k->shared;
    p->w_gov = w_gov;
    p->w_init = w_init;
    p->w_smooth = w_smooth;
}

smnn_plan_options test_options(smnn_precision prec, smnn_variant variant) {
    smnn_plan_options o;
    smnn_plan_options_init(&o);
    o.precision = prec;
    o.variant = variant;
    return o;
}

#define CANARY 64
static const double canary_value = -12345.678901;

double *test_canaried(size_t n) {
    double *b = malloc((n + CANARY) * sizeof *b);
    for (size_t i = 0; i < n + CANARY; i++) b[i] = canary_value;
    return b;
}

int test_canary_ok(const double *buf, size_t n) {
    for (size_t i = n; i < n + CANARY; i++)
        if (buf[i] != canary_value) return 0;
    return 1;
}

void test_canaried_free(double *buf) {
    free(buf);
}

static smnn_context *shared_ctx;

smnn_context *test_context(void) {
    if (!shared_ctx) {
        smnn_status st = smnn_context_create(NULL, &shared_ctx);
        if (st != SMNN_SUCCESS) {
            fprintf(stderr, "cannot create an OpenCL context: %s\n", smnn_last_error());
            return NULL;
        }
    }
    return shared_ctx;
}

void test_context_release(void) {
    smnn_context_free(shared_ctx);
    shared_ctx = NULL;
}

int test_has_fp64(void) {
    smnn_context *ctx = test_context();
    return ctx && smnn_context_device(ctx)->has_fp64;
}

smnn_precision test_device_precision(void) {
    return test_has_fp64() ? SMNN_PRECISION_DOUBLE : SMNN_PRECISION_SINGLE;
}

int test_lacks_fp64(const char *what) {
    if (test_has_fp64()) return 0;
    smnn_context *ctx = test_context();
    fprintf(stderr,
            "# skipped: %s needs double precision (cl_khr_fp64), which device '%s' lacks\n", what,
            ctx ? smnn_context_device(ctx)->device_name : "(no context)");
    return 1;
}

int test_device_cuts_loops(void) {
    static int known = -1;
    if (known < 0) {
        long turns = 0;
        char err[256];
        if (loopprobe_run(test_context(), &turns, err, sizeof err) != 0) fail_msg("%s", err);
        known = turns < LOOPPROBE_TURNS;
        if (known)
            fprintf(stderr, "# device '%s' ends a work-item's loops after %ld of %d turns\n",
                    smnn_context_device(test_context())->device_name, turns, LOOPPROBE_TURNS);
    }
    return known;
}

int test_skip_loops_cut(smnn_status st, const char *what) {
    if (st != SMNN_ERROR_UNSUPPORTED || !strstr(smnn_last_error(), "ended the kernels' loops early"))
        return 0;
    if (!test_device_cuts_loops()) return 0; /* a false report: the caller's check fails */
    fprintf(stderr, "# skipped: %s: device '%s' ends long loops early (reported: %s)\n", what,
            smnn_context_device(test_context())->device_name, smnn_status_name(st));
    return 1;
}

int test_is_pocl(const smnn_device_info *dev) {
    return strstr(dev->platform_name, "Portable Computing Language") != NULL;
}

char *test_env_save(const char *name) {
    const char *v = getenv(name);
    return v ? strdup(v) : NULL;
}

void test_env_restore(const char *name, char *saved) {
    if (saved)
        setenv(name, saved, 1);
    else
        unsetenv(name);
    free(saved);
}

void test_fused_backward(int mode) {
    if (mode < 0)
        unsetenv("SMNN_FUSED_BACKWARD");
    else
        setenv("SMNN_FUSED_BACKWARD", mode ? "1" : "0", 1);
}

int test_skip_local_memory(smnn_status st, const char *what) {
    unsigned long long need = 0, has = 0;
    const char *msg = smnn_last_error(), *at = strstr(msg, " bytes of local memory");
    if (st != SMNN_ERROR_UNSUPPORTED || !at) return 0;
    const char *num = strstr(msg, "need ");
    const char *has_at = strstr(at, "which has ");
    if (!num || !has_at || sscanf(num, "need %llu", &need) != 1 ||
        sscanf(has_at, "which has %llu", &has) != 1)
        return 0;
    const smnn_device_info *dev = smnn_context_device(test_context());
    if (has != dev->local_mem_bytes || need <= has) return 0;
    fprintf(stderr, "# skipped: %s: its local kernels need %llu bytes of local memory, device '%s' "
            "has %llu (reported: %s)\n", what, need, dev->device_name, has, smnn_status_name(st));
    return 1;
}

int test_skip_wide(size_t n, int per_item, smnn_variant variant, const char *what) {
    const char *env = getenv("SMNN_TEST_SKIP_WIDE_FROM");
    long from = env && *env ? strtol(env, NULL, 10) : 0;
    if (from <= 0 || per_item <= 1 || variant == SMNN_VARIANT_LOCAL || n < (size_t)from) return 0;
    fprintf(stderr, "# skipped: %s: n = %zu with %d systems per work-item (SMNN_TEST_SKIP_WIDE_FROM"
            "=%ld: its program takes the device's compiler too long)\n", what, n, per_item, from);
    return 1;
}

int test_teardown_context(void **state) {
    (void)state;
    test_context_release();
    return 0;
}

cl_mem test_device_copy(const double *x, size_t n) {
    cl_int err;
    cl_mem m = clCreateBuffer(smnn_context_cl_context(test_context()),
                              CL_MEM_READ_WRITE | (x ? CL_MEM_COPY_HOST_PTR : 0), n * sizeof *x,
                              (void *)x, &err);
    assert_non_null(m);
    return m;
}

void test_device_inputs(const smnn_problem *p, const test_inputs *in, cl_mem b[5]) {
    b[0] = test_device_copy(in->c, smnn_problem_c_count(p));
    b[1] = test_device_copy(in->d, smnn_problem_d_count(p));
    b[2] = test_device_copy(in->u, smnn_problem_u_count(p));
    b[3] = test_device_copy(in->s, smnn_problem_s_count(p));
    b[4] = test_device_copy(NULL, smnn_problem_y_count(p));
}

void test_device_inputs_as(const smnn_problem *p, const test_inputs *in, smnn_precision prec,
                           cl_mem b[5]) {
    if (prec == SMNN_PRECISION_DOUBLE) {
        test_device_inputs(p, in, b);
        return;
    }
    smnn_context *ctx = test_context();
    const double *src[4] = {in->c, in->d, in->u, in->s};
    size_t n[4] = {smnn_problem_c_count(p), smnn_problem_d_count(p), smnn_problem_u_count(p),
                   smnn_problem_s_count(p)};
    for (int k = 0; k < 4; k++)
        assert_status(smnn_buffer_from_host(ctx, prec, src[k], n[k], &b[k]), SMNN_SUCCESS);
    cl_int err;
    b[4] = clCreateBuffer(smnn_context_cl_context(ctx), CL_MEM_READ_WRITE,
                          smnn_problem_y_count(p) * sizeof(cl_float), NULL, &err);
    assert_non_null(b[4]);
}

void test_release_buffers(cl_mem *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (b[i]) clReleaseMemObject(b[i]);
}

int test_build_fresh(const char *tag) {
    smnn_context *ctx = NULL;
    assert_status(smnn_context_create(NULL, &ctx), SMNN_SUCCESS);
    /* The disk cache's own mechanics, whatever the driver (smnn__disk_cache_wanted skips it on
     * PoCL). */
    ctx->disk_cache = 1;
    char src[256];
    snprintf(src, sizeof src, "__kernel void k_%s(__global float *x) { x[0] = 2.0f; }\n", tag);
    const char *srcs[] = {src};
    cl_program prog;
    smnn__program_origin from;
    assert_status(smnn__program_get(ctx, srcs, 1, "", &prog, &from), SMNN_SUCCESS);
    /* The program works, wherever it came from. */
    cl_int err;
    char name[64];
    snprintf(name, sizeof name, "k_%s", tag);
    cl_kernel k = clCreateKernel(prog, name, &err);
    assert_non_null(k);
    clReleaseKernel(k);
    /* Second lookup in the same context: memory. */
    smnn__program_origin again;
    assert_status(smnn__program_get(ctx, srcs, 1, "", &prog, &again), SMNN_SUCCESS);
    assert_int_equal(again, SMNN__FROM_MEMORY);
    smnn_context_free(ctx);
    return from;
}

const char *test_slurp(const char *dir, const char *name) {
    static char buf[65536];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

int test_run_in(const char *dir, const char *cmd) {
    char full[8192];
    snprintf(full, sizeof full, "%s >%s/stdout.txt 2>%s/stderr.txt", cmd, dir, dir);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *test_path_in(const char *dir, const char *name) {
    static char path[8][512];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}
