/* On-disk cache of compiled program binaries.
 *
 * An entry is one file named after the 64-bit key (a hash of the sources, build options,
 * platform/device/driver versions and smnn's version, computed in program.c). Its header holds a
 * magic, the key, the payload size and a hash of the payload, so a truncated or corrupted file is
 * recognised, removed and rebuilt instead of being handed to the driver. Every failure here is
 * silent on purpose: the cache is an optimisation and must never make a build fail.
 *
 * The folder may be shared with, or writable by, someone else, so nothing here trusts a name in
 * it: an entry is written to a fresh temporary file that mkstemp creates exclusively (never
 * through a link or onto an existing file), synced, then renamed over the entry (rename replaces a
 * link or FIFO there instead of following it). An entry is read only when it is a regular file,
 * opened without following a link and without blocking (a FIFO would otherwise block forever). */
#include <errno.h>
#include <fcntl.h>
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

/* Reads exactly len bytes; returns 0 on success. */
static int read_all(int fd, unsigned char *buf, size_t len) {
    while (len) {
        ssize_t r = read(fd, buf, len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        buf += r;
        len -= (size_t)r;
    }
    return 0;
}

static int write_all(int fd, const unsigned char *buf, size_t len) {
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

unsigned char *smnn__cache_load(uint64_t key, size_t *size) {
    char *dir = smnn__cache_dir();
    if (!dir) return NULL;
    char *path = entry_path(dir, key, ".bin");
    free(dir);
    if (!path) return NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: entries are never
     * links. Anything but a regular file is not one of ours: ignored (a later store renames
     * over it). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        free(path);
        return NULL;
    }
    unsigned char head[32];
    unsigned char *data = NULL;
    int ok = st.st_size >= (off_t)sizeof head && read_all(fd, head, sizeof head) == 0 &&
             !memcmp(head, magic, 8) && get_u64(head + 8) == key;
    uint64_t n = ok ? get_u64(head + 16) : 0;
    /* A sane upper bound keeps a corrupted size field from asking for terabytes, and the file
     * must hold exactly the header and the payload. */
    if (ok && (n == 0 || n > (UINT64_C(1) << 31) || (uint64_t)st.st_size != n + sizeof head))
        ok = 0;
    if (ok) {
        unsigned char extra;
        data = malloc((size_t)n);
        ok = data && read_all(fd, data, (size_t)n) == 0 &&
             read(fd, &extra, 1) == 0 && /* nothing may follow the payload */
             smnn__hash(SMNN__FNV_SEED, data, (size_t)n) == get_u64(head + 24);
    }
    close(fd);
    if (!ok) {
        free(data);
        unlink(path); /* corrupt or truncated: drop it so the rebuilt binary replaces it */
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
    smnn__str_printf(&tmp, "%s/.%016llx.XXXXXX", dir, (unsigned long long)key);
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
    /* mkstemp: a new file (O_CREAT | O_EXCL, mode 0600) under an unpredictable name. */
    int fd = mkstemp(tmp.data);
    int ok = fd >= 0 && fchmod(fd, 0644) == 0 && write_all(fd, head, sizeof head) == 0 &&
             write_all(fd, data, size) == 0 && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    if (ok) ok = rename(tmp.data, path) == 0;
    if (!ok && fd >= 0) unlink(tmp.data);
    free(path);
    smnn__str_free(&tmp);
    return ok;
}
