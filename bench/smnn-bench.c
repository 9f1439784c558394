/* smnn-bench: times the solver on configurable shapes and standard suites, next to the device's
 * copy bandwidth (the memory floor) and to peers measured in the same run: LAPACK's banded
 * Cholesky (dpbtrf + dpbtrs over the batch, all cores) and the dense reference where it fits.
 *
 * Per shape and phase (forward = assemble + factor + substitute; frozen_solve; forward_backward)
 * it reports the median and the spread (min, max) of repeated runs after warm-up, device time
 * from OpenCL profiling markers and wall time separately, ns per system-step, the bytes the
 * phase must move by our count, the effective bandwidth and the ratio to the floor
 * (bytes / measured copy bandwidth). Output: text (default), csv or json; each row ends with the
 * factorization the plan used (--factorization; "-" for the peers), after the columns that
 * bench/plot.sh and bench/gpu.sh read by position. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smnn/smnn.h>

#include "cli.h"
#include "hostutil.h"
#include "peer_lapack.h"
#include "randprob.h"

extern void openblas_set_num_threads(int) __attribute__((weak));

typedef struct shape {
    size_t B, T, V, R1, Q;
    int parts; /* time chunks: 0 automatic (or --time-chunks), 1 sequential, P */
} shape;

typedef struct record {
    shape s;
    const char *precision, *variant, *phase;
    const char *factorization; /* the plan's; "-" for the peers */
    double median_ms, min_ms, max_ms, wall_ms, ns_per_step, bytes_per_step, gbps, floor_ratio;
    size_t workspace_per_step;
    int parts; /* the plan's time chunks (0 for the peers) */
    int asked; /* the time_chunks option it was made with: 0 automatic */
} record;

static record *records;
static size_t nrecords, caprecords;

/* count elements of size bytes, or exit 1 naming what did not fit (sizes are overflow-checked). */
static void *need(size_t count, size_t size, const char *what) {
    void *p = hu_alloc(count, size);
    if (!p) {
        fprintf(stderr, "smnn-bench: out of memory for %s (%zu x %zu bytes)\n", what, count, size);
        exit(1);
    }
    return p;
}

static void add(record r) {
    if (nrecords == caprecords) {
        size_t cap = caprecords ? caprecords * 2 : 64;
        record *grown = need(cap, sizeof *records, "the results");
        if (records) memcpy(grown, records, nrecords * sizeof *records);
        free(records);
        records = grown;
        caprecords = cap;
    }
    records[nrecords++] = r;
}




static void check(smnn_status st, const char *what) {
    if (st != SMNN_SUCCESS) {
        fprintf(stderr, "smnn-bench: %s: %s\n", what, smnn_last_error());
        exit(1);
    }
}

static void check_cl(cl_int err, const char *what) {
    if (err != CL_SUCCESS) {
        fprintf(stderr, "smnn-bench: %s failed: %s\n", what, smnn_cl_error_name(err));
        exit(1);
    }
}

/* Some drivers' profiling timestamps do not advance, or by a nanosecond (Rusticl on llvmpipe):
 * then every timing falls back to the wall clock, said once on stderr. */
static int wall_only;

static void note_wall_only(void) {
    if (!wall_only)
        fprintf(stderr, "smnn-bench: the device's profiling timestamps do not advance; timing "
                "with the wall clock\n");
    wall_only = 1;
}

/* Milliseconds between the ends of two events, or `wall` when the timestamps are unusable. */
static double event_ms(cl_event a, cl_event b, double wall) {
    cl_ulong ta = 0, tb = 0;
    clGetEventProfilingInfo(a, CL_PROFILING_COMMAND_END, sizeof ta, &ta, NULL);
    clGetEventProfilingInfo(b, CL_PROFILING_COMMAND_END, sizeof tb, &tb, NULL);
    double dev = 1e-6 * (double)(tb - ta);
    /* A device time below a hundredth of the wall time around it is a broken clock. */
    if (wall_only || tb <= ta || dev * 100 < wall) {
        note_wall_only();
        return wall;
    }
    return dev;
}

