/* factor_qr.cl: the orthogonal factorization, sequential block QR in time (the square-root
 * information form: Paige and Saunders, SIAM J. Numer. Anal. 14(2), 1977), with the right-hand
 * side carried along. M = A^T W A is never formed, so the error grows with cond(A), not
 * cond(A)^2: single precision keeps its digits, and long finely stepped horizons in double too.
 *
 * The rows of the weighted problem (assemble.cl) touch y_t, or y_t and y_{t+1}. At each t the
 * kernel keeps an upper trapezoid over the 2n columns (y_t, y_{t+1}) plus the right-hand side:
 *
 *     [ R_t  S_t  | zeta_t ]     top n rows: kept (R_t upper triangular)
 *     [  0   Rb   | zb     ]     bottom n rows: carried to t+1 as its starting triangle
 *
 * It starts from the carried triangle [Rb_{t-1} | zb_{t-1}] in the top rows, folds in, one row at
 * a time by Givens rotations, the governing rows of t (w_gov C_t | w_gov d_t), the initial-value
 * rows of t (w_init e_i | w_init u_t), then the 2n Taylor smoothness rows of (t, t+1) (weight
 * w_smooth h^r, columns of both points, right-hand side 0). The rotations are chosen so that every
 * diagonal entry is >= 0.
 *
 * R_t^T R_t is the Cholesky pivot block of M, so the kernel writes the record of factor.cl:
 * L_t = R_t^T, K_t = S_t^T, z_t = zeta_t (contract.h). The substitutions, frozen solves, the
 * backward pass and the refinement then work on either factorization unchanged (for QR they are
 * the semi-normal equations R^T R x = b; the refinement makes them the corrected semi-normal
 * equations).
 *
 * Failure rule (as factor.cl, with its own meaning): a system fails at the first t where a
 * diagonal entry of R_t is not above SMNN_QR_RANK_TOL * eps times the norm of its column
 * (the norm of that column of A's rows at t, which the rotations preserve), or a value is not
 * finite: the system is rank deficient (numerically) and info[b] = t + 1. The host reports it as
 * SMNN_ERROR_RANK_DEFICIENT.
 *
 * Cost per time point, n = V * n_orders, Q governing rows: about 12 n^3 + 3 Q n^2 flops and
 * (2n + Q) n square roots, against about n^3 for the Cholesky step; private memory 3 n^2 + 5 n
 * values per lane. */

#if SMNN_DOUBLE
#define SMNN_EPS DBL_EPSILON
#else
#define SMNN_EPS FLT_EPSILON
#endif

/* The rotation that zeroes x against the pivot p: p becomes sqrt(p^2 + x^2) >= 0, and (c, s)
 * apply it to the rest of the two rows (c = 1, s = 0 where both are zero). */
SMNN_INLINE void smnn_givens(realv *p, realv x, realv *c, realv *s) {
    realv r = sqrt(*p * *p + x * x);
    maskv zero = isequal(r, (realv)(0));
    realv inv = (realv)(1) / SMNN_SELECT(r, (realv)(1), zero);
    *c = SMNN_SELECT(*p * inv, (realv)(1), zero);
    *s = SMNN_SELECT(x * inv, (realv)(0), zero);
    *p = r;
}

/* The rank test (both variants): the lanes whose diagonal entry d of R_t is not above
 * SMNN_QR_RANK_TOL * eps times its column's norm sqrt(norm2), or is not finite. (islessequal is
 * false for NaN: a NaN diagonal is caught by SMNN_BAD.) */
SMNN_INLINE maskv smnn_qr_pivot_bad(realv d, realv norm2) {
    const real tol = (real)SMNN_QR_RANK_TOL * (real)SMNN_EPS;
    return islessequal(d, tol * sqrt(norm2)) | SMNN_BAD(d) | SMNN_BAD(norm2);
}

/* Applies a rotation to entry a of a kept row and entry x of the incoming row. */
#define SMNN_ROTATE(a, x, c, s)                                                                    \
    do {                                                                                           \
        realv a_ = (a);                                                                            \
        (a) = (c) * a_ + (s) * (x);                                                                \
        (x) = (c) * (x) - (s) * a_;                                                                \
    } while (0)

