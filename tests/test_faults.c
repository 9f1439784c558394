/* Fault injection: OpenCL allocation failures, program build failures, kernel creation failures
 * and queue errors, injected at every call site in turn through link-time wrapping
 * (-Wl,--wrap=...). For each injected fault the whole scenario (plan creation, forward solve,
 * backward pass) must return the status that belongs to the fault, release every OpenCL object
 * it created (counted through the same wrappers), leave y untouched, and leave the context usable:
 * the same scenario then succeeds and agrees with the dense reference. Host memory leaks are
 * caught by the sanitizer pass, which runs this test too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- The wrappers ------------------------------------------------------------------------ */

enum { F_BUFFER, F_BUILD, F_KERNEL, F_ENQUEUE, F_READ, F_COUNT };
static const char *fault_names[F_COUNT] = {"clCreateBuffer", "clBuildProgram", "clCreateKernel",
                                           "clEnqueueNDRangeKernel", "clEnqueueReadBuffer"};
static long calls[F_COUNT];
static long fail_at[F_COUNT]; /* 1-based call number that fails; 0 = none */
static long live_buffers, live_kernels;

static int inject(int f) {
    calls[f]++;
    return fail_at[f] != 0 && calls[f] == fail_at[f];
}

cl_mem __real_clCreateBuffer(cl_context, cl_mem_flags, size_t, void *, cl_int *);
cl_mem __wrap_clCreateBuffer(cl_context c, cl_mem_flags fl, size_t size, void *host, cl_int *err) {
    if (inject(F_BUFFER)) {
        if (err) *err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
        return NULL;
    }
    cl_mem m = __real_clCreateBuffer(c, fl, size, host, err);
    if (m) live_buffers++;
    return m;
}

cl_int __real_clReleaseMemObject(cl_mem);
cl_int __wrap_clReleaseMemObject(cl_mem m) {
    live_buffers--;
    return __real_clReleaseMemObject(m);
}

/* Retains count too: a plan that refines keeps the factorization's steps buffer (retained),
 * and releases it once more when freed. */
cl_int __real_clRetainMemObject(cl_mem);
cl_int __wrap_clRetainMemObject(cl_mem m) {
    live_buffers++;
    return __real_clRetainMemObject(m);
}

cl_int __real_clBuildProgram(cl_program, cl_uint, const cl_device_id *, const char *,
                             void (*)(cl_program, void *), void *);
cl_int __wrap_clBuildProgram(cl_program p, cl_uint n, const cl_device_id *d, const char *o,
                             void (*cb)(cl_program, void *), void *ud) {
    if (inject(F_BUILD)) return CL_BUILD_PROGRAM_FAILURE;
    return __real_clBuildProgram(p, n, d, o, cb, ud);
}

cl_kernel __real_clCreateKernel(cl_program, const char *, cl_int *);
cl_kernel __wrap_clCreateKernel(cl_program p, const char *name, cl_int *err) {
    if (inject(F_KERNEL)) {
        if (err) *err = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    cl_kernel k = __real_clCreateKernel(p, name, err);
    if (k) live_kernels++;
    return k;
}

cl_int __real_clReleaseKernel(cl_kernel);
cl_int __wrap_clReleaseKernel(cl_kernel k) {
    live_kernels--;
    return __real_clReleaseKernel(k);
}

cl_int __real_clEnqueueNDRangeKernel(cl_command_queue, cl_kernel, cl_uint, const size_t *,
                                     const size_t *, const size_t *, cl_uint, const cl_event *,
                                     cl_event *);
cl_int __wrap_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim,
                                     const size_t *off, const size_t *g, const size_t *l,
                                     cl_uint nw, const cl_event *w, cl_event *ev) {
    if (inject(F_ENQUEUE)) return CL_INVALID_COMMAND_QUEUE;
    return __real_clEnqueueNDRangeKernel(q, k, dim, off, g, l, nw, w, ev);
}

cl_int __real_clEnqueueReadBuffer(cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *,
                                  cl_uint, const cl_event *, cl_event *);
cl_int __wrap_clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool b, size_t off,
                                  size_t size, void *ptr, cl_uint nw, const cl_event *w,
                                  cl_event *ev) {
    if (inject(F_READ)) return CL_OUT_OF_RESOURCES;
    return __real_clEnqueueReadBuffer(q, m, b, off, size, ptr, nw, w, ev);
}

/* ---- The scenario ------------------------------------------------------------------------ */

static smnn_status expected_status(int f) {
    switch (f) {
    case F_BUFFER: return SMNN_ERROR_DEVICE_OUT_OF_MEMORY;
    case F_BUILD: return SMNN_ERROR_BUILD_FAILED;
    case F_KERNEL: return SMNN_ERROR_OUT_OF_HOST_MEMORY;
    case F_ENQUEUE: return SMNN_ERROR_OPENCL;
    default: return SMNN_ERROR_DEVICE_OUT_OF_MEMORY; /* CL_OUT_OF_RESOURCES */
    }
}

