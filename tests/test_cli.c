/* The strict command-line values every tool and the bench use (tools/common/cli.h): valid text
 * is read exactly; empty text, trailing garbage, signs that would wrap, out-of-range, NaN and
 * infinite values and unknown choices are refused with one message naming the option and the
 * text, and the output is left alone. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "testutil.h"

/* stderr is sent to a temporary file while a parser runs, so the message can be checked. */
static char message[512];
static int saved_fd = -1;
static FILE *capture;

static void capture_begin(void) {
    fflush(stderr);
    capture = tmpfile();
    assert_non_null(capture);
    saved_fd = dup(2);
    dup2(fileno(capture), 2);
}

static const char *capture_end(void) {
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    rewind(capture);
    size_t n = fread(message, 1, sizeof message - 1, capture);
    message[n] = '\0';
    fclose(capture);
    return message;
}

/* Fails unless the message is exactly one line that contains `want`. */
static void assert_message(const char *got, const char *want) {
    if (!strstr(got, want)) fail_msg("message '%s' lacks '%s'", got, want);
    const char *nl = strchr(got, '\n');
    if (!nl || nl[1]) fail_msg("message '%s' is not one line", got);
}

typedef struct size_case {
    const char *text;
    size_t min, max;
    int ok;
    size_t value;    /* when ok */
    const char *why; /* part of the message when not ok */
} size_case;

static void test_size(void **state) {
    (void)state;
    const size_case cases[] = {
        {"0", 0, SIZE_MAX, 1, 0, NULL},
        {"3", 1, SIZE_MAX, 1, 3, NULL},
        {"1536", 1, SIZE_MAX, 1, 1536, NULL},
        {"007", 1, 10, 1, 7, NULL},
        {"18446744073709551615", 0, SIZE_MAX, 1, SIZE_MAX, NULL},
        {"3x", 1, SIZE_MAX, 0, 0, "'3x' is not a whole number"},
        {"", 1, SIZE_MAX, 0, 0, "'' is not a whole number"},
        {"-1", 0, SIZE_MAX, 0, 0, "'-1' is not a whole number"},
        {"-0", 0, SIZE_MAX, 0, 0, "is not a whole number"},
        {"+3", 1, SIZE_MAX, 0, 0, "is not a whole number"},
        {" 3", 1, SIZE_MAX, 0, 0, "is not a whole number"},
        /* Blanks before a sign never reach strtoull, which would skip them and wrap "-5". */
        {" -5", 2, SIZE_MAX, 0, 0, "' -5' is not a whole number"},
        {"\t5", 1, SIZE_MAX, 0, 0, "is not a whole number"},
        {"- 5", 0, SIZE_MAX, 0, 0, "is not a whole number"},
        {"3 ", 1, SIZE_MAX, 0, 0, "is not a whole number"},
        {"0x10", 1, SIZE_MAX, 0, 0, "is not a whole number"},
        {"1e3", 1, SIZE_MAX, 0, 0, "is not a whole number"},
        {"1.0", 1, SIZE_MAX, 0, 0, "is not a whole number"},
        {"1", 2, SIZE_MAX, 0, 0, "'1' is out of range (at least 2)"},
        {"17", 2, 16, 0, 0, "'17' is out of range (2 to 16)"},
        {"18446744073709551616", 0, SIZE_MAX, 0, 0, "is out of range"},
        {"99999999999999999999999999", 0, SIZE_MAX, 0, 0, "is out of range"},
    };
    cli_set_program("/some/where/smnn-bench");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const size_case *k = &cases[i];
        size_t out = 12345;
        capture_begin();
        int rc = cli_size("--batch", k->text, k->min, k->max, &out);
        const char *msg = capture_end();
        if (k->ok) {
            if (rc != 0) fail_msg("'%s' refused: %s", k->text, msg);
            assert_int_equal(out, k->value);
            assert_string_equal(msg, "");
        } else {
            if (rc != -1) fail_msg("'%s' accepted as %zu", k->text, out);
            assert_int_equal(out, 12345);
            assert_message(msg, "smnn-bench: --batch: ");
            assert_message(msg, k->why);
        }
    }
}

