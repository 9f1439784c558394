/* assemble.cl: the rows of the weighted least-squares problem and the blocks they sum to (paper
 * Appendix A.1 and A.2, Eqs. 25-28), written once and used by every kernel: the factorization
 * (both variants, every vector width), the substitutions, the refinement residual and the
 * gradient. No kernel stores M; each computes the entries it needs from the inputs.
 *
 * Index i of a block is v * n_orders + r (variable v, derivative order r). The smoothness rows of
 * the interval (t, t+1) with step h, for each variable and order r, are the Taylor rows
 *   forward:  y_{t+1,r} - sum_{r' >= r} h^(r'-r)/(r'-r)!  y_{t,r'}    = 0
 *   backward: y_{t,r}   - sum_{r' >= r} (-h)^(r'-r)/(r'-r)! y_{t+1,r'} = 0
 * weighted by w_smooth^2 h^(2r). Summed into M they give, within one variable, with a = s_t (the
 * step to the next point) and p = s_{t-1} (from the previous point):
 *   M_t[r][r'] += G[r][r'] (a^(r+r') [t < T-1] + (-1)^(r+r') p^(r+r') [t > 0])
 *                 + delta(r,r') (a^2r [t < T-1] + p^2r [t > 0])
 * with G = F^T F, G[r][r'] = sum_k 1/((r-k)! (r'-k)!), and the coupling block N_t (rows: point
 * t+1, columns: point t) is -w_smooth^2 a^(r+r') (F[r][r'] + (-1)^(r+r') F[r'][r]) with
 * F[r][r'] = 1/(r'-r)! for r' >= r, else 0. The governing rows add w_gov^2 C_t^T C_t to M_t and
 * w_gov^2 C_t^T d_t to beta_t; the initial-value rows add w_init^2 on the diagonal and
 * w_init^2 u_t to beta_t for t < T_init and orders r < n_init_orders. */

/* 1 / k! for k < SMNN_INV_FACT_LEN (every caller's k is an order difference, below n_orders <=
 * 64), as a table folded at compile time: k! is the product 2 * 3 * ... * k in real, in that
 * order, and one division, the operations the loop that computed it at run time did, so the
 * values are the same bit for bit (double: IEEE; float: where the device divides correctly
 * rounded). Loops that stay loops (blocks above 9) paid two divisions per coupling entry and
 * per Gram term at every time point (bench/RESULTS.md, optimisation log entry 23). */
