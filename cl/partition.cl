/* partition.cl: the block Cholesky factorization and substitutions partitioned in time (parallel
 * in time), for batches too small to fill the device and for long horizons. The algebra is
 * docs/prototypes/time_partition.py's; the workspace layout is contract.h's "Parallel in time".
 *
 * P - 1 separator points cut each system's T points into P chunks. Ordering every chunk interior
 * before the separators, the interiors decouple: each (system, chunk) lane walks its interior
 * with the sequential walk of factor.cl (global M_t and N_t: the assembly is unchanged) and
 * carries the fill-in towards its left separator l = a - 1:
 *   G_a = N_{a-1},  F_t = L_t^-1 G_t,  S_l -= F_t^T F_t,  G_{t+1} = -K_t F_t,
 * and at its right separator r (one step past its last point b) the walk's own next pivot,
 * M_r - K_b K_b^T, and the coupling -K_b F_b between its two separators. The separators then form
 * a block tridiagonal SPD system of P - 1 points, factored and solved per system by the same walk
 * (smnn_factor_separators, smnn_solve_separators), after which every interior back-substitutes
 * on its own: y_t = L_t^-T (z_t - K_t^T y_{t+1} - F_t y_l).
 *
 * Kernels (the solver signature; private variant, block Cholesky, lanes of VW):
 *  - smnn_factor_chunks: one lane per (system, chunk); with SMNN_FLAG_WITH_RHS also the forward
 *    substitution of beta (z_t, and the separators' right-hand side terms).
 *  - smnn_forward_chunks: the forward substitution of a new right-hand side (frozen solve, the
 *    backward pass: beta from c, d, u or from rhs with SMNN_FLAG_FROM_RHS).
 *  - smnn_factor_separators: one lane per system: the reduced system's factorization, and the
 *    failure code of the system.
 *  - smnn_solve_separators: one lane per system: the reduced forward and back substitutions,
 *    y at the separators written to y.
 *  - smnn_back_chunks: one lane per (system, chunk): y at the interior points.
 * The host runs factor_chunks + factor_separators to factor, forward_chunks for a new
 * right-hand side, and solve_separators + back_chunks to substitute back (lib/solver/partition.c).
 *
 * Failure rule: a system fails when a pivot block of a chunk or of the reduced system is not
 * positive definite or a value is not finite; info[b] = t + 1 for the earliest such time point t
 * (the separators' points count as theirs), -(t + 1) when only a substitution's value is not
 * finite; its y is NaN. A failing chunk also spoils its left separator (through the Schur
 * terms it sends there); that separator is not reported unless its own rows are not finite
 * (smnn_sep_counts), so a bad value in the inputs is reported at its own time point, as the
 * sequential walk reports it. On an SPD system the partitioned walk meets no failure where the
 * sequential one meets none; on a system that is not SPD both fail, possibly at different
 * points. */

#if SMNN_TIME_LANES && SMNN_HAS_PRIVATE && SMNN_HAS_CHOLESKY

/* The partition of T points into P chunks (contract.h): m points per interior, the first rem
 * interiors one more, Tc the longest. */
typedef struct smnn_parts {
    int P, m, rem, Tc;
} smnn_parts;

SMNN_INLINE smnn_parts smnn_make_parts(int T, int P) {
    smnn_parts G;
    G.P = P;
    G.m = (T - P + 1) / P;
    G.rem = (T - P + 1) % P;
    G.Tc = G.m + (G.rem > 0);
    return G;
}
SMNN_INLINE int smnn_part_start(const smnn_parts *G, int p) {
    return p * (G->m + 1) + min(p, G->rem);
}
SMNN_INLINE int smnn_part_len(const smnn_parts *G, int p) {
    return G->m + (p < G->rem);
}
/* The right separator of chunk p (P - 1 .. : none, T). */
SMNN_INLINE int smnn_part_sep(const smnn_parts *G, int p) {
    return smnn_part_start(G, p) + smnn_part_len(G, p);
}

/* The lanes a batch chunk's workspace is laid out for, bcap systems (contract.h): bcap * P
 * (system, chunk) lanes and bcap systems, each rounded up to whole lane groups. */
