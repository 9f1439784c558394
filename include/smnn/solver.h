/* The batched S-MNN solver: plans, forward solve, frozen left-hand side.
 *
 * A plan fixes one problem shape (smnn_problem) on one context, compiles the kernels it needs and
 * owns the device workspace that keeps the factorization: per system and time point the Cholesky
 * factor L_t of the pivot block (packed lower triangle), the coupling factor K_t = P_t L_t of the
 * block LDL^T form M = P L L^T P^T (paper Eq. 11-12) and the forward-substitution vector (the QR
 * factorization stores its R_t^T, S_t^T and zeta_t in the same places). So
 * after one solve (or factor) the same matrices can be reused for new right-hand sides.
 *
 * Options (smnn_plan_options, apart from the problem): precision, factorization, kernel variant,
 * vector width, refinement, specialisation, allocation limit. Kernel variants, for block size n = V * n_orders:
 *  - PRIVATE: whole time loop in one kernel, blocks in private memory, VW systems per work-item
 *    in OpenCL vector types (one system per lane; VW = 1 on GPUs, 8 on CPU devices once the
 *    batch fills a vector). Workspace interleaved by system (VW = 1: neighbouring work-items
 *    touch neighbouring addresses) or grouped by lane group (VW > 1: each work-item streams
 *    contiguous memory).
 *  - LOCAL: one work-group per system, blocks in local memory, rows of each block operation spread
 *    over the work-items.
 * SMNN_VARIANT_AUTO takes the first row of the tuning table (smnn_tuning_rule_at) that matches
 * the device and the shape; `smnn-info` prints the table. Blocks larger than 64 return
 * SMNN_ERROR_UNSUPPORTED. The driver has the last word on the local variant: its work-groups
 * shrink to what the driver allows the kernels, and when the kernels need more local memory
 * than the device has, a forced LOCAL plan returns SMNN_ERROR_UNSUPPORTED while AUTO takes the
 * private variant. Each plan's program is specialised for its block shape (V, n_orders, Q) so
 * the block loops unroll; programs are cached per shape in memory and on disk (smnn's disk
 * cache, or on PoCL PoCL's own kernel cache; README.md, "Device selection").
 *
 * Environment variables override the automatic choices (an option set explicitly wins over
 * them); they are listed in one place, README.md "Environment variables":
 *   SMNN_SYSTEMS_PER_ITEM (1, 2, 4, 8, 16)  systems_per_item when the option is 0
 *   SMNN_GENERIC_KERNELS (1)                 generic_kernels when the option is 0
 *   SMNN_MAX_ALLOC_BYTES (bytes)             max_alloc_bytes when the option is 0
 *   SMNN_FUSED_BACKWARD (1 or 0)             1: the private variant's backward pass fuses
 *                                            lambda's back substitution with the gradients; 0:
 *                                            apart; else the default: fused where blocks are
 *                                            unrolled in registers (double on PoCL), n <= 5
 *                                            and T <= 50, where it measured faster, apart
 *                                            elsewhere
 *   SMNN_SMALL_TILES (1 or 0)                1: the private variant's block updates that stay
 *                                            loops use 2 x 2 register tiles; 0: 4 x 4; else
 *                                            the default: 2 x 2 where a vector of systems
 *                                            spans several device registers (PoCL on AVX2);
 *                                            the results are bit-identical either way
 *
 * Failures of single systems: a system whose pivot block is not positive definite (Cholesky),
 * whose rows are numerically rank deficient (QR: a diagonal entry of R_t not above 64 eps times
 * its column's norm), or whose values become NaN or Inf, gets NaN in all of its y; all other
 * systems are solved normally. The blocking calls then return SMNN_ERROR_NOT_POSITIVE_DEFINITE
 * (Cholesky) or SMNN_ERROR_RANK_DEFICIENT (QR) with the count and the first failing system and
 * time point in the message; after the asynchronous calls, ask smnn_plan_failures().
 *
 * Factorizations (smnn_plan_options.factorization):
 *  - CHOLESKY: block Cholesky of the normal matrix M = A^T W A (paper Algorithm 3), the cheapest;
 *    it squares cond(A), which double precision mostly absorbs and single precision does not
 *    (not positive definite, or most digits lost, for small steps).
 *  - QR: sequential block QR of the weighted rows themselves (square-root information form), one
 *    time point at a time; M is never formed and the error grows with cond(A). It writes the
 *    same factors (R_t^T R_t is the Cholesky pivot block), so frozen solves and the backward pass
 *    use R^T R (semi-normal equations). About 6x the Cholesky step's flops at n = 3.
 *  - AUTO (default): QR in single precision, Cholesky in double.
 * Measured (tests/test_qr.c, README "Precision and performance"): single precision with QR
 * solves every random test shape with steps in [1e-2, 1] within 1e-5 of the double reference,
 * where single-precision Cholesky fails on most; double precision with QR solves y'' = -y over
 * T = 1e6 at step 1e-4 to 1.3e-5 where the normal equations keep no digit, and weights spread
 * over 14 decades to 1e-13. Single precision cannot hold problems whose high derivatives fall
 * below its rounding (steps 1e-3 with n_orders >= 4): QR reports them rank deficient.
 *
 * Refinement (smnn_plan_options.refine_steps): steps of the corrected semi-normal equations, the
 * residual formed from the rows of A (never from M) and corrected with the stored factors.
 *  - Cholesky plans: refine_steps steps after each solve and frozen solve; automatic: 2 in
 *    single precision, 0 in double.
 *  - QR plans: automatic 1. After a solve the steps are guarded: a system whose correction
 *    exceeds eps^(1/3) of its y declines it and keeps its QR solution. Frozen solves and the
 *    backward pass's lambda (given c) come from the semi-normal equations and take one step more,
 *    unguarded.
 * A system whose last correction still exceeds eps^(1/3) of y (or whose guarded correction was
 * declined) makes the blocking calls return SMNN_ERROR_NOT_CONVERGED with y written: its accuracy
 * is not confirmed (smnn_plan_unconverged lists them). A plan that refines keeps a reference to
 * the steps buffer of its last factorization (released with the plan).
 *
 * Reproducibility: results are bit-identical for the same device and driver, precision, variant,
 * systems_per_item, block shape (V, n_orders, Q) and generic_kernels, whatever the batch size,
 * the chunking (max_alloc_bytes) and the position of a system in the batch: each system's
 * arithmetic does not depend on the others. Different systems_per_item (or variants) may differ
 * in the last bits, and the automatic width depends on the batch (on CPU devices 1 below 8
 * systems, 8 from there, 16 in single precision), so set systems_per_item explicitly to compare
 * batches of different sizes; smnn_plan_get_options reports the width in use. An explicit
 * systems_per_item is never changed (a lane group that does not fit one allocation fails with
 * SMNN_ERROR_TOO_LARGE); an automatic one falls back to 1 in that case.
 *
 * Thread safety: a plan is used by one thread at a time; different plans on one context may be
 * used concurrently. */
