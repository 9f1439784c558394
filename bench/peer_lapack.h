/* LAPACK banded Cholesky peer for the benchmarks (see peer_lapack.c). */
#ifndef SMNN_PEER_LAPACK_H
#define SMNN_PEER_LAPACK_H

#include <stddef.h>

#include <smnn/smnn.h>

typedef struct peer_lapack {
    smnn_problem p;
    size_t N, ldab;
    double *ab, *work, *rhs, *x; /* per system: band matrix, its factor, rhs, solution */
} peer_lapack;

/* Assembles every system's band matrix and rhs (unshared inputs). Returns 0 or -1 (memory). */
int peer_lapack_prepare(const smnn_problem *p, const double *c, const double *d, const double *u,
                        const double *s, peer_lapack *out);
/* dpbtrf + dpbtrs on every system (OpenMP over the batch); x holds y. Returns the number of
 * systems LAPACK reported as failed. */
int peer_lapack_run(peer_lapack *pl);
void peer_lapack_free(peer_lapack *pl);

#endif
