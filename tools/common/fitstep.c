/* One frozen-left-hand-side discovery step on the device (fitstep.h). */
#include "fitstep.h"

#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostutil.h"

struct fitstep {
    smnn_context *ctx;
    smnn_plan *plan;
    cl_command_queue q;
    int f32, qr;
    size_t windows, T, R1, nterms, ncols, B, rows;
    cl_mem bc, bs, bphi, bxi, bd, bu, by, bgy, bgd, bgxi;
    double *y, *gy;
    float *stage;
    fit_refine_stats rs;
    fit_times times;
};

void fitstep_free(fitstep *f) {
    if (!f) return;
    cl_mem all[] = {f->bc, f->bs, f->bphi, f->bxi, f->bd, f->bu, f->by, f->bgy, f->bgd, f->bgxi};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]) clReleaseMemObject(all[i]);
    smnn_plan_free(f->plan);
    free(f->y);
    free(f->gy);
    free(f->stage);
    free(f);
}

smnn_plan *fitstep_plan(const fitstep *f) {
    return f->plan;
}

const fit_refine_stats *fitstep_refine_stats(const fitstep *f) {
    return &f->rs;
}

const fit_times *fitstep_times(const fitstep *f) {
    return &f->times;
}

fitstep *fitstep_create(smnn_context *ctx, size_t windows, size_t T, size_t orders, size_t nterms,
                        size_t ncols, double s, const smnn_problem *w, const smnn_plan_options *opt,
                        char *err, size_t errlen) {
    size_t sz;
    if (orders < 2 || orders > 16 ||
        hu_mul_n(&sz, 5, ncols, windows, T, orders, nterms > 1 ? nterms : 1) != 0 ||
        sz > ((size_t)1 << 40)) {
        hu_fail(err, errlen, "%zu windows of %zu points with %zu orders: too large", windows, T,
             orders);
        return NULL;
    }
    fitstep *f = calloc(1, sizeof *f);
    if (!f) {
        hu_fail(err, errlen, "out of memory");
        return NULL;
    }
    f->ctx = ctx;
    f->q = smnn_context_cl_queue(ctx);
    f->windows = windows;
    f->T = T;
    f->R1 = orders;
    f->nterms = nterms;
    f->ncols = ncols;
    f->B = ncols * windows;
    f->rows = windows * T;
    f->f32 = opt->precision == SMNN_PRECISION_SINGLE;
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = f->B;
    p.steps = T;
    p.orders = orders;
    p.shared = SMNN_SHARE_C_BATCH | SMNN_SHARE_C_TIME | SMNN_SHARE_S_BATCH | SMNN_SHARE_S_TIME;
    p.w_gov = w->w_gov;
    p.w_init = w->w_init;
    p.w_smooth = w->w_smooth;
    double c_host[16] = {0, 1}, s_host[1] = {s};
    size_t elem = f->f32 ? sizeof(float) : sizeof(double);
    cl_context cc = smnn_context_cl_context(ctx);
    if (smnn_plan_create(ctx, &p, opt, &f->plan) != SMNN_SUCCESS ||
        smnn_buffer_from_host(ctx, opt->precision, c_host, orders, &f->bc) != SMNN_SUCCESS ||
        smnn_buffer_from_host(ctx, opt->precision, s_host, 1, &f->bs) != SMNN_SUCCESS) {
        hu_fail(err, errlen, "%s", smnn_last_error());
        fitstep_free(f);
        return NULL;
    }
    f->qr = smnn_plan_factorization(f->plan) == SMNN_FACTORIZATION_QR;
    struct {
        cl_mem *m;
        size_t count;
        const char *name;
    } bufs[] = {{&f->bphi, f->rows * nterms, "Phi"}, {&f->bxi, nterms * ncols, "xi"},
                {&f->bd, f->B * T, "d"},             {&f->bu, f->B, "u"},
                {&f->by, f->B * T * orders, "y"},    {&f->bgy, f->B * T * orders, "dl/dy"},
                {&f->bgd, f->B * T, "dl/dd"},        {&f->bgxi, nterms * ncols, "dl/dxi"}};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        cl_int e = CL_SUCCESS;
        *bufs[i].m = clCreateBuffer(cc, CL_MEM_READ_WRITE, bufs[i].count * elem, NULL, &e);
        if (!*bufs[i].m) {
            hu_fail(err, errlen, "clCreateBuffer(%s, %zu bytes) failed: %s", bufs[i].name,
                 bufs[i].count * elem, smnn_cl_error_name(e));
            fitstep_free(f);
            return NULL;
        }
    }
    /* The float staging of every upload: dl/dy, Phi, u and xi. */
    size_t ny = f->B * T * orders, most = ny > f->rows * nterms ? ny : f->rows * nterms;
    if (most < nterms * ncols) most = nterms * ncols;
    f->y = hu_alloc(ny, sizeof *f->y);
    f->gy = hu_calloc(ny, sizeof *f->gy);
    f->stage = f->f32 ? hu_alloc(most, sizeof *f->stage) : NULL;
    if (!f->y || !f->gy || (f->f32 && !f->stage)) {
        hu_fail(err, errlen, "out of memory for %zu windows of %zu points", windows, T);
        fitstep_free(f);
        return NULL;
    }
    /* The left-hand side never changes: factor once. */
    if (smnn_factor_async(f->plan, NULL, f->bc, f->bs, 0, NULL, NULL) != SMNN_SUCCESS) {
        hu_fail(err, errlen, "factor: %s", smnn_last_error());
        fitstep_free(f);
        return NULL;
    }
    return f;
}

