/* The dense host reference: builds A, W and b row by row from the paper's Appendix A.1
 * (Eqs. 4-7) and solves the weighted least-squares problem with LAPACK's QR (dgels).
 *
 * This file deliberately shares no formula with the kernels (which use the A.2 block forms): each
 * constraint of the paper becomes one row, scaled by the square root of its weight, so that the
 * two implementations check each other. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

typedef struct dims {
    size_t T, V, R1, Q, Ti, Ri1, n, m, N; /* n: block size, N = T n unknowns, m rows */
} dims;

static dims dims_of(const smnn_problem *p) {
    dims d;
    d.T = p->steps;
    d.V = p->dims;
    d.R1 = p->orders;
    d.Q = p->equations;
    d.Ti = p->init_steps;
    d.Ri1 = p->init_orders;
    d.n = d.V * d.R1;
    d.N = d.T * d.n;
    d.m = d.T * d.Q + d.Ti * d.V * d.Ri1 + 2 * (d.T - 1) * d.V * d.R1;
    return d;
}

size_t smnn_reference_bytes(const smnn_problem *p) {
    if (!p || p->struct_size != sizeof *p || p->steps < 2 || p->init_steps > p->steps ||
        p->init_orders > p->orders || !p->dims || !p->orders || !p->equations || !p->batch)
        return 0;
    dims d = dims_of(p);
    size_t a, total;
    if (smnn__mul_overflows(d.m, d.N, &a) || smnn__mul_overflows(a + d.m, sizeof(double), &total))
        return SIZE_MAX;
    /* dgels' workspace is about N * 64 doubles on top of A and b. */
    return total + d.N * 64 * sizeof(double);
}

/* Checks that count values are finite (and > 0 for steps); names the first bad one. */
static smnn_status check_values(const char *name, const double *x, size_t count, int positive) {
    if (!x) return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL", name);
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(x[i]))
            return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "%s[%zu] = %g is not finite", name, i,
                        x[i]);
        if (positive && !(x[i] > 0))
            return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "%s[%zu] = %g, steps must be > 0",
                        name, i, x[i]);
    }
    return SMNN_SUCCESS;
}

static double inv_fact(size_t k) {
    double f = 1;
    for (size_t i = 2; i <= k; i++) f *= (double)i;
    return 1 / f;
}

/* Fills the column-major m x N matrix A (lda = m) and b of one system. */
static void build_system(const smnn_problem *p, const dims *g, size_t b, const double *c,
                         const double *dv, const double *u, const double *s, double *A,
                         double *rhs) {
    const unsigned sh = p->shared;
    const size_t m = g->m, n = g->n, R1 = g->R1;
    const double wg = p->w_gov, wi = p->w_init, wsm = p->w_smooth;
#define AT(row, col) A[(col) * m + (row)]
    size_t row = 0;
    /* Eq. 4: governing equations, weight w_gov^2. */
    for (size_t t = 0; t < g->T; t++) {
        size_t cb = (sh & SMNN_SHARE_C_BATCH) ? 0 : b;
        size_t ct = (sh & SMNN_SHARE_C_TIME) ? 0 : t;
        size_t cT = (sh & SMNN_SHARE_C_TIME) ? 1 : g->T;
        size_t db = (sh & SMNN_SHARE_D_BATCH) ? 0 : b;
        size_t dt = (sh & SMNN_SHARE_D_TIME) ? 0 : t;
        size_t dT = (sh & SMNN_SHARE_D_TIME) ? 1 : g->T;
        for (size_t q = 0; q < g->Q; q++, row++) {
            const double *cr = c + ((cb * cT + ct) * g->Q + q) * n;
            for (size_t v = 0; v < g->V; v++)
                for (size_t r = 0; r < R1; r++)
                    AT(row, t * n + v * R1 + r) = wg * cr[v * R1 + r];
            rhs[row] = wg * dv[(db * dT + dt) * g->Q + q];
        }
    }
    /* Eq. 5: initial values for t < T_init and orders r < n_init_orders, weight w_init^2. */
    for (size_t t = 0; t < g->Ti; t++) {
        size_t ub = (sh & SMNN_SHARE_U_BATCH) ? 0 : b;
        size_t ut = (sh & SMNN_SHARE_U_TIME) ? 0 : t;
        size_t uT = (sh & SMNN_SHARE_U_TIME) ? 1 : g->Ti;
        for (size_t v = 0; v < g->V; v++)
            for (size_t r = 0; r < g->Ri1; r++, row++) {
                AT(row, t * n + v * R1 + r) = wi;
                rhs[row] = wi * u[((ub * uT + ut) * g->V + v) * g->Ri1 + r];
            }
    }
    /* Eqs. 6 and 7: forward and backward Taylor constraints between t and t+1, the order-r row
     * weighted by (w_smooth s_t^r)^2, i.e. scaled by w_smooth s_t^r. */
    for (int dir = 0; dir < 2; dir++) {
        for (size_t t = 0; t + 1 < g->T; t++) {
            size_t sb = (sh & SMNN_SHARE_S_BATCH) ? 0 : b;
            size_t st = (sh & SMNN_SHARE_S_TIME) ? 0 : t;
            size_t sT = (sh & SMNN_SHARE_S_TIME) ? 1 : g->T - 1;
            double h = s[sb * sT + st];
            /* forward: y_{t+1,r} = sum_{r'>=r} h^(r'-r)/(r'-r)! y_{t,r'}
             * backward: y_{t,r} = sum_{r'>=r} (-h)^(r'-r)/(r'-r)! y_{t+1,r'} */
            size_t lhs_t = dir == 0 ? t + 1 : t, sum_t = dir == 0 ? t : t + 1;
            double hs = dir == 0 ? h : -h;
            for (size_t v = 0; v < g->V; v++) {
                for (size_t r = 0; r < R1; r++, row++) {
                    double scale = wsm * pow(h, (double)r);
                    AT(row, lhs_t * n + v * R1 + r) += scale;
                    for (size_t rp = r; rp < R1; rp++)
                        AT(row, sum_t * n + v * R1 + rp) -=
                            scale * pow(hs, (double)(rp - r)) * inv_fact(rp - r);
                    rhs[row] = 0;
                }
            }
        }
    }
#undef AT
}

