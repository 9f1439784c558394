/* A strict reader and an atomic writer for NumPy .npy files (format versions 1.0, 2.0, 3.0).
 *
 * Accepted: little-endian float64 ('<f8') or float32 ('<f4') data in C order, any number of
 * dimensions up to NPY_MAX_DIMS. Everything else (Fortran order, other dtypes, big-endian,
 * malformed headers, truncated or excess data) is refused with a message that says why. */
#ifndef SMNN_NPY_H
#define SMNN_NPY_H

#include <stddef.h>
#include <stdio.h>

#define NPY_MAX_DIMS 8

typedef struct npy_array {
    int ndim;
    size_t shape[NPY_MAX_DIMS];
    size_t count;  /* product of the shape */
    int was_f32;   /* the file held float32 (the data is converted to double) */
    double *data;  /* count values, owned; free with npy_free */
} npy_array;

/* Parses an in-memory .npy image. Returns 0, or -1 with a message in err. The header must be
 * the dict numpy writes: exactly the keys 'descr', 'fortran_order' and 'shape', each once;
 * fortran_order exactly True or False; shape a tuple of plain decimal integers. */
int npy_parse(const unsigned char *buf, size_t len, npy_array *out, char *err, size_t errlen);
/* Reads and parses a file. Returns 0, or -1 with a message in err naming the file. Nothing
 * beyond what the header promises is read: a regular file's size must match the promise
 * (checked before the data is read); a pipe or device is read only up to the promise (and one
 * byte more, to detect excess data), and a promise above NPY_STREAM_MAX bytes is refused
 * there, so /dev/zero or an endless pipe is refused instead of read until memory runs out. */
int npy_read(const char *path, npy_array *out, char *err, size_t errlen);
#define NPY_STREAM_MAX ((size_t)1 << 32)
/* Writes count = prod(shape) values as '<f8' (or '<f4' when as_f32) through outfile.h's rules:
 * a regular target is replaced only by a complete file (temporary made with mkstemp in the same
 * folder, then renamed) and left untouched on any error; a device or FIFO is written in place;
 * a directory is refused. Returns 0, or -1 with a message in err. */
int npy_write(const char *path, const double *data, const size_t *shape, int ndim, int as_f32,
              char *err, size_t errlen);
/* Writes the .npy image to an open stream (for outputs committed together, outfile.h).
 * Returns 0, or -1 when a write fails or the shape is invalid. */
int npy_write_stream(FILE *f, const double *data, const size_t *shape, int ndim, int as_f32);
/* Reads rows first .. first + count - 1 of the leading dimension of a regular .npy file (the
 * header and the file size checked as npy_read checks them; only those rows' bytes are read):
 * out->shape[0] is count and out->count the values read. Returns 0, or
 * -1 with a message in err naming the file. */
int npy_read_rows(const char *path, size_t first, size_t count, npy_array *out, char *err,
                  size_t errlen);
/* The header of a regular .npy file, checked as npy_read_rows checks it (file size included):
 * shape, count and dtype, no data (out->data NULL). Returns 0, or -1 with a message in err. */
int npy_read_header(const char *path, npy_array *out, char *err, size_t errlen);
/* The header of a '<f8' (or '<f4') C-order array of the shape, into buf (at most cap bytes):
 * returns its length (the data starts there; a multiple of 64), 0 when the shape overflows or
 * cap is too small. NPY_HEADER_MAX bytes always suffice. */
#define NPY_HEADER_MAX 576
size_t npy_header(const size_t *shape, int ndim, int as_f32, unsigned char *buf, size_t cap);
/* The count values of data as the file's bytes ('<f8', or '<f4' when as_f32) into out
 * (count * 8 or 4 bytes). */
void npy_encode(const double *data, size_t count, int as_f32, unsigned char *out);
void npy_free(npy_array *a);

#endif