#define SMNN_INV_FACT_LEN 64
#define SMNN_FACT_0 ((real)1)
#define SMNN_FACT_1 ((real)1)
#define SMNN_FACT_2 (SMNN_FACT_1 * (real)2)
#define SMNN_FACT_3 (SMNN_FACT_2 * (real)3)
#define SMNN_FACT_4 (SMNN_FACT_3 * (real)4)
#define SMNN_FACT_5 (SMNN_FACT_4 * (real)5)
#define SMNN_FACT_6 (SMNN_FACT_5 * (real)6)
#define SMNN_FACT_7 (SMNN_FACT_6 * (real)7)
#define SMNN_FACT_8 (SMNN_FACT_7 * (real)8)
#define SMNN_FACT_9 (SMNN_FACT_8 * (real)9)
#define SMNN_FACT_10 (SMNN_FACT_9 * (real)10)
#define SMNN_FACT_11 (SMNN_FACT_10 * (real)11)
#define SMNN_FACT_12 (SMNN_FACT_11 * (real)12)
#define SMNN_FACT_13 (SMNN_FACT_12 * (real)13)
#define SMNN_FACT_14 (SMNN_FACT_13 * (real)14)
#define SMNN_FACT_15 (SMNN_FACT_14 * (real)15)
#define SMNN_FACT_16 (SMNN_FACT_15 * (real)16)
#define SMNN_FACT_17 (SMNN_FACT_16 * (real)17)
#define SMNN_FACT_18 (SMNN_FACT_17 * (real)18)
#define SMNN_FACT_19 (SMNN_FACT_18 * (real)19)
#define SMNN_FACT_20 (SMNN_FACT_19 * (real)20)
#define SMNN_FACT_21 (SMNN_FACT_20 * (real)21)
#define SMNN_FACT_22 (SMNN_FACT_21 * (real)22)
#define SMNN_FACT_23 (SMNN_FACT_22 * (real)23)
#define SMNN_FACT_24 (SMNN_FACT_23 * (real)24)
#define SMNN_FACT_25 (SMNN_FACT_24 * (real)25)
#define SMNN_FACT_26 (SMNN_FACT_25 * (real)26)
#define SMNN_FACT_27 (SMNN_FACT_26 * (real)27)
#define SMNN_FACT_28 (SMNN_FACT_27 * (real)28)
#define SMNN_FACT_29 (SMNN_FACT_28 * (real)29)
#define SMNN_FACT_30 (SMNN_FACT_29 * (real)30)
#define SMNN_FACT_31 (SMNN_FACT_30 * (real)31)
#define SMNN_FACT_32 (SMNN_FACT_31 * (real)32)
#define SMNN_FACT_33 (SMNN_FACT_32 * (real)33)
#define SMNN_FACT_34 (SMNN_FACT_33 * (real)34)
#define SMNN_FACT_35 (SMNN_FACT_34 * (real)35)
#define SMNN_FACT_36 (SMNN_FACT_35 * (real)36)
#define SMNN_FACT_37 (SMNN_FACT_36 * (real)37)
#define SMNN_FACT_38 (SMNN_FACT_37 * (real)38)
#define SMNN_FACT_39 (SMNN_FACT_38 * (real)39)
#define SMNN_FACT_40 (SMNN_FACT_39 * (real)40)
#define SMNN_FACT_41 (SMNN_FACT_40 * (real)41)
#define SMNN_FACT_42 (SMNN_FACT_41 * (real)42)
#define SMNN_FACT_43 (SMNN_FACT_42 * (real)43)
#define SMNN_FACT_44 (SMNN_FACT_43 * (real)44)
#define SMNN_FACT_45 (SMNN_FACT_44 * (real)45)
#define SMNN_FACT_46 (SMNN_FACT_45 * (real)46)
#define SMNN_FACT_47 (SMNN_FACT_46 * (real)47)
#define SMNN_FACT_48 (SMNN_FACT_47 * (real)48)
#define SMNN_FACT_49 (SMNN_FACT_48 * (real)49)
#define SMNN_FACT_50 (SMNN_FACT_49 * (real)50)
#define SMNN_FACT_51 (SMNN_FACT_50 * (real)51)
#define SMNN_FACT_52 (SMNN_FACT_51 * (real)52)
#define SMNN_FACT_53 (SMNN_FACT_52 * (real)53)
#define SMNN_FACT_54 (SMNN_FACT_53 * (real)54)
#define SMNN_FACT_55 (SMNN_FACT_54 * (real)55)
#define SMNN_FACT_56 (SMNN_FACT_55 * (real)56)
#define SMNN_FACT_57 (SMNN_FACT_56 * (real)57)
#define SMNN_FACT_58 (SMNN_FACT_57 * (real)58)
#define SMNN_FACT_59 (SMNN_FACT_58 * (real)59)
#define SMNN_FACT_60 (SMNN_FACT_59 * (real)60)
#define SMNN_FACT_61 (SMNN_FACT_60 * (real)61)
#define SMNN_FACT_62 (SMNN_FACT_61 * (real)62)
#define SMNN_FACT_63 (SMNN_FACT_62 * (real)63)
constant real smnn_inv_fact_table[SMNN_INV_FACT_LEN] = {
    (real)1 / SMNN_FACT_0, (real)1 / SMNN_FACT_1, (real)1 / SMNN_FACT_2, (real)1 / SMNN_FACT_3,
    (real)1 / SMNN_FACT_4, (real)1 / SMNN_FACT_5, (real)1 / SMNN_FACT_6, (real)1 / SMNN_FACT_7,
    (real)1 / SMNN_FACT_8, (real)1 / SMNN_FACT_9, (real)1 / SMNN_FACT_10, (real)1 /
    SMNN_FACT_11, (real)1 / SMNN_FACT_12, (real)1 / SMNN_FACT_13, (real)1 / SMNN_FACT_14,
    (real)1 / SMNN_FACT_15, (real)1 / SMNN_FACT_16, (real)1 / SMNN_FACT_17, (real)1 /
    SMNN_FACT_18, (real)1 / SMNN_FACT_19, (real)1 / SMNN_FACT_20, (real)1 / SMNN_FACT_21,
    (real)1 / SMNN_FACT_22, (real)1 / SMNN_FACT_23, (real)1 / SMNN_FACT_24, (real)1 /
    SMNN_FACT_25, (real)1 / SMNN_FACT_26, (real)1 / SMNN_FACT_27, (real)1 / SMNN_FACT_28,
    (real)1 / SMNN_FACT_29, (real)1 / SMNN_FACT_30, (real)1 / SMNN_FACT_31, (real)1 /
    SMNN_FACT_32, (real)1 / SMNN_FACT_33, (real)1 / SMNN_FACT_34, (real)1 / SMNN_FACT_35,
    (real)1 / SMNN_FACT_36, (real)1 / SMNN_FACT_37, (real)1 / SMNN_FACT_38, (real)1 /
    SMNN_FACT_39, (real)1 / SMNN_FACT_40, (real)1 / SMNN_FACT_41, (real)1 / SMNN_FACT_42,
    (real)1 / SMNN_FACT_43, (real)1 / SMNN_FACT_44, (real)1 / SMNN_FACT_45, (real)1 /
    SMNN_FACT_46, (real)1 / SMNN_FACT_47, (real)1 / SMNN_FACT_48, (real)1 / SMNN_FACT_49,
    (real)1 / SMNN_FACT_50, (real)1 / SMNN_FACT_51, (real)1 / SMNN_FACT_52, (real)1 /
    SMNN_FACT_53, (real)1 / SMNN_FACT_54, (real)1 / SMNN_FACT_55, (real)1 / SMNN_FACT_56,
    (real)1 / SMNN_FACT_57, (real)1 / SMNN_FACT_58, (real)1 / SMNN_FACT_59, (real)1 /
    SMNN_FACT_60, (real)1 / SMNN_FACT_61, (real)1 / SMNN_FACT_62, (real)1 / SMNN_FACT_63};
