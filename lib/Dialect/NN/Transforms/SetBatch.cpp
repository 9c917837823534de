//===- SetBatch.cpp - re-specialise a graph for another batch size --------===//
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNSETBATCH
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet::nn;

static Type withBatch(Type type, int64_t batch) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(tensor.getShape());
  shape[0] = batch;
  return tensor.clone(shape);
}

namespace {
struct SetBatchPass : public ptxnet::nn::impl::NNSetBatchBase<SetBatchPass> {
  using Base::Base;

  void runOnOperation() override {
    GraphOp graph = getOperation();
    if (batch <= 0) {
      graph.emitError("nn-set-batch needs a positive batch, got ")
          << static_cast<int64_t>(batch);
      return signalPassFailure();
    }
    // Activations are exactly the values that depend on a graph input;
    // parameters (weights, constants and their folds) keep their shapes.
    Block &body = graph.getBody().front();
    llvm::DenseSet<Value> activations;
    for (BlockArgument arg : body.getArguments()) {
      arg.setType(withBatch(arg.getType(), batch));
      activations.insert(arg);
    }
    for (Operation &op : body.without_terminator()) {
      if (llvm::none_of(op.getOperands(),
                        [&](Value v) { return activations.contains(v); }))
        continue;
      for (Value result : op.getResults()) {
        result.setType(withBatch(result.getType(), batch));
        activations.insert(result);
      }
    }
    SmallVector<Type> inputs(body.getArgumentTypes());
    SmallVector<Type> results(graph.getOutputOp().getOperandTypes());
    graph.setFunctionTypeAttr(
        TypeAttr::get(FunctionType::get(&getContext(), inputs, results)));
  }
};
} // namespace
