/* Fuzz target: the dense reference's argument checking and solve on small problems whose sizes,
 * sharing, weights and input values (NaN, Inf, zero and negative steps included) come from the
 * input, under a 4 MiB memory cap. It must refuse or solve, never crash; on refusal y is
 * untouched. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smnn/smnn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 12) return 0;
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = 1 + data[0] % 3;
    p.steps = data[1] % 9; /* 0 and 1 are invalid on purpose */
    p.dims = data[2] % 4;
    p.orders = data[3] % 5;
    p.equations = data[4] % 4;
    p.init_steps = data[5] % 4;
    p.init_orders = data[6] % 5;
    p.shared = data[7];
    static const double weights[] = {1, 0.5, 2, 0, -1, NAN, INFINITY, 1e-300, 1e300};
    p.w_gov = weights[data[8] % 9];
    p.w_init = weights[data[9] % 9];
    p.w_smooth = weights[data[10] % 9];
    const uint8_t *vals = data + 11;
    size_t nvals = size - 11;
    size_t counts[4] = {smnn_problem_c_count(&p), smnn_problem_d_count(&p),
                        smnn_problem_u_count(&p), smnn_problem_s_count(&p)};
    double *in[4];
    size_t k = 0;
    static const double specials[] = {NAN, INFINITY, -INFINITY, 0, -0.5, 1e-300, 1e300};
    for (int i = 0; i < 4; i++) {
        in[i] = malloc((counts[i] ? counts[i] : 1) * sizeof(double));
        for (size_t j = 0; j < counts[i]; j++, k++) {
            uint8_t b = vals[k % nvals];
            in[i][j] = b >= 249 ? specials[b - 249] : (double)b / 64.0 + (i == 3 ? 0.05 : -2.0);
        }
    }
    size_t ny = smnn_problem_y_count(&p);
    double *y = malloc((ny ? ny : 1) * sizeof *y);
    for (size_t j = 0; j < ny; j++) y[j] = 12345.0;
    smnn_status st = smnn_reference_solve(&p, in[0], in[1], in[2], in[3], y, (size_t)4 << 20);
    if (st != SMNN_SUCCESS)
        for (size_t j = 0; j < ny; j++)
            if (y[j] != 12345.0) abort(); /* a refused call wrote to y */
    for (int i = 0; i < 4; i++) free(in[i]);
    free(y);
    return 0;
}
