/* common.cl: precision, the vector of systems, the problem description and the workspace layout,
 * shared by every smnn kernel (contract.h comes first in every program).
 *
 * Compile-time defines, each with a default so that the file set compiles alone:
 *   SMNN_DOUBLE   1: real = double (needs cl_khr_fp64); 0: float.
 *   VW            systems per work-item of the private variant: 1 (GPUs) or a vector width
 *                 2, 4, 8, 16 (CPUs, whose drivers do not vectorise across work-items). Every
 *                 per-system quantity of the private kernels is a `realv`: plain `real` at
 *                 VW = 1, `realVW` (one system per lane) above; the kernels are written once for
 *                 every width, in the manner of CLBlast.
 *   NMAX          largest block size n = V * n_orders the program holds.
 *   WG            work-group size of the local variant.
 *   SMNN_VARIANT  which kernels the program holds: 1 private, 2 local, 0 both.
 *   SMNN_FACTOR   which factorization kernel it holds: 1 block Cholesky (factor.cl), 2 block QR
 *                 (factor_qr.cl), 0 both.
 *   NFIX, VFIX, R1FIX, QFIX   the block shape, when the program is specialised for one (the
 *                 host always does this); the loops over the block then unroll.
 *   SMNN_TIME_LANES  1: a partitioned (parallel-in-time) program (cl/partition.cl), whose lanes
 *                 may stand at different time points; 0 (default): every lane of a work-item is
 *                 at the same time point. */
/* Clang (PoCL's compiler) warns at every build that a double8 or long8 passed by value "changes
 * the ABI" on x86 CPUs without AVX-512 (-Wpsabi): 75 to 79 warnings per program on an AVX2 CPU,
 * printed on the caller's stderr. Every such call stays within the one program, most of them
 * inlined, so no ABI boundary is crossed; tests/test_runtime.c test_build_quiet checks that a
 * build prints nothing. */
#if defined(__clang__) && defined(__has_warning)
#if __has_warning("-Wpsabi")
#pragma clang diagnostic ignored "-Wpsabi"
#endif
#endif
#ifndef SMNN_DOUBLE
#define SMNN_DOUBLE 1
#endif
#if SMNN_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
typedef double4 real4;
#define SMNN_REAL_NAME double
#define SMNN_MASK_NAME long
#else
typedef float real;
typedef float4 real4;
#define SMNN_REAL_NAME float
#define SMNN_MASK_NAME int
#endif

#ifndef NMAX
#define NMAX 8
#endif
#ifndef WG
#define WG 64
#endif
#ifndef VW
#define VW 1
#endif
#ifndef SMNN_VARIANT
#define SMNN_VARIANT 0
#endif
#ifndef SMNN_FACTOR
#define SMNN_FACTOR 0
#endif
#ifndef SMNN_TIME_LANES
#define SMNN_TIME_LANES 0
#endif
/* SMNN_BLOCKS_IN_REGISTERS=1 (the host's choice, tuning.c: double precision on PoCL's CPU
 * device): helpers are always inlined (and static, so that no compiler keeps and compiles an
 * outlined copy of them) and, in programs specialised for a block of at most SMNN_UNROLL_MAX_N
 * entries, the loops over the block are fully unrolled: a step's blocks of realv then stay in
 * registers instead of stack arrays indexed at run time (bench/RESULTS.md, optimisation log entry
 * 13: B = 1536, T = 50, n = 3, forward + backward 0.47x the time; results bit-identical). A loop
 * whose trip count is not a compile-time constant must not carry SMNN_UNROLL (compilers warn).
 * Larger blocks keep their loops: unrolled, code and compile time grow as n^3 (n = 16: 81 s to
 * build against 8) and they ran no faster. Off (0, the default), the kernels keep their calls
 * and loops. */
