/* The optimiser of the equation-discovery tools (smnn-lorenz, smnn-kdv): Adam on whitened
 * coefficients with sequential thresholding, one implementation for both.
 *
 * The unknowns xi form an nterms x ncols matrix (row-major: term k, column v), column v the
 * coefficients of equation v on a library of nterms candidate terms whose Gram matrix
 * G = Phi^T Phi / rows is given. For each column the optimiser works on theta = R xi_A, with A
 * the column's active terms and G_A = R^T R (Cholesky): in these coordinates the library columns
 * are orthonormal, which Adam needs (without it, it crawls along strongly correlated directions).
 * The learning rate decays exponentially to a thousandth of its start over the run; at 30%, 40%
 * and 50% of the iterations, the coefficients below the threshold are dropped for good, the
 * rest re-whitened and Adam's moments restarted. */
#ifndef SMNN_SPARSEFIT_H
#define SMNN_SPARSEFIT_H

#include <stddef.h>

#define SF_MAX_TERMS 16
#define SF_MAX_COLS 4

typedef struct sf_column {
    int n, idx[SF_MAX_TERMS];             /* the active terms */
    double R[SF_MAX_TERMS * SF_MAX_TERMS]; /* row-major, upper triangular, n x n */
    double theta[SF_MAX_TERMS], m1[SF_MAX_TERMS], m2[SF_MAX_TERMS];
    size_t t; /* Adam's step count since the last restart */
    int active[SF_MAX_TERMS];
} sf_column;

typedef struct sparsefit {
    int nterms, ncols;
    double gram[SF_MAX_TERMS * SF_MAX_TERMS];
    double lr, threshold;
    size_t iterations, thresholds[3];
    sf_column col[SF_MAX_COLS];
} sparsefit;

/* Starts from xi = 0 with every term active. Returns 0, or -1 when the sizes are out of range
 * or the Gram matrix is not positive definite (the library's columns are dependent on the
 * data). */
int sparsefit_init(sparsefit *f, int nterms, int ncols, const double *gram, double lr,
                   double threshold, size_t iterations);
/* The current coefficients, nterms x ncols row-major (inactive terms exactly 0). */
void sparsefit_xi(const sparsefit *f, double *xi);
/* One step at iteration it (1-based) from the gradient dl/dxi (nterms x ncols row-major): Adam,
 * then thresholding when it is one of the scheduled iterations. Returns 0, or -1 when a Gram
 * matrix of the remaining terms is singular. */
int sparsefit_step(sparsefit *f, size_t it, const double *grad);

#endif
