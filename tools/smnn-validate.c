/* smnn-validate: the paper's standalone validation (Section 5.1, Appendix B.1, Table 3) on any
 * OpenCL device, side by side with GSL's classic integrators.
 *
 * Solves the six linear ODEs on T points of step h through the library and compares y, y', y''
 * with the closed forms (relative MSE = MSE / variance of the exact values). The same problems
 * go through GSL's explicit Runge-Kutta-Fehlberg 4(5) (rkf45) and its implicit multistep BDF
 * (msbdf), with their errors and times. Times are medians over repeated runs after a warm-up;
 * for smnn the device time (OpenCL profiling markers) and the wall time are shown separately.
 * --plot writes a PNG like the paper's Figure 2 through gnuplot (tools/common/plot.h: no shell,
 * the path never in a script, gnuplot's output never on stdout). The time span (T - 1) h is at
 * most MAX_SPAN, so that the closed forms stay finite and GSL's work is bounded; GSL may take at
 * most GSL_MAX_STEPS steps between two output points. Sizes are checked before anything is
 * allocated, and the run stops at the first failure. Exit codes: 0 success (and, in double
 * precision, every relative MSE of y <= 1e-6), 1 failure, 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <smnn/smnn.h>

#include "cli.h"
#include "hostutil.h"
#include "odes.h"
#include "outfile.h"
#include "plot.h"

/* Largest time span (T - 1) h: population growth e^(0.23 t) stays far from overflow and the
 * integrators' work stays bounded (the paper's span is 10). */
#define MAX_SPAN 1000.0
#define GSL_MAX_STEPS 1000000

#define NMETHODS 3
static const char *method_names[NMETHODS] = {"smnn", "gsl_rkf45", "gsl_msbdf"};

typedef struct result {
    double mse[3];       /* relative MSE of y, y', y''; NAN where not applicable */
    double time_ms;      /* wall time per solve (median) */
    double device_ms;    /* smnn only: device time (median) */
    const char *factorization; /* smnn: the one its plan used; "-" for GSL */
} result;

typedef struct options {
    const char *device, *format, *plot, *form;
    smnn_precision precision;
    smnn_factorization factorization;
    size_t T, batch;
    double h;
    int repeats;
} options;




static double rel_mse(const ode_def *o, int k, const double *x, size_t T, double h) {
    double mean = 0, mse = 0, var = 0;
    for (size_t t = 0; t < T; t++) mean += ode_exact(o, k, (double)t * h);
    mean /= (double)T;
    for (size_t t = 0; t < T; t++) {
        double e = ode_exact(o, k, (double)t * h);
        mse += (x[t] - e) * (x[t] - e);
        var += (e - mean) * (e - mean);
    }
    return mse / var;
}

/* ---- GSL ------------------------------------------------------------------------------- */

static int ode_func(double t, const double x[], double f[], void *params) {
    (void)t;
    const ode_def *o = params;
    int m = o->order;
    for (int i = 0; i < m - 1; i++) f[i] = x[i + 1];
    double acc = o->rhs;
    for (int k = 0; k < m; k++) acc -= o->coef[k] * x[k];
    f[m - 1] = acc / o->coef[m];
    return GSL_SUCCESS;
}

static int ode_jac(double t, const double x[], double *dfdx, double dfdt[], void *params) {
    (void)t;
    (void)x;
    const ode_def *o = params;
    int m = o->order;
    memset(dfdx, 0, (size_t)(m * m) * sizeof *dfdx);
    for (int i = 0; i < m - 1; i++) dfdx[i * m + i + 1] = 1;
    for (int k = 0; k < m; k++) dfdx[(m - 1) * m + k] = -o->coef[k] / o->coef[m];
    for (int i = 0; i < m; i++) dfdt[i] = 0;
    return GSL_SUCCESS;
}

