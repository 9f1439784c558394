/* refine.cl: iterative refinement of a solve on the semi-normal equations, for single precision.
 *
 * The factorization works on M = A^T W A, whose condition number is the square of A's; in float
 * that loses most digits for small steps (T = 1000, step 0.01: 1e-2 relative error). One remedy
 * that stays in the working precision is the corrected semi-normal equations (Bjorck): compute
 * the residual from the rows of A themselves, r = A^T W (b - A y), never from M, solve
 * M delta = r with the factors already computed, and add delta to y. It converges while the float
 * factorization still carries a digit (cond(M) eps < 1 after the implicit diagonal scaling of
 * Cholesky) and its accuracy then follows cond(A) eps instead of cond(A)^2 eps.
 *
 * smnn_residual: one work-item per (system, time point) computes r_t from every row touching t:
 * the governing rows and initial-value rows at t and the forward/backward Taylor rows of the
 * intervals (t-1, t) and (t, t+1), each weighted as in the paper (Appendix A.1).
 * With g (the backward pass), the same residual of the homogeneous rows plus g: r = g - M y.
 * smnn_add: y += delta, for every system (Cholesky) or, guarded (QR), only where the correction
 * is below the tolerance: the QR solution is accurate to cond(A) eps already, and a correction
 * of more than eps^(1/3) of y means that the semi-normal equations lost it (cond(A)^2 eps >= 1
 * in this precision); the system then keeps its QR solution. */

kernel void smnn_residual(SMNN_PARAMS(SMNN_RESIDUAL_ARGS)) {
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T, R1 = P.R1;
    long gid = get_global_id(0);
    if (gid >= (long)batch * T) return;
    long b = gid / T;
    int t = (int)(gid % T);
    __global const real *Y = y + gid * n;
    __global real *Rt = r + gid * n;
    real acc[NMAX];
    for (int i = 0; i < n; i++) acc[i] = (real)0;
    /* Governing rows at t. */
    __global const real *C = c + b * P.cb + (long)t * P.ct;
    const int homogeneous = g != 0;
    for (int q = 0; q < P.Q; q++) {
        real e = homogeneous ? (real)0 : d[b * P.db + (long)t * P.dt + q];
        for (int i = 0; i < n; i++) e -= C[q * n + i] * Y[i];
        for (int i = 0; i < n; i++) acc[i] += P.wg2 * C[q * n + i] * e;
    }
    /* Initial-value rows at t. */
    if (t < P.Tinit)
        for (int v = 0; v < P.V; v++)
            for (int k = 0; k < P.Rinit1; k++)
                acc[v * R1 + k] +=
                    P.wi2 * ((homogeneous ? (real)0 : u[b * P.ub + (long)t * P.ut + v * P.Rinit1 + k]) -
                             Y[v * R1 + k]);
    /* Taylor rows of the interval (t, t+1): y_t sits on the right of the forward rows and on the
     * left of the backward rows. */
    if (t < T - 1) {
        real h = smnn_step(&P, s, b, t);
        __global const real *Yn = Y + n;
        for (int v = 0; v < P.V; v++) {
            for (int k = 0; k < R1; k++) {
                real wk = P.ws2 * smnn_ipow(h, 2 * k);
                /* forward row: y_{t+1,k} - sum_j h^j/j! y_{t,k+j} = 0 */
                real ef = -(Yn[v * R1 + k] - smnn_taylor(R1, k, h, Y + v * R1));
                real pw = (real)1;
                for (int rp = k; rp < R1; rp++) {
                    acc[v * R1 + rp] -= wk * pw * smnn_inv_fact(rp - k) * ef;
                    pw *= h;
                }
                /* backward row: y_{t,k} - sum_j (-h)^j/j! y_{t+1,k+j} = 0 */
                real eb = -(Y[v * R1 + k] - smnn_taylor(R1, k, -h, Yn + v * R1));
                acc[v * R1 + k] += wk * eb;
            }
        }
    }
    /* Taylor rows of the interval (t-1, t). */
    if (t > 0) {
        real h = smnn_step(&P, s, b, t - 1);
        __global const real *Yp = Y - n;
        for (int v = 0; v < P.V; v++) {
            for (int k = 0; k < R1; k++) {
                real wk = P.ws2 * smnn_ipow(h, 2 * k);
                real ef = -(Y[v * R1 + k] - smnn_taylor(R1, k, h, Yp + v * R1));
                acc[v * R1 + k] += wk * ef;
                real eb = -(Yp[v * R1 + k] - smnn_taylor(R1, k, -h, Y + v * R1));
                real pw = (real)1;
                for (int rp = k; rp < R1; rp++) {
                    acc[v * R1 + rp] -= wk * pw * smnn_inv_fact(rp - k) * eb;
                    pw *= -h;
                }
            }
        }
    }
    if (homogeneous)
        for (int i = 0; i < n; i++) acc[i] += g[gid * n + i];
    for (int i = 0; i < n; i++) Rt[i] = acc[i];
}

kernel void smnn_add(SMNN_PARAMS(SMNN_ADD_ARGS)) {
    long i = get_global_id(0);
    if (i >= count) return;
    if (change && !(change[i / per] <= tol)) return; /* declined: NaN is declined too */
    y[i] += delta[i];
}

/* out[b] = max |delta| / max |y| over system b (0 when y is all zero): the size of the last
 * refinement correction, which stays large when the refinement does not converge. */
kernel void smnn_refine_check(SMNN_PARAMS(SMNN_CHECK_ARGS)) {
    long b = get_global_id(0);
    if (b >= batch) return;
    real dm = (real)0, ym = (real)0;
    for (long i = b * per; i < (b + 1) * per; i++) {
        dm = fmax(dm, fabs(delta[i]));
        ym = fmax(ym, fabs(y[i]));
    }
    out[b] = ym > (real)0 ? dm / ym : dm;
}
