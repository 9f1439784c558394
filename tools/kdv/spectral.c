/* The device KdV integrator (spectral.h): clFFT plans for the batched real-to-complex and
 * complex-to-real transforms, nine small kernels for the pointwise steps, ETDRK4 coefficients
 * from contour integrals on the host. */
#define KDV_PI 3.14159265358979323846
#include "spectral.h"

#include <clFFT.h>
#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostutil.h"

#define CONTOUR_POINTS 64

static const char *kernels_src =
    "#ifdef KDV_SINGLE\n"
    "typedef float real; typedef float2 cplx;\n"
    "#else\n"
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "typedef double real; typedef double2 cplx;\n"
    "#endif\n"
    "cplx cmul(cplx a, cplx b) { return (cplx)(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }\n"
    /* u2 = (u / n)^2, u from the unscaled complex-to-real transform. */
    "kernel void kdv_square(global const real *u, global real *u2, real inv_n, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return;\n"
    "  real x = u[i] * inv_n; u2[i] = x * x; }\n"
    /* nv = g w (g: the factor of the transformed products per mode, 0 beyond the kept modes),
     * plus c0 in mode 0 (the constant term). */
    "kernel void kdv_nonlinear(global const cplx *w, global cplx *nv, global const cplx *g,\n"
    "                          real c0, int nk, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return; int m = (int)(i % nk);\n"
    "  cplx r = cmul(g[m], w[i]); if (m == 0) r.x += c0; nv[i] = r; }\n"
    /* out = d v (a derivative's factor (ik)^p per mode) */
    "kernel void kdv_deriv(global const cplx *v, global cplx *out, global const cplx *d,\n"
    "                      int nk, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return; out[i] = cmul(d[i % nk], v[i]); }\n"
    /* g = the products of the candidate terms, from the unscaled fields (times inv_n) */
    "kernel void kdv_products(global const real *u0, global const real *u1,\n"
    "                         global const real *u2, global const real *u3, global real *g,\n"
    "                         global const real *xi, real inv_n, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return;\n"
    "  real u = u0[i] * inv_n, ux = u1[i] * inv_n, uxx = u2[i] * inv_n, uxxx = u3[i] * inv_n;\n"
    "  g[i] = xi[0] * u * u + xi[1] * u * ux + xi[2] * u * uxx + xi[3] * u * uxxx\n"
    "       + xi[4] * u * u * ux + xi[5] * ux * ux + xi[6] * ux * uxx; }\n"
    /* out = e2 v + q nv */
    "kernel void kdv_stage(global const cplx *v, global const cplx *nv, global cplx *out,\n"
    "                      global const cplx *e2, global const cplx *q, int nk, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return; int m = (int)(i % nk);\n"
    "  out[i] = cmul(e2[m], v[i]) + cmul(q[m], nv[i]); }\n"
    /* out = e2 a + q (2 nb - nv) */
    "kernel void kdv_stage_c(global const cplx *a, global const cplx *nb, global const cplx *nv,\n"
    "                        global cplx *out, global const cplx *e2, global const cplx *q,\n"
    "                        int nk, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return; int m = (int)(i % nk);\n"
    "  out[i] = cmul(e2[m], a[i]) + cmul(q[m], (real)2 * nb[i] - nv[i]); }\n"
    /* v = e v + f1 nv + 2 f2 (na + nb) + f3 nc */
    "kernel void kdv_update(global cplx *v, global const cplx *nv, global const cplx *na,\n"
    "                       global const cplx *nb, global const cplx *nc, global const cplx *e,\n"
    "                       global const cplx *f1, global const cplx *f2, global const cplx *f3,\n"
    "                       int nk, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return; int m = (int)(i % nk);\n"
    "  v[i] = cmul(e[m], v[i]) + cmul(f1[m], nv[i]) + (real)2 * cmul(f2[m], na[i] + nb[i])\n"
    "       + cmul(f3[m], nc[i]); }\n"
    /* v = mask v (the kept modes) */
    "kernel void kdv_project(global cplx *v, global const real *mask, int nk, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return; v[i] *= mask[i % nk]; }\n"
    /* u = s u */
    "kernel void kdv_scale(global real *u, real s, long count) {\n"
    "  long i = get_global_id(0); if (i >= count) return; u[i] *= s; }\n";

