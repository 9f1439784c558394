/* gnuplot without a shell and without the user's paths in its script; see plot.h. */
#define _GNU_SOURCE
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outfile.h"

extern char **environ;

int plot_run(const char *script, size_t len, const char *png_path, char *err, size_t errlen) {
    outfile o;
    if (outfile_open(&o, png_path, err, errlen) != 0) return -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot start gnuplot: %s", strerror(errno));
        outfile_discard(&o);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], 0);
    posix_spawn_file_actions_adddup2(&fa, fileno(o.f), 1);
    char *argv[] = {(char *)"gnuplot", NULL};
    pid_t pid;
    int e = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    if (e != 0) {
        close(p[1]);
        snprintf(err, errlen, "cannot start gnuplot: %s (install gnuplot with the pngcairo "
                 "terminal: apt-get install gnuplot-nox)", strerror(e));
        outfile_discard(&o);
        return -1;
    }
    /* gnuplot may stop reading early (an error in the script): a broken pipe is its failure to
     * report, not a signal that ends this tool. */
    struct sigaction ign = {0}, old;
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(p[1], script + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    close(p[1]);
    sigaction(SIGPIPE, &old, NULL);
    int status = 127 << 8;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || done < len) {
        if (WIFEXITED(status))
            snprintf(err, errlen, "gnuplot failed (exit status %d; its messages are above)",
                     WEXITSTATUS(status));
        else
            snprintf(err, errlen, "gnuplot was killed by signal %d", WTERMSIG(status));
        outfile_discard(&o);
        return -1;
    }
    struct stat st;
    if (fflush(o.f) != 0 || fstat(fileno(o.f), &st) != 0 || st.st_size == 0) {
        snprintf(err, errlen, "gnuplot wrote no image");
        outfile_discard(&o);
        return -1;
    }
    return outfile_commit(&o, err, errlen);
}

FILE *plot_data_create(const char *tool, char *path) {
    snprintf(path, PLOT_PATH_LEN, "/tmp/smnn-%s-XXXXXX", tool);
    int fd = mkstemp(path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        fprintf(stderr, "smnn-%s: cannot create the plot's data file: %s\n", tool,
                strerror(errno));
        if (fd >= 0) {
            close(fd);
            remove(path);
        }
    }
    return f;
}

int plot_data_close(const char *tool, FILE *f, const char *path) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "smnn-%s: cannot write the plot's data file %s\n", tool, path);
        remove(path);
        return -1;
    }
    return 0;
}

int plot_script_open(plot_script *s, const char *data_path) {
    s->text = NULL;
    s->len = 0;
    s->f = open_memstream(&s->text, &s->len);
    if (s->f) return 0;
    remove(data_path);
    return -1;
}

int plot_script_run(const char *tool, plot_script *s, const char *png_path,
                    const char *data_path) {
    int rc = fclose(s->f) == 0 ? 0 : -1;
    char err[512];
    if (rc == 0 && plot_run(s->text, s->len, png_path, err, sizeof err) != 0) {
        fprintf(stderr, "smnn-%s: --plot: %s\n", tool, err);
        rc = -1;
    }
    free(s->text);
    remove(data_path);
    return rc;
}
