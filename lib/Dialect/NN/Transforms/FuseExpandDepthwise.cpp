//===- FuseExpandDepthwise.cpp - expand 1x1 + depthwise -> one op ---------===//
#include "ExpandDepthwiseFusion.h"
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
                      int64_t minHiddenPerImage, int64_t wholeImagePixels)
      : OpRewritePattern(ctx), maxExpandChannels(maxExpandChannels),
        minHiddenPerImage(minHiddenPerImage),
        wholeImagePixels(wholeImagePixels) {}

  /// Small maps fuse whatever the expand's depth (whole-image-pixels).
  bool smallMap(FusedConv2DOp expand) const {
    auto in = expand.getInput().getType().getShape();
    int64_t pixels = in[2] * in[3];
    return wholeImagePixels > 0 && pixels <= wholeImagePixels &&
           wholeImagePixels % pixels == 0;
  }

  LogicalResult matchAndRewrite(FusedConv2DOp dw,
                                PatternRewriter &rewriter) const override {
    auto expand = dw.getInput().getDefiningOp<FusedConv2DOp>();
    if (!expand ||
        fusableDepthwise(
            expand,
            smallMap(expand) ? 0 : expand.getInput().getType().getDimSize(1),
            maxExpandChannels, minHiddenPerImage) != dw)
      return rewriter.notifyMatchFailure(
          dw, "not a depthwise convolution after a fusable single-use 1x1 "
              "expand");
    Location loc = rewriter.getFusedLoc({expand.getLoc(), dw.getLoc()});
    auto fused = FusedExpandDepthwiseOp::create(
        rewriter, loc, dw.getType(), expand.getInput(), expand.getFilter(),
        expand.getBias(), expand.getActivation(), dw.getFilter(),
        dw.getBias(), dw.getStrides(), dw.getPadding(), dw.getActivation());
    rewriter.replaceOp(dw, fused.getResult());
    rewriter.eraseOp(expand);
    return success();
  }

  int64_t maxExpandChannels, minHiddenPerImage, wholeImagePixels;
};

struct FuseExpandDepthwisePass
    : public ptxnet::nn::impl::NNFuseExpandDepthwiseBase<
          FuseExpandDepthwisePass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseExpandDepthwise>(&getContext(), maxExpandChannels,
                                      minHiddenPerImage, wholeImagePixels);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
