/* The .npy reader: every accepted form round-trips exactly; every malformed, truncated or
 * unsupported file is refused with a message, never a crash; nothing beyond what a header
 * promises is read. The writer (tools/common/outfile.h): never follows a planted link, replaces
 * a regular file only by a complete one with the right mode, writes devices and FIFOs in place,
 * refuses directories, dangling links and control characters. */
#define _GNU_SOURCE /* mknod, makedev */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "npy.h"
#include "outfile.h"
#include "testutil.h"

static char dir[128];

static const char *in_dir(const char *name) {
    return test_path_in(dir, name);
}

static void put(const char *name, const char *text) {
    FILE *f = fopen(in_dir(name), "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *get(const char *name) {
    static char buf[4096];
    FILE *f = fopen(in_dir(name), "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Temporaries left in the scratch folder (there must never be any after a write). */
static int leftovers(void) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".smnn-tmp-") != NULL;
    closedir(d);
    return n;
}

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

/* The header is parsed strictly: any duplicate key, unknown keys, tokens that only start like
 * True/False, shapes Python would not read as a tuple. */
static void test_strict_header(void **state) {
    (void)state;
    unsigned char buf[512];
    double v[4] = {1, 2, 3, 4};
    const struct {
        const char *dict;
        const char *why;
    } bad[] = {
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'shape': (2,), }", "duplicate key 'shape'"},
        {"{'descr': '<f8', 'shape': (2,), 'fortran_order': False, 'shape': (4,), }", "duplicate key 'shape'"},
        {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", "duplicate key 'descr'"},
        {"{'descr': '<f8', 'fortran_order': False, 'fortran_order': False, 'shape': (4,)}", "duplicate key 'fortran_order'"},
        {"{'descr': '<f8', 'fortran_order': Falsehood, 'shape': (4,), }", "fortran_order"},
        {"{'descr': '<f8', 'fortran_order': False_, 'shape': (4,), }", "fortran_order"},
        {"{'descr': '<f8', 'fortran_order': Trueish, 'shape': (4,), }", "fortran_order"},
        {"{'descr': '<f8', 'fortran_order': false, 'shape': (4,), }", "fortran_order"},
        {"{'descr': '<f8', 'fortran_order': 0, 'shape': (4,), }", "fortran_order"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'extra': 1, }", "unknown key 'extra'"},
        {"{'descr': '<f8' 'fortran_order': False, 'shape': (4,), }", "expected ','"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,), } x", "after the dict"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4), }", "not a tuple"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (04,), }", "shape entry"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (,), }", "shape entry"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,,), }", "shape entry"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4L,), }", "shape tuple"},
        {"{'descr': '<f8x', 'fortran_order': False, 'shape': (4,), }", "dtype"},
        {"{descr: '<f8', 'fortran_order': False, 'shape': (4,), }", "quoted key"},
        {"['descr', '<f8']", "not a dict"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = image(buf, bad[i].dict, v, 32);
        npy_array a;
        char err[256] = "";
        if (npy_parse(buf, len, &a, err, sizeof err) == 0) fail_msg("case %zu was accepted", i);
        if (!strstr(err, bad[i].why)) fail_msg("case %zu: message '%s' lacks '%s'", i, err, bad[i].why);
        assert_null(a.data);
    }
    /* What numpy writes and what Python would read the same way stays accepted. */
    const char *good[] = {
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
        "{'shape': (2, 2), 'fortran_order': False, 'descr': '<f8'}",
        "{'descr':'<f8','fortran_order':False,'shape':(1,4)}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,2,), }   ",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t len = image(buf, good[i], v, 32);
        npy_array a;
        char err[256] = "";
        if (npy_parse(buf, len, &a, err, sizeof err) != 0) fail_msg("good case %zu: %s", i, err);
        assert_memory_equal(a.data, v, sizeof v);
        npy_free(&a);
    }
}

typedef struct feeder {
    const char *path;
    const unsigned char *bytes;
    size_t len;
    int forever; /* keep writing zeros after the bytes until the reader goes away */
} feeder;

static void *feed(void *arg) {
    feeder *f = arg;
    int fd = open(f->path, O_WRONLY);
    if (fd < 0) return NULL;
    ssize_t w = write(fd, f->bytes, f->len);
    static const unsigned char zeros[65536];
    while (f->forever && w >= 0) w = write(fd, zeros, sizeof zeros);
    close(fd);
    return NULL;
}