typedef struct scenario {
    smnn_problem p;
    smnn_precision prec; /* the device's: faults are reported alike in single precision */
    test_inputs in;
    double *gy, *ref;
} scenario;

/* Plan, forward solve, backward pass, free. Returns the first failing status. */
static smnn_status run(smnn_context *ctx, scenario *sc, double *y, double *gd) {
    smnn_plan *plan = NULL;
    smnn_plan_options opt = test_options(sc->prec, SMNN_VARIANT_AUTO);
    smnn_status st = smnn_plan_create(ctx, &sc->p, &opt, &plan);
    if (st == SMNN_SUCCESS) st = smnn_solve(plan, sc->in.c, sc->in.d, sc->in.u, sc->in.s, y);
    if (st == SMNN_SUCCESS)
        st = smnn_backward(plan, sc->in.c, sc->in.d, sc->in.s, y, sc->gy, NULL, gd, NULL, NULL);
    smnn_plan_free(plan);
    return st;
}

static void test_every_call_site(void **state) {
    (void)state;
    /* The disk cache is off so that every plan compiles from source (the build fault then has a
     * build to hit); each scenario gets a fresh context, so nothing comes from memory either. */
    setenv("SMNN_CACHE_DISABLE", "1", 1);
    smnn_context *keep = NULL; /* holds the driver loaded between contexts */
    assert_status(smnn_context_create(NULL, &keep), SMNN_SUCCESS);
    scenario sc;
    smnn_problem_init(&sc.p);
    sc.prec = smnn_context_device(keep)->has_fp64 ? SMNN_PRECISION_DOUBLE : SMNN_PRECISION_SINGLE;
    sc.p.batch = 3;
    sc.p.steps = 6;
    sc.p.dims = 1;
    sc.p.orders = 3;
    test_rng r = test_rng_make(31);
    test_inputs_make(&sc.p, &r, 0.3, 1.2, &sc.in);
    size_t ny = smnn_problem_y_count(&sc.p), nd = smnn_problem_d_count(&sc.p);
    sc.gy = malloc(ny * sizeof *sc.gy);
    sc.ref = malloc(ny * sizeof *sc.ref);
    for (size_t i = 0; i < ny; i++) sc.gy[i] = test_uniform(&r, -1, 1);
    assert_status(smnn_reference_solve(&sc.p, sc.in.c, sc.in.d, sc.in.u, sc.in.s, sc.ref, 0),
                  SMNN_SUCCESS);
    double *y = malloc(ny * sizeof *y), *gd = malloc(nd * sizeof *gd);
    int total_faults = 0;
    for (int f = 0; f < F_COUNT; f++) {
        int before = total_faults;
        for (long k = 1;; k++) {
            smnn_context *ctx = NULL;
            assert_status(smnn_context_create(NULL, &ctx), SMNN_SUCCESS);
            memset(calls, 0, sizeof calls);
            memset(fail_at, 0, sizeof fail_at);
            fail_at[f] = k;
            long buffers0 = live_buffers, kernels0 = live_kernels;
            for (size_t i = 0; i < ny; i++) y[i] = 777;
            smnn_status st = run(ctx, &sc, y, gd);
            int hit = calls[f] >= k;
            fail_at[f] = 0;
            if (!hit) { /* the scenario has fewer than k such calls: this fault is done */
                assert_status(st, SMNN_SUCCESS);
                smnn_context_free(ctx);
                break;
            }
            total_faults++;
            if (st != expected_status(f))
                fail_msg("%s failing at call %ld: got %s, expected %s (%s)", fault_names[f], k,
                         smnn_status_name(st), smnn_status_name(expected_status(f)),
                         smnn_last_error());
            if (!strstr(smnn_last_error(), f == F_BUILD ? "clBuildProgram" : fault_names[f]))
                fail_msg("%s failing at call %ld: message does not name the call: %s",
                         fault_names[f], k, smnn_last_error());
            if (live_buffers != buffers0 || live_kernels != kernels0)
                fail_msg("%s failing at call %ld leaked %ld buffer(s) and %ld kernel(s)",
                         fault_names[f], k, live_buffers - buffers0, live_kernels - kernels0);
            /* y is written only by a complete solve: a failure before or inside it leaves it. */
            int solved = y[0] != 777;
            if (solved) assert_matches_reference(y, sc.ref, ny, sc.prec);
            /* The context is still usable. */
            assert_status(run(ctx, &sc, y, gd), SMNN_SUCCESS);
            assert_matches_reference(y, sc.ref, ny, sc.prec);
            smnn_context_free(ctx);
        }
        fprintf(stderr, "# %s: %d call sites failed in turn\n", fault_names[f],
                total_faults - before);
        assert_true(total_faults > before); /* every wrapped call is reached by the scenario */
    }
    fprintf(stderr, "# %d faults injected, each reported, cleaned up and recovered from\n",
            total_faults);
    assert_true(total_faults >= 20);
    smnn_context_free(keep);
    unsetenv("SMNN_CACHE_DISABLE");
    free(y);
    free(gd);
    free(sc.gy);
    free(sc.ref);
    test_inputs_free(&sc.in);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_call_site)};
    return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