SMNN_INLINE real smnn_inv_fact(int k) {
    return smnn_inv_fact_table[k];
}

SMNN_INLINE real smnn_ipow(real x, int k) {
    real p = (real)1;
    SMNN_UNROLL
    for (int i = 0; i < k; i++) p *= x;
    return p;
}

/* h^j / j!: the Taylor coefficient of the smoothness rows. */
SMNN_INLINE real smnn_taylor_coef(real h, int j) {
    return smnn_ipow(h, j) * smnn_inv_fact(j);
}

/* sum_{r' >= r} (sign h)^(r'-r)/(r'-r)! x[r'] for one variable (x at its orders), from the
 * powers pw[k] = h^k (sign = 1 or -1): the Taylor prediction of order r from a neighbouring
 * point, i.e. minus the off-point part of a row (the refinement's residual). */
SMNN_INLINE realv smnn_taylor(int R1, int r, const realv *pw, real sign, const realv *x) {
    realv acc = (realv)(0);
    for (int rp = r; rp < R1; rp++) {
        real f = ((rp - r) & 1) ? sign : (real)1;
        acc += f * pw[rp - r] * smnn_inv_fact(rp - r) * x[rp];
    }
    return acc;
}

/* One weighted smoothness row of the interval (t, t+1), for block index i = v n_orders + r,
 * from the powers pw[k] = h^k (k < n_orders) of its step: the forward row (backward = 0)
 *   w_smooth h^r (y_{t+1,r} - sum_{r' >= r} h^(r'-r)/(r'-r)! y_{t,r'})
 * or the backward row
 *   w_smooth h^r (y_{t,r} - sum_{r' >= r} (-h)^(r'-r)/(r'-r)! y_{t+1,r'});
 * xa receives its coefficients of y_t, xb those of y_{t+1} (n each). The QR factorization folds
 * these rows themselves (both variants). */
