// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-compose-pointwise))' | FileCheck %s
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-compose-pointwise{max-added-gflop=0}))' | FileCheck %s --check-prefix=NOADD

// A project (1x1, no activation) into the next expand (1x1 + ReLU6):
// W = W2 W1 = [[6, 8], [11, 14]], b = W2 b1 + b2 = [0.5, -1.5]. The composed
// product costs 2x2 multiply-adds per pixel against 3x(2+2): it saves work,
// so it applies even where no work may be added.
// CHECK-LABEL: nn.graph @project_expand
// CHECK-DAG:   %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}6.000000e+00]], {{\[\[}}8.000000e+00]]], {{\[\[\[}}1.100000e+01]], {{\[\[}}1.400000e+01]]]]> : tensor<2x2x1x1xf32>
// CHECK-DAG:   %[[B:.*]] = arith.constant dense<[5.000000e-01, -1.500000e+00]> : tensor<2xf32>
// CHECK:       %[[Y:.*]] = nn.fused_conv2d %arg0, %[[W]], %[[B]] strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
// CHECK-NEXT:  nn.output %[[Y]]
// NOADD-LABEL: nn.graph @project_expand
// NOADD:       nn.fused_conv2d %arg0
// NOADD-NEXT:  nn.output
nn.graph @project_expand(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w1 = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]]]> : tensor<3x2x1x1xf32>
  %b1 = arith.constant dense<[1.0, 0.0, -1.0]> : tensor<3xf32>
  %w2 = arith.constant dense<[[[[1.0]], [[0.0]], [[1.0]]], [[[0.0]], [[2.0]], [[1.0]]]]> : tensor<2x3x1x1xf32>
  %b2 = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %p = nn.fused_conv2d %x, %w1, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x2x2x2xf32>, tensor<3x2x1x1xf32>, tensor<3xf32> -> tensor<1x3x2x2xf32>
  %e = nn.fused_conv2d %p, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x3x2x2xf32>, tensor<2x3x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  nn.output %e : tensor<1x2x2x2xf32>
}

// -----

// Three linear 1x1 convolutions in a row compose into one (x -> 2x, then +1,
// then x3: 6x + 3).
// CHECK-LABEL: nn.graph @chain
// CHECK-DAG:   %[[W:.*]] = arith.constant dense<6.000000e+00> : tensor<1x1x1x1xf32>
// CHECK-DAG:   %[[B:.*]] = arith.constant dense<3.000000e+00> : tensor<1xf32>
// CHECK:       nn.fused_conv2d %arg0, %[[W]], %[[B]] {{.*}} activation = relu
// CHECK-NOT:   nn.fused_conv2d
nn.graph @chain(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %two = arith.constant dense<2.0> : tensor<1x1x1x1xf32>
  %three = arith.constant dense<3.0> : tensor<1x1x1x1xf32>
  %one = arith.constant dense<1.0> : tensor<1x1x1x1xf32>
  %zero = arith.constant dense<0.0> : tensor<1xf32>
  %b1 = arith.constant dense<1.0> : tensor<1xf32>
  %a = nn.fused_conv2d %x, %two, %zero strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
  %b = nn.fused_conv2d %a, %one, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
  %c = nn.fused_conv2d %b, %three, %zero strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
  nn.output %c : tensor<1x1x2x2xf32>
}

// -----

