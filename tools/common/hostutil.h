/* Small host helpers shared by the tools and benchmarks: a monotonic clock, the median of
 * repeated timings, and a device copy of host doubles in a plan's precision. */
#ifndef SMNN_HOSTUTIL_H
#define SMNN_HOSTUTIL_H

#include <stddef.h>

#include <smnn/smnn.h>

/* Milliseconds on a monotonic clock. */
double hu_now_ms(void);
/* Median of v[0..n) (sorts v in place); n >= 1. */
double hu_median(double *v, int n);
/* A read-write device buffer holding x[0..n) as double or (converted) float; NULL on failure
 * with the OpenCL error in *err. */
cl_mem hu_to_device(smnn_context *ctx, const double *x, size_t n, smnn_precision precision,
                    cl_int *err);

#endif
