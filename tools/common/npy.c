/* .npy reading (strict, bounded by what the header promises) and writing (through
 * outfile.h). See npy.h. */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

/* numpy's own limit on the header dict of format 1.0 files is 65535 bytes; 2.0 and 3.0 allow
 * more, but a float array's header never needs more than this. */
#define NPY_MAX_HEADER 65536

#define ERR(...)                                                                                   \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

static int is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n';
}
static const char *skip_ws(const char *p) {
    while (is_ws(*p)) p++;
    return p;
}

/* Reads a single-quoted string at p into buf (at most n - 1 characters); returns the position
 * after the closing quote, or NULL. */
static const char *quoted(const char *p, char *buf, size_t n) {
    if (*p != '\'') return NULL;
    const char *q = strchr(p + 1, '\'');
    if (!q || (size_t)(q - p - 1) >= n) return NULL;
    memcpy(buf, p + 1, (size_t)(q - p - 1));
    buf[q - p - 1] = '\0';
    return q + 1;
}

/* The shape tuple at p: '(' [int (',' int)* [',']] ')', one element only with its comma, as
 * Python writes it. Returns the position after ')', or NULL with a message in err. */
static const char *shape_tuple(const char *p, npy_array *out, char *err, size_t errlen) {
    if (*p != '(') {
        snprintf(err, errlen, "malformed .npy header: shape is not a tuple");
        return NULL;
    }
    p = skip_ws(p + 1);
    size_t count = 1;
    int commas = 0;
    out->ndim = 0;
    while (*p != ')') {
        if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1]))) {
            snprintf(err, errlen, "malformed .npy header: bad shape entry");
            return NULL;
        }
        if (out->ndim == NPY_MAX_DIMS) {
            snprintf(err, errlen, "more than %d dimensions", NPY_MAX_DIMS);
            return NULL;
        }
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v > ((size_t)1 << 40)) {
            snprintf(err, errlen, "shape entry too large");
            return NULL;
        }
        out->shape[out->ndim++] = (size_t)v;
        if (v != 0 && count > ((size_t)1 << 40) / v) {
            snprintf(err, errlen, "array too large");
            return NULL;
        }
        count *= (size_t)v;
        p = skip_ws(end);
        if (*p == ',') {
            commas++;
            p = skip_ws(p + 1);
        } else if (*p != ')') {
            snprintf(err, errlen, "malformed .npy header: bad shape tuple");
            return NULL;
        }
    }
    if (out->ndim == 1 && commas == 0) {
        snprintf(err, errlen, "malformed .npy header: shape is not a tuple ('(n)' is a number; "
                 "numpy writes '(n,)')");
        return NULL;
    }
    out->count = count;
    return p + 1;
}

/* The header dict, strictly: exactly the keys 'descr', 'fortran_order' and 'shape', each once,
 * in any order, separated by commas (one trailing comma allowed), blanks between tokens.
 * Returns 0, or -1 with a message in err. */
static int parse_dict(const char *h, npy_array *out, char *err, size_t errlen) {
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    int seen[3] = {0, 0, 0};
    const char *p = skip_ws(h);
    if (*p != '{') ERR("malformed .npy header: not a dict");
    p = skip_ws(p + 1);
    while (*p != '}') {
        char key[32];
        p = quoted(p, key, sizeof key);
        if (!p) ERR("malformed .npy header: expected a quoted key");
        int k = 0;
        while (k < 3 && strcmp(key, keys[k])) k++;
        if (k == 3) ERR("malformed .npy header: unknown key '%s'", key);
        if (seen[k]++) ERR("malformed .npy header: duplicate key '%s'", key);
        p = skip_ws(p);
        if (*p != ':') ERR("malformed .npy header: expected ':' after '%s'", key);
        p = skip_ws(p + 1);
        if (k == 0) {
            char d[16];
            const char *q = quoted(p, d, sizeof d);
            if (q && !strcmp(d, "<f8"))
                out->was_f32 = 0;
            else if (q && !strcmp(d, "<f4"))
                out->was_f32 = 1;
            else {
                char shown[16] = {0};
                sscanf(p, "%15[^,}]", shown);
                ERR("dtype %s is not supported: use little-endian float64 or float32", shown);
            }
            p = q;
        } else if (k == 1) {
            /* Exactly the tokens True and False: "Falsehood" or "Trueish" are neither. */
            size_t n = 0;
            while (isalnum((unsigned char)p[n]) || p[n] == '_') n++;
            if (n == 4 && !strncmp(p, "True", 4))
                ERR("Fortran-order arrays are not supported: save in C order");
            if (n != 5 || strncmp(p, "False", 5) != 0)
                ERR("malformed .npy header: fortran_order is neither True nor False");
            p += n;
        } else {
            p = shape_tuple(p, out, err, errlen);
            if (!p) return -1;
        }
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
        else if (*p != '}')
            ERR("malformed .npy header: expected ',' or '}' after '%s'", key);
    }
    if (*skip_ws(p + 1)) ERR("malformed .npy header: text after the dict");
    if (!seen[0] || !seen[1] || !seen[2])
        ERR("malformed .npy header: needs 'descr', 'fortran_order' and 'shape'");
    return 0;
}

