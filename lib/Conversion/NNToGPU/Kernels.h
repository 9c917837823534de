//===- Kernels.h - gpu.func generators for fused nn ops ---------*- C++ -*-===//
//
// Each generator appends one gpu.func to the kernel module and says how to
// launch it. Arguments are statically shaped memrefs in global memory, in
// the order the generator documents: identity layouts, except for the
// padded channel planes of ConvShape::inPlane / outPlane.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_LIB_CONVERSION_NNTOGPU_KERNELS_H
#define PTXNET_LIB_CONVERSION_NNTOGPU_KERNELS_H

#include "ptxnet/Conversion/Precision.h"
#include "ptxnet/Dialect/NN/IR/NNOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <array>

namespace ptxnet::kernels {

using ptxnet::Precision;

/// Element types (f32, f16 or bf16) of a kernel's global-memory tensors; the
/// kernels compute in float32 and convert on load and store (but for the
/// fused kernels' f16 depthwise, see KernelOptions::f16DepthwiseMath).
struct Elements {
  mlir::Type in, filter, out;
};

struct KernelLaunch {
  mlir::gpu::GPUFuncOp func;
  std::array<int64_t, 3> grid = {1, 1, 1};
  std::array<int64_t, 3> block = {1, 1, 1};
  /// The kernel accumulates into its output (atomically): the launcher must
  /// zero the output first.
  bool accumulatesOutput = false;
  /// Bytes of dynamic shared memory (gpu.dynamic_shared_memory) to launch
  /// with; above kStaticSharedBytes the runtime raises the kernel's limit.
  int64_t dynamicSharedBytes = 0;
};

/// Shape facts of one convolution, shared by the generators.
struct ConvShape {
  int64_t n, c, h, w;     // input
  int64_t oc, icg, kh, kw; // filter (icg = input channels per group)
  int64_t oh, ow;         // output
  int64_t sh, sw, pt, pl; // strides, top/left padding
  int64_t groups;
  /// Elements from one channel plane of the input (output) to the next in
  /// device memory: 0 for dense planes (h x w). Where planes are padded, the
  /// kernel takes a strided memref (see convert-nn-to-gpu's planPlanes).
  int64_t inPlane = 0, outPlane = 0;
  static ConvShape get(nn::FusedConv2DOp op);
};

/// The memref type of an N x C x H x W activation whose channel planes are
/// `plane` elements apart (0: dense, an identity layout).
mlir::MemRefType activationMemref(llvm::ArrayRef<int64_t> nchw,
                                  mlir::Type element, int64_t plane);

/// What planMmaGemm aims at: convert-nn-to-gpu's gemm-* options (their
/// defaults were measured on an H100 and an H200).
struct GemmTuning {
  int64_t blocksPerSM;     // the tile size shrinks until there are these
  int64_t warpsPerSM;      // K is shared, then split, until there are these
  int64_t tileBlocksPerSM; // shallow layers loop over tiles down to these
  int64_t warpKSteps;      // mma k-steps a warp may take per K slice
  int64_t asyncStages;      // K slices in the cp.async ring (1: no ring)
  int64_t asyncMinK;        // the ring only from this many input channels on
  int64_t asyncBlocksPerSM; // blocksPerSM of the layers on the ring
  int64_t singleSliceK;     // f16/bf16 K up to this many channels: one slice
  int64_t asyncSharedBytes; // the ring's shared memory per block (above
                            // kStaticSharedBytes: dynamic shared memory)
  int64_t sms = 132;        // an H100's
};

/// Static shared memory per block (more must be dynamic and opted into).
constexpr int64_t kStaticSharedBytes = 48 * 1024;

/// A depthwise convolution (nn.fused_expand_depthwise's) run in a 1x1 GEMM's
/// epilogue over the shared output tile: filter taps, strides, top/left
/// padding, output size and activation.
struct DepthwiseEpilogue {
  int64_t kh, kw, sh, sw, pt, pl, oh, ow;
  nn::Activation act;
};

/// The choices convert-nn-to-gpu's options make inside the kernels (each is
/// explained at its option, in Passes.td).
struct KernelOptions {
  int64_t blockSize = 256;          // block-size: threads of 1-D kernels
  bool dependentLaunch = false;     // dependent-launch (sm_90)
  bool f16DepthwiseMath = true;     // f16-depthwise-math
  int64_t depthwiseColumnRows = -1; // depthwise-column-rows (-1: by shape)
  bool f16StemMath = true;          // f16-stem-math
  GemmTuning tuning = {};           // the gemm-* options
};

class KernelEmitter {
public:
  KernelEmitter(mlir::gpu::GPUModuleOp module, const KernelOptions &options)
      : module(module), options(options) {}

