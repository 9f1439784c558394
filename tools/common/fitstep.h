/* One step of equation discovery with a frozen left-hand side, shared by smnn-lorenz and
 * smnn-kdv: the model is ncols first-order ODEs y' = d(t) per window of T points (V = 1,
 * n_orders R1, one equation, c = (0, 1, 0, ...), one step size s), d = Phi xi with Phi the
 * library rows of the window (rows x nterms) and xi the coefficients (nterms x ncols, row-major),
 * initial value the window's first data point. A step uploads Phi, u and xi, forms d = xi^T Phi^T
 * with CLBlast (ncols x rows: exactly the (B, T, 1) layout of the B = ncols x windows systems,
 * column-major over windows), solves with the kept factorization, takes the loss
 * mean((y - target)^2) over systems and points, gets dl/dd from the library's backward pass and
 * dl/dxi = Phi^T dl/dd^T with CLBlast. Device buffers are in the plan's precision (SGEMM in
 * single), the host keeps doubles.
 *
 * A refining plan (single precision by default) may decline or fail to converge its refinement
 * for some systems (SMNN_ERROR_NOT_CONVERGED): that costs accuracy, not the result (the optimiser
 * needs a descent direction), so steps go on and the passes concerned are counted. */
#ifndef SMNN_FITSTEP_H
#define SMNN_FITSTEP_H

#include <stddef.h>

#include <smnn/smnn.h>

typedef struct fitstep fitstep;

/* Refinement that did not converge or was declined: forward passes and backward passes
 * concerned, the first step, systems in all, the most in one pass. */
typedef struct fit_refine_stats {
    size_t solves, backward, first_step, systems, most;
} fit_refine_stats;

/* Seconds spent in the solver, in CLBlast and on the host (uploads, loss) over all steps. */
typedef struct fit_times {
    double solver, blas, host;
} fit_times;

/* A fit over `windows` windows of T points for ncols equations (B = ncols x windows systems),
 * n_orders orders (>= 2), step s, weights of p_weights (w_gov, w_init, w_smooth; its sizes are
 * ignored), options opt: creates the plan and buffers on ctx and factors once. Returns NULL with
 * a message in err. */
fitstep *fitstep_create(smnn_context *ctx, size_t windows, size_t T, size_t orders, size_t nterms,
                        size_t ncols, double s, const smnn_problem *p_weights,
                        const smnn_plan_options *opt, char *err, size_t errlen);
void fitstep_free(fitstep *f); /* accepts NULL */
smnn_plan *fitstep_plan(const fitstep *f);

/* One step (it, 1-based, for the statistics): phi (windows T x nterms, window-major), u
 * (ncols x windows initial values, equation-major), target (ncols x windows x T), xi (nterms x
 * ncols). Writes the loss and grad (dl/dxi, nterms x ncols). Returns 0, or -1 with a message in
 * err (a failing call; a non-finite loss is the caller's to judge). */
int fitstep_run(fitstep *f, size_t it, const double *phi, const double *u, const double *target,
                const double *xi, double *loss, double *grad, char *err, size_t errlen);
const fit_refine_stats *fitstep_refine_stats(const fitstep *f);
const fit_times *fitstep_times(const fitstep *f);

#endif
