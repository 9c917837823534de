// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu -verify-diagnostics
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=fp8 2>&1 | FileCheck %s --check-prefix=PRECISION
// PRECISION: error: unknown precision 'fp8': expected fp32, tf32, f16 or bf16

nn.graph @symbolic(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  // expected-error @+1 {{'nn.weight' op must be a constant before GPU lowering: run nn-import-weights (ptxnet-compile --weights) first}}
  %w = nn.weight "w" : tensor<2x2x1x1xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %c = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  nn.output %c : tensor<1x2x2x2xf32>
}

// -----

nn.graph @unfused(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  // expected-error @+1 {{'nn.conv2d' op cannot be lowered to GPU kernels: run the fusion pipeline (nn-fusion-pipeline) first}}
  %c = nn.conv2d %x, %w strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32> -> tensor<1x2x2x2xf32>
  nn.output %c : tensor<1x2x2x2xf32>
}

// -----

// expected-error @+1 {{'nn.graph' op output must be computed from the input}}
nn.graph @passthrough(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  nn.output %x : tensor<1x2xf32>
}

// -----

// expected-error @+1 {{convert-nn-to-gpu expects exactly one nn.graph, found 2}}
module {
  nn.graph @a(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
    nn.output %x : tensor<1x2xf32>
  }
  nn.graph @b(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
    nn.output %x : tensor<1x2xf32>
  }
}
