/* smnn-solve-mpi: the MPI build of smnn-solve. Under `mpirun -n N`, each rank reads its
 * contiguous slice of the batch from the .npy inputs (inputs shared across the batch whole),
 * solves it on the device of its node-local rank and writes its slice of y (and of the gradients)
 * into one .npy file per output: rank 0 creates each output as a temporary file beside its
 * target (mkstemp, outfile.h) with the header, every rank writes its rows at their offset
 * (pwrite), and rank 0 renames the temporaries into place only when every rank succeeded (an
 * MPI reduction of the status after each phase). Gradients of inputs shared across the batch
 * are gathered per system on rank 0 and summed in the device's order (smnn_gradient_sum). The
 * outputs equal smnn-solve's bit for bit: every rank's plan takes the options a plan for the
 * whole batch would take (smnn_plan_options_resolve).
 *
 * Any rank's error makes every rank exit 1 and leaves every output as it was; the first failing
 * rank prints its message prefixed with its number, and rank 0 says which rank failed (errors
 * that every rank finds alike, in the command line and the inputs' shapes, rank 0 prints once,
 * as smnn-solve would). Exit codes as
 * smnn-solve's: 0 success, 1 failure, 2 bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <smnn/smnn.h>

#include "hostutil.h"
#include "npy.h"
#include "outfile.h"
#include "solveargs.h"

static int rank, nranks;
static char who[64]; /* "smnn-solve-mpi (rank R of N)" */

/* Every rank learns whether all succeeded: returns -1, or the lowest failing rank. */
static int agree(int ok) {
    int mine = ok ? INT_MAX : rank, lowest = INT_MAX;
    MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return lowest == INT_MAX ? -1 : lowest;
}

/* This rank's first error of the run, printed by fail_all when this rank is the first failing
 * one (so that a failure says why once, whichever rank it happened on). */
