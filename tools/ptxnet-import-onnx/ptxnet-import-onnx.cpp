//===- ptxnet-import-onnx.cpp - ONNX model -> nn dialect ------------------===//
//
//   ptxnet-import-onnx model.onnx -o model.mlir [--elide-weights]
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Import/ONNX.h"
#include "ptxnet/Support/GraphIO.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("ptxnet-import-onnx options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output .mlir file"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(category));
static cl::opt<bool> elide("elide-weights",
                           cl::desc("Print large constants as __elided__ "
                                    "(for reading; the result does not "
                                    "compile)"),
                           cl::cat(category));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "ptxnet-import-onnx: translate an ONNX model into the nn dialect\n\n"
      "Supported ops: Conv, BatchNormalization, Relu, Clip (ReLU/ReLU6), "
      "GlobalAveragePool, Flatten, Gemm, MatMul (+ Add bias), Add, Mul, "
      "Sigmoid, Constant, Identity. Initializers become arith.constant weights.\n");
  DialectRegistry registry;
  ptxnet::registerPtxnetDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  auto module = ptxnet::importONNXFile(inputFile, &context);
  if (!module)
    return 1;
  std::string error;
  auto out = openOutputFile(outputFile, &error);
  if (!out) {
    llvm::errs() << "error: " << error << "\n";
    return 1;
  }
  OpPrintingFlags flags;
  if (elide)
    flags.elideLargeElementsAttrs(16);
  module->print(out->os(), flags);
  out->keep();
  return 0;
}
