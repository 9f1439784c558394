/* The plan's API apart from solving: options (defaults, resolution of the automatic values, older
 * and smaller structs, environment overrides), smnn_plan_prepare (it compiles exactly the program
 * that a plan then uses), the struct_size rule of smnn_problem, the input layouts of
 * smnn_problem_layout, and the tuning table against smnn_variant_choose and the plans' choices.
 *
 * The environment overrides are cleared at the start of each test that creates plans, so that a
 * developer's own settings cannot change what is checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

static const char *const overrides[] = {"SMNN_SYSTEMS_PER_ITEM", "SMNN_GENERIC_KERNELS",
                                        "SMNN_MAX_ALLOC_BYTES"};

static void clear_overrides(void) {
    for (size_t i = 0; i < sizeof overrides / sizeof overrides[0]; i++) unsetenv(overrides[i]);
}

/* B = 12 systems of n = 6 (V = 2, n_orders = 3). */
static smnn_problem small_problem(void) {
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = 12;
    p.steps = 9;
    p.dims = 2;
    p.orders = 3;
    p.equations = 2;
    p.init_orders = 2;
    return p;
}

/* The first row of the tuning table that matches, by the rule solver.h states: vendor a
 * case-insensitive substring of the device's ("" any), device kind "cpu", "gpu" or "" (any),
 * n <= max_block and batch >= min_batch. NULL when none does. */
static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; n <= strlen(hay + i); i++)
        if (strncasecmp(hay + i, needle, n) == 0) return 1;
    return 0;
}

static const smnn_tuning_rule *first_rule(const smnn_device_info *dev, size_t n, size_t batch) {
    for (size_t i = 0; i < smnn_tuning_rule_count(); i++) {
        const smnn_tuning_rule *r = smnn_tuning_rule_at(i);
        if (n > r->max_block || batch < r->min_batch) continue;
        if (*r->vendor && !contains_nocase(dev->device_vendor, r->vendor)) continue;
        if (!strcmp(r->device, "cpu") && !dev->is_cpu) continue;
        if (!strcmp(r->device, "gpu") && !dev->is_gpu) continue;
        return r;
    }
    return NULL;
}

/* The width a plan takes from a row of width w (solver.h: rows give the width in double
 * precision, single precision takes twice as many, at most 16). */
static int row_width(int w, smnn_precision prec) {
    return prec == SMNN_PRECISION_SINGLE && w > 1 && w < 16 ? 2 * w : w;
}

/* The systems per work-item a plan of the private variant takes when the option is 0 (in double
 * precision: row_width for single): those of the first matching private row, 1 when there is
 * none. */
static int private_width(const smnn_device_info *dev, size_t n, size_t batch) {
    for (size_t i = 0; i < smnn_tuning_rule_count(); i++) {
        const smnn_tuning_rule *r = smnn_tuning_rule_at(i);
        if (r->variant != SMNN_VARIANT_PRIVATE || n > r->max_block || batch < r->min_batch)
            continue;
        if (*r->vendor && !contains_nocase(dev->device_vendor, r->vendor)) continue;
        if (!strcmp(r->device, "cpu") && !dev->is_cpu) continue;
        if (!strcmp(r->device, "gpu") && !dev->is_gpu) continue;
        return r->systems_per_item;
    }
    return 1;
}

/* ---- Options ------------------------------------------------------------------------------ */

/* smnn_plan_options_init's defaults, and what a plan resolves them to: the tuning table's
 * variant and width for the context's device, refinement off in double and two steps in
 * single; NULL options mean the defaults. */