enum { K_SQUARE, K_NONLINEAR, K_STAGE, K_STAGE_C, K_UPDATE, K_PROJECT, K_SCALE, K_DERIV,
       K_PRODUCTS, K_COUNT };
static const char *const kernel_names[K_COUNT] = {
    "kdv_square", "kdv_nonlinear", "kdv_stage", "kdv_stage_c", "kdv_update",
    "kdv_project", "kdv_scale",    "kdv_deriv", "kdv_products"};

/* Coefficient arrays per mode (complex unless noted), in solver order: the ETDRK4 factors, the
 * nonlinear factor g, the derivative factors (ik)^p (kept modes), the mask (real). */
enum { C_E, C_E2, C_Q, C_F1, C_F2, C_F3, C_G, C_D1, C_D2, C_D3, C_MASK /* real */, C_COUNT };
#define C_COMPLEX C_MASK /* the arrays before it are complex */

const char *const kdv_term_names[KDV_TERMS] = {"1",      "u",      "u_x",     "u_xx",
                                               "u_xxx",  "u^2",    "u u_x",   "u u_xx",
                                               "u u_xxx", "u^2 u_x", "u_x^2", "u_x u_xx"};

void kdv_equation(double xi[KDV_TERMS]) {
    for (int j = 0; j < KDV_TERMS; j++) xi[j] = 0;
    xi[KDV_UUX] = -1;
    xi[KDV_UXXX] = -1;
}

struct kdv_solver {
    smnn_context *ctx;
    cl_context cl;
    cl_command_queue q;
    size_t samples, n, nk; /* nk = n / 2 + 1 modes per sample */
    double length, h;
    int single;
    size_t real_size, cplx_size;
    clfftPlanHandle r2c, c2r;
    int have_r2c, have_c2r;
    int clfft_ref; /* this solver counts in clfft_users */
    double xi[KDV_TERMS];
    int general; /* products beyond u^2 and u u_x: fields in physical space */
    cl_program prog;
    cl_kernel k[K_COUNT];
    /* State v, stage values a, b, c, nonlinear terms nv, na, nb, nc, scratch (vt, w) and the
     * physical-space buffers u, u2. */
    cl_mem v, a, b, c, nv, na, nb, nc, vt, w, u, u2, ux, uxx, uxxx;
    cl_mem coef[C_COUNT], xi_buf;
};

static int clfft_users; /* clfftSetup once per process while solvers live */

/* Under AddressSanitizer (tests/sanitize.sh): clFFT 2.12's clfftDestroyPlan (FFTRepo::deletePlan)
 * deletes its plan's action object through a base-class pointer without a virtual destructor
 * (allocated 616 bytes, deleted as 16), which ASan's new-delete-type-mismatch check aborts on.
 * That is clFFT's C++, not this C code (which has no new or delete), so only that check is
 * turned off, for the programs that link this file; every other check stays on. ASan reads
 * this hook at start-up, before $ASAN_OPTIONS (which still wins). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "new_delete_type_mismatch=0";
}

static const char *clfft_name(clfftStatus st) {
    switch ((int)st) {
    case CLFFT_BUGCHECK: return "CLFFT_BUGCHECK";
    case CLFFT_NOTIMPLEMENTED: return "CLFFT_NOTIMPLEMENTED";
    case CLFFT_TRANSPOSED_NOTIMPLEMENTED: return "CLFFT_TRANSPOSED_NOTIMPLEMENTED";
    case CLFFT_FILE_NOT_FOUND: return "CLFFT_FILE_NOT_FOUND";
    case CLFFT_FILE_CREATE_FAILURE: return "CLFFT_FILE_CREATE_FAILURE";
    case CLFFT_VERSION_MISMATCH: return "CLFFT_VERSION_MISMATCH";
    case CLFFT_INVALID_PLAN: return "CLFFT_INVALID_PLAN";
    case CLFFT_DEVICE_NO_DOUBLE: return "CLFFT_DEVICE_NO_DOUBLE";
    case CLFFT_DEVICE_MISMATCH: return "CLFFT_DEVICE_MISMATCH";
    default: return smnn_cl_error_name((cl_int)st); /* the OpenCL codes it shares */
    }
}

