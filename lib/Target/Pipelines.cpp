//===- Pipelines.cpp - from gpu/scf/memref to PTX and host LLVM -----------===//
#include "ptxnet/Target/Pipelines.h"
#include "ptxnet/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/TargetSelect.h"

using namespace mlir;

/// Shared-memory (and local and constant) pointers of 32 bits in the NVPTX
/// backend, or its default, 64 bits everywhere. 32 bits take a quarter of the
/// instructions out of the tensor-core K loops (every ldmatrix, cp.async and
/// shared load address is 64-bit arithmetic otherwise), but on an H200 that
/// made EfficientNet-B1 2.4% slower at batch 10 and 0.8% faster at batch 64:
/// off by default. The switch is a process-wide LLVM option (Triton sets it
/// the same way), registered when the NVPTX target is initialised; it must
/// be set before gpu-module-to-binary builds its target machine.
static void setShortSharedPointers(bool enable) {
  LLVMInitializeNVPTXTargetInfo();
  LLVMInitializeNVPTXTarget();
  LLVMInitializeNVPTXTargetMC();
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("nvptx-short-ptr");
  assert(it != options.end() && "the NVPTX backend has no nvptx-short-ptr");
  if (it != options.end())
    static_cast<llvm::cl::opt<bool> *>(it->second)->setValue(enable);
}

void ptxnet::buildGPUToBinaryPipeline(OpPassManager &pm,
                                      const GPUPipelineOptions &options) {
  setShortSharedPointers(options.shortSharedPointers);
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
  // The GEMMs' deep cp.async rings live in dynamic shared memory.
  kernels.addPass(ptxnet::createExternDynamicSharedMemory());
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