SMNN_INLINE void smnn_smooth_row(const smnn_prob *P, int i, int backward, const realv *pw,
                                 realv *xa, realv *xb) {
    const int R1 = P->R1, v = i / R1, r = i % R1;
    const realv wr = P->ws * pw[r];
    SMNN_UNROLL
    for (int j = 0; j < P->n; j++) xa[j] = xb[j] = (realv)(0);
    if (!backward) {
        xb[i] = wr;
        for (int rp = r; rp < R1; rp++) xa[v * R1 + rp] = -wr * pw[rp - r] * smnn_inv_fact(rp - r);
    } else {
        xa[i] = wr;
        for (int rp = r; rp < R1; rp++) {
            real sign = ((rp - r) & 1) ? (real)1 : (real)-1;
            xb[v * R1 + rp] = sign * wr * pw[rp - r] * smnn_inv_fact(rp - r);
        }
    }
}

/* G[r][r'] = (F^T F)[r][r'] = sum_{k <= min(r, r')} 1/((r-k)! (r'-k)!) */
SMNN_INLINE real smnn_gram(int r, int rp) {
    int m = min(r, rp);
    real g = (real)0;
    for (int k = 0; k <= m; k++) g += smnn_inv_fact(r - k) * smnn_inv_fact(rp - k);
    return g;
}

/* pw[k] = h^k for k < count (per lane). */
SMNN_INLINE void smnn_powers(realv h, int count, realv *pw) {
    pw[0] = (realv)(1);
    SMNN_UNROLL
    for (int k = 1; k < count; k++) pw[k] = pw[k - 1] * h;
}

/* The smoothness and initial-value part of M_t[i][j], from the powers of the step to the next
 * point (apow) and from the previous point (ppow), 2 * n_orders of each, with the rows that
 * exist at t (E, from smnn_edges_at). */
SMNN_INLINE realv smnn_smooth_entry(const smnn_prob *P, const smnn_edges *E, int i, int j,
                                    const realv *apow, const realv *ppow) {
    const int R1 = P->R1;
    int vi = i / R1, ri = i % R1, vj = j / R1, rj = j % R1;
    realv m = (realv)(0);
    if (vi == vj) {
        int k = ri + rj;
        real g = smnn_gram(ri, rj);
        m = SMNN_WHEN_ADD(m, E->next, g * apow[k] + (ri == rj ? apow[k] : (realv)(0)));
        m = SMNN_WHEN_ADD(m, E->prev,
                          ((k & 1) ? -g : g) * ppow[k] + (ri == rj ? ppow[k] : (realv)(0)));
        m *= P->ws2;
    }
    if (i == j && ri < P->Rinit1) m = SMNN_WHEN_ADD(m, E->init, P->wi2);
    return m;
}

/* m plus one governing row's contribution to M_t[i][j], for its coefficients ci, cj. (One
 * expression, so that a compiler contracting a * b + c does so the same way everywhere.) */
SMNN_INLINE realv smnn_gov_add(const smnn_prob *P, realv m, realv ci, realv cj) {
    return m + P->wg2 * ci * cj;
}

/* C_t[q][i] of every lane. */
SMNN_INLINE realv smnn_coef(const smnn_prob *P, global const real *c, const smnn_lanes *L, int t,
                            int q, int i) {
    return smnn_gather_at(c, P->cb, P->ct, L, t, q * P->n + i);
}

/* Row q of C_t of every lane into out[0 .. n). */
SMNN_INLINE void smnn_coef_row(const smnn_prob *P, global const real *c, const smnn_lanes *L,
                               int t, int q, realv *out) {
    smnn_gather_row_at(c, P->cb, P->ct, L, t, (long)q * P->n, P->n, out);
}

/* N_t[i][j] (row i at point t+1, column j at point t), from the powers of the step s_t. */
SMNN_INLINE realv smnn_N_entry(const smnn_prob *P, int i, int j, const realv *apow) {
    const int R1 = P->R1;
    int vi = i / R1, ri = i % R1, vj = j / R1, rj = j % R1;
    if (vi != vj) return (realv)(0);
    int k = ri + rj;
    real f = rj >= ri ? smnn_inv_fact(rj - ri) : (real)0;
    real ft = ri >= rj ? smnn_inv_fact(ri - rj) : (real)0;
    return (-P->ws2 * (f + ((k & 1) ? -ft : ft))) * apow[k];
}

