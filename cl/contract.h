/* contract.h: the one contract between the host library (lib/) and the kernels (cl/).
 *
 * This file is compiled twice: by the C compiler as part of lib/ (lib/solver/kernels.c and the
 * files that launch kernels include it) and by the OpenCL compiler as the first source of every
 * kernel program (cl/embed.py embeds it ahead of common.cl). Everything that both sides must agree
 * on lives here and nowhere else:
 *
 *  - the workspace record of one system and time point (sizes and offsets);
 *  - the flag bits of the solver kernels and of the gradient kernel;
 *  - the argument list of every kernel, as an X-macro table: the host's argument indices are
 *    generated from it as enums, and the kernels' parameter lists from the same table
 *    (SMNN_PARAMS below), so an argument cannot be added on one side only. tests/test_contract.c
 *    checks the compiled kernels' argument names against these tables.
 *
 * Only the preprocessor and enums are used, which C11 and OpenCL C 1.2 read alike. */
#ifndef SMNN_CONTRACT_H
#define SMNN_CONTRACT_H

/* ---- Workspace record --------------------------------------------------------------------
 * Per system and time point, SMNN_REC(n) reals: the packed lower Cholesky factor L_t
 * (n(n+1)/2), the coupling factor K_t = N_t L_t^-T (n x n, row-major) and the forward
 * substitution vector z_t (n). The QR factorization (factor_qr.cl) writes the same record: its
 * R_t and S_t satisfy R^T R = M with R_t = L_t^T and S_t = K_t^T, and its zeta_t = z_t, so every
 * substitution reads either factorization alike. */
#define SMNN_LP(n) (((n) * ((n) + 1)) / 2)
#define SMNN_REC(n) (SMNN_LP(n) + (n) * (n) + (n))
#define SMNN_OFF_K(n) SMNN_LP(n)
#define SMNN_OFF_Z(n) (SMNN_LP(n) + (n) * (n))
/* The compact record (programs built with SMNN_COMPACT=1, the host's choice: lib/solver/tuning.c)
 * keeps L_t (packed, with 1 / L_t[i][i] in place of each diagonal entry, so that the solves
 * multiply), z_t and the step s_t (0 at t = T-1): SMNN_REC_COMPACT(n) reals, 10 instead of 18
 * at n = 3. K_t is never stored; the walks apply it as N_t L_t^-T, N_t rebuilt from s_t
 * (cl/block.cl smnn_coupling_z, smnn_back_step). */
#define SMNN_REC_COMPACT(n) (SMNN_LP(n) + (n) + 1)
#define SMNN_OFF_Z_COMPACT(n) SMNN_LP(n)
#define SMNN_OFF_S_COMPACT(n) (SMNN_LP(n) + (n))
/* Packed lower-triangular index (i >= j). */
#define SMNN_PIDX(i, j) (((i) * ((i) + 1)) / 2 + (j))

/* ---- Parallel in time: the workspace of a partitioned plan (cl/partition.cl) ---------------
 * With `parts` = P > 1 time chunks, P - 1 separator points cut each system's T points into P
 * chunk interiors of m or m + 1 points (m = (T - P + 1) / P, the first (T - P + 1) % P chunks
 * one longer); chunk p starts at a_p = p (m + 1) + min(p, rem), its right separator is
 * a_p + len_p. A batch chunk laid out for bcap systems holds, in reals, one after the other:
 *  - chunk records: per (system, chunk) lane and local point k < Tc (the longest interior),
 *    SMNN_PREC(n) reals: the record of the sequential walk (L_t, K_t, z_t) and the fill-in
 *    F_t = L_t^-1 G_t towards the chunk's left separator (n x n, row-major);
 *  - boundary records: per lane SMNN_BREC(n) reals: the chunk's Schur terms on its left
 *    separator (-sum F^T F, packed lower), on its right one (M_r - K_b K_b^T, packed lower), the
 *    coupling between the two (-K_b F_b, rows at the right separator) and the right-hand side
 *    terms (-sum F^T z to the left, beta_r - K_b z_b to the right);
 *  - the lanes' failure codes: one int per lane (in bcap * P reals' room);
 *  - separator records: per system and separator, SMNN_REC(n) reals of the reduced system's
 *    walk (L_i, K_i, z_i).
 * Lanes are laid out as systems are in the sequential workspace (common.cl): groups of VW lanes
 * on CPUs, one group of all lanes (coalesced) on GPUs; the lanes of each region are rounded up
 * to whole groups of VW (bcap itself is not: one system of 64 chunks fills 8 groups of 8). */