SMNN_INLINE long smnn_lanes_cap(int bcap, int P) {
    return ((long)bcap * P + VW - 1) / VW * VW;
}
SMNN_INLINE long smnn_sep_cap(int bcap) {
    return ((long)bcap + VW - 1) / VW * VW;
}
/* Offsets in reals of the regions of a batch chunk's workspace. */
SMNN_INLINE long smnn_off_bnd(const smnn_parts *G, int bcap, int n) {
    return smnn_lanes_cap(bcap, G->P) * G->Tc * SMNN_PREC(n);
}
SMNN_INLINE long smnn_off_pinfo(const smnn_parts *G, int bcap, int n) {
    return smnn_off_bnd(G, bcap, n) + smnn_lanes_cap(bcap, G->P) * SMNN_BREC(n);
}
SMNN_INLINE long smnn_off_sep(const smnn_parts *G, int bcap, int n) {
    return smnn_off_pinfo(G, bcap, n) + smnn_lanes_cap(bcap, G->P);
}

/* A view of records of sz reals, Trec per lane, over lanes_cap lanes, for the work-item whose
 * first lane is `first` (the layouts of common.cl). */
SMNN_INLINE smnn_wsl smnn_lane_wsl(global real *region, long first, long lanes_cap, int Trec,
                                   long sz) {
    smnn_wsl W;
    W.sz = sz;
    W.T = Trec;
#if VW == 1
    W.gw = lanes_cap;
    W.base = region + first;
#else
    W.gw = VW;
    W.base = region + (first / VW) * (long)Trec * sz * VW;
#endif
    return W;
}
/* Element e of record t of lane q alone, in the same layout. */
SMNN_INLINE global real *smnn_lane_elem(global real *region, long q, long lanes_cap, int Trec,
                                        long sz, int t, long e) {
#if VW == 1
    return region + ((long)t * sz + e) * lanes_cap + q;
#else
    return region + (((q / VW) * Trec + t) * sz + e) * VW + q % VW;
#endif
}

/* The views of a work-item whose first lane is `first`: its chunk records, its boundary records
 * (chunk kernels) and its systems' separator records (separator kernels). */
SMNN_INLINE smnn_wsl smnn_chunk_wsl(global real *ws, const smnn_parts *G, int bcap, int n,
                                    int first) {
    return smnn_lane_wsl(ws, first, smnn_lanes_cap(bcap, G->P), G->Tc, SMNN_PREC(n));
}
SMNN_INLINE smnn_wsl smnn_bnd_wsl(global real *ws, const smnn_parts *G, int bcap, int n,
                                  int first) {
    return smnn_lane_wsl(ws + smnn_off_bnd(G, bcap, n), first, smnn_lanes_cap(bcap, G->P), 1,
                         SMNN_BREC(n));
}
SMNN_INLINE smnn_wsl smnn_sep_wsl(global real *ws, const smnn_parts *G, int bcap, int n,
                                  int first) {
    return smnn_lane_wsl(ws + smnn_off_sep(G, bcap, n), first, smnn_sep_cap(bcap), G->P - 1,
                         SMNN_REC(n));
}

/* The lanes of a chunk kernel's work-item: lane q = first + j of the batch chunk's
 * bcount * P lanes is chunk q % P of system q / P (clamped to the last lane). */
typedef struct smnn_chunk_lanes {
    int part[VW], start[VW], len[VW];
    realv lenv;  /* len per lane */
    realv leftv; /* 1 where the chunk has a left separator */
} smnn_chunk_lanes;

SMNN_INLINE smnn_lanes smnn_make_chunk_lanes(int first, long bofs, int bcount, const smnn_parts *G,
                                             smnn_chunk_lanes *C) {
    smnn_lanes L;
    const int lanes = bcount * G->P;
    L.first = first;
    L.count = min(VW, lanes - first);
    __private real *pl = (__private real *)&C->lenv, *pf = (__private real *)&C->leftv;
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) {
        int q = min(first + j, lanes - 1);
        L.b[j] = bofs + q / G->P;
        C->part[j] = q % G->P;
        C->start[j] = smnn_part_start(G, C->part[j]);
        C->len[j] = smnn_part_len(G, C->part[j]);
        L.tt[j] = C->start[j];
        pl[j] = (real)C->len[j];
        pf[j] = C->part[j] > 0 ? (real)1 : (real)0;
    }
    return L;
}