#ifndef SMNN_BLOCKS_IN_REGISTERS
#define SMNN_BLOCKS_IN_REGISTERS 0
#endif
/* SMNN_THEN_BACK=1 (the host's choice, tuning.c): the sequential walk's factorization and forward
 * substitution can run the back substitution themselves (contract.h SMNN_FLAG_THEN_BACK); off, the
 * default, their kernels stay as small as before. */
#ifndef SMNN_THEN_BACK
#define SMNN_THEN_BACK 0
#endif
/* SMNN_COMPACT=1 (the host's choice, tuning.c): the sequential private Cholesky walk keeps the
 * compact record (contract.h SMNN_REC_COMPACT: L_t, z_t, s_t; K_t applied as N_t L_t^-T). The
 * local variant, the QR factorization and partitioned programs read K_t from the record and are
 * never built with it. */
#ifndef SMNN_COMPACT
#define SMNN_COMPACT 0
#endif
/* SMNN_SMALL_TILES=1 (the host's choice, tuning.c: where a realv spans more than one of the
 * device's vector registers): blocks whose loops stay loops update in 2 x 2 register tiles
 * (block.cl smnn_syrk_tiled, assemble.cl smnn_gov_tiled) instead of 4 x 4 tiles or none. */
#ifndef SMNN_SMALL_TILES
#define SMNN_SMALL_TILES 0
#endif
#if SMNN_COMPACT && (SMNN_VARIANT != SMNN_KVARIANT_PRIVATE || SMNN_FACTOR != SMNN_KFACTOR_CHOLESKY \
                     || SMNN_TIME_LANES)
#error "SMNN_COMPACT needs a sequential private Cholesky program"
#endif
#if SMNN_COMPACT
#define SMNN_WREC(n) SMNN_REC_COMPACT(n)
#define SMNN_WOFF_Z(n) SMNN_OFF_Z_COMPACT(n)
#else
#define SMNN_WREC(n) SMNN_REC(n)
#define SMNN_WOFF_Z(n) SMNN_OFF_Z(n)
#endif
#define SMNN_UNROLL_MAX_N 9
#if SMNN_BLOCKS_IN_REGISTERS
#define SMNN_INLINE static inline __attribute__((always_inline))
#else
#define SMNN_INLINE inline
#endif
#if SMNN_BLOCKS_IN_REGISTERS && defined(NFIX) && NFIX <= SMNN_UNROLL_MAX_N
#define SMNN_UNROLLED 1
#define SMNN_UNROLL _Pragma("unroll")
#else
#define SMNN_UNROLLED 0
#define SMNN_UNROLL
#endif
#define SMNN_HAS_CHOLESKY (SMNN_FACTOR != SMNN_KFACTOR_QR)
#define SMNN_HAS_QR (SMNN_FACTOR != SMNN_KFACTOR_CHOLESKY)
#define SMNN_HAS_PRIVATE (SMNN_VARIANT != SMNN_KVARIANT_LOCAL)
#define SMNN_HAS_LOCAL (SMNN_VARIANT != SMNN_KVARIANT_PRIVATE && VW == 1)
/* The sequential walk's private kernels (factor, substitutions, fused backward pass): left out of
 * partitioned programs, which never launch them; a driver may compile every kernel of a program
 * when it is built (PoCL does). */
#define SMNN_HAS_WALK (SMNN_HAS_PRIVATE && !SMNN_TIME_LANES)

/* ---- The vector of systems ----------------------------------------------------------------
 * realv holds one value per system of a work-item; maskv is what the relational built-ins return
 * for it (int at width 1, a vector of 0 / -1 above). SMNN_LANE reads lane j of either. */
