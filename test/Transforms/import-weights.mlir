// RUN: %python %S/../Inputs/make_safetensors.py %t.good.safetensors good
// RUN: %python %S/../Inputs/make_safetensors.py %t.trunc.safetensors truncated
// RUN: %python %S/../Inputs/make_safetensors.py %t.bad.safetensors badjson
// RUN: ptxnet-opt %s --pass-pipeline='builtin.module(nn.graph(nn-import-weights{file=%t.good.safetensors}))' 2>&1 | FileCheck %s
// RUN: not ptxnet-opt %s --pass-pipeline='builtin.module(nn.graph(nn-import-weights))' 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not ptxnet-opt %s --pass-pipeline='builtin.module(nn.graph(nn-import-weights{file=%t.missing}))' 2>&1 | FileCheck %s --check-prefix=NOPATH
// RUN: not ptxnet-opt %s --pass-pipeline='builtin.module(nn.graph(nn-import-weights{file=%t.trunc.safetensors}))' 2>&1 | FileCheck %s --check-prefix=TRUNC
// RUN: not ptxnet-opt %s --pass-pipeline='builtin.module(nn.graph(nn-import-weights{file=%t.bad.safetensors}))' 2>&1 | FileCheck %s --check-prefix=BADJSON

// CHECK-LABEL: nn.graph @good
// CHECK-DAG:   arith.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}2.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG:   arith.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK-NOT:   nn.weight
// NOFILE: error: nn-import-weights needs a weights file
// NOPATH: error: cannot open weights file '{{.*}}.missing'
// TRUNC: error: '{{.*}}' is not a valid safetensors file: header size 4096 exceeds the file size
// BADJSON: error: '{{.*}}' is not a valid safetensors file: the header is not a JSON object
nn.graph @good(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.weight "conv.weight" : tensor<2x1x1x1xf32>
  %b = nn.weight "conv.bias" : tensor<2xf32>
  %c = nn.conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32> -> tensor<1x2x2x2xf32>
  nn.output %c : tensor<1x2x2x2xf32>
}

