/* The dense host reference solver (double precision), for verification.
 *
 * It builds, for each system of the batch, the full matrix A (m x n), the weights W and the
 * right-hand side b row by row from Appendix A.1 of the paper (Eqs. 4-7, smoothness rows weighted
 * by s_t^r), independently of the block formulas the kernels use, and solves the weighted least-
 * squares problem min ||W^(1/2) (A y - b)|| with LAPACK's QR (dgels), which does not square the
 * condition number. Here m = T Q + T_init V n_init_orders + 2 (T-1) V n_orders and n = T V n_orders.
 * Cost: O(m n^2) = O(T^3) time and O(m n) = O(T^2) memory per system; it is meant for small and
 * medium T (T = 1000 with n = 3 takes seconds), never for production. */
#ifndef SMNN_REFERENCE_H
#define SMNN_REFERENCE_H

#include <stddef.h>

#include <smnn/problem.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default cap on the reference's working memory: 4 GiB (override with the environment variable
 * SMNN_REFERENCE_MAX_BYTES or the max_bytes argument). */
#define SMNN_REFERENCE_DEFAULT_MAX_BYTES ((size_t)4 << 30)

/* Solves every system of the batch. c, d, u, s are laid out as in problem.h (p->shared says which
 * are shared; p->precision and p->variant are ignored); y receives (B, T, V, n_orders) doubles.
 * max_bytes caps the working memory (0 = default); the check happens before any allocation.
 * Errors: SMNN_ERROR_INVALID_ARGUMENT (invalid problem, NULL pointer, non-finite input or
 * non-positive step: the message names it and the index), SMNN_ERROR_TOO_LARGE (the dense
 * matrix would exceed the cap), SMNN_ERROR_OUT_OF_HOST_MEMORY, SMNN_ERROR_LAPACK (A W^(1/2) is
 * rank deficient: the message names the system). y is written only on success. */
smnn_status smnn_reference_solve(const smnn_problem *p, const double *c, const double *d,
                                 const double *u, const double *s, double *y, size_t max_bytes);

/* Reference gradients of l = sum(grad_y * y) with respect to c, d, u, s (pass NULL for the ones
 * not wanted; shapes as the inputs), by central finite differences of smnn_reference_solve:
 * h = 1e-6 max(1, |x|) for c, d, u and 1e-6 s for steps. Independent of the device's analytic
 * adjoint; costs two dense solves per input element, so use it on small problems. Errors as
 * smnn_reference_solve; the outputs are written only on success. */
smnn_status smnn_reference_gradient(const smnn_problem *p, const double *c, const double *d,
                                    const double *u, const double *s, const double *grad_y,
                                    double *grad_c, double *grad_d, double *grad_u,
                                    double *grad_s, size_t max_bytes);

/* Bytes of working memory smnn_reference_solve needs for p (0 for an invalid problem). */
size_t smnn_reference_bytes(const smnn_problem *p);

#ifdef __cplusplus
}
#endif
#endif