/* Integrates from 0 through every output time; out[k][t] receives y^(k) for k < order. */
static int gsl_solve(const ode_def *o, const gsl_odeiv2_step_type *type, size_t T, double h,
                     double *out[3]) {
    gsl_odeiv2_system sys = {ode_func, ode_jac, (size_t)o->order, (void *)o};
    gsl_odeiv2_driver *drv = gsl_odeiv2_driver_alloc_y_new(&sys, type, 1e-4, 1e-12, 1e-12);
    if (!drv) return -1;
    gsl_odeiv2_driver_set_nmax(drv, GSL_MAX_STEPS);
    double x[3] = {o->init[0], o->init[1], o->init[2]}, t = 0;
    int rc = 0;
    for (size_t i = 0; i < T && rc == 0; i++) {
        double ti = (double)i * h;
        if (i > 0 && gsl_odeiv2_driver_apply(drv, &t, ti, x) != GSL_SUCCESS) rc = -1;
        for (int k = 0; k < o->order && k < 3; k++) out[k][i] = x[k];
    }
    gsl_odeiv2_driver_free(drv);
    return rc;
}

static int run_gsl(const ode_def *o, const gsl_odeiv2_step_type *type, const options *opt,
                   result *r) {
    double *out[3];
    for (int k = 0; k < 3; k++) out[k] = hu_alloc(opt->T, sizeof(double));
    double *t = hu_alloc((size_t)opt->repeats + 1, sizeof *t);
    if (!out[0] || !out[1] || !out[2] || !t) {
        fprintf(stderr, "smnn-validate: %s: out of memory for GSL's %zu points\n", o->name, opt->T);
        for (int k = 0; k < 3; k++) free(out[k]);
        free(t);
        return -1;
    }
    int rc = 0;
    for (int rep = 0; rep <= opt->repeats && rc == 0; rep++) {
        double t0 = hu_now_ms();
        rc = gsl_solve(o, type, opt->T, opt->h, out);
        t[rep] = hu_now_ms() - t0;
    }
    if (rc != 0)
        fprintf(stderr, "smnn-validate: %s: GSL's %s failed (more than %d steps between two "
                "points, or an error)\n", o->name, type->name, GSL_MAX_STEPS);
    r->time_ms = hu_median(t + 1, opt->repeats);
    r->device_ms = NAN;
    r->factorization = "-";
    for (int k = 0; k < 3; k++)
        r->mse[k] = k < o->order ? rel_mse(o, k, out[k], opt->T, opt->h) : NAN;
    for (int k = 0; k < 3; k++) free(out[k]);
    free(t);
    return rc;
}

/* ---- smnn -------------------------------------------------------------------------------- */

static ode_form form_for(const ode_def *o, const options *opt) {
    if (!strcmp(opt->form, "single")) return ODE_SINGLE;
    if (!strcmp(opt->form, "system")) return o->order > 1 ? ODE_SYSTEM : ODE_SINGLE;
    return o->order > 1 ? ODE_SYSTEM : ODE_SINGLE; /* paper: system form for order >= 2 */
}

static size_t orders_for(const ode_def *o, ode_form f) {
    return f == ODE_SINGLE ? (size_t)(o->order + 2 > 3 ? o->order + 2 : 3) : 3;
}


