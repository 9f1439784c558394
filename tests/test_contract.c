/* The host-kernel contract (cl/contract.h): every kernel of every program shape takes exactly the
 * arguments, in the order and with the names, that the host's argument tables say. The programs
 * are built with -cl-kernel-arg-info so that the driver reports the names it compiled. */
#include <stdio.h>
#include <string.h>

#include "contract.h"
#include "internal.h"
#include "testutil.h"

static const char *const solver_args[] = {SMNN_SOLVER_ARGS(SMNN_AS_NAME, SMNN_AS_NAME)};
static const char *const residual_args[] = {SMNN_RESIDUAL_ARGS(SMNN_AS_NAME, SMNN_AS_NAME)};
static const char *const gradient_args[] = {SMNN_GRADIENT_ARGS(SMNN_AS_NAME, SMNN_AS_NAME)};
static const char *const backgrad_args[] = {SMNN_BACKGRAD_ARGS(SMNN_AS_NAME, SMNN_AS_NAME)};
static const char *const reduce_args[] = {SMNN_REDUCE_ARGS(SMNN_AS_NAME, SMNN_AS_NAME)};
static const char *const update_args[] = {SMNN_UPDATE_ARGS(SMNN_AS_NAME, SMNN_AS_NAME)};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Kinds of program a kernel is in (bits): local-variant programs (SMNN_VARIANT 0 or 2 at
 * VW = 1), partitioned ones (SMNN_TIME_LANES=1) and sequential ones (every program that is not
 * partitioned). */
enum { IN_ALL = 0, IN_LOCAL = 1, IN_TIME = 2, IN_SEQ = 4 };

typedef struct kernel_table {
    const char *kernel;
    const char *const *args;
    size_t nargs, count_enum; /* names in the table, and the host's SMNN_<TABLE>_COUNT_ */
    unsigned in; /* IN_ALL, or the kinds of program (bits) that hold the kernel */
} kernel_table;

static const kernel_table kernels[] = {
    {"smnn_factor_private", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, IN_SEQ},
    {"smnn_forward_substitute_private", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, IN_SEQ},
    {"smnn_back_substitute_private", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, IN_SEQ},
    {"smnn_factor_local", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, 1},
    {"smnn_forward_substitute_local", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, 1},
    {"smnn_back_substitute_local", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, 1},
    {"smnn_residual", residual_args, N_OF(residual_args), SMNN_RESIDUAL_COUNT_,
     IN_LOCAL | IN_TIME},
    {"smnn_factor_chunks", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, IN_TIME},
    {"smnn_forward_chunks", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, IN_TIME},
    {"smnn_back_chunks", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, IN_TIME},
    {"smnn_factor_separators", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, IN_TIME},
    {"smnn_solve_separators", solver_args, N_OF(solver_args), SMNN_SOLVER_COUNT_, IN_TIME},
    {"smnn_gradient", gradient_args, N_OF(gradient_args), SMNN_GRADIENT_COUNT_, 0},
    {"smnn_back_gradient_private", backgrad_args, N_OF(backgrad_args), SMNN_BACKGRAD_COUNT_,
     IN_SEQ},
    {"smnn_reduce", reduce_args, N_OF(reduce_args), SMNN_REDUCE_COUNT_, 0},
    {"smnn_refine_update", update_args, N_OF(update_args), SMNN_UPDATE_COUNT_, 0},
};

/* Checks every kernel of the program built with `extra` defines. Returns 0 when the driver has
 * no argument information (the test then skips). */
