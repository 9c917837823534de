// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=tf32 | FileCheck %s --check-prefix=TF32

// The GEMM's filter slice goes by cp.async in the largest piece of 16, 8 or 4
// bytes that the input channels are a multiple of. 36 channels: 8-byte pieces
// (4 halves) in f16, cp.async.ca (only 16-byte copies bypass L1); 16-byte
// pieces (4 floats) in tf32.
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_0
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %{{.*}}[{{.*}}], 4, %{{.*}} : memref<264x36xf16>
// CHECK-NOT: bypassL1} : memref<264x36xf16>
// CHECK: nvgpu.mma.sync
// TF32-LABEL: gpu.func @conv1x1_mma_tf32_relu6_0
// TF32: nvgpu.device_async_copy %arg1[{{.*}}], %{{.*}}[{{.*}}], 4, %{{.*}} {bypassL1} : memref<264x36xf32>
nn.graph @pieces8(%x: tensor<2x36x5x5xf32>) -> tensor<2x264x5x5xf32> {
  %w = arith.constant dense<0.05> : tensor<264x36x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<264xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x36x5x5xf32>, tensor<264x36x1x1xf32>, tensor<264xf32> -> tensor<2x264x5x5xf32>
  nn.output %y : tensor<2x264x5x5xf32>
}

// -----

// 34 channels: 4-byte pieces (2 halves; 2 floats, 8 bytes, in tf32).
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_0
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %{{.*}}[{{.*}}], 2, %{{.*}} : memref<64x34xf16>
// TF32-LABEL: gpu.func @conv1x1_mma_tf32_relu6_0
// TF32: nvgpu.device_async_copy %arg1[{{.*}}], %{{.*}}[{{.*}}], 2, %{{.*}} : memref<64x34xf32>
// TF32-NOT: bypassL1} : memref<64x34xf32>
nn.graph @pieces4(%x: tensor<2x34x5x5xf32>) -> tensor<2x64x5x5xf32> {
  %w = arith.constant dense<0.05> : tensor<64x34x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<64xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x34x5x5xf32>, tensor<64x34x1x1xf32>, tensor<64xf32> -> tensor<2x64x5x5xf32>
  nn.output %y : tensor<2x64x5x5xf32>
}

// -----

// 5 channels: no whole 4-byte piece of halves, so the f16 filter goes
// through registers; tf32 copies single floats (4 bytes).
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_0
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: nvgpu.mma.sync
// TF32-LABEL: gpu.func @conv1x1_mma_tf32_relu6_0
// TF32: nvgpu.device_async_copy %arg1[{{.*}}], %{{.*}}[{{.*}}], 1, %{{.*}} : memref<64x5xf32>
nn.graph @registers(%x: tensor<2x5x5x5xf32>) -> tensor<2x64x5x5xf32> {
  %w = arith.constant dense<0.05> : tensor<64x5x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<64xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x5x5x5xf32>, tensor<64x5x1x1xf32>, tensor<64xf32> -> tensor<2x64x5x5xf32>
  nn.output %y : tensor<2x64x5x5xf32>
}
