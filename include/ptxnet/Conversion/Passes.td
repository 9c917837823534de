//===- Passes.td - ptxnet conversions ----------------------*- tablegen -*-===//
#ifndef PTXNET_CONVERSION_PASSES
#define PTXNET_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertNNToGPU : Pass<"convert-nn-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower a fused nn.graph to GPU kernels and a host launcher";
  let description = [{
    Replaces the module's single, fused `nn.graph` (constant weights, only
    `nn.fused_conv2d`, `nn.fused_linear` and elementwise `nn.add`, `nn.mul`, `nn.sigmoid` left) by:

    - `gpu.module @ptxnet_kernels` with one `gpu.func` per op, written with
      scf/arith/memref on statically shaped NCHW memrefs;
    - `func.func @ptxnet_forward(%input, %output, %workspace, %weights)` that
      views every activation into one planned workspace (buffers are reused
      once their last reader has run) and every weight into one packed weight
      buffer, then launches the kernels in order on one async token chain;
    - `memref.global @ptxnet_weights` (the packed, BatchNorm-folded weights,
      uploaded once by the runtime) and `memref.global @ptxnet_model_info`
      (shapes, buffer sizes, precision and launch mode the runtime reads).

    With `dependent-launch`, each kernel starts with `nvvm.griddepcontrol
    wait`, which returns once the previous kernel has finished and its
    writes are visible. Nothing comes before it, so the order of the
    kernels' memory accesses is unchanged; what overlaps is the next
    kernel's launch with this one's drain.

    Layout: the kernels use NCHW, the graph's own layout, so no conversion is
    needed at the boundaries. With `pad-planes` (f16/bf16), activations on
    maps whose H x W is not a multiple of 8 keep NCHW but with each channel
    plane padded to a multiple of 8 elements: direct convolutions take them
    as strided memrefs, 1x1 GEMMs as N x C x (padded plane).
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of the elementwise-parallel kernels">,
    Option<"precision", "precision", "std::string", /*default=*/"\"fp32\"",
           "Arithmetic of the pointwise-convolution GEMMs: fp32 (exact "
           "float32 FMA), tf32 (tensor cores, mma.sync m16n8k8), f16 or bf16 "
           "(tensor cores, mma.sync m16n8k16, activations stored in that "
           "type); float32 accumulation in all four (but see "
           "f16-depthwise-math)">,
    Option<"dependentLaunch", "dependent-launch", "bool", /*default=*/"false",
           "Begin every kernel with griddepcontrol.wait (sm_90 and later) "
           "and tell the runtime, through the model info, to launch the "
           "kernels with programmatic stream serialization: each kernel is "
           "then launched while the previous one drains">,
    // Tuning: the tensor-core GEMM planner's occupancy targets (defaults
    // measured on an H100, bench/RESULTS.md).
    Option<"gemmBlocksPerSM", "gemm-blocks-per-sm", "int64_t",
           /*default=*/"0",
           "Tensor-core GEMMs: the output tile shrinks (64x64 down to "
           "32x32) until there are this many blocks per SM; 0, the "
           "default, is 1 at batch 1 and 2 otherwise (measured on an "
           "H200: 4% faster at batch 1, 5% slower at batch 10 with 1)">,
    Option<"gemmWarpsPerSM", "gemm-warps-per-sm", "int64_t",
           /*default=*/"16",
           "Tensor-core GEMMs: warps share a tile over K, then K is split "
           "over blocks, until there are this many warps per SM">,
    Option<"gemmTileBlocksPerSM", "gemm-tile-blocks-per-sm", "int64_t",
           /*default=*/"4",
           "Tensor-core GEMMs with all of K in one slice loop over column "
           "tiles until about this many blocks per SM remain">,
    Option<"gemmWarpKSteps", "gemm-warp-k-steps", "int64_t",
           /*default=*/"0",
           "Tensor-core GEMMs over deep K: each warp multiplies up to this "
           "many mma k-steps (16 channels in f16/bf16, 8 in tf32) per "
           "staged K slice, where K holds two such slices; 0, the default, "
           "is 2 at batch 1 and 4 otherwise (measured on an H200: with 4, "
           "0.9% faster at batch 64, 0.2-0.4% at batch 10, 1.3% slower at "
           "batch 1)">,
    Option<"gemmAsyncStages", "gemm-async-stages", "int64_t",
           /*default=*/"4",
           "f16/bf16 tensor-core GEMMs over at least gemm-async-min-k "
           "channels of f16/bf16 activations (H*W even, C a multiple of 8): "
           "both operands go by cp.async through a ring of this many K "
           "slices in shared memory (fewer where gemm-async-shared-kb cannot "
           "hold them); "
           "1 stages the activations through registers everywhere">,
    Option<"gemmAsyncMinK", "gemm-async-min-k", "int64_t",
           /*default=*/"1024",
           "Tensor-core GEMMs take the cp.async ring (gemm-async-stages) "
           "only with at least this many input channels">,
    Option<"gemmAsyncBlocksPerSM", "gemm-async-blocks-per-sm", "int64_t",
           /*default=*/"1",
           "gemm-blocks-per-sm for the GEMMs on the cp.async ring">,
    Option<"gemmAsyncSharedKB", "gemm-async-shared-kb", "int64_t",
           /*default=*/"0",
           "Shared memory the cp.async ring of a GEMM may take, in KB (48 to "
           "227): above 48 it is dynamic shared memory (the runtime raises "
           "the kernel's limit; sm_89 allows 99 KB per block, sm_90 227), "
           "room for more slices in flight beside warps that share K; 0, "
           "the default, is 99 at batch 1 and 48 otherwise (measured on an "
           "H200: 1.6% faster at batch 1, 0.3% slower at batch 10 with 99)">,
    Option<"gemmSingleSliceK", "gemm-single-slice-k", "int64_t",
           /*default=*/"160",
           "f16/bf16 tensor-core GEMMs over at most this many input channels "
           "stage all of K in one slice (where shared memory holds it) and "
           "run each block through several column tiles; 0 keeps a K loop "
           "over 32-channel slices">,
    Option<"f16DepthwiseMath", "f16-depthwise-math", "bool",
           /*default=*/"true",
           "f16: the fused expand + depthwise and whole-MBConv kernels "
           "compute their depthwise convolution on f16x2 pairs of adjacent "
           "outputs (fma.rn.f16x2, sums rounded to f16 at every tap) "
           "instead of float32 FMAs on converted values; bf16 always uses "
           "float32 (measured on an H200: 0.9% faster at batch 64, 0.2-0.9% "
           "at batch 10, EfficientNet-B1's error unchanged at 2e-4)">,
    Option<"depthwiseColumnRows", "depthwise-column-rows", "int64_t",
           /*default=*/"-1",
           "Depthwise convolutions run with a thread per output column "
           "that walks down a block of this many output rows (a divisor of "
           "the output height), loading each input row once for all the "
           "output rows that read it: -1, the default, for those of stride "
           "1 on maps of odd width (rows the direct kernel reads in "
           "scalars), with the most rows that keep four blocks per SM, "
           "where that is at least 2 (EfficientNet-B1's 15x15 depthwise "
           "measured 17% faster at batch 64 on an H200; those of stride 2 "
           "and on even widths measured as fast or slower); 0: the direct "
           "kernel everywhere; N > 0: every depthwise convolution, with the "
           "most rows up to N">,
    Option<"f16StemMath", "f16-stem-math", "bool", /*default=*/"true",
           "f16: dense direct convolutions whose filter is compiled into "
           "the kernel (small filters, like the stem's) and whose threads "
           "compute pairs of adjacent output columns take each tap to both "
           "with one fma.rn.f16x2 (inputs rounded to f16, sums rounded at "
           "every tap) instead of two float32 FMAs; its threads then take a "
           "pair of columns as long as there is a block per SM (measured on "
           "an H200: EfficientNet-B1's stem at batch 64 46.6 -> 40.2 us, "
           "the program 1.6% faster, at batch 10 14.9 -> 13.8 us, 1.0% "
           "faster, the errors unchanged at 2.26e-4 and 2.01e-4; at batch 1 "
           "a thread keeps one column)">,
    Option<"denseConvMma", "dense-conv-mma", "bool", /*default=*/"false",
           "f16/bf16: dense convolutions with at most 64 taps (C x KH x KW) "
           "and 64 output channels, like the stem, run as an implicit GEMM "
           "on tensor cores, their input rows staged in shared memory; "
           "false, the default: the CUDA-core direct convolution "
           "(EfficientNet-B1's stem measured 1% slower end to end on tensor "
           "cores on an H200, bench/RESULTS.md)">,
    Option<"padPlanes", "pad-planes", "bool", /*default=*/"true",
           "f16/bf16: activations whose H x W is not a multiple of 8 (such "
           "as 30x30 and 15x15 maps), read and written only by direct "
           "convolutions and non-accumulating 1x1 GEMMs, are stored with "
           "every channel plane padded to a multiple of 8 elements, so that "
           "the GEMMs stage their rows in 16-byte vectors and run over the "
           "padded columns (measured on an H200, bench/RESULTS.md)">,
    Option<"linearFragments", "linear-fragments", "bool", /*default=*/"true",
           "f16/bf16: linear layers over a flattened input of a multiple of "
           "32 features run on tensor cores with each warp's mma.sync "
           "fragments loaded straight from device memory, the block's warps "
           "splitting K (a float32 input as two 16-bit halves, hi + lo, as "
           "exact as on CUDA cores); false: CUDA cores (EfficientNet-B1's "
           "1280 -> 1000 layer measured 1.2% faster end to end at batch 10 "
           "and 2.4% at batch 64 on an H200 on tensor cores, the same at "
           "batch 1, bench/RESULTS.md)">,
    Option<"linearMmaMinBatch", "linear-mma-min-batch", "int64_t",
           /*default=*/"0",
           "tf32/f16/bf16: linear layers over a flattened input run as the "
           "tiled tensor-core GEMM (a 1x1 convolution over a 1x1 map, the "
           "batch as its columns, K split over blocks) from this batch size "
           "on, below it as linear-fragments says (f16/bf16) or on CUDA "
           "cores (a weight stream per warp); 0, the default: never "
           "(EfficientNet-B1's 1280 -> 1000 layer measured 1-7% slower end "
           "to end at batch 1 to 64 on an H200 than on CUDA cores, "
           "bench/RESULTS.md)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertNVGPUToNVVMIndexed : Pass<"ptxnet-convert-nvgpu-to-nvvm"> {
  let summary = "Lower nvgpu ops to NVVM with memref descriptors of a given "
                "index width";
  let description = [{
    The upstream `convert-nvgpu-to-nvvm` patterns (mma.sync, ldmatrix,
    device_async_copy, ...), applied with a type converter whose index width
    matches `convert-gpu-to-nvvm`'s: with `index-bitwidth=32` on both, the
    memref descriptor casts the two passes leave around nvgpu ops' memref
    operands reconcile. (Upstream's pass always uses 64-bit indices.)
  }];
  let options = [
    Option<"indexBitwidth", "index-bitwidth", "unsigned", /*default=*/"64",
           "Bit width of index values in the converted memref descriptors">
  ];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect"
  ];
}

def ExternDynamicSharedMemory : Pass<"ptxnet-extern-dynamic-shared-memory"> {
  let summary = "Declare the kernels' dynamic shared memory extern";
  let description = [{
    `convert-gpu-to-nvvm` lowers `gpu.dynamic_shared_memory` to an internal
    zero-length array in the shared address space, which the NVPTX backend
    prints (after demoting it into the one kernel that uses it) as a
    1-byte static variable: the kernel then indexes past it into the
    dynamic shared memory that follows its static allocation. This pass
    makes every such global an external declaration, which PTX spells
    `.extern .shared .align 16 .b8 __dynamic_shmem__0[]`, the documented
    way to address dynamic shared memory. It runs after
    `convert-gpu-to-nvvm`, on the kernels' module.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // PTXNET_CONVERSION_PASSES
