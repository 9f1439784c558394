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
 * smnn_residual: r_t from every row touching t: the governing rows and initial-value rows at t
 * and the forward/backward Taylor rows of the intervals (t-1, t) and (t, t+1), each weighted as
 * in the paper (Appendix A.1).
 * With g (the backward pass), the same residual of the homogeneous rows plus g: r = g - M y.
 * smnn_add: y += delta, for every system (Cholesky) or, guarded (QR), only where the correction
 * is below the tolerance: the QR solution is accurate to cond(A) eps already, and a correction
 * of more than eps^(1/3) of y means that the semi-normal equations lost it (cond(A)^2 eps >= 1
 * in this precision); the system then keeps its QR solution. */

/* The Taylor rows of one interval (a, b) with powers pw of its step h added to the residual acc
 * of its left point (right = 0) or of its right point (right = 1). */
inline void smnn_residual_interval(const smnn_prob *P, const realv *ya, const realv *yb,
                                   const realv *pw, realv *acc, int right) {
    const int R1 = P->R1;
    for (int v = 0; v < P->V; v++) {
        const realv *xa = ya + v * R1, *xb = yb + v * R1;
        for (int k = 0; k < R1; k++) {
            realv wk = P->ws2 * pw[2 * k];
            /* forward row: y_{b,k} - sum_j h^j/j! y_{a,k+j} = 0 */
            realv ef = -(xb[k] - smnn_taylor(R1, k, pw, (real)1, xa));
            /* backward row: y_{a,k} - sum_j (-h)^j/j! y_{b,k+j} = 0 */
            realv eb = -(xa[k] - smnn_taylor(R1, k, pw, (real)-1, xb));
            if (!right) {
                for (int rp = k; rp < R1; rp++)
                    acc[v * R1 + rp] -= wk * pw[rp - k] * smnn_inv_fact(rp - k) * ef;
                acc[v * R1 + k] += wk * eb;
            } else {
                acc[v * R1 + k] += wk * ef;
                for (int rp = k; rp < R1; rp++) {
                    real f = ((rp - k) & 1) ? (real)-1 : (real)1;
                    acc[v * R1 + rp] -= wk * f * pw[rp - k] * smnn_inv_fact(rp - k) * eb;
                }
            }
        }
    }
}

/* The residual at time t of the systems of L into acc, from y_{t-1} (yp, with the step hp before
 * t), y_t (yc) and y_{t+1} (yn); pw is scratch for the powers of a step. */
inline void smnn_residual_at(const smnn_prob *P, global const real *c, global const real *d,
                             global const real *u, global const real *s, int homogeneous,
                             const smnn_lanes *L, int t, const realv *yp, const realv *yc,
                             const realv *yn, realv hp, realv *pw, realv *acc) {
    const int n = P->n, R1 = P->R1;
    for (int i = 0; i < n; i++) acc[i] = (realv)(0);
    /* Governing rows at t. */
    for (int q = 0; q < P->Q; q++) {
        realv e = homogeneous ? (realv)(0) : smnn_gather(d, P->db, L, (long)t * P->dt + q);
        for (int i = 0; i < n; i++) e -= smnn_coef(P, c, L, t, q, i) * yc[i];
        for (int i = 0; i < n; i++) acc[i] += P->wg2 * smnn_coef(P, c, L, t, q, i) * e;
    }
    /* Initial-value rows at t. */
    if (t < P->Tinit)
        for (int v = 0; v < P->V; v++)
            for (int k = 0; k < P->Rinit1; k++) {
                realv uk = homogeneous ? (realv)(0)
                                       : smnn_gather(u, P->ub, L,
                                                     (long)t * P->ut + v * P->Rinit1 + k);
                acc[v * R1 + k] += P->wi2 * (uk - yc[v * R1 + k]);
            }
    /* Taylor rows of (t, t+1), y_t on their left, and of (t-1, t), y_t on their right. */
    if (t < P->T - 1) {
        smnn_powers(smnn_steps(P, s, L, t), 2 * R1, pw);
        smnn_residual_interval(P, yc, yn, pw, acc, 0);
    }
    if (t > 0) {
        smnn_powers(hp, 2 * R1, pw);
        smnn_residual_interval(P, yp, yc, pw, acc, 1);
    }
}

