// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-pool-into-conv))' | FileCheck %s

// The head: 1x1 conv + ReLU feeding a pooled linear layer.
// CHECK-LABEL: nn.graph @head
// CHECK:       %[[P:.*]] = nn.fused_conv2d %{{.*}}, %{{.*}}, %{{.*}} strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<2x8x4x4xf32>, tensor<16x8x1x1xf32>, tensor<16xf32> -> tensor<2x16x1x1xf32>
// CHECK:       nn.fused_linear %[[P]], %{{.*}}, %{{.*}} prologue = flatten activation = none : tensor<2x16x1x1xf32>
nn.graph @head(%x: tensor<2x8x4x4xf32>) -> tensor<2x5xf32> {
  %w = nn.weight "w" : tensor<16x8x1x1xf32>
  %b = nn.weight "b" : tensor<16xf32>
  %c = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu : tensor<2x8x4x4xf32>, tensor<16x8x1x1xf32>, tensor<16xf32> -> tensor<2x16x4x4xf32>
  %lw = nn.weight "lw" : tensor<5x16xf32>
  %lb = nn.weight "lb" : tensor<5xf32>
  %l = nn.fused_linear %c, %lw, %lb prologue = global_avg_pool activation = none : tensor<2x16x4x4xf32>, tensor<5x16xf32>, tensor<5xf32> -> tensor<2x5xf32>
  nn.output %l : tensor<2x5xf32>
}

// -----

// Negative: a 3x3 convolution has no reducing epilogue; nothing changes.
// CHECK-LABEL: nn.graph @not_pointwise
// CHECK-NOT:   pooled
// CHECK:       prologue = global_avg_pool
nn.graph @not_pointwise(%x: tensor<2x8x4x4xf32>) -> tensor<2x5xf32> {
  %w = nn.weight "w" : tensor<16x8x3x3xf32>
  %b = nn.weight "b" : tensor<16xf32>
  %c = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 1 activation = relu : tensor<2x8x4x4xf32>, tensor<16x8x3x3xf32>, tensor<16xf32> -> tensor<2x16x4x4xf32>
  %lw = nn.weight "lw" : tensor<5x16xf32>
  %lb = nn.weight "lb" : tensor<5xf32>
  %l = nn.fused_linear %c, %lw, %lb prologue = global_avg_pool activation = none : tensor<2x16x4x4xf32>, tensor<5x16xf32>, tensor<5xf32> -> tensor<2x5xf32>
  nn.output %l : tensor<2x5xf32>
}

// -----

// Negative: the conv's full map has another user, so it must still exist.
// CHECK-LABEL: nn.graph @other_use
// CHECK-NOT:   pooled
// CHECK:       prologue = global_avg_pool
// CHECK:       nn.fused_linear {{.*}} prologue = flatten
nn.graph @other_use(%x: tensor<2x8x4x4xf32>) -> tensor<2x5xf32> {
  %w = nn.weight "w" : tensor<16x8x1x1xf32>
  %b = nn.weight "b" : tensor<16xf32>
  %c = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu : tensor<2x8x4x4xf32>, tensor<16x8x1x1xf32>, tensor<16xf32> -> tensor<2x16x4x4xf32>
  %lw = nn.weight "lw" : tensor<5x16xf32>
  %lw2 = nn.weight "lw2" : tensor<5x256xf32>
  %lb = nn.weight "lb" : tensor<5xf32>
  %l = nn.fused_linear %c, %lw, %lb prologue = global_avg_pool activation = none : tensor<2x16x4x4xf32>, tensor<5x16xf32>, tensor<5xf32> -> tensor<2x5xf32>
  %l2 = nn.fused_linear %c, %lw2, %lb prologue = flatten activation = none : tensor<2x16x4x4xf32>, tensor<5x256xf32>, tensor<5xf32> -> tensor<2x5xf32>
  %s = nn.add %l, %l2 : tensor<2x5xf32>
  nn.output %s : tensor<2x5xf32>
}
