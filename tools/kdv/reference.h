/* An independent host integrator of the same de-aliased KdV system as spectral.h, for checks:
 * GSL's mixed-radix complex FFT for the nonlinear term and GSL's odeiv2 (Prince-Dormand 8(9),
 * adaptive) on the kept Fourier modes in integrating-factor form, w_m = exp(-i k^3 t) v_m, which
 * removes the stiff linear term: dw_m/dt = exp(-i k_m^3 t) N_m(v). */
#ifndef SMNN_KDV_REFERENCE_H
#define SMNN_KDV_REFERENCE_H

#include <stddef.h>

/* Integrates one trajectory of n points on [0, length) from u0 (projected onto the modes
 * |m| <= (n - 1)/3, as kdv_set does) to t_end with absolute and relative tolerance tol, into u (n
 * values). Returns 0, or -1 with a message in err. */
int kdv_reference(size_t n, double length, const double *u0, double t_end, double tol, double *u,
                  char *err, size_t errlen);

/* Host checks of one trajectory state u (n points, modes |m| <= (n - 1)/3 only, as kdv_get
 * returns): out[0] = the integral of u (the mean times L), out[1] = the integral of u^2,
 * out[2] = the KdV energy, the integral of u_x^2 / 2 - u^3 / 6 (u_x spectrally, GSL's FFT); all
 * conserved by the equation and by its de-aliased Galerkin form (the grid sums are exact for
 * these modes: 3 (n - 1)/3 < n). NaN when memory runs out. */
void kdv_invariants(size_t n, double length, const double *u, double out[3]);

#endif