#define CLFFT(call)                                                                                \
    do {                                                                                           \
        clfftStatus st_ = (call);                                                                  \
        if (st_ != CLFFT_SUCCESS)                                                                  \
            return hu_fail(err, errlen, "%s failed: %s (%d)", #call, clfft_name(st_), (int)st_);     \
    } while (0)

int kdv_grid_ok(size_t n, char *why, size_t len) {
    if (n < 4 || n % 2) {
        if (why) snprintf(why, len, "%zu points: the grid needs an even number, at least 4", n);
        return 0;
    }
    size_t r = n;
    static const size_t primes[] = {2, 3, 5, 7, 11, 13};
    for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++)
        while (r % primes[i] == 0) r /= primes[i];
    if (r != 1) {
        if (why)
            snprintf(why, len, "%zu points: clFFT transforms lengths whose only prime factors are "
                     "2, 3, 5, 7, 11 and 13 (%zu is left over)", n, r);
        return 0;
    }
    return 1;
}

void kdv_free(kdv_solver *s) {
    if (!s) return;
    if (s->q) clFinish(s->q);
    if (s->have_r2c) clfftDestroyPlan(&s->r2c);
    if (s->have_c2r) clfftDestroyPlan(&s->c2r);
    cl_mem *m[] = {&s->v,  &s->a, &s->b, &s->c,  &s->nv, &s->na,  &s->nb,   &s->nc,
                   &s->vt, &s->w, &s->u, &s->u2, &s->ux, &s->uxx, &s->uxxx, &s->xi_buf};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (*m[i]) clReleaseMemObject(*m[i]);
    for (int i = 0; i < C_COUNT; i++)
        if (s->coef[i]) clReleaseMemObject(s->coef[i]);
    for (int i = 0; i < K_COUNT; i++)
        if (s->k[i]) clReleaseKernel(s->k[i]);
    if (s->prog) clReleaseProgram(s->prog);
    if (s->clfft_ref && --clfft_users == 0) clfftTeardown();
    free(s);
}

/* The ETDRK4 coefficients of one mode with linear factor lk = i k^3 (Kassam and Trefethen's
 * contour means over CONTOUR_POINTS points of the unit circle around lk h). */
static void etdrk4(double complex lk, double h, double complex out[6]) {
    double complex q = 0, f1 = 0, f2 = 0, f3 = 0;
    for (int j = 0; j < CONTOUR_POINTS; j++) {
        double complex r = cexp(2.0 * KDV_PI * I * (j + 0.5) / CONTOUR_POINTS);
        double complex z = lk * h + r, ez = cexp(z), z3 = z * z * z;
        q += (cexp(z / 2) - 1) / z;
        f1 += (-4.0 - z + ez * (4.0 - 3.0 * z + z * z)) / z3;
        f2 += (2.0 + z + ez * (z - 2.0)) / z3;
        f3 += (-4.0 - 3.0 * z - z * z + ez * (4.0 - z)) / z3;
    }
    out[C_E] = cexp(lk * h);
    out[C_E2] = cexp(lk * h / 2);
    out[C_Q] = h * q / CONTOUR_POINTS;
    out[C_F1] = h * f1 / CONTOUR_POINTS;
    out[C_F2] = h * f2 / CONTOUR_POINTS;
    out[C_F3] = h * f3 / CONTOUR_POINTS;
}

/* A device buffer of bytes, filled from host when not NULL. */
static int buffer(kdv_solver *s, size_t bytes, const void *host, cl_mem *out, const char *what,
                  char *err, size_t errlen) {
    cl_int e;
    *out = clCreateBuffer(s->cl, CL_MEM_READ_WRITE | (host ? CL_MEM_COPY_HOST_PTR : 0), bytes,
                          (void *)host, &e);
    if (!*out)
        return hu_fail(err, errlen, "clCreateBuffer(%s, %zu bytes) failed: %s", what, bytes,
                    smnn_cl_error_name(e));
    return 0;
}

