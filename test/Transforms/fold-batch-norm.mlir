// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fold-batch-norm,canonicalize))' | FileCheck %s

// With constant parameters the fold happens at compile time:
// factor = scale / sqrt(var + eps) = [1 / sqrt(3 + 1), 2 / sqrt(0 + 1)] = [0.5, 2]
// filter' = 2 * factor = [1, 4]; bias' = (0 - mean) * factor + shift = [-0.5 + 0.5, -2 + 0.5]
// CHECK-LABEL: nn.graph @constant_fold
// CHECK-DAG:   %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}4.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG:   %[[B:.*]] = arith.constant dense<[0.000000e+00, -1.500000e+00]> : tensor<2xf32>
// CHECK:       %[[C:.*]] = nn.conv2d %{{.*}}, %[[W]], %[[B]] strides = [1, 1] padding = [0, 0, 0, 0] groups = 1
// CHECK-NOT:   nn.batch_norm
// CHECK:       nn.output %[[C]]
nn.graph @constant_fold(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<2.0> : tensor<2x1x1x1xf32>
  %scale = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %shift = arith.constant dense<[0.5, 0.5]> : tensor<2xf32>
  %mean = arith.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %var = arith.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %c = nn.conv2d %x, %w strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x2x2xf32>
  %y = nn.batch_norm %c, %scale, %shift, %mean, %var epsilon = 1.0 : tensor<1x2x2x2xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  nn.output %y : tensor<1x2x2x2xf32>
}

// -----

// A conv bias is folded too: (b - mean) * factor + shift = (3 - 1) * 0.5 + 0.5.
// CHECK-LABEL: nn.graph @with_bias
// CHECK-DAG: arith.constant dense<1.500000e+00> : tensor<1xf32>
// CHECK-NOT: nn.batch_norm
nn.graph @with_bias(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = arith.constant dense<2.0> : tensor<1x1x1x1xf32>
  %b = arith.constant dense<3.0> : tensor<1xf32>
  %scale = arith.constant dense<1.0> : tensor<1xf32>
  %shift = arith.constant dense<0.5> : tensor<1xf32>
  %mean = arith.constant dense<1.0> : tensor<1xf32>
  %var = arith.constant dense<3.0> : tensor<1xf32>
  %c = nn.conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
  %y = nn.batch_norm %c, %scale, %shift, %mean, %var epsilon = 1.0 : tensor<1x1x2x2xf32>, tensor<1xf32> -> tensor<1x1x2x2xf32>
  nn.output %y : tensor<1x1x2x2xf32>
}

// -----

// Symbolic weights: the fold is expressed as parameter arithmetic on the
// named weights, for a strided depthwise convolution.
// CHECK-LABEL: nn.graph @symbolic_depthwise
// CHECK:      %[[W:.*]] = nn.weight "dw.weight"
// CHECK-DAG:  %[[G:.*]] = nn.weight "bn.weight"
// CHECK-DAG:  %[[V:.*]] = nn.weight "bn.running_var"
// CHECK:      %[[FW:.*]] = nn.bn_fold_filter %[[W]], %[[G]], %[[V]] epsilon = 1.000000e-05
// CHECK:      %[[FB:.*]] = nn.bn_fold_bias %[[G]], %{{.*}}, %{{.*}}, %[[V]] epsilon = 1.000000e-05
// CHECK:      nn.conv2d %{{.*}}, %[[FW]], %[[FB]] strides = [2, 2] padding = [1, 1, 1, 1] groups = 4
// CHECK-NOT:  nn.batch_norm
nn.graph @symbolic_depthwise(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %w = nn.weight "dw.weight" : tensor<4x1x3x3xf32>
  %g = nn.weight "bn.weight" : tensor<4xf32>
  %b = nn.weight "bn.bias" : tensor<4xf32>
  %m = nn.weight "bn.running_mean" : tensor<4xf32>
  %v = nn.weight "bn.running_var" : tensor<4xf32>
  %c = nn.conv2d %x, %w strides = [2, 2] padding = [1, 1, 1, 1] groups = 4 : tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<1x4x4x4xf32>
  %y = nn.batch_norm %c, %g, %b, %m, %v epsilon = 1.0e-05 : tensor<1x4x4x4xf32>, tensor<4xf32> -> tensor<1x4x4x4xf32>
  nn.output %y : tensor<1x4x4x4xf32>
}

// -----

// Negative: the convolution has another use, so BN must stay.
// CHECK-LABEL: nn.graph @conv_other_use
// CHECK:       %[[C:.*]] = nn.conv2d
// CHECK:       %[[N:.*]] = nn.batch_norm %[[C]]
// CHECK-NOT:   nn.bn_fold_filter
// CHECK:       nn.add %[[N]], %[[C]]
nn.graph @conv_other_use(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.weight "w" : tensor<2x2x1x1xf32>
  %p = nn.weight "p" : tensor<2xf32>
  %c = nn.conv2d %x, %w strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x2x2xf32>
  %y = nn.batch_norm %c, %p, %p, %p, %p epsilon = 1.0e-05 : tensor<1x2x2x2xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  %s = nn.add %y, %c : tensor<1x2x2x2xf32>
  nn.output %s : tensor<1x2x2x2xf32>
}

// -----

// Negative: BatchNorm after something that is not a convolution is left as is.
// CHECK-LABEL: nn.graph @bn_after_relu
// CHECK: nn.relu
// CHECK: nn.batch_norm
nn.graph @bn_after_relu(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %p = nn.weight "p" : tensor<2xf32>
  %r = nn.relu %x : tensor<1x2x2x2xf32>
  %y = nn.batch_norm %r, %p, %p, %p, %p epsilon = 1.0e-05 : tensor<1x2x2x2xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  nn.output %y : tensor<1x2x2x2xf32>
}
