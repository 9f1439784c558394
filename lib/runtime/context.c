/* The smnn context: one OpenCL context, device and in-order queue (created here or adopted from
 * the caller), the compiled-program cache and the per-context last error. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

void smnn__context_lock(smnn_context *ctx) {
    pthread_mutex_lock((pthread_mutex_t *)ctx->lock);
}

void smnn__context_unlock(smnn_context *ctx) {
    pthread_mutex_unlock((pthread_mutex_t *)ctx->lock);
}

void smnn__context_set_error(smnn_context *ctx, const char *msg) {
    size_t n = strlen(msg);
    if (n >= sizeof ctx->last_error) n = sizeof ctx->last_error - 1;
    memcpy(ctx->last_error, msg, n);
    ctx->last_error[n] = '\0';
}

static smnn_context *context_alloc(void) {
    smnn_context *ctx = calloc(1, sizeof *ctx);
    pthread_mutex_t *m = malloc(sizeof *m);
    if (!ctx || !m || pthread_mutex_init(m, NULL) != 0) {
        free(ctx);
        free(m);
        return NULL;
    }
    ctx->lock = m;
    return ctx;
}

/* Finds the cl_device_id of the index-th device of the index-th platform. */
static smnn_status device_handle(unsigned pi, unsigned di, cl_platform_id *pf, cl_device_id *dev) {
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err != CL_SUCCESS || pi >= np) return FAIL_CL(NULL, err, "clGetPlatformIDs");
    cl_platform_id *pfs = calloc(np, sizeof *pfs);
    if (!pfs) return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "platform list");
    clGetPlatformIDs(np, pfs, NULL);
    *pf = pfs[pi];
    free(pfs);
    cl_uint nd = 0;
    err = clGetDeviceIDs(*pf, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (err != CL_SUCCESS || di >= nd) return FAIL_CL(NULL, err, "clGetDeviceIDs");
    cl_device_id *devs = calloc(nd, sizeof *devs);
    if (!devs) return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "device list");
    err = clGetDeviceIDs(*pf, CL_DEVICE_TYPE_ALL, nd, devs, NULL);
    *dev = devs[di];
    free(devs);
    if (err != CL_SUCCESS) return FAIL_CL(NULL, err, "clGetDeviceIDs");
    return SMNN_SUCCESS;
}

smnn_status smnn_context_create(const char *spec, smnn_context **out) {
    smnn__clear_error();
    if (!out) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    *out = NULL;
    smnn_device_list *list = NULL;
    FORWARD_IF_ERROR(smnn_device_list_create(&list));
    size_t index = 0;
    smnn_status st = smnn_device_list_choose(list, spec, &index, NULL);
    if (st != SMNN_SUCCESS) {
        smnn_device_list_free(list);
        return st;
    }
    smnn_device_info info = *smnn_device_list_at(list, index);
    smnn_device_list_free(list);

    cl_platform_id pf = NULL;
    cl_device_id dev = NULL;
    smnn__discovery_lock();
    st = device_handle(info.platform_index, info.device_index, &pf, &dev);
    smnn_context *ctx = st == SMNN_SUCCESS ? context_alloc() : NULL;
    cl_int err = CL_SUCCESS;
    if (ctx) {
        ctx->info = info;
        ctx->disk_cache = smnn__disk_cache_wanted(&info);
        ctx->device = dev;
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)pf, 0};
        ctx->cl_ctx = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    }
    smnn__discovery_unlock();
    if (st != SMNN_SUCCESS) return st;
    if (!ctx) return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "context");
    if (!ctx->cl_ctx) {
        smnn_context_free(ctx);
        return FAIL_CL(NULL, err, "clCreateContext");
    }
    /* Profiling is on so that tools and benchmarks can read device times from events. The
     * OpenCL 1.2 entry point is used on purpose: it exists in every ICD loader. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    ctx->queue = clCreateCommandQueue(ctx->cl_ctx, dev, CL_QUEUE_PROFILING_ENABLE, &err);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    if (!ctx->queue) {
        smnn_context_free(ctx);
        return FAIL_CL(NULL, err, "clCreateCommandQueue");
    }
    *out = ctx;
    return SMNN_SUCCESS;
}

smnn_status smnn_context_create_from_cl(cl_context context, cl_device_id device,
                                        cl_command_queue queue, smnn_context **out) {
    smnn__clear_error();
    if (!out) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    *out = NULL;
    if (!context || !device || !queue)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument '%s' is NULL",
                    !context ? "context" : !device ? "device" : "queue");
    cl_context qctx = NULL;
    cl_device_id qdev = NULL;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(NULL, err, "clGetCommandQueueInfo(queue)");
    err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL);
    if (err != CL_SUCCESS) return FAIL_CL(NULL, err, "clGetCommandQueueInfo(queue)");
    if (qctx != context || qdev != device)
        return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT,
                    "argument 'queue' belongs to a different %s than the one given",
                    qctx != context ? "context" : "device");
    smnn_context *ctx = context_alloc();
    if (!ctx) return FAIL(NULL, SMNN_ERROR_OUT_OF_HOST_MEMORY, "context");
    smnn__discovery_lock();
    smnn__device_info_fill(device, &ctx->info);
    smnn__discovery_unlock();
    ctx->disk_cache = smnn__disk_cache_wanted(&ctx->info);
    /* Indexes of an adopted device: look them up so that reports name it like the list does. */
    smnn_device_list *list = NULL;
    if (smnn_device_list_create(&list) == SMNN_SUCCESS) {
        for (size_t i = 0; i < smnn_device_list_count(list); i++) {
            const smnn_device_info *d = smnn_device_list_at(list, i);
            if (!strcmp(d->device_name, ctx->info.device_name) &&
                !strcmp(d->platform_name, ctx->info.platform_name)) {
                ctx->info.platform_index = d->platform_index;
                ctx->info.device_index = d->device_index;
                break;
            }
        }
        smnn_device_list_free(list);
        smnn__clear_error();
    }
    clRetainContext(context);
    clRetainCommandQueue(queue);
    clRetainDevice(device);
    ctx->cl_ctx = context;
    ctx->device = device;
    ctx->queue = queue;
    *out = ctx;
    return SMNN_SUCCESS;
}

void smnn_context_free(smnn_context *ctx) {
    if (!ctx) return;
    if (ctx->queue) {
        clFinish(ctx->queue);
        clReleaseCommandQueue(ctx->queue);
    }
    for (smnn__program_entry *e = ctx->programs, *next; e; e = next) {
        next = e->next;
        clReleaseProgram(e->program);
        free(e->options);
        free(e);
    }
    if (ctx->cl_ctx) clReleaseContext(ctx->cl_ctx);
    if (ctx->device) clReleaseDevice(ctx->device);
    if (ctx->lock) {
        pthread_mutex_destroy((pthread_mutex_t *)ctx->lock);
        free(ctx->lock);
    }
    free(ctx);
}

const char *smnn_context_last_error(const smnn_context *ctx) {
    return ctx ? ctx->last_error : "";
}

const smnn_device_info *smnn_context_device(const smnn_context *ctx) {
    return ctx ? &ctx->info : NULL;
}

cl_context smnn_context_cl_context(const smnn_context *ctx) {
    return ctx ? ctx->cl_ctx : NULL;
}

cl_device_id smnn_context_cl_device(const smnn_context *ctx) {
    return ctx ? ctx->device : NULL;
}

cl_command_queue smnn_context_cl_queue(const smnn_context *ctx) {
    return ctx ? ctx->queue : NULL;
}
