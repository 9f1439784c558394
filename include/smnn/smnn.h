/* smnn: Scalable Mechanistic Neural Network solvers in portable OpenCL.
 *
 * The umbrella header: include this one. See status.h (errors, versions), runtime.h (devices and
 * contexts), problem.h (problem description and input layouts), solver.h (the batched device
 * solver), multi.h (one batch over several devices) and reference.h (the dense host reference). */
#ifndef SMNN_SMNN_H
#define SMNN_SMNN_H

#include <smnn/version.h>
#include <smnn/status.h>
#include <smnn/runtime.h>
#include <smnn/problem.h>
#include <smnn/solver.h>
#include <smnn/multi.h>
#include <smnn/reference.h>

#endif
