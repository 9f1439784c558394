/* assemble.cl: the entries of the block-tridiagonal normal matrix M = A^T W A and of
 * beta = A^T W b (paper Appendix A.2, Eqs. 25-28), computed one entry at a time from the inputs,
 * so that no kernel ever stores M.
 *
 * Index i of a block is v * n_orders + r (variable v, derivative order r). With a = s_t (the step
 * to the next point) and p = s_{t-1} (the step from the previous point), the smoothness part of
 * M_t is, within one variable and for orders r, r':
 *   G[r][r'] (a^(r+r') [t < T-1] + (-1)^(r+r') p^(r+r') [t > 0]) + delta(r,r') (a^2r [t<T-1] + p^2r [t>0])
 * with G = F^T F, G[r][r'] = sum_k 1/((r-k)! (r'-k)!), and the coupling block N_t (rows: point
 * t+1, columns: point t) is -w_smooth^2 a^(r+r') (F[r][r'] + (-1)^(r+r') F[r'][r]) with
 * F[r][r'] = 1/(r'-r)! for r' >= r, else 0. */

inline real smnn_inv_fact(int k) {
    real f = (real)1;
    for (int i = 2; i <= k; i++) f *= (real)i;
    return (real)1 / f;
}

inline real smnn_ipow(real x, int k) {
    real p = (real)1;
    for (int i = 0; i < k; i++) p *= x;
    return p;
}

/* G[r][r'] = (F^T F)[r][r'] = sum_{k <= min(r, r')} 1/((r-k)! (r'-k)!) */
inline real smnn_gram(int r, int rp) {
    int m = min(r, rp);
    real g = (real)0;
    for (int k = 0; k <= m; k++) g += smnn_inv_fact(r - k) * smnn_inv_fact(rp - k);
    return g;
}

inline real smnn_step(const smnn_prob *P, global const real *s, long b, int t) {
    return s[b * P->sb + (long)t * P->st];
}

/* [M_t]_{i,j} of system b. */
inline real smnn_assemble_M(const smnn_prob *P, global const real *c, global const real *s,
                            long b, int t, int i, int j) {
    int n = P->n;
    global const real *C = c + b * P->cb + (long)t * P->ct;
    real m = (real)0;
    for (int q = 0; q < P->Q; q++) m += C[q * n + i] * C[q * n + j];
    m *= P->wg2;
    int vi = i / P->R1, ri = i % P->R1, vj = j / P->R1, rj = j % P->R1;
    if (i == j && t < P->Tinit && ri < P->Rinit1) m += P->wi2;
    if (vi == vj) {
        int k = ri + rj;
        real g = smnn_gram(ri, rj);
        real sm = (real)0;
        if (t < P->T - 1) {
            real ak = smnn_ipow(smnn_step(P, s, b, t), k);
            sm += g * ak + (ri == rj ? ak : (real)0);
        }
        if (t > 0) {
            real pk = smnn_ipow(smnn_step(P, s, b, t - 1), k);
            sm += ((k & 1) ? -g : g) * pk + (ri == rj ? pk : (real)0);
        }
        m += P->ws2 * sm;
    }
    return m;
}

/* [N_t]_{i,j} of system b: row i belongs to point t+1, column j to point t (0 <= t < T-1). */
inline real smnn_assemble_N(const smnn_prob *P, global const real *s, long b, int t, int i,
                            int j) {
    int vi = i / P->R1, ri = i % P->R1, vj = j / P->R1, rj = j % P->R1;
    if (vi != vj) return (real)0;
    int k = ri + rj;
    real f = (rj >= ri ? smnn_inv_fact(rj - ri) : (real)0);
    real ft = (ri >= rj ? smnn_inv_fact(ri - rj) : (real)0);
    real sgn = (k & 1) ? (real)-1 : (real)1;
    return -P->ws2 * smnn_ipow(smnn_step(P, s, b, t), k) * (f + sgn * ft);
}

/* [beta_t]_i of system b. */
inline real smnn_assemble_beta(const smnn_prob *P, global const real *c, global const real *d,
                               global const real *u, long b, int t, int i) {
    int n = P->n;
    global const real *C = c + b * P->cb + (long)t * P->ct;
    global const real *D = d + b * P->db + (long)t * P->dt;
    real v = (real)0;
    for (int q = 0; q < P->Q; q++) v += C[q * n + i] * D[q];
    v *= P->wg2;
    int vi = i / P->R1, ri = i % P->R1;
    if (t < P->Tinit && ri < P->Rinit1)
        v += P->wi2 * u[b * P->ub + (long)t * P->ut + vi * P->Rinit1 + ri];
    return v;
}
