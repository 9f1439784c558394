/* The six linear ODEs of the paper's standalone validation (Appendix B.1), with their constants,
 * initial values and closed-form solutions (y and its derivatives), and their translation into
 * smnn problems in two formulations:
 *  - SINGLE: one higher-order equation in one variable (V = 1, Q = 1);
 *  - SYSTEM: the equivalent first-order system y_1 = y, y_2 = y', ... (V = order, Q = order),
 *    the form behind the paper's numbers for the harmonic oscillators.
 * Shared by smnn-validate, smnn-info's self-check and the tests. */
#ifndef SMNN_ODES_H
#define SMNN_ODES_H

#include <stddef.h>

#include <smnn/smnn.h>

typedef enum ode_form { ODE_SINGLE = 0, ODE_SYSTEM = 1 } ode_form;

typedef struct ode_def {
    const char *name;  /* e.g. "RC circuit" */
    const char *key;   /* short id, e.g. "rc" */
    int order;         /* highest derivative in the equation (1..3) */
    double coef[4];    /* the equation: sum_r coef[r] y^(r) = rhs */
    double rhs;
    double init[3];    /* y(0), y'(0), y''(0) (first `order` used) */
} ode_def;

extern const ode_def ode_table[6];
#define ODE_COUNT 6

/* The k-th derivative (k = 0..3) of the closed-form solution at time t. */
double ode_exact(const ode_def *ode, int k, double t);

/* Fills p and allocates c, d, u, s (caller frees with free()) for `copies` identical systems
 * of the ODE on T points with constant step h. n_orders is the number of derivative orders the
 * solver represents (>= order + 1 for SINGLE; >= 2 for SYSTEM). The inputs are given once and
 * shared across the batch and time (no copies), except u in SINGLE form. Returns 0, or -1
 * (n_orders too small, or out of memory) with nothing left allocated. */
int ode_problem(const ode_def *ode, ode_form form, size_t T, double h, size_t n_orders,
                size_t copies, smnn_problem *p, double **c, double **d, double **u, double **s);

/* Relative MSE of derivative k of y (as solved in problem p from ode_problem, system `b`)
 * against the closed form: MSE / variance of the exact values. */
double ode_rel_mse(const ode_def *ode, ode_form form, const smnn_problem *p, const double *y,
                   size_t b, int k, double h);

#endif
