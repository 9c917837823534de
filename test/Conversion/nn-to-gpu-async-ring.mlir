// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-warp-k-steps=2" | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-async-stages=1" | FileCheck %s --check-prefix=REGS
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-async-stages=2" | FileCheck %s --check-prefix=TWO
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=tf32 | FileCheck %s --check-prefix=TF32
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-async-min-k=0" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: gemm-warps-per-sm, gemm-tile-blocks-per-sm, gemm-async-stages, gemm-async-min-k and gemm-async-blocks-per-sm must be positive, gemm-blocks-per-sm, gemm-warp-k-steps, gemm-single-slice-k and linear-mma-min-batch not negative

// The head of EfficientNet-B1 at batch 10: 1152 f16 channels over 8x8 maps,
// each warp taking 2 mma k-steps (32 channels) a slice (gemm-warp-k-steps=2:
// the default from batch 2, 4, makes 64-channel slices, of which 48 KB hold
// 2; see nn-to-gpu-dynamic-shared.mlir).
// K is deep (>= gemm-async-min-k), so both operands go by cp.async through a
// ring of 4 K slices (gemm-async-stages) carved, with the epilogue's tiles,
// out of one shared byte buffer. The ring's tiles are planned at
// gemm-async-blocks-per-sm = 1: 64x64 outputs, 10 x 20 blocks. Each image's
// 64 pixels lie in one column tile, so the pooled means are summed within
// the block and stored once: the output is not zeroed first.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK-NOT: gpu.memset
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu_pool_1 blocks in (%c10{{.*}}, %c20{{.*}}, %c1{{.*}}) threads in (%c128,
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu_pool_1
// CHECK-SAME: workgroup(%[[RING:.*]] : memref<{{[0-9]+}}xi8, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-DAG: %[[A:.*]] = memref.view %[[RING]][%c0{{.*}}][] : {{.*}} to memref<4x64x40xf16, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[B:.*]] = memref.view %[[RING]][%c20480{{.*}}][] : {{.*}} to memref<4x32x72xf16, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[SUMS:.*]] = memref.view %[[RING]][%c0{{.*}}][] : {{.*}} to memref<2x64xf32, #gpu.address_space<workgroup>>
// The prologue puts 3 slices in flight, A and B each in 16-byte pieces
// (cp.async.cg: bypassing L1).
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[A]][%c0{{.*}}, {{.*}}], 8, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %[[B]][%c0{{.*}}, {{.*}}], 8, %{{.*}} {bypassL1} : memref<10x1152x64xf16>
// CHECK: %[[G0:.*]] = nvgpu.device_async_create_group
// CHECK: nvgpu.device_async_create_group
// CHECK: %[[G2:.*]] = nvgpu.device_async_create_group
// Each slice: wait until it has landed (2 younger groups may still fly),
// one barrier, then the copy 3 slices ahead and the MMAs.
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c1152{{.*}} step %c32{{.*}} iter_args
// CHECK:   nvgpu.device_async_wait %[[G2]] {numGroups = 2 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK:   nvgpu.device_async_copy %arg1
// CHECK:   nvgpu.device_async_copy %arg0
// CHECK:   nvgpu.device_async_create_group
// CHECK:   nvgpu.ldmatrix %[[A]]
// CHECK:   nvgpu.ldmatrix %[[B]]{{.*}}transpose = true
// CHECK:   nvgpu.mma.sync
// CHECK:   scf.yield
// Everything lands before the epilogue reuses the ring: each warp sums its
// 32 columns of a row (two shuffles) into the row sums of its warp column;
// then each thread adds an output's two and stores the mean, no atomics.
// CHECK: nvgpu.device_async_wait %[[G2]] {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK: gpu.barrier
// CHECK: gpu.shuffle  xor %{{.*}}, %c1
// CHECK: gpu.shuffle  xor %{{.*}}, %c2
// CHECK: memref.store %{{.*}}, %[[SUMS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[SUMS]]
// CHECK: memref.load %[[SUMS]]
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK: memref.store %{{.*}}, %arg3[%{{.*}}, %{{.*}}] : memref<10x1280xf32>
// CHECK-NOT: memref.atomic_rmw
// CHECK: gpu.return
// Without the ring (gemm-async-stages=1) B goes through registers, one
// barrier before and one after the MMAs, on 64x32 tiles shared by 2 warps.
// REGS-LABEL: gpu.func @conv1x1_mma_f16_relu_pool_1
// REGS-SAME: workgroup(%{{.*}} : memref<2x64x72xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[B:.*]] : memref<1x64x40xf16,
// REGS: scf.for
// REGS:   vector.store %{{.*}}, %[[B]]
// REGS:   nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// REGS:   gpu.barrier
// REGS:   nvgpu.mma.sync
// REGS:   gpu.barrier
// With 2 stages, the wait in the loop lets no group fly.
// TWO-LABEL: gpu.func @conv1x1_mma_f16_relu_pool_1
// TWO: memref.view {{.*}} to memref<2x64x40xf16
// TWO: scf.for
// TWO:   nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// tf32 keeps its register path: the activations are rounded to tf32 on the
// way to shared memory.
// TF32-LABEL: gpu.func @conv1x1_mma_tf32_relu_pool_1
// TF32-NOT: memref.view
// TF32: cvt.rna.tf32.f32
nn.graph @head(%x: tensor<10x1152x8x8xf32>) -> tensor<10x1280x1x1xf32> {
  %wd = arith.constant dense<0.1> : tensor<1152x1x3x3xf32>
  %bd = arith.constant dense<0.1> : tensor<1152xf32>
  %d = nn.fused_conv2d %x, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] groups = 1152 activation = relu6 : tensor<10x1152x8x8xf32>, tensor<1152x1x3x3xf32>, tensor<1152xf32> -> tensor<10x1152x8x8xf32>
  %w = arith.constant dense<0.05> : tensor<1280x1152x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<1280xf32>
  %y = nn.fused_conv2d %d, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<10x1152x8x8xf32>, tensor<1280x1152x1x1xf32>, tensor<1280xf32> -> tensor<10x1280x1x1xf32>
  nn.output %y : tensor<10x1280x1x1xf32>
}

