/* The command line and the input shapes of smnn-solve and its MPI build smnn-solve-mpi: one
 * parser, one usage text and one rule for deriving the problem from the .npy shapes, so that
 * both tools accept the same inputs and options. */
#ifndef SMNN_SOLVEARGS_H
#define SMNN_SOLVEARGS_H

#include <stddef.h>
#include <stdio.h>

#include <smnn/smnn.h>

#include "npy.h"

typedef struct solve_args {
    const char *prog;     /* "smnn-solve" or "smnn-solve-mpi", for messages */
    int mpi;              /* the MPI tool's options (no --reference, --devices, --split) */
    const char *files[5]; /* c, d, u, s, out */
    const char *device, *devices, *grad_y_file, *grad_prefix;
    size_t n_steps;
    smnn_problem p; /* weights from the options; sizes set by solve_problem_infer */
    smnn_plan_options opt;
    smnn_multi_options mopt;
    int use_reference;
    /* The output paths (y, then the four gradients with --grad-out) after
     * solve_outputs_prepare. */
    const char *outs[5];
    size_t n_out;
    char grad_path[4][4096];
} solve_args;

/* Parses argv into *a. Returns -1 to go on, or the exit code to end with: 0 after --help, 2
 * after bad usage (the message printed). */
int solve_args_parse(int argc, char **argv, int mpi, solve_args *a);

/* Names the outputs (--out, and PREFIX-coefficients.npy ... with --grad-out) and checks them
 * before any work: distinct files, writable places (outfile_check). Returns 0, or the exit code
 * (2 usage, 1 an output that cannot be written), the message printed. */
int solve_outputs_prepare(solve_args *a);

/* The problem that the shapes of c, d, u, s (a[0..4), data not needed) describe, with T from
 * the shapes or n_steps, the batch and time sharing from their size-1 dimensions, into a->p
 * (weights kept). Every input must then have exactly the layout smnn_problem_layout gives.
 * Returns 0, or -1 with the message printed. */
int solve_problem_infer(const npy_array a[4], solve_args *a_args);

/* "(d0, d1, ...)" of an array's shape into p (at least 8 * 22 bytes). Returns p. */
const char *solve_shape_str(const npy_array *a, char *p);

#endif
