/* The .npy reader: every accepted form round-trips exactly; every malformed, truncated or
 * unsupported file is refused with a message, never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "testutil.h"

/* Builds an .npy image from a header dict and raw data bytes (version 1.0). */
static size_t image(unsigned char *out, const char *dict, const void *data, size_t dlen) {
    size_t n = strlen(dict);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)((n + 1) & 0xff);
    out[9] = (unsigned char)((n + 1) >> 8);
    memcpy(out + 10, dict, n);
    out[10 + n] = '\n';
    memcpy(out + 11 + n, data, dlen);
    return 11 + n + dlen;
}

static void test_valid(void **state) {
    (void)state;
    unsigned char buf[512];
    double v[6] = {1, -2.5, 3e-300, 4, 5, 6};
    npy_array a;
    char err[256];
    size_t len = image(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", v,
                       sizeof v);
    assert_int_equal(npy_parse(buf, len, &a, err, sizeof err), 0);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 3);
    assert_memory_equal(a.data, v, sizeof v);
    npy_free(&a);
    float f[3] = {1.5f, -2, 0.25f};
    len = image(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f, sizeof f);
    assert_int_equal(npy_parse(buf, len, &a, err, sizeof err), 0);
    assert_int_equal(a.ndim, 1);
    assert_true(a.was_f32 && a.data[0] == 1.5 && a.data[1] == -2 && a.data[2] == 0.25);
    npy_free(&a);
    /* A scalar (shape ()) has one value. */
    len = image(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", v, 8);
    assert_int_equal(npy_parse(buf, len, &a, err, sizeof err), 0);
    assert_int_equal(a.ndim, 0);
    assert_int_equal(a.count, 1);
    npy_free(&a);
    /* Round trip through the writer, 5 dimensions. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/smnn-npy-%ld.npy", (long)getpid());
    size_t shape[5] = {1, 2, 1, 3, 1};
    assert_int_equal(npy_write(path, v, shape, 5, 0, err, sizeof err), 0);
    assert_int_equal(npy_read(path, &a, err, sizeof err), 0);
    assert_int_equal(a.ndim, 5);
    assert_memory_equal(a.data, v, sizeof v);
    npy_free(&a);
    remove(path);
}

static void test_invalid(void **state) {
    (void)state;
    unsigned char buf[512];
    double v[4] = {1, 2, 3, 4};
    const struct {
        const char *dict;
        size_t dlen;
        const char *why;
    } bad[] = {
        {"{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", 32, "Fortran"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", 16, "dtype"},
        {"{'descr': '>f8', 'fortran_order': False, 'shape': (4,), }", 32, "dtype"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", 24, "truncated"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 32, "unexpected"},
        {"{'descr': '<f8', 'shape': (4,), }", 32, "malformed"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': 4, }", 32, "tuple"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4, x), }", 32, "shape"},
        {"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (4,), }", 32, "fortran_order"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", 32,
         "large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = image(buf, bad[i].dict, v, bad[i].dlen);
        npy_array a;
        char err[256] = "";
        if (npy_parse(buf, len, &a, err, sizeof err) == 0) fail_msg("case %zu was accepted", i);
        if (!strstr(err, bad[i].why)) fail_msg("case %zu: message '%s' lacks '%s'", i, err, bad[i].why);
        assert_null(a.data);
    }
    npy_array a;
    char err[256];
    assert_int_equal(npy_parse((const unsigned char *)"hello world", 11, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "magic"));
    /* Header length pointing past the end. */
    unsigned char h[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f, '{', '}'};
    assert_int_equal(npy_parse(h, sizeof h, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    unsigned char ver[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 9, 0, 0, 0, 0, 0};
    assert_int_equal(npy_parse(ver, sizeof ver, &a, err, sizeof err), -1);
    assert_int_equal(npy_read("/nonexistent/file.npy", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/file.npy"));
    /* The writer refuses an unwritable place and leaves nothing behind. */
    size_t shape[1] = {4};
    assert_int_equal(npy_write("/nonexistent/dir/y.npy", v, shape, 1, 0, err, sizeof err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_valid), cmocka_unit_test(test_invalid)};
    return cmocka_run_group_tests_name("npy", tests, NULL, NULL);
}
