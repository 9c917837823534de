// RUN: ptxnet-opt %s -verify-diagnostics --pass-pipeline='builtin.module(gpu.module(ptxnet-extern-dynamic-shared-memory))'

// Dynamic shared memory has no initial value: a zero-length shared array
// with one is rejected rather than declared.
gpu.module @initialized {
  // expected-error @below {{'llvm.mlir.global' op is a zero-length shared array (dynamic shared memory) with an initial value}}
  llvm.mlir.global internal @bad(dense<> : tensor<0xi8>) {addr_space = 3 : i32} : !llvm.array<0 x i8>
}
