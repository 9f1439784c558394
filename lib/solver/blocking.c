/* The blocking host-pointer forms of every entry point, through one wrapper: check every host
 * input (NULL, NaN/Inf, steps > 0) before anything is enqueued, copy the inputs to device buffers
 * in the plan's precision, run the asynchronous form, wait, copy the outputs back (converting
 * from float for single-precision plans), then report failing systems and, after refined solves,
 * unconverged ones. No output is written unless every check passed and the device run finished. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "solver_internal.h"

/* OP_BACKWARD_FULL: the backward pass with the gradients of batch-shared inputs unreduced
 * (smnn_backward_unreduced). */
typedef enum op { OP_SOLVE, OP_FACTOR, OP_FROZEN, OP_BACKWARD, OP_BACKWARD_FULL } op;

/* One host array of a call: input (x) or output (out), its element count and checks. */
typedef struct host_array {
    const char *name;
    const double *x; /* input, or NULL */
    double *out;     /* output, or NULL */
    size_t count;
    int needed;   /* a NULL pointer is an error */
    int positive; /* values must be > 0 (steps) */
    cl_mem dev;
} host_array;

smnn_status smnn__check_host_values(smnn_context *ctx, const char *name, const double *x,
                                    size_t count, int single, int positive) {
    if (!x) return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL", name);
    for (size_t i = 0; i < count; i++) {
        double v = x[i];
        if (!isfinite(v))
            return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "%s[%zu] = %g is not finite", name, i, v);
        if (single && fabs(v) > FLT_MAX)
            return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                        "%s[%zu] = %g is beyond the range of single precision (%g), the plan's "
                        "precision", name, i, v, (double)FLT_MAX);
        if (positive && !(v > 0))
            return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "%s[%zu] = %g, steps must be > 0",
                        name, i, v);
        if (single && positive && (float)v == 0)
            return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT,
                        "%s[%zu] = %g, steps must be > 0, and this one is 0 in single precision, "
                        "the plan's precision", name, i, v);
    }
    return SMNN_SUCCESS;
}

/* Checks every value of an input: finite, inside the plan's precision (a single-precision plan
 * would turn a value beyond the float range into Inf, reported later as a failed system, and a
 * tiny step into 0), and > 0 for steps. */
static smnn_status check_values(smnn_plan *plan, const host_array *a) {
    return smnn__check_host_values(plan->ctx, a->name, a->x, a->count, plan->elem == 4,
                                   a->positive);
}

static smnn_status run(smnn_plan *plan, op o, host_array *a, size_t na) {
    /* Checks first: nothing is allocated or enqueued for a call that fails them. */
    for (size_t i = 0; i < na; i++) {
        if (a[i].out == NULL && a[i].x == NULL) {
            if (a[i].needed)
                return FAIL(plan->ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL%s",
                            a[i].name, o >= OP_BACKWARD ? " but the requested gradients need it"
                                                        : "");
            continue;
        }
        if (a[i].x) FORWARD_IF_ERROR(check_values(plan, &a[i]));
    }
    if (o != OP_SOLVE && o != OP_FACTOR) FORWARD_IF_ERROR(smnn__check_factored(plan));
    smnn_status st = SMNN_SUCCESS;
    for (size_t i = 0; i < na && st == SMNN_SUCCESS; i++) {
        if (a[i].x) {
            st = smnn__upload(plan, a[i].x, a[i].count, &a[i].dev);
        } else if (a[i].out) {
            cl_int err;
            /* read-write: the refinement reads y */
            a[i].dev = clCreateBuffer(plan->ctx->cl_ctx, CL_MEM_READ_WRITE, a[i].count * plan->elem,
                                      NULL, &err);
            if (!a[i].dev) st = FAIL_CL(plan->ctx, err, "clCreateBuffer(output)");
        }
    }
    if (st == SMNN_SUCCESS) {
        switch (o) {
        case OP_SOLVE:
            st = smnn_solve_async(plan, NULL, a[0].dev, a[1].dev, a[2].dev, a[3].dev, a[4].dev, 0,
                                  NULL, NULL);
            break;
        case OP_FACTOR:
            st = smnn_factor_async(plan, NULL, a[0].dev, a[1].dev, 0, NULL, NULL);
            break;
        case OP_FROZEN:
            st = smnn_solve_frozen_async(plan, NULL, a[0].dev, a[1].dev, a[2].dev, a[3].dev, 0,
                                         NULL, NULL);
            break;
        case OP_BACKWARD:
            st = smnn_backward_async(plan, NULL, a[0].dev, a[1].dev, a[2].dev, a[3].dev, a[4].dev,
                                     a[5].dev, a[6].dev, a[7].dev, a[8].dev, 0, NULL, NULL);
            break;
        case OP_BACKWARD_FULL:
            st = smnn__backward_unreduced_async(plan, a[0].dev, a[1].dev, a[2].dev, a[3].dev,
                                                a[4].dev, a[5].dev, a[6].dev, a[7].dev, a[8].dev);
            break;
        }
    }
    if (st == SMNN_SUCCESS) {
        cl_int err = clFinish(plan->ctx->queue);
        if (err != CL_SUCCESS) st = FAIL_CL(plan->ctx, err, "clFinish");
    }
    /* Failures before the downloads: a device that cut the kernels' loops short (UNSUPPORTED)
     * computed nothing, and the outputs stay untouched; failing systems (NaN) are written. */
    smnn_status failed = st == SMNN_SUCCESS ? smnn__report_failures(plan) : st;
    if (failed == SMNN_ERROR_UNSUPPORTED) st = failed;
    for (size_t i = 0; i < na && st == SMNN_SUCCESS; i++)
        if (a[i].out) st = smnn__download(plan, a[i].dev, a[i].count, a[i].out);
    if (st == SMNN_SUCCESS) st = failed;
    /* A QR plan's backward pass refines lambda when c is given (gradient.c). */
    int refined = o == OP_SOLVE || o == OP_FROZEN ||
                  (o >= OP_BACKWARD && a[0].dev && plan->shape.factorization == SMNN_FACTORIZATION_QR);
    if (st == SMNN_SUCCESS && refined) st = smnn__report_refinement(plan);
    for (size_t i = 0; i < na; i++)
        if (a[i].dev) clReleaseMemObject(a[i].dev);
    return st;
}

