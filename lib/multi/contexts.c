/* Contexts for a device list (multi.h smnn_contexts_create): "all", a comma-separated list of
 * device specs, or one device split into sub-devices. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

#define MAX_CONTEXTS 64

void smnn_contexts_free(smnn_context **contexts, size_t count) {
    if (!contexts) return;
    for (size_t i = 0; i < count; i++) smnn_context_free(contexts[i]);
    free(contexts);
}

/* The growing result of smnn_contexts_create. */
typedef struct ctx_array {
    smnn_context **v;
    size_t n;
} ctx_array;

static smnn_status push(ctx_array *a, smnn_context *ctx) {
    if (a->n == MAX_CONTEXTS) {
        smnn_context_free(ctx);
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "more than %d devices named",
                    MAX_CONTEXTS);
    }
    smnn_context **v = realloc(a->v, (a->n + 1) * sizeof *v);
    if (!v) {
        smnn_context_free(ctx);
        return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "context list");
    }
    a->v = v;
    a->v[a->n++] = ctx;
    return SMNN_SUCCESS;
}

/* "all": the default device's type on its platform. */
static smnn_status add_all(ctx_array *a);

/* The default device of list: as smnn_device_list_choose(NULL) when $SMNN_DEVICE is unset or
 * one spec; when it is "all" or a list (smnn_context_create_local's forms), the rule without it:
 * the first GPU, else the first device. */
static smnn_status default_device(const smnn_device_list *list, size_t *def) {
    const char *env = getenv("SMNN_DEVICE");
    if (!env || !*env || (strcmp(env, "all") != 0 && !strchr(env, ',')))
        return smnn_device_list_choose(list, NULL, def, NULL);
    size_t n = smnn_device_list_count(list);
    if (n == 0) return FAIL(NULL, SMNN_ERROR_DEVICE_NOT_FOUND, "no OpenCL device");
    *def = 0;
    for (size_t i = 0; i < n; i++)
        if (smnn_device_list_at(list, i)->is_gpu) {
            *def = i;
            break;
        }
    return SMNN_SUCCESS;
}

/* The device list "all" names, as "P:D" specs into specs[0..*n) (at most cap). */
static smnn_status all_specs(char (*specs)[32], size_t cap, size_t *n) {
    smnn_device_list *list = NULL;
    FORWARD_IF_ERROR(smnn_device_list_create(&list));
    size_t def;
    *n = 0;
    smnn_status st = default_device(list, &def);
    if (st == SMNN_SUCCESS) {
        const smnn_device_info *dd = smnn_device_list_at(list, def);
        for (size_t i = 0; i < smnn_device_list_count(list) && *n < cap; i++) {
            const smnn_device_info *d = smnn_device_list_at(list, i);
            if (d->platform_index == dd->platform_index && d->is_gpu == dd->is_gpu &&
                d->is_cpu == dd->is_cpu)
                snprintf(specs[(*n)++], sizeof specs[0], "%u:%u", d->platform_index,
                         d->device_index);
        }
    }
    smnn_device_list_free(list);
    return st;
}

smnn_status smnn_context_create_local(int local_rank, const char *devices, smnn_context **out) {
    smnn__clear_error();
    if (!out) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    *out = NULL;
    if (local_rank < 0)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "local_rank = %d, must be >= 0",
                    local_rank);
    if (!devices || !*devices) devices = getenv("SMNN_DEVICE");
    if (devices && *devices && strcmp(devices, "all") != 0) {
        /* Item local_rank mod count of the comma-separated list. */
        size_t items = 1;
        for (const char *p = devices; *p; p++) items += *p == ',';
        size_t pick = (size_t)local_rank % items;
        const char *start = devices;
        for (size_t i = 0; i < pick; i++) start = strchr(start, ',') + 1;
        size_t len = strcspn(start, ",");
        char spec[256];
        if (len == 0 || len >= sizeof spec)
            return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                        "device list '%s': item %zu (for local rank %d) is %s", devices, pick,
                        local_rank, len ? "too long" : "empty");
        memcpy(spec, start, len);
        spec[len] = '\0';
        return smnn_context_create(spec, out);
    }
    char specs[MAX_CONTEXTS][32];
    size_t n = 0;
    FORWARD_IF_ERROR(all_specs(specs, MAX_CONTEXTS, &n));
    if (n == 0) return FAIL(NULL, SMNN_ERROR_DEVICE_NOT_FOUND, "no device for local rank %d",
                            local_rank);
    return smnn_context_create(specs[(size_t)local_rank % n], out);
}

