/* The six validation ODEs of the paper (Appendix B.1): definitions, closed forms, problems. */
#include "odes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const ode_def ode_table[6] = {
    /* y / c1 + c2 y' = c0, (c0, c1, c2) = (0.7, 1.2, 2.31), y(0) = 10 */
    {"RC circuit", "rc", 1, {1.0 / 1.2, 2.31, 0, 0}, 0.7, {10, 0, 0}},
    /* c0 y - y' = 0, c0 = 0.23, y(0) = 4.78 */
    {"Population growth", "population", 1, {0.23, -1, 0, 0}, 0, {4.78, 0, 0}},
    /* (c0 + c1) y + y' = c0, (c0, c1) = (0.32, 0.28), y(0) = 0.14 */
    {"Language death", "language", 1, {0.32 + 0.28, 1, 0, 0}, 0.32, {0.14, 0, 0}},
    /* c0 y + y'' = 0, c0 = 2.1, (y, y')(0) = (0.4, -0.03) */
    {"Harmonic oscillator", "harmonic", 2, {2.1, 0, 1, 0}, 0, {0.4, -0.03, 0}},
    /* c0 y + c1 y' + y'' = 0, (c0, c1) = (4.5, 0.43), (y, y')(0) = (0.12, 0.043) */
    {"Damped harmonic oscillator", "damped", 2, {4.5, 0.43, 1, 0}, 0, {0.12, 0.043, 0}},
    /* y' + y'' + y''' = 0, (y, y', y'')(0) = (0, -1, 1) */
    {"Third-order ODE", "third-order", 3, {0, 1, 1, 1}, 0, {0, -1, 1}},
};

/* k-th derivative of e^(a t) (P cos(b t) + Q sin(b t)), by differentiating the pair (P, Q). */
static double exp_trig(double a, double b, double P, double Q, int k, double t) {
    for (int i = 0; i < k; i++) {
        double nP = a * P + b * Q, nQ = a * Q - b * P;
        P = nP;
        Q = nQ;
    }
    return exp(a * t) * (P * cos(b * t) + Q * sin(b * t));
}

double ode_exact(const ode_def *o, int k, double t) {
    const double *u = o->init;
    if (!strcmp(o->key, "rc")) {
        double c0 = 0.7, c1 = 1.2, c2 = 2.31, A = c0 * c1;
        return (k == 0 ? A : 0) + exp_trig(-1 / (c1 * c2), 0, u[0] - A, 0, k, t);
    }
    if (!strcmp(o->key, "population")) return exp_trig(0.23, 0, u[0], 0, k, t);
    if (!strcmp(o->key, "language")) {
        double kk = 0.32 + 0.28, A = 0.32 / kk;
        return (k == 0 ? A : 0) - exp_trig(-kk, 0, A - u[0], 0, k, t);
    }
    if (!strcmp(o->key, "harmonic")) {
        double w = sqrt(2.1);
        return exp_trig(0, w, u[0], u[1] / w, k, t);
    }
    if (!strcmp(o->key, "damped")) {
        double c0 = 4.5, c1 = 0.43, r = sqrt(4 * c0 - c1 * c1);
        return exp_trig(-c1 / 2, r / 2, u[0], (c1 * u[0] + 2 * u[1]) / r, k, t);
    }
    /* third order */
    double b = sqrt(3.0) / 2;
    return (k == 0 ? u[0] + u[1] + u[2] : 0) +
           exp_trig(-0.5, b, -(u[1] + u[2]), sqrt(3.0) / 3 * (u[1] - u[2]), k, t);
}

int ode_problem(const ode_def *o, ode_form form, size_t T, double h, size_t n_orders,
                size_t copies, smnn_problem *p, double **c, double **d, double **u, double **s) {
    smnn_problem_init(p);
    p->batch = copies;
    p->steps = T;
    p->orders = n_orders;
    p->init_steps = 1;
    p->shared = SMNN_SHARE_C_BATCH | SMNN_SHARE_C_TIME | SMNN_SHARE_D_BATCH | SMNN_SHARE_D_TIME |
                SMNN_SHARE_U_BATCH | SMNN_SHARE_S_BATCH | SMNN_SHARE_S_TIME;
    size_t V = form == ODE_SINGLE ? 1 : (size_t)o->order;
    size_t Q = V, n = V * n_orders;
    if (form == ODE_SINGLE && n_orders < (size_t)o->order + 1) return -1;
    if (form == ODE_SYSTEM && n_orders < 2) return -1;
    p->dims = V;
    p->equations = Q;
    p->init_orders = form == ODE_SINGLE ? (size_t)o->order : 1;
    *c = calloc(Q * n, sizeof **c);
    *d = calloc(Q, sizeof **d);
    *u = calloc(V * p->init_orders, sizeof **u);
    *s = malloc(sizeof **s);
    if (!*c || !*d || !*u || !*s) {
        /* Nothing stays allocated on failure: the callers only free after success. */
        double **all[4] = {c, d, u, s};
        for (int i = 0; i < 4; i++) {
            free(*all[i]);
            *all[i] = NULL;
        }
        return -1;
    }
    (*s)[0] = h;
    if (form == ODE_SINGLE) {
        for (int r = 0; r <= o->order; r++) (*c)[r] = o->coef[r];
        (*d)[0] = o->rhs;
        for (int r = 0; r < o->order; r++) (*u)[r] = o->init[r];
    } else {
        /* Variables y_v = y^(v). Equations v < order-1: y_v' - y_{v+1} = 0; the last one is the
         * ODE written in the variables: sum_{v<order} coef[v] y_v + coef[order] y_{order-1}' = rhs */
        int m = o->order;
        for (int q = 0; q < m - 1; q++) {
            (*c)[q * n + q * n_orders + 1] = 1;
            (*c)[q * n + (q + 1) * n_orders + 0] = -1;
        }
        double *last = *c + (size_t)(m - 1) * n;
        for (int v = 0; v < m; v++) last[v * n_orders + 0] += o->coef[v];
        last[(m - 1) * n_orders + 1] += o->coef[m];
        (*d)[m - 1] = o->rhs;
        for (int v = 0; v < m; v++) (*u)[v] = o->init[v];
    }
    return 0;
}

double ode_rel_mse(const ode_def *o, ode_form form, const smnn_problem *p, const double *y,
                   size_t b, int k, double h) {
    (void)form;
    size_t T = p->steps, n = p->dims * p->orders;
    if ((size_t)k >= p->orders) return NAN;
    double mean = 0, mse = 0;
    for (size_t t = 0; t < T; t++) mean += ode_exact(o, k, (double)t * h);
    mean /= (double)T;
    double var = 0;
    for (size_t t = 0; t < T; t++) {
        double e = ode_exact(o, k, (double)t * h);
        double diff = y[(b * T + t) * n + (size_t)k] - e; /* variable 0, order k */
        mse += diff * diff;
        var += (e - mean) * (e - mean);
    }
    return (mse / (double)T) / (var / (double)T);
}
