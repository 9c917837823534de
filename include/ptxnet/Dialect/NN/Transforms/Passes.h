//===- Passes.h - nn graph transformations ----------------------*- C++ -*-===//
#ifndef PTXNET_DIALECT_NN_TRANSFORMS_PASSES_H
#define PTXNET_DIALECT_NN_TRANSFORMS_PASSES_H

#include "ptxnet/Dialect/NN/IR/NNOps.h"
#include "mlir/Pass/Pass.h"

namespace ptxnet::nn {

#define GEN_PASS_DECL
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"

/// Options of the graph-level fusion pipeline.
struct FusionPipelineOptions
    : public mlir::PassPipelineOptions<FusionPipelineOptions> {
  Option<std::string> weights{
      *this, "weights",
      llvm::cl::desc("Safetensors file to import first, so that BatchNorm "
                     "folds to constants at compile time")};
  Option<double> composeMaxAddedGflop{
      *this, "compose-max-added-gflop",
      llvm::cl::desc("Run nn-compose-pointwise with this max-added-gflop "
                     "(negative, the default: do not compose)"),
      llvm::cl::init(-1.0)};
  Option<int64_t> expandMaxChannels{
      *this, "expand-max-channels",
      llvm::cl::desc("Run nn-fuse-expand-depthwise with this "
                     "max-expand-channels (0, the default: do not fuse expand "
                     "+ depthwise; measured no faster on H100, see "
                     "bench/RESULTS.md)"),
      llvm::cl::init(0)};
  Option<bool> composeKeepsFusableExpands{
      *this, "compose-keeps-fusable-expands",
      llvm::cl::desc("Run nn-compose-pointwise with keep-fusable-expands = "
                     "expand-max-channels: no composition takes an expand "
                     "out of nn-fuse-expand-depthwise"),
      llvm::cl::init(false)};
  Option<int64_t> projectMaxChannels{
      *this, "project-max-channels",
      llvm::cl::desc("Run nn-fuse-mbconv-project with this "
                     "max-output-channels after nn-fuse-expand-depthwise (0, "
                     "the default: leave the projects apart)"),
      llvm::cl::init(0)};
  Option<int64_t> projectMaxExpandMacs{
      *this, "project-max-expand-macs",
      llvm::cl::desc("nn-fuse-mbconv-project's max-expand-macs (0, the "
                     "default: any)"),
      llvm::cl::init(0)};
  Option<int64_t> expandMinHidden{
      *this, "expand-min-hidden",
      llvm::cl::desc("With expand-max-channels: fuse only where one image's "
                     "hidden tensor has at least this many values"),
      llvm::cl::init(0)};
  Option<int64_t> expandWholeImagePixels{
      *this, "expand-whole-image-pixels",
      llvm::cl::desc("With expand-max-channels: nn-fuse-expand-depthwise's "
                     "whole-image-pixels (0, the default: none)"),
      llvm::cl::init(0)};
};

/// nn-import-weights (if weights are given), nn-fold-batch-norm,
/// canonicalize, nn-fuse-conv-bias-activation, nn-compose-pointwise (if
/// compose-max-added-gflop >= 0; keep-fusable-expands = expand-max-channels
/// with compose-keeps-fusable-expands), nn-fuse-matmul-bias,
/// nn-fuse-pool-into-conv, nn-fuse-expand-depthwise (if
/// expand-max-channels > 0), nn-fuse-mbconv-project (if that and
/// project-max-channels > 0), canonicalize, cse.
void buildFusionPipeline(mlir::OpPassManager &pm,
                         const FusionPipelineOptions &options);

/// The tools' --batch option: adds nn-set-batch for `batch` images to every
/// graph when it is positive (0 keeps the graph's batch). A negative batch
/// is reported on stderr and fails.
mlir::LogicalResult addSetBatch(mlir::OpPassManager &pm, int64_t batch);

#define GEN_PASS_REGISTRATION
#include "ptxnet/Dialect/NN/Transforms/Passes.h.inc"

/// Registers the passes above and `nn-fusion-pipeline`.
void registerNNPipelines();

} // namespace ptxnet::nn

#endif // PTXNET_DIALECT_NN_TRANSFORMS_PASSES_H