#define SMNN_PREC(n) (SMNN_REC(n) + (n) * (n))
#define SMNN_OFF_F(n) SMNN_REC(n)
#define SMNN_BREC(n) (2 * SMNN_LP(n) + (n) * (n) + 2 * (n))
#define SMNN_BOFF_SL(n) 0
#define SMNN_BOFF_SR(n) SMNN_LP(n)
#define SMNN_BOFF_SRL(n) (2 * SMNN_LP(n))
#define SMNN_BOFF_GL(n) (2 * SMNN_LP(n) + (n) * (n))
#define SMNN_BOFF_GR(n) (2 * SMNN_LP(n) + (n) * (n) + (n))

/* Local memory of the local variant's kernels (factor.cl, substitute.cl): the pivot block A
 * (NMAX x NMAX), the vectors r and z (NMAX each) in reals, plus one int flag. The host refuses
 * the variant on devices with less. */
#define SMNN_LOCAL_REALS(nmax) ((nmax) * (nmax) + 2 * (nmax))
#define SMNN_LOCAL_EXTRA_BYTES 16
/* The local variant's QR kernel (factor_qr.cl) folds the rows of a time point in blocks of at
 * most SMNN_QR_MB rows, held in local memory over 2 NMAX + 1 columns, with one Householder
 * coefficient per column. */
#define SMNN_QR_MB 16
#define SMNN_QR_LOCAL_REALS(nmax) (SMNN_QR_MB * (2 * (nmax) + 1) + 2 * (nmax) + 1)

/* ---- Kernel variants (values of -DSMNN_VARIANT, equal to smnn_variant's) ------------------ */
#define SMNN_KVARIANT_PRIVATE 1
#define SMNN_KVARIANT_LOCAL 2

/* ---- Factorizations (values of -DSMNN_FACTOR, equal to smnn_factorization's) ------------- */
#define SMNN_KFACTOR_CHOLESKY 1
#define SMNN_KFACTOR_QR 2
/* The QR factorization's rank test: a diagonal entry of R_t must exceed SMNN_QR_RANK_TOL * eps
 * times the norm of its column (factor_qr.cl). Measured (Givens, both precisions): systems whose
 * rows leave a derivative free (c = 0, T = 20, n_orders 2..3) end with 27..55 eps; full-rank
 * random problems in double stay above 1e6 eps even at steps 1e-3 with n_orders 5, where single
 * precision falls to 0.05..10 eps and its solution is lost (errors 1e-2..2; tests/test_qr.c). */
#define SMNN_QR_RANK_TOL 64

/* ---- Flags of the solver kernels (argument `flags`) ---------------------------------------- */
#define SMNN_FLAG_WITH_RHS 1 /* factorization: also run the forward substitution of beta */
#define SMNN_FLAG_FROM_RHS 2 /* forward substitution: read beta from `rhs` (B, T, n) */
/* Forward substitution of the private variant: the right-hand side is the refinement's residual
 * of `y` (B, T, n), computed in the same walk over time (assemble.cl smnn_residual_step): with rhs
 * NULL r = A^T W (b - A y) from c, d, u and the steps s; with rhs the homogeneous form
 * r = rhs - A^T W A y (the backward pass's lambda). */
#define SMNN_FLAG_RESIDUAL 4
/* The sequential walk's private factorization (with SMNN_FLAG_WITH_RHS) and forward
 * substitution: then the back substitution into `y`, in the same work-item, while its systems'
 * workspace is still in its core's cache (instead of smnn_back_substitute_private reading it back
 * after every work-item's forward walk). Only in programs built with SMNN_THEN_BACK=1 (common.cl;
 * the host's choice, lib/solver/tuning.c). */
#define SMNN_FLAG_THEN_BACK 8

/* ---- Loops a device ended early -------------------------------------------------------------
 * info[b] of a system whose kernel found its loops cut short (common.cl smnn_loops_cut): Mesa's
 * llvmpipe (Rusticl, Clover; Mesa 22.3 measured) ends every loop of a work-item once that
 * work-item has taken 65,535 loop iterations in all, silently, which OpenCL does not allow. A
 * kernel that sees it marks its systems with this value (positive: the substitutions keep it, as
 * a failed factorization) and the host reports SMNN_ERROR_UNSUPPORTED. */
#define SMNN_INFO_LOOPS_CUT 0x7fffffff

/* ---- Gradients the gradient kernel writes (argument `want`) ------------------------------- */
#define SMNN_GRAD_C 1
#define SMNN_GRAD_D 2
#define SMNN_GRAD_U 4
#define SMNN_GRAD_S 8

