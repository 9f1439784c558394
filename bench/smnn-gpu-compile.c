/* smnn-gpu-compile: compiles every program a plan would build on a GPU (block shapes x variant x
 * precision, with the defines and options the library itself uses) offline with clang for
 * NVIDIA (nvptx64, PTX) and AMD (amdgcn, gfx90a) targets, fails on any compile error, and
 * reports what decides the speed of the per-work-item variant on a GPU: the private memory each
 * kernel keeps per work-item (PTX local depot bytes; AMD scratch bytes per lane, VGPRs and
 * occupancy).
 *
 * The GPU is described, not present: the shapes are chosen by the library's own tuning table
 * (lib/solver/tuning.c) for a device with is_gpu = 1, 48 KiB of local memory and work-groups of
 * 1024, plus each variant forced. clang runs without a shell (posix_spawnp), its source is the
 * library's embedded kernels written to a temporary folder.
 *
 * Usage: smnn-gpu-compile [--clang PATH] [--quick] [--format text|csv]
 * Exit 0 when every program compiled for both targets, 1 on any compile error, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "solver/solver_internal.h"
#include "cli.h"

extern char **environ;

/* Block shapes (V, n_orders, Q) from the paper's workloads up to the largest block. */
static const int shapes[][3] = {{1, 3, 1}, {3, 3, 3}, {2, 4, 2}, {4, 4, 4}, {8, 4, 8}, {16, 4, 16}};
static const int quick_shapes[][3] = {{1, 3, 1}, {4, 4, 4}};

typedef struct target {
    const char *name;
    const char *args[8]; /* target arguments, NULL-terminated */
    const char *ext;
} target;

static const target targets[] = {
    {"nvptx64", {"-target", "nvptx64-nvidia-nvcl", "-S", NULL}, "ptx"},
    {"amdgcn-gfx90a",
     {"-target", "amdgcn-amd-amdhsa", "-mcpu=gfx90a", "-nogpulib", "-c",
      "-Rpass-analysis=kernel-resource-usage", NULL},
     "o"},
};

