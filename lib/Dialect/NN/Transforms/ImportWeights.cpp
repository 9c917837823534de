//===- ImportWeights.cpp - nn.weight -> arith.constant --------------------===//
#include "ptxnet/Dialect/NN/Transforms/Passes.h"
#include "ptxnet/Support/Safetensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNIMPORTWEIGHTS
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::nn;

namespace {
struct ImportWeightsPass
    : public nn::impl::NNImportWeightsBase<ImportWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    GraphOp graph = getOperation();
    if (file.empty()) {
      graph.emitError("nn-import-weights needs a weights file: "
                      "nn-import-weights{file=PATH}");
      return signalPassFailure();
    }
    auto weights = SafetensorsFile::open(file);
    if (!weights) {
      graph.emitError(llvm::toString(weights.takeError()));
      return signalPassFailure();
    }
    bool failed = false;
    graph.walk([&](WeightOp op) {
      RankedTensorType type = op.getResult().getType();
      auto data = weights->readF32(op.getName(), type.getShape());
      if (!data) {
        op.emitOpError(llvm::toString(data.takeError()));
        failed = true;
        return;
      }
      OpBuilder builder(op);
      // Keep the PyTorch name in the location: diagnostics and the emitted
      // weight blob can still say which parameter a constant came from.
      Location loc = NameLoc::get(op.getNameAttr(), op.getLoc());
      auto value = DenseElementsAttr::get(type, *data);
      auto constant = arith::ConstantOp::create(builder, loc, type, value);
      op.replaceAllUsesWith(constant.getResult());
      op.erase();
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