static void test_option_defaults(void **state) {
    (void)state;
    clear_overrides();
    smnn_plan_options o;
    memset(&o, 0x5a, sizeof o);
    smnn_plan_options_init(&o);
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.precision, SMNN_PRECISION_DOUBLE);
    assert_int_equal(o.variant, SMNN_VARIANT_AUTO);
    assert_int_equal(o.refine_steps, -1);
    assert_int_equal(o.systems_per_item, 0);
    assert_int_equal(o.generic_kernels, 0);
    assert_int_equal(o.max_alloc_bytes, 0);
    smnn_plan_options_init(NULL); /* harmless */

    smnn_context *ctx = test_context();
    const size_t batches[] = {1, 12};
    for (size_t i = 0; i < 2; i++) {
        smnn_problem p = small_problem();
        p.batch = batches[i];
        const smnn_tuning_rule *rule = first_rule(smnn_context_device(ctx), 6, p.batch);
        assert_non_null(rule);
        for (int prec = SMNN_PRECISION_DOUBLE; prec <= SMNN_PRECISION_SINGLE; prec++) {
            if (prec == SMNN_PRECISION_DOUBLE && !smnn_context_device(ctx)->has_fp64) continue;
            o.precision = (smnn_precision)prec;
            smnn_plan *plan = NULL;
            /* NULL options are the defaults (double precision). */
            assert_status(smnn_plan_create(ctx, &p, prec == SMNN_PRECISION_DOUBLE ? NULL : &o,
                                           &plan),
                          SMNN_SUCCESS);
            const smnn_plan_options *r = smnn_plan_get_options(plan);
            assert_non_null(r);
            assert_int_equal(r->struct_size, sizeof *r);
            assert_int_equal(r->precision, prec);
            assert_int_equal(r->variant, rule->variant);
            assert_int_equal(smnn_plan_variant(plan), rule->variant);
            assert_int_equal(r->systems_per_item,
                             rule->variant == SMNN_VARIANT_PRIVATE
                                 ? row_width(rule->systems_per_item, (smnn_precision)prec)
                                 : 0);
            /* AUTO: QR in single precision (one guarded refinement step), Cholesky in double
             * (none). */
            assert_int_equal(r->factorization, prec == SMNN_PRECISION_SINGLE
                                                   ? SMNN_FACTORIZATION_QR
                                                   : SMNN_FACTORIZATION_CHOLESKY);
            assert_int_equal(smnn_plan_factorization(plan), r->factorization);
            assert_int_equal(r->refine_steps, prec == SMNN_PRECISION_SINGLE ? 1 : 0);
            assert_int_equal(r->generic_kernels, 0);
            assert_int_equal(r->max_alloc_bytes, 0);
            smnn_plan_free(plan);
        }
    }
    assert_null(smnn_plan_get_options(NULL));
}

/* The first version of smnn_plan_options, as a caller compiled against it declares it. */
typedef struct {
    size_t struct_size;
    smnn_precision precision;
    smnn_variant variant;
    int refine_steps;
} options_v1;

/* A struct compiled at the older, smaller size is accepted: the fields it has are read, the later
 * ones take their defaults, and nothing past its struct_size is read (the bytes after it are
 * junk that would be refused as options). Sizes below the first version and above the current
 * one are refused, naming options.struct_size. */
