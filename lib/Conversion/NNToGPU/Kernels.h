//===- Kernels.h - gpu.func generators for fused nn ops ---------*- C++ -*-===//
//
// Each generator appends one gpu.func to the kernel module and says how to
// launch it. Arguments are statically shaped, identity-layout memrefs in
// global memory, in the order the generator documents.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_LIB_CONVERSION_NNTOGPU_KERNELS_H
#define PTXNET_LIB_CONVERSION_NNTOGPU_KERNELS_H

#include "ptxnet/Dialect/NN/IR/NNOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <array>

namespace ptxnet::kernels {

struct KernelLaunch {
  mlir::gpu::GPUFuncOp func;
  std::array<int64_t, 3> grid = {1, 1, 1};
  std::array<int64_t, 3> block = {1, 1, 1};
  /// The kernel accumulates into its output (atomically): the launcher must
  /// zero the output first.
  bool accumulatesOutput = false;
};

/// Shape facts of one convolution, shared by the generators.
struct ConvShape {
  int64_t n, c, h, w;     // input
  int64_t oc, icg, kh, kw; // filter (icg = input channels per group)
  int64_t oh, ow;         // output
  int64_t sh, sw, pt, pl; // strides, top/left padding
  int64_t groups;
  static ConvShape get(nn::FusedConv2DOp op);
  bool isPointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 &&
           groups == 1;
  }
};

class KernelEmitter {
public:
  KernelEmitter(mlir::gpu::GPUModuleOp module, int64_t blockSize)
      : module(module), blockSize(blockSize) {}

  /// Direct convolution, one thread per output pixel and block of output
  /// channels (up to 16 for a dense convolution, 1 for a grouped one):
  ///   (input NxCxHxW, filter OxC/gxKHxKW, bias O, output NxOxOHxOW).
  KernelLaunch emitDirectConv(llvm::StringRef name, const ConvShape &s,
                              nn::Activation act);

  /// A 1x1 convolution as a GEMM on 64x64 output tiles staged through shared
  /// memory (float32 FMA), batch x pixels forming one column dimension and K
  /// split over blocks for deep activation-free layers:
  ///   (input NxCxP, filter OxC, bias O, output NxOxP), P = H*W.
  /// With `pooled`, the output is N x O and receives the mean over P by
  /// atomic adds (it must be zeroed first).
  KernelLaunch emitPointwiseGemm(llvm::StringRef name, const ConvShape &s,
                                 nn::Activation act, bool pooled);

  /// The same GEMM on tensor cores: nvgpu.mma.sync m16n8k8 with tf32
  /// operands and float32 accumulation; each warp owns a 32x32 output tile,
  /// and batch x pixels form one column dimension.
  KernelLaunch emitPointwiseGemmTF32(llvm::StringRef name, const ConvShape &s,
                                     nn::Activation act, bool pooled);

  /// An MBConv expand 1x1 + depthwise pair (nn.fused_expand_depthwise):
  ///   (input NxCxHxW, expand filter HidxC, expand bias Hid,
  ///    depthwise filter Hidx1xKHxKW, bias Hid, output NxHidxOHxOW).
  /// `s` describes the depthwise convolution of the hidden tensor.
  KernelLaunch emitExpandDepthwise(llvm::StringRef name, const ConvShape &s,
                                   int64_t inChannels, nn::Activation expandAct,
                                   nn::Activation act);

  /// Linear layer with a flatten or global-average-pool prologue, one block
  /// per (16 outputs, up to 4 images); the pooled rows live in shared memory:
  ///   (input NxKxR, weight MxK, bias M, output NxM); R = H*W pooled, or 1.
  KernelLaunch emitLinear(llvm::StringRef name, int64_t n, int64_t k,
                          int64_t r, int64_t m, nn::Prologue prologue,
                          nn::Activation act);

  enum class Elementwise { add, mul, sigmoid };
  /// An elementwise op over `numElements` float32 values (flat memrefs):
  /// (lhs, rhs, out) for add and mul, (in, out) for sigmoid.
  KernelLaunch emitElementwise(llvm::StringRef name, int64_t numElements,
                               Elementwise kind);

private:
  mlir::gpu::GPUFuncOp createKernel(llvm::StringRef name,
                                    llvm::ArrayRef<mlir::Type> args,
                                    llvm::ArrayRef<mlir::Type> workgroup = {});

  mlir::gpu::GPUModuleOp module;
  int64_t blockSize;
};

/// The warp grid (wm x wn warps of 32 x 32 outputs) of a tf32 GEMM block:
/// the largest that still gives `targetBlocks` blocks for rows x cols.
struct TF32Tiling {
  int64_t wm, wn;
};
TF32Tiling chooseTF32Tiling(int64_t rows, int64_t cols, int64_t targetBlocks);

/// How many images one block of the linear kernel handles.
int64_t linearImagesPerBlock(int64_t n, int64_t kDim);

} // namespace ptxnet::kernels

#endif // PTXNET_LIB_CONVERSION_NNTOGPU_KERNELS_H
