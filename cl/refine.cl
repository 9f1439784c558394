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
 * The residual r_t (assemble.cl smnn_residual_at) sums every row touching t: the governing rows
 * and initial-value rows at t and the forward/backward Taylor rows of the intervals (t-1, t) and
 * (t, t+1), each weighted as in the paper (Appendix A.1). With g (the backward pass), the same
 * residual of the homogeneous rows plus g: r = g - M y. The private variant's forward
 * substitution computes it as it walks time (SMNN_FLAG_RESIDUAL); smnn_residual below writes it
 * for the local variant.
 * smnn_refine_update: y += delta, for every system (Cholesky) or, guarded (QR), only where the
 * correction is below the tolerance: the QR solution is accurate to cond(A) eps already, and a
 * correction of more than eps^(1/3) of y means that the semi-normal equations lost it
 * (cond(A)^2 eps >= 1 in this precision); the system then keeps its QR solution. */

#if SMNN_HAS_LOCAL || SMNN_TIME_LANES
/* The residual of the local variant and of the partitioned walk, one work-item per (system, time
 * point), B T of them (a partitioned program's vector lanes all hold that one point). The
 * sequential private walk computes it inside its forward substitution instead
 * (SMNN_FLAG_RESIDUAL), which saves writing and reading r and one launch per step
 * (bench/RESULTS.md). */
kernel void smnn_residual(SMNN_PARAMS(SMNN_RESIDUAL_ARGS)) {
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const long gid = get_global_id(0);
    if (gid >= (long)batch * T) return;
    const int b = (int)(gid / T), t = (int)(gid % T);
    const smnn_lanes L = smnn_make_lanes(b, 0, b + 1);
    const int homogeneous = g != 0;
    global const real *Y = y + gid * n;
    realv yp[NMAX], yc[NMAX], yn[NMAX], acc[NMAX], pw[2 * NMAX];
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        yc[i] = Y[i];
        yp[i] = t > 0 ? Y[i - n] : (realv)(0);
        yn[i] = t < T - 1 ? Y[i + n] : (realv)(0);
    }
    realv hp = t > 0 ? smnn_steps(&P, s, &L, t - 1) : (realv)(0);
    smnn_residual_at(&P, c, d, u, s, homogeneous, &L, t, yp, yc, yn, hp, pw, acc);
    SMNN_UNROLL
    for (int i = 0; i < n; i++)
        r[gid * n + i] = SMNN_LANE(acc[i], 0) + (homogeneous ? g[gid * n + i] : (real)0);
}
#endif

/* System b: y += delta, and change[b] = max |delta| / max |y| (0 when y is all zero), the size
 * of the correction, which stays large when the refinement does not converge; measured against y
 * after the add, or guarded against y before it, the add then made only where change[b] <= tol
 * (NaN declines). Loops cut short (contract.h SMNN_INFO_LOOPS_CUT) decline the add and report Inf,
 * not converged. */
kernel void smnn_refine_update(SMNN_PARAMS(SMNN_UPDATE_ARGS)) {
    const long b = get_global_id(0);
    if (b >= batch) return;
    global real *Y = y + b * per;
    global const real *D = delta + b * per;
    real dm = (real)0, ym = (real)0;
    if (guarded) {
        for (long i = 0; i < per; i++) {
            dm = fmax(dm, fabs(D[i]));
            ym = fmax(ym, fabs(Y[i]));
        }
    } else {
        for (long i = 0; i < per; i++) {
            real v = Y[i] + D[i];
            Y[i] = v;
            dm = fmax(dm, fabs(D[i]));
            ym = fmax(ym, fabs(v));
        }
    }
    real ch = smnn_loops_cut((int)per) ? (real)INFINITY : ym > (real)0 ? dm / ym : dm;
    if (guarded && ch <= tol) {
        for (long i = 0; i < per; i++) Y[i] += D[i];
        if (smnn_loops_cut((int)per)) ch = (real)INFINITY;
    }
    change[b] = ch;
}