/* beta_t[i] = w_gov^2 (C_t^T d_t)[i] + w_init^2 u_t[v, r] (t < T_init, r < n_init_orders), from
 * cd = (C_t^T d_t)[i]. */
SMNN_INLINE realv smnn_beta_finish(const smnn_prob *P, global const real *u, const smnn_lanes *L,
                                   int t, int i, realv cd) {
    cd *= P->wg2;
    int v = i / P->R1, r = i % P->R1;
#if SMNN_TIME_LANES
    /* Lanes past T_init read nothing (u holds T_init points). */
    if (r < P->Rinit1 && smnn_some_lane_below(L, t, P->Tinit)) {
        realv uv = (realv)(0);
        __private real *pu = (__private real *)&uv;
        SMNN_UNROLL
        for (int j = 0; j < VW; j++) {
            int tj = L->tt[j] + t;
            if (tj < P->Tinit) pu[j] = u[L->b[j] * P->ub + (long)tj * P->ut + v * P->Rinit1 + r];
        }
        cd += P->wi2 * uv;
    }
#else
    if (t < P->Tinit && r < P->Rinit1)
        cd += P->wi2 * smnn_gather(u, P->ub, L, (long)t * P->ut + v * P->Rinit1 + r);
#endif
    return cd;
}

/* beta_t[i] alone (the local variant: one row per work-item). */
SMNN_INLINE realv smnn_beta_entry(const smnn_prob *P, global const real *c, global const real *d,
                                  global const real *u, const smnn_lanes *L, int t, int i) {
    realv acc = (realv)(0);
    SMNN_UNROLL
    for (int q = 0; q < P->Q; q++)
        acc += smnn_coef(P, c, L, t, q, i) * smnn_gather_at(d, P->db, P->dt, L, t, q);
    return smnn_beta_finish(P, u, L, t, i, acc);
}

/* All of beta_t into out[0..n), reading each d_t[q] once (the same sums as smnn_beta_entry, in
 * the same order). */
SMNN_INLINE void smnn_fill_beta(const smnn_prob *P, global const real *c, global const real *d,
                                global const real *u, const smnn_lanes *L, int t, realv *out) {
    const int n = P->n;
    realv crow[NMAX];
    SMNN_UNROLL
    for (int i = 0; i < n; i++) out[i] = (realv)(0);
    SMNN_UNROLL
    for (int q = 0; q < P->Q; q++) {
        realv dq = smnn_gather_at(d, P->db, P->dt, L, t, q);
        smnn_coef_row(P, c, L, t, q, crow);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) out[i] += crow[i] * dq;
    }
    SMNN_UNROLL
    for (int i = 0; i < n; i++) out[i] = smnn_beta_finish(P, u, L, t, i, out[i]);
}

/* The step s_t of system b (one work-item per system and time point). */
SMNN_INLINE real smnn_step(const smnn_prob *P, global const real *s, long b, int t) {
    return s[b * P->sb + (long)t * P->st];
}

/* The step s_t of every lane (0 past the last point; in a partitioned program also before the
 * first). */
SMNN_INLINE realv smnn_steps(const smnn_prob *P, global const real *s, const smnn_lanes *L, int t) {
#if SMNN_TIME_LANES
    realv v;
    __private real *pv = (__private real *)&v;
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) {
        int tj = L->tt[j] + t;
        pv[j] = tj >= 0 && tj < P->T - 1 ? s[L->b[j] * P->sb + (long)tj * P->st] : (real)0;
    }
    return v;
#else
    return t < P->T - 1 ? smnn_gather(s, P->sb, L, (long)t * P->st) : (realv)(0);
#endif
}

