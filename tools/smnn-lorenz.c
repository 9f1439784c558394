/* smnn-lorenz: discovers the Lorenz equations from data with smnn (paper Section 5.2, Table 4,
 * Appendix B.2), entirely in C on an OpenCL device.
 *
 * Data: the Lorenz system (sigma = 10, rho = 28, beta = 8/3) from (1, 1, 1), 10,000 steps of 0.01,
 * integrated with GSL's rk8pd at tolerance 1e-12, optionally with Gaussian noise. Model: each
 * variable is its own first-order ODE y' = d(t) (V = 1, n_orders = 3, one equation, c = (0, 1, 0))
 * whose right-hand side d = Phi(x) xi is the 10-term polynomial library of degree <= 2 evaluated on
 * the data times the unknown coefficients; initial value = the chunk's first point; step 0.01.
 * Each optimisation step solves 3 x batch chunks of `chunk` points in one batched call with a
 * frozen left-hand side (c and s never change), takes the loss = mean squared difference between
 * y and the data, gets dl/dd from the library's backward pass, and turns it into dl/dxi with
 * CLBlast (Phi^T dl/dd); d = Phi xi is a CLBlast GEMM too. --precision single runs the plan, the
 * device buffers and the GEMMs (SGEMM) in float; the host (data, optimiser, thresholding) stays
 * in double and converts on every transfer. Adam (learning rate decaying
 * exponentially to a thousandth over the run) updates xi; sequential
 * thresholding zeroes coefficients below --threshold (and keeps them zero) at 30%, 40% and 50% of
 * the iterations. The optimiser works on whitened coefficients (the library's Gram matrix
 * factored per variable, tools/common/sparsefit.h); reported coefficients are the plain xi. --plot
 * simulates the discovered equations for the figure; that rollout is bounded (it stops when the
 * state leaves |x| <= BLOWUP or is not finite, and after ROLLOUT_MAX_STEPS integrator steps in
 * all) and says so on stderr and in the figure. Sizes are checked before anything is allocated.
 * Exit codes: 0 success, 1 failure, 2 bad usage. */
#include <getopt.h>
#include <limits.h>
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
#include "outfile.h"
#include "plot.h"
#include "fitstep.h"
#include "randprob.h"
#include "sparsefit.h"

/* Bounds of every integration: the state may not leave |x| <= BLOWUP, and GSL may take at most
 * ROLLOUT_MAX_STEPS steps over the whole trajectory (the true system needs about 10^5). */
#define BLOWUP 1e6
#define ROLLOUT_MAX_STEPS 5000000

#define NTERMS 10
static const char *term_names[NTERMS] = {"1", "x", "y", "z", "x*x", "x*y", "x*z", "y*y", "y*z", "z*z"};
static const char *var_names[3] = {"x", "y", "z"};

typedef struct options {
    const char *device, *format, *plot;
    unsigned long long seed;
    size_t iterations, batch, chunk, steps, orders;
    double noise, lr, threshold, step, w_gov, w_init, w_smooth;
    int progress_every;
    smnn_factorization factorization;
    smnn_precision precision;
} options;


/* The shared generator (seeded by --seed) and Box-Muller for the data noise and chunk
 * sampling. */