static int gemm(fitstep *f, size_t m, size_t n, size_t k, cl_mem a, size_t lda, cl_mem b,
                size_t ldb, cl_mem c, size_t ldc, char *err, size_t errlen) {
    CLBlastTranspose t = CLBlastTransposeYes;
    CLBlastStatusCode st =
        f->f32 ? CLBlastSgemm(CLBlastLayoutRowMajor, t, t, m, n, k, 1.0f, a, 0, lda, b, 0, ldb,
                              0.0f, c, 0, ldc, &f->q, NULL)
               : CLBlastDgemm(CLBlastLayoutRowMajor, t, t, m, n, k, 1.0, a, 0, lda, b, 0, ldb, 0.0,
                              c, 0, ldc, &f->q, NULL);
    if (st != CLBlastSuccess)
        return hu_fail(err, errlen, "CLBlast%cgemm failed with status %d", f->f32 ? 'S' : 'D',
                    (int)st);
    return 0;
}

/* Writes n host doubles to buf (blocking) in the plan's precision. */
static int put(fitstep *f, cl_mem buf, const double *x, size_t n, const char *name, char *err,
               size_t errlen) {
    const void *src = x;
    if (f->f32) {
        for (size_t i = 0; i < n; i++) f->stage[i] = (float)x[i];
        src = f->stage;
    }
    cl_int e = clEnqueueWriteBuffer(f->q, buf, CL_TRUE, 0, n * (f->f32 ? 4 : 8), src, 0, NULL,
                                    NULL);
    if (e != CL_SUCCESS)
        return hu_fail(err, errlen, "clEnqueueWriteBuffer(%s) failed: %s", name,
                    smnn_cl_error_name(e));
    return 0;
}

/* Reads n values of the plan's precision from buf into host doubles (blocking). */
static int get(fitstep *f, cl_mem buf, size_t n, double *y, const char *name, char *err,
               size_t errlen) {
    if (smnn_buffer_to_host(f->ctx, f->f32 ? SMNN_PRECISION_SINGLE : SMNN_PRECISION_DOUBLE, buf, n,
                            y) != SMNN_SUCCESS)
        return hu_fail(err, errlen, "reading %s: %s", name, smnn_last_error());
    return 0;
}

