// RUN: ptxnet-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(ptxnet-extern-dynamic-shared-memory))' | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(convert-gpu-to-nvvm,ptxnet-extern-dynamic-shared-memory))' | FileCheck %s --check-prefix=LOWERED

// The zero-length shared array that stands for dynamic shared memory becomes
// an external declaration (PTX: .extern .shared ... []); static shared
// arrays and zero-length arrays in other address spaces stay as they are.
// CHECK-LABEL: gpu.module @kernels
// CHECK-DAG: llvm.mlir.global external @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// CHECK-DAG: llvm.mlir.global internal @tile() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<64 x i8>
// CHECK-DAG: llvm.mlir.global internal @empty() {addr_space = 1 : i32} : !llvm.array<0 x i8>
gpu.module @kernels {
  llvm.mlir.global internal @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
  llvm.mlir.global internal @tile() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<64 x i8>
  llvm.mlir.global internal @empty() {addr_space = 1 : i32} : !llvm.array<0 x i8>
}

// -----

// What convert-gpu-to-nvvm makes of gpu.dynamic_shared_memory, declared.
// LOWERED-LABEL: gpu.module @ring
// LOWERED: llvm.mlir.global external @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// LOWERED: llvm.mlir.addressof @__dynamic_shmem__0 : !llvm.ptr<3>
gpu.module @ring {
  gpu.func @k(%out: memref<4xf32>) kernel {
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %v = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4xf32, #gpu.address_space<workgroup>>
    %x = memref.load %v[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
    memref.store %x, %out[%c0] : memref<4xf32>
    gpu.return
  }
}