/* The coefficients per mode, converted to the solver's precision. */
static int upload_coefficients(kdv_solver *s, char *err, size_t errlen) {
    size_t nk = s->nk, per = s->single ? 4 : 8;
    unsigned char *buf = malloc((nk > 4 ? nk : 4) * 2 * per);
    double complex *c = malloc(nk * C_COUNT * sizeof *c);
    if (!buf || !c) {
        free(buf);
        free(c);
        return hu_fail(err, errlen, "out of memory for the ETDRK4 coefficients");
    }
    size_t kept = (s->n - 1) / 3; /* 3 kept < n: no product of two kept modes aliases */
    const double *xi = s->xi;
    for (size_t m = 0; m < nk; m++) {
        double k = 2.0 * KDV_PI * (double)m / s->length, mask = m <= kept ? 1 : 0;
        double complex ik = I * k;
        double complex lk = xi[KDV_U] + xi[KDV_UX] * ik + xi[KDV_UXX] * ik * ik +
                            xi[KDV_UXXX] * ik * ik * ik;
        double complex six[6];
        etdrk4(lk, s->h, six);
        /* Modes beyond the kept ones stay 0 (an exp(L h) that overflows would make inf * 0). */
        for (int i = 0; i < 6; i++) c[m * C_COUNT + i] = mask ? six[i] : 0;
        /* u^2 and u u_x = (u^2 / 2)_x from one transform of u^2; otherwise the transform of all
         * products as they are. */
        c[m * C_COUNT + C_G] = mask * (s->general ? 1 : xi[KDV_UU] + xi[KDV_UUX] * ik / 2);
        c[m * C_COUNT + C_D1] = mask * ik;
        c[m * C_COUNT + C_D2] = mask * ik * ik;
        c[m * C_COUNT + C_D3] = mask * ik * ik * ik;
        c[m * C_COUNT + C_MASK] = mask;
    }
    int rc = 0;
    for (int i = 0; i < C_COUNT && rc == 0; i++) {
        int complex_values = i < C_COMPLEX;
        for (size_t m = 0; m < nk; m++) {
            double parts[2] = {creal(c[m * C_COUNT + i]), cimag(c[m * C_COUNT + i])};
            for (int p = 0; p < (complex_values ? 2 : 1); p++) {
                size_t at = (complex_values ? 2 * m + (size_t)p : m) * per;
                if (s->single) {
                    float f = (float)parts[p];
                    memcpy(buf + at, &f, 4);
                } else {
                    memcpy(buf + at, &parts[p], 8);
                }
            }
        }
        rc = buffer(s, nk * (complex_values ? 2 : 1) * per, buf, &s->coef[i], "coefficients",
                    err, errlen);
    }
    /* The products' coefficients for kdv_products (general form). */
    double prod[7] = {xi[KDV_UU],   xi[KDV_UUX],  xi[KDV_UUXX], xi[KDV_UUXXX],
                      xi[KDV_UUUX], xi[KDV_UXUX], xi[KDV_UXUXX]};
    for (int j = 0; j < 7; j++) {
        if (s->single) {
            float f = (float)prod[j];
            memcpy(buf + 4 * (size_t)j, &f, 4);
        } else {
            memcpy(buf + 8 * (size_t)j, &prod[j], 8);
        }
    }
    if (rc == 0) rc = buffer(s, 7 * per, buf, &s->xi_buf, "coefficients", err, errlen);
    free(buf);
    free(c);
    return rc;
}

