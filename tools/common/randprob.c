/* Random numbers and random problems; see randprob.h. */
#include "randprob.h"

#include <stdlib.h>
#include <string.h>

rp_rng rp_rng_make(uint64_t seed) {
    rp_rng r = {seed};
    return r;
}

uint64_t rp_next(rp_rng *r) {
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

double rp_uniform(rp_rng *r, double lo, double hi) {
    return lo + (hi - lo) * ((double)(rp_next(r) >> 11) / 9007199254740992.0);
}

static double *fill(size_t n, rp_rng *r, double lo, double hi) {
    double *x = malloc((n ? n : 1) * sizeof *x);
    if (x)
        for (size_t i = 0; i < n; i++) x[i] = rp_uniform(r, lo, hi);
    return x;
}

int rp_inputs_make(const smnn_problem *p, rp_rng *r, double step_lo, double step_hi,
                   rp_inputs *in) {
    memset(in, 0, sizeof *in);
    size_t nc = smnn_problem_c_count(p);
    in->c = fill(nc, r, -1, 1);
    if (!in->c) return -1;
    /* Give each equation q a dominant highest-order term of variable q mod V, so that the
     * governing equations keep every variable's top derivative well determined. */
    size_t n = p->dims * p->orders, Q = p->equations;
    for (size_t row = 0; row < nc / n; row++) {
        size_t q = row % Q, v = q % p->dims;
        in->c[row * n + v * p->orders + p->orders - 1] += 1.5;
    }
    in->d = fill(smnn_problem_d_count(p), r, -1, 1);
    in->u = in->d ? fill(smnn_problem_u_count(p), r, -1, 1) : NULL;
    in->s = in->u ? fill(smnn_problem_s_count(p), r, step_lo, step_hi) : NULL;
    if (!in->s) {
        rp_inputs_free(in);
        return -1;
    }
    return 0;
}

void rp_inputs_free(rp_inputs *in) {
    free(in->c);
    free(in->d);
    free(in->u);
    free(in->s);
    memset(in, 0, sizeof *in);
}