  /// Direct convolution, one thread per block of output channels (up to 16
  /// for a dense convolution, all of them with immediates, 1 for a grouped
  /// one) and of adjacent output columns (up to 4, while the GPU stays full),
  /// input rows read as aligned vectors where they can be:
  ///   (input NxCxHxW, filter OxC/gxKHxKW, bias O, output NxOxOHxOW).
  /// `filterValues`, when given for a filter that
  /// directConvFilterAsImmediates accepts, are compiled into the kernel as
  /// FMA immediates (the filter argument is then not read); with
  /// f16StemMath and an f16 output, on f16x2 pairs of adjacent columns. A
  /// depthwise
  /// convolution for which depthwiseColumnRows is not 0 has instead a
  /// thread per output column and block of that many output rows, walking
  /// down it: each input row it reads is loaded once for every output row
  /// that uses it, and a warp's loads and stores cover whole rows.
  KernelLaunch emitDirectConv(llvm::StringRef name, const ConvShape &s,
                              nn::Activation act, const Elements &types,
                              mlir::DenseFPElementsAttr filterValues = {});

  /// The output rows a thread of emitDirectConv walks down for the
  /// depthwise convolution `s` (a divisor of OH; see depthwise-column-rows),
  /// or 0 where each thread computes one row.
  int64_t depthwiseColumnRows(const ConvShape &s) const;

  /// A dense convolution with at most 64 taps (C x KH x KW) and 64 output
  /// channels, like the stem, as an implicit GEMM on tensor cores (f16 or
  /// bf16 m16n8k16, float32 accumulation); the input rows a block reads are
  /// staged in shared memory as 16-bit values. Same arguments as
  /// emitDirectConv (the filter is read, f32); the output type is the
  /// operand type. Only for shapes denseConvOnTensorCores accepts.
  KernelLaunch emitDenseConvMma(llvm::StringRef name, const ConvShape &s,
                                nn::Activation act, const Elements &types);

  /// A 1x1 convolution as a GEMM on 64x64 output tiles staged through shared
  /// memory (float32 FMA), batch x pixels forming one column dimension and K
  /// split over blocks for deep activation-free layers:
  ///   (input NxCxP, filter OxC, bias O, output NxOxP), P = H*W.
  /// With `pooled`, the output is N x O and receives the mean over P by
  /// atomic adds (it must be zeroed first).
  KernelLaunch emitPointwiseGemm(llvm::StringRef name, const ConvShape &s,
                                 nn::Activation act, bool pooled,
                                 const Elements &types);

  /// The same GEMM on tensor cores, planned by planMmaGemm: nvgpu.mma.sync
  /// m16n8k8 on tf32 operands, or m16n8k16 on f16 operands loaded with
  /// nvgpu.ldmatrix, float32 accumulation; each warp owns a 32x32 output
  /// tile, and batch x pixels form one column dimension.
  ///
  /// With `depthwise`, the GEMM is an expand whose depthwise follows in the
  /// epilogue (each column tile holding whole images), and only the
  /// depthwise output goes to device memory: (input NxCxP, filter OxC,
  /// bias O, depthwise filter Ox1xKHxKW, depthwise bias O, output
  /// NxOxOHxOW).
  KernelLaunch emitPointwiseGemmMma(llvm::StringRef name, const ConvShape &s,
                                    nn::Activation act, bool pooled,
                                    Precision precision, const Elements &types,
                                    const DepthwiseEpilogue *depthwise = {});

  /// An MBConv expand 1x1 + depthwise pair (nn.fused_expand_depthwise):
  ///   (input NxCxHxW, expand filter HidxC, expand bias Hid,
  ///    depthwise filter Hidx1xKHxKW, bias Hid, output NxHidxOHxOW).
  /// `s` describes the depthwise convolution of the hidden tensor.
  KernelLaunch emitExpandDepthwise(llvm::StringRef name, const ConvShape &s,
                                   int64_t inChannels, nn::Activation expandAct,
                                   nn::Activation act, const Elements &types);

  /// The same pair with the expand on tensor cores (f16 m16n8k16): blocks of
  /// 32 hidden channels x a 16x16 (stride 1) or 15x15 (stride 2) input
  /// region; the expand filter is f16 (HidxC), the rest as above. Only for
  /// shapes expandDepthwiseOnTensorCores accepts.
  KernelLaunch emitExpandDepthwiseMma(llvm::StringRef name, const ConvShape &s,
                                      int64_t inChannels,
                                      nn::Activation expandAct,
                                      nn::Activation act,
                                      const Elements &types);

  /// A whole MBConv block (nn.fused_mbconv): the expand + depthwise kernel's
  /// block runs through all hidden channels and feeds each 32 of them to the
  /// project 1x1 on tensor cores, whose accumulators stay in registers:
  ///   (input NxCxHxW, expand filter HidxC, expand bias Hid, depthwise
  ///    filter Hidx1xKHxKW, bias Hid, project filter OxHid, project bias O,
  ///    output NxOxOHxOW).
  /// The filters of both 1x1s are f16 or bf16. Only for shapes
  /// mbconvOnTensorCores accepts.
  KernelLaunch emitMBConvMma(llvm::StringRef name, const ConvShape &s,
                             int64_t inChannels, int64_t outChannels,
                             nn::Activation expandAct, nn::Activation act,
                             nn::Activation projectAct, const Elements &types);