static smnn_status add_all(ctx_array *a) {
    char specs[MAX_CONTEXTS][32];
    size_t n = 0;
    FORWARD_IF_ERROR(all_specs(specs, MAX_CONTEXTS, &n));
    for (size_t i = 0; i < n; i++) {
        smnn_context *ctx = NULL;
        FORWARD_IF_ERROR(smnn_context_create(specs[i], &ctx));
        FORWARD_IF_ERROR(push(a, ctx));
    }
    return SMNN_SUCCESS;
}

/* One context on sub-device dev (retained by the context). */
static smnn_status adopt_subdevice(cl_platform_id pf, cl_device_id dev, ctx_array *a) {
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)pf, 0};
    smnn__discovery_lock();
    cl_context cl = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    smnn__discovery_unlock();
    if (!cl) return FAIL_CL(NULL, err, "clCreateContext(sub-device)");
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    cl_command_queue q = clCreateCommandQueue(cl, dev, CL_QUEUE_PROFILING_ENABLE, &err);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    if (!q) {
        clReleaseContext(cl);
        return FAIL_CL(NULL, err, "clCreateCommandQueue(sub-device)");
    }
    smnn_context *ctx = NULL;
    smnn_status st = smnn_context_create_from_cl(cl, dev, q, &ctx);
    clReleaseCommandQueue(q);
    clReleaseContext(cl);
    if (st != SMNN_SUCCESS) return st;
    return push(a, ctx);
}

/* "split:N[:SPEC]": the device partitioned equally into parts sub-devices. */
static smnn_status add_split(unsigned long parts, const char *spec, ctx_array *a) {
    smnn_context *root = NULL;
    FORWARD_IF_ERROR(smnn_context_create(spec, &root));
    const smnn_device_info *info = smnn_context_device(root);
    cl_device_id dev = smnn_context_cl_device(root);
    smnn_status st = SMNN_SUCCESS;
    cl_uint units = info->compute_units;
    cl_uint most = units < MAX_CONTEXTS ? units : MAX_CONTEXTS;
    if (parts < 1 || parts > most) {
        st = FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                  "split:%lu: device '%s' has %u compute units, so it splits into 1 to %u "
                  "sub-devices (at most %d)", parts, info->device_name, units, most,
                  MAX_CONTEXTS);
    }
    if (st == SMNN_SUCCESS && parts == 1) {
        /* One part: the device itself (no partition needed, so any device can). */
        return push(a, root);
    }
    /* Ask before partitioning: a driver that lists no partition type may not implement
     * clCreateSubDevices at all (Mesa 22.3's Rusticl: calling it crashed in the ICD loader). */
    cl_uint max_sub = 0;
    cl_device_partition_property kinds[8] = {0};
    size_t kinds_bytes = 0;
    int equally = 0;
    if (st == SMNN_SUCCESS &&
        clGetDeviceInfo(dev, CL_DEVICE_PARTITION_MAX_SUB_DEVICES, sizeof max_sub, &max_sub,
                        NULL) == CL_SUCCESS &&
        clGetDeviceInfo(dev, CL_DEVICE_PARTITION_PROPERTIES, sizeof kinds, kinds, &kinds_bytes) ==
            CL_SUCCESS)
        for (size_t i = 0; i < kinds_bytes / sizeof kinds[0] && i < 8; i++)
            equally |= kinds[i] == CL_DEVICE_PARTITION_EQUALLY;
    if (st == SMNN_SUCCESS && (!equally || max_sub < parts))
        st = FAIL(NULL, SMNN_ERROR_UNSUPPORTED,
                  "device '%s' cannot be split into %lu sub-devices: its driver reports %s "
                  "(at most %u sub-devices)", info->device_name, parts,
                  equally ? "CL_DEVICE_PARTITION_EQUALLY" : "no equal partition", max_sub);
    cl_platform_id pf = NULL;
    cl_device_id *subs = NULL;
    cl_uint nsub = 0;
    if (st == SMNN_SUCCESS) {
        cl_int err = clGetDeviceInfo(dev, CL_DEVICE_PLATFORM, sizeof pf, &pf, NULL);
        cl_device_partition_property props[] = {CL_DEVICE_PARTITION_EQUALLY,
                                                (cl_device_partition_property)(units / parts), 0};
        if (err == CL_SUCCESS) err = clCreateSubDevices(dev, props, 0, NULL, &nsub);
        if (err == CL_SUCCESS && nsub >= parts) {
            subs = calloc(nsub, sizeof *subs);
            if (!subs) st = FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "sub-devices");
            else err = clCreateSubDevices(dev, props, nsub, subs, NULL);
        }
        if (st == SMNN_SUCCESS && (err != CL_SUCCESS || nsub < parts))
            st = FAIL(NULL, SMNN_ERROR_UNSUPPORTED,
                      "device '%s' cannot be split into %lu sub-devices of %u compute units "
                      "(clCreateSubDevices with CL_DEVICE_PARTITION_EQUALLY: %s, %u made)",
                      info->device_name, parts, (unsigned)(units / parts),
                      err != CL_SUCCESS ? smnn_cl_error_name(err) : "CL_SUCCESS", nsub);
    }
    for (cl_uint i = 0; subs && i < nsub; i++) {
        if (st == SMNN_SUCCESS && i < parts) st = adopt_subdevice(pf, subs[i], a);
        clReleaseDevice(subs[i]);
    }
    free(subs);
    smnn_context_free(root);
    return st;
}

