//===- FuseExpandDepthwise.cpp - expand 1x1 + depthwise -> one op ---------===//
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNFUSEEXPANDDEPTHWISE
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet::nn;

namespace {
struct FuseExpandDepthwise : public OpRewritePattern<FusedConv2DOp> {
  FuseExpandDepthwise(MLIRContext *ctx, int64_t maxExpandChannels,
                      int64_t minHiddenPerImage)
      : OpRewritePattern(ctx), maxExpandChannels(maxExpandChannels),
        minHiddenPerImage(minHiddenPerImage) {}

  LogicalResult matchAndRewrite(FusedConv2DOp dw,
                                PatternRewriter &rewriter) const override {
    if (dw.getPooled() || !dw.isDepthwise())
      return rewriter.notifyMatchFailure(dw, "not a depthwise convolution");
    auto expand = dw.getInput().getDefiningOp<FusedConv2DOp>();
    if (!expand || !expand.isPointwise() || !expand->hasOneUse())
      return rewriter.notifyMatchFailure(
          dw, "input is not a single-use 1x1 fused_conv2d");
    if (expand.getInput().getType().getDimSize(1) > maxExpandChannels)
      return rewriter.notifyMatchFailure(dw, "expand is too deep");
    auto hidden = expand.getType().getShape();
    if (hidden[1] * hidden[2] * hidden[3] < minHiddenPerImage)
      return rewriter.notifyMatchFailure(dw, "hidden tensor is too small");
    Location loc = rewriter.getFusedLoc({expand.getLoc(), dw.getLoc()});
    auto fused = FusedExpandDepthwiseOp::create(
        rewriter, loc, dw.getType(), expand.getInput(), expand.getFilter(),
        expand.getBias(), expand.getActivation(), dw.getFilter(),
        dw.getBias(), dw.getStrides(), dw.getPadding(), dw.getActivation());
    rewriter.replaceOp(dw, fused.getResult());
    rewriter.eraseOp(expand);
    return success();
  }

  int64_t maxExpandChannels, minHiddenPerImage;
};

struct FuseExpandDepthwisePass
    : public ptxnet::nn::impl::NNFuseExpandDepthwiseBase<
          FuseExpandDepthwisePass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseExpandDepthwise>(&getContext(), maxExpandChannels,
                                      minHiddenPerImage);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
