//===- ptxnet-run.cpp - run an nn graph on the CPU reference evaluator ----===//
//
//   ptxnet-run --cpu model.mlir --weights w.safetensors --input x.npy \
//              [--fuse] [--batch N] [--output y.npy] [--check ref.npy]
//
// The oracle for the compiler: it executes the graph as written (or after the
// fusion pipeline, with --fuse) and compares with a reference output.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Dialect/NN/Transforms/Passes.h"
#include "ptxnet/Reference/Evaluator.h"
#include "ptxnet/Runtime/Npy.h"
#include "ptxnet/Support/GraphIO.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

#include <chrono>

using namespace mlir;
using namespace ptxnet;
namespace cl = llvm::cl;

static cl::OptionCategory category("ptxnet-run options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<graph.mlir|model.onnx>"),
                                      cl::init("-"), cl::cat(category));
static cl::opt<bool> cpu("cpu",
                         cl::desc("Run on the CPU reference evaluator (the "
                                  "only backend of this tool; the default)"),
                         cl::init(true), cl::cat(category));
static cl::opt<std::string> weightsFile("weights",
                                        cl::desc("Safetensors weights file"),
                                        cl::value_desc("file"),
                                        cl::cat(category));
static cl::opt<std::string> inputData("input",
                                      cl::desc("Input tensor (.npy, or raw "
                                               "float32 .bin)"),
                                      cl::value_desc("file"), cl::Required,
                                      cl::cat(category));
static cl::opt<std::string> outputData("output",
                                       cl::desc("Write the result as .npy"),
                                       cl::value_desc("file"),
                                       cl::cat(category));
static cl::opt<std::string> checkData(
    "check", cl::desc("Reference output (.npy): print the relative error "
                      "||out - ref|| / ||ref|| and fail above --tolerance"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<double> tolerance("tolerance",
                                 cl::desc("Largest relative error accepted "
                                          "by --check"),
                                 cl::init(1e-5), cl::cat(category));
static cl::opt<bool> fuse("fuse",
                          cl::desc("Run nn-fusion-pipeline (BatchNorm folded "
                                   "at compile time) before evaluating"),
                          cl::cat(category));
static cl::opt<int64_t> batch("batch",
                              cl::desc("Re-specialise the graph for this "
                                       "batch size first (nn-set-batch)"),
                              cl::init(0), cl::cat(category));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "ptxnet-run: execute an nn graph on the CPU reference evaluator\n");
  if (!cpu) {
    llvm::errs() << "error: only --cpu is supported; GPU programs are built "
                    "by ptxnet-compile\n";
    return 1;
  }

  DialectRegistry registry;
  registerPtxnetDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = loadModelFile(inputFile, context, sourceMgr);
  if (!module)
    return 1;

  PassManager pm(&context);
  if (failed(nn::addSetBatch(pm, batch)))
    return 1;
  if (fuse) {
    nn::FusionPipelineOptions options;
    options.weights = weightsFile;
    nn::buildFusionPipeline(pm, options);
  }
  if (failed(pm.run(*module)))
    return 1;
  nn::GraphOp graph = getSingleGraph(*module);
  if (!graph)
    return 1;

  std::optional<SafetensorsFile> weights;
  if (!weightsFile.empty()) {
    auto opened = SafetensorsFile::open(weightsFile);
    if (!opened) {
      llvm::errs() << "error: " << llvm::toString(opened.takeError()) << "\n";
      return 1;
    }
    weights = std::move(*opened);
  }

  auto inputType = cast<RankedTensorType>(graph.getArgumentTypes()[0]);
  HostArray host;
  std::string error;
  if (!readTensorFile(inputData, inputType.getNumElements(), host, error)) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  reference::Tensor input;
  input.shape.assign(inputType.getShape().begin(), inputType.getShape().end());
  input.data.assign(host.values.begin(), host.values.end());

  auto start = std::chrono::steady_clock::now();
  auto result = reference::evaluateGraph(graph, weights ? &*weights : nullptr,
                                         {input});
  if (!result) {
    llvm::errs() << "error: " << llvm::toString(result.takeError()) << "\n";
    return 1;
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  llvm::outs() << "evaluated @" << graph.getSymName() << " on the CPU in "
               << llvm::format("%.2f", seconds) << " s\n";

  if (!outputData.empty() &&
      !writeNpyF32(outputData, result->shape, result->data.data(), error)) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  if (!checkData.empty()) {
    HostArray ref;
    if (!readTensorFile(checkData, int64_t(result->data.size()), ref, error)) {
      llvm::errs() << "error: " << error << "\n";
      return 1;
    }
    double rel = relativeError(result->data.data(), ref.values.data(),
                               int64_t(ref.values.size()));
    bool ok = rel <= tolerance;
    llvm::outs() << "relative error " << llvm::format("%.3e", rel)
                 << (ok ? " <= " : " > ") << "tolerance "
                 << llvm::format("%.1e", tolerance.getValue())
                 << (ok ? ": PASS\n" : ": FAIL\n");
    return ok ? 0 : 2;
  }
  return 0;
}
