// RUN: ptxnet-opt %s --pass-pipeline='builtin.module(nn.graph(nn-compose-pointwise{keep-fusable-expands=-1}))' -verify-diagnostics

// expected-error @+1 {{nn-compose-pointwise: keep-fusable-expands must not be negative, got -1}}
nn.graph @g(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  nn.output %x : tensor<1x2x2x2xf32>
}