/* Magic, version, header length and dict of buf[0..len). On success out has the shape, count
 * and dtype (no data) and *data_off is where the data starts. */
static int parse_header(const unsigned char *buf, size_t len, npy_array *out, size_t *data_off,
                        char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) ERR("not a .npy file (bad magic)");
    unsigned major = buf[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) ERR("truncated .npy header");
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
               (size_t)buf[11] << 24;
        start = 12;
    } else {
        ERR(".npy format version %u.%u is not supported", major, buf[7]);
    }
    if (hlen > NPY_MAX_HEADER) ERR(".npy header too long (%zu bytes)", hlen);
    if (hlen > len - start) ERR("truncated .npy header (%zu bytes announced)", hlen);
    char *h = malloc(hlen + 1);
    if (!h) ERR("out of memory");
    memcpy(h, buf + start, hlen);
    h[hlen] = '\0';
    int rc = -1;
    if (memchr(h, '\0', hlen))
        snprintf(err, errlen, "malformed .npy header (NUL byte)");
    else
        rc = parse_dict(h, out, err, errlen);
    free(h);
    *data_off = start + hlen;
    return rc;
}

/* count little-endian '<f4' (f32) or '<f8' values from d into out as doubles. */
static void decode(const unsigned char *d, size_t count, int f32, double *out) {
    for (size_t i = 0; i < count; i++) {
        if (f32) {
            uint32_t u = (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 |
                         (uint32_t)d[4 * i + 2] << 16 | (uint32_t)d[4 * i + 3] << 24;
            float f;
            memcpy(&f, &u, 4);
            out[i] = f;
        } else {
            uint64_t u = 0;
            for (int k = 0; k < 8; k++) u |= (uint64_t)d[8 * i + (size_t)k] << (8 * k);
            memcpy(&out[i], &u, 8);
        }
    }
}

int npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *err, size_t errlen) {
    size_t off;
    if (parse_header(buf, len, out, &off, err, errlen) != 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    int rc = -1;
    size_t count = out->count;
    size_t esize = out->was_f32 ? 4 : 8, data_len = len - off;
    if (data_len < count * esize) {
        snprintf(err, errlen, "truncated data: %zu bytes for %zu values of %zu bytes", data_len,
                 count, esize);
        goto done;
    }
    if (data_len > count * esize) {
        snprintf(err, errlen, "%zu bytes of unexpected data after the array",
                 data_len - count * esize);
        goto done;
    }
    out->data = malloc((count ? count : 1) * sizeof(double));
    if (!out->data) {
        snprintf(err, errlen, "out of memory for %zu values", count);
        goto done;
    }
    decode(buf + off, count, out->was_f32, out->data);
    rc = 0;
done:
    if (rc != 0) {
        free(out->data);
        out->data = NULL;
    }
    return rc;
}

/* Reads until n bytes arrived or the end; returns the count, or -1 on a read error. */
static ssize_t read_upto(int fd, unsigned char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Reads at most the header and the data it promises (plus one byte, to see excess data) from
 * fd into *buf; *len is what arrived. The header is checked first, so that a file that is not
 * .npy, or a promise the file cannot keep, is refused before any data is read. */
static int read_bounded(int fd, const struct stat *st, unsigned char **buf, size_t *len,
                        char *err, size_t errlen) {
    size_t cap = 12 + NPY_MAX_HEADER;
    unsigned char *b = malloc(cap);
    if (!b) ERR("out of memory");
    *buf = b;
    ssize_t r = read_upto(fd, b, 12);
    if (r < 0) ERR("read error: %s", strerror(errno));
    *len = (size_t)r;
    if (*len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) return 0; /* npy_parse says why */
    size_t start = b[6] == 1 ? 10 : 12;
    size_t hlen = b[6] == 1 ? ((size_t)b[8] | (size_t)b[9] << 8)
                            : ((size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
                               (size_t)b[11] << 24);
    if (hlen > NPY_MAX_HEADER || *len < start) return 0;
    r = read_upto(fd, b + *len, start + hlen - *len);
    if (r < 0) ERR("read error: %s", strerror(errno));
    *len += (size_t)r;
    npy_array h;
    size_t off;
    if (parse_header(b, *len, &h, &off, err, errlen) != 0) return -1;
    size_t promised = h.count * (h.was_f32 ? 4 : 8), want = off + promised;
    if (S_ISREG(st->st_mode)) {
        if ((uintmax_t)st->st_size < want)
            ERR("truncated data: the header promises %zu values (%zu bytes) but the file holds "
                "%zu bytes of data", h.count, promised, (size_t)st->st_size - off);
        if ((uintmax_t)st->st_size > want)
            ERR("%zu bytes of unexpected data after the array",
                (size_t)((uintmax_t)st->st_size - want));
    } else if (promised > NPY_STREAM_MAX) {
        ERR("the header promises %zu bytes of data, more than the %zu read from a pipe or "
            "device at most", promised, NPY_STREAM_MAX);
    }
    /* Grow with what arrives rather than trusting the promise with one large allocation. */
    while (*len < want + 1) {
        if (*len == cap) {
            size_t next = cap * 2 < want + 1 ? cap * 2 : want + 1;
            unsigned char *nb = realloc(b, next);
            if (!nb) ERR("out of memory for %zu bytes", next);
            *buf = b = nb;
            cap = next;
        }
        r = read_upto(fd, b + *len, cap - *len);
        if (r < 0) ERR("read error: %s", strerror(errno));
        *len += (size_t)r;
        if (r == 0) break;
    }
    return 0;
}

int npy_read(const char *path, npy_array *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) ERR("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        ERR("%s: cannot read: %s", path, strerror(e));
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    char inner[256];
    int rc = read_bounded(fd, &st, &buf, &len, inner, sizeof inner);
    close(fd);
    if (rc == 0) rc = npy_parse(buf, len, out, inner, sizeof inner);
    free(buf);
    if (rc != 0) ERR("%s: %s", path, inner);
    return 0;
}

size_t npy_header(const size_t *shape, int ndim, int as_f32, unsigned char *buf, size_t cap) {
    if (ndim < 0 || ndim > NPY_MAX_DIMS) return 0;
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     as_f32 ? "<f4" : "<f8");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%zu%s", shape[i],
                      ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
        if (__builtin_mul_overflow(count, shape[i], &count)) return 0;
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    /* Pad with spaces so that magic + length + header + '\n' is a multiple of 64. */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    if (10 + hlen > cap) return 0;
    unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                              (unsigned char)(hlen >> 8)};
    memcpy(buf, head, 10);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', pad);
    buf[10 + hlen - 1] = '\n';
    return 10 + hlen;
}

void npy_encode(const double *data, size_t count, int as_f32, unsigned char *out) {
    for (size_t i = 0; i < count; i++) {
        if (as_f32) {
            float x = (float)data[i];
            uint32_t u;
            memcpy(&u, &x, 4);
            for (int k = 0; k < 4; k++) out[4 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
        } else {
            uint64_t u;
            memcpy(&u, &data[i], 8);
            for (int k = 0; k < 8; k++) out[8 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
        }
    }
}

int npy_write_stream(FILE *f, const double *data, const size_t *shape, int ndim, int as_f32) {
    unsigned char head[NPY_HEADER_MAX];
    size_t hl = npy_header(shape, ndim, as_f32, head, sizeof head);
    if (hl == 0 || fwrite(head, 1, hl, f) != hl) return -1;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) count *= shape[i]; /* checked by npy_header */
    unsigned char b[8];
    int ok = 1;
    for (size_t i = 0; ok && i < count; i++) {
        npy_encode(&data[i], 1, as_f32, b);
        ok = fwrite(b, 1, as_f32 ? 4 : 8, f) == (as_f32 ? 4u : 8u);
    }
    return ok ? 0 : -1;
}

/* npy_read_rows, or with header_only the header's shape and no data. */
static int read_rows(const char *path, size_t first, size_t count, int header_only,
                     npy_array *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    /* O_NONBLOCK: a FIFO is refused below instead of waiting for a writer. */
    int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) ERR("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    unsigned char *head = NULL;
    char inner[256] = "";
    int rc = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(inner, sizeof inner, "%s", fstat(fd, &st) != 0 ? strerror(errno)
                 : "not a regular file (a slice is read at its offset, which a pipe or device "
                   "cannot give)");
        goto done;
    }
    head = malloc(12 + NPY_MAX_HEADER);
    if (!head) {
        snprintf(inner, sizeof inner, "out of memory");
        goto done;
    }
    ssize_t r = read_upto(fd, head, 12);
    size_t len = r < 0 ? 0 : (size_t)r;
    if (len >= 12 && memcmp(head, "\x93NUMPY", 6) == 0) {
        size_t start = head[6] == 1 ? 10 : 12;
        size_t hlen = head[6] == 1 ? ((size_t)head[8] | (size_t)head[9] << 8)
                                   : ((size_t)head[8] | (size_t)head[9] << 8 |
                                      (size_t)head[10] << 16 | (size_t)head[11] << 24);
        if (hlen <= NPY_MAX_HEADER && start + hlen > len) {
            r = read_upto(fd, head + len, start + hlen - len);
            len += r < 0 ? 0 : (size_t)r;
        }
    }
    size_t off;
    if (parse_header(head, len, out, &off, inner, sizeof inner) != 0) goto done;
    size_t esize = out->was_f32 ? 4 : 8, want = off + out->count * esize;
    if ((uintmax_t)st.st_size != want) {
        snprintf(inner, sizeof inner, "the header promises %zu values (%zu bytes of data) but the "
                 "file holds %zu bytes of data", out->count, out->count * esize,
                 (size_t)((uintmax_t)st.st_size > off ? (uintmax_t)st.st_size - off : 0));
        goto done;
    }
    if (header_only) {
        rc = 0;
        goto done;
    }
    if (out->ndim < 1 || first > out->shape[0] || count > out->shape[0] - first) {
        snprintf(inner, sizeof inner, "rows %zu..%zu asked of an array of %zu", first,
                 first + count, out->ndim < 1 ? 0 : out->shape[0]);
        goto done;
    }
    size_t row = out->shape[0] ? out->count / out->shape[0] : 0, n = count * row;
    out->shape[0] = count;
    out->count = n;
    out->data = malloc((n ? n : 1) * sizeof(double));
    unsigned char *raw = malloc((n ? n : 1) * esize);
    if (!out->data || !raw) {
        free(raw);
        snprintf(inner, sizeof inner, "out of memory for %zu values", n);
        goto done;
    }
    size_t got = 0, at = off + first * row * esize;
    int read_errno = 0;
    while (got < n * esize) {
        ssize_t k = pread(fd, raw + got, n * esize - got, (off_t)(at + got));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) read_errno = errno;
        if (k <= 0) break;
        got += (size_t)k;
    }
    if (got != n * esize) {
        free(raw);
        snprintf(inner, sizeof inner, "read error: %s",
                 read_errno ? strerror(read_errno) : "the file ended early");
        goto done;
    }
    decode(raw, n, out->was_f32, out->data);
    free(raw);
    rc = 0;
done:
    close(fd);
    free(head);
    if (rc != 0) {
        npy_free(out);
        ERR("%s: %s", path, inner);
    }
    return 0;
}

int npy_write(const char *path, const double *data, const size_t *shape, int ndim, int as_f32,
              char *err, size_t errlen) {
    outfile o;
    if (outfile_open(&o, path, err, errlen) != 0) return -1;
    if (npy_write_stream(o.f, data, shape, ndim, as_f32) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        outfile_discard(&o);
        return -1;
    }
    return outfile_commit(&o, err, errlen);
}

int npy_read_rows(const char *path, size_t first, size_t count, npy_array *out, char *err,
                  size_t errlen) {
    return read_rows(path, first, count, 0, out, err, errlen);
}

int npy_read_header(const char *path, npy_array *out, char *err, size_t errlen) {
    return read_rows(path, 0, 0, 1, out, err, errlen);
}

void npy_free(npy_array *a) {
    if (!a) return;
    free(a->data);
    a->data = NULL;
}
