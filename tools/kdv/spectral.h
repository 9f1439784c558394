/* The Korteweg-de Vries equation u_t + u u_x + u_xxx = 0 on a periodic domain [0, L), integrated
 * on an OpenCL device with clFFT: pseudo-spectral in space (n points, 2/3 de-aliasing: only the
 * modes |m| <= (n - 1)/3 are kept, so every product of two kept modes is computed without
 * aliasing),
 * the linear term u_xxx exactly and the nonlinear term by fourth-order exponential time
 * differencing (ETDRK4, Kassam and Trefethen, SIAM J. Sci. Comput. 26(4), 2005), its phi
 * functions evaluated by their contour-integral means (64 points on the unit circle around each
 * L h), in double precision on the host and sent to the device once.
 *
 * In Fourier space, with v_m the coefficient of exp(i k_m x), k_m = 2 pi m / L:
 *   v_t = i k^3 v - (i k / 2) F[u^2]
 * A batch of `samples` trajectories advances together (clFFT batched real-to-complex and
 * complex-to-real transforms). Precision: double, or single where asked (a device without
 * fp64); the coefficients and host interfaces are double either way.
 *
 * Errors: every function returns 0, or -1 with a message in err naming the clFFT or OpenCL call
 * that failed and its status; grid sizes clFFT cannot transform (a factor other than 2, 3, 5, 7,
 * 11 and 13) are refused before anything is allocated. */
#ifndef SMNN_KDV_SPECTRAL_H
#define SMNN_KDV_SPECTRAL_H

#include <stddef.h>

#include <smnn/smnn.h>

typedef struct kdv_solver kdv_solver;

/* The candidate terms of a PDE u_t = sum_j xi_j term_j (the library of smnn-kdv), in order. */
enum {
    KDV_1, KDV_U, KDV_UX, KDV_UXX, KDV_UXXX, KDV_UU, KDV_UUX, KDV_UUXX, KDV_UUXXX, KDV_UUUX,
    KDV_UXUX, KDV_UXUXX, KDV_TERMS
};
/* "1", "u", "u_x", ... ; static. */
extern const char *const kdv_term_names[KDV_TERMS];
/* The KdV equation in these terms: xi[KDV_UUX] = xi[KDV_UXXX] = -1, the rest 0. */
void kdv_equation(double xi[KDV_TERMS]);

/* 1 when clFFT can transform n points (n >= 4, even, and only the factors 2, 3, 5, 7, 11, 13),
 * else 0 with the reason in why (when not NULL). */
int kdv_grid_ok(size_t n, char *why, size_t len);

/* A device integrator on ctx for `samples` trajectories of n points on [0, length), time step h
 * (> 0), in single precision when single is 1 (else double: the device needs fp64), of the PDE
 * u_t = sum_j xi_j term_j (xi NULL: KdV). The linear terms (u, u_x, u_xx, u_xxx) form the exact
 * part exp(L h), L(k) = xi_u + xi_ux (ik) + xi_uxx (ik)^2 + xi_uxxx (ik)^3; the constant and the
 * products are the nonlinear part, evaluated pseudo-spectrally (u^2 and u u_x through one
 * transform of u^2; the other products from u, u_x, u_xx, u_xxx in physical space). A
 * discovered PDE whose linear part grows (Re L > 0) is integrated as it is: its solution may blow
 * up, which kdv_get's values show (not finite). The context must outlive the solver. */
int kdv_create(smnn_context *ctx, size_t samples, size_t n, double length, double h, int single,
               const double *xi, kdv_solver **out, char *err, size_t errlen);
void kdv_free(kdv_solver *s); /* accepts NULL */

/* Sets the state from u0 (samples x n values, row-major), projected onto the kept modes (the
 * modes |m| > (n - 1)/3 of the initial condition are dropped). */
int kdv_set(kdv_solver *s, const double *u0, char *err, size_t errlen);
/* Advances every trajectory by `steps` steps of h. */
int kdv_step(kdv_solver *s, size_t steps, char *err, size_t errlen);
/* The current state in physical space (samples x n), blocking. */
int kdv_get(kdv_solver *s, double *u, char *err, size_t errlen);
/* The current state and its first three x-derivatives in physical space (samples x n each,
 * spectral derivatives of the kept modes), blocking: the fields the candidate terms are made of.
 * Set the state of a data set with kdv_set first (this projects it onto the kept modes, which
 * leaves the integrator's own data unchanged and low-passes noisy data). */
int kdv_fields(kdv_solver *s, double *u, double *ux, double *uxx, double *uxxx, char *err,
               size_t errlen);


#endif