static int run_smnn(smnn_context *ctx, const ode_def *o, const options *opt, result *r,
                    double **yplot, smnn_problem *pout) {
    ode_form f = form_for(o, opt);
    smnn_problem p;
    double *c, *d, *u, *s;
    if (ode_problem(o, f, opt->T, opt->h, orders_for(o, f), opt->batch, &p, &c, &d, &u, &s) != 0)
        return -1;
    smnn_plan_options po;
    smnn_plan_options_init(&po);
    po.precision = opt->precision;
    po.factorization = opt->factorization;
    size_t ny = smnn_problem_y_count(&p);
    smnn_plan *plan = NULL;
    int rc = -1;
    char why[128] = ""; /* a failure of this tool's own, else the library's last error */
    cl_mem bc = NULL, bd = NULL, bu = NULL, bs = NULL, by = NULL;
    double *y = NULL, *dev = NULL, *wall = NULL;
    /* The plan first: the library refuses sizes it cannot hold before anything large is
     * allocated here. */
    if (smnn_plan_create(ctx, &p, &po, &plan) != SMNN_SUCCESS) goto out;
    r->factorization = smnn_factorization_name(smnn_plan_factorization(plan));
    y = hu_alloc(ny, sizeof *y);
    dev = hu_alloc((size_t)opt->repeats + 1, sizeof *dev);
    wall = hu_alloc((size_t)opt->repeats + 1, sizeof *wall);
    if (!ny || !y || !dev || !wall) {
        snprintf(why, sizeof why, "out of memory for y (%zu values)", ny);
        goto out;
    }
    /* Correctness through the blocking call (it checks for failing systems). A refinement that
     * did not converge is reported and the result kept: the table shows how far off it is. */
    smnn_status st = smnn_solve(plan, c, d, u, s, y);
    if (st == SMNN_ERROR_NOT_CONVERGED)
        fprintf(stderr, "smnn-validate: %s: warning: %s\n", o->name, smnn_last_error());
    else if (st != SMNN_SUCCESS)
        goto out;
    /* Timing through the asynchronous call on buffers already on the device. */
    if (smnn_buffer_from_host(ctx, po.precision, c, smnn_problem_c_count(&p), &bc) ||
        smnn_buffer_from_host(ctx, po.precision, d, smnn_problem_d_count(&p), &bd) ||
        smnn_buffer_from_host(ctx, po.precision, u, smnn_problem_u_count(&p), &bu) ||
        smnn_buffer_from_host(ctx, po.precision, s, smnn_problem_s_count(&p), &bs) ||
        smnn_buffer_from_host(ctx, po.precision, y, ny, &by))
        goto out;
    cl_command_queue q = smnn_context_cl_queue(ctx);
    for (int rep = 0; rep <= opt->repeats; rep++) {
        cl_event m0, m1;
        clFinish(q);
        double t0 = hu_now_ms();
        clEnqueueMarkerWithWaitList(q, 0, NULL, &m0);
        if (smnn_solve_async(plan, NULL, bc, bd, bu, bs, by, 0, NULL, NULL) != SMNN_SUCCESS)
            goto out;
        clEnqueueMarkerWithWaitList(q, 0, NULL, &m1);
        clFinish(q);
        wall[rep] = hu_now_ms() - t0;
        cl_ulong a = 0, b = 0;
        clGetEventProfilingInfo(m0, CL_PROFILING_COMMAND_END, sizeof a, &a, NULL);
        clGetEventProfilingInfo(m1, CL_PROFILING_COMMAND_END, sizeof b, &b, NULL);
        dev[rep] = 1e-6 * (double)(b - a);
        clReleaseEvent(m0);
        clReleaseEvent(m1);
    }
    r->time_ms = hu_median(wall + 1, opt->repeats);
    r->device_ms = hu_median(dev + 1, opt->repeats);
    size_t n = p.dims * p.orders;
    double *col = hu_alloc(opt->T, sizeof *col);
    if (yplot) *yplot = hu_alloc(opt->T, 3 * sizeof **yplot);
    if (!col || (yplot && !*yplot)) {
        free(col);
        snprintf(why, sizeof why, "out of memory for the results (%zu points)", opt->T);
        goto out;
    }
    for (int k = 0; k < 3; k++) {
        /* The last copy of the batch: every copy must be equally right. */
        size_t b = opt->batch - 1;
        for (size_t t = 0; t < opt->T; t++) col[t] = y[(b * opt->T + t) * n + (size_t)k];
        r->mse[k] = (size_t)k < p.orders ? rel_mse(o, k, col, opt->T, opt->h) : NAN;
    }
    free(col);
    if (yplot) {
        for (int k = 0; k < 3; k++)
            for (size_t t = 0; t < opt->T; t++)
                (*yplot)[k * opt->T + t] = (size_t)k < p.orders ? y[t * n + (size_t)k] : NAN;
    }
    *pout = p;
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "smnn-validate: %s: %s\n", o->name, *why ? why : smnn_last_error());
    cl_mem all[] = {bc, bd, bu, bs, by};
    for (int i = 0; i < 5; i++)
        if (all[i]) clReleaseMemObject(all[i]);
    smnn_plan_free(plan);
    free(c);
    free(d);
    free(u);
    free(s);
    free(y);
    free(dev);
    free(wall);
    return rc;
}

/* ---- Output ------------------------------------------------------------------------------ */

static void print_num(double x) {
    if (isnan(x))
        printf("null");
    else
        printf("%.3e", x);
}

static const char *formulation_text(const ode_def *o, const smnn_problem *p) {
    static char buf[6][96];
    static int slot;
    char *b = buf[slot++ % 6];
    if (p->dims == 1)
        snprintf(b, 96, "single equation of order %d, n_orders = %zu", o->order, p->orders);
    else
        snprintf(b, 96, "first-order system, V = %zu, n_orders = %zu", p->dims, p->orders);
    return b;
}

