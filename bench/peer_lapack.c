/* The LAPACK peer: the same normal matrices M (block tridiagonal, assembled on the host with the
 * block formulas of the paper's Appendix A.2) solved as symmetric positive-definite band matrices
 * with dpbtrf + dpbtrs (lower band storage, bandwidth 2n - 1), looped over the batch with OpenMP
 * over all cores. Assembly is not timed; factor + solve are. */
#include "hostutil.h"
#include "peer_lapack.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double inv_fact(int k) {
    double f = 1;
    for (int i = 2; i <= k; i++) f *= i;
    return 1 / f;
}

/* Band storage (LAPACK lower, column-major, ldab = kd + 1): AB[(i - j) + j * ldab] = M[i][j]. */
static void assemble(const smnn_problem *p, size_t b, const double *c, const double *d,
                     const double *u, const double *s, double *ab, double *rhs) {
    const int T = (int)p->steps, V = (int)p->dims, R1 = (int)p->orders, Q = (int)p->equations;
    const int n = V * R1, kd = 2 * n - 1, ldab = kd + 1;
    const double wg2 = p->w_gov * p->w_gov, wi2 = p->w_init * p->w_init,
                 ws2 = p->w_smooth * p->w_smooth;
    size_t N = (size_t)T * n;
    memset(ab, 0, N * ldab * sizeof *ab);
    for (int t = 0; t < T; t++) {
        const double *C = c + (b * T + t) * Q * n, *D = d + (b * T + t) * Q;
        for (int i = 0; i < n; i++) {
            double be = 0;
            for (int q = 0; q < Q; q++) be += C[q * n + i] * D[q];
            be *= wg2;
            int ri = i % R1, vi = i / R1;
            if (t < (int)p->init_steps && ri < (int)p->init_orders)
                be += wi2 * u[((b * p->init_steps + t) * V + vi) * p->init_orders + ri];
            rhs[(size_t)t * n + i] = be;
            for (int j = 0; j <= i; j++) {
                int rj = j % R1, vj = j / R1;
                double m = 0;
                for (int q = 0; q < Q; q++) m += C[q * n + i] * C[q * n + j];
                m *= wg2;
                if (i == j && t < (int)p->init_steps && ri < (int)p->init_orders) m += wi2;
                if (vi == vj) {
                    int k = ri + rj;
                    double g = 0;
                    for (int l = 0; l <= (ri < rj ? ri : rj); l++)
                        g += inv_fact(ri - l) * inv_fact(rj - l);
                    double sm = 0;
                    if (t < T - 1) {
                        double ak = pow(s[b * (T - 1) + t], k);
                        sm += g * ak + (ri == rj ? ak : 0);
                    }
                    if (t > 0) {
                        double pk = pow(s[b * (T - 1) + t - 1], k);
                        sm += ((k & 1) ? -g : g) * pk + (ri == rj ? pk : 0);
                    }
                    m += ws2 * sm;
                }
                size_t gi = (size_t)t * n + i, gj = (size_t)t * n + j;
                ab[(gi - gj) + gj * ldab] = m;
            }
            if (t < T - 1) { /* N_t: rows at t+1, columns at t */
                for (int j = 0; j < n; j++) {
                    int rj = j % R1, vj = j / R1;
                    if (vi != vj) continue;
                    int k = ri + rj;
                    double f = rj >= ri ? inv_fact(rj - ri) : 0, ft = ri >= rj ? inv_fact(ri - rj) : 0;
                    double v = -ws2 * pow(s[b * (T - 1) + t], k) * (f + ((k & 1) ? -ft : ft));
                    size_t gi = (size_t)(t + 1) * n + i, gj = (size_t)t * n + j;
                    ab[(gi - gj) + gj * ldab] = v;
                }
            }
        }
    }
}

int peer_lapack_prepare(const smnn_problem *p, const double *c, const double *d, const double *u,
                        const double *s, peer_lapack *out) {
    size_t n = p->dims * p->orders, N = p->steps * n, ldab = 2 * n;
    out->p = *p;
    out->N = N;
    out->ldab = ldab;
    out->ab = out->work = out->rhs = out->x = NULL;
    size_t band, vec;
    if (hu_mul_n(&band, 3, p->batch, N, ldab) || hu_mul(p->batch, N, &vec)) return -1;
    out->ab = hu_alloc(band, sizeof(double));
    out->work = hu_alloc(band, sizeof(double));
    out->rhs = hu_alloc(vec, sizeof(double));
    out->x = hu_alloc(vec, sizeof(double));
    if (!out->ab || !out->work || !out->rhs || !out->x) return -1;
    #pragma omp parallel for schedule(static)
    for (size_t b = 0; b < p->batch; b++)
        assemble(p, b, c, d, u, s, out->ab + b * N * ldab, out->rhs + b * N);
    return 0;
}

int peer_lapack_run(peer_lapack *pl) {
    size_t B = pl->p.batch, N = pl->N, ldab = pl->ldab;
    int failures = 0;
    memcpy(pl->work, pl->ab, B * N * ldab * sizeof(double));
    memcpy(pl->x, pl->rhs, B * N * sizeof(double));
    #pragma omp parallel for schedule(static) reduction(+ : failures)
    for (size_t b = 0; b < B; b++) {
        lapack_int kd = (lapack_int)ldab - 1;
        lapack_int info = LAPACKE_dpbtrf(LAPACK_COL_MAJOR, 'L', (lapack_int)N, kd,
                                         pl->work + b * N * ldab, (lapack_int)ldab);
        if (info == 0)
            info = LAPACKE_dpbtrs(LAPACK_COL_MAJOR, 'L', (lapack_int)N, kd, 1,
                                  pl->work + b * N * ldab, (lapack_int)ldab, pl->x + b * N,
                                  (lapack_int)N);
        failures += info != 0;
    }
    return failures;
}

void peer_lapack_free(peer_lapack *pl) {
    free(pl->ab);
    free(pl->work);
    free(pl->rhs);
    free(pl->x);
}
