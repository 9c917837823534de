//===- Pipelines.cpp - the graph-level fusion pipeline --------------------===//
#include "ptxnet/Dialect/NN/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void ptxnet::nn::buildFusionPipeline(OpPassManager &pm,
                                     const FusionPipelineOptions &options) {
  OpPassManager &graphPm = pm.nest<GraphOp>();
  if (!options.weights.empty())
    graphPm.addPass(createNNImportWeights(NNImportWeightsOptions{
        options.weights.getValue()}));
  graphPm.addPass(createNNFoldBatchNorm());
  graphPm.addPass(createCanonicalizerPass());
  graphPm.addPass(createNNFuseConvBiasActivation());
  if (options.composeMaxAddedGflop >= 0)
    graphPm.addPass(createNNComposePointwise(NNComposePointwiseOptions{
        options.composeMaxAddedGflop,
        options.composeKeepsFusableExpands ? options.expandMaxChannels
                                           : int64_t(0),
        options.expandMinHidden}));
  graphPm.addPass(createNNFuseMatmulBias());
  graphPm.addPass(createNNFusePoolIntoConv());
  if (options.expandMaxChannels > 0 || options.expandWholeImagePixels > 0)
    graphPm.addPass(createNNFuseExpandDepthwise(NNFuseExpandDepthwiseOptions{
        options.expandMaxChannels, options.expandMinHidden,
        options.expandWholeImagePixels}));
  if (options.expandMaxChannels > 0 && options.projectMaxChannels > 0)
    graphPm.addPass(createNNFuseMBConvProject(NNFuseMBConvProjectOptions{
        options.projectMaxChannels, options.projectMaxExpandMacs}));
  graphPm.addPass(createCanonicalizerPass());
  graphPm.addPass(createCSEPass());
}

LogicalResult ptxnet::nn::addSetBatch(OpPassManager &pm, int64_t batch) {
  if (batch < 0) {
    llvm::errs() << "error: --batch must be positive, got " << batch << "\n";
    return failure();
  }
  if (batch > 0)
    pm.nest<GraphOp>().addPass(createNNSetBatch(NNSetBatchOptions{batch}));
  return success();
}

void ptxnet::nn::registerNNPipelines() {
  registerNNPasses();
  PassPipelineRegistration<FusionPipelineOptions>(
      "nn-fusion-pipeline",
      "Fold BatchNorm and fuse conv/bias/activation and pool/flatten/linear "
      "in every nn.graph",
      buildFusionPipeline);
}
