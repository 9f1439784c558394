/* smnn-solve's command line and input shapes (solveargs.h). */
#include "solveargs.h"

#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "outfile.h"

static void usage(FILE *f, int mpi) {
    fprintf(f,
            "usage: %s --coefficients c.npy --rhs d.npy --init u.npy --steps s.npy\n"
            "       %*s --out y.npy [options]\n"
            "\n"
            "Solves the S-MNN weighted least-squares ODE problems (Chen et al., ICLR 2025) on an\n"
            "OpenCL device and writes y (B, T, V, n_orders).\n",
            mpi ? "mpirun -n N smnn-solve-mpi" : "smnn-solve", mpi ? 26 : 10, "");
    if (mpi)
        fprintf(f,
                "Each MPI rank reads its contiguous slice of the batch (shared inputs whole),\n"
                "solves it on the device of its node-local rank and writes its slice of every\n"
                "output; rank 0 renames the outputs into place only when every rank succeeded.\n"
                "Inputs and outputs must be regular files, on a file system all ranks share.\n");
    fprintf(f,
            "\n"
            "  --coefficients FILE  c, shape (B|1, T|1, Q, V, n_orders)\n"
            "  --rhs FILE           d, shape (B|1, T|1, Q)\n"
            "  --init FILE          u, shape (B|1, T_init, V, n_init_orders)\n"
            "  --steps FILE         s, shape (B|1, T-1|1)\n"
            "  --out FILE           y, shape (B, T, V, n_orders); replaced only on success\n"
            "%s"
            "  --n-steps T          number of time points, when the inputs do not tell it\n"
            "  --w-gov X            weight of the governing equations (default 1)\n"
            "  --w-init X           weight of the initial values (default 1)\n"
            "  --w-smooth X         weight of the smoothness constraints (default 1)\n"
            "  --precision P        double (default) or single\n"
            "  --factorization F    auto (default: qr in single, cholesky in double precision),\n"
            "                       cholesky or qr\n",
            mpi ? ""
                : "                       (a device or FIFO is written in place, see README)\n");
    if (mpi)
        fprintf(f,
                "  --device SPEC[,SPEC...]  one device spec per node-local rank (local rank i\n"
                "                       takes spec i mod count; default: $SMNN_DEVICE read the\n"
                "                       same way, else local rank i takes device i mod count of\n"
                "                       the default device's type on its platform)\n");
    else
        fprintf(f,
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
                "                       solves per input element: small problems only)\n");
    fprintf(f,
            "  --grad-y FILE        dl/dy, shape (B, T, V, n_orders): also compute gradients\n"
            "  --grad-out PREFIX    write PREFIX-coefficients.npy, PREFIX-rhs.npy,\n"
            "                       PREFIX-init.npy, PREFIX-steps.npy (shapes of the inputs)\n"
            "  --help               show this help\n"
            "A size-1 leading dimension means the input is shared by every system.\n");
}

