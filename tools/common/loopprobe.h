/* A probe for OpenCL devices that end long loops early: Mesa's llvmpipe (Rusticl and Clover,
 * Mesa 22.3 measured) stops every loop of a work-item, silently, once that work-item has taken
 * 65,535 loop iterations in all, which OpenCL does not allow. The library's kernels detect it
 * themselves (cl/contract.h SMNN_INFO_LOOPS_CUT, reported as SMNN_ERROR_UNSUPPORTED); smnn-info
 * prints this probe's answer, and the tests use it to accept that report only where the device
 * really cuts loops. */
#ifndef SMNN_LOOPPROBE_H
#define SMNN_LOOPPROBE_H

#include <smnn/smnn.h>

/* Runs one work-item of a loop of LOOPPROBE_TURNS turns on ctx's device (in its context and
 * queue; a small program built from source) and stores in *turns how many it took:
 * LOOPPROBE_TURNS on a conforming device, fewer on one that ends loops early. Returns 0, or -1
 * with a message in err (size errlen) when building or running the probe failed. */
#define LOOPPROBE_TURNS 200000
int loopprobe_run(smnn_context *ctx, long *turns, char *err, size_t errlen);

#endif
