/* Hardening of the library (issue 13): each test is one class of hostile input or misuse.
 *
 *   threads   8 threads creating contexts at once as the process's first OpenCL use (runs first,
 *             before anything else in this binary touches OpenCL)
 *   cache     links at the kernel cache's temporary and entry names are never written through;
 *             a FIFO, link or folder at an entry's name is ignored, never waited on
 *   sizes     element and byte counts that wrap: refused by validation, every count 0
 *   memory    workspace totals beyond the device's memory, failure codes beyond one allocation
 *   state     failure reports before any factorization, after a failed wait-list event
 *   objects   buffers and events of another OpenCL context, NULL events in wait lists
 *   bits      the same system solved in batches of 7, 8 and 37, whole and chunked: bit-identical
 *             at one systems_per_item; an explicit width is never changed
 *   range     values beyond the float range in single-precision plans
 *   reference the memory cap (all of it, parsed strictly), huge w_init, rank deficiency, grad_y
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

#define ASSERT_ERROR_MENTIONS(text)                                                                \
    do {                                                                                           \
        if (!strstr(smnn_last_error(), (text)))                                                    \
            fail_msg("last error does not mention '%s': %s", (text), smnn_last_error());         \
    } while (0)

/* ---- threads: first OpenCL use from 8 threads at once ------------------------------------- */

#define NTHREADS 8
static pthread_barrier_t start_line;

static void *create_and_free(void *arg) {
    smnn_status *st = arg;
    pthread_barrier_wait(&start_line);
    smnn_context *ctx = NULL;
    *st = smnn_context_create(NULL, &ctx);
    smnn_context_free(ctx);
    return NULL;
}

/* Before the fix, PoCL's first-time setup, reached from device listing, crashed in most runs.
 * This is the binary's first test: nothing has touched OpenCL yet. */
static void test_threads_first_use(void **state) {
    (void)state;
    for (int round = 0; round < 3; round++) {
        pthread_t th[NTHREADS];
        smnn_status st[NTHREADS];
        assert_int_equal(pthread_barrier_init(&start_line, NULL, NTHREADS), 0);
        for (int i = 0; i < NTHREADS; i++)
            assert_int_equal(pthread_create(&th[i], NULL, create_and_free, &st[i]), 0);
        for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start_line);
        for (int i = 0; i < NTHREADS; i++) assert_status(st[i], SMNN_SUCCESS);
    }
}

/* ---- cache: links, FIFOs and folders in the cache folder ---------------------------------- */

static char cache_dir[128];

static void fresh_cache_dir(void) {
    snprintf(cache_dir, sizeof cache_dir, "/tmp/smnn-hardening-%ld", (long)getpid());
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", cache_dir, cache_dir);
    assert_int_equal(system(cmd), 0);
    setenv("SMNN_CACHE_DIR", cache_dir, 1);
    unsetenv("SMNN_CACHE_DISABLE");
}

