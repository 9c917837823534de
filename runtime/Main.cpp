//===- Main.cpp - main() of the programs ptxnet-compile links -------------===//
//
//   effnet [--input x.npy|x.bin] [--output y.npy] [--check ref.npy]
//          [--tolerance T] [--bench N] [--no-graph]
//
// Uploads the embedded weights once (persisting in L2), runs the compiled
// forward pass (captured once into a CUDA graph and replayed), writes and
// checks the result, and times it with CUDA events (median of N replays after
// a warm-up).
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Runtime/CudaRuntime.h"
#include "ptxnet/Runtime/Npy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace ptxnet;
using runtime::check;

// Emitted by ptxnet-compile (convert-nn-to-gpu): see its documentation.
extern "C" {
extern const int64_t ptxnet_model_info[];
extern const char ptxnet_weights[];
void ptxnet_forward(float *input, float *output, void *workspace,
                    void *weights);
}

namespace {
struct ModelInfo {
  std::vector<int64_t> inputShape, outputShape;
  int64_t workspaceBytes = 0, weightBytes = 0, precision = 0;
  bool dependentLaunch = false;

  static ModelInfo read() {
    ModelInfo m;
    const int64_t *p = ptxnet_model_info;
    int64_t version = *p++;
    if (version < 1 || version > 3) {
      std::fprintf(stderr, "error: model info version %lld is not supported\n",
                   (long long)version);
      std::exit(2);
    }
    m.inputShape.assign(p + 1, p + 1 + p[0]);
    p += 1 + p[0];
    m.outputShape.assign(p + 1, p + 1 + p[0]);
    p += 1 + p[0];
    m.workspaceBytes = *p++;
    m.weightBytes = *p++;
    if (version >= 2)
      m.precision = *p++;
    if (version >= 3)
      m.dependentLaunch = *p++ != 0;
    return m;
  }
};

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

struct Options {
  std::string input, output, check;
  double tolerance = -1;
  int bench = 0;
  bool useGraph = true;
};

[[noreturn]] void usage(const char *argv0, int code) {
  std::fprintf(
      code ? stderr : stdout,
      "usage: %s [--input x.npy|x.bin] [--output y.npy] "
      "[--check ref.npy] [--tolerance T] [--bench N] [--no-graph]\n"
      "  --input      input tensor: .npy (float32/float64) or raw "
      "float32 .bin;\n"
      "               without it, a random normal input is used\n"
      "  --output     write the result as float32 .npy\n"
      "  --check      compare with a reference .npy: prints "
      "||out-ref||/||ref||,\n"
      "               exit code 1 above the tolerance\n"
      "  --tolerance  default 1e-5 (fp32 build), 1e-3 (tf32), 1e-2 (f16, "
      "bf16)\n"
      "  --bench N    warm up, then median latency of N runs (CUDA "
      "events)\n"
      "  --no-graph   launch kernel by kernel instead of replaying a "
      "CUDA graph\n"
      "environment: PTXNET_PROFILE=1 with --no-graph prints the mean "
      "time of each kernel;\n"
      "             PTXNET_DEVICE=N picks the GPU (default 0);\n"
      "             PTXNET_DEPENDENT_LAUNCH=0 launches a dependent-launch "
      "build's kernels\n"
      "             one after the other (for comparison; still "
      "correct);\n"
      "             PTXNET_L2_PERSIST=0 does not keep the weights "
      "persisting in L2\n",
      argv0);
  std::exit(code);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
        usage(argv[0], 2);
      }
      return argv[++i];
    };
    if (a == "--input")
      o.input = value();
    else if (a == "--output")
      o.output = value();
    else if (a == "--check")
      o.check = value();
    else if (a == "--tolerance")
      o.tolerance = std::atof(value().c_str());
    else if (a == "--bench") {
      o.bench = std::atoi(value().c_str());
      if (o.bench <= 0) {
        std::fprintf(stderr, "error: --bench needs a positive count\n");
        std::exit(2);
      }
    } else if (a == "--no-graph")
      o.useGraph = false;
    else if (a == "--help" || a == "-h")
      usage(argv[0], 0);
    else {
      std::fprintf(stderr, "error: unknown argument '%s'\n", a.c_str());
      usage(argv[0], 2);
    }
  }
  return o;
}

/// One forward pass on `stream`, as a CUDA graph (captured once) or launch by
/// launch.
class Runner {
public:
  Runner(CUstream stream, bool useGraph) : stream(stream), useGraph(useGraph) {}
  /// The L2 access policy (where it has bytes) of the stream, set on every
  /// kernel node of the captured graphs too.
  CUaccessPolicyWindow window{};