static int check_program(const char *extra, unsigned kind) {
    smnn_context *ctx = test_context();
    char opts[256];
    snprintf(opts, sizeof opts, "-cl-kernel-arg-info %s", extra);
    cl_program prog;
    smnn_precision prec =
        smnn_context_device(ctx)->has_fp64 ? SMNN_PRECISION_DOUBLE : SMNN_PRECISION_SINGLE;
    assert_status(smnn__kernels_program(ctx, prec, opts, &prog), SMNN_SUCCESS);
    for (size_t i = 0; i < N_OF(kernels); i++) {
        const kernel_table *t = &kernels[i];
        if (t->in == IN_SEQ && (kind & IN_TIME)) {
            /* Left out of partitioned programs (common.cl SMNN_HAS_WALK): never compiled. */
            cl_int err;
            cl_kernel k = clCreateKernel(prog, t->kernel, &err);
            if (k) {
                clReleaseKernel(k);
                fail_msg("%s (%s): a partitioned program holds the sequential walk's kernel",
                         t->kernel, extra);
            }
            continue;
        }
        if (t->in != IN_ALL && !(t->in & kind)) continue;
        assert_int_equal(t->nargs, t->count_enum);
        cl_int err;
        cl_kernel k = clCreateKernel(prog, t->kernel, &err);
        if (!k) fail_msg("%s (%s): clCreateKernel: %s", t->kernel, extra, smnn_cl_error_name(err));
        cl_uint nargs = 0;
        assert_int_equal(clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL),
                         CL_SUCCESS);
        if (nargs != t->nargs)
            fail_msg("%s (%s): the kernel has %u arguments, contract.h lists %zu", t->kernel,
                     extra, nargs, t->nargs);
        for (cl_uint a = 0; a < nargs; a++) {
            char name[64] = "";
            err = clGetKernelArgInfo(k, a, CL_KERNEL_ARG_NAME, sizeof name, name, NULL);
            if (err == CL_KERNEL_ARG_INFO_NOT_AVAILABLE) {
                clReleaseKernel(k);
                return 0;
            }
            assert_int_equal(err, CL_SUCCESS);
            if (strcmp(name, t->args[a]) != 0)
                fail_msg("%s (%s): argument %u is '%s', contract.h says '%s'", t->kernel, extra, a,
                         name, t->args[a]);
        }
        clReleaseKernel(k);
    }
    return 1;
}

static void test_kernel_arguments(void **state) {
    (void)state;
    /* Both variants at one system per work-item, generic and specialised; the private variant
     * at eight systems per work-item; partitioned (parallel-in-time) programs at one and eight
     * lanes per work-item. */
    static const struct {
        const char *extra;
        unsigned kind;
    } shapes[] = {
        {"-DSMNN_VARIANT=0 -DNMAX=8 -DWG=8 -DVW=1", IN_LOCAL | IN_SEQ},
        {"-DSMNN_VARIANT=0 -DNMAX=6 -DWG=16 -DVW=1 -DNFIX=6 -DVFIX=2 -DR1FIX=3 -DQFIX=2",
         IN_LOCAL | IN_SEQ},
        {"-DSMNN_VARIANT=1 -DNMAX=3 -DWG=8 -DVW=8 -DNFIX=3 -DVFIX=1 -DR1FIX=3 -DQFIX=1", IN_SEQ},
        {"-DSMNN_VARIANT=1 -DSMNN_FACTOR=1 -DNMAX=4 -DWG=8 -DVW=1 -DSMNN_TIME_LANES=1", IN_TIME},
        {"-DSMNN_VARIANT=1 -DSMNN_FACTOR=1 -DNMAX=3 -DWG=8 -DVW=8 -DNFIX=3 -DVFIX=1 -DR1FIX=3 "
         "-DQFIX=1 -DSMNN_TIME_LANES=1", IN_TIME},
    };
    for (size_t i = 0; i < N_OF(shapes); i++) {
        if (!check_program(shapes[i].extra, shapes[i].kind)) {
            skip();
            return;
        }
        fprintf(stderr, "# %s: every kernel's arguments match contract.h\n", shapes[i].extra);
    }
}

/* The workspace records: L_t packed, K_t, z_t (compact: L_t, z_t, s_t), in that order and
 * without gaps. */