static int note_refinement(fitstep *f, size_t it, size_t *passes, char *err, size_t errlen) {
    smnn_failure_report r;
    if (smnn_plan_unconverged(f->plan, &r) != SMNN_SUCCESS)
        return hu_fail(err, errlen, "refinement report: %s", smnn_last_error());
    if (r.count == 0) return 0;
    if (f->rs.solves + f->rs.backward == 0) f->rs.first_step = it;
    (*passes)++;
    f->rs.systems += r.count;
    if (r.count > f->rs.most) f->rs.most = r.count;
    return 0;
}

int fitstep_run(fitstep *f, size_t it, const double *phi, const double *u, const double *target,
                const double *xi, double *loss, double *grad, char *err, size_t errlen) {
    size_t B = f->B, T = f->T, R1 = f->R1, rows = f->rows, K = f->nterms, C = f->ncols;
    double h0 = 1e-3 * hu_now_ms();
    if (put(f, f->bphi, phi, rows * K, "Phi", err, errlen) || put(f, f->bu, u, B, "u", err, errlen) ||
        put(f, f->bxi, xi, K * C, "xi", err, errlen))
        return -1;
    double h1 = 1e-3 * hu_now_ms();
    /* d (C x rows, equation-major: exactly the (B, T, 1) layout) = xi^T Phi^T. */
    if (gemm(f, C, rows, K, f->bxi, C, f->bphi, K, f->bd, rows, err, errlen)) return -1;
    clFinish(f->q);
    double h2 = 1e-3 * hu_now_ms();
    smnn_status st = smnn_solve_frozen_async(f->plan, NULL, f->bc, f->bd, f->bu, f->by, 0, NULL,
                                             NULL);
    if (st != SMNN_SUCCESS && st != SMNN_ERROR_NOT_CONVERGED)
        return hu_fail(err, errlen, "frozen solve: %s", smnn_last_error());
    if (get(f, f->by, B * T * R1, f->y, "y", err, errlen) ||
        note_refinement(f, it, &f->rs.solves, err, errlen))
        return -1;
    double h3 = 1e-3 * hu_now_ms();
    /* loss = mean over systems and points of (y - target)^2; dl/dy on order 0 only. */
    double l = 0, inv = 1.0 / (double)(B * T);
    for (size_t e = 0; e < B * T; e++) {
        double r = f->y[R1 * e] - target[e];
        l += r * r * inv;
        f->gy[R1 * e] = 2 * r * inv;
    }
    *loss = l;
    if (!isfinite(l)) return 0;
    if (put(f, f->bgy, f->gy, B * T * R1, "dl/dy", err, errlen)) return -1;
    double h4 = 1e-3 * hu_now_ms();
    st = smnn_backward_async(f->plan, NULL, f->bc, NULL, NULL, NULL, f->bgy, NULL, f->bgd, NULL,
                             NULL, 0, NULL, NULL);
    if (st != SMNN_SUCCESS && st != SMNN_ERROR_NOT_CONVERGED)
        return hu_fail(err, errlen, "backward: %s", smnn_last_error());
    clFinish(f->q);
    if (f->qr && note_refinement(f, it, &f->rs.backward, err, errlen)) return -1;
    double h5 = 1e-3 * hu_now_ms();
    /* dl/dxi (K x C) = Phi^T dl/dd^T. */
    if (gemm(f, K, C, rows, f->bphi, K, f->bgd, rows, f->bgxi, C, err, errlen) ||
        get(f, f->bgxi, K * C, grad, "dl/dxi", err, errlen))
        return -1;
    double h6 = 1e-3 * hu_now_ms();
    f->times.solver += (h3 - h2) + (h5 - h4);
    f->times.blas += (h2 - h1) + (h6 - h5);
    f->times.host += (h1 - h0) + (h4 - h3);
    return 0;
}
