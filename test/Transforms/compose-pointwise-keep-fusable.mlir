// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-compose-pointwise{keep-fusable-expands=32}))' | FileCheck %s
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-compose-pointwise))' | FileCheck %s --check-prefix=ALWAYS
// keep-fusable-min-hidden mirrors nn-fuse-expand-depthwise's
// min-hidden-per-image: the expand's hidden tensor has 64 x 4 x 4 = 1024
// values per image, so it is kept apart at 1024 and composed above.
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-compose-pointwise{keep-fusable-expands=32 keep-fusable-min-hidden=1024}))' | FileCheck %s --check-prefix=KEPT
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-compose-pointwise{keep-fusable-expands=32 keep-fusable-min-hidden=1025}))' | FileCheck %s --check-prefix=ALWAYS

// A project from 40 channels into an expand from 16 that feeds a depthwise
// convolution: composed, the expand would take 40 channels, more than
// nn-fuse-expand-depthwise{max-expand-channels=32} fuses, so with
// keep-fusable-expands=32 the pair stays apart.
// CHECK-LABEL: nn.graph @keeps_fusable
// CHECK: %[[P:.*]] = nn.fused_conv2d %arg0, {{.*}} activation = none : tensor<1x40x4x4xf32>, tensor<16x40x1x1xf32>
// CHECK: %[[E:.*]] = nn.fused_conv2d %[[P]], {{.*}} activation = relu6 : tensor<1x16x4x4xf32>, tensor<64x16x1x1xf32>
// CHECK: nn.fused_conv2d %[[E]], {{.*}} groups = 64
// KEPT-LABEL: nn.graph @keeps_fusable
// KEPT: nn.fused_conv2d %arg0, {{.*}} activation = none : tensor<1x40x4x4xf32>, tensor<16x40x1x1xf32>
// ALWAYS-LABEL: nn.graph @keeps_fusable
// ALWAYS: %[[E:.*]] = nn.fused_conv2d %arg0, {{.*}} activation = relu6 : tensor<1x40x4x4xf32>, tensor<64x40x1x1xf32>
// ALWAYS: nn.fused_conv2d %[[E]], {{.*}} groups = 64
nn.graph @keeps_fusable(%x: tensor<1x40x4x4xf32>) -> tensor<1x64x4x4xf32> {
  %w1 = arith.constant dense<0.1> : tensor<16x40x1x1xf32>
  %b1 = arith.constant dense<0.1> : tensor<16xf32>
  %p = nn.fused_conv2d %x, %w1, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x40x4x4xf32>, tensor<16x40x1x1xf32>, tensor<16xf32> -> tensor<1x16x4x4xf32>
  %w2 = arith.constant dense<0.2> : tensor<64x16x1x1xf32>
  %b2 = arith.constant dense<0.1> : tensor<64xf32>
  %e = nn.fused_conv2d %p, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x16x4x4xf32>, tensor<64x16x1x1xf32>, tensor<64xf32> -> tensor<1x64x4x4xf32>
  %wd = arith.constant dense<0.1> : tensor<64x1x3x3xf32>
  %d = nn.fused_conv2d %e, %wd, %b2 strides = [1, 1] padding = [1, 1, 1, 1] groups = 64 activation = relu6 : tensor<1x64x4x4xf32>, tensor<64x1x3x3xf32>, tensor<64xf32> -> tensor<1x64x4x4xf32>
  nn.output %d : tensor<1x64x4x4xf32>
}

// -----

// Composed from 24 channels, the expand still fuses: the pair composes.
// CHECK-LABEL: nn.graph @still_fusable
// CHECK: %[[E:.*]] = nn.fused_conv2d %arg0, {{.*}} activation = relu6 : tensor<1x24x4x4xf32>, tensor<64x24x1x1xf32>
// CHECK: nn.fused_conv2d %[[E]], {{.*}} groups = 64
nn.graph @still_fusable(%x: tensor<1x24x4x4xf32>) -> tensor<1x64x4x4xf32> {
  %w1 = arith.constant dense<0.1> : tensor<16x24x1x1xf32>
  %b1 = arith.constant dense<0.1> : tensor<16xf32>
  %p = nn.fused_conv2d %x, %w1, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x24x4x4xf32>, tensor<16x24x1x1xf32>, tensor<16xf32> -> tensor<1x16x4x4xf32>
  %w2 = arith.constant dense<0.2> : tensor<64x16x1x1xf32>
  %b2 = arith.constant dense<0.1> : tensor<64xf32>
  %e = nn.fused_conv2d %p, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x16x4x4xf32>, tensor<64x16x1x1xf32>, tensor<64xf32> -> tensor<1x64x4x4xf32>
  %wd = arith.constant dense<0.1> : tensor<64x1x3x3xf32>
  %d = nn.fused_conv2d %e, %wd, %b2 strides = [1, 1] padding = [1, 1, 1, 1] groups = 64 activation = relu6 : tensor<1x64x4x4xf32>, tensor<64x1x3x3xf32>, tensor<64xf32> -> tensor<1x64x4x4xf32>
  nn.output %d : tensor<1x64x4x4xf32>
}

// -----

// An expand that feeds no depthwise convolution has no fusion to keep: the
// pair composes.
// CHECK-LABEL: nn.graph @no_depthwise
// CHECK: %[[E:.*]] = nn.fused_conv2d %arg0, {{.*}} activation = relu6 : tensor<1x40x4x4xf32>, tensor<64x40x1x1xf32>
// CHECK-NEXT: nn.output %[[E]]
nn.graph @no_depthwise(%x: tensor<1x40x4x4xf32>) -> tensor<1x64x4x4xf32> {
  %w1 = arith.constant dense<0.1> : tensor<16x40x1x1xf32>
  %b1 = arith.constant dense<0.1> : tensor<16xf32>
  %p = nn.fused_conv2d %x, %w1, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x40x4x4xf32>, tensor<16x40x1x1xf32>, tensor<16xf32> -> tensor<1x16x4x4xf32>
  %w2 = arith.constant dense<0.2> : tensor<64x16x1x1xf32>
  %b2 = arith.constant dense<0.1> : tensor<64xf32>
  %e = nn.fused_conv2d %p, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x16x4x4xf32>, tensor<64x16x1x1xf32>, tensor<64xf32> -> tensor<1x64x4x4xf32>
  nn.output %e : tensor<1x64x4x4xf32>
}