/* Copy bandwidth of the device in GB/s (read + write bytes over kernel time), median of 5. */
static double copy_bandwidth(smnn_context *ctx) {
    const char *src = "__kernel void copy(__global const float4 *a, __global float4 *b) {"
                      " size_t i = get_global_id(0); b[i] = a[i]; }";
    cl_context cc = smnn_context_cl_context(ctx);
    cl_device_id dev = smnn_context_cl_device(ctx);
    cl_command_queue q = smnn_context_cl_queue(ctx);
    cl_int err;
    cl_program prog = clCreateProgramWithSource(cc, 1, &src, NULL, &err);
    check_cl(err, "clCreateProgramWithSource(copy)");
    check_cl(clBuildProgram(prog, 1, &dev, "", NULL, NULL), "clBuildProgram(copy)");
    cl_kernel k = clCreateKernel(prog, "copy", &err);
    size_t bytes = (size_t)256 << 20;
    cl_mem a = clCreateBuffer(cc, CL_MEM_READ_WRITE, bytes, NULL, &err);
    cl_mem b = clCreateBuffer(cc, CL_MEM_READ_WRITE, bytes, NULL, &err);
    float zero = 0;
    clEnqueueFillBuffer(q, a, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
    clEnqueueFillBuffer(q, b, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
    clSetKernelArg(k, 0, sizeof a, &a);
    clSetKernelArg(k, 1, sizeof b, &b);
    size_t global = bytes / 16;
    double t[6];
    for (int r = 0; r < 6; r++) {
        cl_event ev;
        clFinish(q);
        double w0 = hu_now_ms();
        check_cl(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, &ev), "copy");
        clWaitForEvents(1, &ev);
        double wall = 1e-3 * (hu_now_ms() - w0);
        cl_ulong t0 = 0, t1 = 0;
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
        double dev = 1e-9 * (double)(t1 - t0);
        if (t1 <= t0 || dev * 100 < wall) note_wall_only();
        t[r] = wall_only ? wall : dev;
        clReleaseEvent(ev);
    }
    double sec = hu_median(t + 1, 5); /* the first run is warm-up */
    clReleaseMemObject(a);
    clReleaseMemObject(b);
    clReleaseKernel(k);
    clReleaseProgram(prog);
    return 2.0 * (double)bytes / sec * 1e-9;
}

typedef struct options {
    const char *device, *suite, *format;
    smnn_precision precision;
    smnn_variant variant;
    smnn_factorization factorization;
    int refine_steps; /* -1: the plan's automatic choice */
    int repeats, warmup, peers;
    int fused; /* --fused: also time the backward pass forced fused and forced apart */
    int time_chunks; /* --time-chunks: 0 automatic, 1 sequential, P */
    const char *devices; /* --devices: host-pointer calls on one device against a multi plan */
    smnn_split split;
    shape one;
} options;

static cl_mem device_copy(smnn_context *ctx, const double *x, size_t n, smnn_precision prec) {
    cl_mem m = NULL;
    check(smnn_buffer_from_host(ctx, prec, x, n, &m), "device copy");
    return m;
}

enum { PH_FORWARD, PH_FROZEN, PH_FB, PH_FB_FUSED, PH_FB_APART };
static const char *phase_names[] = {"forward", "frozen_solve", "forward_backward",
                                    "forward_backward_fused", "forward_backward_apart"};

/* A plan whose backward pass is forced fused (fused = "1") or apart ("0"): $SMNN_FUSED_BACKWARD
 * while it is created; the caller's value, if any, is restored. */
static smnn_plan *fused_plan(smnn_context *ctx, const smnn_problem *p, const smnn_plan_options *po,
                             const char *fused) {
    const char *was = getenv("SMNN_FUSED_BACKWARD");
    char *keep = was ? strdup(was) : NULL;
    if (was && !keep) {
        fprintf(stderr, "smnn-bench: out of memory\n");
        exit(1);
    }
    setenv("SMNN_FUSED_BACKWARD", fused, 1);
    smnn_plan *plan = NULL;
    smnn_status st = smnn_plan_create(ctx, p, po, &plan);
    if (keep)
        setenv("SMNN_FUSED_BACKWARD", keep, 1);
    else
        unsetenv("SMNN_FUSED_BACKWARD");
    free(keep);
    check(st, *fused == '1' ? "plan (fused backward)" : "plan (backward apart)");
    return plan;
}

/* The problem of a shape and the plan options of the command line. */
static void shape_problem(const options *o, shape sh, smnn_problem *p, smnn_plan_options *po) {
    smnn_problem_init(p);
    p->batch = sh.B;
    p->steps = sh.T;
    p->dims = sh.V;
    p->orders = sh.R1;
    p->equations = sh.Q;
    p->init_orders = sh.R1 > 1 ? 2 : 1;
    smnn_plan_options_init(po);
    po->precision = o->precision;
    po->variant = o->variant;
    po->factorization = o->factorization;
    po->refine_steps = o->refine_steps;
    po->time_chunks = sh.parts ? sh.parts : o->time_chunks;
}

static void bench_shape(smnn_context *ctx, const options *o, shape sh, double copy_gbps) {
    smnn_problem p;
    smnn_plan_options po;
    shape_problem(o, sh, &p, &po);
    size_t n = sh.V * sh.R1, es = o->precision == SMNN_PRECISION_DOUBLE ? 8 : 4;
    /* The sizes first (overflow, device memory), before any host allocation. */
    check(smnn_problem_validate(&p), "shape");
    smnn_plan *plan = NULL;
    check(smnn_plan_create(ctx, &p, &po, &plan), "plan");
    /* The tests' random problems. Steps of order 0.1 keep the normal matrices well conditioned
     * for every n_orders used here, so that the comparison with LAPACK below is meaningful
     * (timings do not depend on the values). */
    rp_rng rng = rp_rng_make(1234);
    rp_inputs in;
    if (rp_inputs_make(&p, &rng, 0.05, 0.15, &in) != 0) {
        fprintf(stderr, "smnn-bench: out of memory for the inputs (B=%zu T=%zu)\n", sh.B, sh.T);
        exit(1);
    }
    const double *c = in.c, *d = in.d, *u = in.u, *s = in.s;
    cl_mem bc = device_copy(ctx, c, smnn_problem_c_count(&p), o->precision);
    cl_mem bd = device_copy(ctx, d, smnn_problem_d_count(&p), o->precision);
    cl_mem bu = device_copy(ctx, u, smnn_problem_u_count(&p), o->precision);
    cl_mem bs = device_copy(ctx, s, smnn_problem_s_count(&p), o->precision);
    size_t ny = smnn_problem_y_count(&p);
    double *yh = hu_calloc(ny, sizeof *yh);
    if (!yh) {
        fprintf(stderr, "smnn-bench: out of memory for y (%zu values)\n", ny);
        exit(1);
    }
    cl_mem by = device_copy(ctx, yh, ny, o->precision), bgy = device_copy(ctx, yh, ny, o->precision);
    cl_mem bgc = device_copy(ctx, c, smnn_problem_c_count(&p), o->precision);
    cl_mem bgd = device_copy(ctx, d, smnn_problem_d_count(&p), o->precision);
    cl_mem bgu = device_copy(ctx, u, smnn_problem_u_count(&p), o->precision);
    cl_mem bgs = device_copy(ctx, s, smnn_problem_s_count(&p), o->precision);
    cl_command_queue q = smnn_context_cl_queue(ctx);
    double steps = (double)sh.B * (double)sh.T;
    /* Workspace reals per system-step, as the plan allocated them (contract.h SMNN_REC). */
    double rec = (double)(smnn_plan_workspace_bytes(plan) - sh.B * sizeof(cl_int)) / steps / es;
    /* Bytes each phase must move, per system-step, by our count. */
    double in_b = (double)(sh.Q * n + sh.Q + 1) * es, y_b = (double)n * es;
    double bytes_step[5] = {
        in_b + 2 * rec * es + y_b,                        /* inputs, workspace out + in, y */
        (double)(sh.Q * n + sh.Q) * es + 2 * rec * es + y_b, /* c, d; factors twice; y */
        0,                                                /* the plan's: fused or apart, below */
        in_b + 2 * rec * es + y_b                          /* forward ... */
            + y_b + 2 * rec * es                           /* g; factors (z with them), as apart */
            + in_b + y_b + (sh.Q * n + sh.Q + 1) * es,     /* walk: inputs, y; grads; no lambda */
        in_b + 2 * rec * es + y_b                          /* forward ... */
            + y_b + 2 * rec * es + y_b                     /* lambda substitution: g, factors, lambda */
            + (in_b + 2 * y_b) + (sh.Q * n + sh.Q + 1) * es, /* adjoint: inputs, y, lambda; grads */
    };
    bytes_step[PH_FB] = bytes_step[smnn_plan_backward_fused(plan) ? PH_FB_FUSED : PH_FB_APART];
    smnn_plan *main_plan = plan, *fused = o->fused ? fused_plan(ctx, &p, &po, "1") : NULL;
    smnn_plan *apart = o->fused ? fused_plan(ctx, &p, &po, "0") : NULL;
    for (int ph = 0; ph < (fused ? 5 : 3); ph++) {
        plan = ph == PH_FB_FUSED ? fused : ph == PH_FB_APART ? apart : main_plan;
        int total = o->warmup + o->repeats;
        double *dev = need((size_t)total, sizeof *dev, "timings");
        double *wall = need((size_t)total, sizeof *wall, "timings");
        if (ph == PH_FROZEN) check(smnn_solve_async(plan, NULL, bc, bd, bu, bs, by, 0, NULL, NULL), "solve");
        clFinish(q);
        for (int r = 0; r < total; r++) {
            cl_event m0, m1;
            clFinish(q);
            double w0 = hu_now_ms();
            clEnqueueMarkerWithWaitList(q, 0, NULL, &m0);
            if (ph == PH_FROZEN)
                check(smnn_solve_frozen_async(plan, NULL, bc, bd, bu, by, 0, NULL, NULL), "frozen");
            else
                check(smnn_solve_async(plan, NULL, bc, bd, bu, bs, by, 0, NULL, NULL), "solve");
            if (ph >= PH_FB)
                check(smnn_backward_async(plan, NULL, bc, bd, bs, by, bgy, bgc, bgd, bgu, bgs, 0,
                                          NULL, NULL),
                      "backward");
            clEnqueueMarkerWithWaitList(q, 0, NULL, &m1);
            clFinish(q);
            wall[r] = hu_now_ms() - w0;
            dev[r] = event_ms(m0, m1, wall[r]);
            clReleaseEvent(m0);
            clReleaseEvent(m1);
        }
        /* Times of work the device did not do are left out: a device that ended the kernels'
         * loops early (Mesa's llvmpipe, SMNN_ERROR_UNSUPPORTED) or failing systems. */
        smnn_failure_report rep;
        smnn_status fst = smnn_plan_failures(plan, &rep);
        if (fst != SMNN_SUCCESS || rep.count > 0) {
            fprintf(stderr, "smnn-bench: B=%zu T=%zu n=%zu %s: %s; its timing is left out\n", sh.B,
                    sh.T, n, phase_names[ph],
                    fst != SMNN_SUCCESS ? smnn_last_error() : "some systems failed");
            free(dev);
            free(wall);
            continue;
        }
        record rc = {0};
        rc.s = sh;
        rc.precision = o->precision == SMNN_PRECISION_DOUBLE ? "double" : "single";
        rc.variant = smnn_variant_name(smnn_plan_variant(plan));
        rc.factorization = smnn_factorization_name(smnn_plan_factorization(plan));
        rc.phase = phase_names[ph];
        double *dv = dev + o->warmup, *wv = wall + o->warmup;
        rc.median_ms = hu_median(dv, o->repeats);
        rc.min_ms = dv[0];
        rc.max_ms = dv[o->repeats - 1];
        rc.wall_ms = hu_median(wv, o->repeats);
        rc.ns_per_step = rc.median_ms * 1e6 / steps;
        rc.bytes_per_step = bytes_step[ph];
        rc.gbps = rc.bytes_per_step * steps / (rc.median_ms * 1e-3) * 1e-9;
        rc.floor_ratio = copy_gbps > 0 ? rc.gbps > 0 ? copy_gbps / rc.gbps : 0 : 0;
        rc.workspace_per_step = (size_t)((double)smnn_plan_workspace_bytes(plan) / steps);
        rc.parts = smnn_plan_get_options(plan)->time_chunks;
        rc.asked = po.time_chunks;
        add(rc);
        free(dev);
        free(wall);
    }
    plan = main_plan;
    smnn_plan_free(fused);
    smnn_plan_free(apart);
    if (o->peers && o->precision == SMNN_PRECISION_DOUBLE) {
        /* LAPACK banded Cholesky over the batch. When the band storage of the whole batch would
         * pass 2 GB, it runs on the first systems only (a multiple of the core count) and its
         * time is scaled to B: the systems are independent and equally sized. */
        double band_per_system = (double)sh.T * (double)n * 2.0 * (double)n * 8.0 * 2.0;
        size_t sub = sh.B;
        if (band_per_system * (double)sub > 2e9) sub = (size_t)(2e9 / band_per_system) / 2 * 2;
        if (sub >= 1) {
            smnn_problem ps = p;
            ps.batch = sub;
            double scale = (double)sh.B / (double)sub;
            peer_lapack pl;
            if (peer_lapack_prepare(&ps, c, d, u, s, &pl) != 0) {
                fprintf(stderr, "smnn-bench: LAPACK peer skipped: out of memory for its band "
                        "storage (B=%zu T=%zu n=%zu)\n", sub, sh.T, n);
            } else {
                int total = o->warmup + o->repeats;
                double *t = need((size_t)total, sizeof *t, "timings");
                for (int r = 0; r < total; r++) {
                    double t0 = hu_now_ms();
                    peer_lapack_run(&pl);
                    t[r] = hu_now_ms() - t0;
                }
                record rc = {0};
                rc.s = sh;
                rc.precision = "double";
                rc.variant = "-";
                rc.factorization = "-";
                rc.phase = "lapack_pbsv";
                rc.median_ms = hu_median(t + o->warmup, o->repeats) * scale;
                rc.min_ms = t[o->warmup] * scale;
                rc.max_ms = t[total - 1] * scale;
                rc.wall_ms = rc.median_ms;
                rc.ns_per_step = rc.median_ms * 1e6 / steps;
                add(rc);
                if (sub < sh.B)
                    fprintf(stderr, "smnn-bench: LAPACK ran on %zu of %zu systems, time scaled\n",
                            sub, sh.B);
                /* Same matrices: the solutions must agree. */
                double *y = need(ny, sizeof *y, "y"), err = 0, ref = 0;
                check(smnn_solve(plan, c, d, u, s, y), "solve");
                for (size_t i = 0; i < sub * sh.T * n; i++) {
                    err = fmax(err, fabs(y[i] - pl.x[i]));
                    ref = fmax(ref, fabs(pl.x[i]));
                }
                if (err > 1e-6 * ref)
                    fprintf(stderr, "smnn-bench: warning: smnn and LAPACK differ by %.1e (B=%zu T=%zu)\n",
                            err / ref, sh.B, sh.T);
                free(y);
                free(t);
            }
            peer_lapack_free(&pl);
        }
        /* The dense reference, for one system, where its O(T^2) matrix stays small. */
        if (sh.T * n <= 1500) {
            smnn_problem one = p;
            one.batch = 1;
            double *y = need(sh.T, n * sizeof *y, "the reference's y"), t[3];
            for (int r = 0; r < 3; r++) {
                double t0 = hu_now_ms();
                check(smnn_reference_solve(&one, c, d, u, s, y, 0), "reference");
                t[r] = hu_now_ms() - t0;
            }
            record rc = {0};
            rc.s = sh;
            rc.precision = "double";
            rc.variant = "-";
            rc.factorization = "-";
            rc.phase = "dense_reference";
            rc.median_ms = hu_median(t, 3) * (double)sh.B; /* per batch: B single-system solves */
            rc.min_ms = t[0] * (double)sh.B;
            rc.max_ms = t[2] * (double)sh.B;
            rc.wall_ms = rc.median_ms;
            rc.ns_per_step = rc.median_ms * 1e6 / steps;
            add(rc);
            free(y);
        }
    }
    cl_mem all[] = {bc, bd, bu, bs, by, bgy, bgc, bgd, bgu, bgs};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) clReleaseMemObject(all[i]);
    smnn_plan_free(plan);
    rp_inputs_free(&in);
    free(yh);
}