/* Reads a FIFO fed by a thread with the given bytes; returns npy_read's result. */
static int read_fifo(const unsigned char *bytes, size_t len, int forever, npy_array *a, char *err,
                     size_t errlen) {
    const char *fifo = in_dir("in.fifo");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    feeder f = {fifo, bytes, len, forever};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
    int rc = npy_read(fifo, a, err, errlen);
    /* The reader is gone: a feeder writing forever gets EPIPE (SIGPIPE is ignored). */
    pthread_join(t, NULL);
    unlink(fifo);
    return rc;
}

/* Inputs are read no further than their header promises: /dev/zero, endless pipes and headers
 * promising more than a file holds are refused early instead of read until memory runs out. */
static void test_bounded_reads(void **state) {
    (void)state;
    npy_array a;
    char err[256];
    assert_int_equal(npy_read("/dev/zero", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "magic"));
    assert_int_equal(npy_read(dir, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "directory"));
    unsigned char buf[512];
    double v[4] = {1, 2, 3, 4};
    /* A regular file whose header promises 2^40 values over 32 bytes. */
    size_t len = image(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }",
                       v, 32);
    FILE *f = fopen(in_dir("big.npy"), "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    assert_int_equal(npy_read(in_dir("big.npy"), &a, err, sizeof err), -1);
    if (!strstr(err, "promises") || !strstr(err, "truncated")) fail_msg("message: %s", err);
    /* A regular file with more than promised. */
    len = image(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", v, 32);
    f = fopen(in_dir("more.npy"), "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    assert_int_equal(npy_read(in_dir("more.npy"), &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "unexpected"));
    /* FIFOs: a valid array arrives whole; an endless stream of zeros, a promise beyond the
     * stream cap, too little and too much data are refused. */
    len = image(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", v, 32);
    assert_int_equal(read_fifo(buf, len, 0, &a, err, sizeof err), 0);
    assert_memory_equal(a.data, v, sizeof v);
    npy_free(&a);
    assert_int_equal(read_fifo(buf, 11, 1, &a, err, sizeof err), -1);
    if (!strstr(err, "malformed") && !strstr(err, "NUL")) fail_msg("endless zeros: %s", err);
    assert_int_equal(read_fifo(buf, len, 1, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "unexpected"));
    len = image(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }", v, 32);
    assert_int_equal(read_fifo(buf, len, 1, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "pipe or device"));
    len = image(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (100,), }", v, 32);
    assert_int_equal(read_fifo(buf, len, 0, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
}

static void write_ok(const char *path) {
    double v[3] = {1, 2, 3};
    size_t shape[1] = {3};
    char err[256];
    if (npy_write(path, v, shape, 1, 0, err, sizeof err) != 0) fail_msg("%s", err);
}

static void assert_is_npy(const char *path) {
    npy_array a;
    char err[256];
    if (npy_read(path, &a, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(a.count, 3);
    npy_free(&a);
}

/* Links planted at any name next to the output are never followed; a regular target is
 * replaced by a complete file with the old file's mode (a new one: 0666 & ~umask); a failed
 * write leaves the target and no temporary behind. */
static void test_write_never_follows_links(void **state) {
    (void)state;
    put("precious.txt", "precious");
    char link[300];
    /* The old writer's predictable name, and a few others, as links to a precious file. */
    const char *out = in_dir("out.npy");
    const char *fmt[] = {"%s.tmp.%ld", "%s.tmp", "%s~", "%s.%ld"};
    for (int i = 0; i < 4; i++) {
        snprintf(link, sizeof link, fmt[i], out, (long)getpid());
        assert_int_equal(symlink(in_dir("precious.txt"), link), 0);
    }
    write_ok(out);
    write_ok(out);
    assert_string_equal(get("precious.txt"), "precious");
    struct stat st;
    assert_int_equal(lstat(out, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_is_npy(out);
    assert_int_equal(leftovers(), 0);
    /* Modes: a new file as fopen would make it, an existing one keeps its bits. */
    mode_t old = umask(027);
    unlink(in_dir("new.npy"));
    write_ok(in_dir("new.npy"));
    assert_int_equal(stat(in_dir("new.npy"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(chmod(in_dir("new.npy"), 0604), 0);
    write_ok(in_dir("new.npy"));
    assert_int_equal(stat(in_dir("new.npy"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0604);
    umask(old);
    /* A write that fails (the file size limit) leaves the old content and no temporary. */
    put("keep.npy", "keep");
    struct rlimit lim, small = {512, 512};
    getrlimit(RLIMIT_FSIZE, &lim);
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &small);
    double big[200] = {0};
    size_t shape[1] = {200};
    char err[256];
    int rc = npy_write(in_dir("keep.npy"), big, shape, 1, 0, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &lim);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "keep.npy"));
    assert_string_equal(get("keep.npy"), "keep");
    assert_int_equal(leftovers(), 0);
}

static void *drain(void *arg) {
    const char *path = arg;
    static unsigned char got[4096];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(got, 1, sizeof got, f) : 0;
    if (f) fclose(f);
    char err[256];
    npy_array a;
    int ok = npy_parse(got, n, &a, err, sizeof err) == 0 && a.count == 3 && a.data[2] == 3;
    if (ok) npy_free(&a);
    return ok ? (void *)1 : NULL;
}

/* Targets that are not regular files: FIFO and character devices written in place and left
 * what they were; directories, dangling links, control characters and missing folders
 * refused; a link to a regular file writes that file. */
static void test_write_special_targets(void **state) {
    (void)state;
    char err[256];
    double v[3] = {1, 2, 3};
    size_t shape[1] = {3};
    struct stat st;
    const char *fifo = in_dir("out.fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, drain, (void *)fifo), 0);
    write_ok(fifo);
    void *ok = NULL;
    pthread_join(t, &ok);
    assert_non_null(ok);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    /* A private null device (and a full one) made with mknod, when this process may. */
    const char *null = in_dir("null"), *full = in_dir("full");
    if (mknod(null, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        fprintf(stderr, "# skipped the character-device cases: mknod not permitted (%s)\n",
                strerror(errno));
    } else {
        write_ok(null);
        assert_int_equal(lstat(null, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(mknod(full, S_IFCHR | 0666, makedev(1, 7)), 0);
        assert_int_equal(npy_write(full, v, shape, 1, 0, err, sizeof err), -1);
        assert_non_null(strstr(err, "No space"));
        assert_int_equal(lstat(full, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        /* Through a link to the device: still in place. */
        assert_int_equal(symlink(null, in_dir("null-link")), 0);
        write_ok(in_dir("null-link"));
        assert_int_equal(lstat(null, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
    }
    assert_int_equal(mkdir(in_dir("sub"), 0700), 0);
    assert_int_equal(npy_write(in_dir("sub"), v, shape, 1, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "is a directory"));
    char slash[300];
    snprintf(slash, sizeof slash, "%s/", in_dir("nothing"));
    assert_int_equal(npy_write(slash, v, shape, 1, 0, err, sizeof err), -1);
    assert_int_equal(symlink(in_dir("missing-target"), in_dir("dangling")), 0);
    assert_int_equal(npy_write(in_dir("dangling"), v, shape, 1, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing file"));
    assert_int_equal(lstat(in_dir("missing-target"), &st), -1);
    assert_int_equal(npy_write(in_dir("a\nb.npy"), v, shape, 1, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "control character"));
    assert_int_equal(npy_write(in_dir("tab\t.npy"), v, shape, 1, 0, err, sizeof err), -1);
    assert_int_equal(npy_write(in_dir("no/such/y.npy"), v, shape, 1, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "folder"));
    /* A link to a regular file: that file gets the content, the link stays a link. */
    put("real.npy", "old");
    assert_int_equal(symlink("real.npy", in_dir("link.npy")), 0);
    write_ok(in_dir("link.npy"));
    assert_int_equal(lstat(in_dir("link.npy"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_is_npy(in_dir("real.npy"));
    assert_int_equal(leftovers(), 0);
    /* outfile_same: one file under different names. */
    assert_true(outfile_same(in_dir("y.npy"), in_dir("./y.npy")));
    assert_true(outfile_same(in_dir("link.npy"), in_dir("real.npy")));
    assert_int_equal(link(in_dir("real.npy"), in_dir("hard.npy")), 0);
    assert_true(outfile_same(in_dir("hard.npy"), in_dir("real.npy")));
    assert_false(outfile_same(in_dir("y.npy"), in_dir("z.npy")));
    assert_false(outfile_same(in_dir("real.npy"), in_dir("new.npy")));
}

/* npy_read_rows: any slice of the leading dimension equals that part of the whole array, in
 * both dtypes; a slice outside the array, a truncated file and a FIFO are refused; npy_header
 * and npy_encode write what npy_write_stream writes. */
static void test_read_rows(void **state) {
    (void)state;
    double x[5 * 3 * 2];
    for (int i = 0; i < 30; i++) x[i] = 0.25 * i - 3.0;
    size_t shape[3] = {5, 3, 2};
    char err[256];
    for (int f32 = 0; f32 < 2; f32++) {
        assert_int_equal(npy_write(in_dir("rows.npy"), x, shape, 3, f32, err, sizeof err), 0);
        for (size_t first = 0; first <= 5; first++)
            for (size_t count = 0; first + count <= 5; count++) {
                npy_array a;
                if (npy_read_rows(in_dir("rows.npy"), first, count, &a, err, sizeof err) != 0)
                    fail_msg("rows %zu+%zu: %s", first, count, err);
                assert_int_equal(a.ndim, 3);
                assert_int_equal(a.shape[0], count);
                assert_int_equal(a.count, count * 6);
                assert_int_equal(a.was_f32, f32);
                for (size_t i = 0; i < a.count; i++)
                    assert_true(a.data[i] == x[first * 6 + i]);
                npy_free(&a);
            }
        npy_array a;
        assert_int_equal(npy_read_rows(in_dir("rows.npy"), 4, 2, &a, err, sizeof err), -1);
        assert_non_null(strstr(err, "rows 4..6"));
        assert_null(a.data);
    }
    npy_array h;
    assert_int_equal(npy_read_header(in_dir("rows.npy"), &h, err, sizeof err), 0);
    assert_int_equal(h.ndim, 3);
    assert_int_equal(h.shape[0], 5);
    assert_int_equal(h.count, 30);
    assert_null(h.data);
    /* The header and encoding of a stream, by hand. */
    unsigned char head[NPY_HEADER_MAX], data[30 * 8];
    size_t hl = npy_header(shape, 3, 0, head, sizeof head);
    assert_true(hl > 0 && hl % 64 == 0);
    npy_encode(x, 30, 0, data);
    FILE *f = fopen(in_dir("byhand.npy"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(head, 1, hl, f), hl);
    assert_int_equal(fwrite(data, 1, sizeof data, f), sizeof data);
    fclose(f);
    npy_array a, b;
    assert_int_equal(npy_read(in_dir("byhand.npy"), &a, err, sizeof err), 0);
    assert_int_equal(a.count, 30);
    assert_memory_equal(a.data, x, sizeof x);
    npy_free(&a);
    assert_int_equal(npy_header(shape, 3, 0, head, 10), 0);
    /* Truncated by one byte. */
    assert_int_equal(npy_write(in_dir("short.npy"), x, shape, 3, 0, err, sizeof err), 0);
    assert_int_equal(truncate(in_dir("short.npy"), (off_t)(hl + sizeof data - 1)), 0);
    assert_int_equal(npy_read_rows(in_dir("short.npy"), 0, 1, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "promises"));
    assert_int_equal(npy_read_header(in_dir("short.npy"), &b, err, sizeof err), -1);
    /* A FIFO has no offsets. */
    assert_int_equal(mkfifo(in_dir("rows.fifo"), 0600), 0);
    assert_int_equal(npy_read_rows(in_dir("rows.fifo"), 0, 1, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(npy_read_rows(in_dir("missing.npy"), 0, 1, &b, err, sizeof err), -1);
    unlink(in_dir("rows.fifo"));
}

static int setup(void **state) {
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "/tmp/smnn-npy-%ld", (long)getpid());
    return mkdir(dir, 0700);
}

static int teardown(void **state) {
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_strict_header),
        cmocka_unit_test(test_bounded_reads),
        cmocka_unit_test(test_write_never_follows_links),
        cmocka_unit_test(test_write_special_targets),
        cmocka_unit_test(test_read_rows),
    };
    return cmocka_run_group_tests_name("npy", tests, setup, teardown);
}