/* Every lane to its local point k: time start + min(k, len), at most T - 1 (k = len is the
 * chunk's right separator). */
SMNN_INLINE void smnn_lanes_at(smnn_lanes *L, const smnn_chunk_lanes *C, int k, int T) {
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) L->tt[j] = min(C->start[j] + min(k, C->len[j]), T - 1);
}

/* Stores v where m holds, keeping the old value elsewhere. */
SMNN_INLINE void smnn_store_where(global real *p, realv v, maskv m) {
    VSTORE(SMNN_SELECT(VLOAD(p), v, m), p);
}

/* The failure code of every real lane of a work-item (chunk kernels). */
SMNN_INLINE void smnn_lane_codes(global real *ws, const smnn_parts *G, int bcap, int n,
                                 const smnn_lanes *L, const int *finfo, int T) {
    global int *pinfo = (global int *)(ws + smnn_off_pinfo(G, bcap, n));
    const int cut = smnn_loops_cut(T);
    for (int j = 0; j < L->count; j++)
        pinfo[L->first + j] = cut ? SMNN_INFO_LOOPS_CUT : finfo[j];
}

/* Element e of the boundary record of chunk p of every system lane of L (separator kernels). */
SMNN_INLINE realv smnn_bnd_gather(global real *ws, const smnn_parts *G, int bcap, int n,
                                  const smnn_lanes *L, long bofs, int p, long e) {
    global real *bnd = ws + smnn_off_bnd(G, bcap, n);
    const long lanes_cap = smnn_lanes_cap(bcap, G->P);
    realv v;
    __private real *pv = (__private real *)&v;
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) {
        long q = (L->b[j] - bofs) * G->P + p;
        pv[j] = *smnn_lane_elem(bnd, q, lanes_cap, 1, SMNN_BREC(n), 0, e);
    }
    return v;
}

/* Whether the failure of separator i (first found in the reduced walk) is reported for lane j
 * of a separator kernel: when the chunk to its right did not fail (pinfo 0), or when the
 * separator's own terms from the chunk to its left (own, a mask per lane) are not finite. A
 * chunk that fails makes its left separator fail too, through its Schur terms; that chunk's
 * own, later point is the one to report (the sequential walk meets it first), and a
 * separator's own bad rows stay reported (an Inf step both at and after a separator). */
SMNN_INLINE int smnn_sep_counts(global const int *pinfo, int lane, int parts, int i, maskv own,
                                int j) {
    return SMNN_MASK_LANE(own, j) || pinfo[(long)lane * parts + i + 1] == 0;
}

