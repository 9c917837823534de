//===- FuseMBConvProject.cpp - expand + depthwise + project -> one op -----===//
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNFUSEMBCONVPROJECT
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet::nn;

namespace {
struct FuseMBConvProject : public OpRewritePattern<FusedConv2DOp> {
  FuseMBConvProject(MLIRContext *ctx, int64_t maxOutputChannels,
                    int64_t maxExpandMacs)
      : OpRewritePattern(ctx), maxOutputChannels(maxOutputChannels),
        maxExpandMacs(maxExpandMacs) {}

  LogicalResult matchAndRewrite(FusedConv2DOp project,
                                PatternRewriter &rewriter) const override {
    if (!project.isPointwise())
      return rewriter.notifyMatchFailure(project, "not a 1x1 convolution");
    auto block = project.getInput().getDefiningOp<FusedExpandDepthwiseOp>();
    if (!block || !block->hasOneUse())
      return rewriter.notifyMatchFailure(
          project, "input is not a single-use fused_expand_depthwise");
    if (project.getType().getDimSize(1) > maxOutputChannels)
      return rewriter.notifyMatchFailure(project, "too many output channels");
    int64_t in = block.getInput().getType().getDimSize(1);
    int64_t hidden = block.getFilter().getType().getDimSize(0);
    if (maxExpandMacs > 0 && in * hidden > maxExpandMacs)
      return rewriter.notifyMatchFailure(project, "expand is too large");
    // The shapes the whole-block kernel takes (see the pass description); up
    // to 512 input channels its expand filter rows always fit.
    ArrayRef<int64_t> filter = block.getFilter().getType().getShape();
    ArrayRef<int64_t> strides = block.getStrides();
    if (filter[2] != 3 || filter[3] != 3 || strides[0] != strides[1] ||
        strides[0] > 2 || in % 8 != 0 || hidden % 8 != 0 || in > 512)
      return rewriter.notifyMatchFailure(
          project, "not a 3x3 depthwise of stride 1 or 2 between multiples "
                   "of 8 channels (at most 512 in)");
    Location loc = rewriter.getFusedLoc({block.getLoc(), project.getLoc()});
    auto fused = FusedMBConvOp::create(
        rewriter, loc, project.getType(), block.getInput(),
        block.getExpandFilter(), block.getExpandBias(),
        block.getExpandActivation(), block.getFilter(), block.getBias(),
        block.getStrides(), block.getPadding(), block.getActivation(),
        project.getFilter(), project.getBias(), project.getActivation());
    rewriter.replaceOp(project, fused.getResult());
    rewriter.eraseOp(block);
    return success();
  }

  int64_t maxOutputChannels, maxExpandMacs;
};

struct FuseMBConvProjectPass
    : public ptxnet::nn::impl::NNFuseMBConvProjectBase<FuseMBConvProjectPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseMBConvProject>(&getContext(), maxOutputChannels,
                                    maxExpandMacs);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
