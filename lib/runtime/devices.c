/* Device enumeration and choice: lists every device of every OpenCL platform with the
 * capabilities smnn cares about, and picks one from a "PLATFORM:DEVICE" spec, the SMNN_DEVICE
 * environment variable or the default rule (first GPU, else first device). */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

/* OpenCL drivers set themselves up on the first platform and device queries of a process, and
 * some (PoCL among them) crash when two threads do that at once. Every discovery call of smnn
 * (platform and device lists, device properties, context creation) runs under this lock. */
static pthread_mutex_t discovery_lock = PTHREAD_MUTEX_INITIALIZER;

void smnn__discovery_lock(void) {
    pthread_mutex_lock(&discovery_lock);
}

void smnn__discovery_unlock(void) {
    pthread_mutex_unlock(&discovery_lock);
}

struct smnn_device_list {
    size_t count;
    smnn_device_info *items;
};

void smnn__device_string(cl_device_id dev, cl_device_info what, char *buf, size_t len) {
    buf[0] = '\0';
    if (clGetDeviceInfo(dev, what, len, buf, NULL) != CL_SUCCESS) buf[0] = '\0';
    buf[len - 1] = '\0';
}

void smnn__platform_string(cl_platform_id pf, cl_platform_info what, char *buf, size_t len) {
    buf[0] = '\0';
    if (clGetPlatformInfo(pf, what, len, buf, NULL) != CL_SUCCESS) buf[0] = '\0';
    buf[len - 1] = '\0';
}

int smnn__device_is_pocl(const smnn_device_info *info) {
    return strstr(info->platform_name, "Portable Computing Language") != NULL;
}

void smnn__device_info_fill(cl_device_id dev, smnn_device_info *info) {
    smnn__device_string(dev, CL_DEVICE_NAME, info->device_name, sizeof info->device_name);
    smnn__device_string(dev, CL_DEVICE_VENDOR, info->device_vendor, sizeof info->device_vendor);
    smnn__device_string(dev, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    smnn__device_string(dev, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    cl_platform_id pf = NULL;
    if (clGetDeviceInfo(dev, CL_DEVICE_PLATFORM, sizeof pf, &pf, NULL) == CL_SUCCESS && pf) {
        smnn__platform_string(pf, CL_PLATFORM_NAME, info->platform_name,
                              sizeof info->platform_name);
        smnn__platform_string(pf, CL_PLATFORM_VERSION, info->platform_version,
                              sizeof info->platform_version);
    }
    cl_device_type type = 0;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    info->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    info->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
    cl_uint cu = 0;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    info->compute_units = cu;
    cl_ulong v = 0;
    clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof v, &v, NULL);
    info->local_mem_bytes = v;
    v = 0;
    clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof v, &v, NULL);
    info->global_mem_bytes = v;
    v = 0;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof v, &v, NULL);
    info->max_alloc_bytes = v;
    size_t wg = 0;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    info->max_work_group_size = wg;
    cl_device_fp_config scfg = 0;
    info->fp32_correct_div_sqrt =
        clGetDeviceInfo(dev, CL_DEVICE_SINGLE_FP_CONFIG, sizeof scfg, &scfg, NULL) == CL_SUCCESS &&
        (scfg & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
    /* fp64: the extension string (OpenCL 1.x) or a non-zero double config (2.x/3.0 devices
     * that report double support only there). */
    size_t extlen = 0;
    info->has_fp64 = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &extlen) == CL_SUCCESS && extlen) {
        char *ext = malloc(extlen + 1);
        if (ext && clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, extlen, ext, NULL) == CL_SUCCESS) {
            ext[extlen] = '\0';
            info->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
        }
        free(ext);
    }
    if (!info->has_fp64) {
        cl_device_fp_config dcfg = 0;
        if (clGetDeviceInfo(dev, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof dcfg, &dcfg, NULL) ==
                CL_SUCCESS &&
            dcfg != 0)
            info->has_fp64 = 1;
    }
}

static smnn_status no_platform(void) {
    return FAIL(NULL, SMNN_ERROR_NO_PLATFORM,
                "the OpenCL ICD loader found no platform. Install an OpenCL driver (ICD): on "
                "Debian/Ubuntu `apt-get install pocl-opencl-icd` for the CPU, or your GPU "
                "vendor's OpenCL driver, and check that /etc/OpenCL/vendors/ lists its .icd file");
}

static smnn_status list_create(smnn_device_list **out);

smnn_status smnn_device_list_create(smnn_device_list **out) {
    smnn__clear_error();
    if (!out) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    *out = NULL;
    smnn__discovery_lock();
    smnn_status st = list_create(out);
    smnn__discovery_unlock();
    return st;
}

