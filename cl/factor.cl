/* factor.cl: block Cholesky (LDL^T) factorization of M with the forward substitution fused in
 * (paper Algorithm 3 and the first half of Algorithm 4), one sequential time loop per system.
 *
 * At each time point t:  A_t = M_t - K_{t-1} K_{t-1}^T;  L_t = chol(A_t);
 *   z_t = L_t^-1 (beta_t - K_{t-1} z_{t-1});  K_t = N_t L_t^-T.
 * K_t is the sub-diagonal block of the block-bidiagonal Cholesky factor, i.e. P_t L_t of the
 * paper's M = P L L^T P^T. L_t (packed), K_t and z_t are stored in the workspace for the back
 * substitution and for later frozen solves.
 *
 * A system whose pivot block is not positive definite, or whose values become NaN/Inf, gets
 * info[b] = t + 1 (t = failing time point) and stops; every other system goes on. info[b] = 0
 * marks success.
 *
 * Two variants:
 *  - smnn_factor_private: one work-item per system, blocks in private arrays of NMAX^2 reals;
 *    workspace interleaved by system (record element k of time t of system lb at
 *    ws[(t * SZ + k) * bcap + lb]) so that neighbouring work-items touch neighbouring addresses.
 *  - smnn_factor_local: one work-group of WG work-items per system, the pivot block in local
 *    memory, rows of each block operation spread over the work-items; workspace contiguous per
 *    system (ws[(lb * T + t) * SZ + k]).
 * SMNN_VARIANT (1 = private, 2 = local, 0 = both) selects which kernels a program holds.
 * with_rhs = 0 skips the right-hand side (factorization only). */

#if SMNN_VARIANT != 2 && VW == 1
__kernel void smnn_factor_private(int4 dims, int4 init, real4 w, long8 str,
                                  __global const real *c, __global const real *d,
                                  __global const real *u, __global const real *s,
                                  __global real *ws, long bofs, int bcount, int bcap,
                                  __global int *info, int with_rhs) {
    int lb = (int)get_global_id(0);
    if (lb >= bcount) return;
    smnn_prob P = smnn_make_prob(dims, init, w, str);
    const int n = P.n, T = P.T;
    const long b = bofs + lb;
    const long SZ = REC(n);
    real A[NMAX * NMAX];
    real K[NMAX * NMAX];
    real z[NMAX];
    int fail = 0;
#define WS(t, k) ws[((long)(t) * SZ + (k)) * bcap + lb]
    for (int t = 0; t < T && !fail; t++) {
        /* A_t = M_t - K_{t-1} K_{t-1}^T (lower triangle) and rhs = beta_t - K_{t-1} z_{t-1}. */
        real rhs[NMAX];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                real a = smnn_assemble_M(&P, c, s, b, t, i, j);
                if (t > 0)
                    for (int k = 0; k < n; k++) a -= K[i * NMAX + k] * K[j * NMAX + k];
                A[i * NMAX + j] = a;
            }
            if (!with_rhs) continue;
            real r = smnn_assemble_beta(&P, c, d, u, b, t, i);
            if (t > 0)
                for (int k = 0; k < n; k++) r -= K[i * NMAX + k] * z[k];
            rhs[i] = r;
        }
        /* L_t = chol(A_t), in place. */
        for (int j = 0; j < n && !fail; j++) {
            real dj = A[j * NMAX + j];
            for (int k = 0; k < j; k++) dj -= A[j * NMAX + k] * A[j * NMAX + k];
            if (!(dj > (real)0) || !FINITE(dj)) {
                fail = 1;
                break;
            }
            real ljj = sqrt(dj);
            A[j * NMAX + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                real a = A[i * NMAX + j];
                for (int k = 0; k < j; k++) a -= A[i * NMAX + k] * A[j * NMAX + k];
                A[i * NMAX + j] = a / ljj;
            }
        }
        if (fail) {
            info[b] = t + 1;
            break;
        }
        /* z_t = L_t^-1 rhs. */
        for (int i = 0; i < n && with_rhs; i++) {
            real r = rhs[i];
            for (int k = 0; k < i; k++) r -= A[i * NMAX + k] * z[k];
            z[i] = r / A[i * NMAX + i];
            if (!FINITE(z[i])) fail = 1;
        }
        if (fail) {
            info[b] = t + 1;
            break;
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) WS(t, PIDX(i, j)) = A[i * NMAX + j];
            if (with_rhs) WS(t, OFF_Z(n) + i) = z[i];
        }
        /* K_t = N_t L_t^-T: row i solves L_t k_i^T = N_t[i,:]^T by forward substitution. */
        if (t < T - 1) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    real a = smnn_assemble_N(&P, s, b, t, i, j);
                    for (int k = 0; k < j; k++) a -= K[i * NMAX + k] * A[j * NMAX + k];
                    K[i * NMAX + j] = a / A[j * NMAX + j];
                    WS(t, OFF_K(n) + i * n + j) = K[i * NMAX + j];
                }
            }
        }
    }