kernel void smnn_factor_chunks(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount * parts) return;
    (void)rhs;
    (void)y;
    (void)info;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const int with_rhs = flags & SMNN_FLAG_WITH_RHS;
    const smnn_parts G = smnn_make_parts(T, parts);
    smnn_chunk_lanes C;
    smnn_lanes L = smnn_make_chunk_lanes(first, bofs, bcount, &G, &C);
    const smnn_wsl W = smnn_chunk_wsl(ws, &G, bcap, n, first);
    const smnn_wsl B = smnn_bnd_wsl(ws, &G, bcap, n, first);
    /* A: the pivot block, then L_t; K: K_{t-1}, then K_t; Fg: G_t, then F_t; Sl: the left
     * separator's Schur term (lower); gl: its right-hand side term. */
    realv A[NMAX * NMAX], K[NMAX * NMAX], Fg[NMAX * NMAX], Sl[NMAX * NMAX], z[NMAX], r[NMAX],
        gl[NMAX];
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        z[i] = gl[i] = (realv)(0);
        SMNN_UNROLL
        for (int j = 0; j < n; j++) K[i * NMAX + j] = Sl[i * NMAX + j] = (realv)(0);
    }
    int finfo[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    realv pstep = smnn_steps(&P, s, &L, -1); /* the step into the chunk's first point */
    for (int k = 0; k <= G.Tc; k++) {
        smnn_lanes_at(&L, &C, k, T);
        const maskv act = isgreater(C.lenv, (realv)(k)), cap = isequal(C.lenv, (realv)(k));
        /* Past its right separator a lane computes on repeated points, never kept. */
        const realv astep = smnn_steps(&P, s, &L, 0);
        smnn_fill_M(&P, c, &L, 0, astep, pstep, A);
        if (with_rhs) smnn_fill_rhs(&P, c, d, u, rhs, 0, &L, 0, r);
        if (k > 0) {
            smnn_walk_update(&P, A, K, r, z, n, with_rhs);
            /* Lanes at their right separator: its Schur term M_r - K_b K_b^T, right-hand side
             * beta_r - K_b z_b, and the coupling -K_b F_b (Fg holds G_{b+1}); every chunk is
             * m or m + 1 points long. */
            for (int i = 0; i < n && k >= G.m; i++) {
                for (int j = 0; j <= i; j++)
                    smnn_store_where(WSP(B, 0, SMNN_BOFF_SR(n) + SMNN_PIDX(i, j)),
                                     A[i * NMAX + j], cap);
                for (int j = 0; j < n; j++)
                    smnn_store_where(WSP(B, 0, SMNN_BOFF_SRL(n) + i * n + j), Fg[i * NMAX + j],
                                     cap);
                if (with_rhs) smnn_store_where(WSP(B, 0, SMNN_BOFF_GR(n) + i), r[i], cap);
            }
        }
        if (k == G.Tc) break;
        if (k == 0) {
            /* The fill-in at the chunk's first point: M[a, a - 1] = N_{a-1}. */
            realv ppow[2 * NMAX];
            smnn_powers(pstep, 2 * P.R1, ppow);

            SMNN_UNROLL
            for (int i = 0; i < n; i++)
                SMNN_UNROLL
                for (int j = 0; j < n; j++)
                    Fg[i * NMAX + j] = C.leftv * smnn_N_entry(&P, i, j, ppow);
        }
        maskv bad = smnn_cholesky(A, n);
        if (with_rhs) bad |= smnn_lsolve_private(A, r, z, n);
        /* F_t = L_t^-1 G_t, column by column. */
        SMNN_UNROLL
        for (int j = 0; j < n; j++)
            SMNN_UNROLL
            for (int i = 0; i < n; i++) {
                realv a = Fg[i * NMAX + j];
                SMNN_UNROLL
                for (int m = 0; m < i; m++) a -= A[i * NMAX + m] * Fg[m * NMAX + j];
                Fg[i * NMAX + j] = a / A[i * NMAX + i];
            }
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            SMNN_UNROLL
            for (int j = 0; j <= i; j++) {
                realv a = Sl[i * NMAX + j];
                SMNN_UNROLL
                for (int m = 0; m < n; m++) a -= Fg[m * NMAX + i] * Fg[m * NMAX + j];
                Sl[i * NMAX + j] = SMNN_SELECT(Sl[i * NMAX + j], a, act);
            }
            if (with_rhs) {
                realv a = gl[i];
                SMNN_UNROLL
                for (int m = 0; m < n; m++) a -= Fg[m * NMAX + i] * z[m];
                gl[i] = SMNN_SELECT(gl[i], a, act);
            }
        }
        SMNN_UNROLL
        for (int j = 0; j < VW; j++)
            if (SMNN_MASK_LANE(bad, j) && SMNN_MASK_LANE(act, j) && !finfo[j])
                finfo[j] = L.tt[j] + 1;
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            SMNN_UNROLL
            for (int j = 0; j <= i; j++) VSTORE(A[i * NMAX + j], WSP(W, k, SMNN_PIDX(i, j)));
            SMNN_UNROLL
            for (int j = 0; j < n; j++)
                VSTORE(Fg[i * NMAX + j], WSP(W, k, SMNN_OFF_F(n) + i * n + j));
            if (with_rhs) VSTORE(z[i], WSP(W, k, SMNN_OFF_Z(n) + i));
        }
        /* K_t = N_t L_t^-T, then the fill-in passed on, G_{t+1} = -K_t F_t (through A, free
         * once K_t is known). */
        realv apow[2 * NMAX];
        smnn_powers(astep, 2 * P.R1, apow);
        smnn_store_coupling(&P, apow, A, K, &W, k, n);
        SMNN_UNROLL
        for (int i = 0; i < n; i++)
            SMNN_UNROLL
            for (int j = 0; j < n; j++) {
                realv a = (realv)(0);
                SMNN_UNROLL
                for (int m = 0; m < n; m++) a -= K[i * NMAX + m] * Fg[m * NMAX + j];
                A[i * NMAX + j] = a;
            }
        SMNN_UNROLL
        for (int i = 0; i < n; i++)
            SMNN_UNROLL
            for (int j = 0; j < n; j++) Fg[i * NMAX + j] = A[i * NMAX + j];
        pstep = astep;
    }
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        SMNN_UNROLL
        for (int j = 0; j <= i; j++)
            VSTORE(Sl[i * NMAX + j], WSP(B, 0, SMNN_BOFF_SL(n) + SMNN_PIDX(i, j)));
        if (with_rhs) VSTORE(gl[i], WSP(B, 0, SMNN_BOFF_GL(n) + i));
    }
    smnn_lane_codes(ws, &G, bcap, n, &L, finfo, T);
}

