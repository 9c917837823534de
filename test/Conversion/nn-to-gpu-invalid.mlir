// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu -verify-diagnostics
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=fp8 2>&1 | FileCheck %s --check-prefix=PRECISION
// PRECISION: error: unknown precision 'fp8': expected fp32, tf32, f16 or bf16
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu=depthwise-column-rows=-3 2>&1 | FileCheck %s --check-prefix=COLUMNS
// COLUMNS: error: depthwise-column-rows must be -1 (by shape), 0 (never) or positive, got -3

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

// -----

// A whole MBConv block has a kernel on tensor cores only (f16, bf16): in
// fp32 (the default precision here) it is an error, not a silent fallback.
nn.graph @mbconv_fp32(%x: tensor<1x16x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %we = arith.constant dense<0.05> : tensor<32x16x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<32xf32>
  %wd = arith.constant dense<0.1> : tensor<32x1x3x3xf32>
  %wp = arith.constant dense<0.03> : tensor<8x32x1x1xf32>
  %bp = arith.constant dense<0.01> : tensor<8xf32>
  // expected-error @+1 {{'nn.fused_mbconv' op has no GPU kernel here: it needs f16 or bf16 precision, a 3x3 depthwise of stride 1 or 2, multiples of 8 input and hidden channels and at most 64 outputs}}
  %y = nn.fused_mbconv %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6, %wp, %bp project_activation = none : tensor<1x16x8x8xf32>, tensor<32x16x1x1xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>, tensor<8x32x1x1xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  nn.output %y : tensor<1x8x8x8xf32>
}

// -----

// The CUDA-core linear kernel stages a row of K floats in 48 KB of shared
// memory (fp32 here; f16 and bf16 take the fragment kernel, which has no
// such bound: nn-to-gpu-linear-fragments.mlir).
nn.graph @wide_linear(%x: tensor<2x12800xf32>) -> tensor<2x10xf32> {
  %w = arith.constant dense<0.01> : tensor<10x12800xf32>
  %b = arith.constant dense<0.1> : tensor<10xf32>
  // expected-error @+1 {{'nn.fused_linear' op input rows of 12800 features exceed the 48 KB shared-memory stage}}
  %y = nn.fused_linear %x, %w, %b prologue = flatten activation = none : tensor<2x12800xf32>, tensor<10x12800xf32>, tensor<10xf32> -> tensor<2x10xf32>
  nn.output %y : tensor<2x10xf32>
}
