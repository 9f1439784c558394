/* substitute.cl: substitutions with a stored factorization (paper Algorithm 4).
 *
 *  - smnn_forward_substitute_*: forward substitution for a new right-hand side (frozen left-hand
 *    side): beta_t is assembled from c, d, u (or, with SMNN_FLAG_FROM_RHS, read from rhs laid out
 *    (B, T, n): the gradient pass's dl/dy and the local variant's refinement residual; or, with
 *    SMNN_FLAG_RESIDUAL in the private variant, the refinement residual of y computed in the
 *    same walk, contract.h) and
 *    z_t = L_t^-1 (beta_t - K_{t-1} z_{t-1}) is stored. A system whose z becomes NaN/Inf gets
 *    info[b] = -(t + 1) for its first such point, unless its factorization failed (info > 0,
 *    kept).
 *  - smnn_back_substitute_*: back substitution y_{T-1} = L_{T-1}^-T z_{T-1},
 *    y_t = L_t^-T (z_t - K_t^T y_{t+1}), written to y (B, T, V, n_orders). A system with
 *    info[b] != 0 gets NaN in all its y.
 * Variants, widths and workspace layouts as in factor.cl and common.cl. */

#if SMNN_HAS_WALK
kernel void smnn_forward_substitute_private(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount) return;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const smnn_lanes L = smnn_make_lanes(first, bofs, bcount);
    const smnn_wsl W = smnn_private_wsl(ws, &L, bcap, T, n);
    realv A[NMAX * NMAX], z[NMAX], r[NMAX];
#if SMNN_COMPACT
    realv cz[NMAX]; /* K_{t-1} z_{t-1} (smnn_coupling_z) */
#endif
    /* The refinement's residual (SMNN_FLAG_RESIDUAL): y_{t-1}, y_t,
                                  y_{t+1} and the step before t. */
    const int residual = flags & SMNN_FLAG_RESIDUAL;
    realv yp[NMAX], yc[NMAX], yn[NMAX], pw[2 * NMAX], hp = (realv)(0);
    if (residual)
        SMNN_UNROLL
        for (int i = 0; i < n; i++) yc[i] = smnn_gather(y, (long)T * n, &L, i);
    int finfo[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    for (int t = 0; t < T; t++) {
        if (residual)
            smnn_residual_step(&P, c, d, u, s, rhs, y, &L, t, yp, yc, yn, &hp, pw, r);
        else
            smnn_fill_rhs(&P, c, d, u, rhs, flags & SMNN_FLAG_FROM_RHS, &L, t, r);
#if SMNN_COMPACT
        if (t > 0)
            SMNN_UNROLL
            for (int i = 0; i < n; i++) r[i] -= cz[i];
#else
        if (t > 0)
            SMNN_UNROLL
            for (int i = 0; i < n; i++) r[i] = smnn_forward_rhs(&W, t, n, i, r[i], z);
#endif
        smnn_load_L(&W, t, n, A);
        maskv bad = smnn_lsolve_private(A, r, z, n);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) VSTORE(z[i], WSP(W, t, SMNN_WOFF_Z(n) + i));
#if SMNN_COMPACT
        if (t < T - 1) {
            realv apow[2 * NMAX];
            smnn_powers(smnn_record_step(&W, t, n), 2 * P.R1, apow);
            smnn_coupling_z(&P, apow, A, z, cz, n);
        }
#endif
        SMNN_UNROLL
        for (int j = 0; j < VW; j++)
            if (SMNN_MASK_LANE(bad, j) && !finfo[j]) finfo[j] = -(t + 1);
    }
    const int cut = smnn_loops_cut(T);
    for (int j = 0; j < L.count; j++) {
        long b = bofs + first + j;
        if (cut) info[b] = SMNN_INFO_LOOPS_CUT;
        else if (info[b] <= 0) info[b] = finfo[j]; /* a failed factorization stays reported */
    }
#if SMNN_THEN_BACK
    if (flags & SMNN_FLAG_THEN_BACK) smnn_back_walk(&P, &W, &L, bofs, first, T, n, info, y);