static rp_rng rng;
static double urand(void) {
    return rp_uniform(&rng, 0, 1);
}
static double nrand(void) {
    double u1 = urand(), u2 = urand();
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

static void library(const double *p, double *phi) {
    double x = p[0], y = p[1], z = p[2];
    double v[NTERMS] = {1, x, y, z, x * x, x * y, x * z, y * y, y * z, z * z};
    memcpy(phi, v, sizeof v);
}

typedef struct lorenz_params {
    double xi[NTERMS * 3]; /* row-major (term, variable) */
    int truth;
} lorenz_params;

static int lorenz_rhs(double t, const double s[], double f[], void *params) {
    (void)t;
    const lorenz_params *lp = params;
    if (lp->truth) {
        f[0] = 10 * (s[1] - s[0]);
        f[1] = s[0] * (28 - s[2]) - s[1];
        f[2] = s[0] * s[1] - 8.0 / 3.0 * s[2];
        return GSL_SUCCESS;
    }
    double phi[NTERMS];
    library(s, phi);
    for (int v = 0; v < 3; v++) {
        f[v] = 0;
        for (int k = 0; k < NTERMS; k++) f[v] += phi[k] * lp->xi[k * 3 + v];
    }
    return GSL_SUCCESS;
}

/* Points x (steps + 1) x 3 from (1, 1, 1). Returns the number of points computed: steps + 1,
 * or fewer when the state blew up (not finite, or beyond BLOWUP), the integrator failed, or the
 * step budget ran out; *why then says which. An unstable model (an early --plot) ends in
 * finite time this way instead of driving the adaptive step size towards zero forever. */
static size_t integrate(lorenz_params *lp, size_t steps, double h, double *out, const char **why) {
    gsl_odeiv2_system sys = {lorenz_rhs, NULL, 3, lp};
    gsl_odeiv2_driver *drv =
        gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rk8pd, 1e-4, 1e-12, 1e-12);
    *why = NULL;
    if (!drv) {
        *why = "out of memory";
        return 0;
    }
    double s[3] = {1, 1, 1}, t = 0;
    memcpy(out, s, sizeof s);
    size_t i = 1, budget = ROLLOUT_MAX_STEPS;
    for (; i <= steps; i++) {
        gsl_odeiv2_driver_set_nmax(drv, budget);
        int st = gsl_odeiv2_driver_apply(drv, &t, (double)i * h, s);
        budget = drv->n < budget ? budget - drv->n : 0;
        int finite = isfinite(s[0]) && isfinite(s[1]) && isfinite(s[2]);
        if (!finite || fabs(s[0]) > BLOWUP || fabs(s[1]) > BLOWUP || fabs(s[2]) > BLOWUP) {
            *why = "the state blew up";
            break;
        }
        if (st == GSL_EMAXITER || budget == 0) {
            *why = "the integrator's step budget ran out";
            break;
        }
        if (st != GSL_SUCCESS) {
            *why = "the integrator failed";
            break;
        }
        memcpy(out + 3 * i, s, sizeof s);
    }
    gsl_odeiv2_driver_free(drv);
    return i;
}

/* The library objects of the run, released by every failure exit as by the normal one. */
static smnn_context *run_ctx;
static fitstep *run_fit;

static void fail_exit(void) {
    fitstep_free(run_fit);
    smnn_context_free(run_ctx);
    exit(1);
}

static void die_smnn(const char *what) {
    fprintf(stderr, "smnn-lorenz: %s: %s\n", what, smnn_last_error());
    fail_exit();
}

static void print_equations(FILE *f, const double *xi) {
    for (int v = 0; v < 3; v++) {
        fprintf(f, "  d%s/dt =", var_names[v]);
        int any = 0;
        for (int k = 0; k < NTERMS; k++) {
            double c = xi[k * 3 + v];
            if (c == 0) continue;
            fprintf(f, " %s %.4f%s%s", c < 0 ? "-" : (any ? "+" : ""), fabs(c), k ? " " : "",
                    k ? term_names[k] : "");
            any = 1;
        }
        if (!any) fprintf(f, " 0");
        fprintf(f, "\n");
    }
}

