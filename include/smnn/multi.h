/* One batch over several devices: contexts for a device list, and a plan that shards the batch.
 *
 * An S-MNN batch is a set of independent systems, so it splits into contiguous parts, one per
 * context, solved concurrently (one host thread per part, each with its own plan and queue) and
 * gathered in batch order. The parts are ordinary plans (solver.h) on their contexts.
 *
 * Results equal one device's bit for bit when the parts run on identical devices (the same
 * driver, so the same compiled kernels): each part's plan takes the variant and the number of
 * systems per work-item that a plan for the whole batch takes on its device (solver.h,
 * Reproducibility), and the gradient of an input shared across the batch is summed on the host
 * over the parts' per-system contributions in the device's own order and precision (compensated
 * summation, system by system), not as a sum of partial sums. Devices of different kinds give each
 * part that device's own last bits.
 *
 * Split: in proportion to each device's throughput, measured by a short calibration solve of the
 * plan's shape (at most 1024 systems and 64 time points, median of three after a warm-up) and
 * cached per device (name, platform, driver, compute units) and shape for the life of the
 * process; or in equal parts (SMNN_SPLIT_EQUAL). Parts are multiples of the systems per
 * work-item except the last, so no device pads a lane group that another one fills. A batch
 * smaller than the number of contexts leaves some parts empty: they get no plan and no work.
 *
 * Errors: a device that fails (build error, out of memory, a failing enqueue or read) makes the
 * whole call fail with that error's status and a message naming the part, its device and its
 * systems, and no output is written: every part writes into a host staging copy, copied to the
 * caller's arrays only when every part succeeded. Failing systems (NOT_POSITIVE_DEFINITE,
 * RANK_DEFICIENT) and unconverged refinements (NOT_CONVERGED) are not device failures: outputs
 * are written as by one plan, and the status and message count over the whole batch with global
 * system indices. Memory: the staging copies of the outputs (and, for gradients of batch-shared
 * inputs, their per-system contributions) on the host.
 *
 * Thread safety: a multi plan is used by one thread at a time; it uses its contexts from its own
 * threads during each call, so the contexts' plans are not to be used concurrently with it. */
#ifndef SMNN_MULTI_H
#define SMNN_MULTI_H

#include <stddef.h>

#include <smnn/problem.h>
#include <smnn/runtime.h>
#include <smnn/solver.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Contexts for a device list ----------------------------------------------------------- */

/* Creates one context per device that `devices` names, in order, into a new array *out of
 * *count contexts (free with smnn_contexts_free):
 *  - "all": every device of the default device's type (GPU, else CPU, else any) on the default
 *    device's platform (smnn_device_list_choose with spec NULL, so $SMNN_DEVICE moves it): an
 *    8-GPU node gives its 8 GPUs, this kind of CPU-only machine its one CPU device.
 *  - "SPEC,SPEC,...": each by smnn_device_list_choose; naming a device twice makes two contexts
 *    on it (two queues sharing its compute units).
 *  - "split:N" or "split:N:SPEC": the device SPEC (default as above) partitioned into N
 *    sub-devices of equal compute units (clCreateSubDevices, CL_DEVICE_PARTITION_EQUALLY), one
 *    context each; N from 1 to the device's compute units (1: the device itself; a driver that
 *    offers no equal partition gives SMNN_ERROR_UNSUPPORTED for N > 1). Each sub-device gets
 *    units / N compute units (rounded down: the remainder stays unused). PoCL's CPU device
 *    splits by cores ($POCL_MAX_PTHREAD_COUNT sets how many it reports).
 * At most 64 contexts. Errors: SMNN_ERROR_INVALID_ARGUMENT (NULL argument, malformed list, N out
 * of range: the message says why), SMNN_ERROR_DEVICE_NOT_FOUND, SMNN_ERROR_UNSUPPORTED (the
 * device cannot be partitioned), and those of smnn_context_create; *out is NULL and *count 0 on
 * failure, with every context made so far freed. */
smnn_status smnn_contexts_create(const char *devices, smnn_context ***out, size_t *count);
/* The context of one process among several on a node (an MPI rank, with local_rank its rank
 * among the node's processes, e.g. from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) or
 * $OMPI_COMM_WORLD_LOCAL_RANK): devices (NULL or "": $SMNN_DEVICE) is a comma-separated list of
 * device specs of which item local_rank mod count is taken; unset, or "all": device local_rank
 * mod count of the devices "all" names above (a rank per GPU). Errors as smnn_context_create's,
 * SMNN_ERROR_INVALID_ARGUMENT for a negative rank or an empty item. */