int solve_args_parse(int argc, char **argv, int mpi, solve_args *a) {
    memset(a, 0, sizeof *a);
    a->prog = mpi ? "smnn-solve-mpi" : "smnn-solve";
    a->mpi = mpi;
    smnn_problem_init(&a->p);
    smnn_plan_options_init(&a->opt);
    smnn_multi_options_init(&a->mopt);
    enum { O_C = 1, O_D, O_U, O_S, O_OUT, O_T, O_WG, O_WI, O_WS, O_PREC, O_DEV, O_REF, O_HELP, O_GY,
           O_GO, O_FACT, O_DEVS, O_SPLIT };
    static const struct option all[] = {
        {"coefficients", required_argument, 0, O_C}, {"rhs", required_argument, 0, O_D},
        {"init", required_argument, 0, O_U},         {"steps", required_argument, 0, O_S},
        {"out", required_argument, 0, O_OUT},        {"n-steps", required_argument, 0, O_T},
        {"w-gov", required_argument, 0, O_WG},       {"w-init", required_argument, 0, O_WI},
        {"w-smooth", required_argument, 0, O_WS},    {"precision", required_argument, 0, O_PREC},
        {"device", required_argument, 0, O_DEV},     {"help", no_argument, 0, O_HELP},
        {"grad-y", required_argument, 0, O_GY},      {"grad-out", required_argument, 0, O_GO},
        {"factorization", required_argument, 0, O_FACT},
        /* Not in the MPI tool: */
        {"reference", no_argument, 0, O_REF},        {"devices", required_argument, 0, O_DEVS},
        {"split", required_argument, 0, O_SPLIT},    {0, 0, 0, 0}};
    static struct option mpi_opts[sizeof all / sizeof all[0]];
    const struct option *opts = all;
    if (mpi) {
        /* The common options end before "reference". */
        size_t n = 0;
        while (strcmp(all[n].name, "reference")) n++;
        memcpy(mpi_opts, all, n * sizeof all[0]);
        memset(&mpi_opts[n], 0, sizeof mpi_opts[n]);
        opts = mpi_opts;
    }
    int o;
    cli_set_program(a->prog);
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_C: case O_D: case O_U: case O_S: case O_OUT:
            a->files[o - O_C] = optarg;
            break;
        case O_T: if (cli_size("--n-steps", optarg, 2, SIZE_MAX, &a->n_steps)) return 2; break;
        case O_WG: if (cli_positive("--w-gov", optarg, &a->p.w_gov)) return 2; break;
        case O_WI: if (cli_positive("--w-init", optarg, &a->p.w_init)) return 2; break;
        case O_WS: if (cli_positive("--w-smooth", optarg, &a->p.w_smooth)) return 2; break;
        case O_PREC: {
            static const char *const names[] = {"double", "single", NULL};
            int pick;
            if (cli_choice("--precision", optarg, names, &pick)) return 2;
            a->opt.precision = pick ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE;
            break;
        }
        case O_FACT: {
            static const char *const names[] = {"auto", "cholesky", "qr", NULL};
            static const smnn_factorization values[] = {
                SMNN_FACTORIZATION_AUTO, SMNN_FACTORIZATION_CHOLESKY, SMNN_FACTORIZATION_QR};
            int pick;
            if (cli_choice("--factorization", optarg, names, &pick)) return 2;
            a->opt.factorization = values[pick];
            break;
        }
        case O_DEV: a->device = optarg; break;
        case O_DEVS: a->devices = optarg; break;
        case O_SPLIT: {
            static const char *const names[] = {"measured", "equal", NULL};
            int pick;
            if (cli_choice("--split", optarg, names, &pick)) return 2;
            a->mopt.split = pick ? SMNN_SPLIT_EQUAL : SMNN_SPLIT_MEASURED;
            break;
        }
        case O_REF: a->use_reference = 1; break;
        case O_GY: a->grad_y_file = optarg; break;
        case O_GO: a->grad_prefix = optarg; break;
        case O_HELP: usage(stdout, mpi); return 0;
        default: usage(stderr, mpi); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", a->prog, argv[optind]);
        return 2;
    }
    if (a->devices && (a->device || a->use_reference)) {
        fprintf(stderr, "%s: --devices goes with neither --device nor --reference (name the "
                "devices in its list)\n", a->prog);
        return 2;
    }
    if (!a->grad_y_file != !a->grad_prefix) {
        fprintf(stderr, "%s: --grad-y and --grad-out go together\n", a->prog);
        return 2;
    }
    static const char *names[5] = {"--coefficients", "--rhs", "--init", "--steps", "--out"};
    for (int i = 0; i < 5; i++) {
        if (!a->files[i]) {
            fprintf(stderr, "%s: %s is required (see --help)\n", a->prog, names[i]);
            return 2;
        }
    }
    return -1;
}