static int plot(const options *o, const double *data, size_t npts, const double *xi) {
    lorenz_params lp = {{0}, 0};
    memcpy(lp.xi, xi, sizeof lp.xi);
    double *sim = hu_alloc(npts, 3 * sizeof *sim);
    if (!sim) {
        fprintf(stderr, "smnn-lorenz: --plot: out of memory\n");
        return -1;
    }
    const char *why;
    size_t nsim = integrate(&lp, npts - 1, o->step, sim, &why);
    char title[160] = "discovered equations";
    if (why) {
        fprintf(stderr, "smnn-lorenz: --plot: the simulation of the discovered equations stopped "
                "at t = %g: %s\n", (double)nsim * o->step, why);
        snprintf(title, sizeof title, "discovered equations (simulation stopped at t = %g: %s)",
                 (double)nsim * o->step, why);
    }
    char path[PLOT_PATH_LEN];
    FILE *f = plot_data_create("lorenz", path);
    if (!f) {
        free(sim);
        return -1;
    }
    for (size_t i = 0; i < npts; i++) fprintf(f, "%g %g %g\n", data[3 * i], data[3 * i + 1], data[3 * i + 2]);
    fprintf(f, "\n\n");
    for (size_t i = 0; i < nsim; i++) fprintf(f, "%g %g %g\n", sim[3 * i], sim[3 * i + 1], sim[3 * i + 2]);
    free(sim);
    if (plot_data_close("lorenz", f, path) != 0) return -1;
    plot_script ps;
    if (plot_script_open(&ps, path) != 0) return -1;
    fprintf(ps.f, "set terminal pngcairo size 1400,650 font 'sans,11' noenhanced\n"
                  "set multiplot layout 1,2 title 'Lorenz attractor: data (GSL "
                  "rk8pd) and simulated from the equations smnn discovered'\n"
                  "set xlabel 'x'\nset ylabel 'y'\nset zlabel 'z'\nset view 70,30\n"
                  "set xyplane at 0\nunset key\n");
    fprintf(ps.f, "set title 'data'\nsplot '%s' index 0 with lines lw 0.6 lc rgb '#1f77b4'\n",
            path);
    fprintf(ps.f, "set title '%s'\nsplot '%s' index 1 with lines lw 0.6 lc rgb '#d62728'\n",
            title, path);
    fprintf(ps.f, "unset multiplot\n");
    return plot_script_run("lorenz", &ps, o->plot, path);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: smnn-lorenz [options]\n"
            "\n"
            "Discovers the Lorenz equations from simulated data with smnn's batched solver and\n"
            "its backward pass (paper Section 5.2, Table 4).\n"
            "\n"
            "  --iterations N   optimisation steps (default 3000)\n"
            "  --batch B        chunks per step (default 512; 3 B systems are solved at once)\n"
            "  --chunk T        points per chunk (default 50)\n"
            "  --noise SIGMA    Gaussian noise added to the data (default 0)\n"
            "  --lr X           Adam learning rate on the scaled coefficients, decaying\n"
            "                   exponentially to X/1000 over the run (default 2)\n"
            "  --threshold X    sequential thresholding level (default 0.1)\n"
            "  --seed N         random seed for noise and chunk sampling (default 1)\n"
            "  --w-gov X --w-init X --w-smooth X   solver weights (default 1 each)\n"
            "  --orders N       derivative orders the solver represents (default 4; with the\n"
            "                   paper's 3 the y term of dy/dt comes out 2%% low: the Taylor\n"
            "                   smoothness rows of order 2 integrate d(t) with that bias)\n"
            "  --precision P    double (default) or single: the solver plan and the device\n"
            "                   buffers (CLBlast SGEMM or DGEMM); the optimiser stays in double\n"
            "  --factorization F  auto (default: qr in single, cholesky in double precision),\n"
            "                   cholesky or qr\n"
            "  --device SPEC    PLATFORM:DEVICE (default $SMNN_DEVICE, else first GPU/device)\n"
            "  --format F       text (default) or json\n"
            "  --plot FILE.png  data attractor next to the one simulated from the result (the\n"
            "                   simulation stops if it blows up; replaced only when complete)\n"
            "  --progress N     progress line on stderr every N steps (default 100, 0 = none)\n");
}

