/* The problem description: defaults, validation and the element counts of each input. */
#include <math.h>
#include <string.h>

#include "../internal.h"

void smnn_problem_init(smnn_problem *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->batch = 1;
    p->steps = 2;
    p->dims = 1;
    p->orders = 1;
    p->equations = 1;
    p->init_steps = 1;
    p->init_orders = 1;
    p->w_gov = p->w_init = p->w_smooth = 1.0;
    p->precision = SMNN_PRECISION_DOUBLE;
    p->shared = 0;
    p->variant = SMNN_VARIANT_AUTO;
    p->refine_steps = -1;
}

/* Largest value of each size: keeps every index computation well inside 64 bits and the kernels'
 * int arguments inside 31 bits. */
#define SIZE_LIMIT ((size_t)1 << 30)

smnn_status smnn_problem_validate(const smnn_problem *p) {
    if (!p) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'problem' is NULL");
    if (p->struct_size != sizeof *p)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "problem.struct_size is %zu, expected %zu: call smnn_problem_init() first",
                    p->struct_size, sizeof *p);
    const struct {
        const char *name;
        size_t value, min;
    } sizes[] = {{"batch", p->batch, 1},     {"steps", p->steps, 2},
                 {"dims", p->dims, 1},       {"orders", p->orders, 1},
                 {"equations", p->equations, 1}, {"init_steps", p->init_steps, 1},
                 {"init_orders", p->init_orders, 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (sizes[i].value < sizes[i].min)
            return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "problem.%s = %zu, must be >= %zu",
                        sizes[i].name, sizes[i].value, sizes[i].min);
        if (sizes[i].value > SIZE_LIMIT)
            return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "problem.%s = %zu exceeds %zu",
                        sizes[i].name, sizes[i].value, SIZE_LIMIT);
    }
    if (p->init_steps > p->steps)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "problem.init_steps = %zu exceeds problem.steps = %zu", p->init_steps,
                    p->steps);
    if (p->init_orders > p->orders)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "problem.init_orders = %zu exceeds problem.orders = %zu", p->init_orders,
                    p->orders);
    if (p->dims * p->orders > 4096)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "block size dims * orders = %zu exceeds 4096", p->dims * p->orders);
    const struct {
        const char *name;
        double value;
    } ws[] = {{"w_gov", p->w_gov}, {"w_init", p->w_init}, {"w_smooth", p->w_smooth}};
    for (size_t i = 0; i < 3; i++)
        if (!isfinite(ws[i].value) || !(ws[i].value > 0))
            return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                        "problem.%s = %g, must be finite and > 0", ws[i].name, ws[i].value);
    if (p->precision != SMNN_PRECISION_DOUBLE && p->precision != SMNN_PRECISION_SINGLE)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "problem.precision = %d is not a "
                    "smnn_precision", (int)p->precision);
    if (p->variant != SMNN_VARIANT_AUTO && p->variant != SMNN_VARIANT_PRIVATE &&
        p->variant != SMNN_VARIANT_LOCAL)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "problem.variant = %d is not a "
                    "smnn_variant", (int)p->variant);
    if (p->refine_steps < -1 || p->refine_steps > 10)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "problem.refine_steps = %d, must be -1 (automatic) or 0..10", p->refine_steps);
    if (p->shared & ~0xffu)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "problem.shared = 0x%x has bits that are not SMNN_SHARE_* flags", p->shared);
    /* The largest input or output must be countable. */
    size_t y;
    if (smnn__mul_overflows(p->batch, p->steps, &y) ||
        smnn__mul_overflows(y, p->dims * p->orders, &y) ||
        smnn__mul_overflows(p->batch, p->steps * p->equations, &y) ||
        smnn__mul_overflows(y, p->dims * p->orders, &y))
        return FAIL(NULL, SMNN_ERROR_TOO_LARGE, "problem sizes overflow the address space");
    return SMNN_SUCCESS;
}

static size_t nb(const smnn_problem *p, unsigned flag) {
    return (p->shared & flag) ? 1 : p->batch;
}

static int valid(const smnn_problem *p) {
    return p && p->struct_size == sizeof *p && p->batch >= 1 && p->steps >= 2 && p->dims >= 1 &&
           p->orders >= 1 && p->equations >= 1 && p->init_steps >= 1 &&
           p->init_steps <= p->steps && p->init_orders >= 1 && p->init_orders <= p->orders;
}

size_t smnn_problem_c_count(const smnn_problem *p) {
    if (!valid(p)) return 0;
    size_t t = (p->shared & SMNN_SHARE_C_TIME) ? 1 : p->steps;
    return nb(p, SMNN_SHARE_C_BATCH) * t * p->equations * p->dims * p->orders;
}

size_t smnn_problem_d_count(const smnn_problem *p) {
    if (!valid(p)) return 0;
    size_t t = (p->shared & SMNN_SHARE_D_TIME) ? 1 : p->steps;
    return nb(p, SMNN_SHARE_D_BATCH) * t * p->equations;
}

size_t smnn_problem_u_count(const smnn_problem *p) {
    if (!valid(p)) return 0;
    size_t t = (p->shared & SMNN_SHARE_U_TIME) ? 1 : p->init_steps;
    return nb(p, SMNN_SHARE_U_BATCH) * t * p->dims * p->init_orders;
}

size_t smnn_problem_s_count(const smnn_problem *p) {
    if (!valid(p)) return 0;
    size_t t = (p->shared & SMNN_SHARE_S_TIME) ? 1 : p->steps - 1;
    return nb(p, SMNN_SHARE_S_BATCH) * t;
}

size_t smnn_problem_y_count(const smnn_problem *p) {
    if (!valid(p)) return 0;
    return p->batch * p->steps * p->dims * p->orders;
}
