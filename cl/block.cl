/* block.cl: the dense n x n block operations of the block Cholesky factorization and of the
 * substitutions, on blocks stored with row stride NMAX (lower triangle used).
 *
 * OpenCL C 1.2 has no generic address space: a function is compiled for the address space of
 * its pointer arguments. The routines are therefore written once as macros over the address
 * space AS and instantiated for __private (the private variant, realv = one value per system of
 * the work-item) and, in programs holding the local variant (VW = 1, so realv = real), for
 * __local. The formulas exist once; only the pointer qualifiers differ. */

/* x / L_ii in the triangular solves. With the compact record (SMNN_COMPACT) the factorization
 * keeps 1 / L_ii on the diagonal of L_t (in registers and in the record) and the solves multiply:
 * no division is left in a substitution, and the coupling rows divide no more. */
#if SMNN_COMPACT
#define SMNN_DIV_DIAG(x, d) ((x) * (d))
#else
#define SMNN_DIV_DIAG(x, d) ((x) / (d))
#endif

/* The first column of row i of K_t = N_t L_t^-T that can be nonzero: the first of row i's
 * variable (N_t is block diagonal per variable, L_t^-T upper triangular). */
SMNN_INLINE int smnn_kstart(const smnn_prob *P, int i) {
    return i / P->R1 * P->R1;
}

#define SMNN_DEFINE_BLOCK_OPS(AS, SUF)                                                             \
    /* acc - sum_{k < len} A[i][k] A[j][k]: the update of one Cholesky entry. */                   \
    SMNN_INLINE realv smnn_rowdot_##SUF(AS const realv *A, realv acc, int i, int j, int len) {     \
        SMNN_UNROLL                                                                                \
        for (int k = 0; k < len; k++) acc -= A[i * NMAX + k] * A[j * NMAX + k];                    \
        return acc;                                                                                \
    }                                                                                              \
    /* x = L^-1 b (forward substitution with the lower triangle of A); returns the lanes whose     \
     * result is not finite. x and b may be the same array. */                                     \
    SMNN_INLINE maskv smnn_lsolve_##SUF(AS const realv *A, AS const realv *b, AS realv *x,         \
                                        int n) {                                                   \
        maskv bad = (maskv)(0);                                                                    \
        SMNN_UNROLL                                                                                \
        for (int i = 0; i < n; i++) {                                                              \
            realv r = b[i];                                                                        \
            SMNN_UNROLL                                                                            \
            for (int k = 0; k < i; k++) r -= A[i * NMAX + k] * x[k];                               \
            x[i] = SMNN_DIV_DIAG(r, A[i * NMAX + i]);                                              \
            bad |= SMNN_BAD(x[i]);                                                                 \
        }                                                                                          \
        return bad;                                                                                \
    }                                                                                              \
    /* Row i of K_t = N_t L_t^-T into krow: solves L_t krow^T = N_t[i, :]^T. N_t is block      \
     * diagonal per variable, so row i is 0 before its variable's first column v0                 \
     * (smnn_kstart): the solve starts there. */                                                   \
    SMNN_INLINE void smnn_coupling_row_##SUF(const smnn_prob *P, int i, const realv *apow,         \
                                             AS const realv *A, __private realv *krow) {           \
        const int v0 = smnn_kstart(P, i);                                                          \
        SMNN_UNROLL                                                                                \
        for (int j = 0; j < v0; j++) krow[j] = (realv)(0);                                         \
        SMNN_UNROLL                                                                                \
        for (int j = v0; j < P->n; j++) {                                                          \
            realv a = smnn_N_entry(P, i, j, apow);                                                 \
            SMNN_UNROLL                                                                            \
            for (int k = v0; k < j; k++) a -= krow[k] * A[j * NMAX + k];                           \
            krow[j] = SMNN_DIV_DIAG(a, A[j * NMAX + j]);                                           \
        }                                                                                          \
    }

SMNN_DEFINE_BLOCK_OPS(__private, private)
#if SMNN_HAS_LOCAL
SMNN_DEFINE_BLOCK_OPS(__local, local)
#endif