/* --devices: the blocking host-pointer calls (uploads and downloads included, as a host
 * application sees them) on one plan over the whole batch on the --device context (phases
 * host_forward, host_forward_backward, variant "1 dev") and on a multi plan over the listed
 * contexts (multi_forward, multi_forward_backward, variant "N dev"); wall times, since the
 * parts run on several queues at once. */
static void bench_devices(smnn_context *ctx, const options *o, shape sh) {
    static char labels[65][12];
    smnn_problem p;
    smnn_plan_options po;
    shape_problem(o, sh, &p, &po);
    check(smnn_problem_validate(&p), "shape");
    rp_rng rng = rp_rng_make(1234);
    rp_inputs in;
    if (rp_inputs_make(&p, &rng, 0.05, 0.15, &in) != 0) {
        fprintf(stderr, "smnn-bench: out of memory for the inputs (B=%zu T=%zu)\n", sh.B, sh.T);
        exit(1);
    }
    size_t ny = smnn_problem_y_count(&p);
    double *y = need(ny, sizeof *y, "y"), *gy = need(ny, sizeof *gy, "dl/dy");
    double *g[4] = {need(smnn_problem_c_count(&p), sizeof(double), "dl/dc"),
                    need(smnn_problem_d_count(&p), sizeof(double), "dl/dd"),
                    need(smnn_problem_u_count(&p), sizeof(double), "dl/du"),
                    need(smnn_problem_s_count(&p), sizeof(double), "dl/ds")};
    for (size_t i = 0; i < ny; i++) gy[i] = 1.0 / (1.0 + (double)(i % 5));
    smnn_context **ctxs = NULL;
    size_t nctx = 0;
    check(smnn_contexts_create(o->devices, &ctxs, &nctx), "--devices");
    smnn_multi_options mo;
    smnn_multi_options_init(&mo);
    mo.split = o->split;
    smnn_multi_plan *mp = NULL;
    smnn_plan *one = NULL;
    check(smnn_multi_plan_create(ctxs, nctx, &p, &po, &mo, &mp), "multi plan");
    check(smnn_plan_create(ctx, &p, &po, &one), "plan");
    for (size_t i = 0; i < nctx; i++) {
        smnn_multi_part part;
        check(smnn_multi_plan_part(mp, i, &part), "part");
        fprintf(stderr, "smnn-bench:   part %zu: %s, %zu systems from %zu, calibrated %.3g "
                "system-steps/s\n", i, smnn_context_device(part.context)->device_name,
                part.count, part.first, part.throughput);
    }
    snprintf(labels[1], sizeof labels[1], "1 dev");
    snprintf(labels[nctx], sizeof labels[nctx], "%zu dev", nctx);
    static const char *const names[4] = {"host_forward", "host_forward_backward", "multi_forward",
                                         "multi_forward_backward"};
    double steps = (double)sh.B * (double)sh.T;
    int total = o->warmup + o->repeats;
    double *t = need((size_t)total, sizeof *t, "timings");
    for (int ph = 0; ph < 4; ph++) {
        int multi = ph >= 2, back = ph % 2;
        for (int r = 0; r < total; r++) {
            double t0 = hu_now_ms();
            if (multi) {
                check(smnn_multi_solve(mp, in.c, in.d, in.u, in.s, y), "multi solve");
                if (back)
                    check(smnn_multi_backward(mp, in.c, in.d, in.s, y, gy, g[0], g[1], g[2], g[3]),
                          "multi backward");
            } else {
                check(smnn_solve(one, in.c, in.d, in.u, in.s, y), "solve");
                if (back)
                    check(smnn_backward(one, in.c, in.d, in.s, y, gy, g[0], g[1], g[2], g[3]),
                          "backward");
            }
            t[r] = hu_now_ms() - t0;
        }
        record rc = {0};
        rc.s = sh;
        rc.precision = o->precision == SMNN_PRECISION_DOUBLE ? "double" : "single";
        rc.variant = labels[multi ? nctx : 1];
        rc.factorization = smnn_factorization_name(smnn_plan_factorization(one));
        rc.phase = names[ph];
        double *tv = t + o->warmup;
        rc.median_ms = hu_median(tv, o->repeats);
        rc.min_ms = tv[0];
        rc.max_ms = tv[o->repeats - 1];
        rc.wall_ms = rc.median_ms;
        rc.ns_per_step = rc.median_ms * 1e6 / steps;
        add(rc);
    }
    free(t);
    smnn_plan_free(one);
    smnn_multi_plan_free(mp);
    smnn_contexts_free(ctxs, nctx);
    for (int k = 0; k < 4; k++) free(g[k]);
    free(y);
    free(gy);
    rp_inputs_free(&in);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: smnn-bench [--suite paper|scaling|blocks|quick] [shape options] [options]\n"
            "\n"
            "  --batch B --steps T --dims V --orders n_orders --equations Q   one shape\n"
            "  --suite NAME      paper: the paper's Table 1 Lorenz shapes (n = 3; B = 192, 1536,\n"
            "                    12288; T = 5, 50, 500); scaling: T = 1e2..1e6 at B = 1 and\n"
            "                    T = 1e2..1e4 at B = 1536, then parallel in time: B = 1, 4, 16\n"
            "                    at T = 1e4..1e6 and B = 64 at T = 1e4..1e5, each with P = 1 and\n"
            "                    the automatic P; blocks: n = 2..64 at B = 1024, T = 100;\n"
            "                    quick: a few small shapes\n"
            "  --precision P     double (default) or single\n"
            "  --variant V       auto (default), private or local\n"
            "  --time-chunks P   parallel in time: 0 (default) the plan's automatic choice,\n"
            "                    1 the sequential walk, P chunks per system (column P)\n"
            "  --refine N        refinement steps: -1 (default) the plan's automatic choice,\n"
            "                    0 off, 1..10\n"
            "  --factorization F auto (default: qr in single, cholesky in double precision),\n"
            "                    cholesky or qr\n"
            "  --repeats N       timed runs per phase (default 7), after --warmup N (default 2)\n"
            "  --no-peers        skip LAPACK and the dense reference\n"
            "  --fused           also time forward + backward with the backward pass forced\n"
            "                    fused and forced apart (phases forward_backward_fused and\n"
            "                    forward_backward_apart; SMNN_FUSED_BACKWARD=1 and 0); the\n"
            "                    phase forward_backward is the plan's default\n"
            "  --format F        text (default), csv or json\n"
            "  --device SPEC     as everywhere (default $SMNN_DEVICE, else first GPU/device)\n"
            "  --devices LIST    instead of the device phases: the host-pointer solve and\n"
            "                    forward + backward on one device (--device) against the batch\n"
            "                    sharded over LIST (all, SPEC,SPEC,... or split:N[:SPEC]);\n"
            "                    wall times, uploads and downloads included\n"
            "  --split MODE      with --devices: measured (default) or equal\n");
}

