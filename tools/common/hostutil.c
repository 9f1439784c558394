/* Host helpers shared by the tools and benchmarks; see hostutil.h. */
#include "hostutil.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
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

int hu_mul(size_t a, size_t b, size_t *out) {
    if (__builtin_mul_overflow(a, b, out)) {
        *out = SIZE_MAX;
        return -1;
    }
    return 0;
}

int hu_mul_n(size_t *out, int n, ...) {
    va_list ap;
    va_start(ap, n);
    size_t acc = 1;
    int rc = 0;
    for (int i = 0; i < n; i++)
        if (hu_mul(acc, va_arg(ap, size_t), &acc) != 0) rc = -1;
    va_end(ap);
    *out = rc ? SIZE_MAX : acc;
    return rc;
}

void *hu_alloc(size_t count, size_t size) {
    size_t bytes;
    if (hu_mul(count, size, &bytes) != 0) return NULL;
    return malloc(bytes ? bytes : 1);
}

void *hu_calloc(size_t count, size_t size) {
    size_t bytes;
    if (hu_mul(count, size, &bytes) != 0) return NULL;
    return calloc(bytes ? count : 1, bytes ? size : 1);
}

int hu_fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
