/* smnn-kdv: the Korteweg-de Vries equation u_t + u u_x + u_xxx = 0 (paper Section 5.3): data
 * from the device spectral integrator (tools/kdv/spectral.h: clFFT, ETDRK4, 2/3 de-aliasing) on
 * a periodic domain, then the PDE discovered from the data with S-MNN.
 *
 * Data: `samples` trajectories from random sums of sines (five terms A sin(2 pi l x / L + phi),
 * A in [-0.5, 0.5], l in {1, 2, 3}, as in the paper's data set), n points on [0, L), frames every
 * dt up to t_end (the integrator steps dt / ceil(dt / 0.01)); optionally Gaussian noise of
 * --noise times the data's standard deviation. --generate-only writes them as (samples, frames,
 * points) .npy and stops; --data reads such a file instead (with --domain and --dt describing it).
 *
 * Model: every (sample, point, window of `chunk` frames) is one S-MNN system (V = 1, n_orders 3,
 * c = (0, 1, 0), step dt): u' = d(t), d = Phi xi with Phi the twelve candidate terms (1, u, u_x,
 * u_xx, u_xxx, u^2, u u_x, u u_xx, u u_xxx, u^2 u_x, u_x^2, u_x u_xx) evaluated on the data,
 * the derivatives spectral (clFFT, the kept modes |m| <= n/3: a low-pass for noisy data), initial
 * value the window's first frame. Each optimisation step solves `batch` windows with a frozen
 * left-hand side, and Adam with sequential thresholding updates xi from dl/dxi = Phi^T dl/dd
 * (tools/common/fitstep.h and sparsefit.h, shared with smnn-lorenz). --plot draws the data's
 * space-time field, a rollout of the discovered PDE by the same integrator from the same initial
 * condition, and their difference. Progress on stderr. Exit codes: 0 success, 1 failure, 2 bad
 * usage. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <smnn/smnn.h>

#include "cli.h"
#include "fitstep.h"
#include "hostutil.h"
#include "npy.h"
#include "outfile.h"
#include "plot.h"
#include "randprob.h"
#include "reference.h"
#include "sparsefit.h"
#include "spectral.h"

#define PI 3.14159265358979323846

typedef struct options {
    const char *device, *format, *plot, *generate_only, *data;
    unsigned long long seed;
    size_t samples, points, iterations, batch, chunk;
    double domain, t_end, dt, noise, lr, threshold;
    int progress_every;
    smnn_precision precision;
    smnn_factorization factorization;
} options;

/* Three streams from --seed: initial conditions, noise, windows; so that data read back with
 * --data get the noise and windows that the run which generated them would have. */
static rp_rng rng_data, rng_noise, rng_windows, *rng = &rng_data;
static double urand(void) {
    return rp_uniform(rng, 0, 1);
}
static double nrand(void) {
    double u1 = urand(), u2 = urand();
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(2 * PI * u2);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: smnn-kdv [options]\n"
            "\n"
            "Generates Korteweg-de Vries data u_t + u u_x + u_xxx = 0 with a clFFT spectral\n"
            "integrator on the device and discovers the PDE from it with S-MNN.\n"
            "\n"
            "  --generate-only FILE.npy  write the data (samples, frames, points) and stop\n"
            "  --data FILE.npy      discover from this data instead (shape (samples, frames,\n"
            "                       points); --domain and --dt describe it)\n"
            "  --samples N          trajectories (default 4)\n"
            "  --points N           grid points (default 256; factors 2, 3, 5, 7, 11, 13 only)\n"
            "  --domain L           periodic domain [0, L) (default 128)\n"
            "  --t-end T            last frame's time (default 40)\n"
            "  --dt DT              time between frames, the S-MNN step (default 0.1)\n"
            "  --noise SIGMA        Gaussian noise, SIGMA times the data's standard deviation\n"
            "                       (default 0)\n"
            "  --iterations N       optimisation steps (default 2000)\n"
            "  --batch B            windows per step (default 1024)\n"
            "  --chunk T            frames per window (default 10)\n"
            "  --lr X               Adam learning rate on the whitened coefficients (default\n"
            "                       0.05, decaying to a thousandth over the run)\n"
            "  --threshold X        sequential thresholding level (default 0.05)\n"
            "  --seed N             random seed: data, noise, windows (default 1)\n"
            "  --precision P        double (default) or single\n"
            "  --factorization F    auto (default), cholesky or qr\n"
            "  --device SPEC        as everywhere (default $SMNN_DEVICE, else first GPU/device)\n"
            "  --format F           text (default) or json\n"
            "  --plot FILE.png      data, rollout of the discovered PDE and their difference\n"
            "  --progress N         a progress line every N steps on stderr (default 200, 0 off)\n"
            "  --help               show this help\n");
}

