/* The kernel driver for the Oclgrind pass (tests/oclgrind/run.sh): runs every kernel of the
 * library on small shapes, both variants, one and eight systems per work-item, both precisions
 * (double where the device has fp64), through every entry point: solve (with refinement, so the
 * residual, add and check kernels run too), factor, frozen solve and the backward pass with every
 * gradient (shared inputs, so the reductions run). Each result is compared with the dense
 * reference, so a kernel that the simulator executes differently from the real device fails here
 * even when Oclgrind reports nothing. Exit 0 when every run agreed, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <smnn/smnn.h>

#include "randprob.h"

typedef struct shape {
    size_t B, T, V, R1, Q;
    unsigned shared;
} shape;

static const shape shapes[] = {
    {3, 5, 1, 3, 1, SMNN_SHARE_S_BATCH | SMNN_SHARE_S_TIME},                 /* n = 3 */
    {9, 4, 2, 2, 2, SMNN_SHARE_C_TIME | SMNN_SHARE_D_BATCH},                  /* n = 4, 2 groups */
    {2, 3, 3, 3, 3, SMNN_SHARE_U_BATCH | SMNN_SHARE_C_BATCH},                 /* n = 9 */
};

static double rel_err(const double *a, const double *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]);
        if (!(e <= num)) num = e; /* NaN propagates */
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return num / (den > 0 ? den : 1);
}

static int run(smnn_context *ctx, const shape *sh, smnn_variant v, int vw, smnn_precision prec) {
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = sh->B;
    p.steps = sh->T;
    p.dims = sh->V;
    p.orders = sh->R1;
    p.equations = sh->Q;
    p.init_orders = 2;
    p.shared = sh->shared;
    p.w_init = 2;
    smnn_plan_options o;
    smnn_plan_options_init(&o);
    o.variant = v;
    o.systems_per_item = vw;
    o.precision = prec;
    o.refine_steps = 1;
    rp_rng rng = rp_rng_make(7);
    rp_inputs in;
    size_t ny = smnn_problem_y_count(&p);
    size_t nc = smnn_problem_c_count(&p), nd = smnn_problem_d_count(&p);
    size_t nu = smnn_problem_u_count(&p), ns = smnn_problem_s_count(&p);
    double *y = malloc(ny * sizeof *y), *ref = malloc(ny * sizeof *ref);
    double *gy = malloc(ny * sizeof *gy), *g[4] = {malloc(nc * 8), malloc(nd * 8), malloc(nu * 8),
                                                    malloc(ns * 8)};
    if (!y || !ref || !gy || !g[0] || !g[1] || !g[2] || !g[3] ||
        rp_inputs_make(&p, &rng, 0.5, 1.5, &in) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < ny; i++) gy[i] = rp_uniform(&rng, -1, 1);
    double tol = prec == SMNN_PRECISION_DOUBLE ? 1e-9 : 1e-4;
    const char *pname = prec == SMNN_PRECISION_DOUBLE ? "double" : "single";
    int ok = 1;
    smnn_plan *plan = NULL;
    smnn_status st = smnn_reference_solve(&p, in.c, in.d, in.u, in.s, ref, 0);
    if (st == SMNN_SUCCESS) st = smnn_plan_create(ctx, &p, &o, &plan);
    if (st == SMNN_SUCCESS) st = smnn_solve(plan, in.c, in.d, in.u, in.s, y);
    double e_solve = st == SMNN_SUCCESS ? rel_err(y, ref, ny) : NAN;
    if (st == SMNN_SUCCESS) st = smnn_factor(plan, in.c, in.s);
    if (st == SMNN_SUCCESS) st = smnn_solve_frozen(plan, in.c, in.d, in.u, y);
    double e_frozen = st == SMNN_SUCCESS ? rel_err(y, ref, ny) : NAN;
    if (st == SMNN_SUCCESS)
        st = smnn_backward(plan, in.c, in.d, in.s, y, gy, g[0], g[1], g[2], g[3]);
    if (st != SMNN_SUCCESS) {
        fprintf(stderr, "FAILED: %s\n", smnn_last_error());
        ok = 0;
    } else {
        for (int k = 0; k < 4; k++)
            for (size_t i = 0; i < (k == 0 ? nc : k == 1 ? nd : k == 2 ? nu : ns); i++)
                if (!isfinite(g[k][i])) ok = 0;
        ok &= e_solve <= tol && e_frozen <= tol;
    }
    printf("B=%zu T=%zu n=%zu %-7s width %d %s: solve %.1e, frozen %.1e, gradients %s -> %s\n",
           sh->B, sh->T, sh->V * sh->R1, smnn_variant_name(v), vw, pname, e_solve, e_frozen,
           ok ? "finite" : "?", ok ? "ok" : "FAILED");
    smnn_plan_free(plan);
    rp_inputs_free(&in);
    free(y);
    free(ref);
    free(gy);
    for (int k = 0; k < 4; k++) free(g[k]);
    return ok;
}

int main(void) {
    smnn_context *ctx = NULL;
    if (smnn_context_create(NULL, &ctx) != SMNN_SUCCESS) {
        fprintf(stderr, "%s\n", smnn_last_error());
        return 1;
    }
    int ok = 1, fp64 = smnn_context_device(ctx)->has_fp64;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int prec = SMNN_PRECISION_DOUBLE; prec <= SMNN_PRECISION_SINGLE; prec++) {
            if (prec == SMNN_PRECISION_DOUBLE && !fp64) continue;
            ok &= run(ctx, &shapes[i], SMNN_VARIANT_PRIVATE, 1, (smnn_precision)prec);
            ok &= run(ctx, &shapes[i], SMNN_VARIANT_PRIVATE, 8, (smnn_precision)prec);
            ok &= run(ctx, &shapes[i], SMNN_VARIANT_LOCAL, 0, (smnn_precision)prec);
        }
    smnn_context_free(ctx);
    printf("%s\n", ok ? "every kernel run agreed with the reference" : "FAILED");
    return ok ? 0 : 1;
}
