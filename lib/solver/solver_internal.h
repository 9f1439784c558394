/* Internal state of a plan and the helpers the solver's files share. The files, in pipeline
 * order:
 *   tuning.c    the variant / vector-width table and the program of a plan (shape -> kernels)
 *   plan.c      options, plan creation (workspace, kernels with their constant arguments), queries
 *   buffers.c   buffer checks, host <-> device copies with precision conversion
 *   enqueue.c   queue and wait-list checks, kernel launches (per batch chunk, per item)
 *   solve.c     forward solve, factorization, frozen solve (asynchronous entry points)
 *   refine.c    iterative refinement of a solve
 *   gradient.c  the backward pass (gradients of c, d, u, s)
 *   report.c    failure and refinement reports
 *   blocking.c  the blocking host-pointer forms of every entry point
 * The kernel side of the contract (argument indices, record layout, flags) is cl/contract.h. */
#ifndef SMNN_SOLVER_INTERNAL_H
#define SMNN_SOLVER_INTERNAL_H

#include "../internal.h"
#include "contract.h"

/* Compile-time shape of one kernel program. */
typedef struct smnn__kernel_shape {
    smnn_variant variant;
    smnn_factorization factorization; /* CHOLESKY or QR (resolved) */
    int nmax; /* block capacity NMAX */
    int wg;   /* work-group size of the local variant */
    int vw;   /* systems per work-item of the private variant (1 or a vector width) */
    /* The block shape the program is specialised for (0: generic, sizes at run time). */
    int dims, orders, equations;
    int time_lanes; /* a partitioned (parallel-in-time) program: cl/partition.cl */
    /* 1: the program inlines its helpers and, specialised, unrolls the block loops
     * (cl/common.cl SMNN_BLOCKS_IN_REGISTERS); 0: calls and loops stay. */
    int blocks_in_registers;
    /* 1: the sequential private walk's factorization and forward substitution hold the back
     * substitution (cl/contract.h SMNN_FLAG_THEN_BACK; define SMNN_THEN_BACK=1), run while a
     * work-item's workspace is in its core's cache. */
    int then_back;
    /* 1: the sequential private Cholesky walk keeps the compact record (cl/contract.h
     * SMNN_REC_COMPACT; define SMNN_COMPACT=1): L_t, z_t and s_t, K_t applied as N_t L_t^-T. */
    int compact;
    /* 1: blocks that stay loops update in 2 x 2 register tiles instead of 4 x 4 (define
     * SMNN_SMALL_TILES=1, cl/common.cl): where one realv of vw systems spans more than one of the
     * device's vector registers. */
    int small_tiles;
} smnn__kernel_shape;

/* The program shape a plan for (p, opt) uses on ctx's device: the tuning table's variant and
 * width (or opt's), the block capacity, specialisation. Fails with SMNN_ERROR_UNSUPPORTED when
 * the block does not fit the variant or the device. */
smnn_status smnn__kernel_shape_for(smnn_context *ctx, const smnn_problem *p,
                                   const smnn_plan_options *opt, smnn__kernel_shape *shape);
/* The -D defines of a shape's program (at most SMNN__SHAPE_DEFINES_LEN bytes with the NUL). */
#define SMNN__SHAPE_DEFINES_LEN 256
void smnn__shape_defines(const smnn__kernel_shape *shape, char *buf, size_t len);
/* Whether the backward pass of a plan of this shape and T time points fuses the back
 * substitution of lambda with the gradients (gradient.c): private variant only; by default where
 * the program keeps its blocks in registers (double on PoCL), n <= 5 and T <= 50, where it
 * measured faster than the two kernels apart; $SMNN_FUSED_BACKWARD "1" or "0" overrides
 * (tuning.c). */
int smnn__fused_backward(const smnn__kernel_shape *shape, size_t steps);
/* Builds (or fetches from the caches) the program for a shape. For the local variant, when the
 * driver allows its kernels smaller work-groups than shape->wg, lowers shape->wg to the largest
 * power of two it allows and rebuilds. */
smnn_status smnn__shape_program(smnn_context *ctx, smnn_precision precision,
                                smnn__kernel_shape *shape, cl_program *program);
/* Resolves opt (NULL: defaults; an older, smaller struct: the rest defaulted) and the environment
 * overrides into *out; checks every field. */
smnn_status smnn__options_resolve(smnn_context *ctx, const smnn_plan_options *opt,
                                  smnn_plan_options *out);

/* The buffers a solver kernel (factor, forward or back substitution) reads and writes; NULL
 * where the kernel does not touch them. */
typedef struct smnn__solver_io {
    cl_mem c, d, u, s, rhs, y;
    cl_int flags; /* SMNN_FLAG_* */
} smnn__solver_io;

