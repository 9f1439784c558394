/* The blocking calls of a multi-device plan: the inputs checked over the whole batch, one thread
 * per non-empty part running the part's blocking call on its slice into host staging arrays,
 * then (only when no part failed) the sums of batch-shared gradients and the copy into the
 * caller's outputs. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multi_internal.h"

typedef enum mop { M_SOLVE, M_FACTOR, M_FROZEN, M_BACKWARD } mop;

/* The host arrays of one call: inputs c, d, u, s, y, grad_y and outputs y, grad_c..grad_s. */
typedef struct call_io {
    const double *in[6]; /* c, d, u, s, y (backward), grad_y */
    double *y;
    double *grad[4];
} call_io;

/* One part's work and its outcome. */
typedef struct job {
    smnn_multi_plan *mp;
    size_t i;
    mop op;
    const double *in[6];
    double *y, *grad[4]; /* staging slices */
    smnn_status st;
    char msg[4096];
} job;

static int soft(smnn_status st) {
    return st == SMNN_SUCCESS || st == SMNN_ERROR_NOT_POSITIVE_DEFINITE ||
           st == SMNN_ERROR_RANK_DEFICIENT || st == SMNN_ERROR_NOT_CONVERGED;
}

static void *work(void *arg) {
    job *j = arg;
    smnn_plan *plan = j->mp->parts[j->i].plan;
    const double *const *x = j->in;
    switch (j->op) {
    case M_SOLVE: j->st = smnn_solve(plan, x[0], x[1], x[2], x[3], j->y); break;
    case M_FACTOR: j->st = smnn_factor(plan, x[0], x[3]); break;
    case M_FROZEN: j->st = smnn_solve_frozen(plan, x[0], x[1], x[2], j->y); break;
    case M_BACKWARD:
        j->st = smnn_backward_unreduced(plan, x[0], x[1], x[3], x[4], x[5], j->grad[0],
                                         j->grad[1], j->grad[2], j->grad[3]);
        break;
    }
    if (j->st != SMNN_SUCCESS) snprintf(j->msg, sizeof j->msg, "%s", smnn_last_error());
    return NULL;
}

/* Which inputs a call reads (the rules of the blocking calls, solver.h) and which are steps. */
static void needed(mop op, const call_io *io, int need[6]) {
    memset(need, 0, 6 * sizeof *need);
    if (op == M_BACKWARD) {
        int gc = io->grad[0] != NULL, gd = io->grad[1] != NULL, gs = io->grad[3] != NULL;
        need[0] = gc || gd;
        need[1] = gc;
        need[3] = gs;
        need[4] = gc || gs;
        need[5] = 1;
    } else {
        need[0] = 1;
        need[1] = need[2] = op != M_FACTOR;
        need[3] = op != M_FROZEN;
    }
}

/* Element counts of the inputs and outputs over the whole batch. */
static size_t input_count(const smnn_multi_plan *mp, int k) {
    return k < 4 ? mp->in[k].count : smnn_problem_y_count(&mp->p);
}

/* The full layout of a batch-shared gradient: one contribution per system. */
static size_t full_count(const smnn_layout *l) {
    return l->full_batch * l->full_time * l->row;
}

/* The status of a call whose parts all ended in success or a per-system status: over the whole
 * batch, failing systems first, then unconverged ones, as one plan reports them. */
