/* gradient.cl: the adjoint of the assembly (paper Eq. 14, Algorithm 2, Appendix A.3), fused so
 * that dl/dM and dl/dN are never formed.
 *
 * With lambda = dl/dbeta = M^-1 dl/dy (one substitution with the stored factors) and y the
 * solution, every parameter theta enters through the rows a_k, b_k, w_k of the weighted least-
 * squares problem, and
 *   dl/dtheta = sum_k d/dtheta [ (a_k . lambda) w_k (b_k - a_k . y) ]   (lambda, y held fixed),
 * which follows from dl/dtheta = lambda^T (d beta/d theta - (dM/d theta) y) with
 * M = sum_k w_k a_k a_k^T and beta = sum_k w_k b_k a_k. Each row touches one or two time points,
 * so the rows of one time point give, with p = C_t lambda_t and e = d_t - C_t y_t:
 *   dl/dC_t[q,i] = w_gov^2 (lambda_t[i] e[q] - p[q] y_t[i])      dl/dd_t[q] = w_gov^2 p[q]
 *   dl/du_t[v,r] = w_init^2 lambda_t[v,r]                            (t < T_init,
                                                                       r < n_init_orders)
 *   dl/ds_t = sum over the forward and backward Taylor rows of the interval (t, t+1) of
 *             dw p e + w (da . lambda) e - w p (da . y)
 * where w = w_smooth^2 s^2r and da is the derivative of the row with respect to s: a polynomial
 * in s_t (smnn_grad_point, one work-item per (system, time point) in programs of one system per
 * work-item, one per lane group walking time in vector programs). Results go to full (unshared)
 * layouts; smnn_reduce then sums shared inputs over the batch and/or time in a fixed order, so
 * results are deterministic (no atomics). */

/* Contribution of the interval (t, t+1) of one variable to dl/ds_t, for every lane: y0, l0 the
 * variable's y_t and lambda_t (n_orders each), y1, l1 those of t+1, pw[k] = h^k (k < 2 n_orders)
 * of the step h = s_t. */
