/* Seeded random numbers and random S-MNN problems, shared by the tests, the benchmark and the
 * tools: one generator (splitmix64, so that a 64-bit seed replays a run exactly) and one maker of
 * random, well-determined inputs for any problem shape. */
#ifndef SMNN_RANDPROB_H
#define SMNN_RANDPROB_H

#include <stdint.h>

#include <smnn/smnn.h>

/* Deterministic generator (splitmix64); any seed, 0 included, gives a full-period stream. */
typedef struct rp_rng {
    uint64_t state;
} rp_rng;

rp_rng rp_rng_make(uint64_t seed);
/* The next 64 random bits. */
uint64_t rp_next(rp_rng *r);
/* Uniform in [lo, hi) with 53 random bits: lo + (hi - lo) * k / 2^53. */
double rp_uniform(rp_rng *r, double lo, double hi);

/* Random inputs for p (its sharing honoured), drawn in the order c, d, u, s: coefficients in
 * [-1, 1) with the highest order of variable q (mod V) in equation q raised by 1.5, rhs and
 * initial values in [-1, 1), steps in [step_lo, step_hi). */
typedef struct rp_inputs {
    double *c, *d, *u, *s;
} rp_inputs;
/* 0 on success; -1 when memory runs out (then nothing stays allocated). */
int rp_inputs_make(const smnn_problem *p, rp_rng *r, double step_lo, double step_hi,
                   rp_inputs *in);
/* Frees the four arrays and clears *in; accepts a cleared or already freed *in. */
void rp_inputs_free(rp_inputs *in);

#endif
