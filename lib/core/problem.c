/* The problem description: defaults and validation. (The layout of each input is layout.c's.)
 *
 * struct_size: fields are only ever appended. A caller compiled against an older, smaller struct
 * passes a smaller struct_size; the library reads only fields inside it and takes defaults for
 * the rest. The first version of the struct ends with `shared`, so every field read today is
 * inside any accepted struct; a field appended later must be read through smnn__problem_copy. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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

/* Writes the reason into why (when not NULL) and returns st. */
static smnn_status why_fail(char *why, size_t len, smnn_status st, const char *fmt, ...)
    SMNN_PRINTF(4, 5);
static smnn_status why_fail(char *why, size_t len, smnn_status st, const char *fmt, ...) {
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* The product of n factors, in elements and in bytes of 8 (double, the widest element any
 * buffer of the problem has); fails when either overflows size_t. */
static int product_fits(const size_t *f, size_t n) {
    size_t v = 8;
    for (size_t i = 0; i < n; i++)
        if (smnn__mul_overflows(v, f[i], &v)) return 0;
    return 1;
}

smnn_status smnn__problem_check(const smnn_problem *p, char *why, size_t len) {
    if (!p) return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT, "argument 'problem' is NULL");
    if (!smnn__problem_size_ok(p))
        return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT,
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
            return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT,
                            "problem.%s = %zu, must be >= %zu", sizes[i].name, sizes[i].value,
                            sizes[i].min);
        if (sizes[i].value > SIZE_LIMIT)
            return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT,
                            "problem.%s = %zu exceeds %zu", sizes[i].name, sizes[i].value,
                            SIZE_LIMIT);
    }
    if (p->init_steps > p->steps)
        return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT,
                        "problem.init_steps = %zu exceeds problem.steps = %zu", p->init_steps,
                        p->steps);
    if (p->init_orders > p->orders)
        return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT,
                        "problem.init_orders = %zu exceeds problem.orders = %zu", p->init_orders,
                        p->orders);
    /* Each size is at most 2^30, so this product cannot wrap. */
    size_t n = p->dims * p->orders;
    if (n > 4096)
        return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT,
                        "block size dims * orders = %zu exceeds 4096", n);
    const struct {
        const char *name;
        double value;
    } ws[] = {{"w_gov", p->w_gov}, {"w_init", p->w_init}, {"w_smooth", p->w_smooth}};
    for (size_t i = 0; i < 3; i++)
        if (!isfinite(ws[i].value) || !(ws[i].value > 0))
            return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT,
                            "problem.%s = %g, must be finite and > 0", ws[i].name, ws[i].value);
    if (p->shared & ~0xffu)
        return why_fail(why, len, SMNN_ERROR_INVALID_ARGUMENT,
                        "problem.shared = 0x%x has bits that are not SMNN_SHARE_* flags",
                        p->shared);
    /* Every array the problem implies must be countable, in elements and in bytes of doubles:
     * the inputs in their full (unshared) layout, which bounds the shared one and is the size
     * of the gradients' scratch, y (also the size of lambda and of the refinement's vectors),
     * and the solver's workspace, bounded by n(n+1)/2 + n^2 + n reals per system and time point
     * (a packed factor, a coupling block and a vector: at least SMNN_REC(n) of cl/contract.h and
     * any per-system scratch). */
    size_t rec = n * (n + 1) / 2 + n * n + n;
    const struct {
        const char *name, *dims;
        size_t f[5], nf;
    } arrays[] = {
        {"c", "batch x steps x equations x dims x orders",
         {p->batch, p->steps, p->equations, p->dims, p->orders}, 5},
        {"d", "batch x steps x equations", {p->batch, p->steps, p->equations}, 3},
        {"u", "batch x init_steps x dims x init_orders",
         {p->batch, p->init_steps, p->dims, p->init_orders}, 4},
        {"s", "batch x (steps - 1)", {p->batch, p->steps - 1}, 2},
        {"y", "batch x steps x dims x orders", {p->batch, p->steps, p->dims, p->orders}, 4},
        {"the solver's workspace", "batch x steps x record", {p->batch, p->steps, rec}, 3},
    };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        const size_t *f = arrays[i].f;
        if (product_fits(f, arrays[i].nf)) continue;
        char prod[160] = "";
        for (size_t k = 0, at = 0; k < arrays[i].nf && at < sizeof prod; k++)
            at += (size_t)snprintf(prod + at, sizeof prod - at, "%s%zu", k ? " x " : "", f[k]);
        return why_fail(why, len, SMNN_ERROR_TOO_LARGE,
                        "problem sizes overflow the address space: %s needs %s = %s doubles, "
                        "more than SIZE_MAX bytes",
                        arrays[i].name, arrays[i].dims, prod);
    }
    return SMNN_SUCCESS;
}

smnn_status smnn_problem_validate(const smnn_problem *p) {
    char why[512];
    smnn_status st = smnn__problem_check(p, why, sizeof why);
    if (st != SMNN_SUCCESS) return FAIL_HERE(st, "%s", why);
    return SMNN_SUCCESS;
}
