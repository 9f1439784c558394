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
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smnn/smnn.h>

#include "cli.h"
#include "hostutil.h"
#include "npy.h"
#include "outfile.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: smnn-solve --coefficients c.npy --rhs d.npy --init u.npy --steps s.npy\n"
            "                  --out y.npy [options]\n"
            "\n"
            "Solves the S-MNN weighted least-squares ODE problems (Chen et al., ICLR 2025) on an\n"
            "OpenCL device and writes y (B, T, V, n_orders).\n"
            "\n"
            "  --coefficients FILE  c, shape (B|1, T|1, Q, V, n_orders)\n"
            "  --rhs FILE           d, shape (B|1, T|1, Q)\n"
            "  --init FILE          u, shape (B|1, T_init, V, n_init_orders)\n"
            "  --steps FILE         s, shape (B|1, T-1|1)\n"
            "  --out FILE           y, shape (B, T, V, n_orders); replaced only on success\n"
            "                       (a device or FIFO is written in place, see README)\n"
            "  --n-steps T          number of time points, when the inputs do not tell it\n"
            "  --w-gov X            weight of the governing equations (default 1)\n"
            "  --w-init X           weight of the initial values (default 1)\n"
            "  --w-smooth X         weight of the smoothness constraints (default 1)\n"
            "  --precision P        double (default) or single\n"
            "  --factorization F    auto (default: qr in single, cholesky in double precision),\n"
            "                       cholesky or qr\n"
            "  --device SPEC        PLATFORM:DEVICE by index or name substring (default:\n"
            "                       $SMNN_DEVICE, else the first GPU, else the first device)\n"
            "  --devices LIST       shard the batch over several devices: all (every device\n"
            "                       of the default one's type on its platform), SPEC,SPEC,...\n"
            "                       or split:N[:SPEC] (N sub-devices of one device); outputs\n"
            "                       equal one device's bit for bit on identical devices\n"
            "  --split MODE         with --devices: measured (default: in proportion to a\n"
            "                       short calibration solve per device) or equal\n"
            "  --reference          solve with the dense host reference (double, O(T^3));\n"
            "                       its gradients are central finite differences (2 dense\n"
            "                       solves per input element: small problems only)\n"
            "  --grad-y FILE        dl/dy, shape (B, T, V, n_orders): also compute gradients\n"
            "  --grad-out PREFIX    write PREFIX-coefficients.npy, PREFIX-rhs.npy,\n"
            "                       PREFIX-init.npy, PREFIX-steps.npy (shapes of the inputs)\n"
            "  --help               show this help\n"
            "A size-1 leading dimension means the input is shared by every system.\n");
}

static char shape_text[8][128];
static const char *shape_str(const npy_array *a, int slot) {
    char *p = shape_text[slot];
    int n = sprintf(p, "(");
    for (int i = 0; i < a->ndim; i++)
        n += sprintf(p + n, "%zu%s", a->shape[i], i + 1 < a->ndim ? ", " : "");
    sprintf(p + n, ")");
    return p;
}

/* Combines a dimension that is either 1 (shared) or the common size into *size. */
static int merge(size_t *size, size_t dim) {
    if (dim == 1) return 0;
    if (*size == 0 || *size == 1) {
        *size = dim;
        return 0;
    }
    return *size == dim ? 0 : -1;
}