SMNN_INLINE realv smnn_grad_step_var(const smnn_prob *P, const realv *pw, const realv *y0,
                                     const realv *y1, const realv *l0, const realv *l1) {
    const int R1 = P->R1;
    realv g = (realv)(0);
    SMNN_UNROLL
    for (int r = 0; r < R1; r++) {
        realv w = P->ws2 * pw[2 * r];
        realv dw = r > 0 ? P->ws2 * (real)(2 * r) * pw[2 * r - 1] : (realv)(0);
        /* forward row: x_{t+1,r} - sum_{r'>=r} h^j/j! x_{t,r'}; backward row:
         * x_{t,r} - sum_{r'>=r} (-h)^j/j! x_{t+1,r'} (j = r' - r). */
        realv af_l = l1[r], af_y = y1[r], ab_l = l0[r], ab_y = y0[r];
        realv daf_l = (realv)(0), daf_y = (realv)(0), dab_l = (realv)(0), dab_y = (realv)(0);
        for (int rp = r; rp < R1; rp++) {
            int j = rp - r;
            realv cf = pw[j] * smnn_inv_fact(j);  /* h^j / j! */
            realv cb = (j & 1) ? -cf : cf;        /* (-h)^j / j! */
            af_l -= cf * l0[rp];
            af_y -= cf * y0[rp];
            ab_l -= cb * l1[rp];
            ab_y -= cb * y1[rp];
            if (j > 0) {
                realv df = pw[j - 1] * smnn_inv_fact(j - 1); /* d/dh of h^j/j! */
                realv db = ((j - 1) & 1) ? -df : df;         /* (-h)^(j-1) / (j-1)! */
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

/* The gradients of the rows at point t for the lanes L: the governing rows (dl/dc_t, dl/dd_t),
 * the initial-value rows (dl/du_t) and, for t < T - 1, the Taylor rows of the interval (t, t+1)
 * (dl/ds_t), from y_t, lambda_t (yc, lc) and y_{t+1}, lambda_{t+1} (yn, ln); pw is scratch. y
 * is used only for dl/dc and dl/ds. */
SMNN_INLINE void smnn_grad_point(const smnn_prob *P, global const real *c, global const real *d,
                                 global const real *s, int want, const smnn_lanes *L, int t,
                                 const realv *yc, const realv *lc, const realv *yn, const realv *ln,
                                 realv *pw, global real *gc, global real *gd, global real *gu,
                                 global real *gs) {
    const int n = P->n, T = P->T, Q = P->Q;
    if (want & (SMNN_GRAD_C | SMNN_GRAD_D)) {
        realv crow[NMAX];
        SMNN_UNROLL
        for (int q = 0; q < Q; q++) {
            realv p = (realv)(0), cy = (realv)(0);
            smnn_coef_row(P, c, L, t, q, crow);
            SMNN_UNROLL
            for (int i = 0; i < n; i++) {
                p += crow[i] * lc[i];
                if (want & SMNN_GRAD_C) cy += crow[i] * yc[i];
            }
            if (want & SMNN_GRAD_D) smnn_scatter_at(gd, (long)T * Q, Q, L, t, q, T, P->wg2 * p);
            if (want & SMNN_GRAD_C) {
                realv e = smnn_gather_at(d, P->db, P->dt, L, t, q) - cy;
                SMNN_UNROLL
                for (int i = 0; i < n; i++) crow[i] = P->wg2 * (lc[i] * e - p * yc[i]);
                smnn_scatter_row_at(gc, (long)T * Q * n, (long)Q * n, L, t, (long)q * n, n, T,
                                    crow);
            }
        }
    }
    if ((want & SMNN_GRAD_U) && smnn_some_lane_below(L, t, P->Tinit)) {
        for (int v = 0; v < P->V; v++)
            for (int r = 0; r < P->Rinit1; r++)
                smnn_scatter_at(gu, (long)P->Tinit * P->V * P->Rinit1, (long)P->V * P->Rinit1, L,
                                t, (long)v * P->Rinit1 + r, P->Tinit, P->wi2 * lc[v * P->R1 + r]);
    }
    if ((want & SMNN_GRAD_S) && smnn_some_lane_below(L, t, T - 1)) {
        smnn_powers(smnn_steps(P, s, L, t), 2 * P->R1, pw);
        realv g = (realv)(0);
        SMNN_UNROLL
        for (int v = 0; v < P->V; v++)
            g += smnn_grad_step_var(P, pw, yc + v * P->R1, yn + v * P->R1, lc + v * P->R1,
                                    ln + v * P->R1);
        smnn_scatter_at(gs, T - 1, 1, L, t, 0, T - 1, g);
    }
}

#if VW == 1
/* One system per work-item programs: one work-item per (system, time point), B T of them. */
kernel void smnn_gradient(SMNN_PARAMS(SMNN_GRADIENT_ARGS)) {
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const long gid = get_global_id(0);
    if (gid >= (long)batch * T) return;
    (void)info; /* no loop over time here */
    const int b = (int)(gid / T), t = (int)(gid % T);
    const smnn_lanes L = smnn_make_lanes(b, 0, batch);
    const int with_y = want & (SMNN_GRAD_C | SMNN_GRAD_S);
    realv yc[NMAX], lc[NMAX], yn[NMAX], ln[NMAX], pw[2 * NMAX];
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        lc[i] = lam[gid * n + i];
        yc[i] = with_y ? y[gid * n + i] : (real)0;
        ln[i] = t < T - 1 ? lam[(gid + 1) * n + i] : (real)0;
        yn[i] = with_y && t < T - 1 ? y[(gid + 1) * n + i] : (real)0;
    }
    smnn_grad_point(&P, c, d, s, want, &L, t, yc, lc, yn, ln, pw, gc, gd, gu, gs);
}
#elif SMNN_TIME_LANES
/* Vector lanes in a partitioned program (few systems, long horizons): one work-item per VW
 * consecutive time points of one system, a lane per point, B ceil(T / VW) of them. */
kernel void smnn_gradient(SMNN_PARAMS(SMNN_GRADIENT_ARGS)) {
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T, per_system = (T + VW - 1) / VW;
    const long gid = get_global_id(0);
    if (gid >= (long)batch * per_system) return;
    (void)info; /* no loop over time here */
    const int b = (int)(gid / per_system), t0 = (int)(gid % per_system) * VW;
    smnn_lanes L = smnn_make_lanes(b, 0, b + 1); /* every lane system b */
    L.count = min(VW, T - t0);
    const int with_y = want & (SMNN_GRAD_C | SMNN_GRAD_S);
    const long per = (long)T * n;
    realv yc[NMAX], lc[NMAX], yn[NMAX], ln[NMAX], pw[2 * NMAX];
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) L.tt[j] = min(t0 + j, T - 1);
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        __private real *pyc = (__private real *)&yc[i], *plc = (__private real *)&lc[i],
                       *pyn = (__private real *)&yn[i], *pln = (__private real *)&ln[i];
        SMNN_UNROLL
        for (int j = 0; j < VW; j++) {
            const long at = b * per + (long)L.tt[j] * n + i;
            const int next = L.tt[j] < T - 1;
            plc[j] = lam[at];
            pyc[j] = with_y ? y[at] : (real)0;
            pln[j] = next ? lam[at + n] : (real)0;
            pyn[j] = with_y && next ? y[at + n] : (real)0;
        }
    }
    smnn_grad_point(&P, c, d, s, want, &L, 0, yc, lc, yn, ln, pw, gc, gd, gu, gs);
}
#else
/* Vector lanes (CPUs): one work-item per group of VW systems, walking its time points in order
 * with y and lambda of t and t+1 in registers, each value read once (bench/RESULTS.md). */
kernel void smnn_gradient(SMNN_PARAMS(SMNN_GRADIENT_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= batch) return;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const smnn_lanes L = smnn_make_lanes(first, 0, batch);
    const int with_y = want & (SMNN_GRAD_C | SMNN_GRAD_S);
    const long per = (long)T * n; /* y and lambda: (B, T, n) */
    realv yc[NMAX], lc[NMAX], yn[NMAX], ln[NMAX], pw[2 * NMAX];
    smnn_gather_row_at(lam, per, n, &L, 0, 0, n, lc);
    if (with_y) smnn_gather_row_at(y, per, n, &L, 0, 0, n, yc);
    SMNN_UNROLL
    for (int i = 0; i < n; i++) {
        if (!with_y) yc[i] = (realv)(0);
        yn[i] = ln[i] = (realv)(0);
    }
    for (int t = 0; t < T; t++) {
        if (t < T - 1) {
            smnn_gather_row_at(lam, per, n, &L, t + 1, 0, n, ln);
            if (with_y) smnn_gather_row_at(y, per, n, &L, t + 1, 0, n, yn);
        }
        smnn_grad_point(&P, c, d, s, want, &L, t, yc, lc, yn, ln, pw, gc, gd, gu, gs);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            yc[i] = yn[i];
            lc[i] = ln[i];
        }
    }
    /* Loops cut short (contract.h SMNN_INFO_LOOPS_CUT): the blocking calls report it. */
    if (smnn_loops_cut(T))
        for (int j = 0; j < L.count; j++) info[L.b[j]] = SMNN_INFO_LOOPS_CUT;
}
#endif