#define SMNN_CAT_(a, b) a##b
#define SMNN_CAT(a, b) SMNN_CAT_(a, b)
#if VW == 1
typedef real realv;
typedef int maskv;
typedef int intv;
#define SMNN_MASK_ELEM int
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#else
typedef SMNN_CAT(SMNN_REAL_NAME, VW) realv;
typedef SMNN_CAT(SMNN_MASK_NAME, VW) maskv;
typedef SMNN_CAT(int, VW) intv; /* an int per lane */
#define SMNN_MASK_ELEM SMNN_MASK_NAME
#define VLOAD(p) SMNN_CAT(vload, VW)(0, (p))
#define VSTORE(v, p) SMNN_CAT(vstore, VW)((v), 0, (p))
#endif
/* a where m is false, b where it is true, per lane (m from a relational built-in on realv). */
#if VW == 1
#define SMNN_SELECT(a, b, m) ((m) ? (b) : (a))
#else
#define SMNN_SELECT(a, b, m) select((a), (b), (m))
#endif
#define SMNN_LANE(v, j) (((const __private real *)&(v))[j])
#define SMNN_MASK_LANE(m, j) (((const __private SMNN_MASK_ELEM *)&(m))[j])
/* A value is usable when finite; a lane that is NaN, Inf, or (for pivots) <= 0 marks failure. */
#define SMNN_BAD(x) (isnan(x) | isinf(x))
#define SMNN_BAD_PIVOT(x) (isless((x), (realv)(0)) | isequal((x), (realv)(0)) | SMNN_BAD(x))

/* 1 when this work-item's loops were cut short before the call: a loop of a run-time trip count
 * of 2 that counts through a volatile (so that no compiler folds it) takes fewer turns only on a
 * device that ends loops early (contract.h SMNN_INFO_LOOPS_CUT). Called after a kernel's loops:
 * once the device's budget is spent, every later loop ends at its first turn. (A work-item that
 * finished its loops within 2 turns of the budget is reported too: an error, never a wrong
 * number.) On conforming compilers it costs two private increments. */
SMNN_INLINE int smnn_loops_cut(int T) {
    const int two = 2 + (T < 0);
    volatile int k = 0;
    for (int i = 0; i < two; i++) k = k + 1;
    return k != two;
}

#if SMNN_HAS_LOCAL
/* The end of a local-variant kernel, called by every work-item of the group: after work-item 0
 * wrote the system's info, a work-item whose loops were cut marks it SMNN_INFO_LOOPS_CUT. */
SMNN_INLINE void smnn_mark_cut_local(global int *info, int T) {
    barrier(CLK_GLOBAL_MEM_FENCE);
    if (smnn_loops_cut(T)) *info = SMNN_INFO_LOOPS_CUT;
}
#endif

/* ---- The problem ---------------------------------------------------------------------------- */
typedef struct smnn_prob {
    int T, V, R1, Q; /* R1 = n_orders */
    int Tinit, Rinit1, n;
    real wg2, wi2, ws2; /* squared weights (normal equations) */
    real wg, wi, ws;    /* the weights themselves (rows) */
    long cb, ct, db, dt, ub, ut, sb, st;
} smnn_prob;

SMNN_INLINE smnn_prob smnn_make_prob(int4 dims, int4 init, real4 w, real4 wr, long8 str) {
    smnn_prob P;
    P.T = dims.s0;
    P.V = dims.s1;
    P.R1 = dims.s2;
    P.Q = dims.s3;
    P.Tinit = init.s0;
    P.Rinit1 = init.s1;
    P.n = init.s2;
#ifdef NFIX
    P.V = VFIX;
    P.R1 = R1FIX;
    P.Q = QFIX;
    P.n = NFIX;
#endif
    P.wg2 = w.s0;
    P.wi2 = w.s1;
    P.ws2 = w.s2;
    P.wg = wr.s0;
    P.wi = wr.s1;
    P.ws = wr.s2;
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
#define SMNN_PROBLEM() smnn_make_prob(dims, init, w, wr, str)
/* The block size in kernels that need nothing else of the problem. */
#ifdef NFIX
#define SMNN_N(runtime) NFIX
#else
#define SMNN_N(runtime) (runtime)
#endif

/* ---- The systems of one work-item ---------------------------------------------------------
 * Lane j holds system b[j] (clamped to the chunk's last system, so lanes past the end of the
 * batch repeat it and are never written back). `first` is the work-item's first system within
 * the chunk, `count` how many of its lanes are real. In a partitioned program lane j stands at
 * time tt[j] + t when a helper is called for time t (0 outside the chunk walks). */
typedef struct smnn_lanes {
    long b[VW];
#if SMNN_TIME_LANES
    int tt[VW];
#endif
    int first, count;
} smnn_lanes;

SMNN_INLINE smnn_lanes smnn_make_lanes(int first, long bofs, int bcount) {
    smnn_lanes L;
    L.first = first;
    L.count = min(VW, bcount - first);
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) L.b[j] = bofs + min(first + j, bcount - 1);
#if SMNN_TIME_LANES
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) L.tt[j] = 0;
#endif
    return L;
}