struct smnn_plan {
    smnn_context *ctx;
    smnn_problem p;
    smnn_plan_options opt; /* resolved */
    smnn_layout in[4];     /* layouts of c, d, u, s (smnn_input order) */
    smnn__kernel_shape shape;
    size_t n;    /* block size V * n_orders */
    size_t kernel_wg_cap; /* the smallest CL_KERNEL_WORK_GROUP_SIZE of the plan's kernels */
    size_t elem; /* bytes per real: 8 or 4 */
    /* Kernels, with the problem arguments (contract.h SMNN_PROBLEM_ARGS) set at creation. */
    cl_kernel k_factor, k_forward, k_back, k_gradient, k_back_gradient, k_reduce, k_residual,
        k_update;
    /* Parallel in time (partition.c): the number of time chunks (1: the sequential walk), and
     * the separators' kernels that run after k_factor and before k_back when it is above 1. */
    int parts;
    cl_kernel k_sep_factor, k_sep_solve;
    size_t chunk_cap; /* systems per workspace chunk (a multiple of shape.vw unless B is less) */
    size_t bcap;      /* systems the chunk's workspace layout is laid out for (>= chunk_cap) */
    size_t nchunks;
    cl_mem *ws;       /* one workspace buffer per chunk */
    cl_mem info;      /* int per system: 0 ok, t+1 factor failure, -(t+1) solve failure */
    size_t ws_bytes;  /* total over chunks */
    int factored;     /* a factorization was enqueued for every chunk */
    cl_event factor_event; /* the last kernel of that factorization (retained), or NULL */
    cl_mem lambda;    /* dl/dbeta (B, T, n), allocated by the first backward call */
    size_t lambda_bytes;
    cl_mem scratch[4]; /* full-layout gradients of shared c, d, u, s before their reduction */
    size_t scratch_bytes[4];
    cl_mem refine_s;   /* the steps of the last factorization, retained for refinement */
    cl_mem refine_r, refine_delta; /* residual and correction, (B, T, n) each */
    size_t refine_bytes[2];
    cl_mem refine_change; /* per system: last correction relative to y */
    int refine_guarded;   /* the last refinement declined large corrections (QR solve) */
    int fused_backward;   /* smnn__fused_backward's choice (k_back_gradient is then set) */
    /* shape.then_back in a sequential plan: the Cholesky factorization and the forward
     * substitution run the back substitution themselves (SMNN_FLAG_THEN_BACK); k_back is then
     * not launched after them. */
    int then_back;
    size_t change_bytes;
};

/* ---- buffers.c ---- */
/* Fails unless mem is not NULL and holds count reals of the plan's precision. */
smnn_status smnn__check_buffer(smnn_plan *plan, const char *name, cl_mem mem, size_t count);
/* (Re)allocates *buf to at least bytes (read-write), keeping it when already large enough. */
smnn_status smnn__ensure_buffer(smnn_plan *plan, cl_mem *buf, size_t *have, size_t bytes,
                                const char *what);
/* Host <-> device copies in the plan's precision (host side always double). */
smnn_status smnn__upload(smnn_plan *plan, const double *x, size_t count, cl_mem *out);
smnn_status smnn__download(smnn_plan *plan, cl_mem buf, size_t count, double *y);

/* ---- enqueue.c ---- */
/* The common start of every asynchronous entry point: clears the error, resets *event, checks
 * the plan (and, with need_factors, that it was factored), the queue and the wait list. */
smnn_status smnn__begin_async(smnn_plan *plan, cl_command_queue *queue, cl_uint num_wait,
                              const cl_event *wait_list, cl_event *event, int need_factors);
/* Fails with SMNN_ERROR_INVALID_STATE unless the plan holds a factorization: one was enqueued
 * for every chunk and its last kernel has not ended in an error (a failed wait-list event fails
 * the kernels after it, which then never wrote the workspace or the failure codes). */
smnn_status smnn__check_factored(smnn_plan *plan);
/* Batch chunk ch of a plan: its systems bofs .. bofs + bcount - 1, the systems its workspace is
 * laid out for (bcap), and the launch of a solver kernel over it (variant, width, group size). */
typedef struct smnn__chunk {
    cl_long bofs;
    cl_int bcount, bcap;
    size_t global, local;
} smnn__chunk;
void smnn__chunk_launch(const smnn_plan *plan, size_t ch, smnn__chunk *out);
/* Enqueues a one-dimensional range of k (arguments already set) after *prev (or after the
 * caller's wait list when *prev is NULL); *prev becomes this launch's event. */
smnn_status smnn__enqueue_range(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t global,
                                size_t local, cl_uint num_wait, const cl_event *wait_list,
                                cl_event *prev);
/* Enqueues solver kernel k (plan->k_factor, k_forward or k_back) over batch chunk ch with the
 * buffers of io, after *prev (or the wait list when *prev is NULL); *prev becomes its event. */
smnn_status smnn__enqueue_solver(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t ch,
                                 const smnn__solver_io *io, cl_uint num_wait,
                                 const cl_event *wait_list, cl_event *prev);
/* Forward then back substitution of every chunk with the stored factors: beta assembled from c,
 * d, u (rhs NULL) or read from rhs (B, T, n); the result goes to out (B, T, n). */