static void test_option_struct_size(void **state) {
    (void)state;
    clear_overrides();
    smnn_context *ctx = test_context();
    smnn_problem p = small_problem();
    struct {
        options_v1 v1;
        unsigned char after[64];
    } old;
    memset(&old, 0, sizeof old);
    memset(old.after, 0x7f, sizeof old.after);
    old.v1.struct_size = sizeof old.v1;
    old.v1.precision = SMNN_PRECISION_SINGLE;
    old.v1.variant = SMNN_VARIANT_PRIVATE;
    old.v1.refine_steps = 3;
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(ctx, &p, (const smnn_plan_options *)&old.v1, &plan),
                  SMNN_SUCCESS);
    const smnn_plan_options *r = smnn_plan_get_options(plan);
    assert_int_equal(r->struct_size, sizeof(smnn_plan_options));
    assert_int_equal(r->precision, SMNN_PRECISION_SINGLE);
    assert_int_equal(r->variant, SMNN_VARIANT_PRIVATE);
    assert_int_equal(r->refine_steps, 3);
    /* systems_per_item resolved from the table. */
    assert_int_equal(r->systems_per_item,
                     row_width(private_width(smnn_context_device(ctx), 6, p.batch),
                               SMNN_PRECISION_SINGLE));
    assert_int_equal(r->generic_kernels, 0);
    assert_int_equal(r->max_alloc_bytes, 0);
    smnn_plan_free(plan);
    /* The smallest accepted size: exactly the first version's fields. */
    old.v1.struct_size = offsetof(smnn_plan_options, refine_steps) + sizeof(int);
    old.v1.refine_steps = -1;
    assert_status(smnn_plan_prepare(ctx, &p, (const smnn_plan_options *)&old.v1), SMNN_SUCCESS);
    assert_status(smnn_plan_create(ctx, &p, (const smnn_plan_options *)&old.v1, &plan),
                  SMNN_SUCCESS);
    assert_int_equal(smnn_plan_get_options(plan)->refine_steps, 1); /* automatic, single: QR */
    assert_int_equal(smnn_plan_factorization(plan), SMNN_FACTORIZATION_QR);
    smnn_plan_free(plan);

    /* The second version (0.2) ended with max_alloc_bytes: its fields are all read and the
     * factorization that follows it in memory is not (junk there would be refused). */
    struct {
        smnn_plan_options o;
        unsigned char after[64];
    } v2;
    memset(&v2, 0x7f, sizeof v2);
    smnn_plan_options_init(&v2.o);
    v2.o.struct_size = offsetof(smnn_plan_options, max_alloc_bytes) + sizeof(size_t);
    v2.o.precision = SMNN_PRECISION_DOUBLE;
    v2.o.systems_per_item = 2;
    v2.o.generic_kernels = 1;
    memset((unsigned char *)&v2.o + v2.o.struct_size, 0x7f, sizeof v2.o - v2.o.struct_size);
    if (smnn_context_device(ctx)->has_fp64) {
        assert_status(smnn_plan_create(ctx, &p, &v2.o, &plan), SMNN_SUCCESS);
        r = smnn_plan_get_options(plan);
        assert_int_equal(r->systems_per_item, 2);
        assert_int_equal(r->generic_kernels, 1);
        assert_int_equal(r->factorization, SMNN_FACTORIZATION_CHOLESKY);
        smnn_plan_free(plan);
    }

    const size_t bad[] = {0, sizeof(size_t), offsetof(smnn_plan_options, refine_steps) + 3,
                          sizeof(smnn_plan_options) + 8};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smnn_plan_options o;
        smnn_plan_options_init(&o);
        o.struct_size = bad[i];
        plan = (smnn_plan *)&o;
        assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_ERROR_INVALID_ARGUMENT);
        assert_null(plan);
        if (!strstr(smnn_last_error(), "options.struct_size"))
            fail_msg("struct_size %zu: message does not name options.struct_size: %s", bad[i],
                     smnn_last_error());
        assert_status(smnn_plan_prepare(ctx, &p, &o), SMNN_ERROR_INVALID_ARGUMENT);
    }
}

/* A caller of the first version passes sizeof(options_v1), which includes the struct's tail
 * padding (24 bytes on LP64, where the fields end at 20). Those padding bytes are not a field of
 * the first version, so whatever they hold must not be read as a later field: an older binary
 * that filled its struct field by field leaves them unspecified. */
static void test_option_struct_size_padding(void **state) {
    (void)state;
    clear_overrides();
    size_t v1_end = offsetof(smnn_plan_options, refine_steps) + sizeof(int);
    if (sizeof(options_v1) == v1_end) skip(); /* no tail padding on this ABI */
    smnn_context *ctx = test_context();
    smnn_problem p = small_problem();
    options_v1 v1;
    memset(&v1, 0x7f, sizeof v1); /* junk in the padding */
    v1.struct_size = sizeof v1;
    v1.precision = SMNN_PRECISION_SINGLE;
    v1.variant = SMNN_VARIANT_AUTO;
    v1.refine_steps = -1;
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(ctx, &p, (const smnn_plan_options *)&v1, &plan), SMNN_SUCCESS);
    const smnn_tuning_rule *rule = first_rule(smnn_context_device(ctx), 6, p.batch);
    assert_int_equal(smnn_plan_get_options(plan)->systems_per_item,
                     rule->variant == SMNN_VARIANT_PRIVATE
                         ? row_width(rule->systems_per_item, SMNN_PRECISION_SINGLE)
                         : 0);
    smnn_plan_free(plan);
}

