//===- NVGPUToNVVM.cpp - nvgpu -> NVVM at the kernels' index width -------===//
//
// Upstream's convert-nvgpu-to-nvvm always converts memrefs to descriptors
// with 64-bit indices. ptxnet's kernels are lowered with 32-bit indices
// (convert-gpu-to-nvvm index-bitwidth=32), so the descriptor casts that the
// two passes leave around memref operands of nvgpu ops (cp.async, ldmatrix)
// would not reconcile. This pass applies the same upstream patterns with a
// type converter of the chosen index width, plus one pattern upstream lacks:
// nvgpu.mma.sync on bf16 operands.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Conversion/Passes.h"

#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
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
/// nvgpu.mma.sync m16n8k16 on bf16 operands with a float32 accumulator,
/// which upstream's lowering rejects ("failed to deduce operand PTX types"):
/// nvvm.mma.sync takes each pair of bf16 values packed in one i32 register.
/// Fragments are laid out as for f16: A is 4 x vector<2xbf16>, B 2 x
/// vector<2xbf16>, C and the result 2 x vector<2xf32>.
struct MmaSyncBF16Lowering : ConvertOpToLLVMPattern<nvgpu::MmaSyncOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(nvgpu::MmaSyncOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto aType = cast<VectorType>(op.getMatrixA().getType());
    auto cType = cast<VectorType>(op.getMatrixC().getType());
    if (!aType.getElementType().isBF16())
      return rewriter.notifyMatchFailure(op, "not a bf16 mma.sync");
    if (ArrayRef<int64_t>(op.getMmaShapeAsArray()) !=
            ArrayRef<int64_t>{16, 8, 16} ||
        aType.getShape() != ArrayRef<int64_t>{4, 2} ||
        cType.getShape() != ArrayRef<int64_t>{2, 2} ||
        !cType.getElementType().isF32())
      return rewriter.notifyMatchFailure(
          op, "bf16 mma.sync is lowered for m16n8k16 with an f32 "
              "accumulator only");
    Location loc = op.getLoc();
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    // Elements of an !llvm.array of vectors, each bf16 pair as one i32.
    auto packedPairs = [&](Value array, int64_t count) {
      SmallVector<Value> regs;
      for (int64_t i = 0; i < count; ++i)
        regs.push_back(LLVM::BitcastOp::create(
            rewriter, loc, i32,
            LLVM::ExtractValueOp::create(rewriter, loc, array, i)));
      return regs;
    };
    SmallVector<Value> a = packedPairs(adaptor.getMatrixA(), 4);
    SmallVector<Value> b = packedPairs(adaptor.getMatrixB(), 2);
    SmallVector<Value> c;
    for (int64_t i = 0; i < 2; ++i) {
      Value row =
          LLVM::ExtractValueOp::create(rewriter, loc, adaptor.getMatrixC(), i);
      for (int64_t j = 0; j < 2; ++j)
        c.push_back(LLVM::ExtractElementOp::create(
            rewriter, loc, row,
            LLVM::ConstantOp::create(rewriter, loc, i32, j)));
    }
    auto resultStruct = LLVM::LLVMStructType::getLiteral(
        rewriter.getContext(), SmallVector<Type>(4, f32));
    Value d = NVVM::MmaOp::create(
        rewriter, loc, resultStruct, a, b, c, ArrayRef<int64_t>{16, 8, 16},
        /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                      NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    // Back to the converted result type, !llvm.array<2 x vector<2xf32>>.
    Type resultType = typeConverter->convertType(op.getType());
    Type rowType = VectorType::get({2}, f32);
    Value result = LLVM::PoisonOp::create(rewriter, loc, resultType);
    for (int64_t i = 0; i < 2; ++i) {
      Value row = LLVM::PoisonOp::create(rewriter, loc, rowType);
      for (int64_t j = 0; j < 2; ++j)
        row = LLVM::InsertElementOp::create(
            rewriter, loc, row,
            LLVM::ExtractValueOp::create(rewriter, loc, d, 2 * i + j),
            LLVM::ConstantOp::create(rewriter, loc, i32, j));
      result = LLVM::InsertValueOp::create(rewriter, loc, result, row, i);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

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
    // Tried before upstream's mma.sync pattern, which fails on bf16.
    patterns.add<MmaSyncBF16Lowering>(converter, /*benefit=*/2);
    LLVMConversionTarget target(*ctx);
    target.addLegalDialect<LLVM::LLVMDialect, arith::ArithDialect,
                           memref::MemRefDialect, NVVM::NVVMDialect>();
    // An nvgpu op no pattern lowers is an error, not a leftover.
    target.addIllegalDialect<nvgpu::NVGPUDialect>();
    scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                         target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