// A 4 -> 1 -> 4 bottleneck: composed, 16 multiply-adds per pixel instead of
// 1 x (4 + 4), 2 x 4 pixels x 8 = 64 FLOP added (6.4e-8 GFLOP). The default
// bound allows that; max-added-gflop=0 keeps the pair apart.
// CHECK-LABEL: nn.graph @bottleneck
// CHECK:       nn.fused_conv2d %arg0, {{.*}} : tensor<1x4x2x2xf32>, tensor<4x4x1x1xf32>
// CHECK-NOT:   nn.fused_conv2d
// NOADD-LABEL: nn.graph @bottleneck
// NOADD-COUNT-2: nn.fused_conv2d
nn.graph @bottleneck(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %w1 = arith.constant dense<1.0> : tensor<1x4x1x1xf32>
  %b1 = arith.constant dense<0.0> : tensor<1xf32>
  %w2 = arith.constant dense<2.0> : tensor<4x1x1x1xf32>
  %b2 = arith.constant dense<0.0> : tensor<4xf32>
  %p = nn.fused_conv2d %x, %w1, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
  %e = nn.fused_conv2d %p, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32>, tensor<4xf32> -> tensor<1x4x2x2xf32>
  nn.output %e : tensor<1x4x2x2xf32>
}

// -----

// Negative: an activation between the two does not distribute over W2.
// CHECK-LABEL: nn.graph @activation_between
// CHECK-COUNT-2: nn.fused_conv2d
nn.graph @activation_between(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %p = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %e = nn.fused_conv2d %p, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  nn.output %e : tensor<1x2x2x2xf32>
}

// -----

// Negative: the inner result has another user, so it must still be computed.
// CHECK-LABEL: nn.graph @other_use
// CHECK-COUNT-2: nn.fused_conv2d
// CHECK:       nn.add
nn.graph @other_use(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %p = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %e = nn.fused_conv2d %p, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %s = nn.add %p, %e : tensor<1x2x2x2xf32>
  nn.output %s : tensor<1x2x2x2xf32>
}

// -----

// Negative: weights that are not constants yet (no nn-import-weights).
// CHECK-LABEL: nn.graph @not_constant
// CHECK-COUNT-2: nn.fused_conv2d
nn.graph @not_constant(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.weight "w" : tensor<2x2x1x1xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %p = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %e = nn.fused_conv2d %p, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  nn.output %e : tensor<1x2x2x2xf32>
}

// -----

// Negative: a 3x3 (or strided, or depthwise) convolution is no matrix product
// per pixel.
// CHECK-LABEL: nn.graph @not_pointwise
// CHECK-COUNT-2: nn.fused_conv2d
nn.graph @not_pointwise(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w3 = arith.constant dense<1.0> : tensor<2x2x3x3xf32>
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %p = nn.fused_conv2d %x, %w3, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 1 activation = none : tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>, tensor<2xf32> -> tensor<1x2x4x4xf32>
  %e = nn.fused_conv2d %p, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x4x4xf32>
  nn.output %e : tensor<1x2x4x4xf32>
}

// -----

// Into a pooled 1x1 convolution (the head after nn-fuse-pool-into-conv): the
// pool follows the activation, the product before it composes.
// CHECK-LABEL: nn.graph @into_pooled
// CHECK:       nn.fused_conv2d %arg0, {{.*}} activation = relu pooled : tensor<2x4x3x3xf32>, tensor<6x4x1x1xf32>, tensor<6xf32> -> tensor<2x6x1x1xf32>
// CHECK-NOT:   nn.fused_conv2d
nn.graph @into_pooled(%x: tensor<2x4x3x3xf32>) -> tensor<2x6x1x1xf32> {
  %w1 = arith.constant dense<0.5> : tensor<2x4x1x1xf32>
  %b1 = arith.constant dense<1.0> : tensor<2xf32>
  %w2 = arith.constant dense<-1.0> : tensor<6x2x1x1xf32>
  %b2 = arith.constant dense<0.25> : tensor<6xf32>
  %p = nn.fused_conv2d %x, %w1, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<2x4x3x3xf32>, tensor<2x4x1x1xf32>, tensor<2xf32> -> tensor<2x2x3x3xf32>
  %h = nn.fused_conv2d %p, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<2x2x3x3xf32>, tensor<6x2x1x1xf32>, tensor<6xf32> -> tensor<2x6x1x1xf32>
  nn.output %h : tensor<2x6x1x1xf32>
}