#ifndef SMNN_SOLVER_H
#define SMNN_SOLVER_H

#include <stddef.h>

#include <smnn/problem.h>
#include <smnn/runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smnn_plan smnn_plan;

/* Kernel variant (see the rule above). */
typedef enum smnn_variant {
    SMNN_VARIANT_AUTO = 0,
    SMNN_VARIANT_PRIVATE = 1, /* whole blocks per work-item in private memory, n <= 64 */
    SMNN_VARIANT_LOCAL = 2,   /* one work-group per system, blocks in local memory, n <= 64 */
} smnn_variant;

/* How the plan factors the weighted least-squares problem (see "Factorizations" above). */
typedef enum smnn_factorization {
    SMNN_FACTORIZATION_AUTO = 0,     /* QR in single precision, Cholesky in double */
    SMNN_FACTORIZATION_CHOLESKY = 1, /* block Cholesky of the normal matrix M = A^T W A */
    SMNN_FACTORIZATION_QR = 2,       /* sequential block QR of the weighted rows of A */
} smnn_factorization;

/* How a plan solves its problem. Fill with smnn_plan_options_init(), then set fields; pass NULL
 * to smnn_plan_create for all defaults. Fields are only ever appended; struct_size tells the
 * library which version the caller compiled against, and the fields a smaller (older) struct
 * lacks take their defaults. The first version ended with refine_steps. */
