//===- ActivationFusion.h - absorb ReLU/ReLU6 into fused ops ----*- C++ -*-===//
//
// One pattern serves both fused producers (nn.fused_conv2d, nn.fused_linear):
// an activation whose input is such an op with no epilogue yet, and no other
// user, becomes that op's `activation` attribute.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_LIB_DIALECT_NN_TRANSFORMS_ACTIVATIONFUSION_H
#define PTXNET_LIB_DIALECT_NN_TRANSFORMS_ACTIVATIONFUSION_H

#include "ptxnet/Dialect/NN/IR/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"

namespace ptxnet::nn {

template <typename FusedOp, typename ActivationOp, Activation kind>
struct AbsorbActivation : public mlir::OpRewritePattern<ActivationOp> {
  using mlir::OpRewritePattern<ActivationOp>::OpRewritePattern;

  mlir::LogicalResult
  matchAndRewrite(ActivationOp act,
                  mlir::PatternRewriter &rewriter) const override {
    auto producer = act.getInput().template getDefiningOp<FusedOp>();
    if (!producer || producer.getActivation() != Activation::none ||
        !producer->hasOneUse())
      return mlir::failure();
    rewriter.modifyOpInPlace(producer, [&] {
      producer.setActivation(kind);
      producer->setLoc(rewriter.getFusedLoc({producer.getLoc(), act.getLoc()}));
    });
    rewriter.replaceOp(act, producer.getResult());
    return mlir::success();
  }
};

template <typename FusedOp>
void populateAbsorbActivationPatterns(mlir::RewritePatternSet &patterns) {
  patterns.add<AbsorbActivation<FusedOp, ReluOp, Activation::relu>,
               AbsorbActivation<FusedOp, Relu6Op, Activation::relu6>>(
      patterns.getContext());
}

/// The bias a fused op needs when its source had none: zeros, a constant.
inline mlir::Value zeroBias(mlir::OpBuilder &builder, mlir::Location loc,
                            int64_t size) {
  auto type = mlir::RankedTensorType::get({size}, builder.getF32Type());
  return mlir::arith::ConstantOp::create(
      builder, loc, type,
      mlir::DenseElementsAttr::get(type, builder.getF32FloatAttr(0.0f)));
}

} // namespace ptxnet::nn

#endif // PTXNET_LIB_DIALECT_NN_TRANSFORMS_ACTIVATIONFUSION_H