static int make_plan(kdv_solver *s, clfftPlanHandle *plan, int *have, int forward, char *err,
                     size_t errlen) {
    size_t len[1] = {s->n};
    CLFFT(clfftCreateDefaultPlan(plan, s->cl, CLFFT_1D, len));
    *have = 1;
    CLFFT(clfftSetPlanPrecision(*plan, s->single ? CLFFT_SINGLE : CLFFT_DOUBLE));
    CLFFT(clfftSetLayout(*plan, forward ? CLFFT_REAL : CLFFT_HERMITIAN_INTERLEAVED,
                         forward ? CLFFT_HERMITIAN_INTERLEAVED : CLFFT_REAL));
    CLFFT(clfftSetResultLocation(*plan, CLFFT_OUTOFPLACE));
    CLFFT(clfftSetPlanBatchSize(*plan, s->samples));
    CLFFT(clfftSetPlanDistance(*plan, forward ? s->n : s->nk, forward ? s->nk : s->n));
    /* Unscaled both ways: 1/n is applied in double by the kernels (clFFT's scale is a float,
     * inexact for n not a power of two). */
    CLFFT(clfftSetPlanScale(*plan, CLFFT_FORWARD, 1.0f));
    CLFFT(clfftSetPlanScale(*plan, CLFFT_BACKWARD, 1.0f));
    CLFFT(clfftBakePlan(*plan, 1, &s->q, NULL, NULL));
    return 0;
}

