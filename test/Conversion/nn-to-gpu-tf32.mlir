// RUN: ptxnet-opt %s --convert-nn-to-gpu=precision=tf32 | FileCheck %s
// RUN: ptxnet-opt %s --convert-nn-to-gpu=precision=tf32 --ptxnet-gpu-to-binary | FileCheck %s --check-prefix=PTX
// RUN: ptxnet-opt %s --convert-nn-to-gpu=precision=tf32 --ptxnet-gpu-to-binary=short-shared-pointers=1 | FileCheck %s --check-prefix=SHORT

// The filter is packed rounded to tf32, to nearest: 0.1 (0x3DCCCCCD as f32)
// is stored as 0x3DCCC000 (little-endian 00C0CC3D); the bias stays f32.
// CHECK: memref.global "public" constant @ptxnet_weights : memref<{{[0-9]+}}xi8> = dense<"0x00C0CC3D00C0CC3D
// CHECK-SAME: CDCCCC3D
// The model info records the precision (last field, 1 = tf32).
// CHECK: memref.global "public" constant @ptxnet_model_info : memref<15xi64> = dense<[3, 4, 2, 48, 8, 8, 4, 2, 40, 8, 8, {{[0-9]+}}, {{[0-9]+}}, 1, 0]>

// With precision=tf32 a pointwise convolution becomes a tensor-core GEMM:
// batch x pixels (2 x 64 = 128 columns) form one dimension, so the launch is
// 1-D over column tiles and 2-D over channel tiles, with no batch dimension.
// CHECK: gpu.launch_func async [%{{.*}}] @ptxnet_kernels::@conv1x1_mma_tf32_relu6_0 blocks in (%{{.*}}, %{{.*}}, %[[ONE:.*]]) threads in
// CHECK-SAME: args(%{{.*}} : memref<2x48x64xf32>, %{{.*}} : memref<40x48xf32>, %{{.*}} : memref<40xf32>, %{{.*}} : memref<2x40x64xf32>)
// CHECK-LABEL: gpu.func @conv1x1_mma_tf32_relu6_0
// The layer is small (4 x 2 tiles of 32 x 32), so two warps share each tile,
// each multiplying 16 of every 32-channel slice. The filter slices are
// double-buffered (2 x 32 rows x 36 floats), the activation slice single
// (32 x 40); then the output tile and the second warp's partial tile.
// CHECK-SAME: workgroup(%[[A:.*]] : memref<2x32x36xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<1x32x40xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[C:.*]] : memref<32x36xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[P:.*]] : memref<1x32x36xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME: known_block_size = array<i32: 64, 1, 1>
// The first filter slice goes by cp.async (16 bytes: 4 floats) before the
// loop; each iteration starts the next one into the other buffer and waits
// for the current one (at most 1 group in flight).
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[A]][%c0{{.*}}, {{.*}}], 4, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_create_group
// The activations are rounded to tf32 as they are prefetched.
// CHECK: nvvm.inline_ptx "cvt.rna.tf32.f32 $0, $1;"
// CHECK: scf.for {{.*}} iter_args
// CHECK: nvgpu.device_async_copy %arg1
// CHECK: %[[G:.*]] = nvgpu.device_async_create_group
// CHECK: nvgpu.device_async_wait %[[G]] {numGroups = 1 : i32}
// CHECK: gpu.barrier
// CHECK: vector.from_elements {{.*}} : vector<4x1xf32>
// CHECK: vector.from_elements {{.*}} : vector<2x1xf32>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
// The second warp leaves its partial tile in shared memory; the first adds
// it to its own. The sums, with bias and ReLU6, go through the
// shared-memory output tile, then out in whole rows, 4 floats (16 bytes) at
// a time.
// CHECK: vector.extract {{.*}} : f32 from vector<2x2xf32>
// CHECK: memref.store %{{.*}}, %[[P]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[P]]
// CHECK: arith.addf
// CHECK: arith.minimumf %{{.*}} : vector<2xf32>
// CHECK: vector.store %{{.*}}, %[[C]][{{.*}}] {alignment = 8 : i64} : {{.*}}, vector<2xf32>
// CHECK: gpu.barrier
// CHECK: %[[V:.*]] = vector.load %[[C]][{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// CHECK: vector.store %[[V]], %arg3[{{.*}}] {alignment = 16 : i64} : memref<2x40x64xf32>, vector<4xf32>

// (The PTX is one escaped string: \09 is a tab.)
// PTX: cp.async.cg.shared.global [%rd{{[0-9]+}}], [%rd{{[0-9]+}}], 16, %r{{[0-9]+}};
// With short-shared-pointers the copy's shared destination is a 32-bit
// register, its global source still 64-bit.
// SHORT: cp.async.cg.shared.global [%r{{[0-9]+}}], [%rd{{[0-9]+}}], 16, %r{{[0-9]+}};
// PTX: cp.async.commit_group;
// PTX: cp.async.wait_group \091;
// PTX: cvt.rna.tf32.f32
// PTX: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
nn.graph @pointwise(%x: tensor<2x48x8x8xf32>) -> tensor<2x40x8x8xf32> {
  %w = arith.constant dense<0.1> : tensor<40x48x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<40xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x48x8x8xf32>, tensor<40x48x1x1xf32>, tensor<40xf32> -> tensor<2x40x8x8xf32>
  nn.output %y : tensor<2x40x8x8xf32>
}
