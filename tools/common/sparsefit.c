/* Adam on whitened coefficients with sequential thresholding (sparsefit.h). */
#include "sparsefit.h"

#include <math.h>
#include <string.h>

#define NT SF_MAX_TERMS

/* Cholesky of the Gram matrix restricted to the column's active terms. */
static int whiten(const sparsefit *f, sf_column *c) {
    c->n = 0;
    for (int k = 0; k < f->nterms; k++)
        if (c->active[k]) c->idx[c->n++] = k;
    int n = c->n, T = f->nterms;
    memset(c->R, 0, sizeof c->R);
    for (int j = 0; j < n; j++) {
        double d = f->gram[c->idx[j] * T + c->idx[j]];
        for (int k = 0; k < j; k++) d -= c->R[k * NT + j] * c->R[k * NT + j];
        if (!(d > 0)) return -1;
        c->R[j * NT + j] = sqrt(d);
        for (int i = j + 1; i < n; i++) {
            double a = f->gram[c->idx[j] * T + c->idx[i]];
            for (int k = 0; k < j; k++) a -= c->R[k * NT + j] * c->R[k * NT + i];
            c->R[j * NT + i] = a / c->R[j * NT + j];
        }
    }
    return 0;
}

/* xi_A = R^-1 theta (back substitution), into column v of xi; inactive terms are 0. */
static void to_xi(const sparsefit *f, const sf_column *c, double *xi, int v) {
    double x[NT];
    for (int i = c->n - 1; i >= 0; i--) {
        double a = c->theta[i];
        for (int k = i + 1; k < c->n; k++) a -= c->R[i * NT + k] * x[k];
        x[i] = a / c->R[i * NT + i];
    }
    for (int k = 0; k < f->nterms; k++) xi[k * f->ncols + v] = 0;
    for (int i = 0; i < c->n; i++) xi[c->idx[i] * f->ncols + v] = x[i];
}

/* theta = R xi_A from column v of xi. */
static void to_theta(const sparsefit *f, sf_column *c, const double *xi, int v) {
    for (int i = 0; i < c->n; i++) {
        c->theta[i] = 0;
        for (int k = i; k < c->n; k++) c->theta[i] += c->R[i * NT + k] * xi[c->idx[k] * f->ncols + v];
    }
}

int sparsefit_init(sparsefit *f, int nterms, int ncols, const double *gram, double lr,
                   double threshold, size_t iterations) {
    if (nterms < 1 || nterms > NT || ncols < 1 || ncols > SF_MAX_COLS) return -1;
    memset(f, 0, sizeof *f);
    f->nterms = nterms;
    f->ncols = ncols;
    memcpy(f->gram, gram, (size_t)(nterms * nterms) * sizeof *gram);
    f->lr = lr;
    f->threshold = threshold;
    f->iterations = iterations;
    /* 30%, 40% and 50% of the run, without overflowing for any iteration count. */
    f->thresholds[0] = iterations / 10 * 3 + iterations % 10 * 3 / 10;
    f->thresholds[1] = iterations / 10 * 4 + iterations % 10 * 4 / 10;
    f->thresholds[2] = iterations / 2;
    for (int v = 0; v < ncols; v++) {
        for (int k = 0; k < nterms; k++) f->col[v].active[k] = 1;
        if (whiten(f, &f->col[v]) != 0) return -1;
    }
    return 0;
}

void sparsefit_xi(const sparsefit *f, double *xi) {
    for (int v = 0; v < f->ncols; v++) to_xi(f, &f->col[v], xi, v);
}

int sparsefit_step(sparsefit *f, size_t it, const double *grad) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    /* Exponential decay to lr / 1000 over the run: large steps to cross the scale of the
     * coefficients, small ones to settle them. */
    double lr_now = f->lr * pow(1e-3, (double)(it - 1) / (double)f->iterations);
    for (int v = 0; v < f->ncols; v++) {
        sf_column *c = &f->col[v];
        double g[NT];
        /* dl/dtheta = R^-T dl/dxi_A (forward substitution with R^T). */
        for (int i = 0; i < c->n; i++) {
            double a = grad[c->idx[i] * f->ncols + v];
            for (int k = 0; k < i; k++) a -= c->R[k * NT + i] * g[k];
            g[i] = a / c->R[i * NT + i];
        }
        c->t++;
        for (int i = 0; i < c->n; i++) {
            c->m1[i] = b1 * c->m1[i] + (1 - b1) * g[i];
            c->m2[i] = b2 * c->m2[i] + (1 - b2) * g[i] * g[i];
            double mh = c->m1[i] / (1 - pow(b1, (double)c->t));
            double vh = c->m2[i] / (1 - pow(b2, (double)c->t));
            c->theta[i] -= lr_now * mh / (sqrt(vh) + eps);
        }
    }
    for (int th = 0; th < 3; th++) {
        if (it != f->thresholds[th]) continue;
        /* Drop small terms for good, re-whiten the rest, restart Adam's moments in the new
         * coordinates. */
        double xi[NT * SF_MAX_COLS];
        sparsefit_xi(f, xi);
        for (int v = 0; v < f->ncols; v++) {
            sf_column *c = &f->col[v];
            for (int k = 0; k < f->nterms; k++)
                if (fabs(xi[k * f->ncols + v]) < f->threshold) c->active[k] = 0;
            if (whiten(f, c) != 0) return -1;
            to_theta(f, c, xi, v);
            memset(c->m1, 0, sizeof c->m1);
            memset(c->m2, 0, sizeof c->m2);
            c->t = 0;
        }
    }
    return 0;
}