static void print_results(const options *opt, const smnn_problem *probs, result res[][NMETHODS],
                          const char *device) {
    if (!strcmp(opt->format, "json")) {
        printf("{\"device\": \"%s\", \"precision\": \"%s\", \"factorization\": \"%s\", "
               "\"steps\": %zu, \"step_size\": %g, \"batch\": %zu, \"problems\": [\n",
               device, opt->precision == SMNN_PRECISION_DOUBLE ? "double" : "single",
               res[0][0].factorization, opt->T, opt->h, opt->batch);
        for (int i = 0; i < ODE_COUNT; i++) {
            printf("  {\"name\": \"%s\", \"formulation\": \"%s\", \"methods\": {", ode_table[i].name,
                   formulation_text(&ode_table[i], &probs[i]));
            for (int m = 0; m < NMETHODS; m++) {
                result *r = &res[i][m];
                printf("%s\"%s\": {\"rel_mse_y\": ", m ? ", " : "", method_names[m]);
                print_num(r->mse[0]);
                printf(", \"rel_mse_dy\": ");
                print_num(r->mse[1]);
                printf(", \"rel_mse_d2y\": ");
                print_num(r->mse[2]);
                printf(", \"time_ms\": %.4f", r->time_ms);
                if (m == 0) printf(", \"device_time_ms\": %.4f", r->device_ms);
                printf("}");
            }
            printf("}}%s\n", i + 1 < ODE_COUNT ? "," : "");
        }
        printf("]}\n");
        return;
    }
    if (!strcmp(opt->format, "csv")) {
        printf("problem,formulation,method,rel_mse_y,rel_mse_dy,rel_mse_d2y,time_ms,device_time_ms,"
               "factorization\n");
        for (int i = 0; i < ODE_COUNT; i++)
            for (int m = 0; m < NMETHODS; m++) {
                result *r = &res[i][m];
                printf("%s,%s,%s,%.3e,%.3e,%.3e,%.4f,%.4f,%s\n", ode_table[i].name,
                       formulation_text(&ode_table[i], &probs[i]), method_names[m], r->mse[0],
                       r->mse[1], r->mse[2], r->time_ms, r->device_ms, r->factorization);
            }
        return;
    }
    printf("Standalone validation (paper Table 3) on %s, %s precision, %s factorization, T = %zu, "
           "step %g, batch %zu\n\n",
           device, opt->precision == SMNN_PRECISION_DOUBLE ? "double" : "single",
           res[0][0].factorization, opt->T, opt->h, opt->batch);
    printf("%-27s %-10s %10s %10s %10s %11s %11s\n", "problem", "method", "relMSE y", "relMSE y'",
           "relMSE y''", "wall ms", "device ms");
    for (int i = 0; i < ODE_COUNT; i++) {
        for (int m = 0; m < NMETHODS; m++) {
            result *r = &res[i][m];
            printf("%-27s %-10s", m == 0 ? ode_table[i].name : "", method_names[m]);
            for (int k = 0; k < 3; k++) {
                if (isnan(r->mse[k]))
                    printf(" %10s", "-");
                else
                    printf(" %10.1e", r->mse[k]);
            }
            printf(" %11.3f", r->time_ms);
            if (m == 0)
                printf(" %11.3f", r->device_ms);
            else
                printf(" %11s", "-");
            printf("\n");
        }
        printf("%-27s (smnn: %s)\n", "", formulation_text(&ode_table[i], &probs[i]));
    }
    printf("\nRelative MSE = MSE / variance of the closed-form values. GSL: rkf45 and msbdf with "
           "absolute and relative tolerance 1e-12. Times: median of %d runs after one warm-up; "
           "smnn's wall time covers enqueue to completion of %zu batched system(s) per problem.\n",
           opt->repeats, opt->batch);
}

/* Figure 2 of the paper: for each ODE, y, y' and y'' of smnn against the closed form. The data
 * goes to a mkstemp file under /tmp (a name of letters and digits, safe inside the script's
 * quotes); the figure goes through plot_run. Returns 0, or -1 after a message on stderr. */
