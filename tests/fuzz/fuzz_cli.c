/* Fuzz target: the command-line value parsers (tools/common/cli.h). The first byte picks the
 * bounds, the rest is the text. Any text must be accepted or refused, never crash; an accepted
 * value must lie within the bounds and read back the same, a refused one must leave the output
 * alone. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *quiet;
    if (!quiet) {
        /* Each refusal prints a line: send stdio's stderr to /dev/null. glibc lets stderr be
         * assigned; descriptor 2 stays open for the sanitizers' reports. */
        quiet = fopen("/dev/null", "w");
        if (quiet) stderr = quiet;
    }
    if (size < 1 || size > 256) return 0;
    char text[257];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    unsigned pick = data[0];

    const size_t size_lo[4] = {0, 1, 2, 100}, size_hi[4] = {SIZE_MAX, 16, 1000000, 100};
    size_t zlo = size_lo[pick & 3], zhi = size_hi[(pick >> 2) & 3], z = 7777;
    if (zhi < zlo) zhi = zlo;
    if (cli_size("--n", text, zlo, zhi, &z) == 0) {
        if (z < zlo || z > zhi) abort();
        char back[32];
        size_t again = 0;
        snprintf(back, sizeof back, "%zu", z);
        if (cli_size("--n", back, zlo, zhi, &again) != 0 || again != z) abort();
    } else if (z != 7777) {
        abort();
    }

    const int int_lo[4] = {0, 1, -10, -2147483647 - 1}, int_hi[4] = {2147483647, 16, 10, 0};
    int ilo = int_lo[(pick >> 4) & 3], ihi = int_hi[(pick >> 6) & 3], i = 7777;
    if (ihi < ilo) ihi = ilo;
    if (cli_int("--i", text, ilo, ihi, &i) == 0) {
        if (i < ilo || i > ihi) abort();
    } else if (i != 7777) {
        abort();
    }

    const double dbl_lo[4] = {0, 1e-12, -1, -INFINITY}, dbl_hi[4] = {INFINITY, 1, 1e300, 0};
    double lo = dbl_lo[pick & 3], hi = dbl_hi[(pick >> 2) & 3], x = 7777;
    unsigned flags = (pick >> 4) & 3;
    if (hi < lo) hi = lo;
    if (cli_double("--x", text, lo, hi, flags, &x) == 0) {
        if (!isfinite(x) || x < lo || x > hi) abort();
        if ((flags & CLI_ABOVE_LO) && x == lo) abort();
        if ((flags & CLI_BELOW_HI) && x == hi) abort();
    } else if (x != 7777) {
        abort();
    }
    if (cli_positive("--w", text, &x) == 0 && !(x > 0)) abort();

    static const char *const names[] = {"text", "csv", "json", "", NULL};
    int c = 7777;
    if (cli_choice("--format", text, names, &c) == 0) {
        if (c < 0 || c > 3 || strcmp(names[c], text)) abort();
    } else if (c != 7777) {
        abort();
    }
    return 0;
}