#if SMNN_HAS_PRIVATE && SMNN_HAS_QR

/* Folds a row that touches y_t only (x over columns k0..n-1, right-hand side xr) into the top
 * rows: R (row stride NMAX) and zeta. x is overwritten. */
SMNN_INLINE void smnn_qr_fold_point(realv *R, realv *zeta, realv *x, realv xr, int k0, int n) {
    for (int k = k0; k < n; k++) {
        realv c, s;
        smnn_givens(&R[k * NMAX + k], x[k], &c, &s);
        for (int j = k + 1; j < n; j++) SMNN_ROTATE(R[k * NMAX + j], x[j], c, s);
        SMNN_ROTATE(zeta[k], xr, c, s);
    }
}

/* Folds a smoothness row (xa over the columns of y_t from k0 on, xb over those of y_{t+1},
 * right-hand side 0) into the top rows [R S | zeta], then what is left of it into the bottom
 * triangle [Rb | zb]. xa and xb are overwritten. */
SMNN_INLINE void smnn_qr_fold_interval(realv *R, realv *S, realv *zeta, realv *Rb, realv *zb,
                                       realv *xa, realv *xb, int k0, int n) {
    realv xr = (realv)(0);
    for (int k = k0; k < n; k++) {
        realv c, s;
        smnn_givens(&R[k * NMAX + k], xa[k], &c, &s);
        for (int j = k + 1; j < n; j++) SMNN_ROTATE(R[k * NMAX + j], xa[j], c, s);
        SMNN_UNROLL
        for (int j = 0; j < n; j++) SMNN_ROTATE(S[k * NMAX + j], xb[j], c, s);
        SMNN_ROTATE(zeta[k], xr, c, s);
    }
    SMNN_UNROLL
    for (int k = 0; k < n; k++) {
        realv c, s;
        smnn_givens(&Rb[k * NMAX + k], xb[k], &c, &s);
        for (int j = k + 1; j < n; j++) SMNN_ROTATE(Rb[k * NMAX + j], xb[j], c, s);
        SMNN_ROTATE(zb[k], xr, c, s);
    }
}

/* The lanes whose R (upper triangle, n x n) has a diagonal entry failing the rank test. */
SMNN_INLINE maskv smnn_qr_rank_deficient(const realv *R, int n) {
    maskv bad = (maskv)(0);
    SMNN_UNROLL
    for (int j = 0; j < n; j++) {
        realv norm2 = (realv)(0);
        SMNN_UNROLL
        for (int i = 0; i <= j; i++) norm2 += R[i * NMAX + j] * R[i * NMAX + j];
        bad |= smnn_qr_pivot_bad(R[j * NMAX + j], norm2);
    }
    return bad;
}