kernel void smnn_forward_chunks(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount * parts) return;
    (void)s;
    (void)y;
    (void)info;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const smnn_parts G = smnn_make_parts(T, parts);
    smnn_chunk_lanes C;
    smnn_lanes L = smnn_make_chunk_lanes(first, bofs, bcount, &G, &C);
    const smnn_wsl W = smnn_chunk_wsl(ws, &G, bcap, n, first);
    const smnn_wsl B = smnn_bnd_wsl(ws, &G, bcap, n, first);
    realv A[NMAX * NMAX], z[NMAX], r[NMAX], gl[NMAX];
    SMNN_UNROLL
    for (int i = 0; i < n; i++) z[i] = gl[i] = (realv)(0);
    int finfo[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    for (int k = 0; k <= G.Tc; k++) {
        smnn_lanes_at(&L, &C, k, T);
        const maskv act = isgreater(C.lenv, (realv)(k)), cap = isequal(C.lenv, (realv)(k));
        smnn_fill_rhs(&P, c, d, u, rhs, flags & SMNN_FLAG_FROM_RHS, &L, 0, r);
        if (k > 0) {
            SMNN_UNROLL
            for (int i = 0; i < n; i++) r[i] = smnn_forward_rhs(&W, k, n, i, r[i], z);
            for (int i = 0; i < n && k >= G.m; i++)
                smnn_store_where(WSP(B, 0, SMNN_BOFF_GR(n) + i), r[i], cap);
        }
        if (k == G.Tc) break;
        smnn_load_L(&W, k, n, A);
        maskv bad = smnn_lsolve_private(A, r, z, n);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            realv a = gl[i];
            SMNN_UNROLL
            for (int m = 0; m < n; m++)
                a -= VLOAD(WSP(W, k, SMNN_OFF_F(n) + m * n + i)) * z[m];
            gl[i] = SMNN_SELECT(gl[i], a, act);
            VSTORE(z[i], WSP(W, k, SMNN_OFF_Z(n) + i));
        }
        SMNN_UNROLL
        for (int j = 0; j < VW; j++)
            if (SMNN_MASK_LANE(bad, j) && SMNN_MASK_LANE(act, j) && !finfo[j])
                finfo[j] = -(L.tt[j] + 1);
    }
    SMNN_UNROLL
    for (int i = 0; i < n; i++) VSTORE(gl[i], WSP(B, 0, SMNN_BOFF_GL(n) + i));
    smnn_lane_codes(ws, &G, bcap, n, &L, finfo, T);
}

