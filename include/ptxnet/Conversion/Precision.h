//===- Precision.h - arithmetic of the generated GEMMs ----------*- C++ -*-===//
//
// The --precision names shared by convert-nn-to-gpu and ptxnet-compile.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_CONVERSION_PRECISION_H
#define PTXNET_CONVERSION_PRECISION_H

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSwitch.h"

#include <optional>

namespace ptxnet {

/// The arithmetic of the pointwise-convolution GEMMs, and with it how
/// activations are stored: fp32 and tf32 keep float32 activations; f16 and
/// bf16 store them as 16-bit floats. Accumulation is float32 everywhere, and
/// so is every output several blocks accumulate into. The values are the
/// precision field of the model info the runtime reads.
enum class Precision { fp32 = 0, tf32 = 1, f16 = 2, bf16 = 3 };

/// For diagnostics: the accepted names.
inline constexpr const char *kPrecisionNames = "fp32, tf32, f16 or bf16";

inline std::optional<Precision> parsePrecision(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Precision>>(name)
      .Case("fp32", Precision::fp32)
      .Case("tf32", Precision::tf32)
      .Case("f16", Precision::f16)
      .Case("bf16", Precision::bf16)
      .Default(std::nullopt);
}

inline llvm::StringRef stringifyPrecision(Precision p) {
  switch (p) {
  case Precision::fp32:
    return "fp32";
  case Precision::tf32:
    return "tf32";
  case Precision::f16:
    return "f16";
  case Precision::bf16:
    return "bf16";
  }
  return "";
}

/// Whether activations and GEMM operands are 16-bit floats.
inline bool isHalf(Precision p) {
  return p == Precision::f16 || p == Precision::bf16;
}

/// The 16-bit float type a half-precision build stores activations and
/// GEMM operands in (f16 or bf16); null for fp32 and tf32.
inline mlir::FloatType halfType(mlir::MLIRContext *ctx, Precision p) {
  if (p == Precision::f16)
    return mlir::Float16Type::get(ctx);
  if (p == Precision::bf16)
    return mlir::BFloat16Type::get(ctx);
  return {};
}

} // namespace ptxnet

#endif // PTXNET_CONVERSION_PRECISION_H
