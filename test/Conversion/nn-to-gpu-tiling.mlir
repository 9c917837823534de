// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-tile-blocks-per-sm=16" | FileCheck %s --check-prefix=TILES16
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-warps-per-sm=0" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-warp-k-steps=8" | FileCheck %s --check-prefix=KSTEPS
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-warp-k-steps=2" | FileCheck %s --check-prefix=KSTEPS2
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-single-slice-k=0" | FileCheck %s --check-prefix=NOSLICE
// BAD: error: gemm-warps-per-sm, gemm-tile-blocks-per-sm, gemm-async-stages, gemm-async-min-k and gemm-async-blocks-per-sm must be positive, gemm-blocks-per-sm, gemm-warp-k-steps, gemm-single-slice-k and linear-mma-min-batch not negative

// Kernel shapes chosen per layer (f16). An expand 1x1 with 16 input channels
// over a large map: one 16-channel slice holds all of K, so each block runs
// through several column tiles (10 x 14400 columns in 64-wide tiles: 2250
// tiles, 8 per block), A staged once, the next tile's B loaded while this
// one is multiplied and written out (here the graph's f32 output, 4 floats
// at a time).
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu6_0 blocks in (%c282, %c2, %c1{{.*}}) threads in (%c128,
// The planner's occupancy targets are options: aiming at 16 blocks per SM
// instead of 4 leaves each block 2 tiles (4500 / (16 x 132)), so 1125
// blocks per row of tiles.
// TILES16-LABEL: func.func @ptxnet_forward
// TILES16: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu6_0 blocks in (%c1125, %c2, %c1{{.*}}) threads in (%c128,
// TILES16-LABEL: gpu.func @conv1x1_mma_f16_relu6_0
// TILES16: scf.for %{{.*}} = %c0{{.*}} to %c2{{.*}} step %c1{{.*}} iter_args
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_0
// CHECK-SAME: workgroup(%[[A:.*]] : memref<1x64x24xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[B:.*]] : memref<1x16x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[C:.*]] : memref<64x68xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c8{{.*}} step %c1{{.*}} iter_args
// CHECK:   vector.store %{{.*}}, %[[B]]
// CHECK:   gpu.barrier
// CHECK:   vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<10x16x14400xf32>, vector<4xf32>
// CHECK:   nvgpu.ldmatrix %[[A]]
// CHECK:   nvgpu.mma.sync
// CHECK:   vector.store %{{.*}}, %[[C]][{{.*}}] {alignment = 8 : i64} : {{.*}}, vector<2xf32>
// CHECK:   gpu.barrier
// CHECK:   vector.store %{{.*}}, %arg3[{{.*}}] {alignment = 16 : i64} : memref<10x96x14400xf32>, vector<4xf32>
// CHECK:   scf.yield
nn.graph @expand(%x: tensor<10x16x120x120xf32>) -> tensor<10x96x120x120xf32> {
  %w = arith.constant dense<0.05> : tensor<96x16x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<96xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<10x16x120x120xf32>, tensor<96x16x1x1xf32>, tensor<96xf32> -> tensor<10x96x120x120xf32>
  nn.output %y : tensor<10x96x120x120xf32>
}

// -----

// The head 1x1 + ReLU + global average pool over 8x8 maps: a warp's 32
// columns lie in one image, so each row is summed over them in registers
// and two shuffles, and one lane adds sum / 64 atomically.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.memset async [%{{.*}}] %{{.*}}, %{{.*}} : memref<10x1280xf32>, f32
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu_pool_0
// CHECK: nvgpu.mma.sync
// CHECK: arith.maximumf
// CHECK: gpu.shuffle  xor %{{.*}}, %c1
// CHECK: gpu.shuffle  xor %{{.*}}, %c2
// CHECK: scf.if
// CHECK: %[[M:.*]] = arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK: memref.atomic_rmw addf %[[M]], %arg3[%{{.*}}, %{{.*}}] : (f32, memref<10x1280xf32>) -> f32
nn.graph @head(%x: tensor<10x320x8x8xf32>) -> tensor<10x1280x1x1xf32> {
  %w = arith.constant dense<0.05> : tensor<1280x320x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<1280xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<10x320x8x8xf32>, tensor<1280x320x1x1xf32>, tensor<1280xf32> -> tensor<10x1280x1x1xf32>
  nn.output %y : tensor<10x1280x1x1xf32>
}

// -----

// A depthwise 3x3 (stride 1) over a large f16 map: each thread computes 8
// adjacent output columns, reading each input row once as 3 aligned
// vectors of 8 halves (the window starts one column left of an 8-aligned
// column), and writing them as one 16-byte vector.
// CHECK-LABEL: gpu.func @depthwise3x3_s1_relu6_1
// CHECK-COUNT-3: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<10x32x120x120xf16>, vector<8xf16>
// CHECK-NOT: vector.load %arg0
// CHECK: arith.mulf
// CHECK-COUNT-3: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<10x32x120x120xf16>, vector<8xf16>
// CHECK: vector.from_elements {{.*}} : vector<8xf16>
// CHECK: vector.store %{{.*}}, %arg3[{{.*}}] {alignment = 16 : i64} : memref<10x32x120x120xf16>, vector<8xf16>
nn.graph @depthwise(%x: tensor<10x32x120x120xf32>) -> tensor<10x16x120x120xf32> {
  %w = arith.constant dense<0.05> : tensor<32x32x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<32xf32>
  %e = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<10x32x120x120xf32>, tensor<32x32x1x1xf32>, tensor<32xf32> -> tensor<10x32x120x120xf32>
  %wd = arith.constant dense<0.1> : tensor<32x1x3x3xf32>
  %d = nn.fused_conv2d %e, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 32 activation = relu6 : tensor<10x32x120x120xf32>, tensor<32x1x3x3xf32>, tensor<32xf32> -> tensor<10x32x120x120xf32>
  %wp = arith.constant dense<0.02> : tensor<16x32x1x1xf32>
  %bp = arith.constant dense<0.1> : tensor<16xf32>
  %y = nn.fused_conv2d %d, %wp, %bp strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<10x32x120x120xf32>, tensor<16x32x1x1xf32>, tensor<16xf32> -> tensor<10x16x120x120xf32>
  nn.output %y : tensor<10x16x120x120xf32>
}

// -----

// Deep K (1152 channels over 8x8 maps, batch 64): by default (from batch 2)
// a warp multiplies 64 channels (4 mma k-steps) per staged slice, A slices
// of 64 x (64 + 8) halves, 18 iterations of the K loop. With
// gemm-warp-k-steps=2 (the default at batch 1) a slice is 32 channels, 36
// iterations; 8 deepens the slices only as far as the shared tiles stay
// within 48 KB, which is again 64 channels.
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_0
// CHECK-SAME: workgroup(%{{.*}} : memref<2x64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<1x64x72xf16,
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c1152{{.*}} step %c64{{.*}} iter_args
// KSTEPS2-LABEL: gpu.func @conv1x1_mma_f16_0
// KSTEPS2-SAME: workgroup(%{{.*}} : memref<2x64x40xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<1x32x72xf16,
// KSTEPS2: scf.for %{{.*}} = %c0{{.*}} to %c1152{{.*}} step %c32{{.*}} iter_args
// KSTEPS-LABEL: gpu.func @conv1x1_mma_f16_0
// KSTEPS-SAME: workgroup(%{{.*}} : memref<2x64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<1x64x72xf16,
// KSTEPS: scf.for %{{.*}} = %c0{{.*}} to %c1152{{.*}} step %c64{{.*}} iter_args
nn.graph @deep(%x: tensor<64x1152x8x8xf32>) -> tensor<64x320x8x8xf32> {
  %w = arith.constant dense<0.01> : tensor<320x1152x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<320xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<64x1152x8x8xf32>, tensor<320x1152x1x1xf32>, tensor<320xf32> -> tensor<64x320x8x8xf32>
  nn.output %y : tensor<64x320x8x8xf32>
}

// -----

// A shallow GEMM over f16 activations (mbconv3's 96 -> 144 expand at batch
// 10): K = 96 channels is at most gemm-single-slice-k, so all of K is one
// slice, A (64 x (96 + 8) halves) is staged once by cp.async, and each block
// runs through 3 of the 563 column tiles of 64 pixels (188 blocks per row of
// tiles). With gemm-single-slice-k=0 each block computes one tile in a K loop
// over slices of 32 channels, A double-buffered.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu6_1 blocks in (%c188, %c3, %c1{{.*}}) threads in (%c128,
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_1
// CHECK-SAME: workgroup(%[[A:.*]] : memref<1x64x104xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[B:.*]] : memref<1x96x72xf16,
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[A]]
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c3{{.*}} step %c1{{.*}} iter_args
// CHECK:   vector.store %{{.*}}, %[[B]]
// CHECK:   nvgpu.mma.sync
// NOSLICE-LABEL: func.func @ptxnet_forward
// NOSLICE: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu6_1 blocks in (%c563{{.*}}, %c3, %c1{{.*}}) threads in (%c128,
// NOSLICE-LABEL: gpu.func @conv1x1_mma_f16_relu6_1
// NOSLICE-SAME: workgroup(%{{.*}} : memref<2x64x40xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<1x32x72xf16,
// NOSLICE: scf.for %{{.*}} = %c0{{.*}} to %c96{{.*}} step %c32{{.*}} iter_args
nn.graph @shallow(%x: tensor<10x96x60x60xf32>) -> tensor<10x144x60x60xf32> {
  %wd = arith.constant dense<0.1> : tensor<96x1x3x3xf32>
  %bd = arith.constant dense<0.1> : tensor<96xf32>
  %d = nn.fused_conv2d %x, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] groups = 96 activation = relu6 : tensor<10x96x60x60xf32>, tensor<96x1x3x3xf32>, tensor<96xf32> -> tensor<10x96x60x60xf32>
  %w = arith.constant dense<0.05> : tensor<144x96x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<144xf32>
  %y = nn.fused_conv2d %d, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<10x96x60x60xf32>, tensor<144x96x1x1xf32>, tensor<144xf32> -> tensor<10x144x60x60xf32>
  nn.output %y : tensor<10x144x60x60xf32>
}