typedef struct smnn_plan_options {
    size_t struct_size;       /* set by smnn_plan_options_init */
    smnn_precision precision; /* default SMNN_PRECISION_DOUBLE */
    smnn_variant variant;     /* default SMNN_VARIANT_AUTO */
    /* Iterative refinement steps after each solve, on the corrected semi-normal equations (see
     * "Refinement" above). -1 (default): automatic (Cholesky: 0 for double and 2 for single
     * precision; QR: 1); 0: off; 1..10: that many steps. Each step costs about half a forward
     * pass. Double-precision Cholesky plans on long, finely stepped horizons gain from it too
     * (T = 2e4, step 5e-4, y'' = -y: 8.2e-3 -> 2.9e-6 with 3 steps), as long as the
     * factorization keeps a correct digit. */
    int refine_steps;
    /* Systems per work-item of the private variant: 0 (default) from the tuning table (or
     * $SMNN_SYSTEMS_PER_ITEM), 1 when a lane group would not fit one allocation; 1, 2, 4, 8
     * or 16 to force it (never changed: see Reproducibility above). */
    int systems_per_item;
    /* 0 (default): programs specialised for the block shape (or $SMNN_GENERIC_KERNELS=1);
     * 1: shape-generic programs, sizes read at run time (one program for many shapes). */
    int generic_kernels;
    /* Largest single workspace allocation in bytes: 0 (default) the device's limit (or
     * $SMNN_MAX_ALLOC_BYTES when smaller); larger batches are split into chunks. */
    size_t max_alloc_bytes;
    /* Appended after max_alloc_bytes: a struct_size that ends before it means AUTO. */
    smnn_factorization factorization; /* default SMNN_FACTORIZATION_AUTO */
    /* Appended after factorization (a struct_size that ends before it means 0): parallel in
     * time (see "Parallel in time" below). The number P of chunks each system's time points are
     * cut into: 0 (default) automatic (smnn_time_chunks_choose, or $SMNN_TIME_CHUNKS), 1 the
     * sequential walk, 2 .. (steps + 1) / 2 that many (every chunk keeps at least one interior
     * point). P > 1 needs the private variant and the Cholesky factorization
     * (SMNN_ERROR_UNSUPPORTED otherwise); smnn_plan_get_options reports the P in use. */
    int time_chunks;
} smnn_plan_options;

/* Sets every option to its default. */
void smnn_plan_options_init(smnn_plan_options *opt);

/* Parallel in time. Each system's time loop is sequential, which leaves a device idle when the
 * batch is small (one lane of one core on a CPU; a GPU needs tens of thousands of work-items in
 * flight). With time_chunks = P > 1, P - 1 separator points cut the T points of every system
 * into P chunks of equal length (within one point); the chunks are factored as B * P
 * independent walks (one vector lane each), the separators' Schur complement (block
 * tridiagonal, SPD) is factored and solved per system by the same walk, and the chunks then
 * back-substitute independently (cl/partition.cl). It costs about 2.3x the arithmetic per time
 * point at n = 3 and n^2 more reals of workspace per point (still linear in T). Frozen solves
 * and the backward pass reuse the stored chunk and separator factors; refinement computes its
 * residual in a separate kernel. Results agree with the sequential walk to rounding (the
 * elimination order differs), not bit for bit; a system that is not positive definite fails
 * in both, possibly at a different time point.
 *
 * The automatic rule (time_chunks = 0): P = 1 unless the plan is a double-precision one with
 * the private variant and the Cholesky factorization and the batch leaves the device short of
 * lanes. With `want` = compute units x 8 on CPUs (one vector of lanes per unit: CPUs run one
 * work-item per thread, and more chunks only add work) and 256 x compute units on other
 * devices, P = ceil(want / B) when B < want, bounded by T / 32 (chunks of at least 32 points)
 * and 2 sqrt(T) (the separators' walk, P - 1 sequential points per system, stays short); 1 when
 * that leaves P < 2. Single precision stays sequential unless
 * asked: there the partitioned factorization is a weaker start for the refinement on
 * ill-conditioned problems (population growth, T = 1000, step 0.01, 8 steps: 2.0e-2 from the
 * double solution against 9.5e-4 sequentially). The device's kind and compute units come from
 * dev. */
size_t smnn_time_chunks_choose(const smnn_device_info *dev, size_t n, size_t batch, size_t steps,
                               smnn_precision prec);

/* Validates p and opt (NULL: defaults), picks the variant, compiles (or fetches from the caches)
 * the kernels and allocates the workspace, in batch chunks when one allocation would exceed the
 * device's maximum. Both structs are copied; neither is referenced after the call.
 * Errors: SMNN_ERROR_INVALID_ARGUMENT (a field of p or opt, named in the message),
 * SMNN_ERROR_UNSUPPORTED (double precision without fp64, block larger than 64, forced variant
 * that cannot hold the block), SMNN_ERROR_TOO_LARGE before anything is allocated (one system's
 * workspace or a lane group of an explicit systems_per_item beyond one allocation; the failure
 * codes, an int per system, beyond one allocation; the workspace of all chunks plus the failure
 * codes beyond the device's global memory: the message says what and how many bytes),
 * SMNN_ERROR_BUILD_FAILED, SMNN_ERROR_DEVICE_OUT_OF_MEMORY, SMNN_ERROR_OPENCL. The plan keeps a
 * pointer to ctx, which must outlive it. */