/* A -= K K^T (lower triangle) in 4 x 4 tiles of A, for blocks whose loops stay loops and whose
 * n is a multiple of 4: a tile's 16 sums stay in registers and each K entry is loaded once per
 * tile, 8 loads per 16 multiply-adds instead of 32. Every entry of A sees the same operations in
 * the same order as in smnn_walk_update's loop (a tile starts at its first row's smnn_kstart;
 * the entries of K before a row's own start are 0), so the result is bit-identical. The upper
 * half of a diagonal tile is computed from 0 and not stored. With SMNN_SMALL_TILES (a realv wider
 * than a vector register: 16 sums would spill) the tiles are 2 x 2 and n need only be even. */
#define SMNN_TILE_FMA(a, b) c##a##b -= x##a * y##b;
/* The tile's rows (x_a = K[i0 + a][k]) and columns (y_a = K[j0 + a][k]) at step k. */
#define SMNN_TILE_XY(a)                                                                            \
    const realv x##a = K[(i0 + a) * NMAX + k], y##a = K[(j0 + a) * NMAX + k];
#if SMNN_SMALL_TILES
#define SMNN_TS 2
#define SMNN_TILE SMNN_TILE2
#define SMNN_TILE_ROWS(F) F(0) F(1)
#else
#define SMNN_TS 4
#define SMNN_TILE SMNN_TILE4
#define SMNN_TILE_ROWS(F) F(0) F(1) F(2) F(3)
#endif
SMNN_INLINE void smnn_syrk_tiled(const smnn_prob *P, realv *A, const realv *K, int n) {
    for (int i0 = 0; i0 < n; i0 += SMNN_TS) {
        const int k0 = smnn_kstart(P, i0);
        for (int j0 = 0; j0 <= i0; j0 += SMNN_TS) {
            SMNN_TILE(SMNN_TILE_LOAD)
            for (int k = k0; k < n; k++) {
                SMNN_TILE_ROWS(SMNN_TILE_XY)
                SMNN_TILE(SMNN_TILE_FMA)
            }
            SMNN_TILE(SMNN_TILE_STORE)
        }
    }
}

/* The next pivot block and right-hand side of the walk over time: A -= K K^T (lower triangle)
 * and, with with_rhs, r -= K z (K = K_{t-1}, z = z_{t-1}; the private variant's step, sequential
 * or partitioned). */
SMNN_INLINE void smnn_walk_update(const smnn_prob *P, realv *A, const realv *K, realv *r,
                                  const realv *z, int n, int with_rhs) {
    /* K's rows are 0 before smnn_kstart, and row j <= i starts no later than row i. */
    int tiled = 0;
#if !SMNN_UNROLLED
    tiled = n % SMNN_TS == 0;
    if (tiled) smnn_syrk_tiled(P, A, K, n);
#endif
    if (!tiled) {
        SMNN_UNROLL
        for (int i = 0; i < n; i++)
            SMNN_UNROLL
            for (int j = 0; j <= i; j++) {
                realv acc = A[i * NMAX + j];
                SMNN_UNROLL
                for (int k = smnn_kstart(P, i); k < n; k++)
                    acc -= K[i * NMAX + k] * K[j * NMAX + k];
                A[i * NMAX + j] = acc;
            }
    }
    if (with_rhs)
        SMNN_UNROLL
        for (int i = 0; i < n; i++)
            SMNN_UNROLL
            for (int k = smnn_kstart(P, i); k < n; k++) r[i] -= K[i * NMAX + k] * z[k];
}

#if !SMNN_UNROLLED
/* Rows i0 .. i0+3 of K_t at once (smnn_coupling_row_private's solve for four rows of one
 * variable, which start at the same column v0): each L_t entry is loaded once for the four rows.
 * Each entry's operations are the same, in the same order: bit-identical. */