/* Least-squares slope of log(median time) against log(T) for every (B, n, phase) series with
 * three or more lengths: time ~ T^k. */
static void print_slopes(FILE *f) {
    int header = 0;
    for (size_t i = 0; i < nrecords; i++) {
        record *r = &records[i];
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            if (records[j].s.B == r->s.B && records[j].s.V == r->s.V &&
                records[j].s.R1 == r->s.R1 && !strcmp(records[j].phase, r->phase) &&
                records[j].s.parts == r->s.parts)
                seen = 1;
        if (seen) continue;
        double sx = 0, sy = 0, sxx = 0, sxy = 0, tmin = 1e300, tmax = 0;
        int m = 0;
        for (size_t j = i; j < nrecords; j++) {
            record *q = &records[j];
            if (q->s.B != r->s.B || q->s.V != r->s.V || q->s.R1 != r->s.R1 ||
                strcmp(q->phase, r->phase) || q->s.parts != r->s.parts || q->median_ms <= 0)
                continue;
            double x = log((double)q->s.T), y = log(q->median_ms);
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
            tmin = fmin(tmin, (double)q->s.T);
            tmax = fmax(tmax, (double)q->s.T);
            m++;
        }
        if (m < 3) continue;
        double k = (m * sxy - sx * sy) / (m * sxx - sx * sx);
        if (!header) fprintf(f, "\nfitted time ~ T^k:\n");
        header = 1;
        fprintf(f, "  B = %zu, n = %zu, P %-9s %-16s k = %.3f  (T = %.0f .. %.0f, %d lengths)\n",
                r->s.B, r->s.V * r->s.R1, r->s.parts == 1 ? "1" : "automatic", r->phase, k, tmin,
                tmax, m);
    }
}

