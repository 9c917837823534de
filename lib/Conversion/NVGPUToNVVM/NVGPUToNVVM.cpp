//===- NVGPUToNVVM.cpp - nvgpu -> NVVM with the kernels' index width -------===//
//
// Upstream's convert-nvgpu-to-nvvm always converts memrefs to descriptors
// with 64-bit indices. ptxnet's kernels are lowered with 32-bit indices
// (convert-gpu-to-nvvm index-bitwidth=32), so the descriptor casts that the
// two passes leave around memref operands of nvgpu ops (cp.async, ldmatrix)
// would not reconcile. This pass applies the same upstream patterns with a
// type converter of the chosen index width.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Conversion/Passes.h"

#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Transforms/DialectConversion.h"

namespace ptxnet {
#define GEN_PASS_DEF_CONVERTNVGPUTONVVMINDEXED
#include "ptxnet/Conversion/Passes.h.inc"
} // namespace ptxnet

using namespace mlir;

namespace {
struct ConvertNVGPUToNVVMIndexedPass
    : public ptxnet::impl::ConvertNVGPUToNVVMIndexedBase<
          ConvertNVGPUToNVVMIndexedPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (indexBitwidth != 32 && indexBitwidth != 64) {
      getOperation()->emitError("index-bitwidth must be 32 or 64, got ")
          << unsigned(indexBitwidth);
      return signalPassFailure();
    }
    LowerToLLVMOptions options(ctx);
    options.overrideIndexBitwidth(indexBitwidth);
    LLVMTypeConverter converter(ctx, options);
    nvgpu::populateCommonGPUTypeAndAttributeConversions(converter);
    // cp.async group tokens are plain integers once lowered.
    converter.addConversion([&](nvgpu::DeviceAsyncTokenType type) -> Type {
      return converter.convertType(IntegerType::get(type.getContext(), 32));
    });
    RewritePatternSet patterns(ctx);
    populateNVGPUToNVVMConversionPatterns(converter, patterns);
    LLVMConversionTarget target(*ctx);
    target.addLegalDialect<LLVM::LLVMDialect, arith::ArithDialect,
                           memref::MemRefDialect, NVVM::NVVMDialect>();
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                         target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
