/* Output files that are replaced only by complete content and never through a planted link;
 * see outfile.h for the rules. */
#define _GNU_SOURCE /* realpath, mkostemp, strndup */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERR(...)                                                                                   \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

enum kind { K_NEW, K_REPLACE, K_IN_PLACE };

typedef struct resolved {
    char *target; /* malloc'ed */
    enum kind kind;
    struct stat st; /* of the existing target (K_REPLACE, K_IN_PLACE) */
} resolved;

static int has_control(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f) return 1;
    return 0;
}

/* Splits path into a malloc'ed folder ("." when there is none) and a pointer to the last
 * component (empty when the path ends in '/'). */
static char *folder_of(const char *path, const char **base) {
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int resolve(const char *path, resolved *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    if (!*path) ERR("the output path is empty");
    if (has_control(path)) ERR("output path has a control character (refused): use a plain name");
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) ERR("%s: %s", path, strerror(errno));
        const char *base;
        char *folder = folder_of(path, &base);
        if (!folder) ERR("out of memory");
        if (!*base) {
            free(folder);
            ERR("%s: names a folder, not a file", path);
        }
        char *real = realpath(folder, NULL);
        struct stat fs;
        if (!real || stat(real, &fs) != 0 || !S_ISDIR(fs.st_mode)) {
            int e = real ? ENOTDIR : errno;
            free(real);
            snprintf(err, errlen, "%s: cannot write there: folder %s: %s", path, folder,
                     strerror(e));
            free(folder);
            return -1;
        }
        free(folder);
        size_t n = strlen(real) + strlen(base) + 2;
        r->target = malloc(n);
        if (!r->target) {
            free(real);
            ERR("out of memory");
        }
        snprintf(r->target, n, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
        free(real);
        r->kind = K_NEW;
        return 0;
    }
    if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
        ERR("%s: is a symbolic link to a missing file (refused: name the file itself)", path);
    if (S_ISDIR(st.st_mode)) ERR("%s: is a directory", path);
    if (S_ISREG(st.st_mode))
        r->kind = K_REPLACE;
    else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))
        r->kind = K_IN_PLACE;
    else
        ERR("%s: is neither a regular file, a device nor a FIFO", path);
    r->st = st;
    /* A link through /proc (/dev/stdout onto a pipe) has no path to resolve to: keep the name. */
    r->target = realpath(path, NULL);
    if (!r->target) r->target = strdup(path);
    if (!r->target) ERR("out of memory");
    return 0;
}

int outfile_check(const char *path, char *err, size_t errlen) {
    resolved r;
    if (resolve(path, &r, err, errlen) != 0) return -1;
    free(r.target);
    return 0;
}

int outfile_same(const char *a, const char *b) {
    if (!strcmp(a, b)) return 1;
    char e[8];
    resolved ra, rb;
    if (resolve(a, &ra, e, sizeof e) != 0) return 0;
    if (resolve(b, &rb, e, sizeof e) != 0) {
        free(ra.target);
        return 0;
    }
    int same = !strcmp(ra.target, rb.target) ||
               (ra.kind != K_NEW && rb.kind != K_NEW && ra.st.st_dev == rb.st.st_dev &&
                ra.st.st_ino == rb.st.st_ino);
    free(ra.target);
    free(rb.target);
    return same;
}

int outfile_open(outfile *o, const char *path, char *err, size_t errlen) {
    memset(o, 0, sizeof *o);
    resolved r;
    if (resolve(path, &r, err, errlen) != 0) return -1;
    o->target = r.target;
    if (r.kind == K_IN_PLACE) {
        o->in_place = 1;
        o->f = tmpfile();
        if (!o->f) {
            snprintf(err, errlen, "%s: cannot create a scratch file: %s", path, strerror(errno));
            outfile_discard(o);
            return -1;
        }
        return 0;
    }
    mode_t mask = umask(0);
    umask(mask);
    o->mode = r.kind == K_REPLACE ? (unsigned)(r.st.st_mode & 07777) : (unsigned)(0666 & ~mask);
    const char *base;
    char *folder = folder_of(o->target, &base);
    size_t n = folder ? strlen(folder) + 32 : 0;
    o->tmp = folder ? malloc(n) : NULL;
    if (!o->tmp) {
        free(folder);
        outfile_discard(o);
        ERR("out of memory");
    }
    snprintf(o->tmp, n, "%s/.smnn-tmp-XXXXXX", folder);
    free(folder);
    int fd = mkostemp(o->tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file next to it: %s", path,
                 strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        outfile_discard(o);
        return -1;
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        outfile_discard(o);
        return -1;
    }
    return 0;
}

/* Flushes the staged content; for a temporary also syncs it, sets its mode and closes it. */
static int finish(outfile *o, char *err, size_t errlen) {
    if (fflush(o->f) != 0 || ferror(o->f)) ERR("%s: write failed: %s", o->target, strerror(errno));
    if (o->in_place) return 0;
    int fd = fileno(o->f);
    if (fsync(fd) != 0) ERR("%s: write failed: %s", o->target, strerror(errno));
    if (fchmod(fd, (mode_t)o->mode) != 0) ERR("%s: cannot set its mode: %s", o->target, strerror(errno));
    FILE *f = o->f;
    o->f = NULL;
    if (fclose(f) != 0) ERR("%s: write failed: %s", o->target, strerror(errno));
    return 0;
}

/* Copies the staged content into the device or FIFO at the target. */
static int copy_in_place(outfile *o, char *err, size_t errlen) {
    int in = fileno(o->f);
    if (lseek(in, 0, SEEK_SET) != 0) ERR("%s: %s", o->target, strerror(errno));
    int out = open(o->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (out < 0) ERR("%s: cannot open: %s", o->target, strerror(errno));
    struct stat st;
    if (fstat(out, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        close(out);
        ERR("%s: changed while the run was writing it (now a regular file or folder)", o->target);
    }
    char buf[65536];
    for (;;) {
        ssize_t got = read(in, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            close(out);
            ERR("%s: %s", o->target, strerror(errno));
        }
        if (got == 0) break;
        for (ssize_t done = 0; done < got;) {
            ssize_t w = write(out, buf + done, (size_t)(got - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                int e = w < 0 ? errno : EIO;
                close(out);
                ERR("%s: write failed: %s", o->target, strerror(e));
            }
            done += w;
        }
    }
    if (close(out) != 0) ERR("%s: write failed: %s", o->target, strerror(errno));
    return 0;
}

int outfile_commit_all(outfile *o, size_t n, char *err, size_t errlen) {
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) rc = finish(&o[i], err, errlen);
    /* Devices and FIFOs first: they cannot be taken back, but a failure there (a full device,
     * a reader that went away) still leaves every regular target as it was. */
    for (size_t i = 0; i < n && rc == 0; i++)
        if (o[i].in_place) rc = copy_in_place(&o[i], err, errlen);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (o[i].in_place) continue;
        if (rename(o[i].tmp, o[i].target) != 0) {
            snprintf(err, errlen, "%s: cannot replace it: %s", o[i].target, strerror(errno));
            rc = -1;
            break;
        }
        free(o[i].tmp);
        o[i].tmp = NULL;
    }
    for (size_t i = 0; i < n; i++) outfile_discard(&o[i]);
    return rc;
}

int outfile_commit(outfile *o, char *err, size_t errlen) {
    return outfile_commit_all(o, 1, err, errlen);
}

void outfile_discard(outfile *o) {
    if (!o) return;
    if (o->f) fclose(o->f);
    if (o->tmp) unlink(o->tmp);
    free(o->tmp);
    free(o->target);
    memset(o, 0, sizeof *o);
}
