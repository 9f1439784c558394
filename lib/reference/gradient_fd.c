/* Reference gradients by central finite differences of the dense reference solver.
 *
 * For the loss l = sum(grad_y * y), each input element x_j is perturbed by +-h (h = 1e-6 max(1,
 * |x_j|), or 1e-6 s_j for steps) and dl/dx_j = (l(x + h) - l(x - h)) / 2h. Independent of the
 * kernels' analytic adjoint, which it checks; the cost is two dense solves per input element,
 * so it is meant for small problems. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

static smnn_status loss(const smnn_problem *p, const double *c, const double *d, const double *u,
                        const double *s, const double *gy, double *y, size_t max_bytes,
                        double *out) {
    FORWARD_IF_ERROR(smnn_reference_solve(p, c, d, u, s, y, max_bytes));
    double l = 0;
    for (size_t i = 0; i < smnn_problem_y_count(p); i++) l += gy[i] * y[i];
    *out = l;
    return SMNN_SUCCESS;
}

smnn_status smnn_reference_gradient(const smnn_problem *p, const double *c, const double *d,
                                    const double *u, const double *s, const double *grad_y,
                                    double *grad_c, double *grad_d, double *grad_u,
                                    double *grad_s, size_t max_bytes) {
    smnn__clear_error();
    FORWARD_IF_ERROR(smnn_problem_validate(p));
    size_t ny = smnn_problem_y_count(p);
    /* grad_y is checked like every input: a NaN in it would make every gradient NaN. */
    FORWARD_IF_ERROR(smnn__reference_check_values("grad_y", grad_y, ny, 0));
    size_t counts[4] = {smnn_problem_c_count(p), smnn_problem_d_count(p), smnn_problem_u_count(p),
                        smnn_problem_s_count(p)};
    /* The cap covers this function's own arrays too: y, a copy of each input and a gradient
     * of each requested one, on top of the solves' working memory. */
    FORWARD_IF_ERROR(smnn__reference_cap(&max_bytes));
    double *wanted[4] = {grad_c, grad_d, grad_u, grad_s};
    size_t own = ny, solve = smnn_reference_bytes(p);
    int wraps = 0;
    for (int k = 0; k < 4; k++) {
        size_t per = wanted[k] ? 2 : 1; /* the copy, and the gradient when requested */
        if (counts[k] > (SIZE_MAX - own) / per) wraps = 1;
        else own += per * counts[k];
    }
    if (wraps || smnn__mul_overflows(own, sizeof(double), &own) || solve > max_bytes ||
        own > max_bytes - solve)
        return FAIL_HERE(SMNN_ERROR_TOO_LARGE,
                         "the reference gradient needs %zu bytes of its own and %zu for each "
                         "dense solve (cap %zu bytes); use a smaller problem or raise the cap",
                         wraps ? (size_t)SIZE_MAX : own, solve, max_bytes);
    const double *ins[4] = {c, d, u, s};
    double *outs[4] = {grad_c, grad_d, grad_u, grad_s};
    double *y = malloc(smnn_problem_y_count(p) * sizeof *y);
    double *copy[4] = {NULL, NULL, NULL, NULL};
    smnn_status st = y ? SMNN_SUCCESS : FAIL_HERE(SMNN_ERROR_OUT_OF_HOST_MEMORY, "y");
    /* The solve validates every input; a first solve also checks the sizes against the cap. */
    double l0;
    if (st == SMNN_SUCCESS) st = loss(p, c, d, u, s, grad_y, y, max_bytes, &l0);
    for (int k = 0; k < 4 && st == SMNN_SUCCESS; k++) {
        copy[k] = malloc(counts[k] * sizeof(double));
        if (!copy[k]) st = FAIL_HERE(SMNN_ERROR_OUT_OF_HOST_MEMORY, "input copy");
        else memcpy(copy[k], ins[k], counts[k] * sizeof(double));
    }
    double *scratch[4] = {NULL, NULL, NULL, NULL};
    for (int k = 0; k < 4 && st == SMNN_SUCCESS; k++) {
        if (!outs[k]) continue;
        scratch[k] = malloc(counts[k] * sizeof(double));
        if (!scratch[k]) {
            st = FAIL_HERE(SMNN_ERROR_OUT_OF_HOST_MEMORY, "gradient");
            break;
        }
        for (size_t j = 0; j < counts[k] && st == SMNN_SUCCESS; j++) {
            double x0 = copy[k][j];
            double h = k == 3 ? 1e-6 * x0 : 1e-6 * fmax(1.0, fabs(x0));
            double lp = 0, lm = 0;
            copy[k][j] = x0 + h;
            st = loss(p, copy[0], copy[1], copy[2], copy[3], grad_y, y, max_bytes, &lp);
            copy[k][j] = x0 - h;
            if (st == SMNN_SUCCESS)
                st = loss(p, copy[0], copy[1], copy[2], copy[3], grad_y, y, max_bytes, &lm);
            copy[k][j] = x0;
            scratch[k][j] = (lp - lm) / (2 * h);
        }
    }
    /* Outputs are written only when everything succeeded. */
    for (int k = 0; k < 4 && st == SMNN_SUCCESS; k++)
        if (outs[k]) memcpy(outs[k], scratch[k], counts[k] * sizeof(double));
    for (int k = 0; k < 4; k++) {
        free(copy[k]);
        free(scratch[k]);
    }
    free(y);
    return st;
}
