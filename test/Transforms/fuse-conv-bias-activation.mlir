// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-conv-bias-activation))' | FileCheck %s

// conv + ReLU6 with a bias: one fused op.
// CHECK-LABEL: nn.graph @relu6
// CHECK:       %[[F:.*]] = nn.fused_conv2d %{{.*}}, %{{.*}}, %{{.*}} strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6
// CHECK-NOT:   nn.relu6
// CHECK:       nn.output %[[F]]
nn.graph @relu6(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %w = nn.weight "w" : tensor<8x4x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %c = nn.conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  %r = nn.relu6 %c : tensor<1x8x8x8xf32>
  nn.output %r : tensor<1x8x8x8xf32>
}

// -----

// No bias: a zero bias constant is made; ReLU is absorbed.
// CHECK-LABEL: nn.graph @relu_no_bias
// CHECK:       %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<8xf32>
// CHECK:       nn.fused_conv2d %{{.*}}, %{{.*}}, %[[Z]] strides = [2, 2] padding = [1, 1, 1, 1] groups = 4 activation = relu
// CHECK-NOT:   nn.relu
nn.graph @relu_no_bias(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x4x4xf32> {
  %w = nn.weight "w" : tensor<8x1x3x3xf32>
  %c = nn.conv2d %x, %w strides = [2, 2] padding = [1, 1, 1, 1] groups = 4 : tensor<1x4x8x8xf32>, tensor<8x1x3x3xf32> -> tensor<1x8x4x4xf32>
  %r = nn.relu %c : tensor<1x8x4x4xf32>
  nn.output %r : tensor<1x8x4x4xf32>
}

// -----

// A projection conv with no activation still becomes a fused op (bias only).
// CHECK-LABEL: nn.graph @projection
// CHECK: nn.fused_conv2d {{.*}} activation = none
nn.graph @projection(%x: tensor<1x4x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %w = nn.weight "w" : tensor<2x4x1x1xf32>
  %b = nn.weight "b" : tensor<2xf32>
  %c = nn.conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x4x8x8xf32>, tensor<2x4x1x1xf32>, tensor<2xf32> -> tensor<1x2x8x8xf32>
  nn.output %c : tensor<1x2x8x8xf32>
}

// -----

// Negative: ReLU6 after a non-conv op stays.
// CHECK-LABEL: nn.graph @relu6_after_pool
// CHECK: nn.global_avg_pool
// CHECK: nn.relu6
nn.graph @relu6_after_pool(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32> {
  %p = nn.global_avg_pool %x : tensor<1x4x8x8xf32> -> tensor<1x4x1x1xf32>
  %r = nn.relu6 %p : tensor<1x4x1x1xf32>
  nn.output %r : tensor<1x4x1x1xf32>
}

// -----

// Negative: the conv result has another use, so the activation is not absorbed
// (the other user needs the pre-activation value).
// CHECK-LABEL: nn.graph @conv_two_uses
// CHECK:       %[[F:.*]] = nn.fused_conv2d {{.*}} activation = none
// CHECK:       %[[R:.*]] = nn.relu %[[F]]
// CHECK:       nn.add %[[R]], %[[F]]
nn.graph @conv_two_uses(%x: tensor<1x4x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.weight "w" : tensor<2x4x1x1xf32>
  %b = nn.weight "b" : tensor<2xf32>
  %c = nn.conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x4x2x2xf32>, tensor<2x4x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %r = nn.relu %c : tensor<1x2x2x2xf32>
  %s = nn.add %r, %c : tensor<1x2x2x2xf32>
  nn.output %s : tensor<1x2x2x2xf32>
}

// -----

// Negative: two activations in a row: the first is absorbed, the second stays.
// CHECK-LABEL: nn.graph @double_activation
// CHECK: nn.fused_conv2d {{.*}} activation = relu
// CHECK: nn.relu6
nn.graph @double_activation(%x: tensor<1x4x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.weight "w" : tensor<2x4x1x1xf32>
  %c = nn.conv2d %x, %w strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x4x2x2xf32>, tensor<2x4x1x1xf32> -> tensor<1x2x2x2xf32>
  %r = nn.relu %c : tensor<1x2x2x2xf32>
  %r6 = nn.relu6 %r : tensor<1x2x2x2xf32>
  nn.output %r6 : tensor<1x2x2x2xf32>
}
