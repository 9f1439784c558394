/* The description of one batch of S-MNN problems: sizes, weights, precision, sharing.
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

typedef enum smnn_precision {
    SMNN_PRECISION_DOUBLE = 0, /* needs cl_khr_fp64 on the device */
    SMNN_PRECISION_SINGLE = 1,
} smnn_precision;

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

/* Kernel variant (see solver.h for the rule that AUTO applies). */
typedef enum smnn_variant {
    SMNN_VARIANT_AUTO = 0,
    SMNN_VARIANT_PRIVATE = 1, /* whole blocks per work-item in private memory, n <= 64 */
    SMNN_VARIANT_LOCAL = 2,   /* one work-group per system, blocks in local memory, n <= 64 */
} smnn_variant;

/* Fill with smnn_problem_init(), then set the fields. New fields are only appended, and
 * struct_size tells the library which version of the struct the caller compiled against. */
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
    smnn_precision precision; /* default SMNN_PRECISION_DOUBLE */
    unsigned shared;          /* SMNN_SHARE_* bits, default 0 */
    smnn_variant variant;     /* default SMNN_VARIANT_AUTO */
    /* Iterative refinement steps after each solve, on the corrected semi-normal equations (the
     * residual is formed from the rows of A, never from M = A^T W A, and corrected with the
     * existing factors). -1 (default): automatic, 0 for double and 2 for single precision;
     * 0: off; 1..10: that many steps. Each step costs about half a forward pass. Double-precision
     * plans on long, finely stepped horizons gain from it too (T = 2e4, step 5e-4, y'' = -y:
     * 8.2e-3 -> 2.9e-6 with 3 steps), as long as the factorization keeps a correct digit. */
    int refine_steps;
} smnn_problem;

/* Sets every field to its default (sizes 1 except steps = 2; weights 1; double; nothing shared;
 * automatic variant; automatic refinement). */
void smnn_problem_init(smnn_problem *p);

/* Checks the sizes, weights and flags. Returns SMNN_SUCCESS or SMNN_ERROR_INVALID_ARGUMENT with
 * the offending field named in smnn_last_error(). */
smnn_status smnn_problem_validate(const smnn_problem *p);

/* Element counts of each input as laid out above (taking sharing into account) and of y.
 * Return 0 for an invalid problem. */
size_t smnn_problem_c_count(const smnn_problem *p);
size_t smnn_problem_d_count(const smnn_problem *p);
size_t smnn_problem_u_count(const smnn_problem *p);
size_t smnn_problem_s_count(const smnn_problem *p);
size_t smnn_problem_y_count(const smnn_problem *p);

#ifdef __cplusplus
}
#endif
#endif