/* base[b * stride_b + off] for every lane (one broadcast load when the input is shared). */
SMNN_INLINE realv smnn_gather(global const real *base, long stride_b, const smnn_lanes *L,
                              long off) {
#if VW == 1
    return base[L->b[0] * stride_b + off];
#else
    if (stride_b == 0) return (realv)(base[off]);
    realv v;
    __private real *pv = (__private real *)&v;
    SMNN_UNROLL
    for (int j = 0; j < VW; j++) pv[j] = base[L->b[j] * stride_b + off];
    return v;
#endif
}

/* Element (b, t, inner) of every lane, base[b * stride_b + t * stride_t + inner], t being the
 * lane's own time in a partitioned program. */
#if SMNN_TIME_LANES
SMNN_INLINE realv smnn_gather_at(global const real *base, long stride_b, long stride_t,
                                 const smnn_lanes *L, int t, long inner) {
    realv v;
    __private real *pv = (__private real *)&v;
    SMNN_UNROLL
    for (int j = 0; j < VW; j++)
        pv[j] = base[L->b[j] * stride_b + (long)(L->tt[j] + t) * stride_t + inner];
    return v;
}
#else
#define smnn_gather_at(base, stride_b, stride_t, L, t, inner)                                      \
    smnn_gather((base), (stride_b), (L), (long)(t) * (stride_t) + (inner))
#endif

/* ---- Rows of neighbouring elements of every lane -------------------------------------------
 * smnn_gather_row_at reads elements inner .. inner + len - 1 of (b, t) of every lane into
 * out[0 .. len), and smnn_scatter_row_at writes v[0 .. len) back there for the real lanes whose
 * time is below tlimit. Where lanes are systems at one time and VW is 4, 8 or 16, a part of four
 * (or a last part of three) elements moves with one vector load or store per lane and a 4 x 4
 * transpose per group of four lanes (SMNN_T4), instead of VW single elements per value each
 * through its own address: rows of C_t, y, lambda, the right-hand side and dl/dc (bench/
 * RESULTS.md, entry 25). Elsewhere (one lane, time lanes) and for a last part of one or two,
 * values move one at a time. */
#define SMNN_ROW4 (!SMNN_TIME_LANES && (VW == 4 || VW == 8 || VW == 16))
#if SMNN_ROW4
/* c_k = (r0.s_k, r1.s_k, r2.s_k, r3.s_k): the transpose of four rows of four (its own inverse). */
#define SMNN_T4(r0, r1, r2, r3, c0, c1, c2, c3)                                                   \
    do {                                                                                           \
        const real4 lo01_ = (real4)((r0).s0, (r1).s0, (r0).s2, (r1).s2);                           \
        const real4 hi01_ = (real4)((r0).s1, (r1).s1, (r0).s3, (r1).s3);                           \
        const real4 lo23_ = (real4)((r2).s0, (r3).s0, (r2).s2, (r3).s2);                           \
        const real4 hi23_ = (real4)((r2).s1, (r3).s1, (r2).s3, (r3).s3);                           \
        (c0) = (real4)(lo01_.s01, lo23_.s01);                                                      \
        (c1) = (real4)(hi01_.s01, hi23_.s01);                                                      \
        (c2) = (real4)(lo01_.s23, lo23_.s23);                                                      \
        (c3) = (real4)(hi01_.s23, hi23_.s23);                                                      \
    } while (0)