static void test_record_layout(void **state) {
    (void)state;
    for (int n = 1; n <= 64; n++) {
        assert_int_equal(SMNN_OFF_K(n), n * (n + 1) / 2);
        assert_int_equal(SMNN_OFF_Z(n), SMNN_OFF_K(n) + n * n);
        assert_int_equal(SMNN_REC(n), SMNN_OFF_Z(n) + n);
        assert_int_equal(SMNN_PIDX(n - 1, n - 1) + 1, SMNN_LP(n));
        /* The compact record: L_t packed, z_t, s_t. */
        assert_int_equal(SMNN_OFF_Z_COMPACT(n), n * (n + 1) / 2);
        assert_int_equal(SMNN_OFF_S_COMPACT(n), SMNN_OFF_Z_COMPACT(n) + n);
        assert_int_equal(SMNN_REC_COMPACT(n), SMNN_OFF_S_COMPACT(n) + 1);
        /* The partitioned walk's records (contract.h "Parallel in time"): the sequential
         * record then F_t; the boundary terms S_l, S_r (packed), the coupling, g_l, g_r. */
        assert_int_equal(SMNN_OFF_F(n), SMNN_REC(n));
        assert_int_equal(SMNN_PREC(n), SMNN_OFF_F(n) + n * n);
        assert_int_equal(SMNN_BOFF_SR(n), SMNN_BOFF_SL(n) + SMNN_LP(n));
        assert_int_equal(SMNN_BOFF_SRL(n), SMNN_BOFF_SR(n) + SMNN_LP(n));
        assert_int_equal(SMNN_BOFF_GL(n), SMNN_BOFF_SRL(n) + n * n);
        assert_int_equal(SMNN_BOFF_GR(n), SMNN_BOFF_GL(n) + n);
        assert_int_equal(SMNN_BREC(n), SMNN_BOFF_GR(n) + n);
    }
}

/* Single-precision programs ask for correctly rounded division and sqrt exactly when the device
 * reports it can (CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT, read here from the driver itself), and
 * double-precision programs never carry the single-precision flag. */
static void test_single_division_option(void **state) {
    (void)state;
    smnn_context *ctx = test_context();
    cl_device_id dev = smnn_context_cl_device(ctx);
    cl_device_fp_config cfg = 0;
    assert_int_equal(clGetDeviceInfo(dev, CL_DEVICE_SINGLE_FP_CONFIG, sizeof cfg, &cfg, NULL),
                     CL_SUCCESS);
    int correct = (cfg & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
    assert_int_equal(smnn_context_device(ctx)->fp32_correct_div_sqrt, correct);
    for (int prec = SMNN_PRECISION_DOUBLE; prec <= SMNN_PRECISION_SINGLE; prec++) {
        if (prec == SMNN_PRECISION_DOUBLE && !smnn_context_device(ctx)->has_fp64) continue;
        cl_program prog;
        assert_status(smnn__kernels_program(ctx, (smnn_precision)prec,
                                            "-DSMNN_VARIANT=1 -DNMAX=3 -DVW=1", &prog),
                      SMNN_SUCCESS);
        char opts[1024] = "";
        assert_int_equal(clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_OPTIONS, sizeof opts,
                                               opts, NULL),
                         CL_SUCCESS);
        int has = strstr(opts, "-cl-fp32-correctly-rounded-divide-sqrt") != NULL;
        fprintf(stderr, "# %s precision, device %s correctly rounded division: options '%s'\n",
                prec == SMNN_PRECISION_DOUBLE ? "double" : "single", correct ? "reports" : "lacks",
                opts);
        assert_int_equal(has, prec == SMNN_PRECISION_SINGLE && correct);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_arguments),
        cmocka_unit_test(test_record_layout),
        cmocka_unit_test(test_single_division_option),
    };
    return cmocka_run_group_tests(tests, NULL, test_teardown_context);
}
