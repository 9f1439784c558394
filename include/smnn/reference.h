/* The dense host reference solver (double precision), for verification.
 *
 * It builds, for each system of the batch, the full matrix A (m x n), the weights W and the
 * right-hand side b row by row from Appendix A.1 of the paper (Eqs. 4-7, smoothness rows weighted
 * by s_t^r), independently of the block formulas the kernels use, and solves the weighted least-
 * squares problem min ||W^(1/2) (A y - b)|| with LAPACK's Householder QR, which does not square
 * the condition number; rows sorted by weight and columns pivoted (dgeqp3), so that widely spread
 * weights (w_init = 1e20 against 1) keep full accuracy. Here m = T Q + T_init V n_init_orders + 2 (T-1) V n_orders and n = T V n_orders.
 * Cost: O(m n^2) = O(T^3) time and O(m n) = O(T^2) memory per system; it is meant for small and
 * medium T (T = 1000 with n = 3 takes seconds), never for production. */
#ifndef SMNN_REFERENCE_H
#define SMNN_REFERENCE_H

#include <stddef.h>

#include <smnn/problem.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default cap on the reference's working memory: 4 GiB (override with the max_bytes argument or
 * the environment variable SMNN_REFERENCE_MAX_BYTES: decimal digits only, > 0; any other value
 * is an error, SMNN_ERROR_INVALID_ARGUMENT naming the variable). The cap counts everything the
 * call allocates, the batch's solutions included. */
#define SMNN_REFERENCE_DEFAULT_MAX_BYTES ((size_t)4 << 30)

/* Solves every system of the batch. c, d, u, s are laid out as in problem.h (p->shared says which
 * are shared; p->precision and p->variant are ignored); y receives (B, T, V, n_orders) doubles.
 * max_bytes caps the working memory (0 = default); the check happens before any allocation.
 * Errors: SMNN_ERROR_INVALID_ARGUMENT (invalid problem, NULL pointer, non-finite input or
 * non-positive step: the message names it and the index; malformed SMNN_REFERENCE_MAX_BYTES),
 * SMNN_ERROR_TOO_LARGE (the working memory would exceed the cap), SMNN_ERROR_OUT_OF_HOST_MEMORY,
 * SMNN_ERROR_NOT_POSITIVE_DEFINITE (W^(1/2) A is rank deficient, i.e. M = A^T W A is singular,
 * as the device reports it: a diagonal entry of R below 1e3 eps sqrt(m) of its column's norm;
 * the message names the system and the unknown), SMNN_ERROR_LAPACK (a LAPACK routine failed).
 * y is written only on success. */
smnn_status smnn_reference_solve(const smnn_problem *p, const double *c, const double *d,
                                 const double *u, const double *s, double *y, size_t max_bytes);

/* Reference gradients of l = sum(grad_y * y) with respect to c, d, u, s (pass NULL for the ones
 * not wanted; shapes as the inputs), by central finite differences of smnn_reference_solve:
 * h = 1e-6 max(1, |x|) for c, d, u and 1e-6 s for steps. Independent of the device's analytic
 * adjoint; costs two dense solves per input element, so use it on small problems. grad_y is
 * checked like every input (NULL, NaN/Inf: INVALID_ARGUMENT naming 'grad_y' and the index); the
 * cap covers this function's own copies and gradients on top of a solve's memory. Errors as
 * smnn_reference_solve; the outputs are written only on success. */
smnn_status smnn_reference_gradient(const smnn_problem *p, const double *c, const double *d,
                                    const double *u, const double *s, const double *grad_y,
                                    double *grad_c, double *grad_d, double *grad_u,
                                    double *grad_s, size_t max_bytes);

/* Bytes of working memory smnn_reference_solve needs for p (0 for an invalid problem; SIZE_MAX
 * when it exceeds the address space). */
size_t smnn_reference_bytes(const smnn_problem *p);

#ifdef __cplusplus
}
#endif
#endif
