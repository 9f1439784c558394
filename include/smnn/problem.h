/* The description of one batch of S-MNN problems: sizes, weights, sharing, and the layout of
 * each input. How a problem is solved (precision, kernel variant, refinement) is a plan option
 * (solver.h), not part of the problem.
 *
 * Shapes (row-major, "B|1" means: B, or 1 when the input is shared across the batch; "T|1" the
 * same across time):
 *   coefficients c  (B|1, T|1, Q, V, n_orders)      c[b,t,q,v,r] multiplies d^r y_v / dt^r
 *   rhs          d  (B|1, T|1, Q)
 *   init         u  (B|1, T_init|1, V, n_init_orders)  values of y_v and its first derivatives
 *   steps        s  (B|1, T-1|1)                     s[b,t] = time between points t and t+1
 *   solution     y  (B, T, V, n_orders)
 * with B = batch, T = steps (time points), V = dims, Q = equations. The solution is the weighted
 * least-squares fit of Eqs. 4-7 of the paper (Chen et al., ICLR 2025): governing equations
 * weighted by w_gov^2, initial values by w_init^2 and the order-r smoothness rows by
 * (w_smooth s_t^r)^2. */
#ifndef SMNN_PROBLEM_H
#define SMNN_PROBLEM_H

#include <stddef.h>

#include <smnn/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bits of smnn_problem.shared: which inputs are given once for the whole batch and/or for all
 * time points. A shared input is read in place, never copied or expanded. */
enum {
    SMNN_SHARE_C_BATCH = 1u << 0,
    SMNN_SHARE_C_TIME = 1u << 1,
    SMNN_SHARE_D_BATCH = 1u << 2,
    SMNN_SHARE_D_TIME = 1u << 3,
    SMNN_SHARE_U_BATCH = 1u << 4,
    SMNN_SHARE_U_TIME = 1u << 5, /* one set of initial values for all t < T_init */
    SMNN_SHARE_S_BATCH = 1u << 6,
    SMNN_SHARE_S_TIME = 1u << 7, /* one constant step size */
};

/* Fill with smnn_problem_init(), then set the fields. New fields are only ever appended, and
 * struct_size tells the library which version of the struct the caller compiled against: a
 * smaller (older) struct is accepted and the fields it lacks take their defaults; a larger one
 * than the library knows is refused. */
typedef struct smnn_problem {
    size_t struct_size;  /* set by smnn_problem_init */
    size_t batch;        /* B >= 1 */
    size_t steps;        /* T >= 2 time points */
    size_t dims;         /* V >= 1 variables */
    size_t orders;       /* n_orders = R + 1 >= 1 derivative orders 0..R */
    size_t equations;    /* Q >= 1 governing equations per time point */
    size_t init_steps;   /* T_init, 1 <= T_init <= T (default 1) */
    size_t init_orders;  /* n_init_orders = R_init + 1, 1 <= n_init_orders <= n_orders (default 1) */
    double w_gov;        /* weights, finite and > 0 (default 1) */
    double w_init;
    double w_smooth;
    unsigned shared;     /* SMNN_SHARE_* bits, default 0 */
} smnn_problem;

/* Sets every field to its default (sizes 1 except steps = 2; weights 1; nothing shared). */
void smnn_problem_init(smnn_problem *p);

/* Checks struct_size, the sizes (each at most 2^30), weights and flags. Returns SMNN_SUCCESS,
 * SMNN_ERROR_INVALID_ARGUMENT with the offending field named in smnn_last_error(), or
 * SMNN_ERROR_TOO_LARGE when an array the problem implies cannot be counted in bytes of doubles
 * within size_t: the full (unshared) layout of c, d, u or s, y, or the solver's workspace (the
 * message names it). A valid problem's element and byte counts never wrap. */
smnn_status smnn_problem_validate(const smnn_problem *p);

/* The inputs, in the order of the solver's arguments. */
typedef enum smnn_input {
    SMNN_INPUT_C = 0, /* coefficients */
    SMNN_INPUT_D = 1, /* right-hand side */
    SMNN_INPUT_U = 2, /* initial values */
    SMNN_INPUT_S = 3, /* steps */
} smnn_input;

/* How one input is laid out for a problem: the single description of the sharing rules that
 * validation, the kernels' strides, the gradient reductions and the tools all use.
 * Full (unshared) extents: full_batch = B, full_time = T (c, d), T_init (u) or T-1 (s), and `row`
 * elements per system and time point (Q*V*n_orders, Q, V*n_init_orders, 1). As given, a shared
 * dimension has extent 1: shape[0..rank) is the input's row-major shape (rank 5, 3, 4, 2 for
 * c, d, u, s), count its number of elements, and element [b, t, k] is at
 * b * batch_stride + t * time_stride + k, where a stride is 0 across a shared dimension. The
 * gradient of the input has the same layout and is summed over the shared dimensions. */
typedef struct smnn_layout {
    size_t full_batch, full_time, row;
    int shared_batch, shared_time; /* 1 where the input is shared across that dimension */
    size_t rank;
    size_t shape[5];
    size_t count;
    size_t batch_stride, time_stride;
} smnn_layout;

/* Fills *out with the layout of input `which` of a valid problem. Errors:
 * SMNN_ERROR_INVALID_ARGUMENT (NULL pointer, invalid problem, unknown input). */
smnn_status smnn_problem_layout(const smnn_problem *p, smnn_input which, smnn_layout *out);

/* Element counts of each input as laid out above (taking sharing into account) and of y
 * (B, T, V, n_orders). Return 0 for every problem smnn_problem_validate refuses (overflowing
 * ones included). */
size_t smnn_problem_c_count(const smnn_problem *p);
size_t smnn_problem_d_count(const smnn_problem *p);
size_t smnn_problem_u_count(const smnn_problem *p);
size_t smnn_problem_s_count(const smnn_problem *p);
size_t smnn_problem_y_count(const smnn_problem *p);

#ifdef __cplusplus
}
#endif
#endif