static smnn_status batch_status(smnn_multi_plan *mp, const job *jobs) {
    int failed = 0, unconverged = 0;
    for (size_t i = 0; i < mp->nparts; i++) {
        failed |= jobs[i].st == SMNN_ERROR_NOT_POSITIVE_DEFINITE ||
                  jobs[i].st == SMNN_ERROR_RANK_DEFICIENT;
        unconverged |= jobs[i].st == SMNN_ERROR_NOT_CONVERGED;
    }
    if (!failed && !unconverged) return SMNN_SUCCESS;
    smnn_failure_report r;
    FORWARD_IF_ERROR(failed ? smnn_multi_plan_failures(mp, &r)
                            : smnn_multi_plan_unconverged(mp, &r));
    smnn_context *ctx = mp->parts[0].ctx;
    if (failed) {
        /* Every part has the same resolved factorization (empty parts too). */
        int qr = mp->parts[0].opt.factorization == SMNN_FACTORIZATION_QR;
        return FAIL(ctx, qr ? SMNN_ERROR_RANK_DEFICIENT : SMNN_ERROR_NOT_POSITIVE_DEFINITE,
                    "%zu of %zu systems failed (first: system %zu at time point %zu): %s or a "
                    "value became NaN/Inf; their outputs are NaN, the other systems are solved",
                    r.count, mp->p.batch, r.first_system, r.first_step,
                    qr ? "their rows are rank deficient" : "the pivot block was not positive "
                                                           "definite");
    }
    return FAIL(ctx, SMNN_ERROR_NOT_CONVERGED,
                "%zu of %zu systems: the refinement did not confirm their accuracy (first: system "
                "%zu); outputs are written (smnn_multi_plan_unconverged; see "
                "smnn_plan_unconverged for what it means)",
                r.count, mp->p.batch, r.first_system);
}

static smnn_status execute(smnn_multi_plan *mp, mop op, const call_io *io) {
    smnn__clear_error();
    if (!mp) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'plan' is NULL");
    smnn_context *ctx0 = mp->parts[0].ctx;
    static const char *names[6] = {"c", "d", "u", "s", "y", "grad_y"};
    int need[6];
    needed(op, io, need);
    int single = mp->parts[0].opt.precision == SMNN_PRECISION_SINGLE;
    /* Checks over the whole batch first (global indexes in the messages). */
    for (int k = 0; k < 6; k++) {
        if (!need[k]) continue;
        if (!io->in[k])
            return FAIL(ctx0, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL%s", names[k],
                        op == M_BACKWARD ? " but the requested gradients need it" : "");
        FORWARD_IF_ERROR(smnn__check_host_values(ctx0, names[k], io->in[k], input_count(mp, k),
                                                 single, k == 3));
    }
    if ((op == M_SOLVE || op == M_FROZEN) && !io->y)
        return FAIL(ctx0, SMNN_ERROR_INVALID_ARGUMENT, "argument 'y' is NULL");
    if ((op == M_FROZEN || op == M_BACKWARD) && !mp->factored)
        return FAIL(ctx0, SMNN_ERROR_INVALID_STATE,
                    "the multi plan holds no factorization: call smnn_multi_solve or "
                    "smnn_multi_factor first (or the last one failed)");

    /* Staging: y, or each gradient (batch-shared ones also in full layout). */
    size_t ny = smnn_problem_y_count(&mp->p), per_y = ny / mp->p.batch;
    size_t total = 0, gfull[4] = {0, 0, 0, 0}, bytes = 0;
    int wraps = 0;
    if (op == M_SOLVE || op == M_FROZEN) total = ny;
    for (int k = 0; op == M_BACKWARD && k < 4; k++) {
        if (!io->grad[k]) continue;
        wraps |= __builtin_add_overflow(total, mp->in[k].count, &total);
        if (mp->in[k].shared_batch) {
            gfull[k] = full_count(&mp->in[k]);
            wraps |= __builtin_add_overflow(total, gfull[k], &total);
        }
    }
    wraps |= __builtin_mul_overflow(total, sizeof(double), &bytes);
    if (wraps)
        return FAIL(ctx0, SMNN_ERROR_TOO_LARGE,
                    "the host staging of the outputs overflows the address space");
    double *stage = total ? malloc(bytes) : NULL;
    job *jobs = calloc(mp->nparts, sizeof *jobs);
    pthread_t *threads = calloc(mp->nparts, sizeof *threads);
    char *started = calloc(mp->nparts, 1);
    if ((total && !stage) || !jobs || !threads || !started) {
        free(stage);
        free(jobs);
        free(threads);
        free(started);
        return FAIL(ctx0, SMNN_ERROR_OUT_OF_HOST_MEMORY, "staging of the outputs");
    }
    double *ystage = NULL, *gstage[4] = {NULL, NULL, NULL, NULL}, *gfullstage[4] = {NULL};
    double *next = stage;
    if (op == M_SOLVE || op == M_FROZEN) ystage = next, next += ny;
    for (int k = 0; op == M_BACKWARD && k < 4; k++) {
        if (!io->grad[k]) continue;
        gstage[k] = next, next += mp->in[k].count;
        if (gfull[k]) gfullstage[k] = next, next += gfull[k];
    }

    if (op == M_SOLVE || op == M_FACTOR) mp->factored = 0;
    for (size_t i = 0; i < mp->nparts; i++) {
        job *j = &jobs[i];
        const smnn__part *pt = &mp->parts[i];
        j->mp = mp;
        j->i = i;
        j->op = op;
        if (!pt->count) continue;
        for (int k = 0; k < 6; k++) {
            const double *x = need[k] ? io->in[k] : NULL;
            if (!x) continue;
            j->in[k] = k < 4 ? (mp->in[k].shared_batch ? x : x + pt->first * mp->in[k].batch_stride)
                             : x + pt->first * per_y;
        }
        if (ystage) j->y = ystage + pt->first * per_y;
        for (int k = 0; k < 4; k++) {
            const smnn_layout *l = &mp->in[k];
            if (gfullstage[k])
                j->grad[k] = gfullstage[k] + pt->first * l->full_time * l->row;
            else if (gstage[k])
                j->grad[k] = gstage[k] + pt->first * l->batch_stride;
        }
        started[i] = pthread_create(&threads[i], NULL, work, j) == 0;
        if (!started[i]) work(j); /* no thread to be had: run it here */
    }
    for (size_t i = 0; i < mp->nparts; i++)
        if (started[i]) pthread_join(threads[i], NULL);

    smnn_status st = SMNN_SUCCESS;
    size_t hard = 0, first_hard = 0;
    for (size_t i = 0; i < mp->nparts; i++)
        if (!soft(jobs[i].st) && hard++ == 0) first_hard = i;
    if (hard) {
        char name[256];
        smnn__part_name(mp, first_hard, name, sizeof name);
        st = FAIL(mp->parts[first_hard].ctx, jobs[first_hard].st,
                  "%s failed, so no output was written%s: %s", name,
                  hard > 1 ? " (other parts failed too)" : "", jobs[first_hard].msg);
    } else {
        if (op == M_SOLVE || op == M_FACTOR) mp->factored = 1;
        /* The batch-shared gradients: the parts' per-system contributions in batch order,
         * summed as one device sums them. */
        for (int k = 0; k < 4; k++)
            if (gfullstage[k])
                smnn_gradient_sum(&mp->p, (smnn_input)k, mp->parts[0].opt.precision,
                                  gfullstage[k], gstage[k]);
        if (ystage) memcpy(io->y, ystage, ny * sizeof *ystage);
        for (int k = 0; k < 4; k++)
            if (gstage[k]) memcpy(io->grad[k], gstage[k], mp->in[k].count * sizeof *gstage[k]);
        st = batch_status(mp, jobs);
    }
    free(stage);
    free(jobs);
    free(threads);
    free(started);
    return st;
}

