"""Parallel in time (issue 14): a readable numpy prototype of the partitioned block Cholesky that
the device kernels are to follow, for checking the algebra and comparing numbers; not for speed.

The normal matrix M of one system is block tridiagonal: diagonal blocks M_t (n x n) and couplings
C_t = M[t+1, t]. The sequential path factors it in one walk over time (paper Algorithm 3):
    A_0 = M_0,  L_t L_t^T = A_t,  K_t = C_t L_t^-T,  A_{t+1} = M_{t+1} - K_t K_t^T.

Partitioned: separators s_1 < ... < s_{P-1} cut the T points into P chunks; chunk p's interior is
the open interval (s_p, s_{p+1}) with s_0 = -1, s_P = T (chunks of unequal length are allowed; an
empty interior means two adjacent separators). Ordering every interior before the separators, the
interiors decouple: each chunk runs the same walk over its interior [a, b], with the global M_t and
C_t (the assembly does not change), and carries one more n x n block, the fill-in G_t between its
current point and its left separator l = a - 1:
    G_a = M[a, l] = C_{a-1}
    F_t = L_t^-1 G_t                      (stored: the factor's block (l, t) is F_t^T)
    S_ll -= F_t^T F_t                     (Schur complement on the left separator)
    G_{t+1} = -K_t F_t                    (fill-in passed on)
and at its last point b, with right separator r = b + 1:
    S_rr -= K_b K_b^T,   S_rl -= K_b F_b  (K_b = C_b L_b^-T as in the sequential walk).
The separators then form a block tridiagonal system of P - 1 points: diagonal M_s plus the Schur
terms of the chunks on either side, coupling between consecutive separators from the chunk
between them (-K_b F_b, or C itself when that chunk's interior is empty); it is SPD (a Schur
complement of an SPD matrix), so it factors with the same walk, sequentially when small.

Right-hand side: the interior forward substitution is the sequential one, L_t z_t = beta_t -
K_{t-1} z_{t-1} (no term at a), and it sends g_l -= F_t^T z_t, g_r -= K_b z_b to the separators.
Once the separators' y are known, each interior back-substitutes independently:
    y_t = L_t^-T (z_t - K_t^T y_{t+1} - F_t y_l)      (y_{b+1} = y_r; no F term in chunk 0).
Cost per interior point: the sequential step plus one triangular solve with n columns and two
n x n products (F_t, G_{t+1}, S_ll), about 2.3x the flops at n = 3; memory: F_t, n^2 more reals per
point (linear in T). The work is B x P independent walks of about T / P points, then B reduced
walks of P - 1 points.

Run it: python3 time_partition.py   (random S-MNN problems and y'' = -y over T = 1e5: the
partitioned solution against the sequential one, for P in {1, 2, 3, 16, 1000} and unequal chunks).
"""
import math
import sys

import numpy as np


def smnn_blocks(c, d, u, s, w_gov=1.0, w_init=1.0, w_smooth=1.0):
    """M_t (T, n, n), C_t = M[t+1, t] (T-1, n, n) and beta_t (T, n) of one system, assembled from
    the rows of the paper (governing, initial values, Taylor smoothness weighted by s^r)."""
    T, Q, V, R = c.shape
    n = V * R
    M = np.zeros((T, n, n))
    C = np.zeros((T - 1, n, n))
    beta = np.zeros((T, n))
    for t in range(T):
        A = w_gov * c[t].reshape(Q, n)
        M[t] += A.T @ A
        beta[t] += w_gov * A.T @ d[t]
        if t < u.shape[0]:
            for v in range(V):
                for r in range(u.shape[2]):
                    M[t][v * R + r, v * R + r] += w_init ** 2
                    beta[t][v * R + r] += w_init ** 2 * u[t, v, r]
    for t in range(T - 1):
        Fa, Fb = np.zeros((2 * n, n)), np.zeros((2 * n, n))
        k = 0
        for v in range(V):
            for r in range(R):
                w = w_smooth * s[t] ** r
                Fb[k, v * R + r] += w
                Fa[k + 1, v * R + r] += w
                for rp in range(r, R):
                    j = rp - r
                    Fa[k, v * R + rp] -= w * s[t] ** j / math.factorial(j)
                    Fb[k + 1, v * R + rp] -= w * (-s[t]) ** j / math.factorial(j)
                k += 2
        M[t] += Fa.T @ Fa
        M[t + 1] += Fb.T @ Fb
        C[t] = Fb.T @ Fa
    return M, C, beta


def solve_sequential(M, C, beta):
    T, n, _ = M.shape
    L = np.zeros_like(M)
    K = np.zeros_like(C)
    z = np.zeros_like(beta)
    A = M[0].copy()
    for t in range(T):
        L[t] = np.linalg.cholesky(A)
        rhs = beta[t] - (K[t - 1] @ z[t - 1] if t > 0 else 0)
        z[t] = np.linalg.solve(L[t], rhs)
        if t + 1 < T:
            K[t] = np.linalg.solve(L[t], C[t].T).T
            A = M[t + 1] - K[t] @ K[t].T
    y = np.zeros_like(beta)
    for t in range(T - 1, -1, -1):
        rhs = z[t] - (K[t].T @ y[t + 1] if t + 1 < T else 0)
        y[t] = np.linalg.solve(L[t].T, rhs)
    return y