#endif
}

kernel void smnn_back_substitute_private(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount) return;
    (void)c;
    (void)d;
    (void)u;
    (void)s;
    (void)rhs;
    (void)flags;
    const smnn_prob P = SMNN_PROBLEM();
    const int T = P.T, n = P.n;
    const smnn_lanes L = smnn_make_lanes(first, bofs, bcount);
    const smnn_wsl W = smnn_private_wsl(ws, &L, bcap, T, n);
    smnn_back_walk(&P, &W, &L, bofs, first, T, n, info, y);
}
#endif

#if SMNN_HAS_LOCAL
__attribute__((reqd_work_group_size(WG, 1, 1)))
kernel void smnn_forward_substitute_local(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int lb = (int)get_group_id(0);
    if (lb >= bcount) return;
    (void)s;
    (void)y;
    (void)bcap;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T, lid = (int)get_local_id(0);
    const long b = bofs + lb;
    const smnn_lanes L = smnn_make_lanes(lb, bofs, bcount);
    const smnn_wsl W = smnn_make_wsl(ws, lb, 0, 1, T, n);
    local real A[NMAX * NMAX]; /* with r, z and fail: SMNN_LOCAL_REALS (contract.h) */
    local real r[NMAX];
    local real z[NMAX];
    local int fail;
    if (lid == 0) fail = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int t = 0; t < T; t++) {
        for (int i = lid; i < n; i += WG) {
            real bi = smnn_rhs_entry(&P, c, d, u, rhs, flags & SMNN_FLAG_FROM_RHS, &L, t, i);
            if (t > 0) {
                real zp[NMAX];
                SMNN_UNROLL
                for (int k = 0; k < n; k++) zp[k] = z[k];
                bi = smnn_forward_rhs(&W, t, n, i, bi, zp);
            }
            SMNN_UNROLL
            for (int j = 0; j <= i; j++) A[i * NMAX + j] = *WSP(W, t, SMNN_PIDX(i, j));
            r[i] = bi;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0 && smnn_lsolve_local(A, r, z, n)) fail = 1;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int i = lid; i < n; i += WG) *WSP(W, t, SMNN_OFF_Z(n) + i) = z[i];
        if (fail) {
            if (lid == 0 && info[b] <= 0) info[b] = -(t + 1);
            smnn_mark_cut_local(info + b, T);
            return; /* uniform */
        }
    }
    if (lid == 0 && info[b] <= 0) info[b] = 0;
    smnn_mark_cut_local(info + b, T);
}

__attribute__((reqd_work_group_size(WG, 1, 1)))
kernel void smnn_back_substitute_local(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int lb = (int)get_group_id(0);
    if (lb >= bcount) return;
    (void)c;
    (void)d;
    (void)u;
    (void)s;
    (void)rhs;
    (void)flags;
    (void)bcap;
    const int T = dims.s0, n = SMNN_N(init.s2), lid = (int)get_local_id(0);
    const long b = bofs + lb;
    const smnn_wsl W = smnn_make_wsl(ws, lb, 0, 1, T, n);
    global real *Y = y + b * (long)T * n;
    if (info[b] != 0) {
        for (long e = lid; e < (long)T * n; e += WG) Y[e] = NAN;
        return;
    }
    local real wv[NMAX];
    local real yl[NMAX];
    for (int t = T - 1; t >= 0; t--) {
        for (int i = lid; i < n; i += WG) {
            real yn[NMAX];
            SMNN_UNROLL
            for (int k = 0; k < n; k++) yn[k] = yl[k];
            wv[i] = smnn_back_rhs(&W, t, n, i, yn);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0) {
            real rp[NMAX], yp[NMAX];
            SMNN_UNROLL
            for (int i = 0; i < n; i++) rp[i] = wv[i];
            smnn_ltsolve(&W, t, n, rp, yp);
            SMNN_UNROLL
            for (int i = 0; i < n; i++) yl[i] = yp[i];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int i = lid; i < n; i += WG) Y[(long)t * n + i] = yl[i];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    smnn_mark_cut_local(info + b, T);
}
#endif
