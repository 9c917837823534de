//===- ptxnet-opt.cpp - opt-style driver for ptxnet -----------------------===//
//
// Like mlir-opt, with the nn dialect, every ptxnet pass and pipeline, and the
// upstream dialects and passes that ptxnet's lowering uses.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Conversion/Passes.h"
#include "ptxnet/Dialect/NN/IR/NNOps.h"
#include "ptxnet/Dialect/NN/Transforms/Passes.h"
#include "ptxnet/Target/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  ptxnet::nn::registerNNPipelines();
  ptxnet::registerPtxnetConversionPasses();
  ptxnet::registerTargetPipelines();

  mlir::DialectRegistry registry;
  registry.insert<ptxnet::nn::NNDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR and runs the NVPTX
  // backend from inside the pass pipeline.
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "ptxnet optimizer driver: the nn dialect, its passes and "
                  "pipelines, and upstream MLIR\n",
      registry));
}
