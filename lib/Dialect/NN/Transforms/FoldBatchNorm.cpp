//===- FoldBatchNorm.cpp - conv2d + batch_norm -> conv2d ------------------===//
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNFOLDBATCHNORM
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet::nn;

namespace {
/// batch_norm(conv2d(x, W, b?)) -> conv2d(x, bn_fold_filter(W), bn_fold_bias(b?))
struct FoldBatchNormIntoConv : public OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto conv = bn.getInput().getDefiningOp<Conv2DOp>();
    if (!conv)
      return rewriter.notifyMatchFailure(bn, "input is not an nn.conv2d");
    // Another user would still need the un-normalised convolution.
    if (!conv->hasOneUse())
      return rewriter.notifyMatchFailure(bn, "convolution has other uses");

    Location loc = rewriter.getFusedLoc({conv.getLoc(), bn.getLoc()});
    Value filter = BNFoldFilterOp::create(
        rewriter, loc, conv.getFilter().getType(), conv.getFilter(),
        bn.getScale(), bn.getVariance(), bn.getEpsilonAttr());
    Value bias = BNFoldBiasOp::create(
        rewriter, loc, bn.getScale().getType(), conv.getBias(), bn.getScale(),
        bn.getShift(), bn.getMean(), bn.getVariance(), bn.getEpsilonAttr());
    rewriter.replaceOpWithNewOp<Conv2DOp>(
        bn, bn.getType(), conv.getInput(), filter, bias, conv.getStridesAttr(),
        conv.getPaddingAttr(), conv.getGroupsAttr());
    rewriter.eraseOp(conv);
    return success();
  }
};

struct FoldBatchNormPass
    : public ptxnet::nn::impl::NNFoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNormIntoConv>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
