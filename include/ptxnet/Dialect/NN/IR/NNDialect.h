//===- NNDialect.h - nn dialect ---------------------------------*- C++ -*-===//
#ifndef PTXNET_DIALECT_NN_IR_NNDIALECT_H
#define PTXNET_DIALECT_NN_IR_NNDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "ptxnet/Dialect/NN/IR/NNOpsDialect.h.inc"

#endif // PTXNET_DIALECT_NN_IR_NNDIALECT_H
