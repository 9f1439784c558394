/* smnn-info: lists the OpenCL platforms and devices with the capabilities smnn uses, says which
 * device is the default and why, shows the kernel variant the rule picks for typical shapes, and
 * runs a self-check on the chosen device (build every kernel, solve random problems with each
 * variant, precision and factorization (Cholesky and QR), compare with the dense reference).
 * Exit codes: 0 all good, 1 no usable device or a failed self-check, 2 bad usage. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smnn/smnn.h>

#include "loopprobe.h"
#include "randprob.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f) {
    fprintf(f, "usage: smnn-info [--device SPEC] [--no-self-check]\n"
               "\n"
               "Lists OpenCL devices and their capabilities, the default device and why, the\n"
               "kernel variant chosen for typical block sizes, and self-checks the chosen device.\n"
               "\n"
               "  --device SPEC     PLATFORM:DEVICE by index or case-insensitive name substring\n"
               "                    (default: $SMNN_DEVICE, else the first GPU, else the first\n"
               "                    device)\n"
               "  --no-self-check   only list devices\n"
               "  --help            show this help\n");
}

static int self_check_solve(smnn_context *ctx, smnn_variant v, smnn_precision prec,
                            smnn_factorization fact) {
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = 5;
    p.steps = 17;
    p.dims = 2;
    p.orders = 3;
    p.equations = 2;
    p.init_orders = 2;
    smnn_plan_options opt;
    smnn_plan_options_init(&opt);
    opt.variant = v;
    opt.precision = prec;
    opt.factorization = fact;
    size_t ny = smnn_problem_y_count(&p);
    double *y = malloc(ny * sizeof *y), *ref = malloc(ny * sizeof *ref);
    /* The tests' random problems, with steps in [0.5, 1.5). */
    rp_rng rng = rp_rng_make(42);
    rp_inputs in;
    if (!y || !ref || rp_inputs_make(&p, &rng, 0.5, 1.5, &in) != 0) {
        printf("  solve: FAILED: out of memory\n");
        free(y);
        free(ref);
        return 0;
    }
    int ok = 0;
    smnn_plan *plan = NULL;
    double t0 = now();
    smnn_status status = smnn_plan_prepare(ctx, &p, &opt);
    double build_s = now() - t0;
    if (status == SMNN_SUCCESS) status = smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0);
    if (status == SMNN_SUCCESS) status = smnn_plan_create(ctx, &p, &opt, &plan);
    if (status == SMNN_SUCCESS) status = smnn_solve(plan, in.c, in.d, in.u, in.s, y);
    const char *pname = prec == SMNN_PRECISION_DOUBLE ? "double" : "single";
    /* The factorization the plan used (the one asked for when there is no plan). */
    const char *fname = smnn_factorization_name(plan ? smnn_plan_factorization(plan) : fact);
    if (status != SMNN_SUCCESS) {
        printf("  solve %-7s %-6s %-8s: FAILED: %s\n", smnn_variant_name(v), pname, fname,
               smnn_last_error());
    } else {
        double num = 0, den = 0;
        for (size_t i = 0; i < ny; i++) {
            double e = fabs(y[i] - ref[i]);
            if (!(e <= num)) num = e; /* NaN propagates */
            if (fabs(ref[i]) > den) den = fabs(ref[i]);
        }
        double rel = num / den, tol = prec == SMNN_PRECISION_DOUBLE ? 1e-9 : 1e-4;
        ok = rel <= tol;
        printf("  solve %-7s %-6s %-8s: B=5 T=17 n=6, relative error vs dense reference %.1e "
               "(tolerance %.0e) %s; kernels ready in %.2f s (from the caches when warm)\n",
               smnn_variant_name(v), pname, fname, rel, tol, ok ? "ok" : "FAILED", build_s);
    }
    smnn_plan_free(plan);
    rp_inputs_free(&in);
    free(y);
    free(ref);
    return ok;
}