  /// Linear layer with a flatten or global-average-pool prologue, one block
  /// per (16 outputs, up to 4 images); the pooled rows live in shared memory:
  ///   (input NxKxR, weight MxK, bias M, output NxM); R = H*W pooled, or 1.
  KernelLaunch emitLinear(llvm::StringRef name, int64_t n, int64_t k,
                          int64_t r, int64_t m, nn::Prologue prologue,
                          nn::Activation act, const Elements &types);

  /// The same layer over a flattened input on tensor cores (f16 or bf16
  /// m16n8k16, float32 accumulation), each warp's fragments loaded straight
  /// from device memory; a float32 input goes in as two 16-bit halves (hi +
  /// lo), as exact as the CUDA-core kernel. One block per 16 outputs and up
  /// to 32 images (fewer while the blocks would leave SMs idle), its warps
  /// (up to 20) splitting K:
  ///   (input NxK, weight MxK, bias M, output NxM).
  /// Only for shapes linearOnFragments accepts.
  KernelLaunch emitLinearMma(llvm::StringRef name, int64_t n, int64_t k,
                             int64_t m, nn::Activation act,
                             const Elements &types);

  enum class Elementwise { add, mul, sigmoid };
  /// An elementwise op over `numElements` values (flat memrefs of the given
  /// element types): (lhs, rhs, out) for add and mul, (in, out) for sigmoid.
  KernelLaunch emitElementwise(llvm::StringRef name, int64_t numElements,
                               Elementwise kind,
                               llvm::ArrayRef<mlir::Type> elements);

private:
  mlir::gpu::GPUFuncOp createKernel(llvm::StringRef name,
                                    llvm::ArrayRef<mlir::Type> args,
                                    llvm::ArrayRef<mlir::Type> workgroup = {});

  mlir::gpu::GPUModuleOp module;
  const KernelOptions options;
};

/// How a tensor-core GEMM is cut: a block of wm x wn warps of 32 x 32
/// outputs, each output tile shared by wk warps that split every K slice,
/// and K split into `splitK` chunks of `chunk` channels over grid z.
struct MmaGemmPlan {
  int64_t wm, wn, wk;
  int64_t kSlice; // K staged per shared-memory round: wk x (16 or 32)
  int64_t threads() const { return 32 * wm * wn * wk; }
  int64_t splitK, chunk;
  int64_t tilesPerBlock; // column tiles one block runs through, in order
  int64_t tileRows() const { return 32 * wm; }
  int64_t tileCols() const { return 32 * wn; }
  /// Several blocks add into each output (a pooled or split-K epilogue): the
  /// output must be float32 and zeroed before the launch.
  bool accumulates;
  /// A pooled output whose images each lie within one column tile: the block
  /// sums them in shared memory (after its K-sharing warps' partial tiles)
  /// and stores each mean once (float32, not zeroed first).
  bool poolsInBlock;
  /// K slices of both operands in flight by cp.async (1: the activations
  /// through registers), B copied in pieces of pieceB pixels.
  int64_t stages, pieceB;
};
/// `halfInput`: the activations arrive in the (16-bit) operand type, so that
/// they can be copied to shared memory as they are.
/// `wholeImages`: every column tile must hold whole images (for a depthwise
/// epilogue; see depthwiseEpilogueFits).
MmaGemmPlan planMmaGemm(const ConvShape &s, nn::Activation act, bool pooled,
                        Precision precision, const GemmTuning &tuning,
                        bool halfInput, bool wholeImages = false);

/// Whether a 1x1 GEMM of this shape can run the depthwise convolution after
/// it in its epilogue (emitPointwiseGemmMma with a DepthwiseEpilogue): its
/// images have at most 64 pixels, a divisor of 64, so that a column tile
/// holds whole images.
bool depthwiseEpilogueFits(const ConvShape &pointwise);

/// Whether emitDenseConvMma handles this convolution: dense, not 1x1, at
/// most 64 taps and 64 output channels, its staged rows within 48 KB.
bool denseConvOnTensorCores(const ConvShape &s, const GemmTuning &tuning);

/// Whether a direct convolution's filter is small and dense enough to be
/// compiled into the kernel (every thread then computes all its channels).
bool directConvFilterAsImmediates(const ConvShape &s);

/// Whether emitExpandDepthwiseMma handles this depthwise convolution (3x3,
/// stride 1 or 2) after an expand from `inChannels` (a multiple of 8 that
/// fits its shared memory).
bool expandDepthwiseOnTensorCores(const ConvShape &s, int64_t inChannels);

/// Whether emitMBConvMma handles this block: what emitExpandDepthwiseMma
/// handles, with a multiple of 8 hidden channels and 1 to 64 project outputs
/// whose stage fits the shared memory beside it.
bool mbconvOnTensorCores(const ConvShape &s, int64_t inChannels,
                         int64_t outChannels);

/// Whether emitLinearMma handles a linear layer over K features: K a
/// multiple of 32, a 16-bit weight, a float32 input or one of the weight's
/// type.
bool linearOnFragments(int64_t k, mlir::Type in, mlir::Type weight);

/// How many images one block of the linear kernel handles.
int64_t linearImagesPerBlock(int64_t n, int64_t kDim);

} // namespace ptxnet::kernels

#endif // PTXNET_LIB_CONVERSION_NNTOGPU_KERNELS_H
