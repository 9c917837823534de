//===- GraphIO.h - Loading nn graphs for the ptxnet tools -------*- C++ -*-===//
#ifndef PTXNET_SUPPORT_GRAPHIO_H
#define PTXNET_SUPPORT_GRAPHIO_H

#include "ptxnet/Dialect/NN/IR/NNOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

namespace ptxnet {

/// Parses and verifies `path` ('-' for stdin). Diagnostics, with locations,
/// go through the context's handler; returns null on any error.
mlir::OwningOpRef<mlir::ModuleOp> parseGraphFile(llvm::StringRef path,
                                                 mlir::MLIRContext &context,
                                                 llvm::SourceMgr &sourceMgr);

/// Like parseGraphFile, but a path ending in ".onnx" is imported from ONNX
/// (ptxnet-import-onnx) instead of parsed.
mlir::OwningOpRef<mlir::ModuleOp> loadModelFile(llvm::StringRef path,
                                                mlir::MLIRContext &context,
                                                llvm::SourceMgr &sourceMgr);

/// The single nn.graph of `module`, or an error (none, or several) emitted
/// on the module.
nn::GraphOp getSingleGraph(mlir::ModuleOp module);

/// Registers every dialect the ptxnet tools read or produce.
void registerPtxnetDialects(mlir::DialectRegistry &registry);

} // namespace ptxnet

#endif // PTXNET_SUPPORT_GRAPHIO_H
