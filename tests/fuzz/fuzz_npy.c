/* Fuzz target: the .npy parser (any byte string must be parsed or refused, never crash, never
 * read past the input, never leak). */
#include <stddef.h>
#include <stdint.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    npy_array a;
    char err[256];
    if (npy_parse(data, size, &a, err, sizeof err) == 0) {
        /* Touch every value: the parser promised count of them. */
        volatile double sum = 0;
        for (size_t i = 0; i < a.count; i++) sum += a.data[i];
        (void)sum;
        npy_free(&a);
    }
    return 0;
}
