//===- CudaRuntime.h - the runtime's side of the mgpu* ABI ------*- C++ -*-===//
//
// MLIR's gpu-to-llvm lowering emits calls to mgpu* functions (module load,
// launch, streams, memory). runtime/CudaRuntimeWrappers.cpp implements them
// over the CUDA driver API; this header is what the program's main uses to
// steer them.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_RUNTIME_CUDARUNTIME_H
#define PTXNET_RUNTIME_CUDARUNTIME_H

#include <cuda.h>

namespace ptxnet::runtime {

/// Aborts with "ptxnet runtime: <what> failed: <error name>: <message>" when
/// `result` is not CUDA_SUCCESS.
void check(CUresult result, const char *what);

/// Makes the primary context of the device current (once, lazily; device
/// from $PTXNET_DEVICE, default 0).
void ensureContext();

/// The stream that generated code gets from mgpuStreamCreate while set: the
/// program captures the forward pass on it into a CUDA graph.
void setExecutionStream(CUstream stream);

/// While set, kernels are launched with programmatic stream serialization
/// (cuLaunchKernelEx): a kernel's blocks may start before the previous
/// kernel ends. Only for kernels that begin with griddepcontrol.wait.
void setDependentLaunch(bool enabled);

/// With $PTXNET_PROFILE set, every launch outside graph capture is timed
/// with a pair of CUDA events; printProfile() prints the mean time per kernel
/// (in launch order) and the total.
bool profilingEnabled();
void printProfile();

} // namespace ptxnet::runtime

#endif // PTXNET_RUNTIME_CUDARUNTIME_H
