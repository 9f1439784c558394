/* Host helpers shared by the tools and benchmarks; see hostutil.h. */
#include "hostutil.h"

#include <stdlib.h>
#include <time.h>

double hu_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double hu_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

cl_mem hu_to_device(smnn_context *ctx, const double *x, size_t n, smnn_precision precision,
                    cl_int *err) {
    size_t es = precision == SMNN_PRECISION_DOUBLE ? 8 : 4;
    void *tmp = (void *)x;
    if (es == 4) {
        float *f = malloc((n ? n : 1) * sizeof *f);
        if (!f) {
            *err = CL_OUT_OF_HOST_MEMORY;
            return NULL;
        }
        for (size_t i = 0; i < n; i++) f[i] = (float)x[i];
        tmp = f;
    }
    cl_mem m = clCreateBuffer(smnn_context_cl_context(ctx),
                              CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, (n ? n : 1) * es, tmp, err);
    if (es == 4) free(tmp);
    return m;
}