  void run(CUdeviceptr in, CUdeviceptr out, CUdeviceptr ws, CUdeviceptr wts) {
    auto forward = [&] {
      ptxnet_forward(reinterpret_cast<float *>(in),
                     reinterpret_cast<float *>(out),
                     reinterpret_cast<void *>(ws),
                     reinterpret_cast<void *>(wts));
    };
    if (!useGraph) {
      forward();
      return;
    }
    auto key = std::make_pair(in, out);
    auto it = std::find_if(graphs.begin(), graphs.end(),
                           [&](auto &g) { return g.first == key; });
    if (it == graphs.end()) {
      check(cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
            "cuStreamBeginCapture");
      forward();
      CUgraph graph;
      check(cuStreamEndCapture(stream, &graph), "cuStreamEndCapture");
      size_t count = 0;
      check(cuGraphGetNodes(graph, nullptr, &count), "cuGraphGetNodes");
      std::vector<CUgraphNode> nodes(count);
      check(cuGraphGetNodes(graph, nodes.data(), &count), "cuGraphGetNodes");
      kernelCount = count;
      if (window.num_bytes) {
        for (CUgraphNode node : nodes) {
          CUgraphNodeType type;
          check(cuGraphNodeGetType(node, &type), "cuGraphNodeGetType");
          if (type != CU_GRAPH_NODE_TYPE_KERNEL)
            continue;
          CUkernelNodeAttrValue value{};
          value.accessPolicyWindow = window;
          check(
              cuGraphKernelNodeSetAttribute(
                  node, CU_KERNEL_NODE_ATTRIBUTE_ACCESS_POLICY_WINDOW, &value),
              "cuGraphKernelNodeSetAttribute");
        }
      }
      CUgraphExec exec;
      check(cuGraphInstantiate(&exec, graph, 0), "cuGraphInstantiate");
      cuGraphDestroy(graph);
      graphs.push_back({key, exec});
      it = std::prev(graphs.end());
    }
    check(cuGraphLaunch(it->second, stream), "cuGraphLaunch");
  }
  size_t kernels() const { return kernelCount; }

private:
  CUstream stream;
  bool useGraph;
  size_t kernelCount = 0;
  std::vector<std::pair<std::pair<CUdeviceptr, CUdeviceptr>, CUgraphExec>>
      graphs;
};
/// Whether the environment variable `name` is "0": the switch it names is
/// off (see usage()).
bool switchedOff(const char *name) {
  const char *value = std::getenv(name);
  return value && std::string(value) == "0";
}

/// The weights stay in L2 from one forward pass to the next: an access
/// policy window over their buffer marks them persisting (up to the device's
/// persisting limit), so that the activations streaming through L2 do not
/// evict them (on an H200, 0.8% faster at batch 10 and 64, the same at batch
/// 1: bench/RESULTS.md). Returns the window set on `stream` (none where the
/// device or driver cannot persist: the program then runs without it).
CUaccessPolicyWindow keepInL2(CUstream stream, CUdevice device,
                              CUdeviceptr buffer, int64_t bytes) {
  CUaccessPolicyWindow window{};
  int maxPersist = 0, maxWindow = 0;
  if (cuDeviceGetAttribute(&maxPersist,
                           CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE,
                           device) != CUDA_SUCCESS ||
      cuDeviceGetAttribute(&maxWindow,
                           CU_DEVICE_ATTRIBUTE_MAX_ACCESS_POLICY_WINDOW_SIZE,
                           device) != CUDA_SUCCESS ||
      maxPersist <= 0 || maxWindow <= 0 || bytes <= 0)
    return window;
  size_t size = std::min<size_t>(bytes, maxWindow);
  size_t persist = std::min<size_t>(size, maxPersist);
  window.base_ptr = reinterpret_cast<void *>(buffer);
  window.num_bytes = size;
  window.hitRatio = float(persist) / float(size);
  window.hitProp = CU_ACCESS_PROPERTY_PERSISTING;
  window.missProp = CU_ACCESS_PROPERTY_STREAMING;
  CUstreamAttrValue value{};
  value.accessPolicyWindow = window;
  if (cuCtxSetLimit(CU_LIMIT_PERSISTING_L2_CACHE_SIZE, persist) !=
          CUDA_SUCCESS ||
      cuStreamSetAttribute(stream, CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW,
                           &value) != CUDA_SUCCESS) {
    std::fprintf(stderr, "warning: the weights cannot persist in L2 here\n");
    return CUaccessPolicyWindow{};
  }
  return window;
}
} // namespace