SMNN_INLINE void smnn_coupling_rows4(const smnn_prob *P, int i0, const realv *apow,
                                     const realv *A, realv *K) {
    const int v0 = smnn_kstart(P, i0), n = P->n;
    realv *K0 = K + i0 * NMAX, *K1 = K0 + NMAX, *K2 = K1 + NMAX, *K3 = K2 + NMAX;
    for (int j = 0; j < v0; j++) K0[j] = K1[j] = K2[j] = K3[j] = (realv)(0);
    for (int j = v0; j < n; j++) {
        realv a0 = smnn_N_entry(P, i0, j, apow), a1 = smnn_N_entry(P, i0 + 1, j, apow),
              a2 = smnn_N_entry(P, i0 + 2, j, apow), a3 = smnn_N_entry(P, i0 + 3, j, apow);
        for (int k = v0; k < j; k++) {
            const realv l = A[j * NMAX + k];
            a0 -= K0[k] * l;
            a1 -= K1[k] * l;
            a2 -= K2[k] * l;
            a3 -= K3[k] * l;
        }
        const realv d = A[j * NMAX + j];
        K0[j] = SMNN_DIV_DIAG(a0, d);
        K1[j] = SMNN_DIV_DIAG(a1, d);
        K2[j] = SMNN_DIV_DIAG(a2, d);
        K3[j] = SMNN_DIV_DIAG(a3, d);
    }
}
#endif

/* K_t = N_t L_t^-T from L_t (the lower triangle of A) and the powers apow of the step s_t,
 * into K (row stride NMAX) and into the workspace record t of W (the walk's coupling factor,
 * sequential or partitioned; not with the compact record). */
SMNN_INLINE void smnn_store_coupling(const smnn_prob *P, const realv *apow, const realv *A,
                                     realv *K, const smnn_wsl *W, int t, int n) {
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
#if !SMNN_UNROLLED
        /* Blocks whose loops stay loops: four rows at a time where they share their start. */
        if (i + 3 < n && smnn_kstart(P, i) == smnn_kstart(P, i + 3)) {
            smnn_coupling_rows4(P, i, apow, A, K);
            i += 3;
            continue;
        }
#endif
        smnn_coupling_row_private(P, i, apow, A, K + i * NMAX);
    }
#if SMNN_COMPACT
    (void)W;
    (void)t;
#else
    SMNN_UNROLL
    for (int i = 0; i < n; i++)
        SMNN_UNROLL
        for (int j = 0; j < n; j++)
            VSTORE(K[i * NMAX + j], WSP(*W, t, SMNN_OFF_K(n) + i * n + j));
#endif
}

/* y = L^-T r with L the lower triangle of A (row stride NMAX); rows solved from n-1 down. */
SMNN_INLINE void smnn_ltsolve_regs(const realv *A, const realv *r, realv *y, int n) {
    SMNN_UNROLL
    for (int i = n - 1; i >= 0; i--) {
        realv acc = r[i];
        SMNN_UNROLL
        for (int k = i + 1; k < n; k++) acc -= A[k * NMAX + i] * y[k];
        y[i] = SMNN_DIV_DIAG(acc, A[i * NMAX + i]);
    }
}

#if SMNN_COMPACT
/* out = N_t x (transpose 0) or N_t^T x (transpose 1), N_t from the powers apow of the step s_t:
 * block diagonal per variable (assemble.cl smnn_N_entry), so each row sums over its variable's
 * n_orders entries only. */
SMNN_INLINE void smnn_N_apply(const smnn_prob *P, const realv *apow, const realv *x, realv *out,
                              int n, int transpose) {
    const int R1 = P->R1;
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        const int v0 = smnn_kstart(P, i);
        realv a = (realv)(0);
        SMNN_UNROLL
        for (int k = 0; k < R1; k++) {
            const int j = v0 + k;
            a += (transpose ? smnn_N_entry(P, j, i, apow) : smnn_N_entry(P, i, j, apow)) * x[j];
        }
        out[i] = a;
    }
}

/* The compact record's coupling term of the forward walks: cz = K_t z_t = N_t (L_t^-T z_t), from
 * L_t (the lower triangle of A) and the powers apow of the step s_t; the next point's right-hand
 * side is beta_{t+1} - cz. The factorization (with its fused forward substitution) and the
 * forward substitution both call this with the same values, so a frozen solve repeats a solve's
 * z bit for bit. */