/* Lanes 4 g .. 4 g + 3 of a realv as a real4, and a realv from its groups' real4. */
#if VW == 4
#define SMNN_GROUP4(v, g) (v)
#define SMNN_JOIN4(x, k) ((x)[0][k])
#elif VW == 8
#define SMNN_GROUP4(v, g) ((g) == 0 ? (v).lo : (v).hi)
#define SMNN_JOIN4(x, k) ((realv)((x)[0][k], (x)[1][k]))
#else
#define SMNN_GROUP4(v, g)                                                                          \
    ((g) < 2 ? ((g) == 0 ? (v).lo.lo : (v).lo.hi) : ((g) == 2 ? (v).hi.lo : (v).hi.hi))
#define SMNN_JOIN4(x, k) ((realv)((x)[0][k], (x)[1][k], (x)[2][k], (x)[3][k]))
#endif
/* The K (3 or 4) elements at p as a real4 (the fourth 0 when K = 3), and a real4's first K into
 * p. */
#define SMNN_LOADK(K, p) ((K) == 4 ? vload4(0, (p)) : (real4)(vload3(0, (p)), (real)0))
#define SMNN_STOREK(K, r, p)                                                                       \
    do {                                                                                           \
        if ((K) == 4)                                                                              \
            vstore4((r), 0, (p));                                                                  \
        else                                                                                       \
            vstore3((r).s012, 0, (p));                                                             \
    } while (0)

/* Elements off .. off + K - 1 (K = 3 or 4) of every lane's system into out[0 .. K). */
SMNN_INLINE void smnn_gather_part(global const real *base, long stride_b, const smnn_lanes *L,
                                  long off, int K, realv *out) {
    if (stride_b == 0) { /* a shared input: every lane the same */
        _Pragma("unroll") for (int k = 0; k < K; k++) out[k] = (realv)(base[off + k]);
        return;
    }
    real4 x[VW / 4][4];
    _Pragma("unroll") for (int g = 0; g < VW / 4; g++) {
        const real4 r0 = SMNN_LOADK(K, base + L->b[4 * g] * stride_b + off);
        const real4 r1 = SMNN_LOADK(K, base + L->b[4 * g + 1] * stride_b + off);
        const real4 r2 = SMNN_LOADK(K, base + L->b[4 * g + 2] * stride_b + off);
        const real4 r3 = SMNN_LOADK(K, base + L->b[4 * g + 3] * stride_b + off);
        SMNN_T4(r0, r1, r2, r3, x[g][0], x[g][1], x[g][2], x[g][3]);
    }
    _Pragma("unroll") for (int k = 0; k < K; k++) out[k] = SMNN_JOIN4(x, k);
}

/* v[0 .. K) into elements off .. off + K - 1 of the real lanes' systems. */
SMNN_INLINE void smnn_scatter_part(global real *base, long stride_b, const smnn_lanes *L,
                                   long off, int K, const realv *v) {
    _Pragma("unroll") for (int g = 0; g < VW / 4; g++) {
        const real4 v0 = SMNN_GROUP4(v[0], g), v1 = SMNN_GROUP4(v[1], g),
                    v2 = SMNN_GROUP4(v[2], g), v3 = K == 4 ? SMNN_GROUP4(v[3], g) : (real4)(0);
        real4 r[4];
        SMNN_T4(v0, v1, v2, v3, r[0], r[1], r[2], r[3]);
        _Pragma("unroll") for (int a = 0; a < 4; a++)
            if (4 * g + a < L->count) SMNN_STOREK(K, r[a], base + L->b[4 * g + a] * stride_b + off);
    }
}
#endif

