//===- Pipelines.h - from nn graphs to PTX and host LLVM dialect -*- C++ -*-===//
#ifndef PTXNET_TARGET_PIPELINES_H
#define PTXNET_TARGET_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace ptxnet {

struct GPUPipelineOptions : public mlir::PassPipelineOptions<GPUPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("NVIDIA architecture (sm_89, sm_90)"),
                           llvm::cl::init("sm_89")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features; sm_89 needs PTX ISA >= 7.8"),
      llvm::cl::init("+ptx80")};
  Option<int> optLevel{*this, "opt-level",
                       llvm::cl::desc("NVPTX backend optimisation level"),
                       llvm::cl::init(3)};
  Option<bool> shortSharedPointers{
      *this, "short-shared-pointers",
      llvm::cl::desc("32-bit shared-memory addresses in the PTX (the NVPTX "
                     "backend's nvptx-short-ptr); off by default: measured "
                     "mixed on EfficientNet-B1 (bench/RESULTS.md)"),
      llvm::cl::init(false)};
};

/// The upstream passes from gpu/scf/memref (as convert-nn-to-gpu leaves them)
/// to the LLVM dialect on the host and embedded PTX (`gpu.binary`): kernels
/// take bare pointers, the host function too.
void buildGPUToBinaryPipeline(mlir::OpPassManager &pm,
                              const GPUPipelineOptions &options);

/// Registers `ptxnet-gpu-to-binary` with ptxnet-opt.
void registerTargetPipelines();

} // namespace ptxnet

#endif // PTXNET_TARGET_PIPELINES_H