int kdv_create(smnn_context *ctx, size_t samples, size_t n, double length, double h, int single,
               const double *xi, kdv_solver **out, char *err, size_t errlen) {
    *out = NULL;
    char why[160];
    if (!kdv_grid_ok(n, why, sizeof why)) return hu_fail(err, errlen, "%s", why);
    if (samples == 0 || samples > ((size_t)1 << 30) || n > ((size_t)1 << 24) ||
        samples * n > ((size_t)1 << 31))
        return hu_fail(err, errlen, "%zu samples of %zu points: too many for one batch", samples, n);
    if (!(length > 0) || !isfinite(length) || !(h > 0) || !isfinite(h))
        return hu_fail(err, errlen, "domain length %g and time step %g must be finite and > 0",
                    length, h);
    if (!single && !smnn_context_device(ctx)->has_fp64)
        return hu_fail(err, errlen, "double precision needs cl_khr_fp64, which device '%s' lacks",
                    smnn_context_device(ctx)->device_name);
    kdv_solver *s = calloc(1, sizeof *s);
    if (!s) return hu_fail(err, errlen, "out of memory");
    s->ctx = ctx;
    s->cl = smnn_context_cl_context(ctx);
    s->q = smnn_context_cl_queue(ctx);
    s->samples = samples;
    s->n = n;
    s->nk = n / 2 + 1;
    s->length = length;
    s->h = h;
    s->single = single;
    if (xi) {
        for (int j = 0; j < KDV_TERMS; j++) {
            if (!isfinite(xi[j])) {
                free(s);
                return hu_fail(err, errlen, "coefficient %d (%s) is %g, not finite", j,
                            kdv_term_names[j], xi[j]);
            }
            s->xi[j] = xi[j];
        }
    } else {
        kdv_equation(s->xi);
    }
    s->general = s->xi[KDV_UUXX] != 0 || s->xi[KDV_UUXXX] != 0 || s->xi[KDV_UUUX] != 0 ||
                 s->xi[KDV_UXUX] != 0 || s->xi[KDV_UXUXX] != 0;
    s->real_size = single ? 4 : 8;
    s->cplx_size = 2 * s->real_size;
    if (clfft_users == 0) {
        clfftStatus st = clfftSetup(NULL);
        if (st != CLFFT_SUCCESS) {
            kdv_free(s);
            return hu_fail(err, errlen, "clfftSetup failed: %s (%d)", clfft_name(st), (int)st);
        }
    }
    clfft_users++;
    s->clfft_ref = 1;
    int rc = make_plan(s, &s->r2c, &s->have_r2c, 1, err, errlen);
    if (rc == 0) rc = make_plan(s, &s->c2r, &s->have_c2r, 0, err, errlen);
    cl_int e = CL_SUCCESS;
    if (rc == 0) {
        s->prog = clCreateProgramWithSource(s->cl, 1, &kernels_src, NULL, &e);
        cl_device_id dev = smnn_context_cl_device(ctx);
        if (s->prog) e = clBuildProgram(s->prog, 1, &dev, single ? "-D KDV_SINGLE" : "", NULL, NULL);
        if (e != CL_SUCCESS) {
            char log[2048] = "";
            if (s->prog)
                clGetProgramBuildInfo(s->prog, dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
            rc = hu_fail(err, errlen, "building the KdV kernels failed: %s\n%s",
                      smnn_cl_error_name(e), log);
        }
    }
    for (int i = 0; i < K_COUNT && rc == 0; i++) {
        s->k[i] = clCreateKernel(s->prog, kernel_names[i], &e);
        if (!s->k[i])
            rc = hu_fail(err, errlen, "clCreateKernel(%s) failed: %s", kernel_names[i],
                      smnn_cl_error_name(e));
    }
    size_t rb = samples * n * s->real_size, cb = samples * s->nk * s->cplx_size;
    cl_mem *cplx_bufs[] = {&s->v, &s->a, &s->b, &s->c, &s->nv, &s->na, &s->nb, &s->nc, &s->vt,
                           &s->w};
    for (size_t i = 0; i < sizeof cplx_bufs / sizeof cplx_bufs[0] && rc == 0; i++)
        rc = buffer(s, cb, NULL, cplx_bufs[i], "spectral state", err, errlen);
    if (rc == 0) rc = buffer(s, rb, NULL, &s->u, "physical state", err, errlen);
    cl_mem *real_bufs[] = {&s->u2, &s->ux, &s->uxx, &s->uxxx};
    for (size_t i = 0; i < sizeof real_bufs / sizeof real_bufs[0] && rc == 0; i++)
        rc = buffer(s, rb, NULL, real_bufs[i], "physical state", err, errlen);
    if (rc == 0) rc = upload_coefficients(s, err, errlen);
    if (rc != 0) {
        kdv_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Sets the arguments of k (pairs of size and pointer, ended by size 0) and enqueues count
 * work-items. */
static int launch(kdv_solver *s, int which, size_t count, char *err, size_t errlen, ...) {
    cl_kernel k = s->k[which];
    va_list ap;
    va_start(ap, errlen);
    cl_uint idx = 0;
    cl_int e = CL_SUCCESS;
    for (;;) {
        size_t size = va_arg(ap, size_t);
        if (size == 0) break;
        const void *value = va_arg(ap, const void *);
        if (e == CL_SUCCESS) e = clSetKernelArg(k, idx, size, value);
        idx++;
    }
    va_end(ap);
    cl_long cnt = (cl_long)count;
    if (e == CL_SUCCESS) e = clSetKernelArg(k, idx, sizeof cnt, &cnt);
    /* The driver picks the work-group size (the kernels check the bound themselves). */
    size_t global = (count + 63) / 64 * 64;
    if (e == CL_SUCCESS) e = clEnqueueNDRangeKernel(s->q, k, 1, NULL, &global, NULL, 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return hu_fail(err, errlen, "launching %s failed: %s", kernel_names[which],
                    smnn_cl_error_name(e));
    return 0;
}

#define MEM(x) sizeof(cl_mem), (const void *)&(x)
#define INT(x) sizeof(cl_int), (const void *)&(x)

/* The real scalar argument in the solver's precision. */
typedef struct scalar {
    size_t size;
    union {
        float f;
        double d;
    } v;
} scalar;

static scalar real_arg(const kdv_solver *s, double x) {
    scalar r;
    if (s->single) {
        r.size = 4;
        r.v.f = (float)x;
    } else {
        r.size = 8;
        r.v.d = x;
    }
    return r;
}

/* u = C2R(v) unscaled (v kept: the transform may overwrite its input, so it runs on a copy). */
static int to_physical(kdv_solver *s, cl_mem v, char *err, size_t errlen) {
    size_t cb = s->samples * s->nk * s->cplx_size;
    cl_int e = clEnqueueCopyBuffer(s->q, v, s->vt, 0, 0, cb, 0, NULL, NULL);
    if (e != CL_SUCCESS)
        return hu_fail(err, errlen, "clEnqueueCopyBuffer failed: %s", smnn_cl_error_name(e));
    CLFFT(clfftEnqueueTransform(s->c2r, CLFFT_BACKWARD, 1, &s->q, 0, NULL, NULL, &s->vt, &s->u,
                                NULL));
    return 0;
}

/* u, u_x, u_xx, u_xxx of v in physical space, unscaled, into s->u, ux, uxx, uxxx. */
static int fields(kdv_solver *s, cl_mem v, char *err, size_t errlen) {
    if (to_physical(s, v, err, errlen) != 0) return -1;
    size_t nc = s->samples * s->nk;
    cl_int nk = (cl_int)s->nk;
    cl_mem outs[3] = {s->ux, s->uxx, s->uxxx};
    for (int p = 0; p < 3; p++) {
        if (launch(s, K_DERIV, nc, err, errlen, MEM(v), MEM(s->vt), MEM(s->coef[C_D1 + p]),
                   INT(nk), (size_t)0) != 0)
            return -1;
        CLFFT(clfftEnqueueTransform(s->c2r, CLFFT_BACKWARD, 1, &s->q, 0, NULL, NULL, &s->vt,
                                    &outs[p], NULL));
    }
    return 0;
}

/* nv = N(v): g F[u^2] (u^2 and u u_x only) or F[products], on the kept modes, plus the constant
 * term in mode 0. */
static int nonlinear(kdv_solver *s, cl_mem v, cl_mem nv, char *err, size_t errlen) {
    size_t nr = s->samples * s->n, nc = s->samples * s->nk;
    scalar inv = real_arg(s, 1.0 / (double)s->n);
    if (s->general) {
        if (fields(s, v, err, errlen) != 0 ||
            launch(s, K_PRODUCTS, nr, err, errlen, MEM(s->u), MEM(s->ux), MEM(s->uxx),
                   MEM(s->uxxx), MEM(s->u2), MEM(s->xi_buf), inv.size, (const void *)&inv.v,
                   (size_t)0) != 0)
            return -1;
    } else {
        if (to_physical(s, v, err, errlen) != 0 ||
            launch(s, K_SQUARE, nr, err, errlen, MEM(s->u), MEM(s->u2), inv.size,
                   (const void *)&inv.v, (size_t)0) != 0)
            return -1;
    }
    CLFFT(clfftEnqueueTransform(s->r2c, CLFFT_FORWARD, 1, &s->q, 0, NULL, NULL, &s->u2, &s->w,
                                NULL));
    cl_int nk = (cl_int)s->nk;
    /* The constant term in the unscaled convention (v = n times the Fourier coefficient). */
    scalar c0 = real_arg(s, s->xi[KDV_1] * (double)s->n);
    return launch(s, K_NONLINEAR, nc, err, errlen, MEM(s->w), MEM(nv), MEM(s->coef[C_G]),
                  c0.size, (const void *)&c0.v, INT(nk), (size_t)0);
}

int kdv_set(kdv_solver *s, const double *u0, char *err, size_t errlen) {
    size_t nr = s->samples * s->n, nc = s->samples * s->nk;
    void *host = malloc(nr * s->real_size);
    if (!host) return hu_fail(err, errlen, "out of memory");
    for (size_t i = 0; i < nr; i++) {
        if (s->single)
            ((float *)host)[i] = (float)u0[i];
        else
            ((double *)host)[i] = u0[i];
    }
    cl_int e = clEnqueueWriteBuffer(s->q, s->u2, CL_TRUE, 0, nr * s->real_size, host, 0, NULL,
                                    NULL);
    free(host);
    if (e != CL_SUCCESS)
        return hu_fail(err, errlen, "clEnqueueWriteBuffer failed: %s", smnn_cl_error_name(e));
    CLFFT(clfftEnqueueTransform(s->r2c, CLFFT_FORWARD, 1, &s->q, 0, NULL, NULL, &s->u2, &s->v,
                                NULL));
    cl_int nk = (cl_int)s->nk;
    return launch(s, K_PROJECT, nc, err, errlen, MEM(s->v), MEM(s->coef[C_MASK]), INT(nk),
                  (size_t)0);
}

int kdv_step(kdv_solver *s, size_t steps, char *err, size_t errlen) {
    size_t nc = s->samples * s->nk;
    cl_int nk = (cl_int)s->nk;
    cl_mem *co = s->coef;
    for (size_t t = 0; t < steps; t++) {
        if (nonlinear(s, s->v, s->nv, err, errlen) != 0 ||
            launch(s, K_STAGE, nc, err, errlen, MEM(s->v), MEM(s->nv), MEM(s->a), MEM(co[C_E2]),
                   MEM(co[C_Q]), INT(nk), (size_t)0) != 0 ||
            nonlinear(s, s->a, s->na, err, errlen) != 0 ||
            launch(s, K_STAGE, nc, err, errlen, MEM(s->v), MEM(s->na), MEM(s->b), MEM(co[C_E2]),
                   MEM(co[C_Q]), INT(nk), (size_t)0) != 0 ||
            nonlinear(s, s->b, s->nb, err, errlen) != 0 ||
            launch(s, K_STAGE_C, nc, err, errlen, MEM(s->a), MEM(s->nb), MEM(s->nv), MEM(s->c),
                   MEM(co[C_E2]), MEM(co[C_Q]), INT(nk), (size_t)0) != 0 ||
            nonlinear(s, s->c, s->nc, err, errlen) != 0 ||
            launch(s, K_UPDATE, nc, err, errlen, MEM(s->v), MEM(s->nv), MEM(s->na), MEM(s->nb),
                   MEM(s->nc), MEM(co[C_E]), MEM(co[C_F1]), MEM(co[C_F2]), MEM(co[C_F3]),
                   INT(nk), (size_t)0) != 0)
            return -1;
        /* Bound the queue: a long run must not enqueue millions of commands ahead. */
        if (t % 64 == 63) {
            cl_int e = clFinish(s->q);
            if (e != CL_SUCCESS)
                return hu_fail(err, errlen, "clFinish failed: %s", smnn_cl_error_name(e));
        }
    }
    cl_int e = clFinish(s->q);
    if (e != CL_SUCCESS) return hu_fail(err, errlen, "clFinish failed: %s", smnn_cl_error_name(e));
    return 0;
}

int kdv_get(kdv_solver *s, double *u, char *err, size_t errlen) {
    size_t nr = s->samples * s->n;
    if (to_physical(s, s->v, err, errlen) != 0) return -1;
    scalar inv = real_arg(s, 1.0 / (double)s->n);
    if (launch(s, K_SCALE, nr, err, errlen, MEM(s->u), inv.size, (const void *)&inv.v,
               (size_t)0) != 0)
        return -1;
    void *host = malloc(nr * s->real_size);
    if (!host) return hu_fail(err, errlen, "out of memory");
    cl_int e = clEnqueueReadBuffer(s->q, s->u, CL_TRUE, 0, nr * s->real_size, host, 0, NULL, NULL);
    if (e != CL_SUCCESS) {
        free(host);
        return hu_fail(err, errlen, "clEnqueueReadBuffer failed: %s", smnn_cl_error_name(e));
    }
    for (size_t i = 0; i < nr; i++) u[i] = s->single ? ((float *)host)[i] : ((double *)host)[i];
    free(host);
    return 0;
}

int kdv_fields(kdv_solver *s, double *u, double *ux, double *uxx, double *uxxx, char *err,
               size_t errlen) {
    size_t nr = s->samples * s->n;
    if (fields(s, s->v, err, errlen) != 0) return -1;
    cl_mem bufs[4] = {s->u, s->ux, s->uxx, s->uxxx};
    double *outs[4] = {u, ux, uxx, uxxx};
    scalar inv = real_arg(s, 1.0 / (double)s->n);
    void *host = malloc(nr * s->real_size);
    if (!host) return hu_fail(err, errlen, "out of memory");
    for (int p = 0; p < 4; p++) {
        cl_int e = CL_SUCCESS;
        if (launch(s, K_SCALE, nr, err, errlen, MEM(bufs[p]), inv.size, (const void *)&inv.v,
                   (size_t)0) != 0) {
            free(host);
            return -1;
        }
        e = clEnqueueReadBuffer(s->q, bufs[p], CL_TRUE, 0, nr * s->real_size, host, 0, NULL, NULL);
        if (e != CL_SUCCESS) {
            free(host);
            return hu_fail(err, errlen, "clEnqueueReadBuffer failed: %s", smnn_cl_error_name(e));
        }
        for (size_t i = 0; i < nr; i++)
            outs[p][i] = s->single ? ((float *)host)[i] : ((double *)host)[i];
    }
    free(host);
    return 0;
}