smnn_status smnn_plan_create(smnn_context *ctx, const smnn_problem *p,
                             const smnn_plan_options *opt, smnn_plan **out);
void smnn_plan_free(smnn_plan *plan); /* accepts NULL; waits for the plan's work to finish */

/* The options a plan for (p, opt) on ctx would run with, without allocating anything (the
 * shape's program is compiled, or loaded from the caches, since the driver decides whether the
 * local variant can run): opt resolved as smnn_plan_get_options reports it, with the variant
 * and the systems per work-item that the tuning table picks for the whole batch of p set
 * explicitly. A plan for a part of the batch (an MPI rank's slice, one device's share) created
 * with these options computes every system exactly as the whole-batch plan does (see
 * Reproducibility above); the batch's device-memory totals are not checked (only a part of it
 * runs there). Errors as smnn_plan_create's, before allocation. */
smnn_status smnn_plan_options_resolve(smnn_context *ctx, const smnn_problem *p,
                                      const smnn_plan_options *opt, smnn_plan_options *out);

/* Compiles (or loads from the disk cache) exactly the programs that smnn_plan_create(ctx, p,
 * opt) would use, without allocating a workspace, so a later plan creation starts without
 * compile time and build failures show early. Errors as smnn_plan_create's. */
smnn_status smnn_plan_prepare(smnn_context *ctx, const smnn_problem *p,
                              const smnn_plan_options *opt);

/* The plan's problem and options (resolved: automatic choices made), variant in use, systems per
 * work-item, and workspace size in bytes. */
const smnn_problem *smnn_plan_problem(const smnn_plan *plan);
const smnn_plan_options *smnn_plan_get_options(const smnn_plan *plan);
smnn_variant smnn_plan_variant(const smnn_plan *plan);
size_t smnn_plan_workspace_bytes(const smnn_plan *plan);
/* Number of batch chunks the workspace is split into (1 unless it exceeds one allocation). */
size_t smnn_plan_chunks(const smnn_plan *plan);
/* 1 when the plan's backward pass walks lambda's back substitution and the gradients in one
 * pass (the private variant's fused pass; SMNN_FUSED_BACKWARD above), 0 when it runs them apart
 * or plan is NULL. A QR plan refines lambda, and then runs them apart, when c is given. */
int smnn_plan_backward_fused(const smnn_plan *plan);

/* One row of the tuning table that SMNN_VARIANT_AUTO and systems_per_item = 0 follow. The
 * first row that matches the device and the shape applies. */
typedef struct smnn_tuning_rule {
    const char *vendor;     /* case-insensitive substring of the device vendor; "" any */
    const char *device;     /* "cpu", "gpu" or "" (any) */
    size_t max_block;       /* applies for n = V * n_orders <= max_block */
    size_t min_batch;       /* ... and B >= min_batch */
    smnn_variant variant;
    int systems_per_item;   /* of the private variant in double precision; single precision
                               takes twice as many (the same vector bytes), at most 16 */
    const char *why;        /* the measurement behind the row */
} smnn_tuning_rule;
/* Number of rows, and row i (NULL when out of range); static storage. */
size_t smnn_tuning_rule_count(void);
const smnn_tuning_rule *smnn_tuning_rule_at(size_t i);
/* The variant the table picks for block size n, batch B and device dev. */
smnn_variant smnn_variant_choose(const smnn_device_info *dev, size_t n, size_t batch);
/* "private", "local" or "auto". */
const char *smnn_variant_name(smnn_variant v);
/* "cholesky", "qr" or "auto" ("unknown" for other values). */
const char *smnn_factorization_name(smnn_factorization f);
/* The factorization a plan uses: the option resolved (AUTO: QR for single precision). */
smnn_factorization smnn_plan_factorization(const smnn_plan *plan);

