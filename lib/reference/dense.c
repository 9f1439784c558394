/* The dense host reference: builds A, W and b row by row from the paper's Appendix A.1
 * (Eqs. 4-7) and solves the weighted least-squares problem with LAPACK's Householder QR.
 *
 * The weights enter as row scalings, and they may spread over many orders of magnitude (w_init =
 * 1e15 against smoothness rows of order 1). Householder QR of such a matrix is only accurate with
 * row and column pivoting (Powell and Reid; Cox and Higham, "Stability of Householder QR
 * factorization for weighted least squares problems", 1998): the rows are sorted by
 * decreasing max-norm and the factorization pivots columns (dgeqp3). A diagonal entry of R that
 * is tiny relative to its column's norm means the constraints do not determine y (rank
 * deficiency): reported, never solved into a meaningless y.
 *
 * This file deliberately shares no formula with the kernels (which use the A.2 block forms): each
 * constraint of the paper becomes one row, scaled by the square root of its weight, so that the
 * two implementations check each other. */
#include <float.h>
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

/* The working memory of one call, in bytes; SIZE_MAX when it overflows. Everything allocated
 * is counted: A (m x N), b (m), the batch's solutions (B x N, so that y is written only on
 * success), the row order and a row of scratch (m each), the column norms, Householder scalars
 * and column permutation (N each) and LAPACK's workspace (64 N). */
static size_t working_bytes(const smnn_problem *p) {
    dims d = dims_of(p);
    /* terms[i][0] * terms[i][1] elements of terms[i][2] bytes each. */
    const size_t terms[][3] = {{d.m, d.N, sizeof(double)},  {p->batch, d.N, sizeof(double)},
                               {d.m, 2, sizeof(double)},    {d.N, 66, sizeof(double)},
                               {d.m, 1, sizeof(size_t)},    {d.N, 1, sizeof(lapack_int)}};
    size_t total = 0;
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        size_t t;
        if (smnn__mul_overflows(terms[i][0], terms[i][1], &t) ||
            smnn__mul_overflows(t, terms[i][2], &t) || t > SIZE_MAX - total)
            return SIZE_MAX;
        total += t;
    }
    return total;
}

size_t smnn_reference_bytes(const smnn_problem *p) {
    if (smnn__problem_check(p, NULL, 0) != SMNN_SUCCESS) return 0;
    return working_bytes(p);
}

smnn_status smnn__reference_cap(size_t *max_bytes) {
    if (*max_bytes) return SMNN_SUCCESS;
    *max_bytes = SMNN_REFERENCE_DEFAULT_MAX_BYTES;
    const char *env = getenv("SMNN_REFERENCE_MAX_BYTES");
    if (!env || !*env) return SMNN_SUCCESS;
    /* Digits only: strtoull alone would read "-1" as 2^64 - 1 (no cap at all), and accept
     * leading blanks, a sign and values that overflow. */
    size_t v = 0;
    int ok = 1;
    for (const char *q = env; *q && ok; q++) {
        unsigned digit = (unsigned)(*q - '0');
        if (*q < '0' || *q > '9' || v > (SIZE_MAX - digit) / 10)
            ok = 0;
        else
            v = v * 10 + digit;
    }
    if (!ok || v == 0)
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT,
                         "SMNN_REFERENCE_MAX_BYTES='%s' is not a positive decimal number of bytes "
                         "(digits only, at most %zu)",
                         env, (size_t)SIZE_MAX);
    *max_bytes = v;
    return SMNN_SUCCESS;
}

