/* The host runtime: device enumeration and choice (index, substring, environment, errors),
 * context creation and adoption, building every kernel program and source, a broken source's
 * build log, the disk cache (miss, hit, unwritable folder, corrupted and truncated entries),
 * and builds that print nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

static void test_enumerate(void **state) {
    (void)state;
    smnn_device_list *list = NULL;
    assert_status(smnn_device_list_create(&list), SMNN_SUCCESS);
    size_t n = smnn_device_list_count(list);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        const smnn_device_info *d = smnn_device_list_at(list, i);
        assert_non_null(d);
        assert_true(strlen(d->device_name) > 0);
        assert_true(strlen(d->platform_name) > 0);
        assert_true(d->compute_units >= 1);
        assert_true(d->max_work_group_size >= 1);
        assert_true(d->max_alloc_bytes > 0);
        assert_true(d->local_mem_bytes > 0);
    }
    assert_null(smnn_device_list_at(list, n));
    smnn_device_list_free(list);
    smnn_device_list_free(NULL);
}

/* Platforms that list no device (Mesa's Clover without a supported GPU, Rusticl without
 * RUSTICL_ENABLE) are skipped by the device list: it still succeeds, holds every device of the
 * other platforms and none of theirs. Skipped, saying so, where every platform has a device. */
