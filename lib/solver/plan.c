/* Plans: validation, variant choice, kernels and the device workspace of one problem shape.
 *
 * The workspace holds, per system and time point, REC(n) = n(n+1)/2 + n^2 + n reals (L_t packed,
 * K_t, z_t; see cl/common.cl). When the whole batch would exceed the device's largest single
 * allocation it is split into chunks of systems, each with its own buffer; the kernels then run
 * once per chunk. SMNN_MAX_ALLOC_BYTES lowers the allocation limit (for testing the chunking). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

static size_t max_alloc(const smnn_context *ctx) {
    size_t lim = (size_t)ctx->info.max_alloc_bytes;
    const char *env = getenv("SMNN_MAX_ALLOC_BYTES");
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (!*end && v > 0 && v < lim) lim = (size_t)v;
    }
    return lim;
}

static smnn_status make_kernel(smnn_plan *plan, cl_program prog, const char *base,
                               cl_kernel *out) {
    char name[64];
    snprintf(name, sizeof name, "%s_%s", base, smnn_variant_name(plan->shape.variant));
    cl_int err;
    *out = clCreateKernel(prog, name, &err);
    if (!*out) return FAIL_CL(plan->ctx, err, "clCreateKernel");
    if (plan->shape.variant == SMNN_VARIANT_LOCAL) {
        size_t wg = 0;
        err = clGetKernelWorkGroupInfo(*out, plan->ctx->device, CL_KERNEL_WORK_GROUP_SIZE,
                                       sizeof wg, &wg, NULL);
        if (err != CL_SUCCESS) return FAIL_CL(plan->ctx, err, "clGetKernelWorkGroupInfo");
        if (wg < (size_t)plan->shape.wg)
            return FAIL(plan->ctx, SMNN_ERROR_UNSUPPORTED,
                        "kernel %s allows work-groups of %zu, the local variant needs %d", name,
                        wg, plan->shape.wg);
    }
    return SMNN_SUCCESS;
}

smnn_status smnn_plan_create(smnn_context *ctx, const smnn_problem *p, smnn_plan **out) {
    smnn__clear_error();
    if (!out) return FAIL(ctx, SMNN_ERROR_INVALID_ARGUMENT, "argument 'out' is NULL");
    *out = NULL;
    if (!ctx) return FAIL(NULL, SMNN_ERROR_INVALID_ARGUMENT, "argument 'ctx' is NULL");
    smnn_status st = smnn_problem_validate(p);
    if (st != SMNN_SUCCESS) {
        smnn__context_set_error(ctx, smnn_last_error());
        return st;
    }
    size_t n = p->dims * p->orders;
    if (p->batch > INT32_MAX || p->steps > INT32_MAX / 2)
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE, "batch %zu or steps %zu too large for the kernels",
                    p->batch, p->steps);
    smnn_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "plan");
    plan->ctx = ctx;
    plan->p = *p;
    plan->n = n;
    plan->elem = p->precision == SMNN_PRECISION_DOUBLE ? 8 : 4;
    st = smnn__kernel_shape_for(ctx, p->variant, n, p->batch, p->precision, &plan->shape);
    if (st != SMNN_SUCCESS) {
        smnn_plan_free(plan);
        return st;
    }
    /* Workspace: chunks of systems, each within one allocation. */
    size_t rec = n * (n + 1) / 2 + n * n + n, per_system;
    if (smnn__mul_overflows(rec * plan->elem, p->steps, &per_system)) per_system = SIZE_MAX;
    size_t lim = max_alloc(ctx);
    if (per_system > lim) {
        smnn_plan_free(plan);
        return FAIL(ctx, SMNN_ERROR_TOO_LARGE,
                    "one system's workspace (%zu bytes for T = %zu, n = %zu) exceeds the device's "
                    "largest allocation (%zu bytes)", per_system, p->steps, n, lim);
    }
    /* Chunks hold whole lane groups of vw systems (the layout is padded to one); when not even
     * one group fits in an allocation, fall back to one system per work-item. */
    size_t groups = lim / (per_system * (size_t)plan->shape.vw);
    if (groups == 0) {
        plan->shape.vw = 1;
        groups = lim / per_system;
    }
    size_t vw = (size_t)plan->shape.vw;
    plan->chunk_cap = groups * vw < p->batch ? groups * vw : p->batch;
    plan->bcap = (plan->chunk_cap + vw - 1) / vw * vw;
    /* Specialise the program for this block shape: the loops over the block unroll. Programs are
     * cached per shape in memory and on disk. */
    const char *generic = getenv("SMNN_GENERIC_KERNELS");
    if (!generic || !*generic || !strcmp(generic, "0")) {
        plan->shape.dims = (int)p->dims;
        plan->shape.orders = (int)p->orders;
        plan->shape.equations = (int)p->equations;
        if (plan->shape.variant == SMNN_VARIANT_PRIVATE) plan->shape.nmax = (int)n;
    }
    cl_program prog = NULL;
    st = smnn__shape_program(ctx, p->precision, &plan->shape, &prog);
    if (st == SMNN_SUCCESS) st = make_kernel(plan, prog, "smnn_factor", &plan->k_factor);
    if (st == SMNN_SUCCESS) st = make_kernel(plan, prog, "smnn_forward", &plan->k_forward);
    if (st == SMNN_SUCCESS) st = make_kernel(plan, prog, "smnn_backward", &plan->k_backward);
    cl_int kerr = CL_SUCCESS;
    if (st == SMNN_SUCCESS && !(plan->k_gradient = clCreateKernel(prog, "smnn_gradient", &kerr)))
        st = FAIL_CL(ctx, kerr, "clCreateKernel(smnn_gradient)");
    if (st == SMNN_SUCCESS && !(plan->k_reduce = clCreateKernel(prog, "smnn_reduce", &kerr)))
        st = FAIL_CL(ctx, kerr, "clCreateKernel(smnn_reduce)");
    plan->refine = p->refine_steps >= 0 ? p->refine_steps
                                        : (p->precision == SMNN_PRECISION_SINGLE ? 2 : 0);
    if (st == SMNN_SUCCESS && plan->refine > 0) {
        if (!(plan->k_residual = clCreateKernel(prog, "smnn_residual", &kerr)))
            st = FAIL_CL(ctx, kerr, "clCreateKernel(smnn_residual)");
        else if (!(plan->k_add = clCreateKernel(prog, "smnn_add", &kerr)))
            st = FAIL_CL(ctx, kerr, "clCreateKernel(smnn_add)");
        else if (!(plan->k_refine_check = clCreateKernel(prog, "smnn_refine_check", &kerr)))
            st = FAIL_CL(ctx, kerr, "clCreateKernel(smnn_refine_check)");
    }
    if (st != SMNN_SUCCESS) {
        smnn_plan_free(plan);
        return st;
    }
    plan->nchunks = (p->batch + plan->chunk_cap - 1) / plan->chunk_cap;
    plan->ws = calloc(plan->nchunks, sizeof *plan->ws);
    if (!plan->ws) {
        smnn_plan_free(plan);
        return FAIL(ctx, SMNN_ERROR_OUT_OF_HOST_MEMORY, "plan chunks");
    }
    cl_int err;
    for (size_t k = 0; k < plan->nchunks; k++) {
        size_t bytes = plan->bcap * per_system;
        plan->ws[k] = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (!plan->ws[k]) {
            smnn_plan_free(plan);
            return FAIL_CL(ctx, err, "clCreateBuffer(workspace)");
        }
        plan->ws_bytes += bytes;
    }
    plan->info = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, p->batch * sizeof(cl_int), NULL,
                                &err);
    if (!plan->info) {
        smnn_plan_free(plan);
        return FAIL_CL(ctx, err, "clCreateBuffer(info)");
    }
    *out = plan;
    return SMNN_SUCCESS;
}