int main(int argc, char **argv) {
    const char *device = NULL;
    int self_check = 1;
    static const struct option opts[] = {{"device", required_argument, 0, 'd'},
                                         {"no-self-check", no_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': device = optarg; break;
        case 'n': self_check = 0; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smnn-info: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    printf("smnn %s\n\n", smnn_version());
    smnn_device_list *list = NULL;
    if (smnn_device_list_create(&list) != SMNN_SUCCESS) {
        fprintf(stderr, "smnn-info: %s\n", smnn_last_error());
        return 1;
    }
    size_t def = 0, chosen = 0;
    const char *def_why = "", *why = "";
    smnn_device_list_choose(list, "", &def, &def_why);
    if (smnn_device_list_choose(list, device, &chosen, &why) != SMNN_SUCCESS) {
        fprintf(stderr, "smnn-info: %s\n", smnn_last_error());
        smnn_device_list_free(list);
        return 1;
    }
    unsigned last_pf = (unsigned)-1;
    for (size_t i = 0; i < smnn_device_list_count(list); i++) {
        const smnn_device_info *d = smnn_device_list_at(list, i);
        if (d->platform_index != last_pf) {
            printf("Platform %u: %s (%s)\n", d->platform_index, d->platform_name,
                   d->platform_version);
            last_pf = d->platform_index;
        }
        printf("  Device %u:%u  %s  [%s]%s\n", d->platform_index, d->device_index, d->device_name,
               d->is_gpu ? "GPU" : d->is_cpu ? "CPU" : "other",
               i == def ? "  <- default" : "");
        printf("    vendor %s, driver %s, %s\n", d->device_vendor, d->driver_version,
               d->device_version);
        printf("    fp64: %s   compute units: %u   local memory: %llu KiB   max work-group: %zu\n"
               "    global memory: %llu MiB   max allocation: %llu MiB\n"
               "    single-precision division and sqrt: %s\n",
               d->has_fp64 ? "yes" : "no", d->compute_units,
               (unsigned long long)(d->local_mem_bytes >> 10), d->max_work_group_size,
               (unsigned long long)(d->global_mem_bytes >> 20),
               (unsigned long long)(d->max_alloc_bytes >> 20),
               d->fp32_correct_div_sqrt
                   ? "correctly rounded (programs built with -cl-fp32-correctly-rounded-divide-sqrt)"
                   : "the device's own (OpenCL allows 2.5 and 3 ulp)");
    }
    const smnn_device_info *cd = smnn_device_list_at(list, chosen);
    printf("\nDefault device: %u:%u (%s)\n", smnn_device_list_at(list, def)->platform_index,
           smnn_device_list_at(list, def)->device_index, def_why);
    printf("Chosen device:  %u:%u %s (%s)\n", cd->platform_index, cd->device_index,
           cd->device_name, why);
    printf("\nTuning table (first matching row applies; SMNN_VARIANT_AUTO and systems per "
           "work-item 0; width in double precision, twice that in single, at most 16):\n");
    printf("  %-4s %-8s %-6s %-9s %-9s %-8s %-5s %s\n", "row", "vendor", "device", "n <=", "B >=",
           "variant", "width", "why");
    for (size_t i = 0; i < smnn_tuning_rule_count(); i++) {
        const smnn_tuning_rule *r = smnn_tuning_rule_at(i);
        printf("  %-4zu %-8s %-6s %-9zu %-9zu %-8s %-5d %s\n", i, *r->vendor ? r->vendor : "any",
               *r->device ? r->device : "any", r->max_block, r->min_batch,
               smnn_variant_name(r->variant), r->systems_per_item, r->why);
    }
    printf("\nKernel variant the table picks on the chosen device:\n");
    printf("  %-30s %-10s %-10s\n", "block", "B = 1536", "B = 1");
    const size_t shapes[][2] = {{1, 3}, {3, 3}, {4, 4}, {8, 4}, {16, 4}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t n = shapes[i][0] * shapes[i][1];
        char what[64];
        snprintf(what, sizeof what, "n = %2zu (V = %2zu, n_orders = %zu)", n, shapes[i][0],
                 shapes[i][1]);
        printf("  %-30s %-10s %-10s\n", what, smnn_variant_name(smnn_variant_choose(cd, n, 1536)),
               smnn_variant_name(smnn_variant_choose(cd, n, 1)));
    }
    /* solver.h "Parallel in time": the automatic number of time chunks. */
    printf("\nParallel in time (automatic time chunks P, double-precision Cholesky plans): with\n"
           "  want = %s, P = ceil(want / B) when B < want, at most T / 32 and\n"
           "  2 sqrt(T); P = 1 (the sequential walk) otherwise. On the chosen device, n = 3:\n",
           cd->is_cpu ? "compute units x 8 lanes" : "256 x compute units");
    printf("  %-12s %-10s %-10s %-10s\n", "T", "B = 1", "B = 16", "B = 1536");
    const size_t Ts[] = {10000, 100000, 1000000};
    for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++)
        printf("  %-12zu %-10zu %-10zu %-10zu\n", Ts[i],
               smnn_time_chunks_choose(cd, 3, 1, Ts[i], SMNN_PRECISION_DOUBLE),
               smnn_time_chunks_choose(cd, 3, 16, Ts[i], SMNN_PRECISION_DOUBLE),
               smnn_time_chunks_choose(cd, 3, 1536, Ts[i], SMNN_PRECISION_DOUBLE));
    char spec[32];
    snprintf(spec, sizeof spec, "%u:%u", cd->platform_index, cd->device_index);
    smnn_device_list_free(list);
    if (!self_check) return 0;

    printf("\nSelf-check on %s:\n", spec);
    smnn_context *ctx = NULL;
    if (smnn_context_create(spec, &ctx) != SMNN_SUCCESS) {
        printf("  context: FAILED: %s\n", smnn_last_error());
        return 1;
    }
    int ok = 1;
    long turns = 0;
    char perr[256];
    if (loopprobe_run(ctx, &turns, perr, sizeof perr) != 0) {
        printf("  loops: FAILED: %s\n", perr);
        ok = 0;
    } else if (turns < LOOPPROBE_TURNS) {
        /* Not a failure of the library: its kernels detect it and report UNSUPPORTED. */
        printf("  loops: the device ended a work-item's loop after %ld of %d turns (Mesa's "
               "llvmpipe limit); solves that need more per system report SMNN_ERROR_UNSUPPORTED\n",
               turns, LOOPPROBE_TURNS);
    } else {
        printf("  loops: a work-item ran all %d turns of a loop\n", LOOPPROBE_TURNS);
    }
    int has64 = smnn_context_device(ctx)->has_fp64;
    for (int prec = SMNN_PRECISION_DOUBLE; prec <= SMNN_PRECISION_SINGLE; prec++) {
        const char *pname = prec == SMNN_PRECISION_DOUBLE ? "double" : "single";
        if (prec == SMNN_PRECISION_DOUBLE && !has64) {
            printf("  %s precision: skipped, the device has no fp64\n", pname);
            continue;
        }
        for (int v = SMNN_VARIANT_PRIVATE; v <= SMNN_VARIANT_LOCAL; v++)
            for (int f = SMNN_FACTORIZATION_CHOLESKY; f <= SMNN_FACTORIZATION_QR; f++)
                ok &= self_check_solve(ctx, (smnn_variant)v, (smnn_precision)prec,
                                       (smnn_factorization)f);
    }
    smnn_context_free(ctx);
    printf("%s\n", ok ? "self-check passed" : "self-check FAILED");
    return ok ? 0 : 1;
}