/* The random sums of sines of the paper's KdV data. */
static void initial_condition(size_t n, double length, double *u) {
    double A[5], l[5], phi[5];
    for (int j = 0; j < 5; j++) {
        A[j] = urand() - 0.5;
        l[j] = 1 + floor(3 * urand());
        phi[j] = 2 * PI * urand();
    }
    for (size_t i = 0; i < n; i++) {
        double x = length * (double)i / (double)n;
        u[i] = 0;
        for (int j = 0; j < 5; j++) u[i] += A[j] * sin(2 * PI * l[j] * x / length + phi[j]);
    }
}

/* The twelve candidate terms at one point, in kdv_term_names order. */
static void terms(double u, double ux, double uxx, double uxxx, double *phi) {
    double t[KDV_TERMS] = {1,       u,       ux,          uxx,     uxxx,    u * u,
                           u * ux,  u * uxx, u * uxxx,    u * u * ux, ux * ux, ux * uxx};
    memcpy(phi, t, sizeof t);
}

/* x as a JSON number, or null (no drift measured: --data; or not finite) in buf[32]. */
static const char *json_number(double x, char *buf) {
    if (isfinite(x))
        snprintf(buf, 32, "%.3g", x);
    else
        snprintf(buf, 32, "null");
    return buf;
}

static void print_pde(FILE *f, const double *xi) {
    fprintf(f, "  u_t =");
    int any = 0;
    for (int k = 0; k < KDV_TERMS; k++) {
        if (xi[k] == 0) continue;
        fprintf(f, " %s %.4f%s%s", xi[k] < 0 ? "-" : (any ? "+" : ""), fabs(xi[k]), k ? " " : "",
                k ? kdv_term_names[k] : "");
        any = 1;
    }
    fprintf(f, "%s\n", any ? "" : " 0");
}

/* Frames 0 .. frames - 1 of `samples` trajectories every dt from u0, into data (samples,
 * frames, n); the invariants' largest drifts over the samples into drift (the mean against L
 * max|u|, the others relative). */
static int generate(smnn_context *ctx, const options *o, size_t frames, const double *u0,
                    double *data, double drift[3], char *err, size_t errlen) {
    size_t S = o->samples, n = o->points, sub = (size_t)ceil(o->dt / 0.01 - 1e-9);
    if (sub == 0) sub = 1;
    kdv_solver *s = NULL;
    double *frame = hu_alloc(S * n, sizeof *frame);
    if (!frame) return snprintf(err, errlen, "out of memory"), -1;
    int rc = kdv_create(ctx, S, n, o->domain, o->dt / (double)sub,
                        o->precision == SMNN_PRECISION_SINGLE, NULL, &s, err, errlen);
    if (rc == 0) rc = kdv_set(s, u0, err, errlen);
    for (size_t t = 0; rc == 0 && t < frames; t++) {
        if (t > 0) rc = kdv_step(s, sub, err, errlen);
        if (rc == 0) rc = kdv_get(s, frame, err, errlen);
        for (size_t b = 0; rc == 0 && b < S; b++)
            memcpy(data + (b * frames + t) * n, frame + b * n, n * sizeof *frame);
        if (rc == 0 && o->progress_every && frames >= 10 && t % (frames / 10) == 0)
            fprintf(stderr, "smnn-kdv: data: frame %zu/%zu (t = %g)\n", t, frames - 1,
                    (double)t * o->dt);
    }
    kdv_free(s);
    free(frame);
    for (int k = 0; k < 3; k++) drift[k] = 0;
    for (size_t b = 0; rc == 0 && b < S; b++) {
        double i0[3], i1[3], umax = 0;
        const double *first = data + b * frames * n, *last = first + (frames - 1) * n;
        kdv_invariants(n, o->domain, first, i0);
        kdv_invariants(n, o->domain, last, i1);
        for (size_t i = 0; i < n; i++) umax = fmax(umax, fabs(first[i]));
        drift[0] = fmax(drift[0], fabs(i1[0] - i0[0]) / (o->domain * umax));
        drift[1] = fmax(drift[1], fabs(i1[1] - i0[1]) / fabs(i0[1]));
        drift[2] = fmax(drift[2], fabs(i1[2] - i0[2]) / fabs(i0[2]));
    }
    return rc;
}