/* Runs argv with stdout and stderr into the file `log`; returns the exit status (-1: not run). */
static int run(char *const argv[], const char *log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

/* The largest PTX local depot (bytes of private memory per work-item kept in local memory) of
 * kernel `name`, or 0. */
static long ptx_depot(const char *ptx, const char *name) {
    char key[128];
    snprintf(key, sizeof key, ".entry %s(", name);
    const char *p = strstr(ptx, key);
    if (!p) return -1;
    const char *next = strstr(p + 1, ".entry ");
    const char *d = strstr(p, "__local_depot");
    if (!d || (next && d > next)) return 0;
    const char *br = strchr(d, '[');
    return br ? strtol(br + 1, NULL, 10) : 0;
}

/* From clang's AMD resource remarks for kernel `name`: VGPRs, scratch bytes per lane and waves
 * per SIMD (-1 when absent). */
static void amd_usage(const char *log, const char *name, long *vgpr, long *scratch, long *occ) {
    *vgpr = *scratch = *occ = -1;
    char key[128];
    snprintf(key, sizeof key, "Function Name: %s ", name);
    const char *p = strstr(log, key);
    if (!p) return;
    const char *end = strstr(p + strlen(key), "Function Name:");
    const char *v = strstr(p, "VGPRs: ");
    const char *s = strstr(p, "ScratchSize [bytes/lane]: ");
    const char *o = strstr(p, "Occupancy [waves/SIMD]: ");
    if (v && (!end || v < end)) *vgpr = strtol(v + 7, NULL, 10);
    if (s && (!end || s < end)) *scratch = strtol(s + 26, NULL, 10);
    if (o && (!end || o < end)) *occ = strtol(o + 24, NULL, 10);
}

int main(int argc, char **argv) {
    const char *clang = "clang-15", *format = "text";
    int quick = 0;
    cli_set_program(argv[0]);
    static const struct option opts[] = {{"clang", required_argument, 0, 'c'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': clang = optarg; break;
        case 'q': quick = 1; break;
        case 'f': {
            static const char *const names[] = {"text", "csv", NULL};
            int pick;
            if (cli_choice("--format", optarg, names, &pick)) return 2;
            format = names[pick];
            break;
        }
        case 'h':
            printf("usage: smnn-gpu-compile [--clang PATH] [--quick] [--format text|csv]\n\n"
                   "Compiles every kernel program smnn builds on a GPU (block shapes x variant x\n"
                   "precision) with clang for nvptx64 and amdgcn (gfx90a) and reports private\n"
                   "memory per work-item. --quick: two block shapes. Exit 1 on a compile error.\n");
            return 0;
        default: return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smnn-gpu-compile: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char dir[] = "/tmp/smnn-gpu-compile-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("smnn-gpu-compile: mkdtemp");
        return 1;
    }
    /* The kernels exactly as the library concatenates them. */
    char src[sizeof dir + 16];
    snprintf(src, sizeof src, "%s/smnn.cl", dir);
    FILE *f = fopen(src, "wb");
    if (!f) {
        perror("smnn-gpu-compile: source");
        return 1;
    }
    for (size_t i = 0; i < smnn__cl_source_count; i++) fputs(smnn__cl_sources[i].text, f);
    if (fclose(f) != 0) {
        perror("smnn-gpu-compile: source");
        return 1;
    }
    /* A typical GPU for the tuning table (no OpenCL object is touched). */
    static struct smnn_context gpu;
    snprintf(gpu.info.device_name, sizeof gpu.info.device_name, "offline GPU");
    gpu.info.is_gpu = 1;
    gpu.info.has_fp64 = 1;
    gpu.info.local_mem_bytes = 48 * 1024;
    gpu.info.max_work_group_size = 1024;
    gpu.info.max_alloc_bytes = (uint64_t)1 << 34;
    gpu.info.global_mem_bytes = (uint64_t)1 << 36;

    int csv = !strcmp(format, "csv"), failures = 0, compiled = 0;
    if (csv)
        printf("target,n,dims,orders,equations,variant,precision,kernel,private_bytes,vgprs,"
               "occupancy\n");
    else
        printf("%-14s %4s %-8s %-7s %-32s %s\n", "target", "n", "variant", "prec", "kernel",
               "private memory per work-item");
    size_t nshapes = quick ? sizeof quick_shapes / sizeof quick_shapes[0]
                           : sizeof shapes / sizeof shapes[0];
    for (size_t si = 0; si < nshapes; si++) {
        const int *sh = quick ? quick_shapes[si] : shapes[si];
        for (int v = SMNN_VARIANT_PRIVATE; v <= SMNN_VARIANT_LOCAL; v++) {
            for (int prec = SMNN_PRECISION_DOUBLE; prec <= SMNN_PRECISION_SINGLE; prec++) {
                smnn_problem p;
                smnn_problem_init(&p);
                p.batch = 4096;
                p.steps = 100;
                p.dims = (size_t)sh[0];
                p.orders = (size_t)sh[1];
                p.equations = (size_t)sh[2];
                smnn_plan_options opt;
                smnn_plan_options_init(&opt);
                opt.variant = (smnn_variant)v;
                opt.precision = (smnn_precision)prec;
                smnn__kernel_shape shape;
                if (smnn__kernel_shape_for(&gpu, &p, &opt, &shape) != SMNN_SUCCESS) {
                    fprintf(stderr, "smnn-gpu-compile: %s\n", smnn_last_error());
                    failures++;
                    continue;
                }
                char defines[SMNN__SHAPE_DEFINES_LEN];
                smnn__shape_defines(&shape, defines, sizeof defines);
                smnn__str options = {0};
                smnn__kernels_options((smnn_precision)prec, defines, &options);
                if (options.failed) return 1;
                for (size_t ti = 0; ti < sizeof targets / sizeof targets[0]; ti++) {
                    const target *tg = &targets[ti];
                    char out[sizeof dir + 32], log[sizeof dir + 32];
                    snprintf(out, sizeof out, "%s/out.%s", dir, tg->ext);
                    snprintf(log, sizeof log, "%s/log.txt", dir);
                    /* argv: clang, OpenCL front-end flags, the target's, the library's options
                     * split at spaces (they hold no quoted parts), -o out, source. */
                    char *argvv[64];
                    int a = 0;
                    argvv[a++] = (char *)clang;
                    argvv[a++] = "-x";
                    argvv[a++] = "cl";
                    argvv[a++] = "-O2";
                    argvv[a++] = "-Xclang";
                    argvv[a++] = "-finclude-default-header";
                    for (int k = 0; tg->args[k]; k++) argvv[a++] = (char *)tg->args[k];
                    char *copy = strdup(options.data);
                    for (char *tok = strtok(copy, " "); tok && a < 56; tok = strtok(NULL, " "))
                        argvv[a++] = tok;
                    argvv[a++] = "-o";
                    argvv[a++] = out;
                    argvv[a++] = src;
                    argvv[a] = NULL;
                    int rc = run(argvv, log);
                    char *text = slurp(log);
                    char *ptx = rc == 0 && !strcmp(tg->ext, "ptx") ? slurp(out) : NULL;
                    compiled++;
                    if (rc != 0) {
                        failures++;
                        fprintf(stderr, "smnn-gpu-compile: %s failed for n = %d, %s, %s "
                                "(options: %s):\n%s\n", tg->name, sh[0] * sh[1],
                                smnn_variant_name(shape.variant),
                                prec == SMNN_PRECISION_DOUBLE ? "double" : "single", options.data,
                                text ? text : "(no log)");
                    } else {
                        static const char *kernels[] = {"smnn_factor", "smnn_forward_substitute",
                                                        "smnn_back_substitute"};
                        for (int k = 0; k < 3; k++) {
                            char name[64];
                            snprintf(name, sizeof name, "%s_%s", kernels[k],
                                     smnn_variant_name(shape.variant));
                            long bytes, vgpr = -1, occ = -1;
                            if (ptx) {
                                bytes = ptx_depot(ptx, name);
                            } else {
                                amd_usage(text ? text : "", name, &vgpr, &bytes, &occ);
                            }
                            const char *pn = prec == SMNN_PRECISION_DOUBLE ? "double" : "single";
                            if (csv)
                                printf("%s,%d,%d,%d,%d,%s,%s,%s,%ld,%ld,%ld\n", tg->name,
                                       sh[0] * sh[1], sh[0], sh[1], sh[2],
                                       smnn_variant_name(shape.variant), pn, name, bytes, vgpr,
                                       occ);
                            else if (ptx)
                                printf("%-14s %4d %-8s %-7s %-32s %ld bytes local depot\n",
                                       tg->name, sh[0] * sh[1], smnn_variant_name(shape.variant),
                                       pn, name, bytes);
                            else
                                printf("%-14s %4d %-8s %-7s %-32s %ld bytes scratch/lane, %ld "
                                       "VGPRs, %ld waves/SIMD\n",
                                       tg->name, sh[0] * sh[1], smnn_variant_name(shape.variant),
                                       pn, name, bytes, vgpr, occ);
                        }
                    }
                    free(copy);
                    free(text);
                    free(ptx);
                    unlink(out);
                    unlink(log);
                }
                smnn__str_free(&options);
            }
        }
    }
    unlink(src);
    rmdir(dir);
    fprintf(stderr, "smnn-gpu-compile: %d of %d compiles succeeded\n", compiled - failures,
            compiled);
    return failures ? 1 : 0;
}