int main(int argc, char **argv) {
    options o = {NULL, "text", NULL, 1, 3000, 512, 50, 10000, 4, 0, 2.0, 0.1, 0.01, 1, 1, 1, 100,
                 SMNN_FACTORIZATION_AUTO, SMNN_PRECISION_DOUBLE};
    static const struct option lopts[] = {
        {"iterations", required_argument, 0, 'i'}, {"batch", required_argument, 0, 'b'},
        {"chunk", required_argument, 0, 'c'},      {"noise", required_argument, 0, 'n'},
        {"lr", required_argument, 0, 'l'},         {"threshold", required_argument, 0, 't'},
        {"seed", required_argument, 0, 's'},       {"device", required_argument, 0, 'd'},
        {"format", required_argument, 0, 'f'},     {"plot", required_argument, 0, 'p'},
        {"progress", required_argument, 0, 'P'},   {"help", no_argument, 0, 'h'},
        {"w-gov", required_argument, 0, 'G'},      {"w-init", required_argument, 0, 'I'},
        {"w-smooth", required_argument, 0, 'S'},   {"orders", required_argument, 0, 'O'},
        {"factorization", required_argument, 0, 'F'}, {"precision", required_argument, 0, 'R'},
        {0, 0, 0, 0}};
    static const char *const formats[] = {"text", "json", NULL};
    static const char *const factorizations[] = {"auto", "cholesky", "qr", NULL};
    static const char *const precisions[] = {"double", "single", NULL};
    static const smnn_factorization factorization_values[] = {
        SMNN_FACTORIZATION_AUTO, SMNN_FACTORIZATION_CHOLESKY, SMNN_FACTORIZATION_QR};
    int ch, pick;
    size_t seed;
    cli_set_program(argv[0]);
    while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (ch) {
        case 'i': if (cli_size("--iterations", optarg, 1, SIZE_MAX, &o.iterations)) return 2; break;
        case 'b': if (cli_size("--batch", optarg, 1, SIZE_MAX, &o.batch)) return 2; break;
        case 'c': if (cli_size("--chunk", optarg, 2, SIZE_MAX, &o.chunk)) return 2; break;
        case 'n': if (cli_double("--noise", optarg, 0, INFINITY, 0, &o.noise)) return 2; break;
        case 'l': if (cli_double("--lr", optarg, 1e-12, INFINITY, 0, &o.lr)) return 2; break;
        case 't':
            if (cli_double("--threshold", optarg, 0, INFINITY, 0, &o.threshold)) return 2;
            break;
        case 's':
            if (cli_size("--seed", optarg, 0, SIZE_MAX, &seed)) return 2;
            o.seed = seed;
            break;
        case 'd': o.device = optarg; break;
        case 'f':
            if (cli_choice("--format", optarg, formats, &pick)) return 2;
            o.format = formats[pick];
            break;
        case 'p': o.plot = optarg; break;
        case 'F':
            if (cli_choice("--factorization", optarg, factorizations, &pick)) return 2;
            o.factorization = factorization_values[pick];
            break;
        case 'R':
            if (cli_choice("--precision", optarg, precisions, &pick)) return 2;
            o.precision = pick ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE;
            break;
        case 'P': if (cli_int("--progress", optarg, 0, INT_MAX, &o.progress_every)) return 2; break;
        case 'G': if (cli_positive("--w-gov", optarg, &o.w_gov)) return 2; break;
        case 'I': if (cli_positive("--w-init", optarg, &o.w_init)) return 2; break;
        case 'S': if (cli_positive("--w-smooth", optarg, &o.w_smooth)) return 2; break;
        /* c_host below holds at most 16 orders. */
        case 'O': if (cli_size("--orders", optarg, 2, 16, &o.orders)) return 2; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smnn-lorenz: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o.chunk > o.steps) {
        fprintf(stderr, "smnn-lorenz: --chunk %zu exceeds the %zu data steps\n", o.chunk, o.steps);
        return 2;
    }
    char why_out[512];
    if (o.plot && outfile_check(o.plot, why_out, sizeof why_out) != 0) {
        fprintf(stderr, "smnn-lorenz: --plot: %s\n", why_out);
        return 1;
    }
    /* Every size below, checked once: 3 B systems of T points and n_orders values, the library
     * rows Phi (B T x NTERMS). */
    size_t sz_y, sz_phi, sz_b;
    if (hu_mul_n(&sz_y, 4, (size_t)3, o.batch, o.chunk, o.orders * sizeof(double)) != 0 ||
        hu_mul_n(&sz_phi, 3, o.batch, o.chunk, (size_t)NTERMS * sizeof(double)) != 0 ||
        hu_mul(o.batch, (size_t)3, &sz_b) != 0) {
        fprintf(stderr, "smnn-lorenz: --batch %zu with --chunk %zu is too large\n", o.batch,
                o.chunk);
        return 2;
    }
    gsl_set_error_handler_off();
    rng = rp_rng_make(o.seed);
    double t_start = (1e-3 * hu_now_ms());

    /* ---- Data and library --------------------------------------------------------------- */
    size_t npts = o.steps + 1;
    double *data = hu_alloc(npts, 3 * sizeof *data);
    double *phi_all = hu_alloc(npts, NTERMS * sizeof *phi_all), gram[NTERMS * NTERMS] = {0};
    if (!data || !phi_all) {
        fprintf(stderr, "smnn-lorenz: out of memory for the data\n");
        return 1;
    }
    lorenz_params truth = {{0}, 1};
    const char *why;
    if (integrate(&truth, o.steps, o.step, data, &why) != npts) {
        fprintf(stderr, "smnn-lorenz: GSL failed to integrate the Lorenz system: %s\n", why);
        return 1;
    }
    if (o.noise > 0)
        for (size_t i = 0; i < 3 * npts; i++) data[i] += o.noise * nrand();
    for (size_t i = 0; i < npts; i++) library(data + 3 * i, phi_all + NTERMS * i);
    for (size_t i = 0; i < npts; i++)
        for (int a = 0; a < NTERMS; a++)
            for (int b = 0; b < NTERMS; b++)
                gram[a * NTERMS + b] += phi_all[NTERMS * i + a] * phi_all[NTERMS * i + b] / (double)npts;

    /* ---- Device and the fit --------------------------------------------------------------- */
    smnn_context *ctx = NULL;
    if (smnn_context_create(o.device, &ctx) != SMNN_SUCCESS) die_smnn("context");
    run_ctx = ctx;
    size_t B = 3 * o.batch, T = o.chunk, rows = o.batch * T;
    smnn_problem weights;
    smnn_problem_init(&weights);
    weights.w_gov = o.w_gov;
    weights.w_init = o.w_init;
    weights.w_smooth = o.w_smooth;
    smnn_plan_options po;
    smnn_plan_options_init(&po);
    po.precision = o.precision;
    po.factorization = o.factorization;
    char err[512];
    /* Each variable its own first-order ODE over every window (tools/common/fitstep.h). */
    fitstep *fit_step = fitstep_create(ctx, o.batch, T, o.orders, NTERMS, 3, o.step, &weights, &po,
                                       err, sizeof err);
    if (!fit_step) {
        fprintf(stderr, "smnn-lorenz: %s\n", err);
        fail_exit();
    }
    run_fit = fit_step;
    smnn_plan *plan = fitstep_plan(fit_step);
    const char *factorization = smnn_factorization_name(smnn_plan_factorization(plan));
    const char *precision = o.precision == SMNN_PRECISION_SINGLE ? "single" : "double";
    const int qr = smnn_plan_factorization(plan) == SMNN_FACTORIZATION_QR;

    /* The optimiser (tools/common/sparsefit.h: Adam on whitened coefficients, sequential
     * thresholding); xi (terms x 3, row-major) is what the device multiplies with. */
    double xi[NTERMS * 3] = {0}, grad[NTERMS * 3];
    sparsefit fit;
    if (sparsefit_init(&fit, NTERMS, 3, gram, o.lr, o.threshold, o.iterations) != 0) {
        fprintf(stderr, "smnn-lorenz: the library's Gram matrix is singular on this data\n");
        fail_exit();
    }
    double *phi = hu_alloc(rows, NTERMS * sizeof *phi), *u = hu_alloc(B, sizeof *u);
    double *target = hu_alloc(B * T, sizeof *target);
    size_t *start = hu_alloc(o.batch, sizeof *start);
    if (!phi || !u || !target || !start) {
        fprintf(stderr, "smnn-lorenz: out of memory for %zu chunks of %zu points\n", o.batch, T);
        fail_exit();
    }
    double loss = NAN, first_loss = NAN, t_sample = 0;
    double t_loop = (1e-3 * hu_now_ms());
    int diverged = 0; /* the loss left the doubles: no result, exit 1 after the cleanup */
    for (size_t it = 1; it <= o.iterations; it++) {
        double h0 = (1e-3 * hu_now_ms());
        for (size_t j = 0; j < o.batch; j++) start[j] = (size_t)(urand() * (double)(npts - T));
        for (size_t j = 0; j < o.batch; j++) {
            for (size_t t = 0; t < T; t++) {
                const double *src = phi_all + NTERMS * (start[j] + t);
                for (int k = 0; k < NTERMS; k++) phi[(j * T + t) * NTERMS + k] = src[k];
                for (int v = 0; v < 3; v++) target[(v * o.batch + j) * T + t] = data[3 * (start[j] + t) + v];
            }
            for (int v = 0; v < 3; v++) u[v * o.batch + j] = data[3 * start[j] + v];
        }
        sparsefit_xi(&fit, xi);
        t_sample += (1e-3 * hu_now_ms()) - h0;
        if (fitstep_run(fit_step, it, phi, u, target, xi, &loss, grad, err, sizeof err) != 0) {
            fprintf(stderr, "smnn-lorenz: %s\n", err);
            fail_exit();
        }
        if (!isfinite(loss)) {
            fprintf(stderr, "smnn-lorenz: the loss became %g at step %zu; lower --lr\n", loss, it);
            diverged = 1;
            break;
        }
        if (it == 1) first_loss = loss;
        double h6 = (1e-3 * hu_now_ms());
        if (sparsefit_step(&fit, it, grad) != 0) {
            fprintf(stderr, "smnn-lorenz: singular Gram matrix after thresholding\n");
            fail_exit();
        }
        t_sample += (1e-3 * hu_now_ms()) - h6;
        if (o.progress_every && (it % (size_t)o.progress_every == 0 || it == 1))
            fprintf(stderr, "smnn-lorenz: step %5zu/%zu  loss %.6e  %.2f ms/step\n", it,
                    o.iterations, loss, 1e3 * ((1e-3 * hu_now_ms()) - t_loop) / (double)it);
    }
    sparsefit_xi(&fit, xi);
    const fit_times *ft = fitstep_times(fit_step);
    const fit_refine_stats rs = *fitstep_refine_stats(fit_step);
    double t_solver = ft->solver, t_blas = ft->blas, t_host = ft->host + t_sample;
    double seconds = (1e-3 * hu_now_ms()) - t_start, per_step = ((1e-3 * hu_now_ms()) - t_loop) / (double)o.iterations;
    if (rs.solves + rs.backward)
        fprintf(stderr, "smnn-lorenz: the refinement did not converge or was declined for some "
                "systems in %zu forward solves and %zu backward passes of %zu steps (the first at "
                "step %zu; %zu systems in all, at most %zu of %zu in one pass). Not fatal: their "
                "values are less accurate (%s)\n",
                rs.solves, rs.backward, o.iterations, rs.first_step, rs.systems, rs.most, B,
                qr ? "a declined system keeps its QR solution" : "they hold the last iterate");
    if (diverged) {
        /* nothing to report */
    } else if (!strcmp(o.format, "json")) {
        printf("{\"terms\": [");
        for (int k = 0; k < NTERMS; k++) printf("%s\"%s\"", k ? ", " : "", term_names[k]);
        printf("], \"coefficients\": [");
        for (int k = 0; k < NTERMS; k++)
            printf("%s[%.10g, %.10g, %.10g]", k ? ", " : "", xi[3 * k], xi[3 * k + 1], xi[3 * k + 2]);
        printf("], \"first_loss\": %.10g, \"final_loss\": %.10g, \"iterations\": %zu, \"seconds\": "
               "%.3f, \"ms_per_step\": %.3f, \"ms_per_step_solver\": %.3f, \"ms_per_step_clblast\": "
               "%.3f, \"ms_per_step_host\": %.3f, \"unconverged_solves\": %zu, "
               "\"unconverged_backward\": %zu, \"unconverged_systems\": %zu, \"precision\": "
               "\"%s\", \"factorization\": \"%s\"}\n",
               first_loss, loss, o.iterations, seconds, 1e3 * per_step,
               1e3 * t_solver / (double)o.iterations, 1e3 * t_blas / (double)o.iterations,
               1e3 * t_host / (double)o.iterations, rs.solves, rs.backward, rs.systems, precision,
               factorization);
    } else {
        printf("Discovered equations (%zu steps, batch %zu x %zu points, noise %g, %s "
               "precision, %s factorization):\n",
               o.iterations, o.batch, o.chunk, o.noise, precision, factorization);
        print_equations(stdout, xi);
        printf("Ground truth:\n  dx/dt = -10 x + 10 y\n  dy/dt = 28 x - y - x*z\n"
               "  dz/dt = x*y - 2.6667 z\n");
        printf("loss %.4e -> %.4e; %.1f s in all, %.2f ms per step (solver %.2f, CLBlast %.2f, "
               "host %.2f)\n",
               first_loss, loss, seconds, 1e3 * per_step, 1e3 * t_solver / (double)o.iterations,
               1e3 * t_blas / (double)o.iterations, 1e3 * t_host / (double)o.iterations);
    }
    int rc = diverged;
    fflush(stdout);
    if (!diverged && o.plot && plot(&o, data, npts, xi) != 0) rc = 1;
    fitstep_free(fit_step);
    smnn_context_free(ctx);
    free(data);
    free(phi_all);
    free(phi);
    free(u);
    free(target);
    free(start);
    return rc;
}