#if SMNN_SMALL_TILES && !SMNN_UNROLLED
/* A += sum_q w_g^2 C_t[q]^T C_t[q] (the governing rows' share of M_t, lower triangle) in 2 x 2
 * tiles of A for even n, the equations SMNN_GOV_CHUNK at a time: a tile's four sums stay in
 * registers across the chunk's equations instead of a load and a store of A per equation. Each
 * entry sees the same smnn_gov_add calls, equations in order, as in smnn_fill_M's loop:
 * bit-identical. The upper entry of a diagonal tile is computed from 0 and not stored. */
#define SMNN_GOV_CHUNK 4
#define SMNN_GOV_FMA(a, b) c##a##b = smnn_gov_add(P, c##a##b, x##a, y##b);
SMNN_INLINE void smnn_gov_tiled(const smnn_prob *P, global const real *c, const smnn_lanes *L,
                                int t, realv *A) {
    const int n = P->n;
    realv cw[SMNN_GOV_CHUNK * NMAX];
    for (int q0 = 0; q0 < P->Q; q0 += SMNN_GOV_CHUNK) {
        const int qn = min(SMNN_GOV_CHUNK, P->Q - q0);
        for (int q = 0; q < qn; q++) smnn_coef_row(P, c, L, t, q0 + q, cw + q * NMAX);
        for (int i0 = 0; i0 < n; i0 += 2)
            for (int j0 = 0; j0 <= i0; j0 += 2) {
                SMNN_TILE2(SMNN_TILE_LOAD)
                for (int q = 0; q < qn; q++) {
                    const realv *w = cw + q * NMAX;
                    const realv x0 = w[i0], x1 = w[i0 + 1], y0 = w[j0], y1 = w[j0 + 1];
                    SMNN_TILE2(SMNN_GOV_FMA)
                }
                SMNN_TILE2(SMNN_TILE_STORE)
            }
    }
}
#endif

/* The lower triangle of M_t into A (row stride NMAX): smoothness, initial values, then the
 * governing rows one at a time. */
SMNN_INLINE void smnn_fill_M(const smnn_prob *P, global const real *c, const smnn_lanes *L, int t,
                             realv astep, realv pstep, realv *A) {
    const int n = P->n;
    realv apow[2 * NMAX], ppow[2 * NMAX], crow[NMAX];
    const smnn_edges E = smnn_edges_at(P, L, t);
    smnn_powers(astep, 2 * P->R1, apow);
    smnn_powers(pstep, 2 * P->R1, ppow);
    SMNN_UNROLL
    for (int i = 0; i < n; i++)
        SMNN_UNROLL
        for (int j = 0; j <= i; j++) A[i * NMAX + j] = smnn_smooth_entry(P, &E, i, j, apow, ppow);
#if SMNN_SMALL_TILES && !SMNN_UNROLLED
    if (n % 2 == 0) {
        smnn_gov_tiled(P, c, L, t, A);
        return;
    }
#endif
    SMNN_UNROLL
    for (int q = 0; q < P->Q; q++) {
        smnn_coef_row(P, c, L, t, q, crow);
        SMNN_UNROLL
        for (int i = 0; i < n; i++)
            SMNN_UNROLL
            for (int j = 0; j <= i; j++)
                A[i * NMAX + j] = smnn_gov_add(P, A[i * NMAX + j], crow[i], crow[j]);
    }
}

/* Row i of the right-hand side at t: beta_t[i], or with from_rhs the given right-hand side (laid
 * out (B, T, n)); the local variant's form of smnn_fill_rhs. */
SMNN_INLINE realv smnn_rhs_entry(const smnn_prob *P, global const real *c, global const real *d,
                                 global const real *u, global const real *rhs, int from_rhs,
                                 const smnn_lanes *L, int t, int i) {
    return from_rhs ? smnn_gather_at(rhs, (long)P->T * P->n, P->n, L, t, i)
                    : smnn_beta_entry(P, c, d, u, L, t, i);
}

/* The whole right-hand side at t into out[0..n). */
SMNN_INLINE void smnn_fill_rhs(const smnn_prob *P, global const real *c, global const real *d,
                               global const real *u, global const real *rhs, int from_rhs,
                               const smnn_lanes *L, int t, realv *out) {
    if (!from_rhs) {
        smnn_fill_beta(P, c, d, u, L, t, out);
        return;
    }
    smnn_gather_row_at(rhs, (long)P->T * P->n, P->n, L, t, 0, P->n, out);
}