smnn_status smnn__enqueue_substitutions(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d,
                                        cl_mem u, cl_mem rhs, cl_mem out, cl_uint num_wait,
                                        const cl_event *wait_list, cl_event *prev);
/* The private variant's refinement step in two kernels: the forward substitution of the
 * residual of y (B, T, n), computed as it walks time (contract.h SMNN_FLAG_RESIDUAL; with g not
 * NULL the backward pass's homogeneous form g - M y), then the back substitution into out. The
 * steps s are the plan's own copy (refine_s). SMNN_ERROR_INVALID_STATE for a local plan. */
smnn_status smnn__enqueue_residual_substitutions(smnn_plan *plan, cl_command_queue q, cl_mem c,
                                                 cl_mem d, cl_mem u, cl_mem s, cl_mem g,
                                                 cl_mem y, cl_mem out, cl_uint num_wait,
                                                 const cl_event *wait_list, cl_event *prev);
/* Enqueues a one-dimensional kernel over `items` work-items after *prev or the wait list. */
smnn_status smnn__enqueue_items(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t items,
                                cl_uint num_wait, const cl_event *wait_list, cl_event *prev);
/* Hands the last event to the caller (or releases it) and returns st. */
smnn_status smnn__finish_events(cl_event last, cl_event *event, smnn_status st);
/* One kernel argument: index (contract.h), size in bytes and a pointer to the value. */
typedef struct smnn__arg {
    cl_uint index;
    size_t size;
    const void *value;
} smnn__arg;
/* Sets the n arguments of k, stopping at the first failure. */
smnn_status smnn__set_args(smnn_plan *plan, cl_kernel k, const smnn__arg *args, size_t n);
#define SMNN__NARGS(a) (sizeof(a) / sizeof((a)[0]))
/* Sets argument index of k to the value (size bytes); fails naming the kernel. */
smnn_status smnn__set_arg(smnn_plan *plan, cl_kernel k, cl_uint index, size_t size,
                          const void *value);

/* ---- partition.c ---- */
/* The number of time chunks of a plan for p (options resolved; opt->time_chunks 0 means
 * automatic): smnn_time_chunks_choose's rule, or the caller's, checked against T
 * (SMNN_ERROR_INVALID_ARGUMENT when a chunk would have no interior point). */
smnn_status smnn__time_chunks_resolve(smnn_context *ctx, const smnn_problem *p,
                                      const smnn_plan_options *opt, int *parts);
/* Workspace reals of one system of a plan with `parts` time chunks (contract.h; parts = 1: the
 * sequential record, SMNN_REC(n) per point, SMNN_REC_COMPACT(n) with compact), or 0 when the
 * count overflows size_t. */
size_t smnn__partition_reals(size_t n, size_t steps, int parts, int compact);
/* Workspace reals of a batch chunk of bcap systems of a partitioned plan whose program holds vw
 * lanes per work-item (each region rounded up to whole lane groups), or 0 on overflow. */
size_t smnn__partition_chunk_reals(size_t n, size_t steps, int parts, size_t bcap, size_t vw);

/* ---- gradient.c ---- */
/* smnn_backward_async on the plan's queue, except that the gradients of inputs shared across the
 * batch are written in full layout (full_batch, full_time, row), unreduced (internal.h's
 * smnn_backward_unreduced is its blocking form). */
smnn_status smnn__backward_unreduced_async(smnn_plan *plan, cl_mem c, cl_mem d, cl_mem s,
                                           cl_mem y, cl_mem grad_y, cl_mem grad_c, cl_mem grad_d,
                                           cl_mem grad_u, cl_mem grad_s);

/* ---- refine.c ---- */
/* Refines y (B, T, n) in place by plan->opt.refine_steps steps of the corrected semi-normal
 * equations, using c, d, u and the steps kept from the last factorization (no-op when 0); with g
 * not NULL it refines the solution of M y = g instead (d and u unused). after_qr_solve: y comes
 * from a QR solve (guarded steps); otherwise from substitutions (a QR plan takes one step more). */
smnn_status smnn__refine(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d, cl_mem u,
                         cl_mem g, cl_mem y, int after_qr_solve, cl_uint num_wait,
                         const cl_event *wait_list, cl_event *last);
/* The tolerance on a refinement's last correction relative to y: eps^(1/3) of the plan's
 * precision (4.9e-3 single, 6.1e-6 double); QR plans decline larger corrections. */
double smnn__refine_tolerance(const smnn_plan *plan);

/* ---- report.c ---- */
/* After a blocking call: SMNN_ERROR_NOT_POSITIVE_DEFINITE naming the failing systems, or
 * success. */
smnn_status smnn__report_failures(smnn_plan *plan);
/* After a refined blocking solve: SMNN_ERROR_NOT_CONVERGED naming the systems, or success. */
smnn_status smnn__report_refinement(smnn_plan *plan);

#endif
