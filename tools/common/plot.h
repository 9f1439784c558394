/* Runs gnuplot on a script and writes the figure it produces, for smnn-validate and
 * smnn-lorenz.
 *
 * No path the user gave ever enters the script: gnuplot writes the image to its standard
 * output, which is the output file's temporary (outfile.h: created with mkstemp, renamed over
 * the target only when gnuplot succeeded and wrote something). gnuplot is started with
 * posix_spawnp (no shell), reads the script from a pipe, and its messages go to the tool's
 * stderr; nothing it prints can reach the tool's stdout. The script must not contain
 * `set output`. Data files named in the script are the caller's own temporaries. */
#ifndef SMNN_PLOT_H
#define SMNN_PLOT_H

#include <stddef.h>
#include <stdio.h>

/* Runs gnuplot on script[0..len) and commits its output to png_path. Returns 0, or -1 with a
 * message in err (gnuplot missing, failing, or writing nothing; the output not writable), in
 * which case png_path is left as it was. */
int plot_run(const char *script, size_t len, const char *png_path, char *err, size_t errlen);

/* A data file for a figure's script: created exclusively under /tmp (mkstemp, "/tmp/smnn-" tool
 * "-XXXXXX": letters and digits only, safe inside the script's quotes) and opened for writing;
 * its name goes to path (PLOT_PATH_LEN bytes). Returns the stream, or NULL after a message on
 * stderr naming the tool. */
#define PLOT_PATH_LEN 64
FILE *plot_data_create(const char *tool, char *path);
/* Closes a data file; returns 0, or -1 after a message on stderr (the file removed) when a write
 * failed. */
int plot_data_close(const char *tool, FILE *f, const char *path);

/* A gnuplot script written into memory (open_memstream): write it through f. */
typedef struct plot_script {
    FILE *f;
    char *text;
    size_t len;
} plot_script;
/* Opens a script. Returns 0, or -1 (data_path, the figure's data file, removed). */
int plot_script_open(plot_script *s, const char *data_path);
/* Ends the script, runs it (plot_run) into png_path, frees it and removes data_path. Returns 0,
 * or -1 after "smnn-TOOL: --plot: ..." on stderr. */
int plot_script_run(const char *tool, plot_script *s, const char *png_path,
                    const char *data_path);

#endif