def solve_partitioned(M, C, beta, seps):
    """seps: sorted separator indices (0 < s < T - 1 not required: any distinct points)."""
    T, n, _ = M.shape
    bounds = [-1] + list(seps) + [T]
    P = len(bounds) - 1
    nsep = P - 1
    S = [M[s].copy() for s in seps]                 # reduced diagonal blocks
    Soff = [None] * max(nsep - 1, 0)                # Soff[i] = reduced block (sep i+1, sep i)
    g = [beta[s].copy() for s in seps]
    chunks = []
    for p in range(P):                              # independent: one walk per (system, chunk)
        a, b = bounds[p] + 1, bounds[p + 1] - 1
        left, right = p - 1, p                      # separator indices (into seps), or -1 / nsep
        if a > b:                                   # empty interior: adjacent separators couple
            if 0 <= left and right < nsep:
                Soff[left] = C[bounds[p]]           # M[sep right, sep left] = C_{s_left}
            chunks.append(None)
            continue
        L, K, F, z = {}, {}, {}, {}
        A = M[a].copy()
        G = C[a - 1] if left >= 0 else None         # M[a, l]
        for t in range(a, b + 1):
            L[t] = np.linalg.cholesky(A)
            z[t] = np.linalg.solve(L[t], beta[t] - (K[t - 1] @ z[t - 1] if t > a else 0))
            if G is not None:
                F[t] = np.linalg.solve(L[t], G)
                S[left] -= F[t].T @ F[t]
                g[left] -= F[t].T @ z[t]
            if t < T - 1:
                K[t] = np.linalg.solve(L[t], C[t].T).T
            if t < b:
                A = M[t + 1] - K[t] @ K[t].T
                if G is not None:
                    G = -K[t] @ F[t]
        if right < nsep:                            # the chunk's last point meets separator r
            S[right] -= K[b] @ K[b].T
            g[right] -= K[b] @ z[b]
            if left >= 0:
                Soff[left] = -K[b] @ F[b]
        chunks.append((a, b, L, K, F, z))
    # The reduced system over the separators: block tridiagonal, the sequential walk.
    ys = solve_sequential(np.array(S), np.array(Soff) if nsep > 1 else np.zeros((0, n, n)),
                          np.array(g)) if nsep else np.zeros((0, n))
    y = np.zeros_like(beta)
    for i, s in enumerate(seps):
        y[s] = ys[i]
    for p, ch in enumerate(chunks):                 # independent back substitutions
        if ch is None:
            continue
        a, b, L, K, F, z = ch
        for t in range(b, a - 1, -1):
            rhs = z[t].copy()
            if t + 1 < T:
                rhs -= K[t].T @ y[t + 1]
            if p > 0:
                rhs -= F[t] @ y[bounds[p]]
            y[t] = np.linalg.solve(L[t].T, rhs)
    return y


def even_seps(T, P):
    return [round(T * k / P) for k in range(1, P)]


def main():
    rng = np.random.default_rng(7)
    worst = 0.0
    print("random S-MNN problems (V, n_orders, Q; steps 0.05..0.5), partitioned vs sequential:")
    for (T, V, R, Q) in [(40, 1, 3, 1), (37, 2, 2, 2), (61, 1, 4, 1), (50, 3, 3, 3)]:
        c = rng.uniform(-1, 1, (T, Q, V, R))
        for q in range(Q):
            c[:, q, q % V, R - 1] += 1.5
        d = rng.uniform(-1, 1, (T, Q))
        u = rng.uniform(-1, 1, (1, V, min(2, R)))
        s = rng.uniform(0.05, 0.5, T - 1)
        M, Cb, beta = smnn_blocks(c, d, u, s, 1.3, 2.0, 0.8)
        y0 = solve_sequential(M, Cb, beta)
        for seps in [[], even_seps(T, 2), even_seps(T, 3), even_seps(T, 16),
                     [1, 2, 9, 10, 11, T - 3], [0, T // 2, T - 1]]:
            y = solve_partitioned(M, Cb, beta, seps)
            e = np.abs(y - y0).max() / np.abs(y0).max()
            worst = max(worst, e)
            print(f"  T = {T:3d}, n = {V * R}, {len(seps) + 1:2d} chunks {str(seps)[:40]:42s}"
                  f" rel. difference {e:.1e}")
    # y'' = -y over a long horizon: V = 1, n_orders 3, c = (1, 0, 1), step 1e-3. The normal
    # equations keep about 3 digits here (solver.h), so both orderings are compared with the
    # closed form: the partitioned error must stay within 10x the sequential one.
    T = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    c = np.zeros((T, 1, 1, 3))
    c[:, 0, 0, 0], c[:, 0, 0, 2] = 1, 1
    d = np.zeros((T, 1))
    u = np.array([[[1.0, 0.0]]])
    s = np.full(T - 1, 1e-3)
    M, Cb, beta = smnn_blocks(c, d, u, s, 1.0, 1.0, 1.0)
    exact = np.cos(np.arange(T) * 1e-3)
    y0 = solve_sequential(M, Cb, beta)
    e0 = np.abs(y0[:, 0] - exact).max()
    print(f"y'' = -y, T = {T}, step 1e-3: sequential max |y - cos t| = {e0:.1e}")
    ok = worst <= 1e-12
    for P in (2, 3, 16, 1000):
        seps = even_seps(T, P)
        if P == 3:  # unequal chunks: a short one, a long one
            seps = [T // 10, T // 10 + 7]
        y = solve_partitioned(M, Cb, beta, seps)
        e = np.abs(y[:, 0] - exact).max()
        ok &= e <= 10 * e0
        print(f"  {len(seps) + 1:4d} chunks: max |y - cos t| = {e:.1e} ({e / e0:.2f}x the "
              f"sequential), rel. difference to it {np.abs(y - y0).max() / np.abs(y0).max():.1e}")
    print(f"largest difference on the random problems: {worst:.1e} (<= 1e-12: "
          f"{'yes' if worst <= 1e-12 else 'NO'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
