// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s

// An expand + depthwise pair over 8x8 maps (nn-fuse-expand-depthwise
// whole-image-pixels) runs as one tensor-core GEMM whose column tiles hold
// whole images (32 x 64 outputs, one image a tile: 10 x 36 blocks, two warps
// sharing K): its input is viewed as N x C x P, and only the depthwise
// output goes to device memory. In the epilogue 4 threads share each tile
// row: they load its bias and 9 taps once and take 16 of its 64 output
// pixels each.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK-COUNT-1: gpu.launch_func
// CHECK-SAME: @ptxnet_kernels::@conv1x1_expand_dw3x3_s1_relu6_mma_f16_0 blocks in (%c10{{.*}}, %c36{{.*}}, %c1{{.*}}) threads in (%c128{{.*}}) args(%{{.*}} : memref<10x672x64xf32>
// CHECK-NOT: gpu.launch_func
// CHECK-LABEL: gpu.func @conv1x1_expand_dw3x3_s1_relu6_mma_f16_0(%arg0: memref<10x672x64xf32>, %arg1: memref<1152x672xf16>, %arg2: memref<1152xf32>, %arg3: memref<1152x1x3x3xf32>, %arg4: memref<1152xf32>, %arg5: memref<10x1152x8x8xf32>)
// CHECK: nvgpu.mma.sync
// CHECK: memref.load %arg4[
// CHECK-COUNT-9: memref.load %arg3[
// CHECK-NOT: memref.load %arg3[
// CHECK-COUNT-16: memref.store %{{.*}}, %arg5[
// CHECK-NOT: memref.store %{{.*}}, %arg5[
// CHECK: gpu.return
nn.graph @deep8x8(%x: tensor<10x672x8x8xf32>) -> tensor<10x1152x8x8xf32> {
  %we = arith.constant dense<0.02> : tensor<1152x672x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<1152xf32>
  %wd = arith.constant dense<0.1> : tensor<1152x1x3x3xf32>
  %y = nn.fused_expand_depthwise %x, %we, %be expand_activation = relu6, %wd, %be strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<10x672x8x8xf32>, tensor<1152x672x1x1xf32>, tensor<1152x1x3x3xf32>, tensor<1152xf32> -> tensor<10x1152x8x8xf32>
  nn.output %y : tensor<10x1152x8x8xf32>
}

// -----

// A stride-2 depthwise from 4x4 maps (16 pixels: 4 images a 64-column
// tile) onto 2x2: the taps past the border are masked.
// CHECK-LABEL: gpu.func @conv1x1_expand_dw3x3_s2_relu6_mma_f16_0
// CHECK-SAME: %arg0: memref<8x64x16xf32>
// CHECK-SAME: %arg5: memref<8x96x2x2xf32>
// CHECK: arith.select
nn.graph @stride2(%x: tensor<8x64x4x4xf32>) -> tensor<8x96x2x2xf32> {
  %we = arith.constant dense<0.02> : tensor<96x64x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<96xf32>
  %wd = arith.constant dense<0.1> : tensor<96x1x3x3xf32>
  %y = nn.fused_expand_depthwise %x, %we, %be expand_activation = relu6, %wd, %be strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6 : tensor<8x64x4x4xf32>, tensor<96x64x1x1xf32>, tensor<96x1x3x3xf32>, tensor<96xf32> -> tensor<8x96x2x2xf32>
  nn.output %y : tensor<8x96x2x2xf32>
}

// -----

// Maps too large for whole images in a tile (16x16) keep the fused expand +
// depthwise kernel.
// CHECK-LABEL: gpu.func @expand_dw3x3_s1_relu6_mma_f16_0
// CHECK-NOT: gpu.func @conv1x1_expand
nn.graph @large(%x: tensor<2x32x16x16xf32>) -> tensor<2x96x16x16xf32> {
  %we = arith.constant dense<0.02> : tensor<96x32x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<96xf32>
  %wd = arith.constant dense<0.1> : tensor<96x1x3x3xf32>
  %y = nn.fused_expand_depthwise %x, %we, %be expand_activation = relu6, %wd, %be strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<2x32x16x16xf32>, tensor<96x32x1x1xf32>, tensor<96x1x3x3xf32>, tensor<96xf32> -> tensor<2x96x16x16xf32>
  nn.output %y : tensor<2x96x16x16xf32>
}