void smnn_plan_free(smnn_plan *plan) {
    if (!plan) return;
    if (plan->ctx && plan->ctx->queue) clFinish(plan->ctx->queue);
    if (plan->k_factor) clReleaseKernel(plan->k_factor);
    if (plan->k_forward) clReleaseKernel(plan->k_forward);
    if (plan->k_backward) clReleaseKernel(plan->k_backward);
    if (plan->k_gradient) clReleaseKernel(plan->k_gradient);
    if (plan->k_reduce) clReleaseKernel(plan->k_reduce);
    if (plan->k_residual) clReleaseKernel(plan->k_residual);
    if (plan->k_add) clReleaseKernel(plan->k_add);
    if (plan->k_refine_check) clReleaseKernel(plan->k_refine_check);
    if (plan->refine_change) clReleaseMemObject(plan->refine_change);
    if (plan->refine_s) clReleaseMemObject(plan->refine_s);
    if (plan->refine_r) clReleaseMemObject(plan->refine_r);
    if (plan->refine_delta) clReleaseMemObject(plan->refine_delta);
    if (plan->lambda) clReleaseMemObject(plan->lambda);
    for (int i = 0; i < 4; i++)
        if (plan->scratch[i]) clReleaseMemObject(plan->scratch[i]);
    for (size_t k = 0; plan->ws && k < plan->nchunks; k++)
        if (plan->ws[k]) clReleaseMemObject(plan->ws[k]);
    free(plan->ws);
    if (plan->info) clReleaseMemObject(plan->info);
    free(plan);
}

const smnn_problem *smnn_plan_problem(const smnn_plan *plan) {
    return plan ? &plan->p : NULL;
}

smnn_variant smnn_plan_variant(const smnn_plan *plan) {
    return plan ? plan->shape.variant : SMNN_VARIANT_AUTO;
}

size_t smnn_plan_workspace_bytes(const smnn_plan *plan) {
    return plan ? plan->ws_bytes + plan->p.batch * sizeof(cl_int) : 0;
}

size_t smnn_plan_chunks(const smnn_plan *plan) {
    return plan ? plan->nchunks : 0;
}