/* The data's first sample, a rollout of the discovered PDE from its first frame, and their
 * difference, as three space-time images. */
static int plot(const options *o, smnn_context *ctx, const double *data, size_t frames,
                const double *xi) {
    size_t n = o->points, sub = (size_t)ceil(o->dt / 0.01 - 1e-9);
    if (sub == 0) sub = 1;
    double *roll = hu_alloc(frames, n * sizeof *roll);
    if (!roll) return fprintf(stderr, "smnn-kdv: --plot: out of memory\n"), -1;
    char err[512], title[200] = "rollout of the discovered PDE";
    kdv_solver *s = NULL;
    int rc = kdv_create(ctx, 1, n, o->domain, o->dt / (double)sub,
                        o->precision == SMNN_PRECISION_SINGLE, xi, &s, err, sizeof err);
    if (rc == 0) rc = kdv_set(s, data, err, sizeof err);
    size_t done = 0;
    for (size_t t = 0; rc == 0 && t < frames; t++) {
        if (t > 0) rc = kdv_step(s, sub, err, sizeof err);
        if (rc == 0) rc = kdv_get(s, roll + t * n, err, sizeof err);
        int finite = 1;
        for (size_t i = 0; rc == 0 && i < n; i++) finite &= isfinite(roll[t * n + i]) &&
                                                          fabs(roll[t * n + i]) < 1e6;
        if (!finite) {
            snprintf(title, sizeof title, "rollout of the discovered PDE (blew up at t = %g)",
                     (double)t * o->dt);
            fprintf(stderr, "smnn-kdv: --plot: the rollout of the discovered PDE blew up at t = "
                    "%g\n", (double)t * o->dt);
            break;
        }
        done = t + 1;
    }
    kdv_free(s);
    if (rc != 0) {
        fprintf(stderr, "smnn-kdv: --plot: %s\n", err);
        free(roll);
        return -1;
    }
    char path[PLOT_PATH_LEN];
    FILE *f = plot_data_create("kdv", path);
    if (!f) {
        free(roll);
        return -1;
    }
    /* Three blocks of (x, t, value) rows: data, rollout, difference (frames computed only). */
    for (int blk = 0; blk < 3; blk++) {
        for (size_t t = 0; t < (blk ? done : frames); t++) {
            for (size_t i = 0; i < n; i++) {
                double d = data[t * n + i], r = blk ? roll[t * n + i] : 0;
                fprintf(f, "%g %g %.6g\n", o->domain * (double)i / (double)n, (double)t * o->dt,
                        blk == 0 ? d : blk == 1 ? r : r - d);
            }
            fprintf(f, "\n");
        }
        fprintf(f, "\n");
    }
    free(roll);
    if (plot_data_close("kdv", f, path) != 0) return -1;
    plot_script ps;
    if (plot_script_open(&ps, path) != 0) return -1;
    fprintf(ps.f, "set terminal pngcairo size 1500,520 font 'sans,11' noenhanced\n"
                  "set multiplot layout 1,3 title 'KdV: data (clFFT ETDRK4), rollout of the PDE "
                  "smnn discovered, difference'\n"
                  "set xlabel 'x'\nset ylabel 't'\nset view map\nset palette rgbformulae 33,13,10\n"
                  "unset key\n");
    fprintf(ps.f, "set xrange [0:%.17g]\nset yrange [0:%.17g]\n",
            o->domain * (double)(n - 1) / (double)n, o->dt * (double)(frames - 1));
    fprintf(ps.f, "set title 'data u(x, t)'\nsplot '%s' index 0 using 1:2:3 with pm3d\n", path);
    fprintf(ps.f, "set title '%s'\nsplot '%s' index 1 using 1:2:3 with pm3d\n", title, path);
    fprintf(ps.f, "set title 'rollout - data'\nsplot '%s' index 2 using 1:2:3 with pm3d\n", path);
    fprintf(ps.f, "unset multiplot\n");
    return plot_script_run("kdv", &ps, o->plot, path);
}