kernel void smnn_factor_qr_private(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount) return;
    (void)rhs;
    (void)y;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T, R1 = P.R1;
    const int with_rhs = flags & SMNN_FLAG_WITH_RHS;
    const smnn_lanes L = smnn_make_lanes(first, bofs, bcount);
    const smnn_wsl W = smnn_private_wsl(ws, &L, bcap, T, n);
    realv R[NMAX * NMAX], S[NMAX * NMAX], Rb[NMAX * NMAX], zeta[NMAX], zb[NMAX];
    realv xa[NMAX], xb[NMAX], pw[NMAX];
    int finfo[VW];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        zb[i] = (realv)(0);
        SMNN_UNROLL
        for (int j = 0; j < n; j++) Rb[i * NMAX + j] = (realv)(0);
    }
    for (int t = 0; t < T; t++) {
        /* Start from what the rows before t say about y_t. */
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            zeta[i] = zb[i];
            SMNN_UNROLL
            for (int j = i; j < n; j++) R[i * NMAX + j] = Rb[i * NMAX + j];
        }
        /* Governing rows of t. */
        SMNN_UNROLL
        for (int q = 0; q < P.Q; q++) {
            smnn_coef_row(&P, c, &L, t, q, xa);
            SMNN_UNROLL
            for (int i = 0; i < n; i++) xa[i] *= P.wg;
            realv xr = with_rhs ? P.wg * smnn_gather(d, P.db, &L, (long)t * P.dt + q) : (realv)(0);
            smnn_qr_fold_point(R, zeta, xa, xr, 0, n);
        }
        /* Initial-value rows of t. */
        if (t < P.Tinit) {
            for (int v = 0; v < P.V; v++) {
                for (int r = 0; r < P.Rinit1; r++) {
                    int i = v * R1 + r;
                    SMNN_UNROLL
                    for (int j = i; j < n; j++) xa[j] = (realv)(0);
                    xa[i] = (realv)(P.wi);
                    realv xr = with_rhs ? P.wi * smnn_gather(u, P.ub, &L,
                                                             (long)t * P.ut + v * P.Rinit1 + r)
                                        : (realv)(0);
                    smnn_qr_fold_point(R, zeta, xa, xr, i, n);
                }
            }
        }
        /* Smoothness rows of (t, t+1): two per variable and order. */
        if (t < T - 1) {
            realv h = smnn_steps(&P, s, &L, t);
            smnn_powers(h, R1, pw);
            SMNN_UNROLL
            for (int i = 0; i < n; i++) {
                zb[i] = (realv)(0);
                SMNN_UNROLL
                for (int j = 0; j < n; j++) {
                    S[i * NMAX + j] = (realv)(0);
                    Rb[i * NMAX + j] = (realv)(0);
                }
            }
            SMNN_UNROLL
            for (int v = 0; v < P.V; v++) {
                SMNN_UNROLL
                for (int r = 0; r < R1; r++) {
                    const int i = v * R1 + r;
                    for (int backward = 0; backward < 2; backward++) {
                        smnn_smooth_row(&P, i, backward, pw, xa, xb);
                        smnn_qr_fold_interval(R, S, zeta, Rb, zb, xa, xb, i, n);
                    }
                }
            }
        }
        maskv bad = smnn_qr_rank_deficient(R, n);
        if (with_rhs)
            SMNN_UNROLL
            for (int i = 0; i < n; i++) bad |= SMNN_BAD(zeta[i]);
        SMNN_UNROLL
        for (int j = 0; j < VW; j++)
            if (SMNN_MASK_LANE(bad, j) && !finfo[j]) finfo[j] = t + 1;
        /* The record of factor.cl: L_t = R_t^T (packed), K_t = S_t^T, z_t = zeta_t. */
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            SMNN_UNROLL
            for (int j = 0; j <= i; j++) VSTORE(R[j * NMAX + i], WSP(W, t, SMNN_PIDX(i, j)));
            if (with_rhs) VSTORE(zeta[i], WSP(W, t, SMNN_OFF_Z(n) + i));
        }
        if (t < T - 1)
            SMNN_UNROLL
            for (int i = 0; i < n; i++)
                SMNN_UNROLL
                for (int j = 0; j < n; j++)
                    VSTORE(S[j * NMAX + i], WSP(W, t, SMNN_OFF_K(n) + i * n + j));
    }
    const int cut = smnn_loops_cut(T);
    for (int j = 0; j < L.count; j++) info[bofs + first + j] = cut ? SMNN_INFO_LOOPS_CUT : finfo[j];
}
#endif

#if SMNN_HAS_LOCAL && SMNN_HAS_QR
/* The local variant: one work-group per system, the trapezoid kept in the workspace itself and
 * the rows folded in blocks of SMNN_QR_MB by Householder reflections.
 *
 * Column j of the trapezoid (j = 2n: the right-hand side) belongs to work-item j % WG for the
 * whole kernel: only it reads and writes that column's entries, so a block costs one barrier per
 * eliminated column (the reflector's owner publishes it in local memory). The entries live where
 * the record needs them: the top rows of time t in the record of t (R_t transposed as L_t, S_t
 * transposed as K_t, zeta_t as z_t), the bottom rows in the record of t+1, which is where the
 * next time point starts from. */

