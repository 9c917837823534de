//===- HostEmission.h - PTX, host object and executable output --*- C++ -*-===//
#ifndef PTXNET_TARGET_HOSTEMISSION_H
#define PTXNET_TARGET_HOSTEMISSION_H

#include "mlir/IR/BuiltinOps.h"

namespace ptxnet {

/// Writes the PTX of every gpu.binary in `module` (format=isa) to `path`.
mlir::LogicalResult writePTX(mlir::ModuleOp module, llvm::StringRef path);

/// Translates the (LLVM-dialect) host module to LLVM IR and emits an x86-64
/// object file with LLVM's TargetMachine.
mlir::LogicalResult emitHostObject(mlir::ModuleOp module,
                                   llvm::StringRef objectPath);

struct LinkOptions {
  std::string compiler = "c++"; // the system driver, found on PATH
  std::string runtimeDir;       // holds libptxnet_runtime.a, libptxnet_npy.a
  std::string cudaLibDir;       // holds libcuda.so (the stub is enough)
};

/// Links the host object with the ptxnet runtime into an executable.
mlir::LogicalResult linkExecutable(llvm::StringRef objectPath,
                                   llvm::StringRef exePath,
                                   const LinkOptions &options);

} // namespace ptxnet

#endif // PTXNET_TARGET_HOSTEMISSION_H