/* Checks that count values are finite (and > 0 for steps); names the first bad one. */
smnn_status smnn__reference_check_values(const char *name, const double *x, size_t count, int positive) {
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

/* Row weights of the sort: the max-norm of each row of A. */
static _Thread_local const double *sort_keys;

static int heavier_first(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double wi = sort_keys[i], wj = sort_keys[j];
    if (wi != wj) return wi > wj ? -1 : 1;
    return i < j ? -1 : i > j; /* ties keep the build order, so the result is deterministic */
}

/* Solves one system in place: rows sorted heaviest first, A P = QR with column pivoting
 * (dgeqp3), the rank checked on R's diagonal, then R z = (Q^T b)[0..N) (dormqr, dtrtrs) and
 * y = P z, left in y[0..N). */
static smnn_status solve_one(const dims *g, size_t b, double *A, double *rhs, double *y,
                             double *row, double *norms, double *tau, double *work, size_t lwork,
                             size_t *order, lapack_int *jpvt) {
    const size_t m = g->m, N = g->N;
    for (size_t i = 0; i < m; i++) {
        double w = 0;
        for (size_t j = 0; j < N; j++) w = fmax(w, fabs(A[j * m + i]));
        row[i] = w;
        order[i] = i;
    }
    /* qsort has no context argument: the keys go through a thread-local pointer. */
    sort_keys = row;
    qsort(order, m, sizeof *order, heavier_first);
    for (size_t j = 0; j <= N; j++) {
        double *col = j < N ? A + j * m : rhs;
        for (size_t i = 0; i < m; i++) row[i] = col[order[i]];
        memcpy(col, row, m * sizeof *row);
    }
    for (size_t j = 0; j < N; j++) {
        double sum = 0, scale = 0;
        for (size_t i = 0; i < m; i++) scale = fmax(scale, fabs(A[j * m + i]));
        for (size_t i = 0; scale > 0 && i < m; i++) {
            double v = A[j * m + i] / scale;
            sum += v * v;
        }
        norms[j] = scale * sqrt(sum);
        jpvt[j] = 0; /* every column free to move */
    }
    /* Column pivoting takes the heavy columns (those of the heavily weighted rows) first, so
     * each heavy row is used up by its own column's reflection before a light column's
     * reflection could spread it over the light rows (Powell and Reid's row and column
     * pivoting; sorting the rows alone is not enough). */
    lapack_int info = LAPACKE_dgeqp3_work(LAPACK_COL_MAJOR, (lapack_int)m, (lapack_int)N, A,
                                          (lapack_int)m, jpvt, tau, work, (lapack_int)lwork);
    if (info != 0) return FAIL_HERE(SMNN_ERROR_LAPACK, "dgeqp3 failed with info %d", (int)info);
    /* Rank: in exact arithmetic a dependent column leaves R(j,j) = 0; in floating point it is
     * rounding noise, a few eps of the column's norm. A full-rank column, however ill-scaled
     * its neighbours, keeps a diagonal far above that. */
    const double tol = 1e3 * DBL_EPSILON * sqrt((double)m);
    for (size_t j = 0; j < N; j++) {
        size_t col = (size_t)jpvt[j] - 1;
        double r = fabs(A[j * m + j]);
        if (!(r > tol * norms[col]))
            return FAIL_HERE(SMNN_ERROR_NOT_POSITIVE_DEFINITE,
                             "system %zu: the weighted constraints are rank deficient (unknown %zu "
                             "= time point %zu, block entry %zu: |R| = %.3g against a column "
                             "norm of %.3g); they do not determine y",
                             b, col, col / g->n, col % g->n, r, norms[col]);
    }
    info = LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'L', 'T', (lapack_int)m, 1, (lapack_int)N, A,
                               (lapack_int)m, tau, rhs, (lapack_int)m, work, (lapack_int)lwork);
    if (info != 0) return FAIL_HERE(SMNN_ERROR_LAPACK, "dormqr failed with info %d", (int)info);
    info = LAPACKE_dtrtrs_work(LAPACK_COL_MAJOR, 'U', 'N', 'N', (lapack_int)N, 1, A,
                               (lapack_int)m, rhs, (lapack_int)m);
    if (info != 0) return FAIL_HERE(SMNN_ERROR_LAPACK, "dtrtrs failed with info %d", (int)info);
    for (size_t j = 0; j < N; j++) {
        if (!isfinite(rhs[j]))
            return FAIL_HERE(SMNN_ERROR_NOT_POSITIVE_DEFINITE,
                             "system %zu: the solution overflowed (unknown %zu is %g)", b,
                             (size_t)jpvt[j] - 1, rhs[j]);
        y[jpvt[j] - 1] = rhs[j];
    }
    return SMNN_SUCCESS;
}

smnn_status smnn_reference_solve(const smnn_problem *p, const double *c, const double *d,
                                 const double *u, const double *s, double *y, size_t max_bytes) {
    smnn__clear_error();
    FORWARD_IF_ERROR(smnn_problem_validate(p));
    FORWARD_IF_ERROR(smnn__reference_check_values("coefficients", c, smnn_problem_c_count(p), 0));
    FORWARD_IF_ERROR(smnn__reference_check_values("rhs", d, smnn_problem_d_count(p), 0));
    FORWARD_IF_ERROR(smnn__reference_check_values("init", u, smnn_problem_u_count(p), 0));
    FORWARD_IF_ERROR(smnn__reference_check_values("steps", s, smnn_problem_s_count(p), 1));
    if (!y) return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "argument 'y' is NULL");
    FORWARD_IF_ERROR(smnn__reference_cap(&max_bytes));
    size_t need = working_bytes(p);
    if (need > max_bytes)
        return FAIL_HERE(SMNN_ERROR_TOO_LARGE,
                         "the dense reference needs %zu bytes for batch %zu, T = %zu, n = %zu "
                         "(cap %zu bytes); it is O(T^2) in memory, use a smaller problem or raise "
                         "the cap",
                         need, p->batch, p->steps, p->dims * p->orders, max_bytes);
    dims g = dims_of(p);
    /* Sizes are below the cap, so no product here overflows. */
    size_t lwork = 64 * g.N;
    double *A = malloc(g.m * g.N * sizeof *A);
    double *rhs = malloc(g.m * sizeof *rhs);
    double *out = malloc(p->batch * g.N * sizeof *out);
    double *row = malloc(g.m * sizeof *row);
    double *norms = malloc(g.N * sizeof *norms);
    double *tau = malloc(g.N * sizeof *tau);
    double *work = malloc(lwork * sizeof *work);
    size_t *order = malloc(g.m * sizeof *order);
    lapack_int *jpvt = malloc(g.N * sizeof *jpvt);
    smnn_status st = SMNN_SUCCESS;
    if (!A || !rhs || !out || !row || !norms || !tau || !work || !order || !jpvt)
        st = FAIL_HERE(SMNN_ERROR_OUT_OF_HOST_MEMORY, "dense reference: %zu bytes", need);
    for (size_t b = 0; b < p->batch && st == SMNN_SUCCESS; b++) {
        memset(A, 0, g.m * g.N * sizeof *A);
        build_system(p, &g, b, c, d, u, s, A, rhs);
        st = solve_one(&g, b, A, rhs, out + b * g.N, row, norms, tau, work, lwork, order, jpvt);
    }
    if (st == SMNN_SUCCESS) memcpy(y, out, p->batch * g.N * sizeof *y);
    free(A);
    free(rhs);
    free(out);
    free(row);
    free(norms);
    free(tau);
    free(work);
    free(order);
    free(jpvt);
    return st;
}