kernel void smnn_factor_separators(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount) return;
    (void)c;
    (void)d;
    (void)u;
    (void)s;
    (void)rhs;
    (void)y;
    (void)flags;
    const int T = dims.s0, n = SMNN_N(init.s2);
    const smnn_parts G = smnn_make_parts(T, parts);
    const smnn_lanes L = smnn_make_lanes(first, bofs, bcount);
    const smnn_wsl S = smnn_sep_wsl(ws, &G, bcap, n, first);
    global const int *pinfo = (global const int *)(ws + smnn_off_pinfo(&G, bcap, n));
    realv A[NMAX * NMAX], K[NMAX * NMAX];
    int finfo[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    for (int i = 0; i < parts - 1; i++) {
        /* S_i: chunk i's M_r - K_b K_b^T plus chunk i + 1's -sum F^T F. */
        maskv own = (maskv)(0);
        SMNN_UNROLL
        for (int a = 0; a < n; a++)
            for (int b = 0; b <= a; b++) {
                long e = SMNN_PIDX(a, b);
                realv r = smnn_bnd_gather(ws, &G, bcap, n, &L, bofs, i, SMNN_BOFF_SR(n) + e);
                own |= SMNN_BAD(r);
                realv v =
                    r + smnn_bnd_gather(ws, &G, bcap, n, &L, bofs, i + 1, SMNN_BOFF_SL(n) + e);
                if (i > 0) v = smnn_rowdot_private(K, v, a, b, n);
                A[a * NMAX + b] = v;
            }
        maskv bad = smnn_cholesky(A, n);
        const int tsep = smnn_part_sep(&G, i);
        for (int j = 0; j < L.count; j++)
            if (SMNN_MASK_LANE(bad, j) && !finfo[j] &&
                smnn_sep_counts(pinfo, first + j, parts, i, own, j))
                finfo[j] = tsep + 1;
        SMNN_UNROLL
        for (int a = 0; a < n; a++)
            for (int b = 0; b <= a; b++) VSTORE(A[a * NMAX + b], WSP(S, i, SMNN_PIDX(a, b)));
        if (i == parts - 2) break;
        /* K_i = E_i L_i^-T, E_i the coupling of separators i + 1 and i (chunk i + 1's). */
        SMNN_UNROLL
        for (int a = 0; a < n; a++) {
            SMNN_UNROLL
            for (int b = 0; b < n; b++) {
                realv v = smnn_bnd_gather(ws, &G, bcap, n, &L, bofs, i + 1,
                                          SMNN_BOFF_SRL(n) + a * n + b);
                for (int m = 0; m < b; m++) v -= K[a * NMAX + m] * A[b * NMAX + m];
                K[a * NMAX + b] = v / A[b * NMAX + b];
            }
            SMNN_UNROLL
            for (int b = 0; b < n; b++)
                VSTORE(K[a * NMAX + b], WSP(S, i, SMNN_OFF_K(n) + a * n + b));
        }
    }
    /* The system's code: the earliest failure among its chunks and separators. */
    const int cut = smnn_loops_cut(T);
    for (int j = 0; j < L.count; j++) {
        int code = cut ? SMNN_INFO_LOOPS_CUT : finfo[j];
        for (int p = 0; p < parts; p++) {
            int cp = pinfo[(long)(first + j) * parts + p];
            if (cp == SMNN_INFO_LOOPS_CUT || code == SMNN_INFO_LOOPS_CUT)
                code = SMNN_INFO_LOOPS_CUT;
            else if (cp > 0 && (code == 0 || cp < code))
                code = cp;
        }
        info[bofs + first + j] = code;
    }
}