static int plot(const options *opt, double *ys[ODE_COUNT], const smnn_problem *probs) {
    char data[PLOT_PATH_LEN];
    FILE *f = plot_data_create("validate", data);
    if (!f) return -1;
    for (int i = 0; i < ODE_COUNT; i++) {
        for (size_t t = 0; t < opt->T; t++) {
            double tt = (double)t * opt->h;
            fprintf(f, "%g", tt);
            for (int k = 0; k < 3; k++)
                fprintf(f, " %.10g %.10g", ys[i][k * opt->T + t], ode_exact(&ode_table[i], k, tt));
            fprintf(f, "\n");
        }
        fprintf(f, "\n\n");
    }
    if (plot_data_close("validate", f, data) != 0) return -1;
    plot_script ps;
    if (plot_script_open(&ps, data) != 0) return -1;
    fprintf(ps.f, "set terminal pngcairo size 1500,1900 font 'sans,10' noenhanced\n");
    fprintf(ps.f, "set multiplot layout 6,3 title 'smnn standalone validation (paper Fig. 2): "
                  "solid = smnn, dashed = closed form, T = %zu, step %g' font 'sans,13'\n",
            opt->T, opt->h);
    fprintf(ps.f, "set key top right box opaque\nset grid\nset xlabel 't'\n");
    const char *deriv[3] = {"y", "y'", "y''"};
    for (int i = 0; i < ODE_COUNT; i++) {
        for (int k = 0; k < 3; k++) {
            fprintf(ps.f, "set title \"%s: %s  (%s)\"\n", ode_table[i].name, deriv[k],
                    formulation_text(&ode_table[i], &probs[i]));
            fprintf(ps.f, "set ylabel \"%s\"\n", deriv[k]);
            fprintf(ps.f,
                    "plot '%s' index %d using 1:%d with lines lw 3 lc rgb '#1f77b4' title 'smnn', "
                    "'' index %d using 1:%d with lines lw 1.5 dt 2 lc rgb '#d62728' title 'exact'\n",
                    data, i, 2 + 2 * k, i, 3 + 2 * k);
        }
    }
    fprintf(ps.f, "unset multiplot\n");
    return plot_script_run("validate", &ps, opt->plot, data);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: smnn-validate [options]\n"
            "\n"
            "Solves the paper's six standalone linear ODEs (Appendix B.1) with smnn on an OpenCL\n"
            "device and with GSL's rkf45 and msbdf, and compares y, y', y'' with closed forms.\n"
            "\n"
            "  --device SPEC        PLATFORM:DEVICE (default $SMNN_DEVICE, else first GPU/device)\n"
            "  --precision P        double (default) or single\n"
            "  --factorization F    auto (default: qr in single, cholesky in double precision),\n"
            "                       cholesky or qr\n"
            "  --steps N            time points (default 1000)\n"
            "  --step-size h        step between points (default 0.01); the span (N - 1) h\n"
            "                       is at most 1000 (GSL integrates all of it)\n"
            "  --formulation F      paper (default: first-order system for order >= 2),\n"
            "                       single (one higher-order equation) or system\n"
            "  --batch K            solve K copies of each problem in one batched call (default 1)\n"
            "  --repeats N          timed runs after one warm-up (default 5)\n"
            "  --format F           text (default), csv or json\n"
            "  --plot FILE.png      write the paper's Figure 2 for these runs (needs gnuplot;\n"
            "                       the file is replaced only by a complete figure)\n"
            "  --help               show this help\n");
}