/* Entry (k, j) of the trapezoid of time t (k < n: top rows; k >= n: bottom rows, j >= n). */
SMNN_INLINE global real *smnn_qr_entry(const smnn_wsl *W, int t, int n, int k, int j) {
    if (k < n) {
        if (j < n) return WSP(*W, t, SMNN_PIDX(j, k));
        if (j < 2 * n) return WSP(*W, t, SMNN_OFF_K(n) + (j - n) * n + k);
        return WSP(*W, t, SMNN_OFF_Z(n) + k);
    }
    if (j < 2 * n) return WSP(*W, t + 1, SMNN_PIDX(j - n, k - n));
    return WSP(*W, t + 1, SMNN_OFF_Z(n) + k - n);
}

/* Row rho of time t into x[0..2n] (x[2n]: right-hand side): the governing rows, then the
 * initial-value rows (t < T_init), then the smoothness rows of (t, t+1) (pw: the powers of its
 * step), forward and backward for each variable and order, in the order of the private kernel. */
SMNN_INLINE void smnn_qr_row(const smnn_prob *P, global const real *c, global const real *d,
                             global const real *u, const smnn_lanes *L, int t, const real *pw,
                             int with_rhs, int rho, local real *x) {
    const int n = P->n, R1 = P->R1;
    SMNN_UNROLL
    for (int j = 0; j <= 2 * n; j++) x[j] = (real)0;
    if (rho < P->Q) {
        SMNN_UNROLL
        for (int i = 0; i < n; i++) x[i] = P->wg * smnn_coef(P, c, L, t, rho, i);
        if (with_rhs) x[2 * n] = P->wg * smnn_gather(d, P->db, L, (long)t * P->dt + rho);
        return;
    }
    rho -= P->Q;
    int ninit = t < P->Tinit ? P->V * P->Rinit1 : 0;
    if (rho < ninit) {
        int v = rho / P->Rinit1, r = rho % P->Rinit1;
        x[v * R1 + r] = P->wi;
        if (with_rhs)
            x[2 * n] = P->wi * smnn_gather(u, P->ub, L, (long)t * P->ut + v * P->Rinit1 + r);
        return;
    }
    rho -= ninit;
    real xa[NMAX], xb[NMAX];
    smnn_smooth_row(P, rho >> 1, rho & 1, pw, xa, xb);
    SMNN_UNROLL
    for (int j = 0; j < n; j++) {
        x[j] = xa[j];
        x[n + j] = xb[j];
    }
}

