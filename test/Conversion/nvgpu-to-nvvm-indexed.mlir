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

// -----

// bf16 mma.sync, which upstream's lowering rejects: each bf16 pair of A and
// B goes to nvvm.mma.sync as one i32, C as four f32 values, and the result
// struct is repacked as the two rows of the accumulator. f16 keeps
// upstream's lowering (vector<2xf16> operands).
// I32-LABEL: gpu.func @mma
// I32-COUNT-6: llvm.bitcast %{{.*}} : vector<2xbf16> to i32
// I32: nvvm.mma.sync A[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}]  B[%{{.*}}, %{{.*}}]  C[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}]  {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// I32-COUNT-2: llvm.insertvalue %{{.*}}, %{{.*}}[{{[01]}}] : !llvm.array<2 x vector<2xf32>>
// I32: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
gpu.module @kernels {
  gpu.func @mma(%a: vector<4x2xbf16>, %b: vector<2x2xbf16>, %ah: vector<4x2xf16>, %bh: vector<2x2xf16>, %c: vector<2x2xf32>, %out: memref<2x2x2xf32>) kernel {
    %d = nvgpu.mma.sync (%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
    %e = nvgpu.mma.sync (%ah, %bh, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    vector.store %d, %out[%c0, %c0, %c0] : memref<2x2x2xf32>, vector<2x2xf32>
    vector.store %e, %out[%c1, %c0, %c0] : memref<2x2x2xf32>, vector<2x2xf32>
    gpu.return
  }
}