/* v of every real lane into element (b, t, inner) of base, base[b * stride_b + t * stride_t +
 * inner] (the lanes' systems b, t the lane's own time in a partitioned program), for the lanes
 * whose time is below tlimit. */
SMNN_INLINE void smnn_scatter_at(global real *base, long stride_b, long stride_t,
                                 const smnn_lanes *L, int t, long inner, int tlimit, realv v) {
    for (int j = 0; j < L->count; j++) {
#if SMNN_TIME_LANES
        const int tj = L->tt[j] + t;
#else
        const int tj = t;
#endif
        if (tj < tlimit) base[L->b[j] * stride_b + (long)tj * stride_t + inner] = SMNN_LANE(v, j);
    }
}

SMNN_INLINE void smnn_gather_row_at(global const real *base, long stride_b, long stride_t,
                                    const smnn_lanes *L, int t, long inner, int len, realv *out) {
    int i = 0;
#if SMNN_ROW4
    const long off = (long)t * stride_t + inner;
    for (; i + 4 <= len; i += 4) smnn_gather_part(base, stride_b, L, off + i, 4, out + i);
    if (len - i == 3) {
        smnn_gather_part(base, stride_b, L, off + i, 3, out + i);
        return;
    }
#endif
    for (; i < len; i++) out[i] = smnn_gather_at(base, stride_b, stride_t, L, t, inner + i);
}

SMNN_INLINE void smnn_scatter_row_at(global real *base, long stride_b, long stride_t,
                                     const smnn_lanes *L, int t, long inner, int len, int tlimit,
                                     const realv *v) {
    int i = 0;
#if SMNN_ROW4
    if (t >= tlimit) return;
    const long off = (long)t * stride_t + inner;
    for (; i + 4 <= len; i += 4) smnn_scatter_part(base, stride_b, L, off + i, 4, v + i);
    if (len - i == 3) {
        smnn_scatter_part(base, stride_b, L, off + i, 3, v + i);
        return;
    }
#endif
    for (; i < len; i++) smnn_scatter_at(base, stride_b, stride_t, L, t, inner + i, tlimit, v[i]);
}

/* Which rows exist at a time point, per lane: the smoothness rows of the interval to the next
 * point (t < T - 1), of the interval from the previous one (t > 0), and the initial values
 * (t < T_init). A plain condition where all lanes share t; in a partitioned program 1 or 0 per
 * lane, multiplying the term it guards. SMNN_WHEN_ADD(m, w, x) is m + x where w holds. */
#if SMNN_TIME_LANES
typedef realv smnn_when;
#define SMNN_WHEN_ADD(m, w, x) ((m) + (w) * (x))
#else
typedef int smnn_when;
#define SMNN_WHEN_ADD(m, w, x) ((w) ? (m) + (x) : (m))
#endif
typedef struct smnn_edges {
    smnn_when next, prev, init;
} smnn_edges;

#if SMNN_TIME_LANES
/* The lanes' times as one int vector, and a comparison of it as 1 or 0 per lane. */
#if VW == 1
#define SMNN_LANE_TIMES(L) ((L)->tt[0])
#define SMNN_FLAG(c) ((real)(c))
#else
#define SMNN_LANE_TIMES(L) SMNN_CAT(vload, VW)(0, (L)->tt)
#define SMNN_FLAG(c) (-SMNN_CAT(convert_, SMNN_CAT(SMNN_REAL_NAME, VW))(c))
#endif
#endif

/* Whether some lane's time is below limit (a partitioned program's lanes may differ; lanes
 * past the real ones repeat a real lane's time or stand later). */
