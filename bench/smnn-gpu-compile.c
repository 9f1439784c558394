/* smnn-gpu-compile: compiles every program a plan would build on a GPU (block shapes x variant x
 * precision x factorization, with the defines and options the library itself uses) offline with
 * clang for NVIDIA (nvptx64, PTX) and AMD (amdgcn, gfx90a) targets, fails on any compile error
 * or when a program lacks one of its kernels, and reports for the factorization kernel of the
 * program (smnn_factor_* for Cholesky, smnn_factor_qr_* for QR) and the two substitutions what
 * decides their speed on a GPU: the private memory each kernel keeps per work-item (PTX local
 * depot bytes; AMD scratch bytes per lane), the local memory of a work-group (PTX .shared, AMD
 * LDS) and on AMD the VGPRs, the VGPRs spilled and the occupancy.
 *
 * The GPU is described, not present: the shapes are chosen by the library's own tuning table
 * (lib/solver/tuning.c) for a device with is_gpu = 1, 48 KiB of local memory and work-groups of
 * 1024, plus each variant forced, plus the partitioned (parallel-in-time) programs of the
 * Cholesky factorization (variant "time": cl/partition.cl, one system of 16 time chunks; its
 * chunk walk, smnn_factor_chunks, and substitutions are the kernels reported). clang runs without a shell (posix_spawnp), its source is the
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

/* Block shapes (V, n_orders, Q) from the paper's workloads up to the largest block. Each is
 * compiled for both factorizations. */
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

/* What one kernel uses (-1: not reported for the target). */
typedef struct usage {
    long priv;  /* bytes of private memory per work-item in memory (PTX depot, AMD scratch) */
    long local; /* bytes of local memory per work-group (PTX .shared, AMD LDS) */
    long vgpr, spill, occ; /* AMD: VGPRs, VGPRs spilled, waves per SIMD */
} usage;

/* Bytes of one PTX state-space declaration, e.g. ".shared .align 8 .b8 k_$_X[4224];": the size
 * of its type times its array length (1 when it is not an array). */
static long ptx_decl_bytes(const char *line, const char *eol) {
    static const struct { const char *type; long bytes; } types[] = {
        {".b8 ", 1}, {".u8 ", 1},  {".s8 ", 1},  {".b16 ", 2}, {".u16 ", 2}, {".s16 ", 2},
        {".f16 ", 2}, {".b32 ", 4}, {".u32 ", 4}, {".s32 ", 4}, {".f32 ", 4}, {".b64 ", 8},
        {".u64 ", 8}, {".s64 ", 8}, {".f64 ", 8}};
    long elem = 0;
    const char *after = NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !elem; i++) {
        const char *t = strstr(line, types[i].type);
        if (t && t < eol) {
            elem = types[i].bytes;
            after = t + strlen(types[i].type);
        }
    }
    if (!elem) return 0;
    const char *br = strchr(after, '[');
    return br && br < eol ? elem * strtol(br + 1, NULL, 10) : elem;
}

/* From the PTX of kernel `name`: the local depot (bytes of private memory per work-item kept in
 * local memory) and the .shared memory declared in its body. Returns 0, or -1 when the PTX has
 * no such kernel. */
static int ptx_usage(const char *ptx, const char *name, usage *u) {
    u->priv = u->local = 0;
    u->vgpr = u->spill = u->occ = -1;
    char key[128];
    snprintf(key, sizeof key, ".entry %s(", name);
    const char *p = strstr(ptx, key);
    if (!p) return -1;
    const char *next = strstr(p + 1, ".entry ");
    const char *d = strstr(p, "__local_depot");
    if (d && (!next || d < next)) {
        const char *br = strchr(d, '[');
        u->priv = br ? strtol(br + 1, NULL, 10) : 0;
    }
    for (const char *sh = strstr(p, ".shared ."); sh && (!next || sh < next);
         sh = strstr(sh + 1, ".shared .")) {
        const char *eol = strchr(sh, '\n');
        if (!eol) eol = sh + strlen(sh);
        u->local += ptx_decl_bytes(sh, eol);
    }
    return 0;
}

/* One number of kernel `name`'s AMD resource remarks (in [p, end)): the value after `field`,
 * or -1. */
static long amd_field(const char *p, const char *end, const char *field) {
    const char *f = strstr(p, field);
    return f && (!end || f < end) ? strtol(f + strlen(field), NULL, 10) : -1;
}

/* From clang's AMD resource remarks for kernel `name`: scratch bytes per lane, LDS bytes per
 * work-group, VGPRs, VGPRs spilled and waves per SIMD. Returns 0, or -1 when the remarks name no
 * such kernel. */
