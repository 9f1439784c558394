/* A strict reader and an atomic writer for NumPy .npy files (format versions 1.0, 2.0, 3.0).
 *
 * Accepted: little-endian float64 ('<f8') or float32 ('<f4') data in C order, any number of
 * dimensions up to NPY_MAX_DIMS. Everything else (Fortran order, other dtypes, big-endian,
 * malformed headers, truncated or excess data) is refused with a message that says why. */
#ifndef SMNN_NPY_H
#define SMNN_NPY_H

#include <stddef.h>

#define NPY_MAX_DIMS 8

typedef struct npy_array {
    int ndim;
    size_t shape[NPY_MAX_DIMS];
    size_t count;  /* product of the shape */
    int was_f32;   /* the file held float32 (the data is converted to double) */
    double *data;  /* count values, owned; free with npy_free */
} npy_array;

/* Parses an in-memory .npy image. Returns 0, or -1 with a message in err. */
int npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *err, size_t errlen);
/* Reads and parses a file. Returns 0, or -1 with a message in err naming the file. */
int npy_read(const char *path, npy_array *out, char *err, size_t errlen);
/* Writes count = prod(shape) values as '<f8' (or '<f4' when as_f32) to a temporary file in the
 * same folder, then renames it over path, so an existing file is replaced only by a complete
 * one and left untouched on any error. Returns 0, or -1 with a message in err. */
int npy_write(const char *path, const double *data, const size_t *shape, int ndim, int as_f32,
              char *err, size_t errlen);
void npy_free(npy_array *a);

#endif
