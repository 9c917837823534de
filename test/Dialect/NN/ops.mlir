// RUN: ptxnet-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same thing.
// RUN: ptxnet-opt %s | ptxnet-opt | FileCheck %s
// RUN: ptxnet-opt %s -mlir-print-op-generic | ptxnet-opt | FileCheck %s

// CHECK-LABEL: nn.graph @all_ops(
// CHECK-SAME:    %[[X:.*]]: tensor<2x8x9x9xf32>) -> tensor<2x10xf32>
nn.graph @all_ops(%x: tensor<2x8x9x9xf32>) -> tensor<2x10xf32> {
  // CHECK: %[[W:.*]] = nn.weight "conv.weight" : tensor<16x8x3x3xf32>
  %w = nn.weight "conv.weight" : tensor<16x8x3x3xf32>
  // CHECK: %[[B:.*]] = nn.weight "conv.bias" : tensor<16xf32>
  %b = nn.weight "conv.bias" : tensor<16xf32>
  // CHECK: %[[C:.*]] = nn.conv2d %[[X]], %[[W]], %[[B]] strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 : tensor<2x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32> -> tensor<2x16x5x5xf32>
  %c = nn.conv2d %x, %w, %b strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 : tensor<2x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32> -> tensor<2x16x5x5xf32>
  %g = nn.weight "bn.weight" : tensor<16xf32>
  %s = nn.weight "bn.bias" : tensor<16xf32>
  %m = nn.weight "bn.running_mean" : tensor<16xf32>
  %v = nn.weight "bn.running_var" : tensor<16xf32>
  // CHECK: nn.batch_norm %[[C]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} epsilon = 1.000000e-05 : tensor<2x16x5x5xf32>, tensor<16xf32> -> tensor<2x16x5x5xf32>
  %n = nn.batch_norm %c, %g, %s, %m, %v epsilon = 1.0e-05 : tensor<2x16x5x5xf32>, tensor<16xf32> -> tensor<2x16x5x5xf32>
  // CHECK: nn.relu %{{.*}} : tensor<2x16x5x5xf32>
  %r = nn.relu %n : tensor<2x16x5x5xf32>
  // CHECK: nn.relu6 %{{.*}} : tensor<2x16x5x5xf32>
  %r6 = nn.relu6 %r : tensor<2x16x5x5xf32>
  // Depthwise, asymmetric padding, no bias.
  %dw = nn.weight "dw.weight" : tensor<16x1x3x3xf32>
  // CHECK: nn.conv2d %{{.*}}, %{{.*}} strides = [1, 1] padding = [0, 0, 1, 1] groups = 16 : tensor<2x16x5x5xf32>, tensor<16x1x3x3xf32> -> tensor<2x16x4x4xf32>
  %d = nn.conv2d %r6, %dw strides = [1, 1] padding = [0, 0, 1, 1] groups = 16 : tensor<2x16x5x5xf32>, tensor<16x1x3x3xf32> -> tensor<2x16x4x4xf32>
  // CHECK: nn.fused_conv2d %{{.*}}, %{{.*}}, %{{.*}} strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x16x4x4xf32>, tensor<12x16x1x1xf32>, tensor<12xf32> -> tensor<2x12x4x4xf32>
  %pw = nn.weight "pw.weight" : tensor<12x16x1x1xf32>
  %pb = nn.weight "pw.bias" : tensor<12xf32>
  %f = nn.fused_conv2d %d, %pw, %pb strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x16x4x4xf32>, tensor<12x16x1x1xf32>, tensor<12xf32> -> tensor<2x12x4x4xf32>
  // CHECK: nn.fused_conv2d %{{.*}}, %{{.*}}, %{{.*}} strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 pooled : tensor<2x16x4x4xf32>, tensor<12x16x1x1xf32>, tensor<12xf32> -> tensor<2x12x1x1xf32>
  %fp = nn.fused_conv2d %d, %pw, %pb strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 pooled : tensor<2x16x4x4xf32>, tensor<12x16x1x1xf32>, tensor<12xf32> -> tensor<2x12x1x1xf32>
  // CHECK: nn.fused_expand_depthwise %{{.*}}, %{{.*}}, %{{.*}} expand_activation = relu6, %{{.*}}, %{{.*}} strides = [1, 1] padding = [1, 1, 1, 1] activation = none : tensor<2x16x4x4xf32>, tensor<12x16x1x1xf32>, tensor<12x1x3x3xf32>, tensor<12xf32> -> tensor<2x12x4x4xf32>
  %dw12 = nn.weight "dw12.weight" : tensor<12x1x3x3xf32>
  %fed = nn.fused_expand_depthwise %d, %pw, %pb expand_activation = relu6, %dw12, %pb strides = [1, 1] padding = [1, 1, 1, 1] activation = none : tensor<2x16x4x4xf32>, tensor<12x16x1x1xf32>, tensor<12x1x3x3xf32>, tensor<12xf32> -> tensor<2x12x4x4xf32>
  // CHECK: nn.fused_mbconv %{{.*}}, %{{.*}}, %{{.*}} expand_activation = relu6, %{{.*}}, %{{.*}} strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6, %{{.*}}, %{{.*}} project_activation = none : tensor<2x16x4x4xf32>, tensor<12x16x1x1xf32>, tensor<12x1x3x3xf32>, tensor<12xf32>, tensor<5x12x1x1xf32>, tensor<5xf32> -> tensor<2x5x2x2xf32>
  %prw = nn.weight "pr.weight" : tensor<5x12x1x1xf32>
  %prb = nn.weight "pr.bias" : tensor<5xf32>
  %mb = nn.fused_mbconv %d, %pw, %pb expand_activation = relu6, %dw12, %pb strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6, %prw, %prb project_activation = none : tensor<2x16x4x4xf32>, tensor<12x16x1x1xf32>, tensor<12x1x3x3xf32>, tensor<12xf32>, tensor<5x12x1x1xf32>, tensor<5xf32> -> tensor<2x5x2x2xf32>
  // CHECK: nn.global_avg_pool %{{.*}} : tensor<2x12x4x4xf32> -> tensor<2x12x1x1xf32>
  %p = nn.global_avg_pool %f : tensor<2x12x4x4xf32> -> tensor<2x12x1x1xf32>
  // CHECK: nn.flatten %{{.*}} : tensor<2x12x1x1xf32> -> tensor<2x12xf32>
  %fl = nn.flatten %p : tensor<2x12x1x1xf32> -> tensor<2x12xf32>
  %lw = nn.weight "fc.weight" : tensor<10x12xf32>
  %lb = nn.weight "fc.bias" : tensor<10xf32>
  // CHECK: %[[L:.*]] = nn.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x12xf32>, tensor<10x12xf32>, tensor<10xf32> -> tensor<2x10xf32>
  %l = nn.linear %fl, %lw, %lb : tensor<2x12xf32>, tensor<10x12xf32>, tensor<10xf32> -> tensor<2x10xf32>
  // CHECK: nn.linear %{{.*}}, %{{.*}} : tensor<2x12xf32>, tensor<10x12xf32> -> tensor<2x10xf32>
  %l2 = nn.linear %fl, %lw : tensor<2x12xf32>, tensor<10x12xf32> -> tensor<2x10xf32>
  // CHECK: nn.fused_linear %{{.*}}, %{{.*}}, %{{.*}} prologue = global_avg_pool activation = relu : tensor<2x12x4x4xf32>, tensor<10x12xf32>, tensor<10xf32> -> tensor<2x10xf32>
  %fl2 = nn.fused_linear %f, %lw, %lb prologue = global_avg_pool activation = relu : tensor<2x12x4x4xf32>, tensor<10x12xf32>, tensor<10xf32> -> tensor<2x10xf32>
  // CHECK: nn.fused_linear %{{.*}}, %{{.*}}, %{{.*}} prologue = flatten activation = none : tensor<2x12x1x1xf32>, tensor<10x12xf32>, tensor<10xf32> -> tensor<2x10xf32>
  %fl3 = nn.fused_linear %p, %lw, %lb prologue = flatten activation = none : tensor<2x12x1x1xf32>, tensor<10x12xf32>, tensor<10xf32> -> tensor<2x10xf32>
  // CHECK: nn.bn_fold_filter %[[W]], %{{.*}}, %{{.*}} epsilon = 1.000000e-03 : tensor<16x8x3x3xf32>, tensor<16xf32> -> tensor<16x8x3x3xf32>
  %ff = nn.bn_fold_filter %w, %g, %v epsilon = 1.0e-03 : tensor<16x8x3x3xf32>, tensor<16xf32> -> tensor<16x8x3x3xf32>
  // CHECK: nn.bn_fold_bias bias(%[[B]] : tensor<16xf32>) %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} epsilon = 1.000000e-05 : tensor<16xf32> -> tensor<16xf32>
  %fb = nn.bn_fold_bias bias(%b : tensor<16xf32>) %g, %s, %m, %v epsilon = 1.0e-05 : tensor<16xf32> -> tensor<16xf32>
  // CHECK: nn.bn_fold_bias %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} epsilon = 1.000000e-05 : tensor<16xf32> -> tensor<16xf32>
  %fb2 = nn.bn_fold_bias %g, %s, %m, %v epsilon = 1.0e-05 : tensor<16xf32> -> tensor<16xf32>
  // CHECK: %[[S:.*]] = nn.add %[[L]], %{{.*}} : tensor<2x10xf32>
  %sum = nn.add %l, %l2 : tensor<2x10xf32>
  // CHECK: nn.output %[[S]] : tensor<2x10xf32>
  nn.output %sum : tensor<2x10xf32>
}
