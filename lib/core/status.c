/* Status names and messages, the thread-local last error, versions and small helpers (growable
 * strings, hashing) used throughout the library. The base layer: it knows nothing of OpenCL
 * contexts (runtime/errors.c adds the context's copy of the last error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

const char *smnn_status_name(smnn_status status) {
    switch (status) {
#define SMNN_STATUS_NAME_(name, value, message)                                                    \
    case name:                                                                                     \
        return #name;
        SMNN_STATUS_MAP(SMNN_STATUS_NAME_)
#undef SMNN_STATUS_NAME_
    }
    return "SMNN_STATUS_UNKNOWN";
}

const char *smnn_status_string(smnn_status status) {
    switch (status) {
#define SMNN_STATUS_STRING_(name, value, message)                                                  \
    case name:                                                                                     \
        return message;
        SMNN_STATUS_MAP(SMNN_STATUS_STRING_)
#undef SMNN_STATUS_STRING_
    }
    return "unknown status";
}

const char *smnn_version(void) {
    return SMNN_VERSION_STRING;
}

unsigned smnn_version_number(void) {
    return SMNN_VERSION_NUMBER;
}

static _Thread_local char thread_error[8192];

const char *smnn_last_error(void) {
    return thread_error;
}

void smnn__clear_error(void) {
    thread_error[0] = '\0';
}

const char *smnn__record_error(smnn_status status, const char *file, int line, const char *fmt,
                               va_list ap) {
    /* Keep only the file's base name: the message is for users, the path is noise. */
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char msg[sizeof thread_error];
    int n = snprintf(msg, sizeof msg, "%s: ", smnn_status_name(status));
    if (n < 0) n = 0;
    int m = vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    if (m < 0) m = 0;
    size_t used = (size_t)n + (size_t)m;
    if (used < sizeof msg) snprintf(msg + used, sizeof msg - used, " [%s:%d]", base, line);
    memcpy(thread_error, msg, sizeof msg);
    return thread_error;
}

smnn_status smnn__fail_here(smnn_status status, const char *file, int line, const char *fmt,
                            ...) {
    va_list ap;
    va_start(ap, fmt);
    smnn__record_error(status, file, line, fmt, ap);
    va_end(ap);
    return status;
}

void smnn__str_append(smnn__str *s, const char *text, size_t len) {
    if (s->failed) return;
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + len + 1) cap *= 2;
        char *p = realloc(s->data, cap);
        if (!p) {
            s->failed = 1;
            return;
        }
        s->data = p;
        s->cap = cap;
    }
    memcpy(s->data + s->len, text, len);
    s->len += len;
    s->data[s->len] = '\0';
}

void smnn__str_printf(smnn__str *s, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        smnn__str_append(s, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        s->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    smnn__str_append(s, big, (size_t)n);
    free(big);
}

void smnn__str_free(smnn__str *s) {
    free(s->data);
    s->data = NULL;
    s->len = s->cap = 0;
    s->failed = 0;
}

uint64_t smnn__hash(uint64_t seed, const void *data, size_t len) {
    const unsigned char *p = data;
    uint64_t h = seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    /* Mix in the length so that ("ab","c") and ("a","bc") chain to different keys. */
    for (size_t i = 0; i < sizeof len; i++) {
        h ^= (len >> (8 * i)) & 0xff;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

int smnn__mul_overflows(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 1;
    *out = a * b;
    return 0;
}
