// RUN: %python %S/../Inputs/make_safetensors.py %t.safetensors good
// RUN: ptxnet-opt %s --split-input-file -verify-diagnostics --pass-pipeline='builtin.module(nn.graph(nn-import-weights{file=%t.safetensors}))'

nn.graph @missing(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'nn.weight' op weight 'fc.bias' is missing from}}
  %w = nn.weight "fc.bias" : tensor<2xf32>
  nn.output %w : tensor<2xf32>
}

// -----

nn.graph @misshaped(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'nn.weight' op weight 'conv.weight' has shape [2, 1, 1, 1], the graph expects [2, 1, 3, 3]}}
  %w = nn.weight "conv.weight" : tensor<2x1x3x3xf32>
  nn.output %x : tensor<2xf32>
}

// -----

nn.graph @wrong_dtype(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'nn.weight' op weight 'f64' has dtype F64, expected F32}}
  %w = nn.weight "f64" : tensor<2xf32>
  nn.output %w : tensor<2xf32>
}