/* problem.struct_size: from the first version's size up to the current one; smaller or larger
 * is refused by validation, the reference and plan creation alike. */
static void test_problem_struct_size(void **state) {
    (void)state;
    smnn_context *ctx = test_context();
    /* The device's precision, so that a device without fp64 checks the same. */
    smnn_plan_options o = test_options(test_device_precision(), SMNN_VARIANT_AUTO);
    struct {
        smnn_problem p;
        unsigned char after[64];
    } pad;
    memset(pad.after, 0x7f, sizeof pad.after);
    pad.p = small_problem();
    pad.p.struct_size = SMNN__PROBLEM_MIN_SIZE;
    assert_status(smnn_problem_validate(&pad.p), SMNN_SUCCESS);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(ctx, &pad.p, &o, &plan), SMNN_SUCCESS);
    assert_int_equal(smnn_plan_problem(plan)->struct_size, sizeof(smnn_problem));
    assert_int_equal(smnn_plan_problem(plan)->batch, 12);
    smnn_plan_free(plan);
    const size_t bad[] = {0, sizeof(size_t), SMNN__PROBLEM_MIN_SIZE - 1, sizeof(smnn_problem) + 8};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smnn_problem p = small_problem();
        p.struct_size = bad[i];
        assert_status(smnn_problem_validate(&p), SMNN_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(smnn_last_error(), "problem.struct_size"));
        plan = (smnn_plan *)&p;
        assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_ERROR_INVALID_ARGUMENT);
        assert_null(plan);
        assert_non_null(strstr(smnn_context_last_error(ctx), "problem.struct_size"));
        assert_status(smnn_plan_prepare(ctx, &p, &o), SMNN_ERROR_INVALID_ARGUMENT);
        smnn_layout L;
        assert_status(smnn_problem_layout(&p, SMNN_INPUT_C, &L), SMNN_ERROR_INVALID_ARGUMENT);
    }
}

/* The environment variables override only the automatic (0) values; an option set explicitly
 * wins over them. */
static void test_environment_overrides(void **state) {
    (void)state;
    clear_overrides();
    smnn_context *ctx = test_context();
    smnn_problem p = small_problem();
    smnn_plan_options o = test_options(test_device_precision(), SMNN_VARIANT_PRIVATE);
    /* 4 systems' workspace (T = 9, n = 6), as a plan with the same options allocates it (the
     * record's size depends on the device: cl/contract.h). */
    smnn_plan_options probe = o;
    probe.systems_per_item = 2;
    probe.generic_kernels = 1;
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(ctx, &p, &probe, &plan), SMNN_SUCCESS);
    assert_int_equal(p.batch, 12);
    size_t limit = 4 * ((smnn_plan_workspace_bytes(plan) - 12 * sizeof(cl_int)) / 12);
    smnn_plan_free(plan);
    char text[32];
    snprintf(text, sizeof text, "%zu", limit);
    setenv("SMNN_SYSTEMS_PER_ITEM", "2", 1);
    setenv("SMNN_GENERIC_KERNELS", "1", 1);
    setenv("SMNN_MAX_ALLOC_BYTES", text, 1);
    /* Options at 0: the environment applies. */
    assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_SUCCESS);
    const smnn_plan_options *r = smnn_plan_get_options(plan);
    assert_int_equal(r->systems_per_item, 2);
    assert_int_equal(r->generic_kernels, 1);
    assert_int_equal(r->max_alloc_bytes, limit);
    assert_int_equal(smnn_plan_chunks(plan), 3); /* 12 systems, 4 per allocation */
    smnn_plan_free(plan);
    /* Explicit options win. */
    o.systems_per_item = 4;
    o.max_alloc_bytes = 1000 * limit;
    assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_SUCCESS);
    r = smnn_plan_get_options(plan);
    assert_int_equal(r->systems_per_item, 4);
    assert_int_equal(r->max_alloc_bytes, 1000 * limit);
    assert_int_equal(smnn_plan_chunks(plan), 1);
    smnn_plan_free(plan);
    /* A malformed value is ignored, as documented. */
    setenv("SMNN_SYSTEMS_PER_ITEM", "3", 1);
    o.systems_per_item = 0;
    assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_SUCCESS);
    assert_int_equal(smnn_plan_get_options(plan)->systems_per_item,
                     row_width(private_width(smnn_context_device(ctx), 6, p.batch), o.precision));
    smnn_plan_free(plan);
    clear_overrides();
}

