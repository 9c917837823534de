//===- NNOps.h - nn dialect operations --------------------------*- C++ -*-===//
#ifndef PTXNET_DIALECT_NN_IR_NNOPS_H
#define PTXNET_DIALECT_NN_IR_NNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ptxnet/Dialect/NN/IR/NNDialect.h"
#include "ptxnet/Dialect/NN/IR/NNEnums.h.inc"

#define GET_OP_CLASSES
#include "ptxnet/Dialect/NN/IR/NNOps.h.inc"

namespace ptxnet::nn {
/// Output spatial size of a convolution along one dimension, or a value <= 0
/// when the window does not fit.
int64_t convOutputSize(int64_t in, int64_t kernel, int64_t stride,
                       int64_t padBegin, int64_t padEnd);
} // namespace ptxnet::nn

#endif // PTXNET_DIALECT_NN_IR_NNOPS_H