smnn_status smnn_reference_solve(const smnn_problem *p, const double *c, const double *d,
                                 const double *u, const double *s, double *y, size_t max_bytes) {
    smnn__clear_error();
    FORWARD_IF_ERROR(smnn_problem_validate(p));
    FORWARD_IF_ERROR(check_values("coefficients", c, smnn_problem_c_count(p), 0));
    FORWARD_IF_ERROR(check_values("rhs", d, smnn_problem_d_count(p), 0));
    FORWARD_IF_ERROR(check_values("init", u, smnn_problem_u_count(p), 0));
    FORWARD_IF_ERROR(check_values("steps", s, smnn_problem_s_count(p), 1));
    if (!y) return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "argument 'y' is NULL");
    if (max_bytes == 0) {
        max_bytes = SMNN_REFERENCE_DEFAULT_MAX_BYTES;
        const char *env = getenv("SMNN_REFERENCE_MAX_BYTES");
        if (env && *env) {
            char *end;
            unsigned long long v = strtoull(env, &end, 10);
            if (*end || v == 0)
                return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT,
                            "SMNN_REFERENCE_MAX_BYTES='%s' is not a positive integer", env);
            max_bytes = (size_t)v;
        }
    }
    size_t need = smnn_reference_bytes(p);
    if (need > max_bytes)
        return FAIL_HERE(SMNN_ERROR_TOO_LARGE,
                    "the dense reference needs %zu bytes for T = %zu, n = %zu (cap %zu bytes); it "
                    "is O(T^2) in memory, use a smaller problem or raise the cap",
                    need, p->steps, p->dims * p->orders, max_bytes);
    dims g = dims_of(p);
    double *A = malloc(g.m * g.N * sizeof *A);
    double *rhs = malloc(g.m * sizeof *rhs);
    /* Solutions go to a scratch copy first so that y is written only on success. */
    double *out = malloc(p->batch * g.N * sizeof *out);
    if (!A || !rhs || !out) {
        free(A);
        free(rhs);
        free(out);
        return FAIL_HERE(SMNN_ERROR_OUT_OF_HOST_MEMORY, "dense reference: %zu bytes", need);
    }
    smnn_status st = SMNN_SUCCESS;
    for (size_t b = 0; b < p->batch && st == SMNN_SUCCESS; b++) {
        memset(A, 0, g.m * g.N * sizeof *A);
        build_system(p, &g, b, c, d, u, s, A, rhs);
        lapack_int info = LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)g.m, (lapack_int)g.N,
                                        1, A, (lapack_int)g.m, rhs, (lapack_int)g.m);
        if (info > 0)
            st = FAIL_HERE(SMNN_ERROR_LAPACK,
                      "system %zu: A is rank deficient (dgels: R(%d,%d) = 0); the constraints do "
                      "not determine y", b, (int)info, (int)info);
        else if (info < 0)
            st = FAIL_HERE(SMNN_ERROR_LAPACK, "dgels rejected argument %d", (int)-info);
        else
            memcpy(out + b * g.N, rhs, g.N * sizeof *out);
    }
    if (st == SMNN_SUCCESS) memcpy(y, out, p->batch * g.N * sizeof *y);
    free(A);
    free(rhs);
    free(out);
    return st;
}
