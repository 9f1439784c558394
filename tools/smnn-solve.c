/* smnn-solve: solves a batch of S-MNN problems given as NumPy .npy files and writes y as .npy.
 *
 * Shapes (a leading 1 means shared across the batch, a time dimension of 1 shared across time):
 *   --coefficients c (B|1, T|1, Q, V, n_orders)   --rhs d (B|1, T|1, Q)
 *   --init u (B|1, T_init, V, n_init_orders)       --steps s (B|1, T-1|1)
 * Output: y (B, T, V, n_orders), float64 (float32 with --precision single).
 * With --grad-y gy.npy (shape of y) and --grad-out PREFIX it also writes the gradients of
 * l = sum(gy * y): PREFIX-coefficients.npy, PREFIX-rhs.npy, PREFIX-init.npy, PREFIX-steps.npy,
 * each shaped as its input was given.
 * All outputs of a run are committed together, and only after a complete solve (outfile.h): a
 * failure leaves every existing output file as it was.
 * Exit codes: 0 success, 1 failure (bad data, solver error, an output that cannot be written),
 * 2 bad usage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smnn/smnn.h>

#include "hostutil.h"
#include "npy.h"
#include "outfile.h"
#include "solveargs.h"

int main(int argc, char **argv) {
    solve_args args;
    int rc = solve_args_parse(argc, argv, 0, &args);
    if (rc >= 0) return rc;
    rc = solve_outputs_prepare(&args);
    if (rc) return rc;
    smnn_problem p;
    const char **files = args.files, **outs = args.outs;
    const char *grad_y_file = args.grad_y_file;
    size_t n_out = args.n_out;
    smnn_plan_options opt = args.opt;
    char err[512], shape_text[256];
    rc = 1;
    npy_array a[4], gy;
    memset(a, 0, sizeof a);
    memset(&gy, 0, sizeof gy);
    double *grads[4] = {NULL, NULL, NULL, NULL};
    outfile of[5];
    memset(of, 0, sizeof of);
    double *y = NULL;
    smnn_context *ctx = NULL, **ctxs = NULL;
    size_t nctx = 0;
    smnn_plan *plan = NULL;
    smnn_multi_plan *mplan = NULL;
    for (int i = 0; i < 4; i++) {
        if (npy_read(files[i], &a[i], err, sizeof err) != 0) {
            fprintf(stderr, "smnn-solve: %s\n", err);
            goto out;
        }
    }
    if (solve_problem_infer(a, &args) != 0) goto out;
    p = args.p;
    npy_array *c = &a[0], *d = &a[1], *u = &a[2], *s = &a[3];
    size_t ny = smnn_problem_y_count(&p);
    y = hu_alloc(ny, sizeof *y);
    if (!y) {
        fprintf(stderr, "smnn-solve: out of memory for y (%zu values)\n", ny);
        goto out;
    }
    if (grad_y_file) {
        if (npy_read(grad_y_file, &gy, err, sizeof err) != 0) {
            fprintf(stderr, "smnn-solve: %s\n", err);
            goto out;
        }
        size_t want[4] = {p.batch, p.steps, p.dims, p.orders};
        if (gy.ndim != 4 || memcmp(gy.shape, want, sizeof want) != 0) {
            fprintf(stderr, "smnn-solve: %s has shape %s, expected (%zu, %zu, %zu, %zu) like y\n",
                    grad_y_file, solve_shape_str(&gy, shape_text), want[0], want[1], want[2], want[3]);
            goto out;
        }
        for (int i = 0; i < 4; i++) {
            grads[i] = hu_alloc(a[i].count, sizeof(double));
            if (!grads[i]) {
                fprintf(stderr, "smnn-solve: out of memory for the gradients\n");
                goto out;
            }
        }
    }
    smnn_status st;
    if (args.use_reference) {
        st = smnn_reference_solve(&p, c->data, d->data, u->data, s->data, y, 0);
        if (st == SMNN_SUCCESS && grad_y_file)
            st = smnn_reference_gradient(&p, c->data, d->data, u->data, s->data, gy.data,
                                         grads[0], grads[1], grads[2], grads[3], 0);
    } else if (args.devices) {
        st = smnn_contexts_create(args.devices, &ctxs, &nctx);
        if (st == SMNN_SUCCESS)
            st = smnn_multi_plan_create(ctxs, nctx, &p, &opt, &args.mopt, &mplan);
        for (size_t i = 0; st == SMNN_SUCCESS && i < nctx; i++) {
            smnn_multi_part part;
            smnn_multi_plan_part(mplan, i, &part);
            fprintf(stderr, "smnn-solve: part %zu: %s, systems %zu..%zu (%zu)", i,
                    smnn_context_device(part.context)->device_name, part.first,
                    part.count ? part.first + part.count - 1 : part.first, part.count);
            if (part.throughput > 0)
                fprintf(stderr, ", calibrated %.3g system-steps/s", part.throughput);
            fprintf(stderr, "\n");
        }
        if (st == SMNN_SUCCESS) st = smnn_multi_solve(mplan, c->data, d->data, u->data, s->data, y);
        if (st == SMNN_SUCCESS && grad_y_file)
            st = smnn_multi_backward(mplan, c->data, d->data, s->data, y, gy.data, grads[0],
                                     grads[1], grads[2], grads[3]);
    } else {
        st = smnn_context_create(args.device, &ctx);
        if (st == SMNN_SUCCESS) st = smnn_plan_create(ctx, &p, &opt, &plan);
        if (st == SMNN_SUCCESS) st = smnn_solve(plan, c->data, d->data, u->data, s->data, y);
        if (st == SMNN_SUCCESS && grad_y_file)
            st = smnn_backward(plan, c->data, d->data, s->data, y, gy.data, grads[0], grads[1],
                               grads[2], grads[3]);
    }
    if (st != SMNN_SUCCESS) {
        fprintf(stderr, "smnn-solve: %s\n", smnn_last_error());
        goto out;
    }
    /* Every output is staged in full before any target is touched. */
    size_t shape[4] = {p.batch, p.steps, p.dims, p.orders};
    const int f32 = opt.precision == SMNN_PRECISION_SINGLE;
    for (size_t i = 0; i < n_out; i++) {
        if (outfile_open(&of[i], outs[i], err, sizeof err) != 0) {
            fprintf(stderr, "smnn-solve: %s\n", err);
            goto out;
        }
        int w = i == 0 ? npy_write_stream(of[i].f, y, shape, 4, f32)
                       : npy_write_stream(of[i].f, grads[i - 1], a[i - 1].shape, a[i - 1].ndim, f32);
        if (w != 0) {
            fprintf(stderr, "smnn-solve: %s: write failed\n", outs[i]);
            goto out;
        }
    }
    if (outfile_commit_all(of, n_out, err, sizeof err) != 0) {
        fprintf(stderr, "smnn-solve: %s\n", err);
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < 5; i++) outfile_discard(&of[i]);
    npy_free(&gy);
    for (int i = 0; i < 4; i++) free(grads[i]);
    smnn_plan_free(plan);
    smnn_context_free(ctx);
    smnn_multi_plan_free(mplan);
    smnn_contexts_free(ctxs, nctx);
    for (int i = 0; i < 4; i++) npy_free(&a[i]);
    free(y);
    return rc;
}
