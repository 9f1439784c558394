/* simd.cl: the private variant with VW > 1 systems per work-item (CPU devices).
 *
 * PoCL and other CPU drivers do not vectorise a work-item's inner loops across work-items, so on
 * CPUs each work-item handles VW neighbouring systems at once in OpenCL vector types (double8,
 * float8, ...), one system per lane: the same algorithm as factor.cl / substitute.cl, with every
 * block entry a vector, loaded and stored with one vloadVW / vstoreVW. Inputs are gathered per lane (or broadcast when
 * shared). Lanes past the end of the batch repeat the last system and are never written back.
 * Failures are tracked per lane. */
#if SMNN_VARIANT != 2 && VW > 1

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
typedef CAT(SMNN_REAL_NAME, VW) realv;
#if SMNN_DOUBLE
typedef CAT(long, VW) maskv;
#define SMNN_MASK_ELEM long
#else
typedef CAT(int, VW) maskv;
#define SMNN_MASK_ELEM int
#endif
#define VLOAD(p) CAT(vload, VW)(0, (p))
#define VSTORE(v, p) CAT(vstore, VW)((v), 0, (p))

/* Lane j of the group holds system bfirst + j, clamped to the last valid system. */
typedef struct smnn_lanes {
    long b[VW];
} smnn_lanes;

inline realv smnn_gather(__global const real *base, long stride_b, const smnn_lanes *L, long off) {
    if (stride_b == 0) return (realv)(base[off]);
    realv v;
    real *pv = (real *)&v;
    for (int j = 0; j < VW; j++) pv[j] = base[L->b[j] * stride_b + off];
    return v;
}

/* Workspace of the lane group starting at lb0: group-major ([group][t][k][lane]), so that one
 * work-item streams through contiguous memory over the whole time loop. (The one-system-per-
 * work-item kernels interleave all systems instead, which coalesces on GPUs.) */
#define WSV(t, k) (ws + (((long)(lb0 / VW) * T + (t)) * SZ + (k)) * VW)

/* M_t's smoothness and initial-value part into A (lower triangle), for step vectors a (to t+1)
 * and p (from t-1); the governing part is added row by row of C afterwards. */
inline void smnn_simd_smooth(const smnn_prob *P, int t, realv a, realv p, realv *A) {
    const int n = P->n, R1 = P->R1, T = P->T;
    realv apow[2 * NMAX], ppow[2 * NMAX];
    apow[0] = (realv)(1);
    ppow[0] = (realv)(1);
    for (int k = 1; k < 2 * R1; k++) {
        apow[k] = apow[k - 1] * a;
        ppow[k] = ppow[k - 1] * p;
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
            int vi = i / R1, ri = i % R1, vj = j / R1, rj = j % R1;
            realv m = (realv)(0);
            if (vi == vj) {
                int k = ri + rj;
                real g = smnn_gram(ri, rj);
                if (t < T - 1) m += g * apow[k] + (ri == rj ? apow[k] : (realv)(0));
                if (t > 0) m += ((k & 1) ? -g : g) * ppow[k] + (ri == rj ? ppow[k] : (realv)(0));
                m *= P->ws2;
            }
            if (i == j && t < P->Tinit && ri < P->Rinit1) m += P->wi2;
            A[i * NMAX + j] = m;
        }
    }
}

/* beta_t for every lane: w_gov^2 C_t^T d_t + w_init^2 u_t. */
inline void smnn_simd_beta(const smnn_prob *P, __global const real *c, __global const real *d,
                           __global const real *u, const smnn_lanes *L, int t, realv *rhs) {
    const int n = P->n;
    for (int i = 0; i < n; i++) rhs[i] = (realv)(0);
    for (int q = 0; q < P->Q; q++) {
        realv dq = smnn_gather(d, P->db, L, (long)t * P->dt + q);
        for (int i = 0; i < n; i++)
            rhs[i] += smnn_gather(c, P->cb, L, (long)t * P->ct + q * n + i) * dq;
    }
    for (int i = 0; i < n; i++) rhs[i] *= P->wg2;
    if (t < P->Tinit)
        for (int v = 0; v < P->V; v++)
            for (int r = 0; r < P->Rinit1; r++)
                rhs[v * P->R1 + r] +=
                    P->wi2 * smnn_gather(u, P->ub, L, (long)t * P->ut + v * P->Rinit1 + r);
}

