/* Small host helpers shared by the tools and benchmarks: a monotonic clock and the median of
 * repeated timings. (Device copies in either precision: smnn_buffer_from_host.) */
#ifndef SMNN_HOSTUTIL_H
#define SMNN_HOSTUTIL_H

#include <stddef.h>

#include <smnn/smnn.h>

/* Milliseconds on a monotonic clock. */
double hu_now_ms(void);
/* Median of v[0..n) (sorts v in place); n >= 1. */
double hu_median(double *v, int n);

#endif
