/* The kernel driver for the Oclgrind pass (tests/oclgrind/run.sh): runs every kernel of the
 * library on small shapes, both factorizations (block Cholesky: factor.cl; block QR:
 * factor_qr.cl; and the Cholesky walk partitioned in time, partition.cl, with every interior
 * one point), both variants, one and eight systems per work-item, both precisions (double
 * where the device has fp64), through every entry point: solve (with refinement, so the
 * residual, add and check kernels run too; QR plans with their default guarded step), factor,
 * frozen solve and the backward pass with every gradient (c passed, so QR plans refine lambda
 * with the residual's g argument; shared inputs, so the reductions run). Each solution is
 * compared with the dense reference and each gradient with the reference's finite differences,
 * so a kernel that the simulator executes differently from the real device fails here even when
 * Oclgrind reports nothing. One more run per variant and precision gives the QR kernels a
 * rank-deficient and an overflowing system next to a healthy one (run_failures): the failure
 * path (the local kernel's atomic_or on its local flag and the early return of the whole
 * work-group) runs too, and must isolate just those systems. Exit 0 when every run agreed, 1
 * otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One shape's problem, inputs, grad_y and the reference's solution and gradients. */
typedef struct expected {
    smnn_problem p;
    rp_inputs in;
    size_t ny, count[4]; /* count: elements of c, d, u, s */
    double *y, *gy, *g[4];
} expected;

static const char *const grad_names[4] = {"c", "d", "u", "s"};

static double rel_err(const double *a, const double *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]);
        if (!(e <= num)) num = e; /* NaN propagates */
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return num / (den > 0 ? den : 1);
}

static void *xmalloc(size_t bytes) {
    void *m = malloc(bytes ? bytes : 1);
    if (!m) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return m;
}