static int amd_usage(const char *log, const char *name, usage *u) {
    u->priv = u->local = u->vgpr = u->spill = u->occ = -1;
    char key[128];
    snprintf(key, sizeof key, "Function Name: %s ", name);
    const char *p = strstr(log, key);
    if (!p) return -1;
    const char *end = strstr(p + strlen(key), "Function Name:");
    u->vgpr = amd_field(p, end, " VGPRs: ");
    u->spill = amd_field(p, end, "VGPRs Spill: ");
    u->priv = amd_field(p, end, "ScratchSize [bytes/lane]: ");
    u->local = amd_field(p, end, "LDS Size [bytes/block]: ");
    u->occ = amd_field(p, end, "Occupancy [waves/SIMD]: ");
    return 0;
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
                   "precision x factorization: Cholesky, QR) with clang for nvptx64 and amdgcn\n"
                   "(gfx90a) and reports, for the factorization and substitution kernels, private\n"
                   "memory per work-item, local memory per work-group and (AMD) VGPRs, spills\n"
                   "and occupancy. --quick: two block shapes. Exit 1 on a compile error or a\n"
                   "kernel missing from its program.\n");
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
        printf("target,n,dims,orders,equations,variant,precision,factorization,kernel,"
               "private_bytes,local_bytes,vgprs,vgpr_spill,occupancy\n");
    else
        printf("%-14s %4s %-8s %-7s %-9s %-32s %s\n", "target", "n", "variant", "prec",
               "factor", "kernel", "private memory per work-item, local memory per work-group");
    size_t nshapes = quick ? sizeof quick_shapes / sizeof quick_shapes[0]
                           : sizeof shapes / sizeof shapes[0];
    for (size_t si = 0; si < nshapes; si++) {
        const int *sh = quick ? quick_shapes[si] : shapes[si];
        /* v = SMNN_VARIANT_LOCAL + 1: the private variant partitioned in time. */
        for (int v = SMNN_VARIANT_PRIVATE; v <= SMNN_VARIANT_LOCAL + 1; v++) {
            const int timed = v == SMNN_VARIANT_LOCAL + 1;
            /* Precision x factorization: double and single, each Cholesky then QR. */
            for (int pf = 0; pf < 4; pf++) {
                const int prec = SMNN_PRECISION_DOUBLE + pf / 2;
                const int fz = SMNN_FACTORIZATION_CHOLESKY + pf % 2;
                if (timed && fz == SMNN_FACTORIZATION_QR) continue; /* Cholesky only */
                const char *fname = smnn_factorization_name((smnn_factorization)fz);
                smnn_problem p;
                smnn_problem_init(&p);
                p.batch = 4096;
                p.steps = 100;
                p.dims = (size_t)sh[0];
                p.orders = (size_t)sh[1];
                p.equations = (size_t)sh[2];
                smnn_plan_options opt;
                smnn_plan_options_init(&opt);
                opt.variant = timed ? SMNN_VARIANT_PRIVATE : (smnn_variant)v;
                if (timed) {
                    p.batch = 1;
                    opt.time_chunks = 16;
                }
                opt.precision = (smnn_precision)prec;
                opt.factorization = (smnn_factorization)fz;
                smnn__kernel_shape shape;
                const char *vname = timed ? "time" : smnn_variant_name((smnn_variant)v);
                if (smnn__kernel_shape_for(&gpu, &p, &opt, &shape) != SMNN_SUCCESS) {
                    fprintf(stderr, "smnn-gpu-compile: %s\n", smnn_last_error());
                    failures++;
                    continue;
                }
                char defines[SMNN__SHAPE_DEFINES_LEN];
                smnn__shape_defines(&shape, defines, sizeof defines);
                smnn__str options = {0};
                /* As for a device that reports correctly rounded single-precision division
                 * and sqrt (devices.c): the single programs must compile with that flag too. */
                smnn__kernels_options((smnn_precision)prec, defines, 1, &options);
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
                        fprintf(stderr, "smnn-gpu-compile: %s failed for n = %d, %s, %s, %s "
                                "(options: %s):\n%s\n", tg->name, sh[0] * sh[1], vname,
                                prec == SMNN_PRECISION_DOUBLE ? "double" : "single", fname,
                                options.data, text ? text : "(no log)");
                    } else {
                        /* The factorization kernel the plan takes (lib/solver/plan.c) and the
                         * substitutions; each must be in the program. */
                        const char *kernels[] = {
                            fz == SMNN_FACTORIZATION_QR ? "smnn_factor_qr" : "smnn_factor",
                            "smnn_forward_substitute", "smnn_back_substitute"};
                        const char *chunk_kernels[] = {"smnn_factor_chunks", "smnn_forward_chunks",
                                                       "smnn_back_chunks"};
                        for (int k = 0; k < 3; k++) {
                            char name[64];
                            if (timed)
                                snprintf(name, sizeof name, "%s", chunk_kernels[k]);
                            else
                                snprintf(name, sizeof name, "%s_%s", kernels[k],
                                         smnn_variant_name(shape.variant));
                            usage u;
                            int found = ptx ? ptx_usage(ptx, name, &u)
                                            : amd_usage(text ? text : "", name, &u);
                            const char *pn = prec == SMNN_PRECISION_DOUBLE ? "double" : "single";
                            if (found != 0) {
                                failures++;
                                fprintf(stderr, "smnn-gpu-compile: %s: kernel %s missing from the "
                                        "program for n = %d, %s, %s (options: %s)\n", tg->name,
                                        name, sh[0] * sh[1], pn, fname, options.data);
                                continue;
                            }
                            if (csv)
                                printf("%s,%d,%d,%d,%d,%s,%s,%s,%s,%ld,%ld,%ld,%ld,%ld\n",
                                       tg->name, sh[0] * sh[1], sh[0], sh[1], sh[2],
                                       vname, pn, fname, name, u.priv,
                                       u.local, u.vgpr, u.spill, u.occ);
                            else if (ptx)
                                printf("%-14s %4d %-8s %-7s %-9s %-32s %ld bytes local depot, "
                                       "%ld bytes shared\n",
                                       tg->name, sh[0] * sh[1], vname,
                                       pn, fname, name, u.priv, u.local);
                            else
                                printf("%-14s %4d %-8s %-7s %-9s %-32s %ld bytes scratch/lane, "
                                       "%ld bytes LDS, %ld VGPRs (%ld spilled), %ld waves/SIMD\n",
                                       tg->name, sh[0] * sh[1], vname,
                                       pn, fname, name, u.priv, u.local, u.vgpr, u.spill, u.occ);
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