static void test_platforms_without_devices(void **state) {
    (void)state;
    cl_uint np = 0;
    assert_int_equal(clGetPlatformIDs(0, NULL, &np), CL_SUCCESS);
    cl_platform_id *pfs = calloc(np, sizeof *pfs);
    assert_non_null(pfs);
    assert_int_equal(clGetPlatformIDs(np, pfs, NULL), CL_SUCCESS);
    size_t empty = 0, devices = 0;
    unsigned char *is_empty = calloc(np, 1);
    assert_non_null(is_empty);
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        cl_int err = clGetDeviceIDs(pfs[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (err != CL_SUCCESS || nd == 0) {
            char name[128] = "";
            clGetPlatformInfo(pfs[p], CL_PLATFORM_NAME, sizeof name, name, NULL);
            fprintf(stderr, "# platform %u '%s' has no device (%d)\n", p, name, (int)err);
            is_empty[p] = 1;
            empty++;
        } else {
            devices += nd;
        }
    }
    free(pfs);
    if (!empty) {
        free(is_empty);
        fprintf(stderr, "# skipped: every OpenCL platform here has a device (installing "
                        "mesa-opencl-icd registers Clover, which has none)\n");
        skip();
    }
    smnn_device_list *list = NULL;
    assert_status(smnn_device_list_create(&list), SMNN_SUCCESS);
    assert_int_equal(smnn_device_list_count(list), devices);
    for (size_t i = 0; i < smnn_device_list_count(list); i++) {
        const smnn_device_info *d = smnn_device_list_at(list, i);
        assert_true(d->platform_index < np);
        if (is_empty[d->platform_index])
            fail_msg("device %zu '%s' listed on platform %u, which has no device", i,
                     d->device_name, d->platform_index);
        assert_true(strlen(d->device_name) > 0);
    }
    fprintf(stderr, "# %zu platform(s) without devices skipped; %zu device(s) listed\n", empty,
            devices);
    smnn_device_list_free(list);
    free(is_empty);
}

static void test_choose(void **state) {
    (void)state;
    smnn_device_list *list = NULL;
    assert_status(smnn_device_list_create(&list), SMNN_SUCCESS);
    const smnn_device_info *first = smnn_device_list_at(list, 0);
    size_t idx = 99;
    const char *why = NULL;
    unsetenv("SMNN_DEVICE");
    /* Default: the first GPU, else the first device. */
    assert_status(smnn_device_list_choose(list, NULL, &idx, &why), SMNN_SUCCESS);
    size_t gpu = SIZE_MAX;
    for (size_t i = 0; i < smnn_device_list_count(list) && gpu == SIZE_MAX; i++)
        if (smnn_device_list_at(list, i)->is_gpu) gpu = i;
    assert_int_equal(idx, gpu == SIZE_MAX ? 0 : gpu);
    assert_non_null(why);
    /* By index. */
    char spec[300];
    snprintf(spec, sizeof spec, "%u:%u", first->platform_index, first->device_index);
    assert_status(smnn_device_list_choose(list, spec, &idx, NULL), SMNN_SUCCESS);
    assert_int_equal(idx, 0);
    /* By case-insensitive substring of the platform and of the device name. */
    char sub[8];
    snprintf(sub, sizeof sub, "%.4s", first->device_name);
    for (char *p = sub; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p + 0);
    snprintf(spec, sizeof spec, ":%s", sub);
    assert_status(smnn_device_list_choose(list, spec, &idx, NULL), SMNN_SUCCESS);
    assert_string_equal(smnn_device_list_at(list, idx)->device_name, first->device_name);
    snprintf(spec, sizeof spec, "%.5s", first->platform_name);
    assert_status(smnn_device_list_choose(list, spec, &idx, NULL), SMNN_SUCCESS);
    /* Through the environment. */
    snprintf(spec, sizeof spec, "%u:%u", first->platform_index, first->device_index);
    setenv("SMNN_DEVICE", spec, 1);
    assert_status(smnn_device_list_choose(list, NULL, &idx, &why), SMNN_SUCCESS);
    assert_int_equal(idx, 0);
    assert_non_null(strstr(why, "SMNN_DEVICE"));
    setenv("SMNN_DEVICE", "no-such-platform-xyz", 1);
    assert_status(smnn_device_list_choose(list, "", &idx, NULL), SMNN_ERROR_DEVICE_NOT_FOUND);
    assert_non_null(strstr(smnn_last_error(), "no-such-platform-xyz"));
    smnn_context *ctx = NULL;
    assert_status(smnn_context_create(NULL, &ctx), SMNN_ERROR_DEVICE_NOT_FOUND);
    assert_null(ctx);
    unsetenv("SMNN_DEVICE");
    /* Bad specs. */
    assert_status(smnn_device_list_choose(list, "99:0", &idx, NULL), SMNN_ERROR_DEVICE_NOT_FOUND);
    assert_non_null(strstr(smnn_last_error(), "Devices:"));
    assert_status(smnn_device_list_choose(list, "0:77", &idx, NULL), SMNN_ERROR_DEVICE_NOT_FOUND);
    assert_status(smnn_device_list_choose(list, "0:0:0", &idx, NULL), SMNN_ERROR_INVALID_ARGUMENT);
    assert_status(smnn_device_list_choose(NULL, "0", &idx, NULL), SMNN_ERROR_INVALID_ARGUMENT);
    smnn_device_list_free(list);
}

static void test_context_adopt(void **state) {
    (void)state;
    smnn_context *own = test_context();
    assert_non_null(own);
    smnn_context *ctx = NULL;
    assert_status(smnn_context_create_from_cl(smnn_context_cl_context(own),
                                              smnn_context_cl_device(own),
                                              smnn_context_cl_queue(own), &ctx),
                  SMNN_SUCCESS);
    assert_ptr_equal(smnn_context_cl_queue(ctx), smnn_context_cl_queue(own));
    assert_string_equal(smnn_context_device(ctx)->device_name,
                        smnn_context_device(own)->device_name);
    smnn_context_free(ctx); /* releases only its own references */
    assert_status(smnn_context_create_from_cl(NULL, smnn_context_cl_device(own),
                                              smnn_context_cl_queue(own), &ctx),
                  SMNN_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(smnn_last_error(), "context"));
    /* A queue from another context is refused. */
    cl_int err;
    cl_device_id dev = smnn_context_cl_device(own);
    cl_context other = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    assert_non_null(other);
    assert_status(smnn_context_create_from_cl(other, dev, smnn_context_cl_queue(own), &ctx),
                  SMNN_ERROR_INVALID_ARGUMENT);
    clReleaseContext(other);
    /* The shared context still works after the adopted one was freed. */
    smnn_problem p;
    smnn_problem_init(&p);
    smnn_plan_options opt = test_options(SMNN_PRECISION_SINGLE, SMNN_VARIANT_AUTO);
    assert_status(smnn_plan_prepare(own, &p, &opt), SMNN_SUCCESS);
}

/* Every kernel program compiles on the device, for both variants and every block capacity, in
 * both precisions (double only where the device has fp64): the shape-generic programs of a
 * batch of 1024 for a block of each capacity of the variants' ladders (lib/solver/tuning.c),
 * through smnn_plan_prepare. */
static void test_build_all(void **state) {
    (void)state;
    smnn_context *ctx = test_context();
    static const size_t private_caps[] = {4, 8, 16, 32, 64}, local_caps[] = {16, 32, 64};
    for (int prec = SMNN_PRECISION_DOUBLE; prec <= SMNN_PRECISION_SINGLE; prec++) {
        int have = prec == SMNN_PRECISION_SINGLE || smnn_context_device(ctx)->has_fp64;
        for (int v = SMNN_VARIANT_PRIVATE; v <= SMNN_VARIANT_LOCAL; v++) {
            const size_t *caps = v == SMNN_VARIANT_PRIVATE ? private_caps : local_caps;
            size_t ncaps = v == SMNN_VARIANT_PRIVATE ? 5 : 3;
            for (size_t i = 0; i < ncaps; i++) {
                smnn_problem p;
                smnn_problem_init(&p);
                p.batch = 1024;
                p.orders = caps[i];
                smnn_plan_options opt = test_options((smnn_precision)prec, (smnn_variant)v);
                opt.generic_kernels = 1;
                smnn_status st = smnn_plan_prepare(ctx, &p, &opt);
                if (!have) {
                    assert_status(st, SMNN_ERROR_UNSUPPORTED);
                    continue;
                }
                /* A device whose local memory cannot hold the block: nothing to build. */
                if (st == SMNN_ERROR_UNSUPPORTED && v == SMNN_VARIANT_LOCAL) continue;
                assert_status(st, SMNN_SUCCESS);
            }
        }
    }
    smnn_problem p;
    smnn_problem_init(&p);
    smnn_plan_options opt = test_options((smnn_precision)7, SMNN_VARIANT_AUTO);
    assert_status(smnn_plan_prepare(ctx, &p, &opt), SMNN_ERROR_INVALID_ARGUMENT);
    /* Each source compiles with only those before it that it builds on (a file set that compiles
     * only together hides errors): contract.h and common.cl, then assemble.cl, then block.cl;
     * every later stage alone on top of those four. */
    for (size_t i = 1; i < smnn__cl_source_count; i++) {
        const char *srcs[8];
        size_t n = 0;
        for (size_t k = 0; k < i && k < 4; k++) srcs[n++] = smnn__cl_sources[k].text;
        srcs[n++] = smnn__cl_sources[i].text;
        cl_program prog;
        if (smnn__program_get(ctx, srcs, n, "-DSMNN_DOUBLE=0", &prog, NULL) != SMNN_SUCCESS)
            fail_msg("%s on top of the sources before it: %s", smnn__cl_sources[i].name,
                     smnn_last_error());
    }
}

static void test_broken_source(void **state) {
    (void)state;
    smnn_context *ctx = test_context();
    const char *src[] = {"__kernel void broken(__global float *x) { x[0] = undeclared_name; }\n"};
    cl_program prog = NULL;
    assert_status(smnn__program_get(ctx, src, 1, "-DMARKER_OPTION=1", &prog, NULL),
                  SMNN_ERROR_BUILD_FAILED);
    const char *msg = smnn_context_last_error(ctx);
    assert_non_null(strstr(msg, "build log"));
    assert_non_null(strstr(msg, "undeclared_name"));
    assert_non_null(strstr(msg, "-DMARKER_OPTION=1"));
    assert_string_equal(msg, smnn_last_error());
    /* The context stays usable. */
    const char *good[] = {"__kernel void fine(__global float *x) { x[0] = 1.0f; }\n"};
    assert_status(smnn__program_get(ctx, good, 1, "", &prog, NULL), SMNN_SUCCESS);
}

static char cache_dir[256];

static size_t count_entries(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.bin 2>/dev/null | wc -l", cache_dir);
    FILE *f = popen(cmd, "r");
    size_t n = 0;
    if (f) {
        if (fscanf(f, "%zu", &n) != 1) n = 0;
        pclose(f);
    }
    return n;
}

static void corrupt_all(const char *how) {
    char cmd[512];
    if (!strcmp(how, "truncate"))
        snprintf(cmd, sizeof cmd, "for f in %s/*.bin; do truncate -s 40 \"$f\"; done", cache_dir);
    else
        snprintf(cmd, sizeof cmd,
                 "for f in %s/*.bin; do printf 'garbage!' | dd of=\"$f\" bs=1 seek=48 "
                 "conv=notrunc 2>/dev/null; done",
                 cache_dir);
    assert_int_equal(system(cmd), 0);
}

static void test_disk_cache(void **state) {
    (void)state;
    snprintf(cache_dir, sizeof cache_dir, "/tmp/smnn-test-cache-%ld", (long)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", cache_dir);
    assert_int_equal(system(cmd), 0);
    setenv("SMNN_CACHE_DIR", cache_dir, 1);
    unsetenv("SMNN_CACHE_DISABLE");
    char tag[32];
    snprintf(tag, sizeof tag, "t%ld", (long)getpid());
    /* Miss: built from source and stored. */
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_SOURCE);
    assert_int_equal(count_entries(), 1);
    /* Hit. */
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_DISK);
    /* Corrupted payload: detected, rebuilt, replaced. */
    corrupt_all("garbage");
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_SOURCE);
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_DISK);
    /* Truncated entry. */
    corrupt_all("truncate");
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_SOURCE);
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_DISK);
    /* Disabled: always from source, nothing written. */
    setenv("SMNN_CACHE_DISABLE", "1", 1);
    assert_int_equal(test_build_fresh("disabled"), SMNN__FROM_SOURCE);
    assert_int_equal(count_entries(), 1);
    unsetenv("SMNN_CACHE_DISABLE");
    /* Unwritable folder (a regular file where the folder should be): builds still succeed. */
    char blocked[300];
    snprintf(blocked, sizeof blocked, "%s/not-a-dir", cache_dir);
    FILE *f = fopen(blocked, "w");
    assert_non_null(f);
    fclose(f);
    char sub[400];
    snprintf(sub, sizeof sub, "%s/inside", blocked);
    setenv("SMNN_CACHE_DIR", sub, 1);
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_SOURCE);
    assert_int_equal(test_build_fresh(tag), SMNN__FROM_SOURCE);
    /* XDG_CACHE_HOME is honoured when SMNN_CACHE_DIR is unset. */
    unsetenv("SMNN_CACHE_DIR");
    char xdg[300];
    snprintf(xdg, sizeof xdg, "%s/xdg", cache_dir);
    setenv("XDG_CACHE_HOME", xdg, 1);
    char *dir = smnn__cache_dir();
    char want[320];
    snprintf(want, sizeof want, "%s/smnn", xdg);
    assert_string_equal(dir, want);
    free(dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s", cache_dir);
    assert_int_equal(system(cmd), 0);
}