static void remove_cache_dir(void) {
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf %s", cache_dir);
    assert_int_equal(system(cmd), 0);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int file_is(const char *path, const char *text) {
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strcmp(buf, text) == 0;
}

/* Names in the cache folder that start with '.' (temporary files), links excluded. */
static int count_temporaries(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(find %s -maxdepth 1 -name '.*' -type f | wc -l) -eq 0",
             cache_dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void test_cache_never_writes_through_links(void **state) {
    (void)state;
    fresh_cache_dir();
    const uint64_t key = UINT64_C(0x0123456789abcdef);
    const unsigned char data[] = "a program binary";
    char precious[300], dangling[300], tmp_old[300], entry[300];
    snprintf(precious, sizeof precious, "%s-precious.txt", cache_dir);
    snprintf(dangling, sizeof dangling, "%s-created.txt", cache_dir);
    write_text(precious, "precious");
    unlink(dangling);
    /* The old scheme's temporary name, ".KEY.PID.tmp": a link to a file the user owns. */
    snprintf(tmp_old, sizeof tmp_old, "%s/.%016llx.%ld.tmp", cache_dir, (unsigned long long)key,
             (long)getpid());
    assert_int_equal(symlink(precious, tmp_old), 0);
    assert_int_equal(smnn__cache_store(key, data, sizeof data), 1);
    assert_true(file_is(precious, "precious"));
    /* A dangling link there: nothing may be created at its target. */
    unlink(tmp_old);
    assert_int_equal(symlink(dangling, tmp_old), 0);
    assert_int_equal(smnn__cache_store(key, data, sizeof data), 1);
    struct stat st;
    assert_int_not_equal(lstat(dangling, &st), 0);
    /* A link at the entry's own name is replaced by the entry, never written through. */
    snprintf(entry, sizeof entry, "%s/%016llx.bin", cache_dir, (unsigned long long)key);
    unlink(entry);
    assert_int_equal(symlink(precious, entry), 0);
    assert_int_equal(smnn__cache_store(key, data, sizeof data), 1);
    assert_true(file_is(precious, "precious"));
    assert_int_equal(lstat(entry, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0644);
    size_t size = 0;
    unsigned char *back = smnn__cache_load(key, &size);
    assert_non_null(back);
    assert_int_equal(size, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    free(back);
    /* Every store left no temporary file behind, and one that cannot be renamed (a folder at
     * the entry's name) neither. */
    assert_int_equal(count_temporaries(), 0);
    const uint64_t key2 = key + 1;
    char folder[300];
    snprintf(folder, sizeof folder, "%s/%016llx.bin", cache_dir, (unsigned long long)key2);
    assert_int_equal(mkdir(folder, 0755), 0);
    assert_int_equal(smnn__cache_store(key2, data, sizeof data), 0);
    assert_null(smnn__cache_load(key2, &size));
    assert_int_equal(count_temporaries(), 0);
    assert_int_equal(lstat(folder, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    unlink(precious);
    remove_cache_dir();
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "opening a cache entry blocked: FIFO not refused\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

/* The name of the one entry in the cache folder. */
static void only_entry(char *out, size_t len) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s/*.bin", cache_dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, (int)len, f));
    pclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static void test_cache_ignores_non_regular_entries(void **state) {
    (void)state;
    fresh_cache_dir();
    signal(SIGALRM, on_alarm);
    alarm(120);
    const uint64_t key = UINT64_C(0xfeedface00c0ffee);
    const unsigned char data[] = "binary";
    char entry[300], elsewhere[300];
    snprintf(entry, sizeof entry, "%s/%016llx.bin", cache_dir, (unsigned long long)key);
    size_t size;
    /* A FIFO: not opened for a blocking read, ignored, then replaced by the next store. */
    assert_int_equal(mkfifo(entry, 0644), 0);
    assert_null(smnn__cache_load(key, &size));
    assert_int_equal(smnn__cache_store(key, data, sizeof data), 1);
    unsigned char *back = smnn__cache_load(key, &size);
    assert_non_null(back);
    free(back);
    /* A link to a valid entry elsewhere, to a device and to a FIFO elsewhere: links are not
     * entries. */
    snprintf(elsewhere, sizeof elsewhere, "%s-entry.bin", cache_dir);
    assert_int_equal(rename(entry, elsewhere), 0);
    const char *targets[] = {elsewhere, "/dev/zero", NULL};
    char fifo[300];
    snprintf(fifo, sizeof fifo, "%s-fifo", cache_dir);
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    targets[2] = fifo;
    for (int i = 0; i < 3; i++) {
        unlink(entry);
        assert_int_equal(symlink(targets[i], entry), 0);
        assert_null(smnn__cache_load(key, &size));
    }
    unlink(entry);
    unlink(elsewhere);
    unlink(fifo);
    /* A folder at the entry's name. */
    assert_int_equal(mkdir(entry, 0755), 0);
    assert_null(smnn__cache_load(key, &size));
    rmdir(entry);
    /* End to end: a FIFO at a real program's entry makes the next build come from source (not
     * hang), and that build's store replaces it. */
    char tag[32], path[400];
    snprintf(tag, sizeof tag, "fifo%ld", (long)getpid());
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_SOURCE);
    only_entry(path, sizeof path);
    unlink(path);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_SOURCE);
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_DISK);
    alarm(0);
    remove_cache_dir();
    unsetenv("SMNN_CACHE_DIR");
}

/* ---- sizes: element and byte counts that wrap --------------------------------------------- */

static void test_sizes_that_wrap(void **state) {
    (void)state;
    const size_t G = (size_t)1 << 30;
    const struct {
        size_t B, T, V, R1, Q, Ti;
        unsigned shared;
        smnn_status want;
        const char *names;
    } cases[] = {
        /* the example: c = 2^62 doubles = 2^65 bytes, which wrapped to 0 */
        {G, 2, 1, 2, G, 1, 0, SMNN_ERROR_TOO_LARGE, "c needs"},
        /* the same with c shared over time: its full layout (the gradient's) still wraps */
        {G, 2, 1, 2, G, 1, SMNN_SHARE_C_TIME, SMNN_ERROR_TOO_LARGE, "c needs"},
        /* d = B T Q = 2^61 doubles = 2^64 bytes */
        {G, G / 2, 1, 1, 4, 1, SMNN_SHARE_C_BATCH | SMNN_SHARE_C_TIME, SMNN_ERROR_TOO_LARGE,
         "needs"},
        /* y = B T V n_orders = 2^62 doubles */
        {G, G, 4, 1, 1, 1, SMNN_SHARE_C_BATCH, SMNN_ERROR_TOO_LARGE, "needs"},
        /* u = B T_init V n_init_orders */
        {G, G, 1, 1, 1, G, 0, SMNN_ERROR_TOO_LARGE, "needs"},
        /* the workspace: B T (n(n+1)/2 + n^2 + n) with every input countable */
        {G, G / 2, 1, 2, 1, 1, 0, SMNN_ERROR_TOO_LARGE, "workspace"},
        /* the other examples: sizes beyond the per-field limit */
        {1, ((size_t)1 << 62) + 1, 1, 4, 1, 1, 0, SMNN_ERROR_INVALID_ARGUMENT, "steps"},
        {SIZE_MAX, 2, 1, 1, 1, 1, 0, SMNN_ERROR_INVALID_ARGUMENT, "batch"},
        {2, SIZE_MAX / 2 + 1, 1, 1, 1, 1, 0, SMNN_ERROR_INVALID_ARGUMENT, "steps"},
        {3, 5, 1, 1, SIZE_MAX / 3, 1, 0, SMNN_ERROR_INVALID_ARGUMENT, "equations"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        smnn_problem p;
        smnn_problem_init(&p);
        p.batch = cases[i].B;
        p.steps = cases[i].T;
        p.dims = cases[i].V;
        p.orders = cases[i].R1;
        p.equations = cases[i].Q;
        p.init_steps = cases[i].Ti;
        p.shared = cases[i].shared;
        smnn_status st = smnn_problem_validate(&p);
        if (st != cases[i].want)
            fail_msg("case %zu: validate returned %s, expected %s (%s)", i, smnn_status_name(st),
                     smnn_status_name(cases[i].want), smnn_last_error());
        ASSERT_ERROR_MENTIONS(cases[i].names);
        assert_int_equal(smnn_problem_c_count(&p), 0);
        assert_int_equal(smnn_problem_d_count(&p), 0);
        assert_int_equal(smnn_problem_u_count(&p), 0);
        assert_int_equal(smnn_problem_s_count(&p), 0);
        assert_int_equal(smnn_problem_y_count(&p), 0);
        assert_int_equal(smnn_reference_bytes(&p), 0);
        smnn_layout L;
        assert_int_not_equal(smnn_problem_layout(&p, SMNN_INPUT_C, &L), SMNN_SUCCESS);
        smnn_plan *plan = NULL;
        assert_int_not_equal(smnn_plan_create(test_context(), &p, NULL, &plan), SMNN_SUCCESS);
        assert_null(plan);
    }
    /* Large problems that do fit keep exact counts. */
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = G;
    p.steps = 1024;
    p.dims = 2;
    p.orders = 3;
    p.equations = 2;
    p.shared = SMNN_SHARE_C_BATCH;
    assert_status(smnn_problem_validate(&p), SMNN_SUCCESS);
    assert_int_equal(smnn_problem_c_count(&p), 1024 * 2 * 2 * 3);
    assert_int_equal(smnn_problem_y_count(&p), G * 1024 * 6);
    assert_int_equal(smnn_problem_d_count(&p), G * 1024 * 2);
    /* Its dense reference would need more than the address space: SIZE_MAX, never wrapped. */
    p.steps = G;
    p.dims = 64;
    p.orders = 1;
    p.batch = 1;
    assert_status(smnn_problem_validate(&p), SMNN_SUCCESS);
    assert_int_equal(smnn_reference_bytes(&p), SIZE_MAX);
}

/* ---- memory: totals against the device ---------------------------------------------------- */

static void test_device_memory_totals(void **state) {
    (void)state;
    smnn_context *ctx = test_context();
    const smnn_device_info *dev = smnn_context_device(ctx);
    smnn_plan_options opt = test_options(SMNN_PRECISION_SINGLE, SMNN_VARIANT_AUTO);
    smnn_problem p;
    smnn_problem_init(&p);
    smnn_plan *plan = NULL;
    /* The batches (T = 2, n = 1): 5e8 and 1e9 systems, refused before any
     * allocation, naming the device's memory. */
    const size_t batches[] = {500000000, 1000000000};
    for (int i = 0; i < 2; i++) {
        p.batch = batches[i];
        if (dev->global_mem_bytes >= (uint64_t)p.batch * 64) continue; /* a huge device */
        assert_status(smnn_plan_create(ctx, &p, &opt, &plan), SMNN_ERROR_TOO_LARGE);
        assert_null(plan);
        /* Where one allocation cannot hold the failure codes (an int per system: Rusticl's
         * llvmpipe allows 2 GiB, its whole memory), that check names them first. */
        if (p.batch * sizeof(cl_int) > dev->max_alloc_bytes)
            ASSERT_ERROR_MENTIONS("failure codes");
        else
            ASSERT_ERROR_MENTIONS("global memory");
        assert_status(smnn_plan_prepare(ctx, &p, &opt), SMNN_ERROR_TOO_LARGE);
    }
    /* Just beyond the device's memory, in chunks that each fit one allocation. */
    p.batch = (size_t)(dev->global_mem_bytes / 16) + 1; /* >= 16 bytes per system */
    if (p.batch <= INT32_MAX) {
        assert_status(smnn_plan_create(ctx, &p, &opt, &plan), SMNN_ERROR_TOO_LARGE);
        ASSERT_ERROR_MENTIONS("global memory");
    }
    /* The failure codes (an int per system) must fit one allocation too. */
    p.batch = 2000;
    opt.max_alloc_bytes = 4096;
    assert_status(smnn_plan_create(ctx, &p, &opt, &plan), SMNN_ERROR_TOO_LARGE);
    ASSERT_ERROR_MENTIONS("failure codes");
    p.batch = 1000;
    assert_status(smnn_plan_create(ctx, &p, &opt, &plan), SMNN_SUCCESS);
    assert_true(smnn_plan_chunks(plan) > 1);
    smnn_plan_free(plan);
}

/* ---- state: failure reports need a factorization ------------------------------------------ */

static void small_problem(smnn_problem *p, size_t B) {
    smnn_problem_init(p);
    p->batch = B;
    p->steps = 21;
    p->dims = 1;
    p->orders = 3;
    p->equations = 1;
    p->init_orders = 2;
}

static void test_reports_need_a_factorization(void **state) {
    (void)state;
    smnn_context *ctx = test_context();
    smnn_problem p;
    small_problem(&p, 11);
    smnn_plan_options opt = test_options(test_device_precision(), SMNN_VARIANT_AUTO);
    opt.refine_steps = 1;
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(ctx, &p, &opt, &plan), SMNN_SUCCESS);
    smnn_failure_report r;
    /* A fresh plan: nothing to report, and nothing uninitialised is read. */
    assert_status(smnn_plan_failures(plan, &r), SMNN_ERROR_INVALID_STATE);
    assert_int_equal(r.count, 0);
    assert_status(smnn_plan_unconverged(plan, &r), SMNN_ERROR_INVALID_STATE);
    test_rng rng = test_rng_make(13);
    test_inputs in;
    test_inputs_make(&p, &rng, 0.1, 0.2, &in);
    cl_mem b[5];
    test_device_inputs(&p, &in, b);
    assert_status(smnn_factor(plan, in.c, in.s), SMNN_SUCCESS);
    assert_status(smnn_plan_failures(plan, &r), SMNN_SUCCESS);
    assert_int_equal(r.count, 0);
    /* A factorization behind a failed event never runs: the plan is unfactored again. */
    cl_int err;
    cl_event gate = clCreateUserEvent(smnn_context_cl_context(ctx), &err);
    assert_non_null(gate);
    cl_event done = NULL;
    assert_status(smnn_factor_async(plan, NULL, b[0], b[3], 1, &gate, &done), SMNN_SUCCESS);
    assert_int_equal(clSetUserEventStatus(gate, -1), CL_SUCCESS);
    clWaitForEvents(1, &done); /* fails: the kernel did not run */
    cl_int status = 0;
    clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    clReleaseEvent(done);
    clReleaseEvent(gate);
    clFinish(smnn_context_cl_queue(ctx));
    if (status < 0) {
        assert_status(smnn_plan_failures(plan, &r), SMNN_ERROR_INVALID_STATE);
        assert_status(smnn_solve_frozen_async(plan, NULL, b[0], b[1], b[2], b[4], 0, NULL, NULL),
                      SMNN_ERROR_INVALID_STATE);
        double *y = test_canaried(smnn_problem_y_count(&p));
        assert_status(smnn_solve_frozen(plan, in.c, in.d, in.u, y), SMNN_ERROR_INVALID_STATE);
        assert_true(y[0] == y[1]); /* untouched: still the canary value */
        test_canaried_free(y);
    } else {
        fprintf(stderr, "# the driver ran a kernel behind a failed event (status %d)\n",
                (int)status);
    }
    /* A new factorization makes the plan usable again. */
    assert_status(smnn_factor(plan, in.c, in.s), SMNN_SUCCESS);
    assert_status(smnn_plan_failures(plan, &r), SMNN_SUCCESS);
    smnn_plan_free(plan);
    test_release_buffers(b, 5);
    test_inputs_free(&in);
}

/* ---- objects: buffers and events of another context --------------------------------------- */

static void test_foreign_objects(void **state) {
    (void)state;
    smnn_context *ctx = test_context(), *other = NULL;
    assert_status(smnn_context_create(NULL, &other), SMNN_SUCCESS);
    smnn_problem p;
    small_problem(&p, 3);
    smnn_plan_options opt = test_options(test_device_precision(), SMNN_VARIANT_AUTO);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(ctx, &p, &opt, &plan), SMNN_SUCCESS);
    test_rng rng = test_rng_make(17);
    test_inputs in;
    test_inputs_make(&p, &rng, 0.1, 0.2, &in);
    cl_mem b[5], grad[5];
    size_t ny = smnn_problem_y_count(&p);
    const double *x[4] = {in.c, in.d, in.u, in.s};
    const size_t counts[4] = {smnn_problem_c_count(&p), smnn_problem_d_count(&p),
                              smnn_problem_u_count(&p), smnn_problem_s_count(&p)};
    for (int i = 0; i < 4; i++)
        assert_status(smnn_buffer_from_host(ctx, opt.precision, x[i], counts[i], &b[i]),
                      SMNN_SUCCESS);
    double *zeros = calloc(1000, sizeof *zeros);
    assert_status(smnn_buffer_from_host(ctx, opt.precision, zeros, 1000, &b[4]), SMNN_SUCCESS);
    for (int i = 0; i < 5; i++)
        assert_status(smnn_buffer_from_host(ctx, opt.precision, zeros, 1000, &grad[i]),
                      SMNN_SUCCESS);
    cl_mem foreign = NULL;
    assert_status(smnn_buffer_from_host(other, opt.precision, zeros, 1000, &foreign),
                  SMNN_SUCCESS);
    const char *names[5] = {"c", "d", "u", "s", "y"};
    /* Each buffer argument of each entry point in turn. */
    for (int i = 0; i < 5; i++) {
        cl_mem a[5] = {b[0], b[1], b[2], b[3], b[4]};
        a[i] = foreign;
        assert_status(smnn_solve_async(plan, NULL, a[0], a[1], a[2], a[3], a[4], 0, NULL, NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
        ASSERT_ERROR_MENTIONS(names[i]);
        ASSERT_ERROR_MENTIONS("another OpenCL context");
    }
    assert_status(smnn_factor_async(plan, NULL, foreign, b[3], 0, NULL, NULL),
                  SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_factor_async(plan, NULL, b[0], foreign, 0, NULL, NULL),
                  SMNN_ERROR_INVALID_ARGUMENT);
    /* A real factorization, then the calls that need one. */
    assert_status(smnn_factor_async(plan, NULL, b[0], b[3], 0, NULL, NULL), SMNN_SUCCESS);
    for (int i = 0; i < 4; i++) {
        cl_mem a[4] = {b[0], b[1], b[2], b[4]};
        a[i] = foreign;
        assert_status(smnn_solve_frozen_async(plan, NULL, a[0], a[1], a[2], a[3], 0, NULL, NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
        ASSERT_ERROR_MENTIONS("another OpenCL context");
    }
    for (int i = 0; i < 9; i++) {
        cl_mem a[9] = {b[0], b[1], b[3], b[4], grad[4], grad[0], grad[1], grad[2], grad[3]};
        a[i] = foreign;
        assert_status(smnn_backward_async(plan, NULL, a[0], a[1], a[2], a[3], a[4], a[5], a[6],
                                          a[7], a[8], 0, NULL, NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
        ASSERT_ERROR_MENTIONS("another OpenCL context");
    }
    double back[4];
    assert_status(smnn_buffer_to_host(ctx, opt.precision, foreign, 4, back),
                  SMNN_ERROR_INVALID_ARGUMENT);
    /* Wait lists: a NULL event anywhere, an event of another context. */
    cl_int err;
    cl_event mine = clCreateUserEvent(smnn_context_cl_context(ctx), &err);
    cl_event theirs = clCreateUserEvent(smnn_context_cl_context(other), &err);
    assert_non_null(mine);
    assert_non_null(theirs);
    cl_event lists[][2] = {{NULL, mine}, {mine, NULL}, {theirs, mine}, {mine, theirs}};
    const char *which[] = {"wait_list[0] is NULL", "wait_list[1] is NULL", "wait_list[0] belongs",
                           "wait_list[1] belongs"};
    for (int i = 0; i < 4; i++) {
        assert_status(smnn_solve_async(plan, NULL, b[0], b[1], b[2], b[3], b[4], 2, lists[i],
                                       NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
        ASSERT_ERROR_MENTIONS(which[i]);
        assert_status(smnn_factor_async(plan, NULL, b[0], b[3], 2, lists[i], NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
        assert_status(smnn_solve_frozen_async(plan, NULL, b[0], b[1], b[2], b[4], 2, lists[i],
                                              NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
        assert_status(smnn_backward_async(plan, NULL, b[0], b[1], b[3], b[4], grad[4], NULL,
                                          grad[1], NULL, NULL, 2, lists[i], NULL),
                      SMNN_ERROR_INVALID_ARGUMENT);
    }
    /* The plan still works with its own objects. */
    clSetUserEventStatus(mine, CL_COMPLETE);
    clSetUserEventStatus(theirs, CL_COMPLETE);
    assert_status(smnn_solve_async(plan, NULL, b[0], b[1], b[2], b[3], b[4], 1, &mine, NULL),
                  SMNN_SUCCESS);
    clFinish(smnn_context_cl_queue(ctx));
    clReleaseEvent(mine);
    clReleaseEvent(theirs);
    (void)ny;
    smnn_plan_free(plan);
    test_release_buffers(b, 5);
    test_release_buffers(grad, 5);
    clReleaseMemObject(foreign);
    smnn_context_free(other);
    free(zeros);
    test_inputs_free(&in);
}

/* ---- bits: reproducibility across batch sizes, positions and chunking --------------------- */

/* Solves a batch of B systems where the systems at pos[0..npos) are copies of the target
 * system (B = 1 inputs `one`), the rest random; returns the y of each copy in ys. */
static smnn_status solve_with_copies(const smnn_plan_options *opt, size_t B, const size_t *pos,
                                     size_t npos, const test_inputs *one, double *ys,
                                     smnn_plan_options *used, size_t *chunks) {
    smnn_problem p;
    small_problem(&p, B);
    test_rng rng = test_rng_make(29);
    test_inputs in;
    test_inputs_make(&p, &rng, 0.1, 0.3, &in);
    size_t nc = smnn_problem_c_count(&p) / B, nd = smnn_problem_d_count(&p) / B,
           nu = smnn_problem_u_count(&p) / B, ns = smnn_problem_s_count(&p) / B,
           ny = smnn_problem_y_count(&p) / B;
    for (size_t k = 0; k < npos; k++) {
        memcpy(in.c + pos[k] * nc, one->c, nc * sizeof(double));
        memcpy(in.d + pos[k] * nd, one->d, nd * sizeof(double));
        memcpy(in.u + pos[k] * nu, one->u, nu * sizeof(double));
        memcpy(in.s + pos[k] * ns, one->s, ns * sizeof(double));
    }
    smnn_plan *plan = NULL;
    smnn_status st = smnn_plan_create(test_context(), &p, opt, &plan);
    if (st == SMNN_SUCCESS) {
        double *y = malloc(B * ny * sizeof *y);
        st = smnn_solve(plan, in.c, in.d, in.u, in.s, y);
        for (size_t k = 0; st == SMNN_SUCCESS && k < npos; k++)
            memcpy(ys + k * ny, y + pos[k] * ny, ny * sizeof *y);
        if (used) *used = *smnn_plan_get_options(plan);
        if (chunks) *chunks = smnn_plan_chunks(plan);
        free(y);
    }
    smnn_plan_free(plan);
    test_inputs_free(&in);
    return st;
}

/* Bytes of one system's workspace in a plan for p with opt (from the plan's own total). */
static size_t per_system_bytes(const smnn_plan_options *opt, size_t B) {
    smnn_problem p;
    small_problem(&p, B);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), &p, opt, &plan), SMNN_SUCCESS);
    assert_int_equal(smnn_plan_chunks(plan), 1);
    int vw = smnn_plan_get_options(plan)->systems_per_item;
    size_t cap = vw > 1 ? (B + (size_t)vw - 1) / (size_t)vw * (size_t)vw : B;
    size_t bytes = (smnn_plan_workspace_bytes(plan) - B * sizeof(cl_int)) / cap;
    smnn_plan_free(plan);
    return bytes;
}

static void test_bit_identical_across_batches(void **state) {
    (void)state;
    smnn_problem one_p;
    small_problem(&one_p, 1);
    test_rng rng = test_rng_make(31);
    test_inputs one;
    test_inputs_make(&one_p, &rng, 0.1, 0.3, &one);
    size_t ny = smnn_problem_y_count(&one_p);
    const size_t pos7[] = {0, 3, 6}, pos8[] = {0, 5, 7}, pos37[] = {0, 13, 20, 36};
    double ref[3 * 64], got[4 * 64];
    assert_true(ny <= 64);
    const struct {
        smnn_variant variant;
        int width;
        int generic;
    } configs[] = {
        {SMNN_VARIANT_PRIVATE, 8, 0}, {SMNN_VARIANT_PRIVATE, 1, 0}, {SMNN_VARIANT_PRIVATE, 4, 1},
        {SMNN_VARIANT_LOCAL, 0, 0},
    };
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        smnn_plan_options opt = test_options(test_device_precision(), configs[k].variant);
        opt.systems_per_item = configs[k].width;
        opt.generic_kernels = configs[k].generic;
        assert_status(solve_with_copies(&opt, 7, pos7, 3, &one, ref, NULL, NULL), SMNN_SUCCESS);
        for (size_t j = 1; j < 3; j++) assert_memory_equal(ref, ref + j * ny, ny * sizeof *ref);
        assert_status(solve_with_copies(&opt, 8, pos8, 3, &one, got, NULL, NULL), SMNN_SUCCESS);
        for (size_t j = 0; j < 3; j++) assert_memory_equal(ref, got + j * ny, ny * sizeof *ref);
        assert_status(solve_with_copies(&opt, 37, pos37, 4, &one, got, NULL, NULL), SMNN_SUCCESS);
        for (size_t j = 0; j < 4; j++) assert_memory_equal(ref, got + j * ny, ny * sizeof *ref);
        /* Chunked: two lane groups (or 5 systems) per allocation. */
        size_t per = per_system_bytes(&opt, 37);
        size_t fit = configs[k].width > 1 ? 2 * (size_t)configs[k].width : 5;
        smnn_plan_options chunked = opt;
        chunked.max_alloc_bytes = fit * per + 3;
        size_t chunks = 0;
        smnn_plan_options used;
        assert_status(solve_with_copies(&chunked, 37, pos37, 4, &one, got, &used, &chunks),
                      SMNN_SUCCESS);
        assert_int_equal(chunks, (37 + fit - 1) / fit);
        if (configs[k].width) assert_int_equal(used.systems_per_item, configs[k].width);
        for (size_t j = 0; j < 4; j++) assert_memory_equal(ref, got + j * ny, ny * sizeof *ref);
    }
    /* A limit below one lane group: an explicit width is never changed (the plan fails naming
     * it); the automatic width falls back to one system per work-item and says so, with the
     * same bits as an explicit width of 1. */
    smnn_plan_options opt = test_options(test_device_precision(), SMNN_VARIANT_PRIVATE);
    opt.systems_per_item = 8;
    size_t per = per_system_bytes(&opt, 37);
    opt.max_alloc_bytes = 7 * per + 3;
    assert_int_equal(solve_with_copies(&opt, 37, pos37, 4, &one, got, NULL, NULL),
                     SMNN_ERROR_TOO_LARGE);
    ASSERT_ERROR_MENTIONS("systems_per_item");
    opt.systems_per_item = 0;
    smnn_plan_options used;
    size_t chunks;
    assert_status(solve_with_copies(&opt, 37, pos37, 4, &one, got, &used, &chunks), SMNN_SUCCESS);
    if (chunks > 1 && used.systems_per_item == 1) {
        smnn_plan_options w1 = test_options(test_device_precision(), SMNN_VARIANT_PRIVATE);
        w1.systems_per_item = 1;
        assert_status(solve_with_copies(&w1, 7, pos7, 3, &one, ref, NULL, NULL), SMNN_SUCCESS);
        for (size_t j = 0; j < 4; j++) assert_memory_equal(ref, got + j * ny, ny * sizeof *ref);
    }
    test_inputs_free(&one);
}

/* ---- range: values a single-precision plan cannot hold ------------------------------------ */

static void test_single_precision_range(void **state) {
    (void)state;
    smnn_problem p;
    small_problem(&p, 3);
    smnn_plan_options opt = test_options(SMNN_PRECISION_SINGLE, SMNN_VARIANT_AUTO);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
    test_rng rng = test_rng_make(37);
    test_inputs in;
    test_inputs_make(&p, &rng, 0.1, 0.3, &in);
    size_t ny = smnn_problem_y_count(&p);
    double *y = test_canaried(ny);
    double *gy = calloc(ny, sizeof *gy), *gc = test_canaried(smnn_problem_c_count(&p));
    double *inputs[4] = {in.c, in.d, in.u, in.s};
    const char *names[4] = {"c[5]", "d[5]", "u[1]", "s[5]"};
    const size_t where[4] = {5, 5, 1, 5};
    const double bad[] = {1e39, -1e39, 3.5e38, 1e300};
    for (int i = 0; i < 4; i++) {
        for (size_t v = 0; v < sizeof bad / sizeof bad[0]; v++) {
            double keep = inputs[i][where[i]];
            inputs[i][where[i]] = i == 3 ? fabs(bad[v]) : bad[v];
            assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y),
                          SMNN_ERROR_INVALID_ARGUMENT);
            ASSERT_ERROR_MENTIONS(names[i]);
            ASSERT_ERROR_MENTIONS("single precision");
            inputs[i][where[i]] = keep;
        }
    }
    /* A step that is 0 in single precision. */
    double keep = in.s[2];
    in.s[2] = 1e-50;
    assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y), SMNN_ERROR_INVALID_ARGUMENT);
    ASSERT_ERROR_MENTIONS("s[2]");
    assert_status(smnn_factor(plan, in.c, in.s), SMNN_ERROR_INVALID_ARGUMENT);
    in.s[2] = keep;
    in.c[0] = 1e39;
    assert_status(smnn_factor(plan, in.c, in.s), SMNN_ERROR_INVALID_ARGUMENT);
    ASSERT_ERROR_MENTIONS("c[0]");
    in.c[0] = 0.5;
    assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
    in.d[4] = 2e38 * 2;
    assert_status(smnn_solve_frozen(plan, in.c, in.d, in.u, y), SMNN_ERROR_INVALID_ARGUMENT);
    ASSERT_ERROR_MENTIONS("d[4]");
    in.d[4] = 0;
    gy[7] = -1e39;
    assert_status(smnn_backward(plan, in.c, in.d, in.s, y, gy, gc, NULL, NULL, NULL),
                  SMNN_ERROR_INVALID_ARGUMENT);
    ASSERT_ERROR_MENTIONS("grad_y[7]");
    assert_true(test_canary_ok(gc, smnn_problem_c_count(&p)));
    assert_true(gc[0] == gc[1]); /* untouched */
    smnn_plan_free(plan);
    /* The same values are fine for a double-precision plan's checks. */
    if (!test_lacks_fp64("test_single_precision_range's double-precision plan")) {
        opt.precision = SMNN_PRECISION_DOUBLE;
        assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
        in.d[4] = 1e39;
        assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, y), SMNN_SUCCESS);
        smnn_plan_free(plan);
    }
    test_canaried_free(y);
    test_canaried_free(gc);
    free(gy);
    test_inputs_free(&in);
}

/* ---- reference ---------------------------------------------------------------------------- */

static void test_reference_memory_cap(void **state) {
    (void)state;
    unsetenv("SMNN_REFERENCE_MAX_BYTES");
    smnn_problem p;
    small_problem(&p, 2000000);
    p.steps = 2;
    /* Everything counts, the batch's solutions included (16 bytes per system here). */
    assert_true(smnn_reference_bytes(&p) >= p.batch * 2 * 3 * sizeof(double));
    small_problem(&p, 40);
    test_rng rng = test_rng_make(41);
    test_inputs in;
    test_inputs_make(&p, &rng, 0.1, 0.3, &in);
    size_t ny = smnn_problem_y_count(&p), need = smnn_reference_bytes(&p);
    double *y = test_canaried(ny);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, y, need - 1),
                  SMNN_ERROR_TOO_LARGE);
    assert_true(test_canary_ok(y, ny) && y[0] == y[1]);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, y, need), SMNN_SUCCESS);
    /* The environment variable: digits only. */
    const char *bad[] = {"-1", "+5", " 5", "5 ", "1e9", "0", "0x10", "ten",
                         "999999999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("SMNN_REFERENCE_MAX_BYTES", bad[i], 1);
        assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, y, 0),
                      SMNN_ERROR_INVALID_ARGUMENT);
        ASSERT_ERROR_MENTIONS("SMNN_REFERENCE_MAX_BYTES");
    }
    char text[32];
    snprintf(text, sizeof text, "%zu", need - 1);
    setenv("SMNN_REFERENCE_MAX_BYTES", text, 1);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, y, 0), SMNN_ERROR_TOO_LARGE);
    snprintf(text, sizeof text, "%zu", need);
    setenv("SMNN_REFERENCE_MAX_BYTES", text, 1);
    assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, y, 0), SMNN_SUCCESS);
    /* The gradient's own arrays count as well: the solve's cap alone is not enough. */
    small_problem(&p, 1);
    test_inputs one;
    test_inputs_make(&p, &rng, 0.1, 0.3, &one);
    double *gy = calloc(smnn_problem_y_count(&p), sizeof *gy);
    double *gd = calloc(smnn_problem_d_count(&p), sizeof *gd);
    gy[0] = 1;
    assert_status(smnn_reference_gradient(&p, one.c, one.d, one.u, one.s, gy, NULL, gd, NULL,
                                          NULL, smnn_reference_bytes(&p)),
                  SMNN_ERROR_TOO_LARGE);
    assert_status(smnn_reference_gradient(&p, one.c, one.d, one.u, one.s, gy, NULL, gd, NULL,
                                          NULL, 0),
                  SMNN_SUCCESS);
    unsetenv("SMNN_REFERENCE_MAX_BYTES");
    free(gy);
    free(gd);
    test_inputs_free(&one);
    test_canaried_free(y);
    test_inputs_free(&in);
}