/* Asynchronous forward solve from device buffers: assemble, factor, substitute.
 * Buffers hold elements of the plan's precision (cl_double or cl_float) in the layouts of
 * problem.h; y receives (B, T, V, n_orders). queue NULL means the context's queue; it must belong
 * to the plan's context and device. The kernels wait for wait_list; *event (if not NULL) receives
 * an event that completes when y is written. Nothing is enqueued when a check fails.
 * Errors (before enqueueing): SMNN_ERROR_INVALID_ARGUMENT (NULL buffer, buffer of another
 * OpenCL context than the plan's, NULL event in wait_list or one of another context: the message
 * names it), SMNN_ERROR_BUFFER_TOO_SMALL (the message names the buffer, its size and the size
 * needed), SMNN_ERROR_OPENCL. */
smnn_status smnn_solve_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d, cl_mem u,
                             cl_mem s, cl_mem y, cl_uint num_wait, const cl_event *wait_list,
                             cl_event *event);

/* Asynchronous factorization only (assembly + block Cholesky of M from c and s), for a later
 * smnn_solve_frozen_async. Same conventions as smnn_solve_async. */
smnn_status smnn_factor_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem s,
                              cl_uint num_wait, const cl_event *wait_list, cl_event *event);

/* Asynchronous solve with the factorization kept from the last smnn_factor_async or
 * smnn_solve_async on this plan (frozen left-hand side): only beta = w_gov^2 C^T d + w_init^2 u
 * is assembled and two substitutions run. c must hold the same values as at factorization (it
 * enters beta). Errors: SMNN_ERROR_INVALID_STATE when the plan was never factored, and those of
 * smnn_solve_async. */
smnn_status smnn_solve_frozen_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d,
                                    cl_mem u, cl_mem y, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *event);

/* Per-system failure report of the last factorization or solve (blocking: reads through the
 * context's queue, so after an asynchronous call on another queue wait for its event first).
 * count = number of failing systems; first_system/first_step = batch index and time point
 * (0-based) of the failing system with the smallest index; both SIZE_MAX when count is 0.
 * Errors: SMNN_ERROR_INVALID_STATE when the plan holds no factorization (never factored, a
 * factorization whose enqueue failed part-way, or one whose kernels ended in an error, e.g.
 * behind a failed wait-list event): there is nothing to report. The same for
 * smnn_plan_unconverged. SMNN_ERROR_UNSUPPORTED when the device ended the kernels' loops early
 * (Mesa's llvmpipe stops each work-item's loops after 65,535 iterations in all, which OpenCL
 * does not allow; the kernels detect it): the message names the device and the first system;
 * nothing was computed for those systems (the blocking calls then leave their outputs
 * untouched). */
typedef struct smnn_failure_report {
    size_t count;
    size_t first_system;
    size_t first_step;
} smnn_failure_report;
smnn_status smnn_plan_failures(smnn_plan *plan, smnn_failure_report *report);

/* Refinement report of the last refinement of a refining plan (a solve, a frozen solve, or a QR
 * plan's backward pass given c; blocking, like smnn_plan_failures): count = systems whose last
 * refinement step still changed y by more than eps^(1/3) of its size (4.9e-3 in single, 6.1e-6
 * in double precision), or, after a QR solve, whose correction of that size was declined: their
 * accuracy is not confirmed; first_system = the first of them; first_step is SIZE_MAX. Always 0
 * for plans that do not refine (once factored). */
smnn_status smnn_plan_unconverged(smnn_plan *plan, smnn_failure_report *report);

/* Blocking forward solve from host memory, in double precision whatever the plan's precision
 * (values are converted for single-precision plans). Pointers as in problem.h; y receives
 * (B, T, V, n_orders). Checks every input for NaN/Inf and every step for > 0 first, and for a
 * single-precision plan every value for the float range (|x| <= FLT_MAX, steps not 0 as floats).
 * Errors: those of smnn_solve_async, SMNN_ERROR_INVALID_ARGUMENT (NULL pointer, non-finite value,
 * value beyond the plan's precision, non-positive step: message names the input and index; y
 * untouched),
 * SMNN_ERROR_NOT_POSITIVE_DEFINITE (y is written; failing systems hold NaN) and, for refining
 * plans, SMNN_ERROR_NOT_CONVERGED (y is written with the last iterate; see
 * smnn_plan_unconverged). smnn_solve_frozen reports the same way. */
smnn_status smnn_solve(smnn_plan *plan, const double *c, const double *d, const double *u,
                       const double *s, double *y);

/* Blocking factorization from host memory (see smnn_factor_async). */
smnn_status smnn_factor(smnn_plan *plan, const double *c, const double *s);