/* Where the driver keeps its own kernel cache (PoCL, unless POCL_KERNEL_CACHE=0), smnn's disk
 * cache is skipped: a fresh program is built from source every time and nothing is stored. Every
 * other driver keeps smnn's. */
static void test_disk_cache_driver(void **state) {
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/smnn-test-driver-cache-%ld", (long)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    char *was = test_env_save("POCL_KERNEL_CACHE");
    setenv("SMNN_CACHE_DIR", dir, 1);
    unsetenv("SMNN_CACHE_DISABLE");
    for (int pocl_off = 0; pocl_off <= 1; pocl_off++) {
        if (pocl_off)
            setenv("POCL_KERNEL_CACHE", "0", 1);
        else
            unsetenv("POCL_KERNEL_CACHE");
        smnn_context *ctx = NULL;
        assert_status(smnn_context_create(NULL, &ctx), SMNN_SUCCESS);
        int pocl = test_is_pocl(smnn_context_device(ctx));
        int want = !(pocl && !pocl_off);
        assert_int_equal(ctx->disk_cache, want);
        char src[160];
        snprintf(src, sizeof src, "__kernel void d_%ld_%d(__global float *x) { x[0] = 3.0f; }\n",
                 (long)getpid(), pocl_off);
        const char *srcs[] = {src};
        cl_program prog;
        smnn__program_origin from;
        assert_status(smnn__program_get(ctx, srcs, 1, "", &prog, &from), SMNN_SUCCESS);
        assert_int_equal(from, SMNN__FROM_SOURCE);
        smnn_context_free(ctx);
        /* A second context: from disk only where the cache is used. */
        assert_status(smnn_context_create(NULL, &ctx), SMNN_SUCCESS);
        assert_status(smnn__program_get(ctx, srcs, 1, "", &prog, &from), SMNN_SUCCESS);
        assert_int_equal(from, want ? SMNN__FROM_DISK : SMNN__FROM_SOURCE);
        smnn_context_free(ctx);
        fprintf(stderr, "# %s, POCL_KERNEL_CACHE %s: smnn's disk cache %s\n",
                pocl ? "PoCL" : "not PoCL", pocl_off ? "0" : "unset", want ? "used" : "skipped");
    }
    test_env_restore("POCL_KERNEL_CACHE", was);
    unsetenv("SMNN_CACHE_DIR");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* The child of test_build_quiet (this program run with --prepare-plans, its caches off): the
 * programs of a plan for n = 3 and for n = 16 (blocks unrolled, blocks in loops) in the device's
 * precision, compiled from source. Prints only on failure; returns the exit status. */
static int prepare_plans(void) {
    smnn_context *ctx = NULL;
    if (smnn_context_create(NULL, &ctx) != SMNN_SUCCESS) {
        printf("context: %s\n", smnn_last_error());
        return 1;
    }
    static const size_t orders[] = {3, 4}, dims[] = {1, 4};
    int rc = 0;
    for (int k = 0; k < 2 && !rc; k++) {
        smnn_problem p;
        smnn_problem_init(&p);
        p.batch = 64;
        p.steps = 20;
        p.dims = dims[k];
        p.orders = orders[k];
        p.equations = dims[k];
        smnn_plan_options opt = test_options(test_device_precision(), SMNN_VARIANT_AUTO);
        if (smnn_plan_prepare(ctx, &p, &opt) != SMNN_SUCCESS) {
            printf("n = %zu: %s\n", p.dims * p.orders, smnn_last_error());
            rc = 1;
        }
    }
    test_context_release();
    smnn_context_free(ctx);
    return rc;
}

/* Compiling a plan's programs prints nothing on the caller's stdout or stderr: the driver's
 * compiler reports no warnings there (PoCL prints clang's; on an AVX2 CPU -Wpsabi gave 75 to 79
 * per program, cl/common.cl). Run in a child process whose kernel caches are off (PoCL reads
 * POCL_KERNEL_CACHE once, when it starts), so that every program really compiles. */
static void test_build_quiet(void **state) {
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char *pocl = test_env_save("POCL_KERNEL_CACHE");
    char *off = test_env_save("SMNN_CACHE_DISABLE");
    char *asan = test_env_save("ASAN_OPTIONS");
    setenv("POCL_KERNEL_CACHE", "0", 1);
    setenv("SMNN_CACHE_DISABLE", "1", 1);
    /* Under the sanitizers the child checks output only: its leak check at exit would print
     * (PoCL's teardown can crash LeakSanitizer's tracer, tests/sanitize.sh) into what is checked;
     * every other test checks leaks. */
    if (getenv("SMNN_TEST_SANITIZE")) {
        char opts[512];
        snprintf(opts, sizeof opts, "%s%sdetect_leaks=0", asan ? asan : "", asan ? ":" : "");
        setenv("ASAN_OPTIONS", opts, 1);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execl("/proc/self/exe", "test_runtime", "--prepare-plans", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    test_env_restore("POCL_KERNEL_CACHE", pocl);
    test_env_restore("SMNN_CACHE_DISABLE", off);
    test_env_restore("ASAN_OPTIONS", asan);
    assert_true(pid > 0);
    /* Read to the end (the child must never block on a full pipe); keep the start. */
    char text[1024], chunk[4096];
    size_t got = 0, total = 0;
    ssize_t r;
    while ((r = read(fds[0], chunk, sizeof chunk)) > 0) {
        size_t take = (size_t)r < sizeof text - 1 - got ? (size_t)r : sizeof text - 1 - got;
        memcpy(text + got, chunk, take);
        got += take;
        total += (size_t)r;
    }
    text[got] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the child building the programs failed (status %d): %s", status, text);
    if (total) fail_msg("building the programs printed %zu bytes: %s", total, text);
}

static void test_status_strings(void **state) {
    (void)state;
    /* Values are pinned: they are part of the ABI. */
    assert_int_equal(SMNN_SUCCESS, 0);
    assert_int_equal(SMNN_ERROR_INVALID_ARGUMENT, 1);
    assert_int_equal(SMNN_ERROR_BUILD_FAILED, 6);
    assert_int_equal(SMNN_ERROR_NOT_POSITIVE_DEFINITE, 8);
    assert_int_equal(SMNN_ERROR_INVALID_STATE, 14);
    assert_int_equal(SMNN_ERROR_NOT_CONVERGED, 15);
    assert_string_equal(smnn_status_name(SMNN_ERROR_BUILD_FAILED), "SMNN_ERROR_BUILD_FAILED");
    assert_string_equal(smnn_status_name((smnn_status)999), "SMNN_STATUS_UNKNOWN");
    assert_non_null(strstr(smnn_status_string(SMNN_ERROR_NO_PLATFORM), "pocl"));
    assert_string_equal(smnn_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
    assert_string_equal(smnn_cl_error_name(-12345), "CL_UNKNOWN_ERROR");
    assert_int_equal(smnn_version_number(), SMNN_VERSION_NUMBER);
    assert_string_equal(smnn_version(), SMNN_VERSION_STRING);
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--prepare-plans")) return prepare_plans();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_enumerate),
        cmocka_unit_test(test_platforms_without_devices),
        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_context_adopt),
        cmocka_unit_test(test_build_all),
        cmocka_unit_test(test_broken_source),
        cmocka_unit_test(test_disk_cache),
        cmocka_unit_test(test_disk_cache_driver),
        cmocka_unit_test(test_build_quiet),
    };
    return cmocka_run_group_tests_name("runtime", tests, NULL, test_teardown_context);
}