/* w_init far above the other weights: the initial values are matched exactly and the rest is
 * the least-squares fit with them fixed, so every w_init from 1e8 up gives the same y to
 * rounding (the difference is O(1/w_init^2)); the device's double-precision solve agrees. */
static void test_reference_huge_init_weight(void **state) {
    (void)state;
    smnn_problem p;
    small_problem(&p, 2);
    p.dims = 2;
    p.equations = 2;
    p.steps = 15;
    test_rng rng = test_rng_make(43);
    test_inputs in;
    test_inputs_make(&p, &rng, 0.1, 0.3, &in);
    size_t ny = smnn_problem_y_count(&p);
    const double weights[] = {1e8, 1e12, 1e15, 1e20};
    double *y[4];
    for (int k = 0; k < 4; k++) {
        y[k] = malloc(ny * sizeof *y[k]);
        p.w_init = weights[k];
        assert_status(smnn_reference_solve(&p, in.c, in.d, in.u, in.s, y[k], 0), SMNN_SUCCESS);
        /* y and y' at t = 0 are the given initial values. */
        for (size_t b = 0; b < p.batch; b++)
            for (size_t v = 0; v < p.dims; v++)
                for (size_t r = 0; r < p.init_orders; r++) {
                    double want = in.u[(b * p.dims + v) * p.init_orders + r];
                    double got = y[k][b * p.steps * 6 + v * 3 + r];
                    if (!(fabs(got - want) <= 1e-12 * fmax(1, fabs(want))))
                        fail_msg("w_init %g: y[%zu] initial value %.17g, want %.17g",
                                 weights[k], b, got, want);
                }
    }
    for (int k = 1; k < 4; k++) {
        double e = test_rel_err(y[k], y[0], ny);
        fprintf(stderr, "# w_init %g against 1e8: relative difference %.2e\n", weights[k], e);
        assert_true(e <= 1e-10);
    }
    if (!test_lacks_fp64("test_reference_huge_init_weight's comparison with the device")) {
        p.w_init = 1e15;
        smnn_plan *plan = NULL;
        smnn_plan_options opt = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_AUTO);
        assert_status(smnn_plan_create(test_context(), &p, &opt, &plan), SMNN_SUCCESS);
        double *dev = malloc(ny * sizeof *dev);
        assert_status(smnn_solve(plan, in.c, in.d, in.u, in.s, dev), SMNN_SUCCESS);
        double e = test_rel_err(y[2], dev, ny);
        fprintf(stderr, "# w_init 1e15: reference against the device %.2e\n", e);
        assert_true(e <= 1e-8);
        free(dev);
        smnn_plan_free(plan);
    }
    for (int k = 0; k < 4; k++) free(y[k]);
    test_inputs_free(&in);
}

