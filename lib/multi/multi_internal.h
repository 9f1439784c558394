/* Internal state of a multi-device plan (multi.h). The files:
 *   contexts.c   contexts for a device list ("all", SPEC,SPEC,..., split:N)
 *   calibrate.c  throughput of a device on a shape, measured once per process
 *   plan.c       the split of the batch, one plan per part, queries and reports
 *   run.c        the blocking calls: one thread per part, staging, gathering, shared sums */
#ifndef SMNN_MULTI_INTERNAL_H
#define SMNN_MULTI_INTERNAL_H

#include "../internal.h"

typedef struct smnn__part {
    smnn_context *ctx;
    size_t first, count;
    smnn_plan_options opt; /* resolved for the whole batch on this device (smnn_plan_options_resolve) */
    smnn_plan *plan;       /* NULL when count is 0 */
    double throughput;
} smnn__part;

struct smnn_multi_plan {
    smnn_problem p;
    smnn_layout in[4];
    smnn_multi_options mopt;
    size_t nparts;
    smnn__part *parts;
    int factored; /* every part holds a factorization from the last solve or factor */
};

/* Systems x time points per second of a blocking solve of p's shape (at most 1024 systems and 64
 * time points) on ctx with the resolved options opt: median of three after a warm-up, cached per
 * device (name, platform, driver, compute units) and shape for the life of the process. */
smnn_status smnn__calibrate(smnn_context *ctx, const smnn_problem *p,
                            const smnn_plan_options *opt, double *throughput);

/* "part i of n (device 'NAME', systems a..b)" for messages. */
void smnn__part_name(const smnn_multi_plan *plan, size_t i, char *buf, size_t len);

#endif
