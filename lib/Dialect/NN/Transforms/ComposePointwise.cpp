//===- ComposePointwise.cpp - linear 1x1 conv into the next 1x1 conv ------===//
//
// An MBConv block without a skip connection ends in a project 1x1 with no
// activation (its BatchNorm folded into the bias), and the next block starts
// with an expand 1x1. Two affine maps in a row are one affine map:
//
//   W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)
//
// so the pair becomes a single 1x1 convolution whose filter and bias are
// computed here, at compile time, in double precision. The narrow block
// output between them is never computed or stored, and one kernel launch is
// gone. The composed product costs O2 x C1 multiply-adds per pixel instead
// of C2 x (C1 + O2): usually more. Whether that pays depends less on the
// ratio than on the absolute work added against the kernel saved: where the
// GEMMs are latency-bound (small batches, small late maps) a launch costs
// more than a few hundred MFLOP on tensor cores; at large batches the added
// FLOPs dominate (measured on an H200: bench/RESULTS.md, 2026-12-01). So
// `max-added-gflop` bounds the work a composition adds, over the whole batch.
//
//===----------------------------------------------------------------------===//
#include "ExpandDepthwiseFusion.h"
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNCOMPOSEPOINTWISE
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet::nn;

/// The constant value of `v` as doubles, or nothing when it is not constant.
static std::optional<SmallVector<double>> constantValues(Value v) {
  DenseFPElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<double> values;
  values.reserve(attr.getNumElements());
  for (APFloat x : attr.getValues<APFloat>())
    values.push_back(x.convertToDouble());
  return values;
}

namespace {
/// second(first(x)) -> one 1x1 fused_conv2d, where `first` is a 1x1
/// convolution without activation whose only user is `second`, another 1x1
/// convolution (with any activation, pooled or not), and both have constant
/// parameters.
struct ComposePointwiseConvs : public OpRewritePattern<FusedConv2DOp> {
  ComposePointwiseConvs(MLIRContext *ctx, double maxAddedGflop,
                        int64_t keepFusableExpands,
                        int64_t keepFusableMinHidden)
      : OpRewritePattern(ctx), maxAddedGflop(maxAddedGflop),
        keepFusableExpands(keepFusableExpands),
        keepFusableMinHidden(keepFusableMinHidden) {}

  LogicalResult matchAndRewrite(FusedConv2DOp second,
                                PatternRewriter &rewriter) const override {
    // A pooled 1x1 convolution pools after its activation: the product
    // before it composes all the same.
    if (!second.isOneByOne())
      return rewriter.notifyMatchFailure(second, "not a 1x1 convolution");
    auto first = second.getInput().getDefiningOp<FusedConv2DOp>();
    if (!first || !first.isPointwise())
      return rewriter.notifyMatchFailure(second,
                                         "input is not a 1x1 fused_conv2d");
    // An activation between the two would not distribute over the product.
    if (first.getActivation() != Activation::none)
      return rewriter.notifyMatchFailure(second, "input has an activation");
    if (!first->hasOneUse())
      return rewriter.notifyMatchFailure(second, "input has other users");

    ArrayRef<int64_t> shape = first.getType().getShape(); // N x C2 x H x W
    const int64_t c1 = first.getInput().getType().getDimSize(1);
    const int64_t c2 = shape[1];
    const int64_t o2 = second.getType().getDimSize(1);
    const double pixels = double(shape[0]) * double(shape[2] * shape[3]);
    const double added =
        2.0 * pixels * (double(o2 * c1) - double(c2 * (c1 + o2)));
    if (added > maxAddedGflop * 1e9)
      return rewriter.notifyMatchFailure(
          second, "composing would add more than max-added-gflop");
    if (fusableDepthwise(second, c2, keepFusableExpands,
                         keepFusableMinHidden) &&
        !fusableDepthwise(second, c1, keepFusableExpands,
                          keepFusableMinHidden))
      return rewriter.notifyMatchFailure(
          second, "an expand that fuses with its depthwise only apart");

    auto w1 = constantValues(first.getFilter());
    auto b1 = constantValues(first.getBias());
    auto w2 = constantValues(second.getFilter());
    auto b2 = constantValues(second.getBias());
    if (!w1 || !b1 || !w2 || !b2)
      return rewriter.notifyMatchFailure(second, "parameters are not constant");

    // W[o][c] = sum_m W2[o][m] W1[m][c]; b[o] = sum_m W2[o][m] b1[m] + b2[o].
    SmallVector<double> w(o2 * c1, 0.0), b(b2->begin(), b2->end());
    for (int64_t o = 0; o < o2; ++o)
      for (int64_t m = 0; m < c2; ++m) {
        double f = (*w2)[o * c2 + m];
        b[o] += f * (*b1)[m];
        for (int64_t c = 0; c < c1; ++c)
          w[o * c1 + c] += f * (*w1)[m * c1 + c];
      }

    Location loc = rewriter.getFusedLoc({first.getLoc(), second.getLoc()});
    auto filterType =
        RankedTensorType::get({o2, c1, 1, 1}, rewriter.getF32Type());
    auto toFloat = [](ArrayRef<double> values) {
      return llvm::map_to_vector(values, [](double v) { return float(v); });
    };
    Value filter = arith::ConstantOp::create(
        rewriter, loc, filterType,
        DenseElementsAttr::get(filterType, ArrayRef<float>(toFloat(w))));
    Value bias = arith::ConstantOp::create(
        rewriter, loc, second.getBias().getType(),
        DenseElementsAttr::get(second.getBias().getType(),
                               ArrayRef<float>(toFloat(b))));
    rewriter.replaceOpWithNewOp<FusedConv2DOp>(
        second, second.getType(), first.getInput(), filter, bias,
        second.getStridesAttr(), second.getPaddingAttr(),
        second.getGroupsAttr(), second.getActivationAttr(),
        second.getPooledAttr());
    rewriter.eraseOp(first);
    return success();
  }

  double maxAddedGflop;
  int64_t keepFusableExpands, keepFusableMinHidden;
};

struct ComposePointwisePass
    : public ptxnet::nn::impl::NNComposePointwiseBase<ComposePointwisePass> {
  using Base::Base;
  void runOnOperation() override {
    if (maxAddedGflop < 0) {
      getOperation().emitError("nn-compose-pointwise: max-added-gflop must "
                               "not be negative, got ")
          << maxAddedGflop.getValue();
      return signalPassFailure();
    }
    if (keepFusableExpands < 0) {
      getOperation().emitError("nn-compose-pointwise: keep-fusable-expands "
                               "must not be negative, got ")
          << keepFusableExpands.getValue();
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<ComposePointwiseConvs>(&getContext(), maxAddedGflop,
                                        keepFusableExpands,
                                        keepFusableMinHidden);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