static void test_int(void **state) {
    (void)state;
    int out = 99;
    assert_int_equal(cli_int("--repeats", "7", 1, INT_MAX, &out), 0);
    assert_int_equal(out, 7);
    assert_int_equal(cli_int("--progress", "0", 0, INT_MAX, &out), 0);
    assert_int_equal(out, 0);
    assert_int_equal(cli_int("--level", "-5", -10, 10, &out), 0);
    assert_int_equal(out, -5);
    assert_int_equal(cli_int("--level", "-2147483648", INT_MIN, 0, &out), 0);
    assert_int_equal(out, INT_MIN);
    assert_int_equal(cli_int("--repeats", "2147483647", 1, INT_MAX, &out), 0);
    assert_int_equal(out, INT_MAX);
    out = 99;
    const struct {
        const char *text;
        int min, max;
        const char *why;
    } bad[] = {
        {"", 1, 100, "'' is not a whole number"},
        {"5x", 1, 100, "'5x' is not a whole number"},
        {"-1", 0, 100, "'-1' is not a whole number"}, /* no sign where none is allowed */
        {"-", -10, 10, "is not a whole number"},
        {"0", 1, 100, "'0' is out of range (1 to 100)"},
        {"-11", -10, 10, "'-11' is out of range (-10 to 10)"},
        {"2147483648", 0, INT_MAX, "is out of range (at least 0)"},
        {"-2147483649", INT_MIN, 0, "is out of range"},
        {"4294967297", 0, INT_MAX, "is out of range"}, /* would wrap to 1 as a 32-bit cast */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        capture_begin();
        int rc = cli_int("--repeats", bad[i].text, bad[i].min, bad[i].max, &out);
        const char *msg = capture_end();
        if (rc != -1) fail_msg("'%s' accepted as %d", bad[i].text, out);
        assert_int_equal(out, 99);
        assert_message(msg, bad[i].why);
    }
}

