/* On-disk cache of compiled program binaries.
 *
 * An entry is one file named after the 64-bit key (a hash of the sources, build options,
 * platform/device/driver versions and smnn's version, computed in program.c). Its header holds a
 * magic, the key, the payload size and a hash of the payload, so a truncated or corrupted file is
 * recognised, removed and rebuilt instead of being handed to the driver. Every failure here is
 * silent on purpose: the cache is an optimisation and must never make a build fail. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../internal.h"

static const char magic[8] = {'S', 'M', 'N', 'N', 'B', 'I', 'N', '1'};

char *smnn__cache_dir(void) {
    const char *off = getenv("SMNN_CACHE_DISABLE");
    if (off && *off && strcmp(off, "0") != 0) return NULL;
    const char *dir = getenv("SMNN_CACHE_DIR");
    smnn__str s = {0};
    if (dir && *dir) {
        smnn__str_printf(&s, "%s", dir);
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg)
            smnn__str_printf(&s, "%s/smnn", xdg);
        else if (home && *home)
            smnn__str_printf(&s, "%s/.cache/smnn", home);
        else
            return NULL;
    }
    if (s.failed) {
        smnn__str_free(&s);
        return NULL;
    }
    return s.data;
}

/* mkdir -p for the cache folder; returns 0 on success. */
static int make_dirs(const char *path) {
    char *p = strdup(path);
    if (!p) return -1;
    for (char *q = p + 1; *q; q++) {
        if (*q == '/') {
            *q = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            *q = '/';
        }
    }
    int rc = (mkdir(p, 0755) != 0 && errno != EEXIST) ? -1 : 0;
    free(p);
    return rc;
}

static char *entry_path(const char *dir, uint64_t key, const char *suffix) {
    smnn__str s = {0};
    smnn__str_printf(&s, "%s/%016llx%s", dir, (unsigned long long)key, suffix);
    if (s.failed) {
        smnn__str_free(&s);
        return NULL;
    }
    return s.data;
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

unsigned char *smnn__cache_load(uint64_t key, size_t *size) {
    char *dir = smnn__cache_dir();
    if (!dir) return NULL;
    char *path = entry_path(dir, key, ".bin");
    free(dir);
    if (!path) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        free(path);
        return NULL;
    }
    unsigned char head[32];
    unsigned char *data = NULL;
    int ok = fread(head, 1, sizeof head, f) == sizeof head && !memcmp(head, magic, 8) &&
             get_u64(head + 8) == key;
    uint64_t n = ok ? get_u64(head + 16) : 0;
    /* A sane upper bound keeps a corrupted size field from asking for terabytes. */
    if (ok && (n == 0 || n > (UINT64_C(1) << 31))) ok = 0;
    if (ok) {
        data = malloc((size_t)n + 1);
        int extra;
        ok = data && fread(data, 1, (size_t)n, f) == (size_t)n &&
             (extra = fgetc(f)) == EOF && /* nothing may follow the payload */
             smnn__hash(SMNN__FNV_SEED, data, (size_t)n) == get_u64(head + 24);
        (void)extra;
    }
    fclose(f);
    if (!ok) {
        free(data);
        remove(path); /* corrupt or truncated: drop it so the rebuilt binary replaces it */
        free(path);
        return NULL;
    }
    free(path);
    *size = (size_t)n;
    return data;
}

int smnn__cache_store(uint64_t key, const unsigned char *data, size_t size) {
    char *dir = smnn__cache_dir();
    if (!dir) return 0;
    if (make_dirs(dir) != 0) {
        free(dir);
        return 0;
    }
    char *path = entry_path(dir, key, ".bin");
    smnn__str tmp = {0};
    smnn__str_printf(&tmp, "%s/.%016llx.%ld.tmp", dir, (unsigned long long)key, (long)getpid());
    free(dir);
    if (!path || tmp.failed) {
        free(path);
        smnn__str_free(&tmp);
        return 0;
    }
    unsigned char head[32];
    memcpy(head, magic, 8);
    put_u64(head + 8, key);
    put_u64(head + 16, size);
    put_u64(head + 24, smnn__hash(SMNN__FNV_SEED, data, size));
    FILE *f = fopen(tmp.data, "wb");
    int ok = f && fwrite(head, 1, sizeof head, f) == sizeof head &&
             fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0) ok = 0;
    if (ok) ok = rename(tmp.data, path) == 0;
    if (!ok) remove(tmp.data);
    free(path);
    smnn__str_free(&tmp);
    return ok;
}