__kernel void smnn_factor_private(int4 dims, int4 init, real4 w, long8 str,
                                  __global const real *c, __global const real *d,
                                  __global const real *u, __global const real *s,
                                  __global real *ws, long bofs, int bcount, int bcap,
                                  __global int *info, int with_rhs) {
    const int lb0 = (int)get_global_id(0) * VW;
    if (lb0 >= bcount) return;
    smnn_prob P = smnn_make_prob(dims, init, w, str);
    const int n = P.n, T = P.T, Q = P.Q;
    const long SZ = REC(n);
    smnn_lanes L;
    for (int j = 0; j < VW; j++) L.b[j] = bofs + min(lb0 + j, bcount - 1);
    realv A[NMAX * NMAX], K[NMAX * NMAX], z[NMAX], rhs[NMAX], crow[NMAX];
    int finfo[VW];
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    realv pstep = (realv)(0);
    for (int t = 0; t < T; t++) {
        realv astep = t < T - 1 ? smnn_gather(s, P.sb, &L, (long)t * P.st) : (realv)(0);
        smnn_simd_smooth(&P, t, astep, pstep, A);
        for (int q = 0; q < Q; q++) {
            for (int i = 0; i < n; i++)
                crow[i] = smnn_gather(c, P.cb, &L, (long)t * P.ct + q * n + i);
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++) A[i * NMAX + j] += P.wg2 * crow[i] * crow[j];
        }
        if (with_rhs) smnn_simd_beta(&P, c, d, u, &L, t, rhs);
        if (t > 0) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    realv acc = A[i * NMAX + j];
                    for (int k = 0; k < n; k++) acc -= K[i * NMAX + k] * K[j * NMAX + k];
                    A[i * NMAX + j] = acc;
                }
                if (with_rhs)
                    for (int k = 0; k < n; k++) rhs[i] -= K[i * NMAX + k] * z[k];
            }
        }
        maskv bad = (maskv)(0);
        for (int j = 0; j < n; j++) {
            realv dj = A[j * NMAX + j];
            for (int k = 0; k < j; k++) dj -= A[j * NMAX + k] * A[j * NMAX + k];
            bad |= isless(dj, (realv)(0)) | isequal(dj, (realv)(0)) | isnan(dj) | isinf(dj);
            realv ljj = sqrt(dj);
            A[j * NMAX + j] = ljj;
            realv inv = (realv)(1) / ljj;
            for (int i = j + 1; i < n; i++) {
                realv acc = A[i * NMAX + j];
                for (int k = 0; k < j; k++) acc -= A[i * NMAX + k] * A[j * NMAX + k];
                A[i * NMAX + j] = acc * inv;
            }
        }
        if (with_rhs) {
            for (int i = 0; i < n; i++) {
                realv r = rhs[i];
                for (int k = 0; k < i; k++) r -= A[i * NMAX + k] * z[k];
                z[i] = r / A[i * NMAX + i];
                bad |= isnan(z[i]) | isinf(z[i]);
            }
        }
        {
            const __private SMNN_MASK_ELEM *pb = (const __private SMNN_MASK_ELEM *)&bad;
            for (int j = 0; j < VW; j++)
                if (pb[j] && !finfo[j]) finfo[j] = t + 1;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) VSTORE(A[i * NMAX + j], WSV(t, PIDX(i, j)));
            if (with_rhs) VSTORE(z[i], WSV(t, OFF_Z(n) + i));
        }
        if (t < T - 1) {
            /* K_t = N_t L_t^-T; N_t is block diagonal over variables. */
            realv apow[2 * NMAX];
            apow[0] = (realv)(1);
            for (int k = 1; k < 2 * P.R1; k++) apow[k] = apow[k - 1] * astep;
            for (int i = 0; i < n; i++) {
                int vi = i / P.R1, ri = i % P.R1;
                for (int j = 0; j < n; j++) {
                    int vj = j / P.R1, rj = j % P.R1;
                    realv a = (realv)(0);
                    if (vi == vj) {
                        int k = ri + rj;
                        real f = rj >= ri ? smnn_inv_fact(rj - ri) : (real)0;
                        real ft = ri >= rj ? smnn_inv_fact(ri - rj) : (real)0;
                        a = (-P.ws2 * (f + ((k & 1) ? -ft : ft))) * apow[k];
                    }
                    for (int k = 0; k < j; k++) a -= K[i * NMAX + k] * A[j * NMAX + k];
                    K[i * NMAX + j] = a / A[j * NMAX + j];
                    VSTORE(K[i * NMAX + j], WSV(t, OFF_K(n) + i * n + j));
                }
            }
        }
        pstep = astep;
    }
    for (int j = 0; j < VW && lb0 + j < bcount; j++) info[bofs + lb0 + j] = finfo[j];
}

