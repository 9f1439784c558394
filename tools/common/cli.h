/* Strict parsing of command-line values, shared by every tool and the benchmark so that they
 * accept and reject the same things: the whole text must be the value (no empty string, no
 * leading blanks, no trailing "x"), whole numbers are plain decimal digits (a "-1" never wraps to
 * a huge size), numbers must be finite and in range, choices must match a name exactly.
 *
 * Each function returns 0 and stores the value in *out, or returns -1, leaves *out alone and
 * prints one line to stderr naming the program, the option and the text, e.g.
 *   smnn-bench: --batch: '3x' is not a whole number
 * Callers treat -1 as bad usage (exit code 2). */
#ifndef SMNN_CLI_H
#define SMNN_CLI_H

#include <stddef.h>

/* Names the program in the messages: the last path component of argv0 (unset: "error"). */
void cli_set_program(const char *argv0);

/* A whole number in [min, max] (use SIZE_MAX for no upper limit). */
int cli_size(const char *opt, const char *text, size_t min, size_t max, size_t *out);

/* A whole number in [min, max]; a leading '-' is accepted only when min < 0. */
int cli_int(const char *opt, const char *text, int min, int max, int *out);

/* Bound flags for cli_double: by default both bounds are inclusive. */
enum { CLI_ABOVE_LO = 1 /* value > lo rather than >= lo */, CLI_BELOW_HI = 2 /* value < hi */ };

/* A finite decimal or exponent number (strtod syntax, not hexadecimal) between lo and hi as
 * `flags` say; use INFINITY for no upper limit. NaN and infinities are always refused: no
 * option of these tools takes them; so is a non-zero value whose magnitude is below DBL_MIN
 * (it would round to 0 or to a subnormal number, in any notation). */
int cli_double(const char *opt, const char *text, double lo, double hi, unsigned flags,
               double *out);
/* A finite number > 0 (weights, step sizes): cli_double(opt, text, 0, INFINITY, CLI_ABOVE_LO). */
int cli_positive(const char *opt, const char *text, double *out);

/* One of names[] (NULL-terminated), matched exactly; *out is its index. */
int cli_choice(const char *opt, const char *text, const char *const *names, int *out);

#endif
