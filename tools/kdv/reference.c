/* The host KdV integrator (reference.h): GSL FFT and odeiv2, nothing shared with spectral.c. */
#define KDV_PI 3.14159265358979323846
#include "reference.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_odeiv2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rhs_ctx {
    size_t n, kept;
    double length;
    double *data; /* 2 n: complex work array */
    double *c;    /* 2 (kept + 1): the coefficients of v */
    gsl_fft_complex_wavetable *wt;
    gsl_fft_complex_workspace *ws;
} rhs_ctx;

/* The coefficients c_m (u = sum_m c_m exp(i k_m x)) of the kept modes m = 0..kept, as
 * (re, im) pairs in y, to grid values u_j in data (complex, real part). */
static void to_grid(const rhs_ctx *r, const double *c) {
    size_t n = r->n;
    memset(r->data, 0, 2 * n * sizeof *r->data);
    for (size_t m = 0; m <= r->kept; m++) {
        r->data[2 * m] = c[2 * m];
        r->data[2 * m + 1] = c[2 * m + 1];
        if (m > 0) {
            r->data[2 * (n - m)] = c[2 * m];
            r->data[2 * (n - m) + 1] = -c[2 * m + 1];
        }
    }
    gsl_fft_complex_backward(r->data, 1, n, r->wt, r->ws); /* sum_m c_m exp(+2 pi i m j / n) */
}

static int rhs(double t, const double y[], double f[], void *params) {
    rhs_ctx *r = params;
    size_t n = r->n;
    double *c = r->c;
    /* v = exp(i k^3 t) w */
    for (size_t m = 0; m <= r->kept; m++) {
        double k = 2.0 * KDV_PI * (double)m / r->length, ph = k * k * k * t;
        double cs = cos(ph), sn = sin(ph);
        c[2 * m] = cs * y[2 * m] - sn * y[2 * m + 1];
        c[2 * m + 1] = sn * y[2 * m] + cs * y[2 * m + 1];
    }
    to_grid(r, c);
    for (size_t j = 0; j < n; j++) {
        double u = r->data[2 * j];
        r->data[2 * j] = u * u;
        r->data[2 * j + 1] = 0;
    }
    gsl_fft_complex_forward(r->data, 1, n, r->wt, r->ws);
    for (size_t m = 0; m <= r->kept; m++) {
        double k = 2.0 * KDV_PI * (double)m / r->length, ph = -k * k * k * t;
        double re = r->data[2 * m] / (double)n, im = r->data[2 * m + 1] / (double)n;
        /* N = -(i k / 2) (re + i im) = (k/2 im, -k/2 re); then times exp(-i k^3 t). */
        double nre = 0.5 * k * im, nim = -0.5 * k * re;
        double cs = cos(ph), sn = sin(ph);
        f[2 * m] = cs * nre - sn * nim;
        f[2 * m + 1] = sn * nre + cs * nim;
    }
    return GSL_SUCCESS;
}

int kdv_reference(size_t n, double length, const double *u0, double t_end, double tol, double *u,
                  char *err, size_t errlen) {
    rhs_ctx r = {n, (n - 1) / 3, length, NULL, NULL, NULL, NULL};
    gsl_set_error_handler_off(); /* failures come back as statuses, never abort() */
    size_t dim = 2 * (r.kept + 1);
    r.data = malloc(2 * n * sizeof *r.data);
    r.c = malloc(dim * sizeof *r.c);
    double *y = malloc(dim * sizeof *y);
    r.wt = gsl_fft_complex_wavetable_alloc(n);
    r.ws = gsl_fft_complex_workspace_alloc(n);
    int rc = -1;
    gsl_odeiv2_driver *d = NULL;
    if (!r.data || !r.c || !y || !r.wt || !r.ws) {
        snprintf(err, errlen, "out of memory (or GSL cannot transform %zu points)", n);
        goto done;
    }
    /* c_m of u0, kept modes only: w(0) = c(0). */
    for (size_t j = 0; j < n; j++) {
        r.data[2 * j] = u0[j];
        r.data[2 * j + 1] = 0;
    }
    gsl_fft_complex_forward(r.data, 1, n, r.wt, r.ws);
    for (size_t m = 0; m <= r.kept; m++) {
        y[2 * m] = r.data[2 * m] / (double)n;
        y[2 * m + 1] = m == 0 ? 0 : r.data[2 * m + 1] / (double)n;
    }
    gsl_odeiv2_system sys = {rhs, NULL, dim, &r};
    d = gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rk8pd, 1e-3, tol, tol);
    if (!d) {
        snprintf(err, errlen, "gsl_odeiv2_driver_alloc_y_new failed");
        goto done;
    }
    gsl_odeiv2_driver_set_nmax(d, 100000000);
    double t = 0;
    int st = gsl_odeiv2_driver_apply(d, &t, t_end, y);
    if (st != GSL_SUCCESS) {
        snprintf(err, errlen, "gsl_odeiv2_driver_apply stopped at t = %g: %s", t, gsl_strerror(st));
        goto done;
    }
    for (size_t m = 0; m <= r.kept; m++) {
        double k = 2.0 * KDV_PI * (double)m / length, ph = k * k * k * t_end;
        double cs = cos(ph), sn = sin(ph), re = y[2 * m], im = y[2 * m + 1];
        y[2 * m] = cs * re - sn * im;
        y[2 * m + 1] = sn * re + cs * im;
    }
    to_grid(&r, y);
    for (size_t j = 0; j < n; j++) u[j] = r.data[2 * j];
    rc = 0;
done:
    if (d) gsl_odeiv2_driver_free(d);
    if (r.wt) gsl_fft_complex_wavetable_free(r.wt);
    if (r.ws) gsl_fft_complex_workspace_free(r.ws);
    free(r.data);
    free(r.c);
    free(y);
    return rc;
}

void kdv_invariants(size_t n, double length, const double *u, double out[3]) {
    out[0] = out[1] = out[2] = NAN;
    gsl_set_error_handler_off();
    double *d = malloc(2 * n * sizeof *d);
    gsl_fft_complex_wavetable *wt = gsl_fft_complex_wavetable_alloc(n);
    gsl_fft_complex_workspace *ws = gsl_fft_complex_workspace_alloc(n);
    if (d && wt && ws) {
        /* u_x: the transform of u times i k (the Nyquist mode's derivative is 0), back. */
        for (size_t j = 0; j < n; j++) {
            d[2 * j] = u[j];
            d[2 * j + 1] = 0;
        }
        gsl_fft_complex_forward(d, 1, n, wt, ws);
        for (size_t m = 0; m < n; m++) {
            long mm = m <= n / 2 ? (long)m : (long)m - (long)n;
            double k = 2.0 * KDV_PI * (double)mm / length, re = d[2 * m], im = d[2 * m + 1];
            if (2 * m == n) k = 0;
            d[2 * m] = -k * im / (double)n;
            d[2 * m + 1] = k * re / (double)n;
        }
        gsl_fft_complex_backward(d, 1, n, wt, ws);
        double dx = length / (double)n, s0 = 0, s1 = 0, s2 = 0;
        for (size_t j = 0; j < n; j++) {
            double ux = d[2 * j];
            s0 += u[j];
            s1 += u[j] * u[j];
            s2 += ux * ux / 2 - u[j] * u[j] * u[j] / 6;
        }
        out[0] = s0 * dx;
        out[1] = s1 * dx;
        out[2] = s2 * dx;
    }
    free(d);
    if (wt) gsl_fft_complex_wavetable_free(wt);
    if (ws) gsl_fft_complex_workspace_free(ws);
}
