/* factor.cl: block Cholesky (LDL^T) factorization of M with the forward substitution fused in
 * (paper Algorithm 3 and the first half of Algorithm 4), one sequential time loop per system.
 *
 * At each time point t:  A_t = M_t - K_{t-1} K_{t-1}^T;  L_t = chol(A_t);
 *   z_t = L_t^-1 (beta_t - K_{t-1} z_{t-1});  K_t = N_t L_t^-T.
 * K_t is the sub-diagonal block of the block-bidiagonal Cholesky factor, i.e. P_t L_t of the
 * paper's M = P L L^T P^T. L_t (packed), K_t and z_t are stored in the workspace (common.cl) for
 * the back substitution and for later frozen solves. SMNN_FLAG_WITH_RHS off: factorization only.
 *
 * Failure rule (every variant and width): a system fails at the first time point t whose pivot
 * block is not positive definite or where a value of the factorization or of z_t is not finite;
 * info[b] = t + 1 records that first point, and the back substitution then writes NaN to the
 * whole of the system's y. The other systems are unaffected. (A failed lane of a vector keeps
 * computing, on NaN, in lockstep with its neighbours; the local variant stops its work-group.)
 * info[b] = 0 marks success.
 *
 * Two variants:
 *  - smnn_factor_private: VW systems per work-item (VW = 1 on GPUs), blocks in private arrays.
 *  - smnn_factor_local: one work-group of WG work-items per system, the pivot block in local
 *    memory, the rows of each block operation spread over the work-items (blocks of 9 to 64 on
 *    GPUs). It reads K_{t-1} back from the workspace, since a second n x n block does not fit in
 *    local memory next to A_t; that update loop is its own. */

#if SMNN_HAS_WALK && SMNN_HAS_CHOLESKY
kernel void smnn_factor_private(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount) return;
    (void)rhs;
    (void)y; /* read with SMNN_THEN_BACK only */
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const int with_rhs = flags & SMNN_FLAG_WITH_RHS;
    const smnn_lanes L = smnn_make_lanes(first, bofs, bcount);
    const smnn_wsl W = smnn_private_wsl(ws, &L, bcap, T, n);
    realv A[NMAX * NMAX], K[NMAX * NMAX], z[NMAX], r[NMAX];
#if SMNN_COMPACT
    realv cz[NMAX]; /* K_{t-1} z_{t-1}, carried from the previous point (smnn_coupling_z) */
    const int rhs_update = 0;
#else
    const int rhs_update = with_rhs;
#endif
    int finfo[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    realv pstep = (realv)(0);
    for (int t = 0; t < T; t++) {
        realv astep = smnn_steps(&P, s, &L, t);
        smnn_fill_M(&P, c, &L, t, astep, pstep, A);
        if (with_rhs) smnn_fill_rhs(&P, c, d, u, rhs, 0, &L, t, r);
        if (t > 0) smnn_walk_update(&P, A, K, r, z, n, rhs_update);
#if SMNN_COMPACT
        if (t > 0 && with_rhs)
            SMNN_UNROLL
            for (int i = 0; i < n; i++) r[i] -= cz[i];
#endif
        maskv bad = smnn_cholesky(A, n);
        if (with_rhs) bad |= smnn_lsolve_private(A, r, z, n);
        SMNN_UNROLL
        for (int j = 0; j < VW; j++)
            if (SMNN_MASK_LANE(bad, j) && !finfo[j]) finfo[j] = t + 1;
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            SMNN_UNROLL
            for (int j = 0; j <= i; j++) VSTORE(A[i * NMAX + j], WSP(W, t, SMNN_PIDX(i, j)));
            if (with_rhs) VSTORE(z[i], WSP(W, t, SMNN_WOFF_Z(n) + i));
        }
#if SMNN_COMPACT
        VSTORE(astep, WSP(W, t, SMNN_OFF_S_COMPACT(n))); /* 0 at t = T-1 (smnn_steps) */
#endif
        if (t < T - 1) {
            realv apow[2 * NMAX];
            smnn_powers(astep, 2 * P.R1, apow);
            smnn_store_coupling(&P, apow, A, K, &W, t, n);
#if SMNN_COMPACT
            if (with_rhs) smnn_coupling_z(&P, apow, A, z, cz, n);
#endif
        }
        pstep = astep;
    }
    const int cut = smnn_loops_cut(T);
    for (int j = 0; j < L.count; j++) info[bofs + first + j] = cut ? SMNN_INFO_LOOPS_CUT : finfo[j];
#if SMNN_THEN_BACK
    if (flags & SMNN_FLAG_THEN_BACK) smnn_back_walk(&P, &W, &L, bofs, first, T, n, info, y);