static int expected_make(const shape *sh, expected *e) {
    memset(e, 0, sizeof *e);
    smnn_problem *p = &e->p;
    smnn_problem_init(p);
    p->batch = sh->B;
    p->steps = sh->T;
    p->dims = sh->V;
    p->orders = sh->R1;
    p->equations = sh->Q;
    p->init_orders = 2;
    p->shared = sh->shared;
    p->w_init = 2;
    rp_rng rng = rp_rng_make(7);
    if (rp_inputs_make(p, &rng, 0.5, 1.5, &e->in) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    e->ny = smnn_problem_y_count(p);
    e->count[0] = smnn_problem_c_count(p);
    e->count[1] = smnn_problem_d_count(p);
    e->count[2] = smnn_problem_u_count(p);
    e->count[3] = smnn_problem_s_count(p);
    e->y = xmalloc(e->ny * sizeof *e->y);
    e->gy = xmalloc(e->ny * sizeof *e->gy);
    for (int k = 0; k < 4; k++) e->g[k] = xmalloc(e->count[k] * sizeof *e->g[k]);
    for (size_t i = 0; i < e->ny; i++) e->gy[i] = rp_uniform(&rng, -1, 1);
    smnn_status st = smnn_reference_solve(p, e->in.c, e->in.d, e->in.u, e->in.s, e->y, 0);
    if (st == SMNN_SUCCESS)
        st = smnn_reference_gradient(p, e->in.c, e->in.d, e->in.u, e->in.s, e->gy, e->g[0],
                                     e->g[1], e->g[2], e->g[3], 0);
    if (st != SMNN_SUCCESS) fprintf(stderr, "reference: %s\n", smnn_last_error());
    return st == SMNN_SUCCESS;
}

static void expected_free(expected *e) {
    rp_inputs_free(&e->in);
    free(e->y);
    free(e->gy);
    for (int k = 0; k < 4; k++) free(e->g[k]);
}

static const char *prec_name(smnn_precision prec) {
    return prec == SMNN_PRECISION_DOUBLE ? "double" : "single";
}

static int run(smnn_context *ctx, const shape *sh, const expected *e, smnn_factorization f,
               smnn_variant v, int vw, smnn_precision prec, int parts) {
    const rp_inputs *in = &e->in;
    smnn_plan_options o;
    smnn_plan_options_init(&o);
    o.time_chunks = parts;
    o.variant = v;
    o.systems_per_item = vw;
    o.precision = prec;
    o.factorization = f;
    /* Cholesky plans refine one step (in double they would not); QR plans keep their default
     * (one guarded step), checked below. */
    if (f == SMNN_FACTORIZATION_CHOLESKY) o.refine_steps = 1;
    double *y = xmalloc(e->ny * sizeof *y), *g[4];
    for (int k = 0; k < 4; k++) g[k] = xmalloc(e->count[k] * sizeof *g[k]);
    /* The solution's tolerance, and the gradients' (the reference's are finite differences). */
    double tol = prec == SMNN_PRECISION_DOUBLE ? 1e-9 : 1e-4;
    double gtol = prec == SMNN_PRECISION_DOUBLE ? 1e-6 : 1e-3;
    int ok = 1;
    smnn_plan *plan = NULL;
    smnn_status st = smnn_plan_create(ctx, &e->p, &o, &plan);
    if (st == SMNN_SUCCESS && (smnn_plan_factorization(plan) != f ||
                               smnn_plan_get_options(plan)->refine_steps < 1)) {
        fprintf(stderr, "FAILED: the plan has factorization %s and %d refinement steps\n",
                smnn_factorization_name(smnn_plan_factorization(plan)),
                smnn_plan_get_options(plan)->refine_steps);
        ok = 0;
    }
    if (st == SMNN_SUCCESS) st = smnn_solve(plan, in->c, in->d, in->u, in->s, y);
    double e_solve = st == SMNN_SUCCESS ? rel_err(y, e->y, e->ny) : NAN;
    if (st == SMNN_SUCCESS) st = smnn_factor(plan, in->c, in->s);
    if (st == SMNN_SUCCESS) st = smnn_solve_frozen(plan, in->c, in->d, in->u, y);
    double e_frozen = st == SMNN_SUCCESS ? rel_err(y, e->y, e->ny) : NAN;
    if (st == SMNN_SUCCESS)
        st = smnn_backward(plan, in->c, in->d, in->s, y, e->gy, g[0], g[1], g[2], g[3]);
    double e_grad = 0;
    int worst = 0;
    if (st != SMNN_SUCCESS) {
        fprintf(stderr, "FAILED: %s\n", smnn_last_error());
        ok = 0;
        e_grad = NAN;
    } else {
        for (int k = 0; k < 4; k++) {
            double ek = rel_err(g[k], e->g[k], e->count[k]);
            if (!(ek <= e_grad)) {
                e_grad = ek;
                worst = k;
            }
        }
        ok &= e_solve <= tol && e_frozen <= tol && e_grad <= gtol;
    }
    printf("B=%zu T=%zu n=%zu %-8s %-7s width %d %s P=%d: solve %.1e, frozen %.1e, gradients "
           "%.1e (%s) -> %s\n",
           sh->B, sh->T, sh->V * sh->R1, smnn_factorization_name(f), smnn_variant_name(v), vw,
           prec_name(prec), parts, e_solve, e_frozen, e_grad, grad_names[worst],
           ok ? "ok" : "FAILED");
    smnn_plan_free(plan);
    free(y);
    for (int k = 0; k < 4; k++) free(g[k]);
    return ok;
}

/* The QR kernels' failure path: a QR plan over three systems of y^(3), one variable with one
 * initial value, constant step. System 0 has c = 0, so nothing fixes the derivatives (three
 * directions of the null space: the polynomials of degree 1 to 3, which the Taylor rows keep
 * exactly): rank deficient, found at the last time point. System 1 is healthy:
 * y' + y + 1e-3 y''' = 0. System 2 is system 1 times a value whose square overflows the
 * precision: every column's norm is Inf at the first time point, so every column's owner sets
 * the local kernel's flag (atomic_or) at once and the work-group returns before the rest of the
 * horizon. The private variant holds the three systems in the lanes of one work-item (4 per
 * item: one lane idle). The plan must report SMNN_ERROR_RANK_DEFICIENT for systems 0 and 2
 * alone, with NaN y there, and solve system 1 as the reference does. */
static int run_failures(smnn_context *ctx, smnn_variant v, smnn_precision prec) {
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = 3;
    p.steps = 4;
    p.orders = 4;
    p.init_orders = 1;
    p.shared = SMNN_SHARE_D_BATCH | SMNN_SHARE_U_BATCH | SMNN_SHARE_S_BATCH;
    size_t nc = smnn_problem_c_count(&p), ny = smnn_problem_y_count(&p), per = ny / 3;
    size_t cper = nc / 3;
    double *c = calloc(nc, sizeof *c), *y = xmalloc(ny * sizeof *y), *ref = xmalloc(per * 8);
    double d[4] = {0.5, -0.25, 0.125, 0}, u[1] = {1}, s[3] = {0.1, 0.1, 0.1};
    if (!c) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    if (smnn_problem_d_count(&p) != 4 || smnn_problem_u_count(&p) != 1 ||
        smnn_problem_s_count(&p) != 3 || cper != p.steps * p.orders) {
        fprintf(stderr, "FAILED: the failure problem's layout\n");
        exit(1);
    }
    const double big = prec == SMNN_PRECISION_DOUBLE ? 1e200 : 1e30;
    for (size_t t = 0; t < p.steps; t++) {
        double *c1 = c + cper + t * p.orders, *c2 = c + 2 * cper + t * p.orders;
        c1[0] = c1[1] = 1;
        c1[3] = 1e-3;
        for (size_t r = 0; r < p.orders; r++) c2[r] = big * c1[r];
    }
    smnn_problem one = p;
    one.batch = 1;
    smnn_status st = smnn_reference_solve(&one, c + cper, d, u, s, ref, 0);
    if (st != SMNN_SUCCESS) fprintf(stderr, "reference: %s\n", smnn_last_error());
    smnn_plan_options o;
    smnn_plan_options_init(&o);
    o.variant = v;
    o.precision = prec;
    o.factorization = SMNN_FACTORIZATION_QR;
    if (v == SMNN_VARIANT_PRIVATE) o.systems_per_item = 4;
    smnn_plan *plan = NULL;
    if (st == SMNN_SUCCESS) st = smnn_plan_create(ctx, &p, &o, &plan);
    if (st == SMNN_SUCCESS) st = smnn_solve(plan, c, d, u, s, y);
    int ok = st == SMNN_ERROR_RANK_DEFICIENT;
    if (!ok)
        fprintf(stderr, "FAILED: expected SMNN_ERROR_RANK_DEFICIENT, got %s: %s\n",
                smnn_status_name(st), smnn_last_error());
    smnn_failure_report rep = {0, 0, 0};
    if (ok && smnn_plan_failures(plan, &rep) != SMNN_SUCCESS) ok = 0;
    ok &= rep.count == 2 && rep.first_system == 0;
    for (size_t i = 0; ok && i < per; i++) ok &= isnan(y[i]) && isnan(y[2 * per + i]);
    double err = ok ? rel_err(y + per, ref, per) : NAN;
    ok &= err <= (prec == SMNN_PRECISION_DOUBLE ? 1e-9 : 1e-4);
    printf("B=3 T=4 n=4 qr       %-7s width %d %s: rank-deficient and overflowing systems: "
           "failures %zu (first: system %zu at time point %zu), healthy system %.1e -> %s\n",
           smnn_variant_name(v), o.systems_per_item, prec_name(prec), rep.count,
           rep.first_system, rep.first_step, err, ok ? "ok" : "FAILED");
    smnn_plan_free(plan);
    free(c);
    free(y);
    free(ref);
    return ok;
}

int main(void) {
    smnn_context *ctx = NULL;
    if (smnn_context_create(NULL, &ctx) != SMNN_SUCCESS) {
        fprintf(stderr, "%s\n", smnn_last_error());
        return 1;
    }
    int ok = 1, fp64 = smnn_context_device(ctx)->has_fp64;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        expected e;
        if (!expected_make(&shapes[i], &e)) {
            ok = 0;
            expected_free(&e);
            continue;
        }
        for (int prec = SMNN_PRECISION_DOUBLE; prec <= SMNN_PRECISION_SINGLE; prec++) {
            if (prec == SMNN_PRECISION_DOUBLE && !fp64) continue;
            for (int f = SMNN_FACTORIZATION_CHOLESKY; f <= SMNN_FACTORIZATION_QR; f++) {
                smnn_factorization fa = (smnn_factorization)f;
                smnn_precision pr = (smnn_precision)prec;
                ok &= run(ctx, &shapes[i], &e, fa, SMNN_VARIANT_PRIVATE, 1, pr, 1);
                ok &= run(ctx, &shapes[i], &e, fa, SMNN_VARIANT_PRIVATE, 8, pr, 1);
                ok &= run(ctx, &shapes[i], &e, fa, SMNN_VARIANT_LOCAL, 0, pr, 1);
            }
            /* Parallel in time (cl/partition.cl): the most chunks the shape holds (T = 5 and
             * 3: every interior one point, separators at 1, 3 and at 1; T = 4: two points,
             * the separator 2, one point). */
            int parts = (int)(shapes[i].T + 1) / 2;
            for (int vw = 1; vw <= 8; vw *= 8)
                ok &= run(ctx, &shapes[i], &e, SMNN_FACTORIZATION_CHOLESKY,
                          SMNN_VARIANT_PRIVATE, vw, (smnn_precision)prec, parts);
        }
        expected_free(&e);
    }
    for (int prec = SMNN_PRECISION_DOUBLE; prec <= SMNN_PRECISION_SINGLE; prec++) {
        if (prec == SMNN_PRECISION_DOUBLE && !fp64) continue;
        for (int v = SMNN_VARIANT_PRIVATE; v <= SMNN_VARIANT_LOCAL; v++)
            ok &= run_failures(ctx, (smnn_variant)v, (smnn_precision)prec);
    }
    smnn_context_free(ctx);
    printf("%s\n", ok ? "every kernel run agreed with the reference" : "FAILED");
    return ok ? 0 : 1;
}