/* ---- Preparation -------------------------------------------------------------------------- */

static size_t count_programs(smnn_context *ctx) {
    size_t n = 0;
    smnn__context_lock(ctx);
    for (const smnn__program_entry *e = ctx->programs; e; e = e->next) n++;
    smnn__context_unlock(ctx);
    return n;
}

/* On a fresh context (empty memory cache) and an empty disk cache, smnn_plan_prepare(p, opt)
 * compiles one program, and smnn_plan_create(p, opt) then adds none: it uses exactly the
 * prepared one. A plan with other options does add one (so the count can tell). Failures
 * return what smnn_plan_create returns. */
static void test_prepare(void **state) {
    (void)state;
    clear_overrides();
    char dir[] = "/tmp/smnn-test-prepare-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *saved = test_env_save("SMNN_CACHE_DIR");
    setenv("SMNN_CACHE_DIR", dir, 1);
    smnn_context *ctx = NULL;
    assert_status(smnn_context_create(NULL, &ctx), SMNN_SUCCESS);
    int fp64 = smnn_context_device(ctx)->has_fp64;
    smnn_problem p = small_problem();
    struct {
        smnn_precision prec;
        smnn_variant variant;
        int generic;
    } runs[] = {{SMNN_PRECISION_DOUBLE, SMNN_VARIANT_AUTO, 0},
                {SMNN_PRECISION_SINGLE, SMNN_VARIANT_LOCAL, 0},
                {SMNN_PRECISION_SINGLE, SMNN_VARIANT_PRIVATE, 1}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        if (runs[i].prec == SMNN_PRECISION_DOUBLE && !fp64) continue;
        smnn_plan_options o = test_options(runs[i].prec, runs[i].variant);
        o.generic_kernels = runs[i].generic;
        size_t before = count_programs(ctx);
        assert_status(smnn_plan_prepare(ctx, &p, &o), SMNN_SUCCESS);
        size_t prepared = count_programs(ctx);
        fprintf(stderr, "# %s %s%s: %zu program(s) before prepare, %zu after\n",
                runs[i].prec == SMNN_PRECISION_DOUBLE ? "double" : "single",
                smnn_variant_name(runs[i].variant), runs[i].generic ? " generic" : "", before,
                prepared);
        assert_int_equal(prepared, before + 1);
        assert_status(smnn_plan_prepare(ctx, &p, &o), SMNN_SUCCESS); /* again: nothing new */
        assert_int_equal(count_programs(ctx), prepared);
        smnn_plan *plan = NULL;
        assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_SUCCESS);
        if (count_programs(ctx) != prepared)
            fail_msg("run %zu: smnn_plan_create added %zu program(s) after smnn_plan_prepare", i,
                     count_programs(ctx) - prepared);
        smnn_plan_free(plan);
    }
    /* A plan whose program was not prepared adds one: the count sees it. */
    smnn_plan_options o = test_options(SMNN_PRECISION_SINGLE, SMNN_VARIANT_PRIVATE);
    o.systems_per_item = 2;
    size_t before = count_programs(ctx);
    smnn_plan *plan = NULL;
    assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_SUCCESS);
    assert_int_equal(count_programs(ctx), before + 1);
    smnn_plan_free(plan);
    /* Failures: the same status as smnn_plan_create, nothing compiled. */
    before = count_programs(ctx);
    smnn_problem q = p;
    q.steps = 1;
    assert_status(smnn_plan_create(ctx, &q, NULL, &plan), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_plan_prepare(ctx, &q, NULL), SMNN_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(smnn_last_error(), "problem.steps"));
    o = test_options(SMNN_PRECISION_DOUBLE, SMNN_VARIANT_AUTO);
    smnn_status want = fp64 ? SMNN_SUCCESS : SMNN_ERROR_UNSUPPORTED;
    assert_status(smnn_plan_prepare(ctx, &p, &o), want);
    if (!fp64) {
        assert_non_null(strstr(smnn_last_error(), "fp64"));
        assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_ERROR_UNSUPPORTED);
        assert_int_equal(count_programs(ctx), before);
    }
    q = p;
    q.dims = 13;
    q.orders = 5; /* n = 65 */
    assert_status(smnn_plan_create(ctx, &q, NULL, &plan), SMNN_ERROR_UNSUPPORTED);
    assert_status(smnn_plan_prepare(ctx, &q, NULL), SMNN_ERROR_UNSUPPORTED);
    smnn_context_free(ctx);
    test_env_restore("SMNN_CACHE_DIR", saved);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- Layouts ------------------------------------------------------------------------------ */