#define BEGIN_BLOCKING(plan)                                                                       \
    smnn__clear_error();                                                                           \
    if (!(plan)) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'plan' is NULL");       \
    const smnn_layout *in = (plan)->in;                                                            \
    size_t ny = smnn_problem_y_count(&(plan)->p)

smnn_status smnn_solve(smnn_plan *plan, const double *c, const double *d, const double *u,
                       const double *s, double *y) {
    BEGIN_BLOCKING(plan);
    host_array a[] = {{"c", c, NULL, in[0].count, 1, 0, NULL}, {"d", d, NULL, in[1].count, 1, 0, NULL},
                      {"u", u, NULL, in[2].count, 1, 0, NULL}, {"s", s, NULL, in[3].count, 1, 1, NULL},
                      {"y", NULL, y, ny, 1, 0, NULL}};
    return run(plan, OP_SOLVE, a, 5);
}

smnn_status smnn_factor(smnn_plan *plan, const double *c, const double *s) {
    BEGIN_BLOCKING(plan);
    (void)ny;
    host_array a[] = {{"c", c, NULL, in[0].count, 1, 0, NULL}, {"s", s, NULL, in[3].count, 1, 1, NULL}};
    return run(plan, OP_FACTOR, a, 2);
}

smnn_status smnn_solve_frozen(smnn_plan *plan, const double *c, const double *d, const double *u,
                              double *y) {
    BEGIN_BLOCKING(plan);
    host_array a[] = {{"c", c, NULL, in[0].count, 1, 0, NULL}, {"d", d, NULL, in[1].count, 1, 0, NULL},
                      {"u", u, NULL, in[2].count, 1, 0, NULL}, {"y", NULL, y, ny, 1, 0, NULL}};
    return run(plan, OP_FROZEN, a, 4);
}

/* The backward pass's host arrays; with unreduced, the gradients of batch-shared inputs hold
 * their full layouts. */
static smnn_status backward(smnn_plan *plan, const double *c, const double *d, const double *s,
                            const double *y, const double *grad_y, double *grad_c, double *grad_d,
                            double *grad_u, double *grad_s, int unreduced) {
    BEGIN_BLOCKING(plan);
    size_t gcount[4];
    for (int i = 0; i < 4; i++)
        gcount[i] = unreduced && in[i].shared_batch
                        ? in[i].full_batch * in[i].full_time * in[i].row
                        : in[i].count;
    /* Which inputs the requested gradients read (see solver.h). */
    int gc = grad_c != NULL, gd = grad_d != NULL, gs = grad_s != NULL;
    host_array a[] = {
        {"c", gc || gd ? c : NULL, NULL, in[0].count, gc || gd, 0, NULL},
        {"d", gc ? d : NULL, NULL, in[1].count, gc, 0, NULL},
        {"s", gs ? s : NULL, NULL, in[3].count, gs, 1, NULL},
        {"y", gc || gs ? y : NULL, NULL, ny, gc || gs, 0, NULL},
        {"grad_y", grad_y, NULL, ny, 1, 0, NULL},
        {"grad_c", NULL, grad_c, gcount[0], 0, 0, NULL},
        {"grad_d", NULL, grad_d, gcount[1], 0, 0, NULL},
        {"grad_u", NULL, grad_u, gcount[2], 0, 0, NULL},
        {"grad_s", NULL, grad_s, gcount[3], 0, 0, NULL},
    };
    return run(plan, unreduced ? OP_BACKWARD_FULL : OP_BACKWARD, a, 9);
}

smnn_status smnn_backward(smnn_plan *plan, const double *c, const double *d, const double *s,
                          const double *y, const double *grad_y, double *grad_c, double *grad_d,
                          double *grad_u, double *grad_s) {
    return backward(plan, c, d, s, y, grad_y, grad_c, grad_d, grad_u, grad_s, 0);
}

smnn_status smnn_backward_unreduced(smnn_plan *plan, const double *c, const double *d,
                                     const double *s, const double *y, const double *grad_y,
                                     double *grad_c, double *grad_d, double *grad_u,
                                     double *grad_s) {
    return backward(plan, c, d, s, y, grad_y, grad_c, grad_d, grad_u, grad_s, 1);
}