SMNN_INLINE int smnn_some_lane_below(const smnn_lanes *L, int t, int limit) {
#if SMNN_TIME_LANES && VW == 1
    return L->tt[0] + t < limit;
#elif SMNN_TIME_LANES
    return any(SMNN_LANE_TIMES(L) < limit - t); /* vector comparisons give -1: MSB set */
#else
    (void)L;
    return t < limit;
#endif
}

SMNN_INLINE smnn_edges smnn_edges_at(const smnn_prob *P, const smnn_lanes *L, int t) {
    smnn_edges E;
#if SMNN_TIME_LANES
    const intv tv = SMNN_LANE_TIMES(L);
    E.next = SMNN_FLAG(tv < P->T - 1 - t);
    E.prev = SMNN_FLAG(tv > -t);
    E.init = SMNN_FLAG(tv < P->Tinit - t);
#else
    (void)L;
    E.next = t < P->T - 1;
    E.prev = t > 0;
    E.init = t < P->Tinit;
#endif
    return E;
}

/* ---- Workspace layout ----------------------------------------------------------------------
 * Element k of the record of time t of a system lives at
 *     ws[((group * T + t) * SZ + k) * GW + lane]
 * which covers the three layouts with one formula:
 *  - private variant, VW = 1 (GPUs): one group of GW = bcap systems, lane = system: neighbouring
 *    work-items touch neighbouring addresses (coalesced);
 *  - private variant, VW > 1 (CPUs): groups of GW = VW systems, one per work-item, so each
 *    work-item streams through contiguous memory and loads a record entry with one vloadVW;
 *  - local variant: GW = 1, one group per system, records contiguous per system. */
typedef struct smnn_wsl {
    global real *base; /* already offset to (group, lane) */
    long gw, sz;
    int T;
} smnn_wsl;

SMNN_INLINE smnn_wsl smnn_make_wsl(global real *ws, long group, long lane, long gw, int T, int n) {
    smnn_wsl W;
    W.gw = gw;
    W.sz = SMNN_WREC(n);
    W.T = T;
    W.base = ws + group * (long)T * W.sz * gw + lane;
    return W;
}
#define WSP(W, t, k) ((W).base + ((long)(t) * (W).sz + (k)) * (W).gw)

/* The private variant's workspace view of the work-item whose lanes are L. */
SMNN_INLINE smnn_wsl smnn_private_wsl(global real *ws, const smnn_lanes *L, int bcap, int T,
                                      int n) {
#if VW == 1
    return smnn_make_wsl(ws, 0, L->first, bcap, T, n);
#else
    return smnn_make_wsl(ws, L->first / VW, 0, VW, T, n);
#endif
}

/* ---- Register tiles of a block ------------------------------------------------------------
 * A tile of A (row stride NMAX) whose top-left entry is (i0, j0): its sums c<a><b> (row i0 + a,
 * column j0 + b) start from the lower triangle's entries, 0 above the diagonal, and only the
 * lower triangle is stored back. SMNN_TILE2 / SMNN_TILE4 apply F to every (a, b) of a 2 x 2 /
 * 4 x 4 tile (block.cl smnn_syrk_tiled, assemble.cl smnn_gov_tiled). */
#define SMNN_TILE2(F) F(0, 0) F(0, 1) F(1, 0) F(1, 1)
#define SMNN_TILE4(F)                                                                              \
    F(0, 0) F(0, 1) F(0, 2) F(0, 3) F(1, 0) F(1, 1) F(1, 2) F(1, 3)                                \
    F(2, 0) F(2, 1) F(2, 2) F(2, 3) F(3, 0) F(3, 1) F(3, 2) F(3, 3)
#define SMNN_TILE_LOAD(a, b)                                                                       \
    realv c##a##b = j0 + b <= i0 + a ? A[(i0 + a) * NMAX + j0 + b] : (realv)(0);
#define SMNN_TILE_STORE(a, b)                                                                      \
    if (j0 + b <= i0 + a) A[(i0 + a) * NMAX + j0 + b] = c##a##b;
