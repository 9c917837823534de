//===- Passes.h - ptxnet conversions ----------------------------*- C++ -*-===//
#ifndef PTXNET_CONVERSION_PASSES_H
#define PTXNET_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace ptxnet {

#define GEN_PASS_DECL
#include "ptxnet/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ptxnet/Conversion/Passes.h.inc"

} // namespace ptxnet

#endif // PTXNET_CONVERSION_PASSES_H