#undef WS
    if (!fail) info[b] = 0;
}

#endif

#if SMNN_VARIANT != 1
__attribute__((reqd_work_group_size(WG, 1, 1)))
__kernel void smnn_factor_local(int4 dims, int4 init, real4 w, long8 str,
                                __global const real *c, __global const real *d,
                                __global const real *u, __global const real *s,
                                __global real *ws, long bofs, int bcount, int bcap,
                                __global int *info, int with_rhs) {
    int lb = (int)get_group_id(0);
    if (lb >= bcount) return; /* uniform across the work-group */
    (void)bcap;
    smnn_prob P = smnn_make_prob(dims, init, w, str);
    const int n = P.n, T = P.T, lid = (int)get_local_id(0);
    const long b = bofs + lb;
    const long SZ = REC(n);
    __local real A[NMAX * NMAX];
    __local real rhs[NMAX];
    __local int fail;
    if (lid == 0) fail = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int t = 0; t < T; t++) {
        __global real *W = ws + ((long)lb * T + t) * SZ;
        __global const real *Kp = W - SZ + OFF_K(n); /* K_{t-1}, valid for t > 0 */
        __global const real *zp = W - SZ + OFF_Z(n);
        for (int e = lid; e < n * n; e += WG) {
            int i = e / n, j = e % n;
            if (j > i) continue;
            real a = smnn_assemble_M(&P, c, s, b, t, i, j);
            if (t > 0)
                for (int k = 0; k < n; k++) a -= Kp[i * n + k] * Kp[j * n + k];
            A[i * NMAX + j] = a;
        }
        for (int i = lid; i < n && with_rhs; i += WG) {
            real r = smnn_assemble_beta(&P, c, d, u, b, t, i);
            if (t > 0)
                for (int k = 0; k < n; k++) r -= Kp[i * n + k] * zp[k];
            rhs[i] = r;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        /* Left-looking Cholesky, one column at a time: the pivot by work-item 0, the column
         * below it in parallel. */
        for (int j = 0; j < n; j++) {
            if (lid == 0) {
                real dj = A[j * NMAX + j];
                for (int k = 0; k < j; k++) dj -= A[j * NMAX + k] * A[j * NMAX + k];
                if (!(dj > (real)0) || !FINITE(dj)) {
                    fail = 1;
                    dj = (real)1; /* keep going without NaN; the system is reported below */
                }
                A[j * NMAX + j] = sqrt(dj);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int i = j + 1 + lid; i < n; i += WG) {
                real a = A[i * NMAX + j];
                for (int k = 0; k < j; k++) a -= A[i * NMAX + k] * A[j * NMAX + k];
                A[i * NMAX + j] = a / A[j * NMAX + j];
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (lid == 0 && !fail && with_rhs) {
            /* z_t = L_t^-1 rhs (n^2/2 operations: cheap next to the n^3 parts). */
            for (int i = 0; i < n; i++) {
                real r = rhs[i];
                for (int k = 0; k < i; k++) r -= A[i * NMAX + k] * W[OFF_Z(n) + k];
                r /= A[i * NMAX + i];
                if (!FINITE(r)) fail = 1;
                W[OFF_Z(n) + i] = r;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
        if (fail) {
            if (lid == 0) info[b] = t + 1;
            return; /* uniform: every work-item read fail after the barrier */
        }
        for (int i = lid; i < n; i += WG)
            for (int j = 0; j <= i; j++) W[PIDX(i, j)] = A[i * NMAX + j];
        if (t < T - 1) {
            for (int i = lid; i < n; i += WG) {
                real krow[NMAX];
                for (int j = 0; j < n; j++) {
                    real a = smnn_assemble_N(&P, s, b, t, i, j);
                    for (int k = 0; k < j; k++) a -= krow[k] * A[j * NMAX + k];
                    krow[j] = a / A[j * NMAX + j];
                    W[OFF_K(n) + i * n + j] = krow[j];
                }
            }
        }
        /* The next step reads K_t and z_t from global memory, written by other work-items. */
        barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    }
    if (lid == 0) info[b] = 0;
}
#endif
