/* Output files of the tools, written so that nothing is clobbered: one rule for every file a
 * tool writes (.npy results and gradients, PNG figures).
 *
 * The target path, after a symbolic link at its last component is followed (a dangling link is
 * refused), decides how it is written:
 *  - missing, or an existing regular file: the content goes to a new temporary file that
 *    mkstemp creates in the target's folder (O_CREAT | O_EXCL, so a link or file planted at
 *    any name is never followed or reused), is flushed to disk with fsync, given the final
 *    mode (an existing file keeps its permission bits, a new one gets 0666 & ~umask, as fopen
 *    would give it), and renamed over the target only when everything was written. On any
 *    failure the temporary is removed and the target is left as it was;
 *  - an existing character or block device or FIFO (/dev/null, a named pipe): written in place,
 *    never replaced (open without O_CREAT or O_TRUNC). The content is first staged in an
 *    anonymous temporary file and copied at commit, so a run that fails writes nothing there.
 *    Opening a FIFO for writing waits until a reader opens it, as a shell's `> fifo` does;
 *  - a directory, or anything else (a socket): refused;
 *  - a path with control characters (bytes below 0x20, 0x7f) is refused: such names are
 *    mistakes far more often than wishes, and they could break the scripts names travel in.
 *
 * Several outputs of one run are committed together (outfile_commit_all): every content is
 * staged first, and only when all of them were written completely are the in-place targets
 * written and the temporaries renamed. If staging fails for any output, no target is touched.
 * (A rename inside one folder cannot fail for reasons that staging did not already check, short
 * of the folder changing under the run; such a failure is reported, and outputs renamed before
 * it stay replaced.) */
#ifndef SMNN_OUTFILE_H
#define SMNN_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct outfile {
    char *target;   /* the path written at commit: the given one with a final link followed */
    char *tmp;      /* the temporary in the target's folder; NULL for in-place targets */
    FILE *f;        /* where the content goes: the temporary, or an anonymous scratch file */
    int in_place;   /* the target is a device or FIFO: copied into at commit */
    unsigned mode;  /* permission bits the temporary gets before the rename */
} outfile;

/* Checks that path can be written by the rules above without creating anything (folder exists,
 * not a directory, no control characters, no dangling link). Tools call it before long work.
 * Returns 0, or -1 with a message in err naming the path. */
int outfile_check(const char *path, char *err, size_t errlen);

/* Whether a and b name the same output file (after the rules above resolve them: same
 * resolved path, or the same file by device and inode). */
int outfile_same(const char *a, const char *b);

/* Starts an output: o->f is ready for writing. Returns 0, or -1 with a message in err (then
 * nothing is left behind and *o needs no discard). */
int outfile_open(outfile *o, const char *path, char *err, size_t errlen);

/* Finishes one output and commits it (outfile_commit_all with n = 1). */
int outfile_commit(outfile *o, char *err, size_t errlen);

/* Flushes, syncs and closes every staged content, then (all of them complete) writes the
 * in-place targets and renames the temporaries over their targets. On failure the remaining
 * temporaries are removed. Every outfile is released either way. Returns 0, or -1 with a
 * message in err. */
int outfile_commit_all(outfile *o, size_t n, char *err, size_t errlen);

/* Abandons an output: closes it, removes its temporary, releases it. Accepts a released or
 * zeroed outfile. */
void outfile_discard(outfile *o);

#endif