typedef struct layout_want {
    size_t rank, shape[5], count, batch_stride, time_stride, full_time, row;
    int shared_batch, shared_time;
} layout_want;

static void check_layout(const smnn_problem *p, smnn_input which, const layout_want *w) {
    smnn_layout L;
    memset(&L, 0x5a, sizeof L);
    assert_status(smnn_problem_layout(p, which, &L), SMNN_SUCCESS);
    assert_int_equal(L.full_batch, p->batch);
    assert_int_equal(L.full_time, w->full_time);
    assert_int_equal(L.row, w->row);
    assert_int_equal(L.shared_batch, w->shared_batch);
    assert_int_equal(L.shared_time, w->shared_time);
    assert_int_equal(L.rank, w->rank);
    for (size_t k = 0; k < w->rank; k++)
        if (L.shape[k] != w->shape[k])
            fail_msg("input %d: shape[%zu] = %zu, expected %zu", (int)which, k, L.shape[k],
                     w->shape[k]);
    assert_int_equal(L.count, w->count);
    assert_int_equal(L.batch_stride, w->batch_stride);
    assert_int_equal(L.time_stride, w->time_stride);
    /* The count agrees with the count functions and with the shape. */
    size_t (*const counts[4])(const smnn_problem *) = {smnn_problem_c_count, smnn_problem_d_count,
                                                       smnn_problem_u_count, smnn_problem_s_count};
    assert_int_equal(L.count, counts[which](p));
    size_t prod = 1;
    for (size_t k = 0; k < L.rank; k++) prod *= L.shape[k];
    assert_int_equal(prod, L.count);
    /* Element [b, t, k] lies at b * batch_stride + t * time_stride + k, inside the input. */
    size_t last = (L.full_batch - 1) * L.batch_stride + (L.full_time - 1) * L.time_stride + L.row;
    assert_int_equal(last, L.count);
}

/* Layouts for three sharing patterns, against hand-written shapes and strides. Problem:
 * B = 3, T = 5, V = 2, n_orders = 3, Q = 4, T_init = 2, n_init_orders = 2. */