/* Parses "split:N" or "split:N:SPEC". */
static smnn_status parse_split(const char *item, unsigned long *parts, const char **spec) {
    const char *p = item + 6;
    char *end;
    errno = 0;
    unsigned long n = (*p >= '0' && *p <= '9') ? strtoul(p, &end, 10) : 0;
    if (n == 0 || errno || (*end != '\0' && *end != ':'))
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "'%s': expected split:N or split:N:SPEC with N a positive number", item);
    *parts = n;
    *spec = *end == ':' ? end + 1 : NULL;
    return SMNN_SUCCESS;
}

smnn_status smnn_contexts_create(const char *devices, smnn_context ***out, size_t *count) {
    smnn__clear_error();
    if (!out || !count)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !out ? "out" : "count");
    *out = NULL;
    *count = 0;
    if (!devices || !*devices)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "argument 'devices' is %s: expected all, SPEC,SPEC,... or split:N[:SPEC]",
                    devices ? "empty" : "NULL");
    ctx_array a = {NULL, 0};
    smnn_status st = SMNN_SUCCESS;
    if (!strcmp(devices, "all")) {
        st = add_all(&a);
    } else if (!strncmp(devices, "split:", 6)) {
        unsigned long parts = 0;
        const char *spec = NULL;
        st = parse_split(devices, &parts, &spec);
        if (st == SMNN_SUCCESS) st = add_split(parts, spec, &a);
    } else {
        char *copy = strdup(devices);
        if (!copy) return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "device list");
        char *item = copy;
        while (st == SMNN_SUCCESS) {
            char *comma = strchr(item, ',');
            if (comma) *comma = '\0';
            if (!*item) {
                st = FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                          "'%s': an empty device spec in the list", devices);
                break;
            }
            smnn_context *ctx = NULL;
            st = smnn_context_create(item, &ctx);
            if (st == SMNN_SUCCESS) st = push(&a, ctx);
            if (!comma) break;
            item = comma + 1;
        }
        free(copy);
    }
    if (st == SMNN_SUCCESS && a.n == 0)
        st = FAIL(NULL, SMNN_ERROR_DEVICE_NOT_FOUND, "'%s' names no device", devices);
    if (st != SMNN_SUCCESS) {
        smnn_contexts_free(a.v, a.n);
        return st;
    }
    *out = a.v;
    *count = a.n;
    return SMNN_SUCCESS;
}
