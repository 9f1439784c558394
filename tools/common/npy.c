/* .npy reading (strict) and writing (atomic). See npy.h. */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERR(...)                                                                                   \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

/* Finds the value text after 'key': in the header dict; NULL if absent. */
static const char *find_key(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

int npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *err, size_t errlen) {
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
    if (hlen > len - start) ERR("truncated .npy header (%zu bytes announced)", hlen);
    if (hlen > 65536) ERR(".npy header too long (%zu bytes)", hlen);
    char *h = malloc(hlen + 1);
    if (!h) ERR("out of memory");
    memcpy(h, buf + start, hlen);
    h[hlen] = '\0';
    if (memchr(h, '\0', hlen)) {
        free(h);
        ERR("malformed .npy header (NUL byte)");
    }
    int rc = -1;
    const char *descr = find_key(h, "descr");
    const char *fort = find_key(h, "fortran_order");
    const char *shape = find_key(h, "shape");
    if (!descr || !fort || !shape) {
        snprintf(err, errlen, "malformed .npy header: needs 'descr', 'fortran_order' and 'shape'");
        goto done;
    }
    if (!strncmp(descr, "'<f8'", 5))
        out->was_f32 = 0;
    else if (!strncmp(descr, "'<f4'", 5))
        out->was_f32 = 1;
    else {
        char d[16] = {0};
        sscanf(descr, "%15[^,}]", d);
        snprintf(err, errlen, "dtype %s is not supported: use little-endian float64 or float32", d);
        goto done;
    }
    if (!strncmp(fort, "True", 4)) {
        snprintf(err, errlen, "Fortran-order arrays are not supported: save in C order");
        goto done;
    }
    if (strncmp(fort, "False", 5) != 0) {
        snprintf(err, errlen, "malformed .npy header: fortran_order is neither True nor False");
        goto done;
    }
    if (*shape != '(') {
        snprintf(err, errlen, "malformed .npy header: shape is not a tuple");
        goto done;
    }
    const char *p = shape + 1;
    size_t count = 1;
    out->ndim = 0;
    for (;;) {
        while (*p == ' ') p++;
        if (*p == ')') break;
        if (!isdigit((unsigned char)*p)) {
            snprintf(err, errlen, "malformed .npy header: bad shape entry");
            goto done;
        }
        if (out->ndim == NPY_MAX_DIMS) {
            snprintf(err, errlen, "more than %d dimensions", NPY_MAX_DIMS);
            goto done;
        }
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v > ((size_t)1 << 40)) {
            snprintf(err, errlen, "shape entry too large");
            goto done;
        }
        out->shape[out->ndim++] = (size_t)v;
        if (v != 0 && count > ((size_t)1 << 40) / v) {
            snprintf(err, errlen, "array too large");
            goto done;
        }
        count *= (size_t)v;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',') p++;
        else if (*p != ')') {
            snprintf(err, errlen, "malformed .npy header: bad shape tuple");
            goto done;
        }
    }
    out->count = count;
    size_t esize = out->was_f32 ? 4 : 8, data_len = len - start - hlen;
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
    const unsigned char *d = buf + start + hlen;
    for (size_t i = 0; i < count; i++) {
        if (out->was_f32) {
            uint32_t u = (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 |
                         (uint32_t)d[4 * i + 2] << 16 | (uint32_t)d[4 * i + 3] << 24;
            float f;
            memcpy(&f, &u, 4);
            out->data[i] = f;
        } else {
            uint64_t u = 0;
            for (int k = 0; k < 8; k++) u |= (uint64_t)d[8 * i + k] << (8 * k);
            memcpy(&out->data[i], &u, 8);
        }
    }
    rc = 0;
done:
    free(h);
    if (rc != 0) {
        free(out->data);
        out->data = NULL;
    }
    return rc;
}

int npy_read(const char *path, npy_array *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) ERR("%s: cannot open: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                ERR("%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        ERR("%s: read error", path);
    }
    char inner[256];
    int rc = npy_parse(buf, len, out, inner, sizeof inner);
    free(buf);
    if (rc != 0) ERR("%s: %s", path, inner);
    return 0;
}

int npy_write(const char *path, const double *data, const size_t *shape, int ndim, int as_f32,
              char *err, size_t errlen) {
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     as_f32 ? "<f4" : "<f8");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%zu%s", shape[i],
                      ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
        count *= shape[i];
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    /* Pad with spaces so that magic + length + header + '\n' is a multiple of 64. */
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    char *tmp = malloc(strlen(path) + 32);
    if (!tmp) ERR("out of memory");
    sprintf(tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                              (unsigned char)(hlen >> 8)};
    int ok = fwrite(head, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    for (size_t i = 0; ok && i < count; i++) {
        unsigned char b[8];
        if (as_f32) {
            float x = (float)data[i];
            uint32_t u;
            memcpy(&u, &x, 4);
            for (int k = 0; k < 4; k++) b[k] = (unsigned char)(u >> (8 * k));
            ok = fwrite(b, 1, 4, f) == 4;
        } else {
            uint64_t u;
            memcpy(&u, &data[i], 8);
            for (int k = 0; k < 8; k++) b[k] = (unsigned char)(u >> (8 * k));
            ok = fwrite(b, 1, 8, f) == 8;
        }
    }
    if (fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

void npy_free(npy_array *a) {
    if (!a) return;
    free(a->data);
    a->data = NULL;
}