int main(int argc, char **argv) {
  Options opt = parse(argc, argv);
  ModelInfo info = ModelInfo::read();
  int64_t inElems = product(info.inputShape), outElems = product(info.outputShape);
  if (opt.tolerance < 0)
    opt.tolerance = info.precision == 0 ? 1e-5
                    : info.precision == 1 ? 1e-3
                                          : 1e-2;

  // Read the input before touching the GPU: a bad file is reported at once.
  std::vector<float> input(inElems);
  std::string error;
  if (!opt.input.empty()) {
    HostArray host;
    if (!readTensorFile(opt.input, inElems, host, error)) {
      std::fprintf(stderr, "error: %s (the model takes %s)\n", error.c_str(),
                   shapeString(info.inputShape).c_str());
      return 2;
    }
    std::copy(host.values.begin(), host.values.end(), input.begin());
  } else {
    std::mt19937 gen(1234);
    std::normal_distribution<float> normal;
    for (float &v : input)
      v = normal(gen);
  }
  HostArray reference;
  if (!opt.check.empty() &&
      !readTensorFile(opt.check, outElems, reference, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 2;
  }

  runtime::ensureContext();
  CUdevice device;
  check(cuCtxGetDevice(&device), "cuCtxGetDevice");
  char name[256];
  check(cuDeviceGetName(name, sizeof(name), device), "cuDeviceGetName");
  CUstream stream;
  check(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  runtime::setExecutionStream(stream);
  // Kernels that wait on griddepcontrol may be launched before the previous
  // one ends; others must not be.
  runtime::setDependentLaunch(info.dependentLaunch &&
                              !switchedOff("PTXNET_DEPENDENT_LAUNCH"));

  CUdeviceptr in, out, ws, wts;
  check(cuMemAlloc(&in, inElems * 4), "cuMemAlloc(input)");
  check(cuMemAlloc(&out, outElems * 4), "cuMemAlloc(output)");
  check(cuMemAlloc(&ws, info.workspaceBytes), "cuMemAlloc(workspace)");
  check(cuMemAlloc(&wts, info.weightBytes), "cuMemAlloc(weights)");
  check(cuMemcpyHtoD(wts, ptxnet_weights, info.weightBytes),
        "cuMemcpyHtoD(weights)");
  check(cuMemcpyHtoD(in, input.data(), inElems * 4), "cuMemcpyHtoD(input)");
  // Poison the output: an element the kernels fail to write stays NaN and
  // fails the check.
  check(cuMemsetD32(out, 0xFFFFFFFFu, outElems), "cuMemsetD32(output)");

  Runner runner(stream, opt.useGraph);
  if (!switchedOff("PTXNET_L2_PERSIST"))
    runner.window = keepInL2(stream, device, wts, info.weightBytes);
  runner.run(in, out, ws, wts);
  check(cuStreamSynchronize(stream), "cuStreamSynchronize");
  std::vector<float> result(outElems);
  check(cuMemcpyDtoH(result.data(), out, outElems * 4), "cuMemcpyDtoH(output)");
  std::printf("ran on %s: input %s -> output %s%s\n", name,
              shapeString(info.inputShape).c_str(),
              shapeString(info.outputShape).c_str(),
              opt.useGraph ? " (CUDA graph)" : "");

  int status = 0;
  if (!opt.output.empty()) {
    if (!writeNpyF32(opt.output, info.outputShape, result.data(), error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 2;
    }
    std::printf("wrote %s\n", opt.output.c_str());
  }
  if (!opt.check.empty()) {
    double rel = relativeError(result.data(), reference.values.data(), outElems);
    bool ok = rel <= opt.tolerance;
    std::printf("relative error %.3e %s tolerance %.1e: %s\n", rel,
                ok ? "<=" : ">", opt.tolerance, ok ? "PASS" : "FAIL");
    status = ok ? 0 : 1;
  }

  if (opt.bench > 0) {
    // Several random inputs in rotation, so that repeated runs do not just
    // re-read one input from L2.
    const int rotations = 4;
    std::vector<CUdeviceptr> inputs(rotations);
    std::mt19937 gen(99);
    std::normal_distribution<float> normal;
    std::vector<float> host(inElems);
    for (auto &ptr : inputs) {
      for (float &v : host)
        v = normal(gen);
      check(cuMemAlloc(&ptr, inElems * 4), "cuMemAlloc(bench input)");
      check(cuMemcpyHtoD(ptr, host.data(), inElems * 4), "cuMemcpyHtoD");
    }
    for (int i = 0; i < 20; ++i)
      runner.run(inputs[i % rotations], out, ws, wts);
    check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    CUevent start, stop;
    check(cuEventCreate(&start, CU_EVENT_DEFAULT), "cuEventCreate");
    check(cuEventCreate(&stop, CU_EVENT_DEFAULT), "cuEventCreate");
    std::vector<float> ms(opt.bench);
    for (int i = 0; i < opt.bench; ++i) {
      check(cuEventRecord(start, stream), "cuEventRecord");
      runner.run(inputs[i % rotations], out, ws, wts);
      check(cuEventRecord(stop, stream), "cuEventRecord");
      check(cuEventSynchronize(stop), "cuEventSynchronize");
      check(cuEventElapsedTime(&ms[i], start, stop), "cuEventElapsedTime");
    }
    std::vector<float> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    double mean = 0;
    for (float v : ms)
      mean += v;
    mean /= ms.size();
    std::printf("bench: %d runs, median %.4f ms, min %.4f ms, mean %.4f ms, "
                "p90 %.4f ms (batch %lld, %.1f images/s)%s\n",
                opt.bench, sorted[sorted.size() / 2], sorted.front(), mean,
                sorted[sorted.size() * 9 / 10],
                (long long)info.inputShape[0],
                info.inputShape[0] / (sorted[sorted.size() / 2] / 1000.0),
                opt.useGraph ? "" : " without CUDA graph");
    if (opt.useGraph)
      std::printf("graph: %zu nodes\n", runner.kernels());
    for (auto ptr : inputs)
      cuMemFree(ptr);
  }
  runtime::printProfile();
  return status;
}
