//===- GraphIO.cpp - Loading nn graphs for the ptxnet tools ---------------===//
#include "ptxnet/Support/GraphIO.h"
#include "ptxnet/Import/ONNX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"

using namespace mlir;

OwningOpRef<ModuleOp> ptxnet::parseGraphFile(llvm::StringRef path,
                                             MLIRContext &context,
                                             llvm::SourceMgr &sourceMgr) {
  std::string error;
  auto file = openInputFile(path, &error);
  if (!file) {
    llvm::errs() << "error: " << error << "\n";
    return nullptr;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sourceMgr, &context);
}

OwningOpRef<ModuleOp> ptxnet::loadModelFile(llvm::StringRef path,
                                            MLIRContext &context,
                                            llvm::SourceMgr &sourceMgr) {
  if (path.ends_with(".onnx"))
    return importONNXFile(path, &context);
  return parseGraphFile(path, context, sourceMgr);
}

ptxnet::nn::GraphOp ptxnet::getSingleGraph(ModuleOp module) {
  auto graphs = llvm::to_vector(module.getOps<nn::GraphOp>());
  if (graphs.size() != 1) {
    module.emitError("expected exactly one nn.graph, found ") << graphs.size();
    return nullptr;
  }
  return graphs.front();
}

void ptxnet::registerPtxnetDialects(DialectRegistry &registry) {
  registry.insert<nn::NNDialect, arith::ArithDialect, func::FuncDialect>();
}
