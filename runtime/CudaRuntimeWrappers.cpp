//===- CudaRuntimeWrappers.cpp - mgpu* over the CUDA driver API -----------===//
//
// Debian ships no libmlir_cuda_runtime, so ptxnet provides the functions that
// MLIR's gpu-to-llvm lowering calls. Every driver call is checked: a failure
// names the call and the driver's reason, then exits (the ABI has no error
// returns). Module loads run from global constructors, before main, so the
// context is created lazily on first use.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Runtime/CudaRuntime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

using namespace ptxnet;

static CUstream executionStream = nullptr;
static bool dependentLaunch = false;

namespace {
struct LaunchRecord {
  const char *name;
  CUevent start, stop;
};
std::vector<LaunchRecord> &launchRecords() {
  static std::vector<LaunchRecord> records;
  return records;
}

/// Dynamic shared memory beyond the static 48 KB must be opted into per
/// function (the GEMMs' deep cp.async rings, gemm-async-shared-kb): once per
/// function and size, before the launch is timed or captured.
void allowDynamicShared(CUfunction function, int32_t bytes) {
  static std::map<CUfunction, int32_t> allowed;
  if (bytes <= 48 * 1024 || allowed[function] >= bytes)
    return;
  runtime::check(
      cuFuncSetAttribute(
          function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
      "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
  allowed[function] = bytes;
}
} // namespace

bool runtime::profilingEnabled() {
  static bool enabled = std::getenv("PTXNET_PROFILE") != nullptr;
  return enabled;
}

void runtime::printProfile() {
  auto &records = launchRecords();
  if (records.empty())
    return;
  // Aggregate by kernel name, keeping the order of first launch.
  std::vector<std::string> order;
  std::map<std::string, std::pair<double, int>> perKernel;
  double total = 0;
  for (LaunchRecord &r : records) {
    check(cuEventSynchronize(r.stop), "cuEventSynchronize");
    float ms = 0;
    check(cuEventElapsedTime(&ms, r.start, r.stop), "cuEventElapsedTime");
    auto [it, inserted] = perKernel.try_emplace(r.name, 0.0, 0);
    if (inserted)
      order.push_back(r.name);
    it->second.first += ms;
    it->second.second += 1;
    total += ms;
  }
  int runs = perKernel[order.front()].second;
  std::printf("profile: %d runs, kernel by kernel (mean ms per run)\n", runs);
  for (const std::string &name : order) {
    auto [ms, count] = perKernel[name];
    std::printf("  %-36s %9.4f ms  %5.1f%%\n", name.c_str(), ms / runs,
                100.0 * ms / total);
  }
  std::printf("  %-36s %9.4f ms\n", "total (sum of kernels)", total / runs);
}

void runtime::check(CUresult result, const char *what) {
  if (result == CUDA_SUCCESS)
    return;
  const char *name = "unknown error", *message = "";
  cuGetErrorName(result, &name);
  cuGetErrorString(result, &message);
  std::fprintf(stderr, "ptxnet runtime: %s failed: %s: %s\n", what, name,
               message);
  std::exit(3);
}

void runtime::ensureContext() {
  static std::once_flag once;
  std::call_once(once, [] {
    check(cuInit(0), "cuInit");
    int ordinal = 0;
    if (const char *env = std::getenv("PTXNET_DEVICE"))
      ordinal = std::atoi(env);
    CUdevice device;
    check(cuDeviceGet(&device, ordinal), "cuDeviceGet");
    CUcontext context;
    check(cuDevicePrimaryCtxRetain(&context, device),
          "cuDevicePrimaryCtxRetain");
    check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
  });
}

void runtime::setExecutionStream(CUstream stream) { executionStream = stream; }

void runtime::setDependentLaunch(bool enabled) { dependentLaunch = enabled; }

extern "C" {

CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  runtime::ensureContext();
  CUmodule module;
  runtime::check(cuModuleLoadData(&module, data), "cuModuleLoadData");
  return module;
}

/// Loads PTX, JIT-compiling it for the device; the JIT log is printed when
/// compilation fails.
CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  runtime::ensureContext();
  static char errorLog[16384];
  CUjit_option options[] = {CU_JIT_OPTIMIZATION_LEVEL, CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {reinterpret_cast<void *>(intptr_t(optLevel)), errorLog,
                    reinterpret_cast<void *>(sizeof(errorLog))};
  CUmodule module;
  CUresult result = cuModuleLoadDataEx(&module, data, 3, options, values);
  if (result != CUDA_SUCCESS)
    std::fprintf(stderr, "ptxnet runtime: PTX JIT log:\n%s\n", errorLog);
  runtime::check(result, "cuModuleLoadDataEx (PTX JIT)");
  return module;
}

void mgpuModuleUnload(CUmodule module) {
  // Called from a global destructor: the context may already be gone at
  // process exit, which is harmless, so the result is not checked.
  cuModuleUnload(module);
}

CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  CUfunction function;
  runtime::check(cuModuleGetFunction(&function, module, name),
                 "cuModuleGetFunction");
  return function;
}

void mgpuLaunchKernel(CUfunction function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, CUstream stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  allowDynamicShared(function, smem);
  CUstreamCaptureStatus capture = CU_STREAM_CAPTURE_STATUS_NONE;
  bool profile = runtime::profilingEnabled();
  if (profile)
    runtime::check(cuStreamIsCapturing(stream, &capture),
                   "cuStreamIsCapturing");
  profile = profile && capture == CU_STREAM_CAPTURE_STATUS_NONE;
  LaunchRecord record{nullptr, nullptr, nullptr};
  if (profile) {
    runtime::check(cuFuncGetName(&record.name, function), "cuFuncGetName");
    runtime::check(cuEventCreate(&record.start, CU_EVENT_DEFAULT),
                   "cuEventCreate");
    runtime::check(cuEventCreate(&record.stop, CU_EVENT_DEFAULT),
                   "cuEventCreate");
    runtime::check(cuEventRecord(record.start, stream), "cuEventRecord");
  }
  // A dependent launch may start before the previous kernel ends (the
  // kernels wait on griddepcontrol); without the attribute this is a plain
  // launch.
  CUlaunchAttribute attribute{};
  attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
  attribute.value.programmaticStreamSerializationAllowed = 1;
  CUlaunchConfig config{};
  config.gridDimX = gridX;
  config.gridDimY = gridY;
  config.gridDimZ = gridZ;
  config.blockDimX = blockX;
  config.blockDimY = blockY;
  config.blockDimZ = blockZ;
  config.sharedMemBytes = smem;
  config.hStream = stream;
  config.attrs = &attribute;
  config.numAttrs = dependentLaunch ? 1 : 0;
  runtime::check(cuLaunchKernelEx(&config, function, params, extra),
                 "cuLaunchKernelEx");
  if (profile) {
    runtime::check(cuEventRecord(record.stop, stream), "cuEventRecord");
    launchRecords().push_back(record);
  }
}

CUstream mgpuStreamCreate() {
  runtime::ensureContext();
  if (executionStream)
    return executionStream;
  CUstream stream;
  runtime::check(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
                 "cuStreamCreate");
  return stream;
}

void mgpuStreamDestroy(CUstream stream) {
  if (stream == executionStream)
    return;
  runtime::check(cuStreamDestroy(stream), "cuStreamDestroy");
}

/// Skipped while the stream is being captured into a graph: synchronising a
/// capturing stream is illegal, and the program synchronises after replay.
void mgpuStreamSynchronize(CUstream stream) {
  CUstreamCaptureStatus status;
  runtime::check(cuStreamIsCapturing(stream, &status), "cuStreamIsCapturing");
  if (status != CU_STREAM_CAPTURE_STATUS_NONE)
    return;
  runtime::check(cuStreamSynchronize(stream), "cuStreamSynchronize");
}

void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  runtime::check(cuStreamWaitEvent(stream, event, 0), "cuStreamWaitEvent");
}