SMNN_INLINE void smnn_coupling_z(const smnn_prob *P, const realv *apow, const realv *A,
                                 const realv *z, realv *cz, int n) {
    realv w[NMAX];
    smnn_ltsolve_regs(A, z, w, n);
    smnn_N_apply(P, apow, w, cz, n, 0);
}

/* The step s_t kept in record t (0 at t = T-1). */
SMNN_INLINE realv smnn_record_step(const smnn_wsl *W, int t, int n) {
    return VLOAD(WSP(*W, t, SMNN_OFF_S_COMPACT(n)));
}
#endif

/* In-place Cholesky factorization of the lower triangle of A (n x n, all lanes at once); returns
 * the lanes whose pivot was not positive or not finite. The local variant spreads the same
 * column steps (smnn_rowdot_local) over its work-items. */
SMNN_INLINE maskv smnn_cholesky(realv *A, int n) {
    maskv bad = (maskv)(0);
    SMNN_UNROLL
    for (int j = 0; j < n; j++) {
        realv dj = smnn_rowdot_private(A, A[j * NMAX + j], j, j, j);
        bad |= SMNN_BAD_PIVOT(dj);
        realv ljj = sqrt(dj);
        realv inv = (realv)(1) / ljj;
        A[j * NMAX + j] = SMNN_COMPACT ? inv : ljj; /* SMNN_DIV_DIAG */
        int rest = j + 1; /* the first row left to the loop below */
#if !SMNN_UNROLLED
        /* Blocks whose loops stay loops: four rows of the column at a time, each entry of row j
         * loaded once for the four (the same operations per entry, in the same order). */
        for (; rest + 3 < n; rest += 4) {
            realv *R0 = A + rest * NMAX, *R1 = R0 + NMAX, *R2 = R1 + NMAX, *R3 = R2 + NMAX;
            realv a0 = R0[j], a1 = R1[j], a2 = R2[j], a3 = R3[j];
            for (int k = 0; k < j; k++) {
                const realv l = A[j * NMAX + k];
                a0 -= R0[k] * l;
                a1 -= R1[k] * l;
                a2 -= R2[k] * l;
                a3 -= R3[k] * l;
            }
            R0[j] = a0 * inv;
            R1[j] = a1 * inv;
            R2[j] = a2 * inv;
            R3[j] = a3 * inv;
        }
#endif
        SMNN_UNROLL
        for (int i = rest; i < n; i++)
            A[i * NMAX + j] = smnn_rowdot_private(A, A[i * NMAX + j], i, j, j) * inv;
    }
    return bad;
}

/* z_t[i] - sum_k K_t[k][i] y_{t+1}[k]: the right-hand side of row i of the back substitution at
 * t (the coupling term only for t < T-1), read from the workspace. */
SMNN_INLINE realv smnn_back_rhs(const smnn_wsl *W, int t, int n, int i, const realv *ynext) {
    realv r = VLOAD(WSP(*W, t, SMNN_OFF_Z(n) + i));
    if (t < W->T - 1)
        SMNN_UNROLL
        for (int k = 0; k < n; k++) r -= VLOAD(WSP(*W, t, SMNN_OFF_K(n) + k * n + i)) * ynext[k];
    return r;
}

/* beta_t[i] - sum_k K_{t-1}[i][k] z_{t-1}[k]: the right-hand side of row i of the forward
 * substitution at t > 0, with K_{t-1} read from the workspace. */
SMNN_INLINE realv smnn_forward_rhs(const smnn_wsl *W, int t, int n, int i, realv beta,
                                   const realv *zprev) {
    SMNN_UNROLL
    for (int k = 0; k < n; k++) beta -= VLOAD(WSP(*W, t - 1, SMNN_OFF_K(n) + i * n + k)) * zprev[k];
    return beta;
}

/* Row i of y_t = L_t^-T r: y[i] = (r[i] - sum_{k > i} L_t[k][i] y[k]) / L_t[i][i], with L_t from
 * the workspace; rows are solved from n-1 down. */