static void test_layouts(void **state) {
    (void)state;
    smnn_problem p;
    smnn_problem_init(&p);
    p.batch = 3;
    p.steps = 5;
    p.dims = 2;
    p.orders = 3;
    p.equations = 4;
    p.init_steps = 2;
    p.init_orders = 2;
    /* c shared in time; the others given in full. */
    p.shared = SMNN_SHARE_C_TIME;
    const layout_want a[4] = {
        {5, {3, 1, 4, 2, 3}, 72, 24, 0, 5, 24, 0, 1},
        {3, {3, 5, 4}, 60, 20, 4, 5, 4, 0, 0},
        {4, {3, 2, 2, 2}, 24, 8, 4, 2, 4, 0, 0},
        {2, {3, 4}, 12, 4, 1, 4, 1, 0, 0},
    };
    for (int i = 0; i < 4; i++) check_layout(&p, (smnn_input)i, &a[i]);
    /* d shared across the batch, u and s in time. */
    p.shared = SMNN_SHARE_D_BATCH | SMNN_SHARE_U_TIME | SMNN_SHARE_S_TIME;
    const layout_want b[4] = {
        {5, {3, 5, 4, 2, 3}, 360, 120, 24, 5, 24, 0, 0},
        {3, {1, 5, 4}, 20, 0, 4, 5, 4, 1, 0},
        {4, {3, 1, 2, 2}, 12, 4, 0, 2, 4, 0, 1},
        {2, {3, 1}, 3, 1, 0, 4, 1, 0, 1},
    };
    for (int i = 0; i < 4; i++) check_layout(&p, (smnn_input)i, &b[i]);
    /* Everything shared in both dimensions. */
    p.shared = 0xff;
    const layout_want c[4] = {
        {5, {1, 1, 4, 2, 3}, 24, 0, 0, 5, 24, 1, 1},
        {3, {1, 1, 4}, 4, 0, 0, 5, 4, 1, 1},
        {4, {1, 1, 2, 2}, 4, 0, 0, 2, 4, 1, 1},
        {2, {1, 1}, 1, 0, 0, 4, 1, 1, 1},
    };
    for (int i = 0; i < 4; i++) check_layout(&p, (smnn_input)i, &c[i]);
    /* c shared across the batch only, one system. */
    p.shared = SMNN_SHARE_C_BATCH;
    p.batch = 1;
    const layout_want e = {5, {1, 5, 4, 2, 3}, 120, 0, 24, 5, 24, 1, 0};
    check_layout(&p, SMNN_INPUT_C, &e);
    /* Errors. */
    smnn_layout L;
    assert_status(smnn_problem_layout(&p, SMNN_INPUT_C, NULL), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_problem_layout(NULL, SMNN_INPUT_C, &L), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_problem_layout(&p, (smnn_input)4, &L), SMNN_ERROR_INVALID_ARGUMENT);
    p.init_steps = 7;
    assert_status(smnn_problem_layout(&p, SMNN_INPUT_U, &L), SMNN_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(smnn_last_error(), "init_steps"));
}

/* ---- Tuning table ------------------------------------------------------------------------- */

static smnn_device_info fake_device(const char *vendor, int cpu, int gpu) {
    smnn_device_info d;
    memset(&d, 0, sizeof d);
    snprintf(d.device_vendor, sizeof d.device_vendor, "%s", vendor);
    snprintf(d.device_name, sizeof d.device_name, "test device");
    d.is_cpu = cpu;
    d.is_gpu = gpu;
    d.has_fp64 = 1;
    return d;
}

/* The table is well formed and ends with a default row (any vendor, any device, every block
 * the variants hold, any batch); smnn_variant_choose follows its first matching row. */
