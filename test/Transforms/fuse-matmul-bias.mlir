// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-matmul-bias))' | FileCheck %s

// pool + flatten + linear: the pool becomes the matmul's prologue.
// CHECK-LABEL: nn.graph @pool_flatten_linear
// CHECK-SAME:  (%[[X:.*]]: tensor<2x8x4x4xf32>)
// CHECK:       %[[L:.*]] = nn.fused_linear %[[X]], %{{.*}}, %{{.*}} prologue = global_avg_pool activation = none : tensor<2x8x4x4xf32>, tensor<5x8xf32>, tensor<5xf32> -> tensor<2x5xf32>
// CHECK-NOT:   nn.global_avg_pool
// CHECK-NOT:   nn.flatten
// CHECK:       nn.output %[[L]]
nn.graph @pool_flatten_linear(%x: tensor<2x8x4x4xf32>) -> tensor<2x5xf32> {
  %w = nn.weight "fc.weight" : tensor<5x8xf32>
  %b = nn.weight "fc.bias" : tensor<5xf32>
  %p = nn.global_avg_pool %x : tensor<2x8x4x4xf32> -> tensor<2x8x1x1xf32>
  %f = nn.flatten %p : tensor<2x8x1x1xf32> -> tensor<2x8xf32>
  %l = nn.linear %f, %w, %b : tensor<2x8xf32>, tensor<5x8xf32>, tensor<5xf32> -> tensor<2x5xf32>
  nn.output %l : tensor<2x5xf32>
}

// -----

// flatten + linear without bias, then ReLU: a flatten prologue, a zero bias and
// a relu epilogue.
// CHECK-LABEL: nn.graph @flatten_linear_relu
// CHECK:       %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<5xf32>
// CHECK:       nn.fused_linear %{{.*}}, %{{.*}}, %[[Z]] prologue = flatten activation = relu : tensor<2x2x2x2xf32>
// CHECK-NOT:   nn.flatten
// CHECK-NOT:   nn.relu
nn.graph @flatten_linear_relu(%x: tensor<2x2x2x2xf32>) -> tensor<2x5xf32> {
  %w = nn.weight "fc.weight" : tensor<5x8xf32>
  %f = nn.flatten %x : tensor<2x2x2x2xf32> -> tensor<2x8xf32>
  %l = nn.linear %f, %w : tensor<2x8xf32>, tensor<5x8xf32> -> tensor<2x5xf32>
  %r = nn.relu %l : tensor<2x5xf32>
  nn.output %r : tensor<2x5xf32>
}

// -----

// Negative: the pooled tensor has another use, so only the flatten is absorbed
// and the pool stays for its other user.
// CHECK-LABEL: nn.graph @pool_other_use
// CHECK:       %[[P:.*]] = nn.global_avg_pool
// CHECK:       nn.fused_linear %[[P]], %{{.*}}, %{{.*}} prologue = flatten
// CHECK:       nn.fused_linear %[[P]], %{{.*}}, %{{.*}} prologue = flatten
nn.graph @pool_other_use(%x: tensor<2x8x4x4xf32>) -> tensor<2x5xf32> {
  %w = nn.weight "fc.weight" : tensor<5x8xf32>
  %b = nn.weight "fc.bias" : tensor<5xf32>
  %p = nn.global_avg_pool %x : tensor<2x8x4x4xf32> -> tensor<2x8x1x1xf32>
  %f = nn.flatten %p : tensor<2x8x1x1xf32> -> tensor<2x8xf32>
  %l = nn.linear %f, %w, %b : tensor<2x8xf32>, tensor<5x8xf32>, tensor<5xf32> -> tensor<2x5xf32>
  %f2 = nn.flatten %p : tensor<2x8x1x1xf32> -> tensor<2x8xf32>
  %l2 = nn.linear %f2, %w, %b : tensor<2x8xf32>, tensor<5x8xf32>, tensor<5xf32> -> tensor<2x5xf32>
  %s = nn.add %l, %l2 : tensor<2x5xf32>
  nn.output %s : tensor<2x5xf32>
}

// -----

// Negative: the flattened tensor has another use: the linear reads it as is.
// CHECK-LABEL: nn.graph @flatten_other_use
// CHECK:       nn.global_avg_pool
// CHECK:       %[[F:.*]] = nn.flatten
// CHECK:       nn.fused_linear %[[F]], %{{.*}}, %{{.*}} prologue = flatten
// CHECK:       %[[R:.*]] = nn.relu %[[F]]
// CHECK:       nn.fused_linear %[[R]], %{{.*}}, %{{.*}} prologue = flatten
nn.graph @flatten_other_use(%x: tensor<2x8x4x4xf32>) -> tensor<2x5xf32> {
  %w = nn.weight "fc.weight" : tensor<5x8xf32>
  %b = nn.weight "fc.bias" : tensor<5xf32>
  %p = nn.global_avg_pool %x : tensor<2x8x4x4xf32> -> tensor<2x8x1x1xf32>
  %f = nn.flatten %p : tensor<2x8x1x1xf32> -> tensor<2x8xf32>
  %l = nn.linear %f, %w, %b : tensor<2x8xf32>, tensor<5x8xf32>, tensor<5xf32> -> tensor<2x5xf32>
  %r = nn.relu %f : tensor<2x8xf32>
  %l2 = nn.linear %r, %w, %b : tensor<2x8xf32>, tensor<5x8xf32>, tensor<5xf32> -> tensor<2x5xf32>
  %s = nn.add %l, %l2 : tensor<2x5xf32>
  nn.output %s : tensor<2x5xf32>
}
