/* One MPI rank per GPU: each rank solves its contiguous slice of a batch of y' + y = 0 on the
 * device of its node-local rank, with the options a plan for the whole batch would take, so
 * that its numbers equal a one-process solve bit for bit. Under Slurm: srun --gpus-per-task=1. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <smnn/smnn.h>

enum { B = 1000, T = 101 }; /* the whole batch: B systems, time points 0, 0.01, ..., 1 */

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size, local;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local);
    MPI_Comm_free(&node);
    int first = B * rank / size, count = B * (rank + 1) / size - first; /* this rank's systems */

    smnn_problem whole, mine;
    smnn_problem_init(&whole);
    whole.batch = B;
    whole.steps = T;
    whole.orders = 3;
    whole.shared = SMNN_SHARE_C_BATCH | SMNN_SHARE_C_TIME | SMNN_SHARE_D_BATCH |
                   SMNN_SHARE_D_TIME | SMNN_SHARE_S_BATCH | SMNN_SHARE_S_TIME;
    mine = whole;
    mine.batch = count;
    double c[3] = {1, 1, 0}, d[1] = {0}, s[1] = {0.01}; /* y + y' = 0, step 0.01 */
    double *u = malloc(count * sizeof *u), *y = malloc(count * T * 3 * sizeof *y);
    for (int b = 0; b < count; b++) u[b] = 1.0 + 0.001 * (first + b); /* y(0) of each system */

    smnn_context *ctx = NULL;
    smnn_plan *plan = NULL;
    smnn_plan_options opt;
    /* The device of this node-local rank ($SMNN_DEVICE may list one spec per local rank). */
    smnn_status st = smnn_context_create_local(local, NULL, &ctx);
    if (st == SMNN_SUCCESS) st = smnn_plan_options_resolve(ctx, &whole, NULL, &opt);
    if (st == SMNN_SUCCESS && count > 0) st = smnn_plan_create(ctx, &mine, &opt, &plan);
    if (st == SMNN_SUCCESS && count > 0) st = smnn_solve(plan, c, d, u, s, y);
    if (st != SMNN_SUCCESS) fprintf(stderr, "rank %d: %s\n", rank, smnn_last_error());
    int ok = st == SMNN_SUCCESS, all_ok;
    double worst = 0, all;
    for (int b = 0; ok && b < count; b++) /* y(1) against the exact u e^-1 */
        worst = fmax(worst, fabs(y[(b * T + T - 1) * 3] / (u[b] * exp(-1.0)) - 1));
    MPI_Reduce(&worst, &all, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (rank == 0 && all_ok)
        printf("%d ranks, %d systems: largest relative error of y(1) %.1e\n", size, B, all);
    smnn_plan_free(plan);
    smnn_context_free(ctx);
    free(u);
    free(y);
    MPI_Finalize();
    return all_ok && all < 1e-4 ? 0 : 1; /* discretisation error of h = 0.01 */
}