static void test_tuning_table(void **state) {
    (void)state;
    size_t n = smnn_tuning_rule_count();
    assert_true(n >= 1);
    assert_null(smnn_tuning_rule_at(n));
    for (size_t i = 0; i < n; i++) {
        const smnn_tuning_rule *r = smnn_tuning_rule_at(i);
        assert_non_null(r);
        assert_non_null(r->vendor);
        assert_non_null(r->device);
        assert_true(!strcmp(r->device, "") || !strcmp(r->device, "cpu") ||
                    !strcmp(r->device, "gpu"));
        assert_true(r->variant == SMNN_VARIANT_PRIVATE || r->variant == SMNN_VARIANT_LOCAL);
        int w = r->systems_per_item;
        assert_true(w == 1 || w == 2 || w == 4 || w == 8 || w == 16);
        assert_true(r->max_block >= 1 && r->max_block <= 64);
        assert_non_null(r->why);
        assert_true(strlen(r->why) > 0);
    }
    const smnn_tuning_rule *last = smnn_tuning_rule_at(n - 1);
    assert_string_equal(last->vendor, "");
    assert_string_equal(last->device, "");
    assert_int_equal(last->max_block, 64);
    assert_true(last->min_batch <= 1);

    const smnn_device_info devs[] = {fake_device("Intel(R) Corporation", 1, 0),
                                     fake_device("NVIDIA Corporation", 0, 1),
                                     fake_device("Advanced Micro Devices, Inc.", 0, 1),
                                     fake_device("Some Accelerator", 0, 0)};
    const size_t blocks[] = {1, 3, 6, 8, 9, 16, 17, 32, 64};
    const size_t batches[] = {1, 7, 8, 1000};
    for (size_t d = 0; d < sizeof devs / sizeof devs[0]; d++) {
        for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
            for (size_t j = 0; j < sizeof batches / sizeof batches[0]; j++) {
                const smnn_tuning_rule *r = first_rule(&devs[d], blocks[i], batches[j]);
                assert_non_null(r); /* the default row matches every block up to 64 */
                smnn_variant v = smnn_variant_choose(&devs[d], blocks[i], batches[j]);
                if (v != r->variant)
                    fail_msg("%s (cpu %d, gpu %d), n = %zu, B = %zu: smnn_variant_choose says "
                             "%s, the first matching row %s",
                             devs[d].device_vendor, devs[d].is_cpu, devs[d].is_gpu, blocks[i],
                             batches[j], smnn_variant_name(v), smnn_variant_name(r->variant));
            }
        }
    }
    /* The real device: the plans' automatic choice is the table's. */
    smnn_context *ctx = test_context();
    const smnn_device_info *dev = smnn_context_device(ctx);
    clear_overrides();
    const size_t shapes[][2] = {{1, 1}, {2, 12}, {8, 1}, {4, 16}}; /* (dims, batch), n_orders 4 */
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        smnn_problem p;
        smnn_problem_init(&p);
        p.dims = shapes[i][0];
        p.orders = 4;
        p.equations = p.dims;
        p.batch = shapes[i][1];
        size_t nb = p.dims * p.orders;
        const smnn_tuning_rule *r = first_rule(dev, nb, p.batch);
        assert_int_equal(smnn_variant_choose(dev, nb, p.batch), r->variant);
        smnn_plan_options o = test_options(SMNN_PRECISION_SINGLE, SMNN_VARIANT_AUTO);
        smnn_plan *plan = NULL;
        assert_status(smnn_plan_create(ctx, &p, &o, &plan), SMNN_SUCCESS);
        assert_int_equal(smnn_plan_variant(plan), r->variant);
        if (r->variant == SMNN_VARIANT_PRIVATE)
            assert_int_equal(smnn_plan_get_options(plan)->systems_per_item,
                             row_width(r->systems_per_item, SMNN_PRECISION_SINGLE));
        smnn_plan_free(plan);
    }
}

static int group_setup(void **state) {
    (void)state;
    return test_context() ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_defaults),
        cmocka_unit_test(test_option_struct_size),
        cmocka_unit_test(test_option_struct_size_padding),
        cmocka_unit_test(test_problem_struct_size),
        cmocka_unit_test(test_environment_overrides),
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_tuning_table),
    };
    return cmocka_run_group_tests_name("api", tests, group_setup, test_teardown_context);
}
