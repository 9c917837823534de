//===- ptxnet-opt.cpp - opt-style driver for ptxnet -----------------------===//
//
// Like mlir-opt, with the nn dialect, every ptxnet pass and pipeline, and the
// upstream dialects and passes that ptxnet's lowering uses.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Dialect/NN/IR/NNOps.h"
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  ptxnet::nn::registerNNPipelines();

  mlir::DialectRegistry registry;
  registry.insert<ptxnet::nn::NNDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "ptxnet optimizer driver: the nn dialect, its passes and "
                  "pipelines, and upstream MLIR\n",
      registry));
}
