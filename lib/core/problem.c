/* The problem description: defaults and validation. (The layout of each input is layout.c's.)
 *
 * struct_size: fields are only ever appended. A caller compiled against an older, smaller struct
 * passes a smaller struct_size; the library reads only fields inside it and takes defaults for
 * the rest. The first version of the struct ends with `shared`, so every field read today is
 * inside any accepted struct; a field appended later must be read through smnn__problem_copy. */
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
    p->shared = 0;
}

int smnn__problem_size_ok(const smnn_problem *p) {
    return p && p->struct_size >= SMNN__PROBLEM_MIN_SIZE && p->struct_size <= sizeof *p;
}

void smnn__problem_copy(const smnn_problem *in, smnn_problem *out) {
    smnn_problem_init(out);
    /* Only whole versions are read (never a smaller struct's padding): today the first version
     * is the only one. */
    memcpy(out, in, in->struct_size >= sizeof *out ? sizeof *out : SMNN__PROBLEM_MIN_SIZE);
    out->struct_size = sizeof *out;
}

/* Largest value of each size: keeps every index computation well inside 64 bits and the kernels'
 * int arguments inside 31 bits. */
#define SIZE_LIMIT ((size_t)1 << 30)

smnn_status smnn_problem_validate(const smnn_problem *p) {
    if (!p) return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "argument 'problem' is NULL");
    if (!smnn__problem_size_ok(p))
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT,
                         "problem.struct_size is %zu, expected %zu to %zu: call "
                         "smnn_problem_init() first",
                         p->struct_size, (size_t)SMNN__PROBLEM_MIN_SIZE, sizeof *p);
    const struct {
        const char *name;
        size_t value, min;
    } sizes[] = {{"batch", p->batch, 1},     {"steps", p->steps, 2},
                 {"dims", p->dims, 1},       {"orders", p->orders, 1},
                 {"equations", p->equations, 1}, {"init_steps", p->init_steps, 1},
                 {"init_orders", p->init_orders, 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (sizes[i].value < sizes[i].min)
            return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "problem.%s = %zu, must be >= %zu",
                        sizes[i].name, sizes[i].value, sizes[i].min);
        if (sizes[i].value > SIZE_LIMIT)
            return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "problem.%s = %zu exceeds %zu",
                        sizes[i].name, sizes[i].value, SIZE_LIMIT);
    }
    if (p->init_steps > p->steps)
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT,
                    "problem.init_steps = %zu exceeds problem.steps = %zu", p->init_steps,
                    p->steps);
    if (p->init_orders > p->orders)
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT,
                    "problem.init_orders = %zu exceeds problem.orders = %zu", p->init_orders,
                    p->orders);
    if (p->dims * p->orders > 4096)
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT,
                    "block size dims * orders = %zu exceeds 4096", p->dims * p->orders);
    const struct {
        const char *name;
        double value;
    } ws[] = {{"w_gov", p->w_gov}, {"w_init", p->w_init}, {"w_smooth", p->w_smooth}};
    for (size_t i = 0; i < 3; i++)
        if (!isfinite(ws[i].value) || !(ws[i].value > 0))
            return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT,
                        "problem.%s = %g, must be finite and > 0", ws[i].name, ws[i].value);
    if (p->shared & ~0xffu)
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT,
                    "problem.shared = 0x%x has bits that are not SMNN_SHARE_* flags", p->shared);
    /* The largest input or output must be countable. */
    size_t y;
    if (smnn__mul_overflows(p->batch, p->steps, &y) ||
        smnn__mul_overflows(y, p->dims * p->orders, &y) ||
        smnn__mul_overflows(p->batch, p->steps * p->equations, &y) ||
        smnn__mul_overflows(y, p->dims * p->orders, &y))
        return FAIL_HERE(SMNN_ERROR_TOO_LARGE, "problem sizes overflow the address space");
    return SMNN_SUCCESS;
}

