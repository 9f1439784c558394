/* Small host helpers shared by the tools and benchmarks: a monotonic clock, the median of
 * repeated timings, and checked sizes and allocations (a product of sizes that does not fit a
 * size_t is an error, never a wrapped small number). (Device copies in either precision:
 * smnn_buffer_from_host.) */
#ifndef SMNN_HOSTUTIL_H
#define SMNN_HOSTUTIL_H

#include <stddef.h>

#include <smnn/smnn.h>

/* Milliseconds on a monotonic clock. */
double hu_now_ms(void);
/* Median of v[0..n) (sorts v in place); n >= 1. */
double hu_median(double *v, int n);

/* *out = a * b. Returns 0, or -1 (and *out = SIZE_MAX) when the product does not fit. */
int hu_mul(size_t a, size_t b, size_t *out);
/* *out = the product of the n sizes; 0 or -1 as hu_mul. */
int hu_mul_n(size_t *out, int n, ...);
/* malloc of count elements of size bytes (at least one byte, so that a count of 0 is not a
 * NULL that looks like a failure); NULL when count * size does not fit or memory runs out. */
void *hu_alloc(size_t count, size_t size);
/* The same, zero-filled. */
void *hu_calloc(size_t count, size_t size);

/* Formats a message into err (errlen bytes, truncated, NUL-terminated when errlen > 0) and
 * returns -1: the failure path of helpers that report into a caller's buffer. */
int hu_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