static char msg[2048];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    if (msg[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
}

/* Ends the run after a failed phase: the lowest failing rank says why, rank 0 which rank it
 * was. */
static int fail_all(int failed_rank, const char *phase) {
    /* (A rank whose message a shared helper printed already has none here.) */
    if (rank == failed_rank && msg[0]) fprintf(stderr, "%s: %s\n", who, msg);
    if (rank == 0 && failed_rank != 0)
        fprintf(stderr, "smnn-solve-mpi: rank %d of %d failed (%s): no output was written\n",
                failed_rank, nranks, phase);
    return 1;
}

/* Runs on every rank what prints the same message everywhere (argument and shape checks), with
 * stderr silenced on ranks other than 0. */
static int saved_stdout = -1;
static int quiet_begin(void) {
    if (rank == 0) return -1;
    fflush(stdout);
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    saved_stdout = dup(1); /* --help's text too */
    if (saved >= 0 && null >= 0) dup2(null, 2);
    if (saved_stdout >= 0 && null >= 0) dup2(null, 1);
    if (null >= 0) close(null);
    return saved;
}

static void quiet_end(int saved) {
    if (rank == 0) return;
    fflush(stdout);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (saved_stdout >= 0) {
        dup2(saved_stdout, 1);
        close(saved_stdout);
        saved_stdout = -1;
    }
}

/* One output in the making: rank 0's staged file, and where every rank writes its part. */
typedef struct output {
    outfile of;         /* rank 0 only */
    char tmp[4096];     /* the temporary's path, on every rank */
    size_t header;      /* bytes before the data */
    const double *data; /* what this rank writes (NULL: nothing) */
    size_t offset, count; /* in values, from the start of the data */
} output;

/* Writes count values of data as the file's dtype at value offset `offset` of path's data. */
static int write_part(const char *path, size_t header, size_t offset, const double *data,
                      size_t count, int f32, char *err, size_t errlen) {
    size_t es = f32 ? 4 : 8, chunk = 1 << 16;
    unsigned char *buf = malloc(chunk * es);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int ok = buf && fd >= 0;
    for (size_t done = 0; ok && done < count; done += chunk) {
        size_t n = count - done < chunk ? count - done : chunk;
        npy_encode(data + done, n, f32, buf);
        size_t put = 0;
        while (ok && put < n * es) {
            ssize_t w = pwrite(fd, buf + put, n * es - put,
                               (off_t)(header + (offset + done) * es + put));
            if (w < 0 && errno == EINTR) continue;
            ok = w > 0;
            if (ok) put += (size_t)w;
        }
    }
    if (ok) ok = fsync(fd) == 0;
    int e = ok ? 0 : errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    free(buf);
    if (!ok)
        snprintf(err, errlen, "writing this rank's part into %s (the staged output) failed: %s",
                 path, e ? strerror(e) : "out of memory");
    return ok ? 0 : -1;
}

/* Gathers every rank's per-system contributions to a batch-shared gradient (full layout, its
 * systems first .. first + count - 1) on rank 0 into full (B, full_time, row), in batch order.
 * rc and disp: nranks ints on rank 0 (allocated before the phase's agreement, so that every rank
 * reaches the collective). */
static int gather_full(const double *mine, size_t count, size_t per, double *full,
                       const size_t *firsts, const size_t *counts, int *rc, int *disp) {
    for (int r = 0; rank == 0 && r < nranks; r++) {
        rc[r] = (int)(counts[r] * per);
        disp[r] = (int)(firsts[r] * per);
    }
    int e = MPI_Gatherv(mine, (int)(count * per), MPI_DOUBLE, full, rc, disp, MPI_DOUBLE, 0,
                        MPI_COMM_WORLD);
    return e == MPI_SUCCESS ? 0 : -1;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    MPI_Comm node;
    int local_rank = 0;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local_rank);
    MPI_Comm_free(&node);
    snprintf(who, sizeof who, "smnn-solve-mpi (rank %d of %d)", rank, nranks);

    /* 1. The command line and the outputs' names, said by rank 0; its verdict holds for every
     * rank (the output checks look at the file system, which a rank elsewhere may see
     * differently: rank 0 writes the outputs). */
    solve_args args;
    int q = quiet_begin();
    int rc = solve_args_parse(argc, argv, 1, &args);
    if (rc < 0 && (rc = solve_outputs_prepare(&args)) == 0) rc = -1;
    quiet_end(q);
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc >= 0) {
        MPI_Finalize();
        return rc;
    }
    const int want_grads = args.grad_y_file != NULL;
    const int f32 = args.opt.precision == SMNN_PRECISION_SINGLE;
    npy_array a[4], gy;
    memset(a, 0, sizeof a);
    memset(&gy, 0, sizeof gy);
    char err[512];
    rc = 1;
    smnn_context *ctx = NULL;
    smnn_plan *plan = NULL;
    double *y = NULL, *grads[4] = {NULL, NULL, NULL, NULL}, *full[4] = {NULL, NULL, NULL, NULL};
    double *sum[4] = {NULL, NULL, NULL, NULL};
    size_t *firsts = NULL, *counts = NULL;
    int *gather_rc = NULL, *gather_disp = NULL;
    output outs[5];
    memset(outs, 0, sizeof outs);
    int failed, ok = 1;

    /* 2. The problem, from the headers (the shape rules said by rank 0; every rank reads the
     * same headers). */
    for (int i = 0; i < 4 && ok; i++)
        if (npy_read_header(args.files[i], &a[i], err, sizeof err) != 0) {
            say("%s", err);
            ok = 0;
        }
    if (ok) {
        q = quiet_begin();
        args.prog = rank == 0 ? "smnn-solve-mpi" : who;
        ok = solve_problem_infer(a, &args) == 0;
        quiet_end(q);
        if (!ok && rank != 0)
            say("the inputs' shapes do not make a problem here, but they did on rank 0: do the "
                "ranks see different files?");
    }
    if ((failed = agree(ok)) >= 0) {
        rc = fail_all(failed, "the inputs' headers");
        goto out;
    }
    /* Every rank must have read the same shapes (a file replaced between two ranks' reads, or a
     * node seeing a stale copy, would make the slices and the gathers disagree): rank 0's
     * problem, compared everywhere. */
    {
        smnn_problem root = args.p;
        MPI_Bcast(&root, (int)sizeof root, MPI_BYTE, 0, MPI_COMM_WORLD);
        ok = root.batch == args.p.batch && root.steps == args.p.steps &&
             root.dims == args.p.dims && root.orders == args.p.orders &&
             root.equations == args.p.equations && root.init_steps == args.p.init_steps &&
             root.init_orders == args.p.init_orders && root.shared == args.p.shared;
        if (!ok)
            say("the inputs' shapes here differ from rank 0's: do the ranks see different "
                "files?");
        if ((failed = agree(ok)) >= 0) {
            rc = fail_all(failed, "the inputs' headers");
            goto out;
        }
    }
    args.prog = who;
    const smnn_problem whole = args.p;
    const size_t B = whole.batch, ny_per = whole.steps * whole.dims * whole.orders;
    /* This rank's slice, and everyone's (rank 0 gathers and writes by them). */
    firsts = malloc((size_t)nranks * sizeof *firsts);
    counts = malloc((size_t)nranks * sizeof *counts);
    if (rank == 0) {
        gather_rc = malloc((size_t)nranks * sizeof *gather_rc);
        gather_disp = malloc((size_t)nranks * sizeof *gather_disp);
    }
    if (!firsts || !counts || (rank == 0 && (!gather_rc || !gather_disp))) {
        say("out of memory");
        ok = 0;
    }
    for (int r = 0; ok && r < nranks; r++) {
        firsts[r] = (size_t)((unsigned __int128)B * (unsigned)r / (unsigned)nranks);
        counts[r] = (size_t)((unsigned __int128)B * (unsigned)(r + 1) / (unsigned)nranks) -
                    firsts[r];
    }
    smnn_layout lay[4];
    for (int i = 0; ok && i < 4; i++) smnn_problem_layout(&whole, (smnn_input)i, &lay[i]);
    /* MPI counts are ints: a gathered shared gradient must fit one. */
    for (int i = 0; ok && want_grads && i < 4; i++)
        if (lay[i].shared_batch && lay[i].full_batch * lay[i].full_time * lay[i].row > INT_MAX) {
            say("the per-system gradient of shared input %d (%zu values) is too large to gather "
                "through MPI", i, lay[i].full_batch * lay[i].full_time * lay[i].row);
            ok = 0;
        }
    if ((failed = agree(ok)) >= 0) {
        rc = fail_all(failed, "planning the slices");
        goto out;
    }
    const size_t first = firsts[rank], count = counts[rank];

    /* 3. This rank's slice of the data (shared inputs whole). */
    for (int i = 0; i < 4 && ok; i++) {
        size_t lead = a[i].shape[0];
        npy_free(&a[i]);
        /* Shared: all of it (one row); otherwise this rank's rows (none on a rank left
         * without systems). */
        int shared = lay[i].shared_batch;
        if (npy_read_rows(args.files[i], shared ? 0 : first, shared ? lead : count, &a[i], err,
                          sizeof err) != 0) {
            say("%s", err);
            ok = 0;
        } else if ((size_t)a[i].ndim != lay[i].rank ||
                   memcmp(a[i].shape + 1, lay[i].shape + 1,
                          (lay[i].rank - 1) * sizeof lay[i].shape[0]) != 0 ||
                   a[i].count != (shared ? lay[i].count : count * lay[i].batch_stride)) {
            /* The file changed since its header was read. */
            say("%s: its shape changed while the run read it", args.files[i]);
            ok = 0;
        }
    }
    if (ok && want_grads) {
        npy_array h;
        size_t want[4] = {whole.batch, whole.steps, whole.dims, whole.orders};
        char shape_text[256];
        if (npy_read_header(args.grad_y_file, &h, err, sizeof err) != 0) {
            say("%s", err);
            ok = 0;
        } else if (h.ndim != 4 || memcmp(h.shape, want, sizeof want) != 0) {
            say("%s has shape %s, expected (%zu, %zu, %zu, %zu) like y", args.grad_y_file,
                solve_shape_str(&h, shape_text), want[0], want[1], want[2], want[3]);
            ok = 0;
        } else if (npy_read_rows(args.grad_y_file, first, count, &gy, err, sizeof err) != 0 ||
                   gy.count != count * ny_per) {
            say("%s", gy.data ? "the shape of dl/dy changed while the run read it" : err);
            ok = 0;
        }
    }
    if ((failed = agree(ok)) >= 0) {
        rc = fail_all(failed, "reading its slice");
        goto out;
    }

    /* 4. The solve (and gradients) of this rank's systems on its device. */
    y = hu_alloc(count ? count * ny_per : 1, sizeof *y);
    if (!y) ok = 0;
    for (int i = 0; ok && want_grads && i < 4; i++) {
        /* Batch-shared: per system (full layout); otherwise the input's own layout. */
        size_t per = lay[i].shared_batch || !lay[i].shared_time ? lay[i].full_time * lay[i].row
                                                                 : lay[i].row;
        size_t n = count * per;
        grads[i] = hu_alloc(n ? n : 1, sizeof(double));
        if (!grads[i]) ok = 0;
    }
    if (!ok) say("out of memory for this rank's outputs");
    if (ok && count > 0) {
        smnn_problem mine = whole;
        mine.batch = count;
        smnn_plan_options resolved;
        smnn_status st = smnn_context_create_local(local_rank, args.device, &ctx);
        if (st == SMNN_SUCCESS) st = smnn_plan_options_resolve(ctx, &whole, &args.opt, &resolved);
        if (st == SMNN_SUCCESS) st = smnn_plan_create(ctx, &mine, &resolved, &plan);
        if (st == SMNN_SUCCESS)
            st = smnn_solve(plan, a[0].data, a[1].data, a[2].data, a[3].data, y);
        if (st == SMNN_SUCCESS && want_grads)
            st = smnn_backward_unreduced(plan, a[0].data, a[1].data, a[3].data, y, gy.data,
                                         grads[0], grads[1], grads[2], grads[3]);
        if (st != SMNN_SUCCESS) {
            say("systems %zu..%zu: %s (system and element indexes in this message count from "
                "system %zu, the first of this rank's slice)",
                first, first + count - 1, smnn_last_error(), first);
            ok = 0;
        }
    }
    if ((failed = agree(ok)) >= 0) {
        rc = fail_all(failed, "the solve");
        goto out;
    }

    /* 5. Batch-shared gradients: every system's contribution on rank 0, summed there. */
    for (int i = 0; rank == 0 && want_grads && i < 4; i++) {
        if (!lay[i].shared_batch) continue;
        full[i] = hu_alloc(B * lay[i].full_time * lay[i].row, sizeof(double));
        sum[i] = hu_alloc(lay[i].count, sizeof(double));
        if (!full[i] || !sum[i]) ok = 0;
    }
    if (!ok) say("out of memory for the shared gradients");
    if ((failed = agree(ok)) >= 0) {
        rc = fail_all(failed, "the shared gradients");
        goto out;
    }
    for (int i = 0; want_grads && i < 4; i++) {
        if (!lay[i].shared_batch) continue;
        if (gather_full(grads[i], count, lay[i].full_time * lay[i].row, full[i], firsts, counts,
                        gather_rc, gather_disp) != 0)
            ok = 0;
        if (rank == 0 && ok &&
            smnn_gradient_sum(&whole, (smnn_input)i, args.opt.precision, full[i], sum[i]) !=
                SMNN_SUCCESS)
            ok = 0;
    }
    if (!ok) say("summing the shared gradients failed");
    if ((failed = agree(ok)) >= 0) {
        rc = fail_all(failed, "the shared gradients");
        goto out;
    }

    /* 6. The outputs: rank 0 stages each file with its header; every rank writes its rows. */
    size_t yshape[4] = {whole.batch, whole.steps, whole.dims, whole.orders};
    for (size_t k = 0; k < args.n_out; k++) {
        const size_t *shape = k == 0 ? yshape : lay[k - 1].shape;
        int ndim = k == 0 ? 4 : (int)lay[k - 1].rank;
        size_t total = k == 0 ? whole.batch * ny_per : lay[k - 1].count;
        output *o = &outs[k];
        int len = 0;
        if (rank == 0 && ok) {
            unsigned char head[NPY_HEADER_MAX];
            o->header = npy_header(shape, ndim, f32, head, sizeof head);
            if (outfile_open(&o->of, args.outs[k], err, sizeof err) != 0) {
                say("%s", err);
                ok = 0;
            } else if (o->of.in_place || !o->of.tmp) {
                say("%s is not a regular file: under MPI every rank writes its part of each "
                    "output at its offset, which a device or FIFO cannot take", args.outs[k]);
                ok = 0;
            } else if (o->header == 0 || fwrite(head, 1, o->header, o->of.f) != o->header ||
                       fflush(o->of.f) != 0 ||
                       ftruncate(fileno(o->of.f),
                                 (off_t)(o->header + total * (f32 ? 4 : 8))) != 0) {
                say("%s: writing the header failed", args.outs[k]);
                ok = 0;
            } else if (strlen(o->of.tmp) >= sizeof o->tmp) {
                say("%s: the temporary file's path is too long", args.outs[k]);
                ok = 0;
            } else {
                len = (int)strlen(o->of.tmp);
                memcpy(o->tmp, o->of.tmp, (size_t)len + 1);
            }
        }
        if ((failed = agree(ok)) >= 0) {
            rc = fail_all(failed, "staging the outputs");
            goto out;
        }
        unsigned long long hdr = o->header;
        MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
        MPI_Bcast(o->tmp, len + 1, MPI_CHAR, 0, MPI_COMM_WORLD);
        MPI_Bcast(&hdr, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
        o->header = (size_t)hdr;
        /* What this rank writes: its rows of y and of unshared gradients; rank 0 the sums. */
        if (k == 0) {
            o->data = y, o->offset = first * ny_per, o->count = count * ny_per;
        } else if (lay[k - 1].shared_batch) {
            o->data = rank == 0 ? sum[k - 1] : NULL, o->offset = 0;
            o->count = rank == 0 ? lay[k - 1].count : 0;
        } else {
            o->data = grads[k - 1], o->offset = first * lay[k - 1].batch_stride;
            o->count = count * lay[k - 1].batch_stride;
        }
    }
    for (size_t k = 0; ok && k < args.n_out; k++)
        if (outs[k].count &&
            write_part(outs[k].tmp, outs[k].header, outs[k].offset, outs[k].data, outs[k].count,
                       f32, err, sizeof err) != 0) {
            say("%s", err);
            ok = 0;
        }
    if ((failed = agree(ok)) >= 0) {
        rc = fail_all(failed, "writing the outputs");
        goto out;
    }

    /* 7. Every part written: rank 0 renames the outputs into place, and tells everyone. */
    if (rank == 0) {
        outfile staged[5];
        for (size_t k = 0; k < args.n_out; k++) {
            staged[k] = outs[k].of;
            memset(&outs[k].of, 0, sizeof outs[k].of);
        }
        if (outfile_commit_all(staged, args.n_out, err, sizeof err) != 0) {
            say("%s", err);
            ok = 0;
        }
    }
    if ((failed = agree(ok)) >= 0) {
        rc = fail_all(failed, "committing the outputs");
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < 5; i++) outfile_discard(&outs[i].of);
    smnn_plan_free(plan);
    smnn_context_free(ctx);
    for (int i = 0; i < 4; i++) {
        npy_free(&a[i]);
        free(grads[i]);
        free(full[i]);
        free(sum[i]);
    }
    npy_free(&gy);
    free(y);
    free(firsts);
    free(counts);
    free(gather_rc);
    free(gather_disp);
    MPI_Finalize();
    return rc;
}