#if SMNN_HAS_WALK
/* The fused backward pass (private variant, one chunk): walking time backwards, lambda_t by back
 * substitution from the workspace (as smnn_back_substitute_private, z_t from the forward
 * substitution of dl/dy), then the gradients of the rows of t and of the interval (t, t+1) while
 * lambda_t, lambda_{t+1}, y_t and y_{t+1} are in registers: lambda is never written, and y and
 * the inputs are read once. Lanes of systems with info != 0 carry NaN, as their lambda would. */
kernel void smnn_back_gradient_private(SMNN_PARAMS(SMNN_BACKGRAD_ARGS)) {
    const int first = (int)get_global_id(0) * VW;
    if (first >= bcount) return;
    const smnn_prob P = SMNN_PROBLEM();
    const int n = P.n, T = P.T;
    const smnn_lanes L = smnn_make_lanes(first, bofs, bcount);
    const smnn_wsl W = smnn_private_wsl(ws, &L, bcap, T, n);
    const int with_y = want & (SMNN_GRAD_C | SMNN_GRAD_S);
    const long per = (long)T * n; /* y: (B, T, n) */
    realv yc[NMAX], lc[NMAX], yn[NMAX], ln[NMAX], pw[2 * NMAX];
    realv failed = (realv)(0); /* NaN in the lanes of failed systems */
    __private real *fl = (__private real *)&failed;
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) fl[j] = j < L.count && info[L.b[j]] == 0 ? (real)0 : (real)NAN;
    SMNN_UNROLL
    for (int i = 0; i < n; i++) yn[i] = ln[i] = (realv)(0);
    for (int t = T - 1; t >= 0; t--) {
        smnn_back_step(&P, &W, t, n, ln, lc);
        if (with_y) smnn_gather_row_at(y, per, n, &L, t, 0, n, yc);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            lc[i] += failed;
            if (!with_y) yc[i] = (realv)(0);
        }
        smnn_grad_point(&P, c, d, s, want, &L, t, yc, lc, yn, ln, pw, gc, gd, gu, gs);
        SMNN_UNROLL
        for (int i = 0; i < n; i++) {
            yn[i] = yc[i];
            ln[i] = lc[i];
        }
    }
    if (smnn_loops_cut(T))
        for (int j = 0; j < L.count; j++) info[L.b[j]] = SMNN_INFO_LOOPS_CUT;
}
#endif

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
