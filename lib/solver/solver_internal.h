/* Internal state of a plan, shared by the solver's source files. */
#ifndef SMNN_SOLVER_INTERNAL_H
#define SMNN_SOLVER_INTERNAL_H

#include "../internal.h"

/* Compile-time shape of one kernel program: the variant's kernels, the block capacity NMAX and
 * the local variant's work-group size. */
typedef struct smnn__kernel_shape {
    smnn_variant variant;
    int nmax;
    int wg;
    int vw; /* systems per work-item of the private variant (1 or a vector width) */
    /* The block shape the program is specialised for (0: generic, sizes at run time). */
    int dims, orders, equations;
} smnn__kernel_shape;

/* Picks the program shape for block size n, batch size and variant v on the context's device
 * (generic in the block shape); fails with SMNN_ERROR_UNSUPPORTED when the block does not fit. */
smnn_status smnn__kernel_shape_for(smnn_context *ctx, smnn_variant v, size_t n, size_t batch,
                                   smnn_precision precision, smnn__kernel_shape *shape);
/* Builds (or fetches) the program for a shape. */
smnn_status smnn__shape_program(smnn_context *ctx, smnn_precision precision,
                                const smnn__kernel_shape *shape, cl_program *program);

struct smnn_plan {
    smnn_context *ctx;
    smnn_problem p;
    smnn__kernel_shape shape;
    size_t n;          /* block size V * n_orders */
    size_t elem;       /* bytes per real: 8 or 4 */
    cl_kernel k_factor, k_forward, k_backward, k_gradient, k_reduce, k_residual, k_add;
    size_t chunk_cap;  /* systems per workspace chunk (a multiple of shape.vw unless B is less) */
    size_t bcap;       /* systems the chunk's workspace layout is laid out for (>= chunk_cap) */
    size_t nchunks;
    cl_mem *ws;        /* one workspace buffer per chunk */
    cl_mem info;       /* int per system: 0 ok, t+1 factor failure, -(t+1) solve failure */
    size_t ws_bytes;   /* total over chunks */
    int factored;      /* a factorization was enqueued */
    cl_mem lambda;     /* dl/dbeta (B, T, n), allocated by the first backward call */
    cl_mem scratch[4]; /* full-layout gradients of shared c, d, u, s before their reduction */
    size_t scratch_bytes[4];
    int refine;        /* refinement steps per solve (resolved from problem.refine_steps) */
    cl_mem refine_s;   /* the steps of the last factorization, retained for refinement */
    cl_mem refine_r, refine_delta; /* residual and correction, (B, T, n) each */
    cl_mem refine_change;          /* per system: last correction relative to y */
    cl_kernel k_refine_check;
};

/* Refines y (B, T, n) in place by plan->refine steps of the corrected semi-normal equations,
 * using c, d, u and the steps kept from the last factorization (no-op when refine is 0). */
smnn_status smnn__refine(smnn_plan *plan, cl_command_queue q, cl_mem c, cl_mem d, cl_mem u,
                         cl_mem y, cl_uint num_wait, const cl_event *wait_list, cl_event *last);
/* After a refined blocking solve: SMNN_ERROR_NOT_CONVERGED (naming the systems) when a system's
 * last correction exceeded the tolerance, else success. */
smnn_status smnn__report_refinement(smnn_plan *plan);

/* Shared by launch.c and backward.c. */
/* The common start of every asynchronous entry point: clears the error, resets *event, checks
 * the plan (and, with need_factors, that it was factored), the queue and the wait list. */
smnn_status smnn__begin_async(smnn_plan *plan, cl_command_queue *queue, cl_uint num_wait,
                              const cl_event *wait_list, cl_event *event, int need_factors);
smnn_status smnn__check_buffer(smnn_plan *plan, const char *name, cl_mem mem, size_t count);
smnn_status smnn__check_queue(smnn_plan *plan, cl_command_queue *queue);
smnn_status smnn__check_wait(smnn_plan *plan, cl_uint num_wait, const cl_event *wait_list);
/* Sets dims and init (and, with with_inputs, weights and strides): kernel arguments 0..3. */
cl_int smnn__set_problem_args(smnn_plan *plan, cl_kernel k, int with_inputs);
/* Sets (workspace, bofs, bcount, bcap, info) of one chunk from argument index a. */
cl_int smnn__set_chunk_args(smnn_plan *plan, cl_kernel k, cl_uint a, size_t chunk);
/* Enqueues a solver kernel over one chunk after *prev (or the wait list); *prev becomes its
 * event. */
smnn_status smnn__launch(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t chunk,
                         cl_uint num_wait, const cl_event *wait_list, cl_event *prev);
/* Forward then back substitution of one chunk with the stored factors: beta assembled from c, d,
 * u (rhs NULL) or read from rhs (B, T, n); the result goes to out (B, T, n). */
smnn_status smnn__enqueue_substitution(smnn_plan *plan, cl_command_queue q, size_t ch, cl_mem c,
                                       cl_mem d, cl_mem u, cl_mem rhs, cl_mem out,
                                       cl_uint num_wait, const cl_event *wait_list,
                                       cl_event *last);
/* Enqueues a one-dimensional kernel over `items` work-items (one per item) after *prev or the
 * wait list; *prev becomes its event. */
smnn_status smnn__launch_flat(smnn_plan *plan, cl_command_queue q, cl_kernel k, size_t items,
                              cl_uint num_wait, const cl_event *wait_list, cl_event *prev);
/* The common start of the report queries: checks the arguments and empties *report. */
smnn_status smnn__begin_report(smnn_plan *plan, smnn_failure_report *report);
/* Host <-> device copies in the plan's precision (host side always double). */
smnn_status smnn__upload(smnn_plan *plan, const double *x, size_t count, cl_mem *out);
smnn_status smnn__download(smnn_plan *plan, cl_mem buf, size_t count, double *y);
smnn_status smnn__report_failures(smnn_plan *plan);

#endif