static void test_double(void **state) {
    (void)state;
    cli_set_program("smnn-solve");
    const struct {
        const char *text;
        double value;
    } good[] = {{"1", 1},    {"0.01", 0.01}, {"2.5e-3", 2.5e-3}, {"1E6", 1e6},
                {".5", 0.5}, {"5.", 5},      {"+2", 2},          {"1e300", 1e300},
                {"2.2250738585072014e-308", 2.2250738585072014e-308}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double out = -1;
        if (cli_double("--w-gov", good[i].text, 0, INFINITY, CLI_ABOVE_LO, &out) != 0)
            fail_msg("'%s' refused", good[i].text);
        assert_true(out == good[i].value);
    }
    const struct {
        const char *text;
        const char *why;
    } bad[] = {
        {"", "'' is not a number"},
        {"3x", "'3x' is not a number"},
        {" 1", "is not a number"},
        {"1 ", "is not a number"},
        {"nan", "'nan' is not a number"},
        {"NaN", "is not a number"},
        {"inf", "'inf' is not a number"},
        {"-infinity", "is not a number"},
        {"0x1p3", "is not a number"},
        {".", "is not a number"},
        {"1e", "is not a number"},
        {"1-2", "is not a number"},
        {"1e400", "'1e400' is too large"},
        {"-1e400", "'-1e400' is too large"},
        {"1e-400", "'1e-400' is too close to 0"}, /* it would underflow to another value */
        /* Subnormal results are refused like underflow to 0, whatever the platform's errno
         * convention, and hexadecimal is no way around it. */
        {"1e-310", "'1e-310' is too close to 0"},
        {"4.9e-324", "is too close to 0"},
        {"2.225e-308", "is too close to 0"},
        {"0x1p-1030", "is not a number"},
        {"0x1p-1", "is not a number"},
        {"0", "'0' is out of range (> 0)"},
        {"-1", "'-1' is out of range (> 0)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double out = 42;
        capture_begin();
        int rc = cli_double("--w-gov", bad[i].text, 0, INFINITY, CLI_ABOVE_LO, &out);
        const char *msg = capture_end();
        if (rc != -1) fail_msg("'%s' accepted as %g", bad[i].text, out);
        assert_true(out == 42);
        assert_message(msg, "smnn-solve: --w-gov: ");
        assert_message(msg, bad[i].why);
    }
    /* cli_positive is the common case of the same. */
    double out = 0;
    assert_int_equal(cli_positive("--step-size", "0.01", &out), 0);
    assert_true(out == 0.01);
    capture_begin();
    assert_int_equal(cli_positive("--step-size", "0", &out), -1);
    assert_message(capture_end(), "--step-size: '0' is out of range (> 0)");
    /* Inclusive and exclusive bounds on both sides. */
    assert_int_equal(cli_double("--noise", "0", 0, INFINITY, 0, &out), 0);
    assert_int_equal(cli_double("--frac", "1", 0, 1, 0, &out), 0);
    assert_true(out == 1);
    capture_begin();
    assert_int_equal(cli_double("--frac", "1", 0, 1, CLI_BELOW_HI, &out), -1);
    assert_message(capture_end(), "'1' is out of range (>= 0 and < 1)");
    capture_begin();
    assert_int_equal(cli_double("--lr", "1e-13", 1e-12, INFINITY, 0, &out), -1);
    assert_message(capture_end(), "'1e-13' is out of range (>= 1e-12)");
    capture_begin();
    assert_int_equal(cli_double("--x", "inf", -INFINITY, INFINITY, 0, &out), -1);
    assert_message(capture_end(), "'inf' is not a number");
    capture_begin();
    assert_int_equal(cli_double("--x", "1e999", -INFINITY, INFINITY, 0, &out), -1);
    assert_message(capture_end(), "'1e999' is too large");
    /* Below zero too; zero itself, in any spelling, stays a value where the range has it. */
    capture_begin();
    assert_int_equal(cli_double("--x", "-1e-310", -1, 1, 0, &out), -1);
    assert_message(capture_end(), "'-1e-310' is too close to 0");
    const char *zeros[] = {"0", "0.0", "0e5", "-0", "0e-400", ".0"};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++) {
        out = 42;
        if (cli_double("--noise", zeros[i], 0, INFINITY, 0, &out) != 0 || out != 0)
            fail_msg("'%s' was not read as 0", zeros[i]);
    }
}

static void test_choice(void **state) {
    (void)state;
    cli_set_program("smnn-validate");
    static const char *const formats[] = {"text", "csv", "json", NULL};
    static const char *const precisions[] = {"double", "single", NULL};
    int out = -1;
    assert_int_equal(cli_choice("--format", "text", formats, &out), 0);
    assert_int_equal(out, 0);
    assert_int_equal(cli_choice("--format", "json", formats, &out), 0);
    assert_int_equal(out, 2);
    assert_int_equal(cli_choice("--precision", "single", precisions, &out), 0);
    assert_int_equal(out, 1);
    const char *bad[] = {"", "xml", "JSON", "jso", "json ", "jsonx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out = -1;
        capture_begin();
        int rc = cli_choice("--format", bad[i], formats, &out);
        const char *msg = capture_end();
        if (rc != -1) fail_msg("'%s' accepted as %d", bad[i], out);
        assert_int_equal(out, -1);
        char want[128];
        snprintf(want, sizeof want, "smnn-validate: --format: '%s' is not text, csv or json",
                 bad[i]);
        assert_message(msg, want);
    }
    capture_begin();
    assert_int_equal(cli_choice("--precision", "half", precisions, &out), -1);
    assert_message(capture_end(), "--precision: 'half' is not double or single");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_size), cmocka_unit_test(test_int),
                                       cmocka_unit_test(test_double),
                                       cmocka_unit_test(test_choice)};
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
