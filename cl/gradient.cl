/* gradient.cl: the adjoint of the assembly (paper Eq. 14, Algorithm 2, Appendix A.3), fused so
 * that dl/dM and dl/dN are never formed.
 *
 * With lambda = dl/dbeta = M^-1 dl/dy (one substitution with the stored factors) and y the
 * solution, every parameter theta enters through the rows a_k, b_k, w_k of the weighted least-
 * squares problem, and
 *   dl/dtheta = sum_k d/dtheta [ (a_k . lambda) w_k (b_k - a_k . y) ]   (lambda, y held fixed),
 * which follows from dl/dtheta = lambda^T (d beta/d theta - (dM/d theta) y) with
 * M = sum_k w_k a_k a_k^T and beta = sum_k w_k b_k a_k. Each row touches one or two time points,
 * so one work-item per (system, time point) computes, with p = C_t lambda_t and
 * e = d_t - C_t y_t:
 *   dl/dC_t[q,i] = w_gov^2 (lambda_t[i] e[q] - p[q] y_t[i])      dl/dd_t[q] = w_gov^2 p[q]
 *   dl/du_t[v,r] = w_init^2 lambda_t[v,r]                            (t < T_init, r < n_init_orders)
 *   dl/ds_t = sum over the forward and backward Taylor rows of the interval (t, t+1) of
 *             dw p e + w (da . lambda) e - w p (da . y)
 * where w = w_smooth^2 s^2r and da is the derivative of the row with respect to s: a polynomial
 * in s_t. Results go to full (unshared) layouts; smnn_reduce then sums shared inputs over the
 * batch and/or time in a fixed order, so results are deterministic (no atomics). */

/* Contribution of the interval (t, t+1) of one variable v to dl/ds_t. */
inline real smnn_grad_step_var(const smnn_prob *P, real h, __global const real *y0,
                               __global const real *y1, __global const real *l0,
                               __global const real *l1) {
    const int R1 = P->R1;
    real g = (real)0;
    for (int r = 0; r < R1; r++) {
        real w = P->ws2 * smnn_ipow(h, 2 * r);
        real dw = r > 0 ? P->ws2 * (real)(2 * r) * smnn_ipow(h, 2 * r - 1) : (real)0;
        /* forward row: x_{t+1,r} - sum_{r'>=r} h^j/j! x_{t,r'}; backward row:
         * x_{t,r} - sum_{r'>=r} (-h)^j/j! x_{t+1,r'} (j = r' - r). */
        real af_l = l1[r], af_y = y1[r], ab_l = l0[r], ab_y = y0[r];
        real daf_l = (real)0, daf_y = (real)0, dab_l = (real)0, dab_y = (real)0;
        for (int rp = r; rp < R1; rp++) {
            int j = rp - r;
            real cf = smnn_taylor_coef(h, j);
            real cb = smnn_taylor_coef(-h, j);
            af_l -= cf * l0[rp];
            af_y -= cf * y0[rp];
            ab_l -= cb * l1[rp];
            ab_y -= cb * y1[rp];
            if (j > 0) {
                real df = smnn_taylor_coef(h, j - 1); /* d/dh of h^j/j! */
                real db = smnn_taylor_coef(-h, j - 1);
                daf_l -= df * l0[rp];
                daf_y -= df * y0[rp];
                dab_l += db * l1[rp];
                dab_y += db * y1[rp];
            }
        }
        /* e = b - a.y = -a.y for smoothness rows. */
        g += dw * af_l * (-af_y) + w * daf_l * (-af_y) - w * af_l * daf_y;
        g += dw * ab_l * (-ab_y) + w * dab_l * (-ab_y) - w * ab_l * dab_y;
    }
    return g;
}

kernel void smnn_gradient(SMNN_PARAMS(SMNN_GRADIENT_ARGS)) {
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T, Q = P.Q;
    long gid = get_global_id(0);
    if (gid >= (long)batch * T) return;
    long b = gid / T;
    int t = (int)(gid % T);
    __global const real *Y = y + gid * n;
    __global const real *L = lam + gid * n;
    if (want & (SMNN_GRAD_C | SMNN_GRAD_D)) {
        __global const real *C = c + b * P.cb + (long)t * P.ct;
        for (int q = 0; q < Q; q++) {
            /* y is read only for dl/dc (it may be NULL otherwise). */
            real p = (real)0, cy = (real)0;
            for (int i = 0; i < n; i++) {
                p += C[q * n + i] * L[i];
                if (want & SMNN_GRAD_C) cy += C[q * n + i] * Y[i];
            }
            if (want & SMNN_GRAD_D) gd[gid * Q + q] = P.wg2 * p;
            if (want & SMNN_GRAD_C) {
                real e = d[b * P.db + (long)t * P.dt + q] - cy;
                for (int i = 0; i < n; i++)
                    gc[(gid * Q + q) * n + i] = P.wg2 * (L[i] * e - p * Y[i]);
            }
        }
    }
    if ((want & SMNN_GRAD_U) && t < P.Tinit) {
        for (int v = 0; v < P.V; v++)
            for (int r = 0; r < P.Rinit1; r++)
                gu[((b * P.Tinit + t) * P.V + v) * P.Rinit1 + r] = P.wi2 * L[v * P.R1 + r];
    }
    if ((want & SMNN_GRAD_S) && t < T - 1) {
        real h = smnn_step(&P, s, b, t);
        real g = (real)0;
        for (int v = 0; v < P.V; v++)
            g += smnn_grad_step_var(&P, h, Y + v * P.R1, Y + n + v * P.R1, L + v * P.R1,
                                    L + n + v * P.R1);
        gs[b * (T - 1) + t] = g;
    }
}

/* out[ob, ot, r] = sum over b (all when sum_b, else ob) and t (all when sum_t, else ot) of
 * full[b, t, r], for full laid out (B, T, R). Compensated (Kahan) summation in a fixed order. */
kernel void smnn_reduce(SMNN_PARAMS(SMNN_REDUCE_ARGS)) {
    long OB = sum_b ? 1 : B, OT = sum_t ? 1 : T;
    long gid = get_global_id(0);
    if (gid >= OB * OT * R) return;
    long r = gid % R, ot = (gid / R) % OT, ob = gid / (R * OT);
    long b0 = sum_b ? 0 : ob, b1 = sum_b ? B : ob + 1;
    long t0 = sum_t ? 0 : ot, t1 = sum_t ? T : ot + 1;
    real acc = (real)0, comp = (real)0;
    for (long b = b0; b < b1; b++) {
        for (long t = t0; t < t1; t++) {
            real x = full[(b * T + t) * R + r] - comp;
            real sum = acc + x;
            comp = (sum - acc) - x;
            acc = sum;
        }
    }
    out[gid] = smnn_loops_cut((int)T) ? (real)NAN : acc; /* contract.h SMNN_INFO_LOOPS_CUT */
}