smnn_status smnn_context_create_local(int local_rank, const char *devices, smnn_context **out);
/* Frees every context of an array from smnn_contexts_create and the array. Accepts NULL. */
void smnn_contexts_free(smnn_context **contexts, size_t count);

/* ---- The sharded plan ------------------------------------------------------------------- */

typedef struct smnn_multi_plan smnn_multi_plan;

/* How the batch is split over the contexts. */
typedef enum smnn_split {
    SMNN_SPLIT_MEASURED = 0, /* in proportion to measured throughput (default) */
    SMNN_SPLIT_EQUAL = 1,    /* equal parts */
} smnn_split;

/* Options of the sharding (the solver's options are smnn_plan_options). Fill with
 * smnn_multi_options_init(); fields are only ever appended, as in smnn_plan_options. */
typedef struct smnn_multi_options {
    size_t struct_size; /* set by smnn_multi_options_init */
    smnn_split split;   /* default SMNN_SPLIT_MEASURED */
} smnn_multi_options;

void smnn_multi_options_init(smnn_multi_options *opt);

/* Creates a plan for problem p over the ncontexts contexts (1 to 64, distinct pointers; the
 * same device may appear through several contexts): resolves the variant and systems per
 * work-item for the whole batch on each context's device (smnn_plan_options_resolve, which
 * compiles or loads the shape's program), measures throughputs when the split asks for it and
 * there are several contexts (one calibration solve per device kind and shape not measured
 * before in the process), splits the batch and creates one plan per non-empty part. p, opt and
 * mopt are copied; the contexts must outlive the plan. Errors: SMNN_ERROR_INVALID_ARGUMENT (NULL
 * or repeated context, count out of range, a field of p, opt or mopt), and any error of
 * smnn_plan_create on a part, whose message names the part and its device. */
smnn_status smnn_multi_plan_create(smnn_context *const *contexts, size_t ncontexts,
                                   const smnn_problem *p, const smnn_plan_options *opt,
                                   const smnn_multi_options *mopt, smnn_multi_plan **out);
void smnn_multi_plan_free(smnn_multi_plan *plan); /* accepts NULL */

/* One part of the split. */
typedef struct smnn_multi_part {
    smnn_context *context;
    size_t first;  /* first system of the batch (0-based) */
    size_t count;  /* systems; 0 for an empty part */
    smnn_plan *plan;   /* the part's plan (NULL for an empty part); owned by the multi plan */
    double throughput; /* measured systems x time points per second on a calibration solve of
                          the shape; 0 when not measured (SMNN_SPLIT_EQUAL, or one context) */
} smnn_multi_part;

/* Number of parts (= contexts) and part i (SMNN_ERROR_INVALID_ARGUMENT when out of range). */
size_t smnn_multi_plan_parts(const smnn_multi_plan *plan);
smnn_status smnn_multi_plan_part(const smnn_multi_plan *plan, size_t i, smnn_multi_part *out);
const smnn_problem *smnn_multi_plan_problem(const smnn_multi_plan *plan);

/* The blocking host-pointer calls of solver.h, over the whole batch: same arguments, shapes,
 * checks and statuses as smnn_solve, smnn_factor, smnn_solve_frozen and smnn_backward, run on
 * every part concurrently (see the header comment for errors). A frozen solve or backward pass
 * uses each part's factorization from the last smnn_multi_solve or smnn_multi_factor. */
smnn_status smnn_multi_solve(smnn_multi_plan *plan, const double *c, const double *d,
                             const double *u, const double *s, double *y);
smnn_status smnn_multi_factor(smnn_multi_plan *plan, const double *c, const double *s);
smnn_status smnn_multi_solve_frozen(smnn_multi_plan *plan, const double *c, const double *d,
                                    const double *u, double *y);
smnn_status smnn_multi_backward(smnn_multi_plan *plan, const double *c, const double *d,
                                const double *s, const double *y, const double *grad_y,
                                double *grad_c, double *grad_d, double *grad_u, double *grad_s);

/* Failure and refinement reports of the last call over the whole batch (global system indices;
 * see smnn_plan_failures and smnn_plan_unconverged). Errors as theirs, the message naming the
 * part. */
smnn_status smnn_multi_plan_failures(smnn_multi_plan *plan, smnn_failure_report *report);
smnn_status smnn_multi_plan_unconverged(smnn_multi_plan *plan, smnn_failure_report *report);

#ifdef __cplusplus
}
#endif
#endif
