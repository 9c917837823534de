//===- FuseMatmulBias.cpp - [pool +] flatten + linear -> fused_linear -----===//
#include "ActivationFusion.h"
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ptxnet::nn {
#define GEN_PASS_DEF_NNFUSEMATMULBIAS
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"
} // namespace ptxnet::nn

using namespace mlir;
using namespace ptxnet::nn;

namespace {
/// linear(x) with x = flatten(y) or flatten(global_avg_pool(z)) becomes a
/// fused_linear reading y (prologue = flatten) or z (global_avg_pool), so
/// neither the flattened copy nor the pooled vector is materialised.
struct LinearToFusedLinear : public OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp linear,
                                PatternRewriter &rewriter) const override {
    Value input = linear.getInput();
    Prologue prologue = Prologue::flatten;
    SmallVector<Location> locs = {linear.getLoc()};
    if (auto flatten = input.getDefiningOp<FlattenOp>();
        flatten && flatten->hasOneUse()) {
      input = flatten.getInput();
      locs.push_back(flatten.getLoc());
      auto pool = input.getDefiningOp<GlobalAvgPoolOp>();
      if (pool && pool->hasOneUse()) {
        input = pool.getInput();
        prologue = Prologue::global_avg_pool;
        locs.push_back(pool.getLoc());
      }
    }
    Location loc = rewriter.getFusedLoc(locs);
    Value bias = linear.getBias();
    if (!bias)
      bias = zeroBias(rewriter, loc, linear.getWeight().getType().getDimSize(0));
    Operation *flattenOp = linear.getInput().getDefiningOp();
    rewriter.replaceOpWithNewOp<FusedLinearOp>(
        linear, linear.getType(), input, linear.getWeight(), bias, prologue,
        Activation::none);
    // The absorbed producers are now dead; erase them from the inside out.
    while (flattenOp && flattenOp->use_empty() &&
           isa<FlattenOp, GlobalAvgPoolOp>(flattenOp)) {
      Operation *next = flattenOp->getOperand(0).getDefiningOp();
      rewriter.eraseOp(flattenOp);
      flattenOp = next;
    }
    return success();
  }
};

struct FuseMatmulBiasPass
    : public ptxnet::nn::impl::NNFuseMatmulBiasBase<FuseMatmulBiasPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LinearToFusedLinear>(&getContext());
    populateAbsorbActivationPatterns<FusedLinearOp>(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