CUevent mgpuEventCreate() {
  runtime::ensureContext();
  CUevent event;
  runtime::check(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING),
                 "cuEventCreate");
  return event;
}

void mgpuEventDestroy(CUevent event) {
  runtime::check(cuEventDestroy(event), "cuEventDestroy");
}

void mgpuEventSynchronize(CUevent event) {
  runtime::check(cuEventSynchronize(event), "cuEventSynchronize");
}

void mgpuEventRecord(CUevent event, CUstream stream) {
  runtime::check(cuEventRecord(event, stream), "cuEventRecord");
}

void *mgpuMemAlloc(uint64_t bytes, CUstream /*stream*/, bool /*hostShared*/) {
  runtime::ensureContext();
  CUdeviceptr ptr = 0;
  if (bytes)
    runtime::check(cuMemAlloc(&ptr, bytes), "cuMemAlloc");
  return reinterpret_cast<void *>(ptr);
}

void mgpuMemFree(void *ptr, CUstream /*stream*/) {
  if (ptr)
    runtime::check(cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)), "cuMemFree");
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, CUstream stream) {
  runtime::check(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                               reinterpret_cast<CUdeviceptr>(src), bytes,
                               stream),
                 "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, CUstream stream) {
  runtime::check(cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                  count, stream),
                 "cuMemsetD32Async");
}

} // extern "C"
