// RUN: ptxnet-opt %s --pass-pipeline='builtin.module(nn.graph(nn-set-batch{batch=64}))' | FileCheck %s
// RUN: not ptxnet-opt %s --pass-pipeline='builtin.module(nn.graph(nn-set-batch{batch=0}))' 2>&1 | FileCheck %s --check-prefix=ZERO

// CHECK-LABEL: nn.graph @g(%{{.*}}: tensor<64x3x8x8xf32>) -> tensor<64x5xf32>
// CHECK:       nn.weight "w" : tensor<4x3x3x3xf32>
// CHECK:       nn.conv2d {{.*}} -> tensor<64x4x4x4xf32>
// CHECK:       nn.global_avg_pool {{.*}} : tensor<64x4x4x4xf32> -> tensor<64x4x1x1xf32>
// CHECK:       nn.flatten {{.*}} -> tensor<64x4xf32>
// CHECK:       nn.linear {{.*}} : tensor<64x4xf32>, tensor<5x4xf32> -> tensor<64x5xf32>
// CHECK:       nn.output %{{.*}} : tensor<64x5xf32>
// ZERO: error: nn-set-batch needs a positive batch, got 0
nn.graph @g(%x: tensor<10x3x8x8xf32>) -> tensor<10x5xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  %c = nn.conv2d %x, %w strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 : tensor<10x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<10x4x4x4xf32>
  %p = nn.global_avg_pool %c : tensor<10x4x4x4xf32> -> tensor<10x4x1x1xf32>
  %f = nn.flatten %p : tensor<10x4x1x1xf32> -> tensor<10x4xf32>
  %lw = nn.weight "fc" : tensor<5x4xf32>
  %l = nn.linear %f, %lw : tensor<10x4xf32>, tensor<5x4xf32> -> tensor<10x5xf32>
  nn.output %l : tensor<10x5xf32>
}