/* Blocking solve with the frozen factorization (see smnn_solve_frozen_async). */
smnn_status smnn_solve_frozen(smnn_plan *plan, const double *c, const double *d, const double *u,
                              double *y);

/* ---- Backward pass ------------------------------------------------------------------------
 *
 * Given dl/dy for the solution y of the plan's last factorization (smnn_solve or smnn_factor
 * with the same c and s), computes any subset of dl/dc, dl/dd, dl/du, dl/ds: pass NULL for the
 * ones not wanted. Each gradient has the shape in which its input is given; a shared input
 * receives the sum over everything it is shared across. The factorization is reused (no
 * refactoring): the cost is one substitution plus one pass over the inputs. Results are
 * deterministic (fixed summation order, no atomics).
 *
 * Inputs needed: grad_y always; c for dl/dc and dl/dd; d for dl/dc; s for dl/ds; y (the forward
 * solution) for dl/dc and dl/ds. Others may be NULL: with a frozen left-hand side, dl/dd and
 * dl/du need only c and grad_y. u is never needed. A QR plan refines lambda = M^-1 dl/dy (which
 * it solves through R^T R) when c is given, with s kept from its factorization; without c lambda
 * is the semi-normal solution. */

/* Asynchronous form on device buffers of the plan's precision (conventions of smnn_solve_async).
 * Errors: SMNN_ERROR_INVALID_STATE (never factored), SMNN_ERROR_INVALID_ARGUMENT (a needed buffer
 * is NULL), SMNN_ERROR_BUFFER_TOO_SMALL, SMNN_ERROR_OPENCL. The plan keeps a lambda buffer (the
 * size of y; not when the private variant fuses the backward pass ($SMNN_FUSED_BACKWARD, above),
 * unless a QR plan refines lambda) and, for shared inputs, full-layout scratch buffers after the first call. */
smnn_status smnn_backward_async(smnn_plan *plan, cl_command_queue queue, cl_mem c, cl_mem d,
                                cl_mem s, cl_mem y, cl_mem grad_y, cl_mem grad_c, cl_mem grad_d,
                                cl_mem grad_u, cl_mem grad_s, cl_uint num_wait,
                                const cl_event *wait_list, cl_event *event);

/* Blocking form on host memory (double, converted for single-precision plans). Errors as above,
 * SMNN_ERROR_NOT_POSITIVE_DEFINITE (SMNN_ERROR_RANK_DEFICIENT for QR plans) when a system's
 * substitution produced NaN/Inf (its gradients then hold NaN), and for QR plans given c,
 * SMNN_ERROR_NOT_CONVERGED when the refinement of lambda did not converge (gradients written). */
smnn_status smnn_backward(smnn_plan *plan, const double *c, const double *d, const double *s,
                          const double *y, const double *grad_y, double *grad_c, double *grad_d,
                          double *grad_u, double *grad_s);

/* smnn_backward, except that the gradient of an input shared across the batch (c, d, u or s
 * with SMNN_SHARE_*_BATCH) is returned per system in its full layout (full_batch, full_time, row)
 * of smnn_layout, unreduced; the other gradients are as smnn_backward writes them. For callers
 * that solve one batch as several plans (MPI ranks, devices) and sum the shared gradients over
 * all of them with smnn_gradient_sum, which then equals one plan's result bit for bit. Errors as
 * smnn_backward's (the gradient arrays must hold the full layouts). */
smnn_status smnn_backward_unreduced(smnn_plan *plan, const double *c, const double *d,
                                    const double *s, const double *y, const double *grad_y,
                                    double *grad_c, double *grad_d, double *grad_u,
                                    double *grad_s);

/* Sums per-system gradient contributions of input `which` of problem p, given in its full
 * layout (full_batch, full_time, row) of smnn_layout as smnn_backward_unreduced writes them (for
 * several plans: concatenated in batch order), into out (the input's own layout, count values):
 * over the batch when it is shared across the batch, and over time when shared across time,
 * with the compensated summation, order and precision of the device's reduction, so that out
 * equals smnn_backward's gradient of the whole batch bit for bit. An input shared in neither is
 * copied. Errors: SMNN_ERROR_INVALID_ARGUMENT (NULL pointer, invalid problem or input, unknown
 * precision). */
smnn_status smnn_gradient_sum(const smnn_problem *p, smnn_input which, smnn_precision precision,
                              const double *full, double *out);

#ifdef __cplusplus
}
#endif
#endif