/* ---- The residual of the rows (the refinement, cl/refine.cl and the private forward
 * substitution) ---- */

/* The Taylor rows of one interval (a, b) with powers pw of its step h added to the residual acc
 * of its left point (right = 0) or of its right point (right = 1). */
SMNN_INLINE void smnn_residual_interval(const smnn_prob *P, const realv *ya, const realv *yb,
                                        const realv *pw, realv *acc, int right) {
    const int R1 = P->R1;
    SMNN_UNROLL
    for (int v = 0; v < P->V; v++) {
        const realv *xa = ya + v * R1, *xb = yb + v * R1;
        SMNN_UNROLL
        for (int k = 0; k < R1; k++) {
            realv wk = P->ws2 * pw[2 * k];
            /* forward row: y_{b,k} - sum_j h^j/j! y_{a,k+j} = 0 */
            realv ef = -(xb[k] - smnn_taylor(R1, k, pw, (real)1, xa));
            /* backward row: y_{a,k} - sum_j (-h)^j/j! y_{b,k+j} = 0 */
            realv eb = -(xa[k] - smnn_taylor(R1, k, pw, (real)-1, xb));
            if (!right) {
                SMNN_UNROLL
                for (int rp = k; rp < R1; rp++)
                    acc[v * R1 + rp] -= wk * pw[rp - k] * smnn_inv_fact(rp - k) * ef;
                acc[v * R1 + k] += wk * eb;
            } else {
                acc[v * R1 + k] += wk * ef;
                SMNN_UNROLL
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
SMNN_INLINE void smnn_residual_at(const smnn_prob *P, global const real *c, global const real *d,
                                  global const real *u, global const real *s, int homogeneous,
                                  const smnn_lanes *L, int t, const realv *yp, const realv *yc,
                                  const realv *yn, realv hp, realv *pw, realv *acc) {
    const int n = P->n, R1 = P->R1;
    SMNN_UNROLL
    for (int i = 0; i < n; i++) acc[i] = (realv)(0);
    /* Governing rows at t. */
    realv crow[NMAX];
    SMNN_UNROLL
    for (int q = 0; q < P->Q; q++) {
        realv e = homogeneous ? (realv)(0) : smnn_gather(d, P->db, L, (long)t * P->dt + q);
        smnn_coef_row(P, c, L, t, q, crow);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) e -= crow[i] * yc[i];
        SMNN_UNROLL
        for (int i = 0; i < n; i++) acc[i] += P->wg2 * crow[i] * e;
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

/* One step of a walk over time in order: the residual at t of the lanes L into acc, with g (when
 * not NULL: the homogeneous form, g_t - (A^T W A y)_t) or without (A^T W (b - A y))_t, and the
 * window moved on. On entry yc holds y_t, yp y_{t-1} (anything at t = 0) and *hp the step before
 * t (0 at t = 0); on return they hold y_{t+1}, y_t and s_t. y and g are laid out (B, T, n). Each
 * value of y is read once over the walk. */
SMNN_INLINE void smnn_residual_step(const smnn_prob *P, global const real *c, global const real *d,
                                    global const real *u, global const real *s,
                                    global const real *g, global const real *y, const smnn_lanes *L,
                                    int t, realv *yp, realv *yc, realv *yn, realv *hp, realv *pw,
                                    realv *acc) {
    const int n = P->n;
    const long per = (long)P->T * n;
    if (t < P->T - 1)
        SMNN_UNROLL
        for (int i = 0; i < n; i++) yn[i] = smnn_gather(y, per, L, (long)(t + 1) * n + i);
    smnn_residual_at(P, c, d, u, s, g != 0, L, t, yp, yc, yn, *hp, pw, acc);
    if (g)
        SMNN_UNROLL
        for (int i = 0; i < n; i++) acc[i] += smnn_gather(g, per, L, (long)t * n + i);
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        yp[i] = yc[i];
        yc[i] = yn[i];
    }
    *hp = smnn_steps(P, s, L, t);
}