static smnn_status list_create(smnn_device_list **out) {
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0))
        return no_platform();
    if (err != CL_SUCCESS) return FAIL_CL(NULL, err, "clGetPlatformIDs");
    cl_platform_id *pfs = calloc(np, sizeof *pfs);
    smnn_device_list *list = calloc(1, sizeof *list);
    if (!pfs || !list) {
        free(pfs);
        free(list);
        return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "device list");
    }
    err = clGetPlatformIDs(np, pfs, NULL);
    if (err != CL_SUCCESS) {
        free(pfs);
        free(list);
        return FAIL_CL(NULL, err, "clGetPlatformIDs");
    }
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        err = clGetDeviceIDs(pfs[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (err != CL_SUCCESS || nd == 0) continue; /* a platform without devices is skipped */
        cl_device_id *devs = calloc(nd, sizeof *devs);
        smnn_device_info *grown = realloc(list->items, (list->count + nd) * sizeof *grown);
        if (!devs || !grown) {
            free(devs);
            if (grown) list->items = grown;
            free(pfs);
            smnn_device_list_free(list);
            return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "device list");
        }
        list->items = grown;
        if (clGetDeviceIDs(pfs[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL) == CL_SUCCESS) {
            for (cl_uint d = 0; d < nd; d++) {
                smnn_device_info *info = &list->items[list->count++];
                memset(info, 0, sizeof *info);
                info->platform_index = p;
                info->device_index = d;
                smnn__device_info_fill(devs[d], info);
            }
        }
        free(devs);
    }
    free(pfs);
    if (list->count == 0) {
        smnn_device_list_free(list);
        return FAIL(NULL, SMNN_ERROR_NO_PLATFORM,
                    "OpenCL platforms exist but none has a device. Install an OpenCL driver "
                    "(ICD) for your hardware, e.g. `apt-get install pocl-opencl-icd` for the CPU");
    }
    *out = list;
    return SMNN_SUCCESS;
}

void smnn_device_list_free(smnn_device_list *list) {
    if (!list) return;
    free(list->items);
    free(list);
}

size_t smnn_device_list_count(const smnn_device_list *list) {
    return list ? list->count : 0;
}

const smnn_device_info *smnn_device_list_at(const smnn_device_list *list, size_t i) {
    if (!list || i >= list->count) return NULL;
    return &list->items[i];
}

/* Case-insensitive substring test; an empty needle matches everything. */
static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0) return 1;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return 1;
    }
    return 0;
}

static int is_index(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

/* One part of a spec matches either by index or by name substring. */
static int part_matches(const char *part, unsigned index, const char *name) {
    if (is_index(part)) return strtoul(part, NULL, 10) == index;
    return contains_nocase(name, part);
}

static void list_devices(const smnn_device_list *list, smnn__str *s) {
    for (size_t i = 0; i < list->count; i++) {
        const smnn_device_info *d = &list->items[i];
        smnn__str_printf(s, "\n  %u:%u  %s / %s", d->platform_index, d->device_index,
                         d->platform_name, d->device_name);
    }
}

smnn_status smnn_device_list_choose(const smnn_device_list *list, const char *spec, size_t *index,
                                    const char **why) {
    smnn__clear_error();
    if (!list || !index)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !list ? "list" : "index");
    const char *reason = "given device spec";
    if (!spec || !*spec) {
        const char *env = getenv("SMNN_DEVICE");
        if (env && *env) {
            spec = env;
            reason = "matches SMNN_DEVICE";
        }
    }
    if (!spec || !*spec) {
        for (size_t i = 0; i < list->count; i++) {
            if (list->items[i].is_gpu) {
                *index = i;
                if (why) *why = "default: first GPU";
                return SMNN_SUCCESS;
            }
        }
        if (list->count == 0) return FAIL(NULL, SMNN_ERROR_DEVICE_NOT_FOUND, "no device at all");
        *index = 0;
        if (why) *why = "default: no GPU, first device";
        return SMNN_SUCCESS;
    }
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "device spec is longer than %zu characters",
                    sizeof buf - 1);
    strcpy(buf, spec);
    char *colon = strchr(buf, ':');
    const char *pf_part = buf, *dev_part = "";
    if (colon) {
        *colon = '\0';
        dev_part = colon + 1;
        if (strchr(dev_part, ':'))
            return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                        "device spec '%s' has more than one ':' (expected PLATFORM:DEVICE)", spec);
    }
    for (size_t i = 0; i < list->count; i++) {
        const smnn_device_info *d = &list->items[i];
        if (part_matches(pf_part, d->platform_index, d->platform_name) &&
            part_matches(dev_part, d->device_index, d->device_name)) {
            *index = i;
            if (why) *why = reason;
            return SMNN_SUCCESS;
        }
    }
    smnn__str s = {0};
    list_devices(list, &s);
    smnn_status st = FAIL(NULL, SMNN_ERROR_DEVICE_NOT_FOUND,
                          "no device matches '%s' (%s; PLATFORM:DEVICE, each an index or a "
                          "case-insensitive name substring). Devices:%s",
                          spec, reason, s.data ? s.data : " (none)");
    smnn__str_free(&s);
    return st;
}