// -----

// Rows of 42 pixels (6x7) go in 4-byte pieces (2 halves; cp.async.ca, only
// 16-byte copies may bypass L1), K = 1032 is not a multiple of the slice
// (the last slice is zero-filled past C), and without an activation K is also
// split over blocks (grid z) that add into a float32 output.
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_1
// CHECK-SAME: workgroup(%{{.*}} : memref<{{[0-9]+}}xi8
// CHECK: gpu.block_id  z
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %{{.*}}[{{.*}}], 2, %{{.*}} : memref<3x1032x42xf16>
// CHECK-NOT: bypassL1} : memref<3x1032x42xf16>
// CHECK: memref.atomic_rmw addf {{.*}} : (f32, memref<3x48x42xf32>) -> f32
nn.graph @pieces(%x: tensor<3x1032x6x7xf32>) -> tensor<3x48x6x7xf32> {
  %wd = arith.constant dense<0.1> : tensor<1032x1x3x3xf32>
  %bd = arith.constant dense<0.1> : tensor<1032xf32>
  %d = nn.fused_conv2d %x, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] groups = 1032 activation = relu6 : tensor<3x1032x6x7xf32>, tensor<1032x1x3x3xf32>, tensor<1032xf32> -> tensor<3x1032x6x7xf32>
  %w = arith.constant dense<0.05> : tensor<48x1032x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<48xf32>
  %y = nn.fused_conv2d %d, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<3x1032x6x7xf32>, tensor<48x1032x1x1xf32>, tensor<48xf32> -> tensor<3x48x6x7xf32>
  nn.output %y : tensor<3x48x6x7xf32>
}

// -----

// No ring where it cannot or should not run: the graph's f32 input (converted
// on the way, so through registers) and K below gemm-async-min-k (672
// channels). Rows of 15x15 pixels (225 halves) have no aligned piece, but
// their planes are padded to 232 (pad-planes): the deep GEMM over them takes
// the ring (nn-to-gpu-pad-planes.mlir checks it without padding).
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_0
// CHECK-NOT: xi8
// CHECK-LABEL: gpu.func @depthwise3x3_s1_relu6_1
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_2
// CHECK-NOT: xi8
// CHECK-LABEL: gpu.func @depthwise3x3_s2_relu6_3
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_4
// CHECK-SAME: memref<2x1024x232xf16>
// CHECK: xi8, #gpu.address_space<workgroup>
// CHECK-LABEL: gpu.func @depthwise
nn.graph @none(%x: tensor<2x1024x30x30xf32>) -> tensor<2x1024x15x15xf32> {
  %w0 = arith.constant dense<0.02> : tensor<672x1024x1x1xf32>
  %b0 = arith.constant dense<0.1> : tensor<672xf32>
  %e = nn.fused_conv2d %x, %w0, %b0 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x1024x30x30xf32>, tensor<672x1024x1x1xf32>, tensor<672xf32> -> tensor<2x672x30x30xf32>
  %wd = arith.constant dense<0.1> : tensor<672x1x3x3xf32>
  %d = nn.fused_conv2d %e, %wd, %b0 strides = [1, 1] padding = [1, 1, 1, 1] groups = 672 activation = relu6 : tensor<2x672x30x30xf32>, tensor<672x1x3x3xf32>, tensor<672xf32> -> tensor<2x672x30x30xf32>
  %w1 = arith.constant dense<0.02> : tensor<1024x672x1x1xf32>
  %b1 = arith.constant dense<0.1> : tensor<1024xf32>
  %p = nn.fused_conv2d %d, %w1, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x672x30x30xf32>, tensor<1024x672x1x1xf32>, tensor<1024xf32> -> tensor<2x1024x30x30xf32>
  %wd2 = arith.constant dense<0.1> : tensor<1024x1x3x3xf32>
  %q = nn.fused_conv2d %p, %wd2, %b1 strides = [2, 2] padding = [1, 1, 1, 1] groups = 1024 activation = relu6 : tensor<2x1024x30x30xf32>, tensor<1024x1x3x3xf32>, tensor<1024xf32> -> tensor<2x1024x15x15xf32>
  %w2 = arith.constant dense<0.02> : tensor<1024x1024x1x1xf32>
  %r = nn.fused_conv2d %q, %w2, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x1024x15x15xf32>, tensor<1024x1024x1x1xf32>, tensor<1024xf32> -> tensor<2x1024x15x15xf32>
  %wd3 = arith.constant dense<0.1> : tensor<1024x1x3x3xf32>
  %y = nn.fused_conv2d %r, %wd3, %b1 strides = [1, 1] padding = [1, 1, 1, 1] groups = 1024 activation = relu6 : tensor<2x1024x15x15xf32>, tensor<1024x1x3x3xf32>, tensor<1024xf32> -> tensor<2x1024x15x15xf32>
  nn.output %y : tensor<2x1024x15x15xf32>
}