__attribute__((reqd_work_group_size(WG, 1, 1)))
kernel void smnn_factor_qr_local(SMNN_PARAMS(SMNN_SOLVER_ARGS)) {
    const int lb = (int)get_group_id(0);
    if (lb >= bcount) return; /* uniform across the work-group */
    (void)rhs;
    (void)y;
    (void)bcap;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T, lid = (int)get_local_id(0), RHS = 2 * n, XS = 2 * NMAX + 1;
    const int with_rhs = flags & SMNN_FLAG_WITH_RHS;
    const smnn_lanes L = smnn_make_lanes(lb, bofs, bcount);
    const smnn_wsl W = smnn_make_wsl(ws, lb, 0, 1, T, n);
    local real X[SMNN_QR_MB * (2 * NMAX + 1)]; /* with tau: SMNN_QR_LOCAL_REALS (contract.h) */
    local real tau[2 * NMAX + 1];
    local int fail;
    if (lid == 0) fail = 0;
    /* The triangle that time 0 starts from is empty. */
    for (int j = lid; j <= RHS; j += WG) {
        if (j < n)
            SMNN_UNROLL
            for (int k = 0; k <= j; k++) *smnn_qr_entry(&W, 0, n, k, j) = (real)0;
        else if (j == RHS)
            SMNN_UNROLL
            for (int k = 0; k < n; k++) *smnn_qr_entry(&W, 0, n, k, j) = (real)0;
    }
    for (int t = 0; t < T; t++) {
        const int interval = t < T - 1;
        real pw[NMAX]; /* powers of the step to t+1 */
        smnn_powers(smnn_steps(&P, s, &L, t), P.R1, pw);
        if (interval) {
            /* S_t and the bottom rows start empty (each column by its owner). */
            for (int j = lid; j <= RHS; j += WG) {
                if (j >= n && j < RHS)
                    SMNN_UNROLL
                    for (int k = 0; k <= j; k++) *smnn_qr_entry(&W, t, n, k, j) = (real)0;
                else if (j == RHS)
                    SMNN_UNROLL
                    for (int k = n; k < 2 * n; k++) *smnn_qr_entry(&W, t, n, k, j) = (real)0;
            }
        }
        const int npoint = P.Q + (t < P.Tinit ? P.V * P.Rinit1 : 0);
        const int nrows = npoint + (interval ? 2 * n : 0);
        for (int r0 = 0; r0 < nrows; r0 += SMNN_QR_MB) {
            const int mb = min(SMNN_QR_MB, nrows - r0);
            /* A block of rows of y_t only leaves the columns of y_{t+1} alone. */
            const int point = r0 + mb <= npoint, kend = point ? n : 2 * n;
            barrier(CLK_LOCAL_MEM_FENCE); /* the previous block is done with X */
            for (int i = lid; i < mb; i += WG)
                smnn_qr_row(&P, c, d, u, &L, t, pw, with_rhs, r0 + i, X + i * XS);
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int k = 0; k < kend; k++) {
                if (k % WG == lid) {
                    /* The reflector that maps (R_kk, X[:, k]) to (beta, 0) with beta >= 0:
                     * v = (1, X[:, k] / v0), tau = -v0 / beta (LAPACK's dlarfgp). */
                    global real *pk = smnn_qr_entry(&W, t, n, k, k);
                    real alpha = *pk, sigma = (real)0, tk = (real)0;
                    for (int i = 0; i < mb; i++) sigma += X[i * XS + k] * X[i * XS + k];
                    if (sigma > (real)0 || alpha < (real)0) {
                        real beta = sqrt(alpha * alpha + sigma);
                        real v0 = alpha > (real)0 ? -sigma / (alpha + beta) : alpha - beta;
                        tk = -v0 / beta;
                        for (int i = 0; i < mb; i++) X[i * XS + k] /= v0;
                        *pk = beta;
                    }
                    tau[k] = tk;
                }
                barrier(CLK_LOCAL_MEM_FENCE);
                const real tk = tau[k];
                if (tk == (real)0) continue; /* uniform: every work-item read the same tau */
                for (int j = lid; j <= RHS; j += WG) {
                    if (j <= k || (point && j >= n && j < RHS)) continue;
                    global real *pj = smnn_qr_entry(&W, t, n, k, j);
                    real w = *pj;
                    for (int i = 0; i < mb; i++) w += X[i * XS + k] * X[i * XS + j];
                    w *= tk;
                    *pj -= w;
                    for (int i = 0; i < mb; i++) X[i * XS + j] -= X[i * XS + k] * w;
                }
            }
        }
        /* The rank test of R_t (each column by its owner) and a finite zeta_t. */
        for (int j = lid; j <= RHS; j += WG) {
            if (j < n) {
                real norm2 = (real)0;
                SMNN_UNROLL
                for (int k = 0; k <= j; k++) {
                    real e = *smnn_qr_entry(&W, t, n, k, j);
                    norm2 += e * e;
                }
                if (smnn_qr_pivot_bad(*smnn_qr_entry(&W, t, n, j, j), norm2)) atomic_or(&fail, 1);
            } else if (j == RHS && with_rhs) {
                SMNN_UNROLL
                for (int k = 0; k < n; k++)
                    if (SMNN_BAD(*smnn_qr_entry(&W, t, n, k, j))) atomic_or(&fail, 1);
            }
        }
        /* Also: the next time point reads the bottom rows written by other work-items. */
        barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
        if (fail) {
            if (lid == 0) info[bofs + lb] = t + 1;
            smnn_mark_cut_local(info + bofs + lb, T);
            return; /* uniform: every work-item read fail after the barrier */
        }
    }
    if (lid == 0) info[bofs + lb] = 0;
    smnn_mark_cut_local(info + bofs + lb, T);
}
#endif