int main(int argc, char **argv) {
    const char *files[5] = {NULL}; /* c, d, u, s, out */
    const char *device = NULL, *devices = NULL, *grad_y_file = NULL, *grad_prefix = NULL;
    smnn_multi_options mopt;
    smnn_multi_options_init(&mopt);
    size_t n_steps = 0;
    smnn_problem p;
    smnn_problem_init(&p);
    smnn_plan_options opt;
    smnn_plan_options_init(&opt);
    int use_reference = 0;
    enum { O_C = 1, O_D, O_U, O_S, O_OUT, O_T, O_WG, O_WI, O_WS, O_PREC, O_DEV, O_REF, O_HELP, O_GY,
           O_GO, O_FACT, O_DEVS, O_SPLIT };
    static const struct option opts[] = {
        {"coefficients", required_argument, 0, O_C}, {"rhs", required_argument, 0, O_D},
        {"init", required_argument, 0, O_U},         {"steps", required_argument, 0, O_S},
        {"out", required_argument, 0, O_OUT},        {"n-steps", required_argument, 0, O_T},
        {"w-gov", required_argument, 0, O_WG},       {"w-init", required_argument, 0, O_WI},
        {"w-smooth", required_argument, 0, O_WS},    {"precision", required_argument, 0, O_PREC},
        {"device", required_argument, 0, O_DEV},     {"reference", no_argument, 0, O_REF},
        {"help", no_argument, 0, O_HELP},            {"grad-y", required_argument, 0, O_GY},
        {"grad-out", required_argument, 0, O_GO},
        {"factorization", required_argument, 0, O_FACT},
        {"devices", required_argument, 0, O_DEVS},   {"split", required_argument, 0, O_SPLIT},
        {0, 0, 0, 0}};
    int o;
    cli_set_program(argv[0]);
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_C: case O_D: case O_U: case O_S: case O_OUT:
            files[o - O_C] = optarg;
            break;
        case O_T: if (cli_size("--n-steps", optarg, 2, SIZE_MAX, &n_steps)) return 2; break;
        case O_WG: if (cli_positive("--w-gov", optarg, &p.w_gov)) return 2; break;
        case O_WI: if (cli_positive("--w-init", optarg, &p.w_init)) return 2; break;
        case O_WS: if (cli_positive("--w-smooth", optarg, &p.w_smooth)) return 2; break;
        case O_PREC: {
            static const char *const names[] = {"double", "single", NULL};
            int pick;
            if (cli_choice("--precision", optarg, names, &pick)) return 2;
            opt.precision = pick ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE;
            break;
        }
        case O_FACT: {
            static const char *const names[] = {"auto", "cholesky", "qr", NULL};
            static const smnn_factorization values[] = {
                SMNN_FACTORIZATION_AUTO, SMNN_FACTORIZATION_CHOLESKY, SMNN_FACTORIZATION_QR};
            int pick;
            if (cli_choice("--factorization", optarg, names, &pick)) return 2;
            opt.factorization = values[pick];
            break;
        }
        case O_DEV: device = optarg; break;
        case O_DEVS: devices = optarg; break;
        case O_SPLIT: {
            static const char *const names[] = {"measured", "equal", NULL};
            int pick;
            if (cli_choice("--split", optarg, names, &pick)) return 2;
            mopt.split = pick ? SMNN_SPLIT_EQUAL : SMNN_SPLIT_MEASURED;
            break;
        }
        case O_REF: use_reference = 1; break;
        case O_GY: grad_y_file = optarg; break;
        case O_GO: grad_prefix = optarg; break;
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smnn-solve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (devices && (device || use_reference)) {
        fprintf(stderr, "smnn-solve: --devices goes with neither --device nor --reference (name "
                "the devices in its list)\n");
        return 2;
    }
    if (!grad_y_file != !grad_prefix) {
        fprintf(stderr, "smnn-solve: --grad-y and --grad-out go together\n");
        return 2;
    }
    static const char *names[5] = {"--coefficients", "--rhs", "--init", "--steps", "--out"};
    for (int i = 0; i < 5; i++) {
        if (!files[i]) {
            fprintf(stderr, "smnn-solve: %s is required (see --help)\n", names[i]);
            return 2;
        }
    }
    /* The output names, checked before any work: writable places, and no two naming the same
     * file (y would be silently overwritten by a gradient). */
    static const char *suffix[4] = {"coefficients", "rhs", "init", "steps"};
    char grad_path[4][4096];
    const char *outs[5] = {files[4]};
    size_t n_out = 1;
    char err[512];
    for (int i = 0; grad_prefix && i < 4; i++) {
        if ((size_t)snprintf(grad_path[i], sizeof grad_path[i], "%s-%s.npy", grad_prefix,
                             suffix[i]) >= sizeof grad_path[i]) {
            fprintf(stderr, "smnn-solve: --grad-out: the prefix is too long\n");
            return 2;
        }
        outs[n_out++] = grad_path[i];
    }
    for (size_t i = 0; i < n_out; i++) {
        for (size_t j = 0; j < i; j++) {
            if (outfile_same(outs[i], outs[j])) {
                fprintf(stderr, "smnn-solve: %s and %s name the same file: give --out and "
                        "--grad-out distinct names\n", outs[j], outs[i]);
                return 2;
            }
        }
        if (outfile_check(outs[i], err, sizeof err) != 0) {
            fprintf(stderr, "smnn-solve: %s\n", err);
            return 1;
        }
    }
    npy_array a[4], gy;
    memset(a, 0, sizeof a);
    memset(&gy, 0, sizeof gy);
    double *grads[4] = {NULL, NULL, NULL, NULL};
    outfile of[5];
    memset(of, 0, sizeof of);
    int rc = 1;
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
    const int want_nd[4] = {5, 3, 4, 2};
    const char *form[4] = {"(B|1, T|1, Q, V, n_orders)", "(B|1, T|1, Q)",
                           "(B|1, T_init, V, n_init_orders)", "(B|1, T-1|1)"};
    for (int i = 0; i < 4; i++) {
        if (a[i].ndim != want_nd[i]) {
            fprintf(stderr, "smnn-solve: %s has shape %s, expected %d dimensions %s\n", files[i],
                    shape_str(&a[i], i), want_nd[i], form[i]);
            goto out;
        }
        for (int k = 0; k < a[i].ndim; k++) {
            if (a[i].shape[k] == 0) {
                fprintf(stderr, "smnn-solve: %s has an empty dimension in shape %s\n", files[i],
                        shape_str(&a[i], i));
                goto out;
            }
        }
    }
    npy_array *c = &a[0], *d = &a[1], *u = &a[2], *s = &a[3];
    size_t B = 1, T = 0;
    int bad = 0;
    for (int i = 0; i < 4; i++) bad |= merge(&B, a[i].shape[0]);
    if (bad) {
        fprintf(stderr, "smnn-solve: batch sizes disagree: c %s, d %s, u %s, s %s (each must be "
                "B or 1)\n", shape_str(c, 0), shape_str(d, 1), shape_str(u, 2), shape_str(s, 3));
        goto out;
    }
    bad |= merge(&T, c->shape[1]);
    bad |= merge(&T, d->shape[1]);
    if (s->shape[1] > 1) bad |= merge(&T, s->shape[1] + 1);
    if (n_steps) bad |= merge(&T, n_steps);
    if (bad) {
        fprintf(stderr, "smnn-solve: numbers of time points disagree: c %s, d %s, s %s%s\n",
                shape_str(c, 0), shape_str(d, 1), shape_str(s, 3),
                n_steps ? " and --n-steps" : "");
        goto out;
    }
    if (T <= 1) {
        fprintf(stderr, "smnn-solve: the inputs do not tell the number of time points (c, d and "
                "s are all shared across time): give --n-steps T\n");
        goto out;
    }
    if (s->shape[1] == 1 && T != 2) p.shared |= SMNN_SHARE_S_TIME;
    if (c->shape[2] != d->shape[2]) {
        fprintf(stderr, "smnn-solve: c %s has Q = %zu equations but d %s has %zu\n",
                shape_str(c, 0), c->shape[2], shape_str(d, 1), d->shape[2]);
        goto out;
    }
    if (u->shape[2] != c->shape[3]) {
        fprintf(stderr, "smnn-solve: u %s has V = %zu variables but c %s has %zu\n",
                shape_str(u, 2), u->shape[2], shape_str(c, 0), c->shape[3]);
        goto out;
    }
    p.batch = B;
    p.steps = T;
    p.equations = c->shape[2];
    p.dims = c->shape[3];
    p.orders = c->shape[4];
    p.init_steps = u->shape[1];
    p.init_orders = u->shape[3];
    if (B > 1) {
        if (c->shape[0] == 1) p.shared |= SMNN_SHARE_C_BATCH;
        if (d->shape[0] == 1) p.shared |= SMNN_SHARE_D_BATCH;
        if (u->shape[0] == 1) p.shared |= SMNN_SHARE_U_BATCH;
        if (s->shape[0] == 1) p.shared |= SMNN_SHARE_S_BATCH;
    }
    if (c->shape[1] == 1) p.shared |= SMNN_SHARE_C_TIME;
    if (d->shape[1] == 1) p.shared |= SMNN_SHARE_D_TIME;
    if (smnn_problem_validate(&p) != SMNN_SUCCESS) {
        fprintf(stderr, "smnn-solve: %s\n", smnn_last_error());
        goto out;
    }
    /* Every input must have exactly the layout the library derives from the problem (the one
     * statement of the sharing rules, smnn_problem_layout). */
    for (int i = 0; i < 4; i++) {
        smnn_layout L;
        if (smnn_problem_layout(&p, (smnn_input)i, &L) != SMNN_SUCCESS ||
            (size_t)a[i].ndim != L.rank || memcmp(a[i].shape, L.shape, L.rank * sizeof L.shape[0]) != 0) {
            fprintf(stderr, "smnn-solve: %s has shape %s, which does not fit the problem's "
                    "layout\n", files[i], shape_str(&a[i], i));
            goto out;
        }
    }
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
                    grad_y_file, shape_str(&gy, 4), want[0], want[1], want[2], want[3]);
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
    if (use_reference) {
        st = smnn_reference_solve(&p, c->data, d->data, u->data, s->data, y, 0);
        if (st == SMNN_SUCCESS && grad_y_file)
            st = smnn_reference_gradient(&p, c->data, d->data, u->data, s->data, gy.data,
                                         grads[0], grads[1], grads[2], grads[3], 0);
    } else if (devices) {
        st = smnn_contexts_create(devices, &ctxs, &nctx);
        if (st == SMNN_SUCCESS) st = smnn_multi_plan_create(ctxs, nctx, &p, &opt, &mopt, &mplan);
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
        st = smnn_context_create(device, &ctx);
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