#if VW == 1
/* One system per work-item program (GPUs, the local variant): one work-item per (system, time
 * point), B T of them: with one system per work-item this form has T times the parallelism.
 * (Walking time inside a work-item, as below, made the refinement diverge on Rusticl's
 * llvmpipe; most likely its loop limit (contract.h SMNN_INFO_LOOPS_CUT), which a walk over T
 * points reaches T times sooner and which the walk does not check; not re-measured.) */
kernel void smnn_residual(SMNN_PARAMS(SMNN_RESIDUAL_ARGS)) {
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const long gid = get_global_id(0);
    if (gid >= (long)batch * T) return;
    const int b = (int)(gid / T), t = (int)(gid % T);
    const smnn_lanes L = smnn_make_lanes(b, 0, batch);
    const int homogeneous = g != 0;
    global const real *Y = y + gid * n;
    realv yp[NMAX], yc[NMAX], yn[NMAX], acc[NMAX], pw[2 * NMAX];
    for (int i = 0; i < n; i++) {
        yc[i] = Y[i];
        yp[i] = t > 0 ? Y[i - n] : (realv)(0);
        yn[i] = t < T - 1 ? Y[i + n] : (realv)(0);
    }
    realv hp = t > 0 ? smnn_steps(&P, s, &L, t - 1) : (realv)(0);
    smnn_residual_at(&P, c, d, u, s, homogeneous, &L, t, yp, yc, yn, hp, pw, acc);
    for (int i = 0; i < n; i++) r[gid * n + i] = acc[i] + (homogeneous ? g[gid * n + i] : (real)0);
}
#else
/* Vector lanes (CPUs): one work-item per group of VW systems, walking its time points in order
 * with y_{t-1}, y_t, y_{t+1} in registers: each value of y is read once (measured at B = 1536,
 * T = 50, n = 3 in single precision: 9 ms per refinement step with one work-item per point,
 * 0.9 ms this way). */
kernel void smnn_residual(SMNN_PARAMS(SMNN_RESIDUAL_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= batch) return;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const smnn_lanes L = smnn_make_lanes(first, 0, batch);
    const int homogeneous = g != 0;
    const long per = (long)T * n; /* y, g and r: (B, T, n) */
    realv yp[NMAX], yc[NMAX], yn[NMAX], acc[NMAX], pw[2 * NMAX];
    realv hp = (realv)(0); /* the step before t */
    for (int i = 0; i < n; i++) {
        yc[i] = smnn_gather(y, per, &L, i);
        yp[i] = yn[i] = (realv)(0);
    }
    for (int t = 0; t < T; t++) {
        if (t < T - 1)
            for (int i = 0; i < n; i++) yn[i] = smnn_gather(y, per, &L, (long)(t + 1) * n + i);
        smnn_residual_at(&P, c, d, u, s, homogeneous, &L, t, yp, yc, yn, hp, pw, acc);
        for (int j = 0; j < L.count; j++) {
            long at = (long)(first + j) * per + (long)t * n;
            for (int i = 0; i < n; i++)
                r[at + i] = SMNN_LANE(acc[i], j) + (homogeneous ? g[at + i] : (real)0);
        }
        for (int i = 0; i < n; i++) {
            yp[i] = yc[i];
            yc[i] = yn[i];
        }
        hp = smnn_steps(&P, s, &L, t);
    }
}
#endif

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
    /* Loops cut short (contract.h SMNN_INFO_LOOPS_CUT): reported as not converged. */
    out[b] = smnn_loops_cut((int)per) ? (real)INFINITY : ym > (real)0 ? dm / ym : dm;
}