/* Constraints that do not determine y are reported, never solved into a meaningless y: c = 0
 * with 2 or 3 orders (a constant highest derivative is free) and T = 2 with 6 orders. */
static void test_reference_rank_deficiency(void **state) {
    (void)state;
    const struct {
        size_t T, R1, Ri1;
        int zero_c;
    } cases[] = {{5, 2, 1, 1}, {9, 3, 1, 1}, {2, 6, 1, 0}, {4, 3, 2, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        smnn_problem p;
        small_problem(&p, 2);
        p.steps = cases[i].T;
        p.orders = cases[i].R1;
        p.init_orders = cases[i].Ri1;
        test_rng rng = test_rng_make(47);
        test_inputs in;
        test_inputs_make(&p, &rng, 0.1, 0.3, &in);
        if (cases[i].zero_c) memset(in.c, 0, smnn_problem_c_count(&p) * sizeof *in.c);
        size_t ny = smnn_problem_y_count(&p);
        double *y = test_canaried(ny);
        smnn_status st = smnn_reference_solve(&p, in.c, in.d, in.u, in.s, y, 0);
        if (st != SMNN_ERROR_NOT_POSITIVE_DEFINITE)
            fail_msg("case %zu (T = %zu, n_orders %zu): %s, expected rank deficiency", i,
                     cases[i].T, cases[i].R1, smnn_status_name(st));
        ASSERT_ERROR_MENTIONS("rank deficient");
        ASSERT_ERROR_MENTIONS("system 0");
        assert_true(test_canary_ok(y, ny) && y[0] == y[1]);
        test_canaried_free(y);
        test_inputs_free(&in);
    }
}

/* grad_y of the reference gradient is checked like every input. */
static void test_reference_gradient_checks_grad_y(void **state) {
    (void)state;
    smnn_problem p;
    small_problem(&p, 1);
    p.steps = 4;
    test_rng rng = test_rng_make(53);
    test_inputs in;
    test_inputs_make(&p, &rng, 0.1, 0.3, &in);
    size_t ny = smnn_problem_y_count(&p), nd = smnn_problem_d_count(&p);
    double *gy = calloc(ny, sizeof *gy), *gd = test_canaried(nd);
    const size_t where[] = {0, 3, ny - 1};
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        gy[where[i]] = bad[i];
        assert_status(smnn_reference_gradient(&p, in.c, in.d, in.u, in.s, gy, NULL, gd, NULL,
                                              NULL, 0),
                      SMNN_ERROR_INVALID_ARGUMENT);
        char name[32];
        snprintf(name, sizeof name, "grad_y[%zu]", where[i]);
        ASSERT_ERROR_MENTIONS(name);
        assert_true(test_canary_ok(gd, nd) && gd[0] == gd[1]);
        gy[where[i]] = 0;
    }
    assert_status(smnn_reference_gradient(&p, in.c, in.d, in.u, in.s, NULL, NULL, gd, NULL, NULL,
                                          0),
                  SMNN_ERROR_INVALID_ARGUMENT);
    ASSERT_ERROR_MENTIONS("grad_y");
    free(gy);
    test_canaried_free(gd);
    test_inputs_free(&in);
}

int main(void) {
    /* First, alone: the threads must be the process's first OpenCL use. */
    const struct CMUnitTest first[] = {cmocka_unit_test(test_threads_first_use)};
    int failed = cmocka_run_group_tests_name("first use", first, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_never_writes_through_links),
        cmocka_unit_test(test_cache_ignores_non_regular_entries),
        cmocka_unit_test(test_sizes_that_wrap),
        cmocka_unit_test(test_device_memory_totals),
        cmocka_unit_test(test_reports_need_a_factorization),
        cmocka_unit_test(test_foreign_objects),
        cmocka_unit_test(test_bit_identical_across_batches),
        cmocka_unit_test(test_single_precision_range),
        cmocka_unit_test(test_reference_memory_cap),
        cmocka_unit_test(test_reference_huge_init_weight),
        cmocka_unit_test(test_reference_rank_deficiency),
        cmocka_unit_test(test_reference_gradient_checks_grad_y),
    };
    failed += cmocka_run_group_tests_name("hardening", tests, NULL, test_teardown_context);
    return failed;
}