kernel void smnn_solve_separators(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
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
    const smnn_parts G = smnn_make_parts(T, parts);
    const smnn_lanes L = smnn_make_lanes(first, bofs, bcount);
    const smnn_wsl S = smnn_sep_wsl(ws, &G, bcap, n, first);
    global const int *pinfo = (global const int *)(ws + smnn_off_pinfo(&G, bcap, n));
    realv A[NMAX * NMAX], z[NMAX], r[NMAX];
    int finfo[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    for (int i = 0; i < parts - 1; i++) {
        maskv own = (maskv)(0);
        SMNN_UNROLL
        for (int a = 0; a < n; a++) {
            realv g = smnn_bnd_gather(ws, &G, bcap, n, &L, bofs, i, SMNN_BOFF_GR(n) + a);
            own |= SMNN_BAD(g);
            r[a] = g + smnn_bnd_gather(ws, &G, bcap, n, &L, bofs, i + 1, SMNN_BOFF_GL(n) + a);
        }
        if (i > 0)
            SMNN_UNROLL
            for (int a = 0; a < n; a++) r[a] = smnn_forward_rhs(&S, i, n, a, r[a], z);
        smnn_load_L(&S, i, n, A);
        maskv bad = smnn_lsolve_private(A, r, z, n);
        SMNN_UNROLL
        for (int a = 0; a < n; a++) VSTORE(z[a], WSP(S, i, SMNN_OFF_Z(n) + a));
        const int tsep = smnn_part_sep(&G, i);
        for (int j = 0; j < L.count; j++)
            if (SMNN_MASK_LANE(bad, j) && !finfo[j] &&
                smnn_sep_counts(pinfo, first + j, parts, i, own, j))
                finfo[j] = -(tsep + 1);
    }
    /* A failed factorization stays reported; otherwise the earliest failure of this
     * substitution (the chunks' codes come from the forward walk that preceded it). */
    int ok[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) ok[j] = 0;
    for (int j = 0; j < L.count; j++) {
        const long b = bofs + first + j;
        int code = info[b];
        if (code <= 0) {
            code = finfo[j];
            for (int p = 0; p < parts; p++) {
                int cp = pinfo[(long)(first + j) * parts + p];
                if (cp < 0 && (code == 0 || cp > code)) code = cp;
            }
            info[b] = code;
        }
        ok[j] = code == 0;
    }
    realv yn[NMAX], yc[NMAX];
    for (int i = parts - 2; i >= 0; i--) {
        smnn_back_step(&P, &S, i, n, yn, yc);
        SMNN_UNROLL
        for (int a = 0; a < n; a++) yn[a] = yc[a];
        const int tsep = smnn_part_sep(&G, i);
        for (int j = 0; j < L.count; j++) {
            global real *Y = y + (bofs + first + j) * (long)T * n + (long)tsep * n;
            SMNN_UNROLL
            for (int a = 0; a < n; a++) Y[a] = ok[j] ? SMNN_LANE(yc[a], j) : (real)NAN;
        }
    }
    if (smnn_loops_cut(T))
        for (int j = 0; j < L.count; j++) info[bofs + first + j] = SMNN_INFO_LOOPS_CUT;
}

kernel void smnn_back_chunks(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount * parts) return;
    (void)c;
    (void)d;
    (void)u;
    (void)s;
    (void)rhs;
    (void)flags;
    const int T = dims.s0, n = SMNN_N(init.s2);
    const smnn_parts G = smnn_make_parts(T, parts);
    smnn_chunk_lanes C;
    smnn_lanes L = smnn_make_chunk_lanes(first, bofs, bcount, &G, &C);
    const smnn_wsl W = smnn_chunk_wsl(ws, &G, bcap, n, first);
    /* y at the left separator (0 for the first chunk) and at the right one (0 past T - 1). */
    realv yl[NMAX], yn[NMAX], yc[NMAX], r[NMAX];
    int ok[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) ok[j] = j < L.count && info[L.b[j]] == 0;
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        __private real *pl = (__private real *)&yl[i], *pn = (__private real *)&yn[i];
        SMNN_UNROLL
        for (int j = 0; j < VW; j++) {
            global const real *Y = y + L.b[j] * (long)T * n;
            int left = C.start[j] - 1, right = C.start[j] + C.len[j];
            pl[j] = left >= 0 ? Y[(long)left * n + i] : (real)0;
            pn[j] = right < T ? Y[(long)right * n + i] : (real)0;
        }
    }
    for (int k = G.Tc - 1; k >= 0; k--) {
        const maskv act = isgreater(C.lenv, (realv)(k));
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            realv a = VLOAD(WSP(W, k, SMNN_OFF_Z(n) + i));
            SMNN_UNROLL
            for (int m = 0; m < n; m++) {
                a -= VLOAD(WSP(W, k, SMNN_OFF_K(n) + m * n + i)) * yn[m];
                a -= VLOAD(WSP(W, k, SMNN_OFF_F(n) + i * n + m)) * yl[m];
            }
            r[i] = a;
        }
        smnn_ltsolve(&W, k, n, r, yc);
        for (int j = 0; j < L.count; j++) {
            if (k >= C.len[j]) continue;
            global real *Y = y + L.b[j] * (long)T * n + (long)(C.start[j] + k) * n;
            SMNN_UNROLL
            for (int i = 0; i < n; i++) Y[i] = ok[j] ? SMNN_LANE(yc[i], j) : (real)NAN;
        }
        SMNN_UNROLL
        for (int i = 0; i < n; i++) yn[i] = SMNN_SELECT(yn[i], yc[i], act);
    }
    if (smnn_loops_cut(T))
        for (int j = 0; j < L.count; j++) info[L.b[j]] = SMNN_INFO_LOOPS_CUT;
}

#endif
