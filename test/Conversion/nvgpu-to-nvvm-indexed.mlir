// RUN: ptxnet-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(ptxnet-convert-nvgpu-to-nvvm{index-bitwidth=32}))' | FileCheck %s --check-prefix=I32
// RUN: ptxnet-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(ptxnet-convert-nvgpu-to-nvvm))' | FileCheck %s --check-prefix=I64
// RUN: not ptxnet-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(ptxnet-convert-nvgpu-to-nvvm{index-bitwidth=16}))' 2>&1 | FileCheck %s --check-prefix=BAD

// The upstream nvgpu patterns, with memref descriptors of the requested
// index width: 32 bits matches convert-gpu-to-nvvm{index-bitwidth=32}, so
// the casts the two passes leave around memref operands reconcile.
// I32-LABEL: gpu.func @load
// I32: builtin.unrealized_conversion_cast %{{.*}} : memref<16x24xf16, #gpu.address_space<workgroup>> to !llvm.struct<(ptr<3>, ptr<3>, i32, array<2 x i32>, array<2 x i32>)>
// I32: llvm.getelementptr %{{.*}}[%{{.*}}] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, f16
// I32: nvvm.ldmatrix
// I64-LABEL: gpu.func @load
// I64: !llvm.struct<(ptr<3>, ptr<3>, i64, array<2 x i64>, array<2 x i64>)>
// BAD: error: index-bitwidth must be 32 or 64, got 16
gpu.module @kernels {
  gpu.func @load(%out: memref<4xf16>) workgroup(%tile : memref<16x24xf16, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %f = nvgpu.ldmatrix %tile[%c0, %c0] {numTiles = 4 : i32, transpose = false} : memref<16x24xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
    gpu.return
  }
}

// -----

// cp.async: the copy and the group token become NVVM ops; a zero-fill
// source size (nvgpu's srcElements) is converted to bytes.
// I32-LABEL: gpu.func @copy
// I32: nvvm.cp.async.shared.global %{{.*}}, %{{.*}}, 16, cache = cg, %{{.*}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
// I32: nvvm.cp.async.commit.group
// I32: nvvm.cp.async.wait.group 0
gpu.module @kernels {
  gpu.func @copy(%src: memref<64x64xf16>, %n: index) workgroup(%tile : memref<16x24xf16, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %t = nvgpu.device_async_copy %src[%c0, %c0], %tile[%c0, %c0], 8, %n {bypassL1} : memref<64x64xf16> to memref<16x24xf16, #gpu.address_space<workgroup>>
    %g = nvgpu.device_async_create_group %t
    nvgpu.device_async_wait %g {numGroups = 0 : i32}
    gpu.return
  }
}