/* ---- Kernel argument tables ----------------------------------------------------------------
 * F(ID, OpenCL type, name) for the first entry, X(...) for the others (the kernel side needs a
 * comma between entries). Every table starts with the problem description, which the host sets
 * once when a plan is created:
 *   dims = (T, V, n_orders, Q)    init = (T_init, n_init_orders, n, 0)
 *   w    = (w_gov^2, w_init^2, w_smooth^2, 0)   (the normal equations' weights)
 *   wr   = (w_gov, w_init, w_smooth, 0)         (the rows' weights: the QR factorization)
 *   str  = element strides (c_batch, c_time, d_batch, d_time, u_batch, u_time, s_batch, s_time),
 *          0 where the input is shared across that dimension. */
#define SMNN_PROBLEM_ARGS(F, X)                                                                       \
    F(DIMS, int4, dims)                                                                            \
    X(INIT, int4, init)                                                                            \
    X(W, real4, w)                                                                                 \
    X(WR, real4, wr)                                                                               \
    X(STR, long8, str)

/* The solver kernels smnn_factor_*, smnn_forward_substitute_*, smnn_back_substitute_* and the
 * partitioned ones of cl/partition.cl (one signature for all): inputs, the right-hand side read
 * with SMNN_FLAG_FROM_RHS, the solution written by the back substitution, one batch chunk's
 * workspace (systems bofs .. bofs + bcount - 1, laid out for bcap systems) with its failure
 * codes, and the number of time chunks (1: the sequential walk, which ignores it). */
#define SMNN_SOLVER_ARGS(F, X)                                                                        \
    SMNN_PROBLEM_ARGS(F, X)                                                                           \
    X(C, global const real *, c)                                                                   \
    X(D, global const real *, d)                                                                   \
    X(U, global const real *, u)                                                                   \
    X(S, global const real *, s)                                                                   \
    X(RHS, global const real *, rhs)                                                               \
    X(Y, global real *, y)                                                                         \
    X(WS, global real *, ws)                                                                       \
    X(BOFS, long, bofs)                                                                            \
    X(BCOUNT, int, bcount)                                                                         \
    X(BCAP, int, bcap)                                                                             \
    X(INFO, global int *, info)                                                                    \
    X(FLAGS, int, flags)                                                                           \
    X(PARTS, int, parts)

/* smnn_residual: r = A^T W (b - A y) per (system, time point), for the refinement; with g not
 * NULL the homogeneous form r = g - A^T W A y (d and u unread), for the backward pass's lambda. */
#define SMNN_RESIDUAL_ARGS(F, X)                                                                      \
    SMNN_PROBLEM_ARGS(F, X)                                                                           \
    X(C, global const real *, c)                                                                   \
    X(D, global const real *, d)                                                                   \
    X(U, global const real *, u)                                                                   \
    X(S, global const real *, s)                                                                   \
    X(G, global const real *, g)                                                                   \
    X(Y, global const real *, y)                                                                   \
    X(BATCH, int, batch)                                                                           \
    X(R, global real *, r)

/* smnn_gradient: the adjoint of the assembly, into full (unshared) layouts; info[b] becomes
 * SMNN_INFO_LOOPS_CUT for a system whose work-item found its loops cut short. */
#define SMNN_GRADIENT_ARGS(F, X)                                                                      \
    SMNN_PROBLEM_ARGS(F, X)                                                                           \
    X(C, global const real *, c)                                                                   \
    X(D, global const real *, d)                                                                   \
    X(S, global const real *, s)                                                                   \
    X(Y, global const real *, y)                                                                   \
    X(LAM, global const real *, lam)                                                               \
    X(BATCH, int, batch)                                                                           \
    X(WANT, int, want)                                                                             \
    X(GC, global real *, gc)                                                                       \
    X(GD, global real *, gd)                                                                       \
    X(GU, global real *, gu)                                                                       \
    X(GS, global real *, gs)                                                                       \
    X(INFO, global int *, info)

/* smnn_back_gradient_private: the fused backward pass of the private variant over one batch
 * chunk (as the solver kernels: systems bofs .. bofs + bcount - 1, workspace for bcap): the back
 * substitution of lambda from the workspace's z (after the forward substitution of dl/dy) and,
 * in the same walk, smnn_gradient's outputs; a system with info[b] != 0 gets NaN gradients. */