int solve_outputs_prepare(solve_args *a) {
    /* No two outputs may name the same file (y would be silently overwritten by a gradient). */
    static const char *suffix[4] = {"coefficients", "rhs", "init", "steps"};
    a->outs[0] = a->files[4];
    a->n_out = 1;
    for (int i = 0; a->grad_prefix && i < 4; i++) {
        if ((size_t)snprintf(a->grad_path[i], sizeof a->grad_path[i], "%s-%s.npy",
                             a->grad_prefix, suffix[i]) >= sizeof a->grad_path[i]) {
            fprintf(stderr, "%s: --grad-out: the prefix is too long\n", a->prog);
            return 2;
        }
        a->outs[a->n_out++] = a->grad_path[i];
    }
    char err[512];
    for (size_t i = 0; i < a->n_out; i++) {
        for (size_t j = 0; j < i; j++) {
            if (outfile_same(a->outs[i], a->outs[j])) {
                fprintf(stderr, "%s: %s and %s name the same file: give --out and --grad-out "
                        "distinct names\n", a->prog, a->outs[j], a->outs[i]);
                return 2;
            }
        }
        if (outfile_check(a->outs[i], err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", a->prog, err);
            return 1;
        }
        /* Under MPI every rank writes its part at an offset: a device or FIFO cannot take that,
         * so it is refused before any work. */
        struct stat st;
        if (a->mpi && stat(a->outs[i], &st) == 0 && !S_ISREG(st.st_mode)) {
            fprintf(stderr, "%s: %s is not a regular file: under MPI every rank writes its part "
                    "of each output at its offset, which a device or FIFO cannot take\n",
                    a->prog, a->outs[i]);
            return 1;
        }
    }
    return 0;
}

const char *solve_shape_str(const npy_array *a, char *p) {
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

int solve_problem_infer(const npy_array a[4], solve_args *args) {
    const char *prog = args->prog, *const *files = args->files;
    smnn_problem *p = &args->p;
    char sh[5][128];
    const int want_nd[4] = {5, 3, 4, 2};
    const char *form[4] = {"(B|1, T|1, Q, V, n_orders)", "(B|1, T|1, Q)",
                           "(B|1, T_init, V, n_init_orders)", "(B|1, T-1|1)"};
    for (int i = 0; i < 4; i++) {
        if (a[i].ndim != want_nd[i]) {
            fprintf(stderr, "%s: %s has shape %s, expected %d dimensions %s\n", prog, files[i],
                    solve_shape_str(&a[i], sh[i]), want_nd[i], form[i]);
            return -1;
        }
        for (int k = 0; k < a[i].ndim; k++) {
            if (a[i].shape[k] == 0) {
                fprintf(stderr, "%s: %s has an empty dimension in shape %s\n", prog, files[i],
                        solve_shape_str(&a[i], sh[i]));
                return -1;
            }
        }
    }
    const npy_array *c = &a[0], *d = &a[1], *u = &a[2], *s = &a[3];
    for (int i = 0; i < 4; i++) solve_shape_str(&a[i], sh[i]);
    size_t B = 1, T = 0;
    int bad = 0;
    for (int i = 0; i < 4; i++) bad |= merge(&B, a[i].shape[0]);
    if (bad) {
        fprintf(stderr, "%s: batch sizes disagree: c %s, d %s, u %s, s %s (each must be B or "
                "1)\n", prog, sh[0], sh[1], sh[2], sh[3]);
        return -1;
    }
    bad |= merge(&T, c->shape[1]);
    bad |= merge(&T, d->shape[1]);
    if (s->shape[1] > 1) bad |= merge(&T, s->shape[1] + 1);
    if (args->n_steps) bad |= merge(&T, args->n_steps);
    if (bad) {
        fprintf(stderr, "%s: numbers of time points disagree: c %s, d %s, s %s%s\n", prog, sh[0],
                sh[1], sh[3], args->n_steps ? " and --n-steps" : "");
        return -1;
    }
    if (T <= 1) {
        fprintf(stderr, "%s: the inputs do not tell the number of time points (c, d and s are "
                "all shared across time): give --n-steps T\n", prog);
        return -1;
    }
    p->shared = 0;
    if (s->shape[1] == 1 && T != 2) p->shared |= SMNN_SHARE_S_TIME;
    if (c->shape[2] != d->shape[2]) {
        fprintf(stderr, "%s: c %s has Q = %zu equations but d %s has %zu\n", prog, sh[0],
                c->shape[2], sh[1], d->shape[2]);
        return -1;
    }
    if (u->shape[2] != c->shape[3]) {
        fprintf(stderr, "%s: u %s has V = %zu variables but c %s has %zu\n", prog, sh[2],
                u->shape[2], sh[0], c->shape[3]);
        return -1;
    }
    p->batch = B;
    p->steps = T;
    p->equations = c->shape[2];
    p->dims = c->shape[3];
    p->orders = c->shape[4];
    p->init_steps = u->shape[1];
    p->init_orders = u->shape[3];
    if (B > 1) {
        if (c->shape[0] == 1) p->shared |= SMNN_SHARE_C_BATCH;
        if (d->shape[0] == 1) p->shared |= SMNN_SHARE_D_BATCH;
        if (u->shape[0] == 1) p->shared |= SMNN_SHARE_U_BATCH;
        if (s->shape[0] == 1) p->shared |= SMNN_SHARE_S_BATCH;
    }
    if (c->shape[1] == 1) p->shared |= SMNN_SHARE_C_TIME;
    if (d->shape[1] == 1) p->shared |= SMNN_SHARE_D_TIME;
    if (smnn_problem_validate(p) != SMNN_SUCCESS) {
        fprintf(stderr, "%s: %s\n", prog, smnn_last_error());
        return -1;
    }
    /* Every input must have exactly the layout the library derives from the problem (the one
     * statement of the sharing rules, smnn_problem_layout). */
    for (int i = 0; i < 4; i++) {
        smnn_layout L;
        if (smnn_problem_layout(p, (smnn_input)i, &L) != SMNN_SUCCESS ||
            (size_t)a[i].ndim != L.rank ||
            memcmp(a[i].shape, L.shape, L.rank * sizeof L.shape[0]) != 0) {
            fprintf(stderr, "%s: %s has shape %s, which does not fit the problem's layout\n",
                    prog, files[i], sh[i]);
            return -1;
        }
    }
    return 0;
}
