/* Throughput calibration for the measured split: a short blocking solve of the plan's shape on
 * each device, cached per device and shape for the life of the process (a second multi plan of
 * the same shape, or a second context on an identical device, measures nothing). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "multi_internal.h"

#define CAL_BATCH 1024
#define CAL_STEPS 64
#define CAL_RUNS 3
#define CACHE_LEN 64

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    uint64_t key;
    double throughput;
} cache[CACHE_LEN];
static size_t cache_used, cache_next;

/* Everything the measurement depends on: the device and the calibration problem's shape and
 * options (batch and steps are the calibration's own). */
static uint64_t cache_key(const smnn_device_info *d, const smnn_problem *p,
                          const smnn_plan_options *opt) {
    uint64_t h = SMNN__FNV_SEED;
    h = smnn__hash(h, d->device_name, strlen(d->device_name) + 1);
    h = smnn__hash(h, d->platform_name, strlen(d->platform_name) + 1);
    h = smnn__hash(h, d->driver_version, strlen(d->driver_version) + 1);
    h = smnn__hash(h, &d->compute_units, sizeof d->compute_units);
    size_t shape[] = {p->batch, p->steps, p->dims, p->orders, p->equations, p->init_steps,
                      p->init_orders, p->shared};
    h = smnn__hash(h, shape, sizeof shape);
    int o[] = {(int)opt->precision, (int)opt->variant, opt->systems_per_item,
               (int)opt->factorization, opt->refine_steps, opt->generic_kernels,
               opt->time_chunks};
    return smnn__hash(h, o, sizeof o);
}

static int cache_find(uint64_t key, double *throughput) {
    int found = 0;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cache_used && !found; i++)
        if (cache[i].key == key) {
            *throughput = cache[i].throughput;
            found = 1;
        }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

static void cache_put(uint64_t key, double throughput) {
    pthread_mutex_lock(&cache_lock);
    cache[cache_next].key = key;
    cache[cache_next].throughput = throughput;
    cache_next = (cache_next + 1) % CACHE_LEN;
    if (cache_used < CACHE_LEN) cache_used++;
    pthread_mutex_unlock(&cache_lock);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills n values of an input: a smooth, well-posed pattern (its exact values do not matter for
 * the time, only that no system fails and stops early). */
static void fill(double *x, size_t n, double base) {
    for (size_t i = 0; i < n; i++) x[i] = base / (1.0 + (double)(i % 7));
}

smnn_status smnn__calibrate(smnn_context *ctx, const smnn_problem *full,
                            const smnn_plan_options *full_opt, double *throughput) {
    smnn_problem p = *full;
    if (p.batch > CAL_BATCH) p.batch = CAL_BATCH;
    if (p.steps > CAL_STEPS) p.steps = CAL_STEPS;
    if (p.init_steps > p.steps) p.init_steps = p.steps;
    /* The whole batch's time chunks (parallel in time), as many as the calibration's shorter
     * horizon holds. */
    smnn_plan_options copy = *full_opt;
    const smnn_plan_options *opt = &copy;
    if (copy.time_chunks > 1 && (size_t)copy.time_chunks > (p.steps + 1) / 2)
        copy.time_chunks = (int)((p.steps + 1) / 2);
    uint64_t key = cache_key(&ctx->info, &p, opt);
    if (cache_find(key, throughput)) return SMNN_SUCCESS;

    size_t nc = smnn_problem_c_count(&p), nd = smnn_problem_d_count(&p),
           nu = smnn_problem_u_count(&p), ns = smnn_problem_s_count(&p),
           ny = smnn_problem_y_count(&p);
    double *buf = malloc((nc + nd + nu + ns + ny) * sizeof *buf);
    if (!buf) return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "calibration inputs");
    double *c = buf, *d = c + nc, *u = d + nd, *s = u + nu, *y = s + ns;
    fill(c, nc, 1.0);
    fill(d, nd, 0.5);
    fill(u, nu, 1.0);
    for (size_t i = 0; i < ns; i++) s[i] = 0.1;
    smnn_plan *plan = NULL;
    smnn_status st = smnn_plan_create(ctx, &p, opt, &plan);
    double t[CAL_RUNS];
    for (int r = -1; r < CAL_RUNS && st == SMNN_SUCCESS; r++) {
        double t0 = now_s();
        st = smnn_solve(plan, c, d, u, s, y);
        /* A failing or unconverged calibration system still ran the whole pipeline. */
        if (st == SMNN_ERROR_NOT_POSITIVE_DEFINITE || st == SMNN_ERROR_RANK_DEFICIENT ||
            st == SMNN_ERROR_NOT_CONVERGED) {
            smnn__clear_error();
            st = SMNN_SUCCESS;
        }
        if (r >= 0) t[r] = now_s() - t0;
    }
    smnn_plan_free(plan);
    free(buf);
    if (st != SMNN_SUCCESS) return st;
    qsort(t, CAL_RUNS, sizeof t[0], cmp_double);
    double med = t[CAL_RUNS / 2] > 1e-9 ? t[CAL_RUNS / 2] : 1e-9;
    *throughput = (double)p.batch * (double)p.steps / med;
    cache_put(key, *throughput);
    return SMNN_SUCCESS;
}
