//===- ONNX.h - ONNX models to the nn dialect -------------------*- C++ -*-===//
#ifndef PTXNET_IMPORT_ONNX_H
#define PTXNET_IMPORT_ONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace ptxnet {

/// Translates the ONNX model in `path` into a module holding one nn.graph,
/// with the initializers (and Constant nodes) as arith.constant weights.
/// Errors (unreadable or malformed file, unsupported op or attribute, shape
/// mismatches) are emitted as diagnostics located at the node, by name.
mlir::OwningOpRef<mlir::ModuleOp> importONNXFile(llvm::StringRef path,
                                                 mlir::MLIRContext *context);

} // namespace ptxnet

#endif // PTXNET_IMPORT_ONNX_H
