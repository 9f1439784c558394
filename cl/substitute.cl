/* substitute.cl: substitutions with a stored factorization (paper Algorithm 4).
 *
 *  - smnn_forward_*: forward substitution for a new right-hand side (frozen left-hand side):
 *    beta_t is assembled from c, d, u (or, with from_rhs, read from rhs laid out (B, T, n): the
 *    backward pass's dl/dy) and z_t = L_t^-1 (beta_t - K_{t-1} z_{t-1}) is stored.
 *  - smnn_backward_*: back substitution y_T = L_T^-T z_T, y_t = L_t^-T (z_t - K_t^T y_{t+1}),
 *    written to y (B, T, V, n_orders).
 * A system that failed (info[b] > 0: factorization; info[b] < 0: this solve, -(t+1)) gets NaN in
 * all its y. Workspace layouts as in factor.cl. */

#if SMNN_VARIANT != 2 && VW == 1
__kernel void smnn_forward_private(int4 dims, int4 init, real4 w, long8 str,
                                   __global const real *c, __global const real *d,
                                   __global const real *u, __global real *ws, long bofs,
                                   int bcount, int bcap, __global int *info,
                                   __global const real *rhs, int from_rhs) {
    int lb = (int)get_global_id(0);
    if (lb >= bcount) return;
    smnn_prob P = smnn_make_prob(dims, init, w, str);
    const int n = P.n, T = P.T;
    const long b = bofs + lb;
    const long SZ = REC(n);
    if (info[b] > 0) return; /* the factorization failed: nothing to solve */
    real z[NMAX], zn[NMAX];
    int fail = 0;
#define WS(t, k) ws[((long)(t) * SZ + (k)) * bcap + lb]
    for (int t = 0; t < T && !fail; t++) {
        for (int i = 0; i < n; i++) {
            real r = from_rhs ? rhs[(b * T + t) * n + i] : smnn_assemble_beta(&P, c, d, u, b, t, i);
            if (t > 0)
                for (int k = 0; k < n; k++) r -= WS(t - 1, OFF_K(n) + i * n + k) * z[k];
            for (int k = 0; k < i; k++) r -= WS(t, PIDX(i, k)) * zn[k];
            zn[i] = r / WS(t, PIDX(i, i));
            if (!FINITE(zn[i])) fail = 1;
        }
        for (int i = 0; i < n; i++) {
            z[i] = zn[i];
            WS(t, OFF_Z(n) + i) = z[i];
        }
        if (fail) info[b] = -(t + 1);
    }
#undef WS
    if (!fail) info[b] = 0;
}

__kernel void smnn_backward_private(int4 dims, int4 init, __global real *ws, long bofs,
                                    int bcount, int bcap, __global const int *info,
                                    __global real *y) {
    int lb = (int)get_global_id(0);
    if (lb >= bcount) return;
    const int T = dims.s0, n = SMNN_N(init.s2);
    const long b = bofs + lb;
    const long SZ = REC(n);
    __global real *Y = y + b * (long)T * n;
    if (info[b] != 0) {
        for (long e = 0; e < (long)T * n; e++) Y[e] = NAN;
        return;
    }
    real yn[NMAX], yc[NMAX];
#define WS(t, k) ws[((long)(t) * SZ + (k)) * bcap + lb]
    for (int t = T - 1; t >= 0; t--) {
        for (int i = n - 1; i >= 0; i--) {
            real r = WS(t, OFF_Z(n) + i);
            if (t < T - 1)
                for (int k = 0; k < n; k++) r -= WS(t, OFF_K(n) + k * n + i) * yn[k];
            for (int k = i + 1; k < n; k++) r -= WS(t, PIDX(k, i)) * yc[k];
            yc[i] = r / WS(t, PIDX(i, i));
        }
        for (int i = 0; i < n; i++) {
            yn[i] = yc[i];
            Y[(long)t * n + i] = yc[i];
        }
    }
#undef WS
}

#endif

#if SMNN_VARIANT != 1
__attribute__((reqd_work_group_size(WG, 1, 1)))
__kernel void smnn_forward_local(int4 dims, int4 init, real4 w, long8 str,
                                 __global const real *c, __global const real *d,
                                 __global const real *u, __global real *ws, long bofs,
                                 int bcount, int bcap, __global int *info,
                                 __global const real *rhs, int from_rhs) {
    int lb = (int)get_group_id(0);
    if (lb >= bcount) return;
    (void)bcap;
    smnn_prob P = smnn_make_prob(dims, init, w, str);
    const int n = P.n, T = P.T, lid = (int)get_local_id(0);
    const long b = bofs + lb;
    const long SZ = REC(n);
    if (info[b] > 0) return;
    __local real rl[NMAX];
    __local int fail;
    if (lid == 0) fail = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int t = 0; t < T; t++) {
        __global real *W = ws + ((long)lb * T + t) * SZ;
        for (int i = lid; i < n; i += WG) {
            real r = from_rhs ? rhs[(b * T + t) * n + i] : smnn_assemble_beta(&P, c, d, u, b, t, i);
            if (t > 0)
                for (int k = 0; k < n; k++) r -= W[-SZ + OFF_K(n) + i * n + k] * W[-SZ + OFF_Z(n) + k];
            rl[i] = r;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0) {
            for (int i = 0; i < n; i++) {
                real r = rl[i];
                for (int k = 0; k < i; k++) r -= W[PIDX(i, k)] * W[OFF_Z(n) + k];
                r /= W[PIDX(i, i)];
                if (!FINITE(r)) fail = 1;
                W[OFF_Z(n) + i] = r;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
        if (fail) {
            if (lid == 0) info[b] = -(t + 1);
            return;
        }
    }
    if (lid == 0) info[b] = 0;
}

__attribute__((reqd_work_group_size(WG, 1, 1)))
__kernel void smnn_backward_local(int4 dims, int4 init, __global real *ws, long bofs,
                                  int bcount, int bcap, __global const int *info,
                                  __global real *y) {
    int lb = (int)get_group_id(0);
    if (lb >= bcount) return;
    (void)bcap;
    const int T = dims.s0, n = SMNN_N(init.s2), lid = (int)get_local_id(0);
    const long b = bofs + lb;
    const long SZ = REC(n);
    __global real *Y = y + b * (long)T * n;
    if (info[b] != 0) {
        for (long e = lid; e < (long)T * n; e += WG) Y[e] = NAN;
        return;
    }
    __local real wv[NMAX];
    __local real yl[NMAX];
    for (int t = T - 1; t >= 0; t--) {
        __global const real *W = ws + ((long)lb * T + t) * SZ;
        for (int i = lid; i < n; i += WG) {
            real r = W[OFF_Z(n) + i];
            if (t < T - 1)
                for (int k = 0; k < n; k++) r -= W[OFF_K(n) + k * n + i] * yl[k];
            wv[i] = r;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0) {
            for (int i = n - 1; i >= 0; i--) {
                real r = wv[i];
                for (int k = i + 1; k < n; k++) r -= W[PIDX(k, i)] * yl[k];
                yl[i] = r / W[PIDX(i, i)];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int i = lid; i < n; i += WG) Y[(long)t * n + i] = yl[i];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}
#endif