smnn_status smnn_multi_solve(smnn_multi_plan *plan, const double *c, const double *d,
                             const double *u, const double *s, double *y) {
    call_io io = {{c, d, u, s, NULL, NULL}, y, {NULL, NULL, NULL, NULL}};
    return execute(plan, M_SOLVE, &io);
}

smnn_status smnn_multi_factor(smnn_multi_plan *plan, const double *c, const double *s) {
    call_io io = {{c, NULL, NULL, s, NULL, NULL}, NULL, {NULL, NULL, NULL, NULL}};
    return execute(plan, M_FACTOR, &io);
}

smnn_status smnn_multi_solve_frozen(smnn_multi_plan *plan, const double *c, const double *d,
                                    const double *u, double *y) {
    call_io io = {{c, d, u, NULL, NULL, NULL}, y, {NULL, NULL, NULL, NULL}};
    return execute(plan, M_FROZEN, &io);
}

smnn_status smnn_multi_backward(smnn_multi_plan *plan, const double *c, const double *d,
                                const double *s, const double *y, const double *grad_y,
                                double *grad_c, double *grad_d, double *grad_u, double *grad_s) {
    call_io io = {{c, d, NULL, s, y, grad_y}, NULL, {grad_c, grad_d, grad_u, grad_s}};
    return execute(plan, M_BACKWARD, &io);
}
