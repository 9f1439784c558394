/* Fuzz target: problem validation and the element counts derived from it, with every field of
 * smnn_problem taken from the input (sizes up to 2^40, any weights, flags, variants). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smnn/smnn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take(const uint8_t **p, size_t *left, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes && *left; i++, (*p)++, (*left)--) v |= (uint64_t)**p << (8 * i);
    return v;
}

static double take_double(const uint8_t **p, size_t *left) {
    uint64_t bits = take(p, left, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data;
    size_t left = size;
    smnn_problem pr;
    smnn_problem_init(&pr);
    size_t *fields[] = {&pr.batch, &pr.steps, &pr.dims, &pr.orders, &pr.equations,
                        &pr.init_steps, &pr.init_orders};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        *fields[i] = (size_t)(take(&p, &left, 5) & ((UINT64_C(1) << 40) - 1));
    pr.w_gov = take_double(&p, &left);
    pr.w_init = take_double(&p, &left);
    pr.w_smooth = take_double(&p, &left);
    pr.precision = (smnn_precision)(int)take(&p, &left, 1);
    pr.shared = (unsigned)take(&p, &left, 2);
    pr.variant = (smnn_variant)(int)take(&p, &left, 1);
    if (take(&p, &left, 1) == 0xff) pr.struct_size = 0;
    smnn_status st = smnn_problem_validate(&pr);
    size_t counts[5] = {smnn_problem_c_count(&pr), smnn_problem_d_count(&pr),
                        smnn_problem_u_count(&pr), smnn_problem_s_count(&pr),
                        smnn_problem_y_count(&pr)};
    if (st == SMNN_SUCCESS) {
        /* A valid problem has positive, consistent counts and finite positive weights. */
        for (int i = 0; i < 5; i++)
            if (counts[i] == 0) abort();
        if (counts[4] != pr.batch * pr.steps * pr.dims * pr.orders) abort();
        if (!(pr.w_gov > 0) || !isfinite(pr.w_gov) || pr.init_steps > pr.steps) abort();
        (void)smnn_reference_bytes(&pr);
    } else if (smnn_status_name(st)[0] == '\0' || smnn_last_error()[0] == '\0') {
        abort(); /* every refusal names its reason */
    }
    return 0;
}