__kernel void smnn_forward_private(int4 dims, int4 init, real4 w, long8 str,
                                   __global const real *c, __global const real *d,
                                   __global const real *u, __global real *ws, long bofs,
                                   int bcount, int bcap, __global int *info,
                                   __global const real *rhsbuf, int from_rhs) {
    const int lb0 = (int)get_global_id(0) * VW;
    if (lb0 >= bcount) return;
    smnn_prob P = smnn_make_prob(dims, init, w, str);
    const int n = P.n, T = P.T;
    const long SZ = REC(n);
    smnn_lanes L;
    for (int j = 0; j < VW; j++) L.b[j] = bofs + min(lb0 + j, bcount - 1);
    realv z[NMAX], rhs[NMAX];
    int finfo[VW];
    for (int j = 0; j < VW; j++) finfo[j] = 0;
    for (int t = 0; t < T; t++) {
        if (from_rhs) {
            for (int i = 0; i < n; i++)
                rhs[i] = smnn_gather(rhsbuf, (long)T * n, &L, (long)t * n + i);
        } else {
            smnn_simd_beta(&P, c, d, u, &L, t, rhs);
        }
        maskv bad = (maskv)(0);
        for (int i = 0; i < n; i++) {
            realv r = rhs[i];
            if (t > 0)
                for (int k = 0; k < n; k++) r -= VLOAD(WSV(t - 1, OFF_K(n) + i * n + k)) * z[k];
            rhs[i] = r;
        }
        for (int i = 0; i < n; i++) {
            realv r = rhs[i];
            for (int k = 0; k < i; k++) r -= VLOAD(WSV(t, PIDX(i, k))) * rhs[k];
            rhs[i] = r / VLOAD(WSV(t, PIDX(i, i)));
            bad |= isnan(rhs[i]) | isinf(rhs[i]);
        }
        for (int i = 0; i < n; i++) {
            z[i] = rhs[i];
            VSTORE(z[i], WSV(t, OFF_Z(n) + i));
        }
        const __private SMNN_MASK_ELEM *pb = (const __private SMNN_MASK_ELEM *)&bad;
        for (int j = 0; j < VW; j++)
            if (pb[j] && !finfo[j]) finfo[j] = -(t + 1);
    }
    for (int j = 0; j < VW && lb0 + j < bcount; j++) {
        long b = bofs + lb0 + j;
        if (info[b] <= 0) info[b] = finfo[j]; /* a failed factorization stays reported */
    }
}

__kernel void smnn_backward_private(int4 dims, int4 init, __global real *ws, long bofs,
                                    int bcount, int bcap, __global const int *info,
                                    __global real *y) {
    const int lb0 = (int)get_global_id(0) * VW;
    if (lb0 >= bcount) return;
    const int T = dims.s0, n = SMNN_N(init.s2);
    const long SZ = REC(n);
    realv yn[NMAX], yc[NMAX];
    int ok[VW];
    for (int j = 0; j < VW; j++) ok[j] = lb0 + j < bcount && info[bofs + lb0 + j] == 0;
    for (int t = T - 1; t >= 0; t--) {
        for (int i = n - 1; i >= 0; i--) {
            realv r = VLOAD(WSV(t, OFF_Z(n) + i));
            if (t < T - 1)
                for (int k = 0; k < n; k++) r -= VLOAD(WSV(t, OFF_K(n) + k * n + i)) * yn[k];
            for (int k = i + 1; k < n; k++) r -= VLOAD(WSV(t, PIDX(k, i))) * yc[k];
            yc[i] = r / VLOAD(WSV(t, PIDX(i, i)));
        }
        for (int i = 0; i < n; i++) yn[i] = yc[i];
        for (int j = 0; j < VW; j++) {
            if (lb0 + j >= bcount) break;
            __global real *Y = y + (bofs + lb0 + j) * (long)T * n + (long)t * n;
            for (int i = 0; i < n; i++) Y[i] = ok[j] ? ((real *)&yc[i])[j] : (real)NAN;
        }
    }
}

#undef WSV
#endif
