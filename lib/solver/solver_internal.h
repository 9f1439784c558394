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
} smnn__kernel_shape;

/* Picks the program shape for block size n and variant v on the context's device; fails with
 * SMNN_ERROR_UNSUPPORTED when the block does not fit. */
smnn_status smnn__kernel_shape_for(smnn_context *ctx, smnn_variant v, size_t n,
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
    cl_kernel k_factor, k_forward, k_backward;
    size_t chunk_cap;  /* systems per workspace chunk */
    size_t nchunks;
    cl_mem *ws;        /* one workspace buffer per chunk */
    cl_mem info;       /* int per system: 0 ok, t+1 factor failure, -(t+1) solve failure */
    size_t ws_bytes;   /* total over chunks */
    int factored;      /* a factorization was enqueued */
};

#endif
