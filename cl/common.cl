/* common.cl: definitions shared by every smnn kernel.
 *
 * The program is compiled with -DSMNN_DOUBLE=1 (double, needs cl_khr_fp64) or 0 (float), NMAX
 * (largest block size n = V * n_orders the kernels hold) and WG (work-group size of the
 * local-memory variant). Each tunable has a default so that the file set compiles alone.
 *
 * Problem parameters travel as four vector arguments so every kernel has the same short
 * signature head:
 *   dims = (T, V, n_orders, Q)      init = (T_init, n_init_orders, n, 0)
 *   w    = (w_gov^2, w_init^2, w_smooth^2, 0)
 *   str  = element strides (c_batch, c_time, d_batch, d_time, u_batch, u_time, s_batch, s_time);
 *          a stride of 0 means the input is shared across that dimension.
 *
 * Workspace: per system and time point one record of SZ = n(n+1)/2 + n*n + n reals holding the
 * packed lower Cholesky factor L_t, the coupling factor K_t = N_t L_t^-T (row-major) and the
 * forward-substitution vector z_t. */
#ifndef SMNN_DOUBLE
#define SMNN_DOUBLE 1
#endif
#if SMNN_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
typedef double4 real4;
#define SMNN_REAL_NAME double
#else
typedef float real;
typedef float4 real4;
#define SMNN_REAL_NAME float
#endif

#ifndef NMAX
#define NMAX 8
#endif
#ifndef WG
#define WG 64
#endif
/* NFIX, VFIX, R1FIX, QFIX: when defined, the program is specialised for one block shape (the
 * host always does this); the runtime arguments must then agree with them. */
#ifdef NFIX
#define SMNN_N(runtime) NFIX
#else
#define SMNN_N(runtime) (runtime)
#endif

/* Systems per work-item of the private variant: 1 (factor.cl, substitute.cl; GPUs) or a vector
 * width 2, 4, 8, 16 (simd.cl; CPUs). */
#ifndef VW
#define VW 1
#endif
/* Which variant's kernels to compile: 1 private, 2 local, 0 both. */
#ifndef SMNN_VARIANT
#define SMNN_VARIANT 0
#endif

typedef struct smnn_prob {
    int T, V, R1, Q; /* R1 = n_orders */
    int Tinit, Rinit1, n;
    real wg2, wi2, ws2;
    long cb, ct, db, dt, ub, ut, sb, st;
} smnn_prob;

inline smnn_prob smnn_make_prob(int4 dims, int4 init, real4 w, long8 str) {
    smnn_prob P;
    P.T = dims.s0;
    P.V = dims.s1;
    P.R1 = dims.s2;
    P.Q = dims.s3;
    P.Tinit = init.s0;
    P.Rinit1 = init.s1;
    P.n = init.s2;
#ifdef NFIX
    /* Shape fixed at compile time: constants let the compiler unroll the block loops. */
    P.V = VFIX;
    P.R1 = R1FIX;
    P.Q = QFIX;
    P.n = NFIX;
#endif
    P.wg2 = w.s0;
    P.wi2 = w.s1;
    P.ws2 = w.s2;
    P.cb = str.s0;
    P.ct = str.s1;
    P.db = str.s2;
    P.dt = str.s3;
    P.ub = str.s4;
    P.ut = str.s5;
    P.sb = str.s6;
    P.st = str.s7;
    return P;
}

/* Offsets inside one workspace record. */
#define LP(n) (((n) * ((n) + 1)) / 2)
#define REC(n) (LP(n) + (n) * (n) + (n))
#define OFF_K(n) LP(n)
#define OFF_Z(n) (LP(n) + (n) * (n))
/* Packed lower-triangular index (i >= j). */
#define PIDX(i, j) (((i) * ((i) + 1)) / 2 + (j))

/* A real is usable when it is finite; NaN and +-Inf mark a failed system. */
#define FINITE(x) (isfinite(x))