int main(int argc, char **argv) {
    options o = {NULL, "text", NULL, NULL, NULL, 1, 4, 256, 2000, 1024, 10,
                 128, 40, 0.1, 0, 0.05, 0.05, 200, SMNN_PRECISION_DOUBLE,
                 SMNN_FACTORIZATION_AUTO};
    static const struct option opts[] = {
        {"generate-only", required_argument, 0, 'g'}, {"data", required_argument, 0, 'D'},
        {"samples", required_argument, 0, 'S'},       {"points", required_argument, 0, 'n'},
        {"domain", required_argument, 0, 'L'},        {"t-end", required_argument, 0, 'T'},
        {"dt", required_argument, 0, 't'},            {"noise", required_argument, 0, 'N'},
        {"iterations", required_argument, 0, 'i'},    {"batch", required_argument, 0, 'b'},
        {"chunk", required_argument, 0, 'c'},         {"lr", required_argument, 0, 'l'},
        {"threshold", required_argument, 0, 'h'},     {"seed", required_argument, 0, 's'},
        {"precision", required_argument, 0, 'p'},     {"factorization", required_argument, 0, 'F'},
        {"device", required_argument, 0, 'd'},        {"format", required_argument, 0, 'f'},
        {"plot", required_argument, 0, 'P'},          {"progress", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'H'},                {0, 0, 0, 0}};
    static const char *const precisions[] = {"double", "single", NULL};
    static const char *const formats[] = {"text", "json", NULL};
    static const char *const factorizations[] = {"auto", "cholesky", "qr", NULL};
    static const smnn_factorization fvals[] = {SMNN_FACTORIZATION_AUTO,
                                               SMNN_FACTORIZATION_CHOLESKY, SMNN_FACTORIZATION_QR};
    int c, pick;
    size_t seed = 1;
    cli_set_program(argv[0]);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g': o.generate_only = optarg; break;
        case 'D': o.data = optarg; break;
        case 'S': if (cli_size("--samples", optarg, 1, 1 << 20, &o.samples)) return 2; break;
        case 'n': if (cli_size("--points", optarg, 4, 1 << 20, &o.points)) return 2; break;
        case 'L': if (cli_positive("--domain", optarg, &o.domain)) return 2; break;
        case 'T': if (cli_positive("--t-end", optarg, &o.t_end)) return 2; break;
        case 't': if (cli_positive("--dt", optarg, &o.dt)) return 2; break;
        case 'N': if (cli_double("--noise", optarg, 0, 10, 0, &o.noise)) return 2; break;
        case 'i': if (cli_size("--iterations", optarg, 1, 100000000, &o.iterations)) return 2; break;
        case 'b': if (cli_size("--batch", optarg, 1, 1 << 24, &o.batch)) return 2; break;
        case 'c': if (cli_size("--chunk", optarg, 2, 100000, &o.chunk)) return 2; break;
        case 'l': if (cli_positive("--lr", optarg, &o.lr)) return 2; break;
        case 'h': if (cli_double("--threshold", optarg, 0, INFINITY, 0, &o.threshold)) return 2; break;
        case 's': if (cli_size("--seed", optarg, 0, SIZE_MAX, &seed)) return 2; break;
        case 'p':
            if (cli_choice("--precision", optarg, precisions, &pick)) return 2;
            o.precision = pick ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE;
            break;
        case 'F':
            if (cli_choice("--factorization", optarg, factorizations, &pick)) return 2;
            o.factorization = fvals[pick];
            break;
        case 'd': o.device = optarg; break;
        case 'f':
            if (cli_choice("--format", optarg, formats, &pick)) return 2;
            o.format = formats[pick];
            break;
        case 'P': o.plot = optarg; break;
        case 'r': if (cli_int("--progress", optarg, 0, 100000000, &o.progress_every)) return 2; break;
        case 'H': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smnn-kdv: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o.generate_only && (o.data || o.plot)) {
        fprintf(stderr, "smnn-kdv: --generate-only goes with neither --data nor --plot\n");
        return 2;
    }
    o.seed = seed;
    char err[512];
    const char *outs[2] = {o.generate_only, o.plot};
    for (int i = 0; i < 2; i++)
        if (outs[i] && outfile_check(outs[i], err, sizeof err) != 0) {
            fprintf(stderr, "smnn-kdv: %s\n", err);
            return 1;
        }
    rng_data = rp_rng_make(o.seed);
    rng_noise = rp_rng_make(o.seed ^ UINT64_C(0x6a09e667f3bcc908));
    rng_windows = rp_rng_make(o.seed ^ UINT64_C(0xbb67ae8584caa73b));
    double t_start = 1e-3 * hu_now_ms();

    /* ---- Data -------------------------------------------------------------------------------- */
    npy_array in = {0};
    size_t frames;
    if (o.data) {
        if (npy_read(o.data, &in, err, sizeof err) != 0) {
            fprintf(stderr, "smnn-kdv: %s\n", err);
            return 1;
        }
        if (in.ndim != 3) {
            fprintf(stderr, "smnn-kdv: %s has %d dimensions, expected (samples, frames, points)\n",
                    o.data, in.ndim);
            npy_free(&in);
            return 1;
        }
        o.samples = in.shape[0];
        frames = in.shape[1];
        o.points = in.shape[2];
    } else {
        double f = o.t_end / o.dt;
        if (o.dt > 1e6) {
            fprintf(stderr, "smnn-kdv: --dt %g: at most 1e6 (the integrator takes steps of at "
                    "most 0.01 between frames)\n", o.dt);
            return 2;
        }
        if (!(f >= 1) || f > 1e7 || fabs(f - round(f)) > 1e-6 * f) {
            fprintf(stderr, "smnn-kdv: --t-end %g is not a whole number (>= 1) of --dt %g\n",
                    o.t_end, o.dt);
            return 2;
        }
        frames = (size_t)llround(f) + 1;
    }
    char why[256];
    if (!kdv_grid_ok(o.points, why, sizeof why)) {
        fprintf(stderr, "smnn-kdv: %s\n", why);
        npy_free(&in);
        return o.data ? 1 : 2;
    }
    size_t total;
    if (hu_mul_n(&total, 3, o.samples, frames, o.points) != 0 || total > ((size_t)1 << 31)) {
        fprintf(stderr, "smnn-kdv: %zu samples x %zu frames x %zu points is too large\n",
                o.samples, frames, o.points);
        npy_free(&in);
        return o.data ? 1 : 2;
    }
    if (!o.generate_only && frames < o.chunk) {
        fprintf(stderr, "smnn-kdv: %zu frames are fewer than --chunk %zu\n", frames, o.chunk);
        npy_free(&in);
        return o.data ? 1 : 2;
    }
    smnn_context *ctx = NULL;
    if (smnn_context_create(o.device, &ctx) != SMNN_SUCCESS) {
        fprintf(stderr, "smnn-kdv: %s\n", smnn_last_error());
        npy_free(&in);
        return 1;
    }
    const int single = o.precision == SMNN_PRECISION_SINGLE;
    size_t S = o.samples, n = o.points;
    double *data = in.data ? in.data : hu_alloc(total, sizeof *data);
    double drift[3] = {NAN, NAN, NAN}, t_data = 0;
    int rc = 1;
    double *fields = NULL, *phi = NULL, *u = NULL, *target = NULL;
    fitstep *fit_step = NULL;
    if (!data) {
        fprintf(stderr, "smnn-kdv: out of memory for the data\n");
        goto out;
    }
    if (!o.data) {
        double *u0 = hu_alloc(S * n, sizeof *u0);
        if (!u0) {
            fprintf(stderr, "smnn-kdv: out of memory\n");
            goto out;
        }
        for (size_t b = 0; b < S; b++) initial_condition(n, o.domain, u0 + b * n);
        double g0 = 1e-3 * hu_now_ms();
        int grc = generate(ctx, &o, frames, u0, data, drift, err, sizeof err);
        free(u0);
        t_data = 1e-3 * hu_now_ms() - g0;
        if (grc != 0) {
            fprintf(stderr, "smnn-kdv: generating the data: %s\n", err);
            goto out;
        }
        fprintf(stderr, "smnn-kdv: data: %zu x %zu frames of %zu points in %.2f s; invariant "
                "drift over the run: mean %.1e, int u^2 %.1e, energy %.1e\n", S, frames, n,
                t_data, drift[0], drift[1], drift[2]);
    }
    if (o.generate_only) {
        size_t shape[3] = {S, frames, n};
        if (npy_write(o.generate_only, data, shape, 3, 0, err, sizeof err) != 0) {
            fprintf(stderr, "smnn-kdv: %s\n", err);
            goto out;
        }
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < total; i++)
        if (!isfinite(data[i])) {
            fprintf(stderr, "smnn-kdv: the data hold a non-finite value at %zu\n", i);
            goto out;
        }
    if (o.noise > 0) {
        rng = &rng_noise;
        double m = 0, v = 0;
        for (size_t i = 0; i < total; i++) m += data[i] / (double)total;
        for (size_t i = 0; i < total; i++) v += (data[i] - m) * (data[i] - m) / (double)total;
        double sd = sqrt(v);
        for (size_t i = 0; i < total; i++) data[i] += o.noise * sd * nrand();
    }

    /* ---- The library: u, u_x, u_xx, u_xxx of every frame, spectrally; the Gram matrix ------ */
    double l0 = 1e-3 * hu_now_ms();
    fields = hu_alloc(total, 4 * sizeof *fields);
    if (!fields) {
        fprintf(stderr, "smnn-kdv: out of memory for the library\n");
        goto out;
    }
    {
        kdv_solver *lib = NULL;
        int lrc = kdv_create(ctx, S * frames, n, o.domain, o.dt, single, NULL, &lib, err,
                             sizeof err);
        if (lrc == 0) lrc = kdv_set(lib, data, err, sizeof err);
        if (lrc == 0)
            lrc = kdv_fields(lib, fields, fields + total, fields + 2 * total, fields + 3 * total,
                             err, sizeof err);
        kdv_free(lib);
        if (lrc != 0) {
            fprintf(stderr, "smnn-kdv: the library's derivatives: %s\n", err);
            goto out;
        }
    }
    double gram[KDV_TERMS * KDV_TERMS] = {0};
    for (size_t i = 0; i < total; i++) {
        double ph[KDV_TERMS];
        terms(fields[i], fields[total + i], fields[2 * total + i], fields[3 * total + i], ph);
        for (int a = 0; a < KDV_TERMS; a++)
            for (int b = a; b < KDV_TERMS; b++) gram[a * KDV_TERMS + b] += ph[a] * ph[b];
    }
    for (int a = 0; a < KDV_TERMS; a++)
        for (int b = a; b < KDV_TERMS; b++)
            gram[b * KDV_TERMS + a] = gram[a * KDV_TERMS + b] /= (double)total;
    double t_library = 1e-3 * hu_now_ms() - l0;

    /* ---- The fit ------------------------------------------------------------------------------ */
    size_t W = o.batch, T = o.chunk;
    smnn_problem weights;
    smnn_problem_init(&weights);
    smnn_plan_options po;
    smnn_plan_options_init(&po);
    po.precision = o.precision;
    po.factorization = o.factorization;
    fit_step = fitstep_create(ctx, W, T, 3, KDV_TERMS, 1, o.dt, &weights, &po, err, sizeof err);
    if (!fit_step) {
        fprintf(stderr, "smnn-kdv: %s\n", err);
        goto out;
    }
    sparsefit fit;
    if (sparsefit_init(&fit, KDV_TERMS, 1, gram, o.lr, o.threshold, o.iterations) != 0) {
        fprintf(stderr, "smnn-kdv: the library's Gram matrix is singular on this data (terms "
                "that are dependent there)\n");
        goto out;
    }
    phi = hu_alloc(W * T, KDV_TERMS * sizeof *phi);
    u = hu_alloc(W, sizeof *u);
    target = hu_alloc(W * T, sizeof *target);
    if (!phi || !u || !target) {
        fprintf(stderr, "smnn-kdv: out of memory for %zu windows of %zu frames\n", W, T);
        goto out;
    }
    double xi[KDV_TERMS], grad[KDV_TERMS], loss = NAN, first_loss = NAN, t_sample = 0;
    double t_loop = 1e-3 * hu_now_ms();
    rng = &rng_windows;
    for (size_t it = 1; it <= o.iterations; it++) {
        double h0 = 1e-3 * hu_now_ms();
        for (size_t w = 0; w < W; w++) {
            size_t b = (size_t)(urand() * (double)S), j = (size_t)(urand() * (double)n);
            size_t t0 = (size_t)(urand() * (double)(frames - T + 1));
            if (b >= S) b = S - 1;
            if (j >= n) j = n - 1;
            if (t0 > frames - T) t0 = frames - T;
            for (size_t t = 0; t < T; t++) {
                size_t i = (b * frames + t0 + t) * n + j;
                terms(fields[i], fields[total + i], fields[2 * total + i], fields[3 * total + i],
                      phi + (w * T + t) * KDV_TERMS);
                target[w * T + t] = data[i];
            }
            u[w] = data[(b * frames + t0) * n + j];
        }
        sparsefit_xi(&fit, xi);
        t_sample += 1e-3 * hu_now_ms() - h0;
        if (fitstep_run(fit_step, it, phi, u, target, xi, &loss, grad, err, sizeof err) != 0) {
            fprintf(stderr, "smnn-kdv: %s\n", err);
            goto out;
        }
        if (!isfinite(loss)) {
            fprintf(stderr, "smnn-kdv: the loss became %g at step %zu; lower --lr\n", loss, it);
            goto out;
        }
        if (it == 1) first_loss = loss;
        double h1 = 1e-3 * hu_now_ms();
        if (sparsefit_step(&fit, it, grad) != 0) {
            fprintf(stderr, "smnn-kdv: singular Gram matrix after thresholding\n");
            goto out;
        }
        t_sample += 1e-3 * hu_now_ms() - h1;
        if (o.progress_every && (it % (size_t)o.progress_every == 0 || it == 1))
            fprintf(stderr, "smnn-kdv: step %5zu/%zu  loss %.6e  %.2f ms/step\n", it,
                    o.iterations, loss, 1e3 * (1e-3 * hu_now_ms() - t_loop) / (double)it);
    }
    sparsefit_xi(&fit, xi);
    double seconds = 1e-3 * hu_now_ms() - t_start;
    double per = (1e-3 * hu_now_ms() - t_loop) / (double)o.iterations;
    const fit_times *ft = fitstep_times(fit_step);
    const fit_refine_stats *rs = fitstep_refine_stats(fit_step);
    if (rs->solves + rs->backward)
        fprintf(stderr, "smnn-kdv: the refinement did not converge or was declined for some "
                "systems in %zu forward solves and %zu backward passes (not fatal: those values "
                "are less accurate)\n", rs->solves, rs->backward);
    double truth[KDV_TERMS];
    kdv_equation(truth);
    int others_zero = 1;
    for (int k = 0; k < KDV_TERMS; k++)
        if (truth[k] == 0 && xi[k] != 0) others_zero = 0;
    double e_uux = fabs(xi[KDV_UUX] + 1), e_uxxx = fabs(xi[KDV_UXXX] + 1);
    const char *prec = single ? "single" : "double";
    const char *fact = smnn_factorization_name(smnn_plan_factorization(fitstep_plan(fit_step)));
    if (!strcmp(o.format, "json")) {
        char d[3][32];
        printf("{\"terms\": [");
        for (int k = 0; k < KDV_TERMS; k++) printf("%s\"%s\"", k ? ", " : "", kdv_term_names[k]);
        printf("], \"coefficients\": [");
        for (int k = 0; k < KDV_TERMS; k++) printf("%s%.10g", k ? ", " : "", xi[k]);
        printf("], \"first_loss\": %.10g, \"final_loss\": %.10g, \"iterations\": %zu, "
               "\"seconds\": %.3f, \"seconds_data\": %.3f, \"seconds_library\": %.3f, "
               "\"ms_per_step\": %.3f, \"ms_per_step_solver\": %.3f, \"ms_per_step_clblast\": "
               "%.3f, \"ms_per_step_host\": %.3f, \"invariant_drift\": {\"mean\": %s, "
               "\"l2\": %s, \"energy\": %s}, \"noise\": %g, \"samples\": %zu, \"frames\": "
               "%zu, \"points\": %zu, \"error_u_ux\": %.3g, \"error_u_xxx\": %.3g, "
               "\"others_zero\": %s, \"precision\": \"%s\", \"factorization\": \"%s\"}\n",
               first_loss, loss, o.iterations, seconds, t_data, t_library, 1e3 * per,
               1e3 * ft->solver / (double)o.iterations, 1e3 * ft->blas / (double)o.iterations,
               1e3 * (ft->host + t_sample) / (double)o.iterations, json_number(drift[0], d[0]),
               json_number(drift[1], d[1]), json_number(drift[2], d[2]), o.noise, S, frames, n,
               e_uux, e_uxxx, others_zero ? "true" : "false", prec, fact);
    } else {
        printf("Discovered PDE (%zu steps, %zu windows x %zu frames per step, noise %g, %s "
               "precision, %s factorization):\n", o.iterations, W, T, o.noise, prec, fact);
        print_pde(stdout, xi);
        printf("Ground truth:\n");
        print_pde(stdout, truth);
        printf("errors: u u_x %.2f%%, u_xxx %.2f%%; the other %d terms %s\n", 100 * e_uux,
               100 * e_uxxx, KDV_TERMS - 2, others_zero ? "all zero" : "NOT all zero");
        printf("loss %.4e -> %.4e; %.1f s in all (data %.2f s, library %.2f s), %.2f ms per "
               "step (solver %.2f, CLBlast %.2f, host %.2f)\n", first_loss, loss, seconds, t_data,
               t_library, 1e3 * per, 1e3 * ft->solver / (double)o.iterations,
               1e3 * ft->blas / (double)o.iterations,
               1e3 * (ft->host + t_sample) / (double)o.iterations);
    }
    fflush(stdout);
    rc = 0;
    if (o.plot && plot(&o, ctx, data, frames, xi) != 0) rc = 1;
out:
    fitstep_free(fit_step);
    free(fields);
    free(phi);
    free(u);
    free(target);
    if (in.data)
        npy_free(&in);
    else
        free(data);
    smnn_context_free(ctx);
    return rc;
}