static void print_records(const char *format, double copy_gbps, const char *device) {
    if (!strcmp(format, "json")) {
        printf("{\"device\": \"%s\", \"copy_gbps\": %.3f, \"records\": [\n", device, copy_gbps);
        for (size_t i = 0; i < nrecords; i++) {
            record *r = &records[i];
            printf("  {\"batch\": %zu, \"steps\": %zu, \"dims\": %zu, \"orders\": %zu, "
                   "\"equations\": %zu, \"precision\": \"%s\", \"variant\": \"%s\", "
                   "\"phase\": \"%s\", \"median_ms\": %.6g, \"min_ms\": %.6g, \"max_ms\": %.6g, "
                   "\"wall_ms\": %.6g, \"ns_per_system_step\": %.6g",
                   r->s.B, r->s.T, r->s.V, r->s.R1, r->s.Q, r->precision, r->variant, r->phase,
                   r->median_ms, r->min_ms, r->max_ms, r->wall_ms, r->ns_per_step);
            if (r->bytes_per_step > 0)
                printf(", \"bytes_per_system_step\": %.1f, \"gbps\": %.4g, \"floor_ratio\": %.4g, "
                       "\"workspace_bytes_per_system_step\": %zu",
                       r->bytes_per_step, r->gbps, r->floor_ratio, r->workspace_per_step);
            printf(", \"factorization\": \"%s\", \"time_chunks\": %d, \"time_chunks_option\": %d}%s\n",
                   r->factorization, r->parts, r->asked, i + 1 < nrecords ? "," : "");
        }
        printf("]}\n");
        return;
    }
    int csv = !strcmp(format, "csv");
    if (csv)
        printf("batch,steps,dims,orders,equations,n,precision,variant,phase,median_ms,min_ms,"
               "max_ms,wall_ms,ns_per_system_step,bytes_per_system_step,gbps,floor_ratio,"
               "ratio_to_lapack,factorization,time_chunks,time_chunks_option\n");
    else
        printf("device: %s, copy bandwidth %.2f GB/s\n\n%6s %7s %3s %5s %-7s %-24s %10s %10s %9s "
               "%8s %7s %9s %s\n",
               device, copy_gbps, "B", "T", "n", "P", "variant", "phase", "median ms", "wall ms",
               "ns/sys-st", "B/sys-st", "xfloor", "/lapack", "factorization");
    for (size_t i = 0; i < nrecords; i++) {
        record *r = &records[i];
        double lap = 0;
        for (size_t j = 0; j < nrecords; j++)
            if (!strcmp(records[j].phase, "lapack_pbsv") && records[j].s.B == r->s.B &&
                records[j].s.T == r->s.T && records[j].s.V == r->s.V && records[j].s.R1 == r->s.R1)
                lap = records[j].median_ms;
        double ratio = lap > 0 ? r->median_ms / lap : 0;
        if (csv)
            printf("%zu,%zu,%zu,%zu,%zu,%zu,%s,%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.1f,%.4g,%.4g,%.4g,"
                   "%s,%d,%d\n",
                   r->s.B, r->s.T, r->s.V, r->s.R1, r->s.Q, r->s.V * r->s.R1, r->precision,
                   r->variant, r->phase, r->median_ms, r->min_ms, r->max_ms, r->wall_ms,
                   r->ns_per_step, r->bytes_per_step, r->gbps, r->floor_ratio, ratio,
                   r->factorization, r->parts, r->asked);
        else
            printf("%6zu %7zu %3zu %5d %-7s %-24s %10.3f %10.3f %9.1f %8.0f %7.2f %9.3f %s\n",
                   r->s.B, r->s.T, r->s.V * r->s.R1, r->parts, r->variant, r->phase, r->median_ms,
                   r->wall_ms, r->ns_per_step, r->bytes_per_step, r->floor_ratio, ratio,
                   r->factorization);
    }
}

