/* Strict command-line values; see cli.h. The checks are done by hand rather than left to
 * strtoull/strtod, which skip leading blanks, accept signs that then wrap ("-1" becomes
 * SIZE_MAX), and read "nan", "inf" and hexadecimal. */
#include "cli.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *program = "error";

void cli_set_program(const char *argv0) {
    if (!argv0 || !*argv0) return;
    const char *slash = strrchr(argv0, '/');
    program = slash && slash[1] ? slash + 1 : argv0;
}

static int refuse(const char *opt, const char *text, const char *why) {
    fprintf(stderr, "%s: %s: '%s' %s\n", program, opt, text, why);
    return -1;
}

/* Reads an optional '-' and one or more decimal digits making up all of text. Returns 0 with
 * the magnitude in *mag (saturated at UINTMAX_MAX with *overflow set), -1 if text is anything
 * else. */
static int whole(const char *text, int *negative, uintmax_t *mag, int *overflow) {
    const char *p = text;
    *negative = *p == '-';
    if (*negative) p++;
    if (!*p) return -1;
    *mag = 0;
    *overflow = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        unsigned digit = (unsigned)(*p - '0');
        if (*mag > (UINTMAX_MAX - digit) / 10)
            *overflow = 1;
        else
            *mag = *mag * 10 + digit;
    }
    return 0;
}

/* Writes "(at least MIN)", "(at most MAX)" or "(MIN to MAX)" for whole-number ranges. */
static void whole_range(char *buf, size_t n, intmax_t min, uintmax_t max, uintmax_t no_max) {
    if (max == no_max)
        snprintf(buf, n, "is out of range (at least %jd)", min);
    else
        snprintf(buf, n, "is out of range (%jd to %ju)", min, max);
}

int cli_size(const char *opt, const char *text, size_t min, size_t max, size_t *out) {
    int negative, overflow;
    uintmax_t v;
    if (whole(text, &negative, &v, &overflow) != 0 || negative)
        return refuse(opt, text, "is not a whole number");
    if (overflow || v < min || v > max) {
        char why[96];
        whole_range(why, sizeof why, (intmax_t)min, max, SIZE_MAX);
        return refuse(opt, text, why);
    }
    *out = (size_t)v;
    return 0;
}

int cli_int(const char *opt, const char *text, int min, int max, int *out) {
    int negative, overflow;
    uintmax_t mag;
    if (whole(text, &negative, &mag, &overflow) != 0 || (negative && min >= 0))
        return refuse(opt, text, "is not a whole number");
    /* Every int's magnitude fits below INT_MAX + 1, so a larger one is out of range. */
    int in_range = !overflow && mag <= (uintmax_t)INT_MAX + 1;
    long long v = in_range ? (negative ? -(long long)mag : (long long)mag) : 0;
    if (!in_range || v < min || v > max) {
        char why[96];
        whole_range(why, sizeof why, min, (uintmax_t)max, (uintmax_t)INT_MAX);
        return refuse(opt, text, why);
    }
    *out = (int)v;
    return 0;
}

/* Whether the digits before any exponent include a non-zero one ("1e-400" does, "0e5" not). */
static int nonzero_mantissa(const char *text) {
    size_t m = strcspn(text, "eE");
    for (size_t i = 0; i < m; i++)
        if (text[i] >= '1' && text[i] <= '9') return 1;
    return 0;
}

int cli_double(const char *opt, const char *text, double lo, double hi, unsigned flags,
               double *out) {
    /* Plain decimal and exponent notation only: strtod would also read blanks, "nan", "inf"
     * and hexadecimal. */
    if (!*text || strspn(text, "0123456789.eE+-") != strlen(text))
        return refuse(opt, text, "is not a number");
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end) return refuse(opt, text, "is not a number");
    /* Overflow is an infinite result; underflow is decided here rather than by errno (C leaves
     * ERANGE on a subnormal result to the implementation): a value that rounds to 0 or to a
     * subnormal number is refused, written in any notation, since it has lost precision and
     * its square (weights and steps enter squared) is 0. */
    if (!isfinite(v)) return refuse(opt, text, "is too large");
    if (v != 0 ? fabs(v) < DBL_MIN : nonzero_mantissa(text))
        return refuse(opt, text, "is too close to 0 (below 2.2e-308, the smallest normal double)");
    int above = flags & CLI_ABOVE_LO ? v > lo : v >= lo;
    int below = flags & CLI_BELOW_HI ? v < hi : v <= hi;
    if (!above || !below) {
        char why[128];
        int n = snprintf(why, sizeof why, "is out of range (");
        if (lo > -INFINITY)
            n += snprintf(why + n, sizeof why - (size_t)n, "%s %g",
                          flags & CLI_ABOVE_LO ? ">" : ">=", lo);
        if (hi < INFINITY)
            n += snprintf(why + n, sizeof why - (size_t)n, "%s%s %g", lo > -INFINITY ? " and " : "",
                          flags & CLI_BELOW_HI ? "<" : "<=", hi);
        snprintf(why + n, sizeof why - (size_t)n, ")");
        return refuse(opt, text, why);
    }
    *out = v;
    return 0;
}

int cli_positive(const char *opt, const char *text, double *out) {
    return cli_double(opt, text, 0, INFINITY, CLI_ABOVE_LO, out);
}

int cli_choice(const char *opt, const char *text, const char *const *names, int *out) {
    int count = 0;
    for (; names[count]; count++) {
        if (!strcmp(text, names[count])) {
            *out = count;
            return 0;
        }
    }
    /* "'xml' is not text, csv or json" */
    char why[256];
    size_t n = (size_t)snprintf(why, sizeof why, "is not ");
    for (int i = 0; i < count && n < sizeof why; i++)
        n += (size_t)snprintf(why + n, sizeof why - n, "%s%s", names[i],
                              i + 2 < count    ? ", "
                              : i + 2 == count ? " or "
                                               : "");
    return refuse(opt, text, why);
}
