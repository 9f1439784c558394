/* Solves y' + y = 0 for three starting values in one batched call and prints y(1). */
#include <math.h>
#include <stdio.h>
#include <smnn/smnn.h>

int main(void) {
    smnn_context *ctx = NULL;
    smnn_plan *plan = NULL;
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = 3;   /* three independent systems */
    p.steps = 101; /* time points 0, 0.01, ..., 1 */
    p.orders = 3;  /* solve for y, y' and y'' */
    /* One equation and one step size for every system and time point: passed once. */
    p.shared = SMNN_SHARE_C_BATCH | SMNN_SHARE_C_TIME | SMNN_SHARE_D_BATCH | SMNN_SHARE_D_TIME |
               SMNN_SHARE_S_BATCH | SMNN_SHARE_S_TIME;
    double c[3] = {1, 1, 0}; /* 1*y + 1*y' + 0*y'' ... */
    double d[1] = {0};       /* ... = 0 */
    double u[3] = {1, 2, 3}; /* y(0) of each system */
    double s[1] = {0.01};    /* step between time points */
    double y[3 * 101 * 3];   /* (B, T, V, n_orders) */

    smnn_status st = smnn_context_create(NULL, &ctx); /* $SMNN_DEVICE or the default device */
    if (st == SMNN_SUCCESS) st = smnn_plan_create(ctx, &p, NULL, &plan); /* default options */
    if (st == SMNN_SUCCESS) st = smnn_solve(plan, c, d, u, s, y);
    if (st != SMNN_SUCCESS) {
        fprintf(stderr, "smnn: %s\n", smnn_last_error());
        return 1;
    }
    int ok = 1;
    for (int b = 0; b < 3; b++) {
        double y1 = y[(b * 101 + 100) * 3 + 0], exact = u[b] * exp(-1.0);
        printf("system %d: y(1) = %.8f, exact %.8f, relative error %.1e\n", b, y1, exact,
               fabs(y1 - exact) / exact);
        ok &= fabs(y1 - exact) < 1e-4 * exact; /* discretisation error of h = 0.01 */
    }
    smnn_plan_free(plan);
    smnn_context_free(ctx);
    return ok ? 0 : 1;
}