int main(int argc, char **argv) {
    options o = {NULL, NULL, "text", SMNN_PRECISION_DOUBLE, SMNN_VARIANT_AUTO,
                 SMNN_FACTORIZATION_AUTO, -1, 7, 2, 1, 0, 0, NULL, SMNN_SPLIT_MEASURED,
                 {1536, 50, 1, 3, 1, 0}};
    static const struct option opts[] = {
        {"batch", required_argument, 0, 'B'},    {"steps", required_argument, 0, 'T'},
        {"dims", required_argument, 0, 'V'},     {"orders", required_argument, 0, 'R'},
        {"equations", required_argument, 0, 'Q'}, {"precision", required_argument, 0, 'p'},
        {"variant", required_argument, 0, 'v'},  {"suite", required_argument, 0, 's'},
        {"repeats", required_argument, 0, 'r'},  {"warmup", required_argument, 0, 'w'},
        {"no-peers", no_argument, 0, 'n'},       {"format", required_argument, 0, 'f'},
        {"device", required_argument, 0, 'd'},   {"help", no_argument, 0, 'h'},
        {"factorization", required_argument, 0, 'F'}, {"refine", required_argument, 0, 'e'},
        {"fused", no_argument, 0, 'u'},          {"devices", required_argument, 0, 'D'},
        {"split", required_argument, 0, 'S'},    {"time-chunks", required_argument, 0, 'P'},
        {0, 0, 0, 0}};
    static const char *const precisions[] = {"double", "single", NULL};
    static const char *const variants[] = {"auto", "private", "local", NULL};
    static const smnn_variant variant_values[] = {SMNN_VARIANT_AUTO, SMNN_VARIANT_PRIVATE,
                                                  SMNN_VARIANT_LOCAL};
    static const char *const factorizations[] = {"auto", "cholesky", "qr", NULL};
    static const smnn_factorization factorization_values[] = {
        SMNN_FACTORIZATION_AUTO, SMNN_FACTORIZATION_CHOLESKY, SMNN_FACTORIZATION_QR};
    static const char *const suites[] = {"paper", "scaling", "blocks", "quick", NULL};
    static const char *const formats[] = {"text", "csv", "json", NULL};
    int c, pick;
    cli_set_program(argv[0]);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'B': if (cli_size("--batch", optarg, 1, SIZE_MAX, &o.one.B)) return 2; break;
        case 'T': if (cli_size("--steps", optarg, 2, SIZE_MAX, &o.one.T)) return 2; break;
        case 'V': if (cli_size("--dims", optarg, 1, SIZE_MAX, &o.one.V)) return 2; break;
        case 'R': if (cli_size("--orders", optarg, 1, SIZE_MAX, &o.one.R1)) return 2; break;
        case 'Q': if (cli_size("--equations", optarg, 1, SIZE_MAX, &o.one.Q)) return 2; break;
        case 'p':
            if (cli_choice("--precision", optarg, precisions, &pick)) return 2;
            o.precision = pick ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE;
            break;
        case 'v':
            if (cli_choice("--variant", optarg, variants, &pick)) return 2;
            o.variant = variant_values[pick];
            break;
        case 'F':
            if (cli_choice("--factorization", optarg, factorizations, &pick)) return 2;
            o.factorization = factorization_values[pick];
            break;
        case 's':
            if (cli_choice("--suite", optarg, suites, &pick)) return 2;
            o.suite = suites[pick];
            break;
        /* Counts of runs stay far below INT_MAX so that warmup + repeats cannot overflow. */
        case 'r': if (cli_int("--repeats", optarg, 1, 1000000, &o.repeats)) return 2; break;
        case 'w': if (cli_int("--warmup", optarg, 0, 1000000, &o.warmup)) return 2; break;
        case 'e': if (cli_int("--refine", optarg, -1, 10, &o.refine_steps)) return 2; break;
        case 'P': if (cli_int("--time-chunks", optarg, 0, 1000000, &o.time_chunks)) return 2; break;
        case 'n': o.peers = 0; break;
        case 'u': o.fused = 1; break;
        case 'f':
            if (cli_choice("--format", optarg, formats, &pick)) return 2;
            o.format = formats[pick];
            break;
        case 'd': o.device = optarg; break;
        case 'D': o.devices = optarg; break;
        case 'S': {
            static const char *const splits[] = {"measured", "equal", NULL};
            if (cli_choice("--split", optarg, splits, &pick)) return 2;
            o.split = pick ? SMNN_SPLIT_EQUAL : SMNN_SPLIT_MEASURED;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smnn-bench: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (openblas_set_num_threads) openblas_set_num_threads(1); /* parallel over the batch instead */
    shape list[64];
    size_t nl = 0;
    if (!o.suite) {
        list[nl++] = o.one;
    } else if (!strcmp(o.suite, "paper")) {
        size_t Bs[] = {192, 1536, 12288}, Ts[] = {5, 50, 500};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) list[nl++] = (shape){Bs[i], Ts[j], 1, 3, 1, 0};
    } else if (!strcmp(o.suite, "scaling")) {
        for (size_t T = 100; T <= 1000000; T *= 10) list[nl++] = (shape){1, T, 1, 3, 1, 0};
        for (size_t T = 100; T <= 10000; T *= 10) list[nl++] = (shape){1536, T, 1, 3, 1, 0};
        /* Parallel in time against the sequential walk, side by side (B = 64 stops at 1e5: its
         * workspace at 1e6 would take 14 GB). */
        size_t Bp[] = {1, 4, 16, 64};
        for (int i = 0; i < 4; i++)
            for (size_t T = 10000; T <= (Bp[i] < 64 ? 1000000 : 100000); T *= 10)
                for (int seq = 1; seq >= 0; seq--) list[nl++] = (shape){Bp[i], T, 1, 3, 1, seq};
    } else if (!strcmp(o.suite, "blocks")) {
        shape b[] = {{1024, 100, 1, 2, 1, 0}, {1024, 100, 1, 3, 1, 0}, {1024, 100, 1, 4, 1, 0},
                     {1024, 100, 2, 4, 2, 0}, {1024, 100, 4, 4, 4, 0}, {1024, 100, 8, 4, 8, 0},
                     {1024, 100, 16, 4, 16, 0}};
        for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) list[nl++] = b[i];
    } else { /* quick */
        list[nl++] = (shape){192, 50, 1, 3, 1, 0};
        list[nl++] = (shape){1, 1000, 1, 3, 1, 0};
        list[nl++] = (shape){64, 20, 4, 4, 4, 0};
    }
    smnn_context *ctx = NULL;
    check(smnn_context_create(o.device, &ctx), "context");
    const smnn_device_info *di = smnn_context_device(ctx);
    double copy_gbps = copy_bandwidth(ctx);
    fprintf(stderr, "smnn-bench: %s, copy bandwidth %.2f GB/s, %zu shape(s)\n", di->device_name,
            copy_gbps, nl);
    for (size_t i = 0; i < nl; i++) {
        fprintf(stderr, "smnn-bench: [%zu/%zu] B=%zu T=%zu n=%zu\n", i + 1, nl, list[i].B,
                list[i].T, list[i].V * list[i].R1);
        if (o.devices)
            bench_devices(ctx, &o, list[i]);
        else
            bench_shape(ctx, &o, list[i], copy_gbps);
    }
    print_records(o.format, copy_gbps, di->device_name);
    print_slopes(strcmp(o.format, "text") ? stderr : stdout);
    smnn_context_free(ctx);
    free(records);
    return 0;
}
