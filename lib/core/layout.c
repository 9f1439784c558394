/* The layout of each input (sharing across the batch and/or time -> shape, element count,
 * strides, gradient reduction): the one place where the sharing rules are written. The plan
 * computes the four layouts once; validation, the kernels' stride arguments, the gradient
 * reductions and the tools (through smnn_problem_layout) read them. */
#include <string.h>

#include "../internal.h"

/* Every check of smnn_problem_validate (sizes, weights, flags, overflow of every count and byte
 * count), without recording an error: the counts return 0 for any invalid problem. */
static int quiet_valid(const smnn_problem *p) {
    return smnn__problem_check(p, NULL, 0) == SMNN_SUCCESS;
}

static void layout_one(const smnn_problem *p, smnn_input which, smnn_layout *L) {
    static const unsigned batch_flag[4] = {SMNN_SHARE_C_BATCH, SMNN_SHARE_D_BATCH,
                                           SMNN_SHARE_U_BATCH, SMNN_SHARE_S_BATCH};
    static const unsigned time_flag[4] = {SMNN_SHARE_C_TIME, SMNN_SHARE_D_TIME,
                                          SMNN_SHARE_U_TIME, SMNN_SHARE_S_TIME};
    memset(L, 0, sizeof *L);
    L->full_batch = p->batch;
    L->shared_batch = !!(p->shared & batch_flag[which]);
    L->shared_time = !!(p->shared & time_flag[which]);
    /* The row of one system and time point, and its trailing dimensions as given. */
    size_t tail[3], ntail;
    switch (which) {
    case SMNN_INPUT_C:
        L->full_time = p->steps;
        tail[0] = p->equations, tail[1] = p->dims, tail[2] = p->orders, ntail = 3;
        break;
    case SMNN_INPUT_D:
        L->full_time = p->steps;
        tail[0] = p->equations, ntail = 1;
        break;
    case SMNN_INPUT_U:
        L->full_time = p->init_steps;
        tail[0] = p->dims, tail[1] = p->init_orders, ntail = 2;
        break;
    default:
        L->full_time = p->steps - 1;
        ntail = 0;
        break;
    }
    L->row = 1;
    for (size_t k = 0; k < ntail; k++) L->row *= tail[k];
    size_t nb = L->shared_batch ? 1 : L->full_batch, nt = L->shared_time ? 1 : L->full_time;
    L->rank = 2 + ntail;
    L->shape[0] = nb;
    L->shape[1] = nt;
    for (size_t k = 0; k < ntail; k++) L->shape[2 + k] = tail[k];
    L->count = nb * nt * L->row;
    L->time_stride = L->shared_time ? 0 : L->row;
    L->batch_stride = L->shared_batch ? 0 : nt * L->row;
}

void smnn__layouts(const smnn_problem *p, smnn_layout out[4]) {
    for (int i = 0; i < 4; i++) layout_one(p, (smnn_input)i, &out[i]);
}

smnn_status smnn_problem_layout(const smnn_problem *p, smnn_input which, smnn_layout *out) {
    if (!out) return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    FORWARD_IF_ERROR(smnn_problem_validate(p));
    if ((unsigned)which > SMNN_INPUT_S)
        return FAIL_HERE(SMNN_ERROR_INVALID_ARGUMENT, "input %d is not an smnn_input", (int)which);
    layout_one(p, which, out);
    return SMNN_SUCCESS;
}

static size_t count_of(const smnn_problem *p, smnn_input which) {
    if (!quiet_valid(p)) return 0;
    smnn_layout L;
    layout_one(p, which, &L);
    return L.count;
}

size_t smnn_problem_c_count(const smnn_problem *p) {
    return count_of(p, SMNN_INPUT_C);
}

size_t smnn_problem_d_count(const smnn_problem *p) {
    return count_of(p, SMNN_INPUT_D);
}

size_t smnn_problem_u_count(const smnn_problem *p) {
    return count_of(p, SMNN_INPUT_U);
}

size_t smnn_problem_s_count(const smnn_problem *p) {
    return count_of(p, SMNN_INPUT_S);
}

size_t smnn_problem_y_count(const smnn_problem *p) {
    if (!quiet_valid(p)) return 0;
    return p->batch * p->steps * p->dims * p->orders;
}