int main(int argc, char **argv) {
    options opt = {NULL, "text", NULL, "paper", SMNN_PRECISION_DOUBLE, SMNN_FACTORIZATION_AUTO,
                   1000, 1, 0.01, 5};
    static const struct option lopts[] = {
        {"device", required_argument, 0, 'd'},     {"precision", required_argument, 0, 'p'},
        {"steps", required_argument, 0, 'T'},      {"step-size", required_argument, 0, 'h'},
        {"formulation", required_argument, 0, 'F'}, {"batch", required_argument, 0, 'B'},
        {"repeats", required_argument, 0, 'r'},    {"format", required_argument, 0, 'f'},
        {"plot", required_argument, 0, 'P'},       {"help", no_argument, 0, 'H'},
        {"factorization", required_argument, 0, 'Z'},
        {0, 0, 0, 0}};
    static const char *const precisions[] = {"double", "single", NULL};
    static const char *const factorizations[] = {"auto", "cholesky", "qr", NULL};
    static const smnn_factorization factorization_values[] = {
        SMNN_FACTORIZATION_AUTO, SMNN_FACTORIZATION_CHOLESKY, SMNN_FACTORIZATION_QR};
    static const char *const forms[] = {"paper", "single", "system", NULL};
    static const char *const formats[] = {"text", "csv", "json", NULL};
    int c, pick;
    cli_set_program(argv[0]);
    while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': opt.device = optarg; break;
        case 'p':
            if (cli_choice("--precision", optarg, precisions, &pick)) return 2;
            opt.precision = pick ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE;
            break;
        case 'Z':
            if (cli_choice("--factorization", optarg, factorizations, &pick)) return 2;
            opt.factorization = factorization_values[pick];
            break;
        case 'T': if (cli_size("--steps", optarg, 2, SIZE_MAX, &opt.T)) return 2; break;
        case 'h': if (cli_positive("--step-size", optarg, &opt.h)) return 2; break;
        case 'F':
            if (cli_choice("--formulation", optarg, forms, &pick)) return 2;
            opt.form = forms[pick];
            break;
        case 'B': if (cli_size("--batch", optarg, 1, SIZE_MAX, &opt.batch)) return 2; break;
        /* At most a million timed runs, so that repeats + 1 cannot overflow. */
        case 'r': if (cli_int("--repeats", optarg, 1, 1000000, &opt.repeats)) return 2; break;
        case 'f':
            if (cli_choice("--format", optarg, formats, &pick)) return 2;
            opt.format = formats[pick];
            break;
        case 'P': opt.plot = optarg; break;
        case 'H': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smnn-validate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if ((double)(opt.T - 1) * opt.h > MAX_SPAN) {
        fprintf(stderr, "smnn-validate: --steps %zu with --step-size %g span %g time units; at "
                "most %g (the closed forms and GSL's work grow with the span)\n", opt.T, opt.h,
                (double)(opt.T - 1) * opt.h, MAX_SPAN);
        return 2;
    }
    char err[512];
    if (opt.plot && outfile_check(opt.plot, err, sizeof err) != 0) {
        fprintf(stderr, "smnn-validate: --plot: %s\n", err);
        return 1;
    }
    gsl_set_error_handler_off();
    smnn_context *ctx = NULL;
    if (smnn_context_create(opt.device, &ctx) != SMNN_SUCCESS) {
        fprintf(stderr, "smnn-validate: %s\n", smnn_last_error());
        return 1;
    }
    result res[ODE_COUNT][NMETHODS];
    smnn_problem probs[ODE_COUNT];
    double *ys[ODE_COUNT] = {NULL};
    int ok = 1;
    for (int i = 0; i < ODE_COUNT && ok; i++) {
        fprintf(stderr, "smnn-validate: %s\n", ode_table[i].name);
        /* Stop at the first failure: nothing after it (GSL's allocations of the same size
         * included) can succeed where the library refused. */
        ok = run_smnn(ctx, &ode_table[i], &opt, &res[i][0], &ys[i], &probs[i]) == 0 &&
             run_gsl(&ode_table[i], gsl_odeiv2_step_rkf45, &opt, &res[i][1]) == 0 &&
             run_gsl(&ode_table[i], gsl_odeiv2_step_msbdf, &opt, &res[i][2]) == 0;
    }
    int rc = 1;
    if (ok) {
        print_results(&opt, probs, res, smnn_context_device(ctx)->device_name);
        rc = 0;
        fflush(stdout);
        if (opt.plot && plot(&opt, ys, probs) != 0) rc = 1;
        if (opt.precision == SMNN_PRECISION_DOUBLE && opt.T == 1000 && opt.h == 0.01) {
            for (int i = 0; i < ODE_COUNT; i++) {
                if (!(res[i][0].mse[0] <= 1e-6)) {
                    fprintf(stderr, "smnn-validate: %s: relative MSE of y %.2e exceeds 1e-6\n",
                            ode_table[i].name, res[i][0].mse[0]);
                    rc = 1;
                }
            }
        }
    }
    for (int i = 0; i < ODE_COUNT; i++) free(ys[i]);
    smnn_context_free(ctx);
    return rc;
}
