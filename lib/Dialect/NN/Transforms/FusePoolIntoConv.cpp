//===- FusePoolIntoConv.cpp - global pool into a 1x1 conv epilogue --------===//
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNFUSEPOOLINTOCONV
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet::nn;

namespace {
struct FusePoolIntoConv : public OpRewritePattern<FusedLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FusedLinearOp linear,
                                PatternRewriter &rewriter) const override {
    if (linear.getPrologue() != Prologue::global_avg_pool)
      return rewriter.notifyMatchFailure(linear, "no pooling prologue");
    auto conv = linear.getInput().getDefiningOp<FusedConv2DOp>();
    // Only GEMM kernels (pointwise convolutions) have the reducing epilogue.
    if (!conv || !conv.isPointwise() || !conv->hasOneUse())
      return rewriter.notifyMatchFailure(
          linear, "input is not a single-use 1x1 fused_conv2d");
    auto type = conv.getType();
    auto pooledType =
        type.clone({type.getDimSize(0), type.getDimSize(1), 1, 1});
    Location loc = rewriter.getFusedLoc({conv.getLoc(), linear.getLoc()});
    auto pooled = FusedConv2DOp::create(
        rewriter, loc, pooledType, conv.getInput(), conv.getFilter(),
        conv.getBias(), conv.getStridesAttr(), conv.getPaddingAttr(),
        conv.getGroupsAttr(), conv.getActivationAttr(), rewriter.getUnitAttr());
    rewriter.replaceOpWithNewOp<FusedLinearOp>(
        linear, linear.getType(), pooled.getResult(), linear.getWeight(),
        linear.getBias(), Prologue::flatten, linear.getActivation());
    rewriter.eraseOp(conv);
    return success();
  }
};

struct FusePoolIntoConvPass
    : public ptxnet::nn::impl::NNFusePoolIntoConvBase<FusePoolIntoConvPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FusePoolIntoConv>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
