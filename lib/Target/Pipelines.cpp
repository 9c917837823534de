//===- Pipelines.cpp - from gpu/scf/memref to PTX and host LLVM -----------===//
#include "ptxnet/Target/Pipelines.h"
#include "ptxnet/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void ptxnet::buildGPUToBinaryPipeline(OpPassManager &pm,
                                      const GPUPipelineOptions &options) {
  pm.addPass(createSCFToControlFlowPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));

  // Kernels: statically shaped identity-layout memrefs become bare pointers.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.useBarePtrCallConv = true;
  // 32-bit index arithmetic in kernels: 64-bit integer division by the
  // constant tensor extents is emulated and dominated the memory-bound
  // kernels. convert-nn-to-gpu checks that every buffer fits.
  nvvm.indexBitwidth = 32;
  // mma.sync, ldmatrix, cp.async, with the same 32-bit index descriptors.
  kernels.addPass(ptxnet::createConvertNVGPUToNVVMIndexed(
      {/*indexBitwidth=*/nvvm.indexBitwidth}));
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createConvertNVVMToLLVMPass()); // nvvm.inline_ptx -> asm
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());

  // Host: launches become mgpu* calls; the forward function takes pointers.
  GpuToLLVMConversionPassOptions host;
  host.hostBarePtrCallConv = true;
  host.kernelBarePtrCallConv = true;
  pm.addPass(createGpuToLLVMConversionPass(host));
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());

  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa"; // PTX text, JIT-compiled by the driver
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void ptxnet::registerTargetPipelines() {
  PassPipelineRegistration<GPUPipelineOptions>(
      "ptxnet-gpu-to-binary",
      "Lower convert-nn-to-gpu's output to host LLVM dialect and embedded PTX",
      buildGPUToBinaryPipeline);
}
