/* The loop probe (loopprobe.h): one work-item counts through a loop of a run-time trip count. */
#include "loopprobe.h"

#include <stdio.h>

static const char *probe_source =
    "kernel void smnn_loop_probe(global int *out, int turns) {\n"
    "    int k = 0;\n"
    "    for (int i = 0; i < turns; i++) k += 1 + (i == turns);\n"
    "    out[0] = k;\n"
    "}\n";

static int failed(char *err, size_t errlen, const char *what, cl_int code) {
    snprintf(err, errlen, "loop probe: %s failed (%d)", what, (int)code);
    return -1;
}

int loopprobe_run(smnn_context *ctx, long *turns, char *err, size_t errlen) {
    cl_context cl = smnn_context_cl_context(ctx);
    cl_device_id dev = smnn_context_cl_device(ctx);
    cl_command_queue q = smnn_context_cl_queue(ctx);
    cl_int e = CL_SUCCESS;
    int rc = -1;
    cl_program prog = clCreateProgramWithSource(cl, 1, &probe_source, NULL, &e);
    cl_kernel k = NULL;
    cl_mem out = NULL;
    if (!prog) return failed(err, errlen, "clCreateProgramWithSource", e);
    if ((e = clBuildProgram(prog, 1, &dev, "", NULL, NULL)) != CL_SUCCESS) {
        failed(err, errlen, "clBuildProgram", e);
        goto done;
    }
    if (!(k = clCreateKernel(prog, "smnn_loop_probe", &e))) {
        failed(err, errlen, "clCreateKernel", e);
        goto done;
    }
    if (!(out = clCreateBuffer(cl, CL_MEM_READ_WRITE, sizeof(cl_int), NULL, &e))) {
        failed(err, errlen, "clCreateBuffer", e);
        goto done;
    }
    cl_int n = LOOPPROBE_TURNS, got = -1;
    size_t one = 1;
    if ((e = clSetKernelArg(k, 0, sizeof out, &out)) != CL_SUCCESS ||
        (e = clSetKernelArg(k, 1, sizeof n, &n)) != CL_SUCCESS) {
        failed(err, errlen, "clSetKernelArg", e);
        goto done;
    }
    if ((e = clEnqueueNDRangeKernel(q, k, 1, NULL, &one, &one, 0, NULL, NULL)) != CL_SUCCESS) {
        failed(err, errlen, "clEnqueueNDRangeKernel", e);
        goto done;
    }
    if ((e = clEnqueueReadBuffer(q, out, CL_TRUE, 0, sizeof got, &got, 0, NULL, NULL)) !=
        CL_SUCCESS) {
        failed(err, errlen, "clEnqueueReadBuffer", e);
        goto done;
    }
    *turns = got;
    rc = 0;
done:
    if (out) clReleaseMemObject(out);
    if (k) clReleaseKernel(k);
    clReleaseProgram(prog);
    return rc;
}
