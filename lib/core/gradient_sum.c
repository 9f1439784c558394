/* smnn_gradient_sum: the reduction of per-system gradient contributions over shared dimensions
 * on the host, in the order, compensation and precision of cl/gradient.cl smnn_reduce (for
 * batches solved as several plans: devices, MPI ranks). */
#include <string.h>

#include "../internal.h"

/* out[ot, r] = the sum over b (all) and t (all when shared in time, else ot) of full[b, t, r]:
 * one running compensated (Kahan) sum per output element, b-major, as the kernel does. */
#define REDUCE(real)                                                                              \
    for (size_t ob = 0; ob < OB; ob++)                                                             \
        for (size_t ot = 0; ot < OT; ot++)                                                         \
            for (size_t r = 0; r < R; r++) {                                                       \
                size_t b0 = sb ? 0 : ob, b1 = sb ? B : ob + 1;                                     \
                size_t t0 = st ? 0 : ot, t1 = st ? T : ot + 1;                                     \
                real acc = 0, comp = 0;                                                            \
                for (size_t b = b0; b < b1; b++)                                                   \
                    for (size_t t = t0; t < t1; t++) {                                             \
                        real x = (real)full[(b * T + t) * R + r] - comp;                           \
                        real sum = acc + x;                                                        \
                        comp = (sum - acc) - x;                                                    \
                        acc = sum;                                                                 \
                    }                                                                              \
                out[(ob * OT + ot) * R + r] = acc;                                                 \
            }

smnn_status smnn_gradient_sum(const smnn_problem *p, smnn_input which, smnn_precision precision,
                              const double *full, double *out) {
    smnn__clear_error();
    if (!full || !out)
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                         !full ? "full" : "out");
    if (precision != SMNN_PRECISION_DOUBLE && precision != SMNN_PRECISION_SINGLE)
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "precision = %d is not a smnn_precision",
                         (int)precision);
    smnn_layout l;
    FORWARD_IF_ERROR(smnn_problem_layout(p, which, &l));
    size_t B = l.full_batch, T = l.full_time, R = l.row;
    int sb = l.shared_batch, st = l.shared_time;
    if (!sb && !st) {
        memcpy(out, full, l.count * sizeof *out);
        return SMNN_SUCCESS;
    }
    size_t OB = sb ? 1 : B, OT = st ? 1 : T;
    if (precision == SMNN_PRECISION_SINGLE) {
        REDUCE(float)
    } else {
        REDUCE(double)
    }
    return SMNN_SUCCESS;
}
