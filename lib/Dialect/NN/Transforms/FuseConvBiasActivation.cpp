//===- FuseConvBiasActivation.cpp - conv2d [+ relu] -> fused_conv2d -------===//
#include "ActivationFusion.h"
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNFUSECONVBIASACTIVATION
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet::nn;

namespace {
/// conv2d(x, W, b?) -> fused_conv2d(x, W, b or 0) activation = none. The
/// activation is absorbed afterwards by AbsorbActivation.
struct ConvToFusedConv : public OpRewritePattern<Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    Value bias = conv.getBias();
    if (!bias)
      bias = zeroBias(rewriter, conv.getLoc(),
                      conv.getFilter().getType().getDimSize(0));
    rewriter.replaceOpWithNewOp<FusedConv2DOp>(
        conv, conv.getType(), conv.getInput(), conv.getFilter(), bias,
        conv.getStrides(), conv.getPadding(), conv.getGroups(),
        Activation::none);
    return success();
  }
};

struct FuseConvBiasActivationPass
    : public ptxnet::nn::impl::NNFuseConvBiasActivationBase<
          FuseConvBiasActivationPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ConvToFusedConv>(&getContext());
    populateAbsorbActivationPatterns<FusedConv2DOp>(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