SMNN_INLINE void smnn_ltsolve(const smnn_wsl *W, int t, int n, const realv *r, realv *y) {
    SMNN_UNROLL
    for (int i = n - 1; i >= 0; i--) {
        realv acc = r[i];
        SMNN_UNROLL
        for (int k = i + 1; k < n; k++) acc -= VLOAD(WSP(*W, t, SMNN_PIDX(k, i))) * y[k];
        y[i] = SMNN_DIV_DIAG(acc, VLOAD(WSP(*W, t, SMNN_PIDX(i, i))));
    }
}

/* L_t from the workspace (packed) into the lower triangle of A (row stride NMAX). */
SMNN_INLINE void smnn_load_L(const smnn_wsl *W, int t, int n, realv *A) {
    SMNN_UNROLL
    for (int i = 0; i < n; i++)
        SMNN_UNROLL
        for (int j = 0; j <= i; j++) A[i * NMAX + j] = VLOAD(WSP(*W, t, SMNN_PIDX(i, j)));
}

/* One step of the back substitution, all rows: y_t = L_t^-T (z_t - K_t^T y_{t+1}) from the
 * workspace (ynext = y_{t+1}, unread at t = T-1). With the compact record (SMNN_COMPACT),
 * K_t^T y_{t+1} = L_t^-1 (N_t^T y_{t+1}), N_t rebuilt from the record's step. */
SMNN_INLINE void smnn_back_step(const smnn_prob *P, const smnn_wsl *W, int t, int n,
                                const realv *ynext, realv *y) {
#if SMNN_COMPACT
    realv A[NMAX * NMAX], r[NMAX];
    smnn_load_L(W, t, n, A);
    SMNN_UNROLL
    for (int i = 0; i < n; i++) r[i] = VLOAD(WSP(*W, t, SMNN_OFF_Z_COMPACT(n) + i));
    if (t < W->T - 1) {
        realv apow[2 * NMAX], v[NMAX];
        smnn_powers(smnn_record_step(W, t, n), 2 * P->R1, apow);
        smnn_N_apply(P, apow, ynext, v, n, 1);
        smnn_lsolve_private(A, v, v, n);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) r[i] -= v[i];
    }
    smnn_ltsolve_regs(A, r, y, n);
#else
    (void)P;
    realv r[NMAX];
    SMNN_UNROLL
    for (int i = 0; i < n; i++) r[i] = smnn_back_rhs(W, t, n, i, ynext);
    smnn_ltsolve(W, t, n, r, y);
#endif
}

#if SMNN_HAS_WALK
/* The sequential walk's back substitution for the lanes L (systems bofs + first ..): y_t for t =
 * T-1 .. 0 from the workspace, written to y (B, T, n); NaN in every y of a system whose info is
 * not 0; then, if the device cut the work-item's loops short, its systems' info marks it.
 * smnn_back_substitute_private, and the end of the factorization and of the forward
 * substitution with SMNN_FLAG_THEN_BACK (contract.h). */
SMNN_INLINE void smnn_back_walk(const smnn_prob *P, const smnn_wsl *W, const smnn_lanes *L,
                                long bofs, int first, int T, int n, global int *info,
                                global real *y) {
    realv yn[NMAX], yc[NMAX];
    maskv bad; /* all bits set in the lanes whose y is NaN */
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) {
        const int ok = j < L->count && info[bofs + first + j] == 0;
        ((__private SMNN_MASK_ELEM *)&bad)[j] = ok ? 0 : -1;
    }
    for (int t = T - 1; t >= 0; t--) {
        smnn_back_step(P, W, t, n, yn, yc);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            yn[i] = yc[i];
            yc[i] = SMNN_SELECT(yc[i], (realv)(NAN), bad);
        }
        smnn_scatter_row_at(y, (long)T * n, n, L, t, 0, n, T, yc);
    }
    if (smnn_loops_cut(T))
        for (int j = 0; j < L->count; j++) info[bofs + first + j] = SMNN_INFO_LOOPS_CUT;
}
#endif