#define SMNN_BACKGRAD_ARGS(F, X)                                                                      \
    SMNN_PROBLEM_ARGS(F, X)                                                                           \
    X(C, global const real *, c)                                                                   \
    X(D, global const real *, d)                                                                   \
    X(S, global const real *, s)                                                                   \
    X(Y, global const real *, y)                                                                   \
    X(WS, global real *, ws)                                                                       \
    X(BOFS, long, bofs)                                                                            \
    X(BCOUNT, int, bcount)                                                                         \
    X(BCAP, int, bcap)                                                                             \
    X(INFO, global int *, info)                                                                    \
    X(WANT, int, want)                                                                             \
    X(GC, global real *, gc)                                                                       \
    X(GD, global real *, gd)                                                                       \
    X(GU, global real *, gu)                                                                       \
    X(GS, global real *, gs)

/* smnn_reduce: sums a full-layout (B, T, R) gradient over the shared dimensions. */
#define SMNN_REDUCE_ARGS(F, X)                                                                        \
    F(FULL, global const real *, full)                                                             \
    X(OUT, global real *, out)                                                                     \
    X(B, long, B)                                                                                  \
    X(T, long, T)                                                                                  \
    X(R, long, R)                                                                                  \
    X(SUM_B, int, sum_b)                                                                           \
    X(SUM_T, int, sum_t)

/* smnn_refine_update: per system (per elements each), y += delta and change[b] = max |delta| /
 * max |y|; guarded (the QR factorization's refinement after a solve), the change is measured
 * first and the add made only where change[b] <= tol. */
#define SMNN_UPDATE_ARGS(F, X)                                                                        \
    F(Y, global real *, y)                                                                         \
    X(DELTA, global const real *, delta)                                                           \
    X(PER, long, per)                                                                              \
    X(BATCH, int, batch)                                                                           \
    X(GUARDED, int, guarded)                                                                       \
    X(TOL, real, tol)                                                                              \
    X(CHANGE, global real *, change)

#ifdef __OPENCL_C_VERSION__
/* Kernel side: a parameter list from a table, e.g. `kernel void k(SMNN_PARAMS(SMNN_SOLVER_ARGS))`. */
#define SMNN_AS_FIRST_PARAM(id, type, name) type name
#define SMNN_AS_NEXT_PARAM(id, type, name) , type name
#define SMNN_PARAMS(TABLE) TABLE(SMNN_AS_FIRST_PARAM, SMNN_AS_NEXT_PARAM)
#else
/* The number of problem arguments every table starts with (set once per plan). */
#define SMNN_COUNT_ONE(id, type, name) +1
enum { SMNN_PROBLEM_COUNT_ = 0 SMNN_PROBLEM_ARGS(SMNN_COUNT_ONE, SMNN_COUNT_ONE) };
/* Host side: argument indices SMNN_<TABLE>_<ID>, and the argument count SMNN_<TABLE>_COUNT_. */
#define SMNN_AS_SOLVER_ENUM(id, type, name) SMNN_SOLVER_##id,
#define SMNN_AS_RESIDUAL_ENUM(id, type, name) SMNN_RESIDUAL_##id,
#define SMNN_AS_GRADIENT_ENUM(id, type, name) SMNN_GRADIENT_##id,
#define SMNN_AS_BACKGRAD_ENUM(id, type, name) SMNN_BACKGRAD_##id,
#define SMNN_AS_REDUCE_ENUM(id, type, name) SMNN_REDUCE_##id,
#define SMNN_AS_UPDATE_ENUM(id, type, name) SMNN_UPDATE_##id,
enum { SMNN_SOLVER_ARGS(SMNN_AS_SOLVER_ENUM, SMNN_AS_SOLVER_ENUM) SMNN_SOLVER_COUNT_ };
enum { SMNN_RESIDUAL_ARGS(SMNN_AS_RESIDUAL_ENUM, SMNN_AS_RESIDUAL_ENUM) SMNN_RESIDUAL_COUNT_ };
enum { SMNN_GRADIENT_ARGS(SMNN_AS_GRADIENT_ENUM, SMNN_AS_GRADIENT_ENUM) SMNN_GRADIENT_COUNT_ };
enum { SMNN_BACKGRAD_ARGS(SMNN_AS_BACKGRAD_ENUM, SMNN_AS_BACKGRAD_ENUM) SMNN_BACKGRAD_COUNT_ };
enum { SMNN_REDUCE_ARGS(SMNN_AS_REDUCE_ENUM, SMNN_AS_REDUCE_ENUM) SMNN_REDUCE_COUNT_ };
enum { SMNN_UPDATE_ARGS(SMNN_AS_UPDATE_ENUM, SMNN_AS_UPDATE_ENUM) SMNN_UPDATE_COUNT_ };
/* Names of each table's arguments in order, for the check against the compiled kernels. */
#define SMNN_AS_NAME(id, type, name) #name,
#endif

#endif