#endif
}
#endif

#if SMNN_HAS_LOCAL && SMNN_HAS_CHOLESKY
__attribute__((reqd_work_group_size(WG, 1, 1)))
kernel void smnn_factor_local(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int lb = (int)get_group_id(0);
    if (lb >= bcount) return; /* uniform across the work-group */
    (void)rhs;
    (void)y;
    (void)bcap;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T, lid = (int)get_local_id(0);
    const int with_rhs = flags & SMNN_FLAG_WITH_RHS;
    const smnn_lanes L = smnn_make_lanes(lb, bofs, bcount);
    const smnn_wsl W = smnn_make_wsl(ws, lb, 0, 1, T, n);
    local real A[NMAX * NMAX]; /* with r, z and fail: SMNN_LOCAL_REALS (contract.h) */
    local real r[NMAX];
    local real z[NMAX];
    local int fail;
    if (lid == 0) fail = 0;
    real pstep = (real)0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int t = 0; t < T; t++) {
        real astep = smnn_steps(&P, s, &L, t);
        real apow[2 * NMAX], ppow[2 * NMAX];
        smnn_powers(astep, 2 * P.R1, apow);
        smnn_powers(pstep, 2 * P.R1, ppow);
        global const real *Kp = WSP(W, t - 1, SMNN_OFF_K(n)); /* K_{t-1}, read for t > 0 */
        const smnn_edges E = smnn_edges_at(&P, &L, t);
        for (int e = lid; e < n * n; e += WG) {
            int i = e / n, j = e % n;
            if (j > i) continue;
            real a = smnn_smooth_entry(&P, &E, i, j, apow, ppow);
            SMNN_UNROLL
            for (int q = 0; q < P.Q; q++)
                a = smnn_gov_add(&P, a, smnn_coef(&P, c, &L, t, q, i), smnn_coef(&P, c, &L, t, q,
                                 j));
            if (t > 0)
                SMNN_UNROLL
                for (int k = 0; k < n; k++) a -= Kp[i * n + k] * Kp[j * n + k];
            A[i * NMAX + j] = a;
        }
        for (int i = lid; i < n && with_rhs; i += WG) {
            real b = smnn_beta_entry(&P, c, d, u, &L, t, i);
            if (t > 0) {
                real zp[NMAX];
                SMNN_UNROLL
                for (int k = 0; k < n; k++) zp[k] = *WSP(W, t - 1, SMNN_OFF_Z(n) + k);
                b = smnn_forward_rhs(&W, t, n, i, b, zp);
            }
            r[i] = b;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        /* Left-looking Cholesky, one column at a time: the pivot by work-item 0, the column below
         * it in parallel. */
        SMNN_UNROLL
        for (int j = 0; j < n; j++) {
            if (lid == 0) {
                real dj = smnn_rowdot_local(A, A[j * NMAX + j], j, j, j);
                if (SMNN_BAD_PIVOT(dj)) {
                    fail = 1;
                    dj = (real)1; /* keep going without NaN; the system is reported below */
                }
                A[j * NMAX + j] = sqrt(dj);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            real inv = (real)1 / A[j * NMAX + j];
            for (int i = j + 1 + lid; i < n; i += WG)
                A[i * NMAX + j] = smnn_rowdot_local(A, A[i * NMAX + j], i, j, j) * inv;
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (lid == 0 && !fail && with_rhs && smnn_lsolve_local(A, r, z, n)) fail = 1;
        barrier(CLK_LOCAL_MEM_FENCE);
        if (fail) {
            if (lid == 0) info[bofs + lb] = t + 1;
            smnn_mark_cut_local(info + bofs + lb, T);
            return; /* uniform: every work-item read fail after the barrier */
        }
        for (int i = lid; i < n; i += WG) {
            SMNN_UNROLL
            for (int j = 0; j <= i; j++) *WSP(W, t, SMNN_PIDX(i, j)) = A[i * NMAX + j];
            if (with_rhs) *WSP(W, t, SMNN_OFF_Z(n) + i) = z[i];
        }
        if (t < T - 1) {
            for (int i = lid; i < n; i += WG) {
                real krow[NMAX];
                smnn_coupling_row_local(&P, i, apow, A, krow);
                SMNN_UNROLL
                for (int j = 0; j < n; j++) *WSP(W, t, SMNN_OFF_K(n) + i * n + j) = krow[j];
            }
        }
        pstep = astep;
        /* The next step reads K_t and z_t from global memory, written by other work-items. */
        barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    }
    if (lid == 0) info[bofs + lb] = 0;
    smnn_mark_cut_local(info + bofs + lb, T);
}
#endif
