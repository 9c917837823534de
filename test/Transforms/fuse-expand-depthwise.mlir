// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-expand-depthwise))' | FileCheck %s
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-expand-depthwise{max-expand-channels=8}))' | FileCheck %s --check-prefix=DEEP
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-expand-depthwise{min-hidden-per-image=6144}))' | FileCheck %s --check-prefix=BIG
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-expand-depthwise{min-hidden-per-image=6145}))' | FileCheck %s --check-prefix=SMALL
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-expand-depthwise{whole-image-pixels=64}))' | FileCheck %s --check-prefix=WHOLE

// An MBConv expand + depthwise pair becomes one op.
// CHECK-LABEL: nn.graph @mbconv
// CHECK:       %[[F:.*]] = nn.fused_expand_depthwise %{{.*}}, %{{.*}}, %{{.*}} expand_activation = relu6, %{{.*}}, %{{.*}} strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x16x8x8xf32>, tensor<96x16x1x1xf32>, tensor<96x1x3x3xf32>, tensor<96xf32> -> tensor<1x96x4x4xf32>
// CHECK-NOT:   nn.fused_conv2d
// CHECK:       nn.output %[[F]]
// With max-expand-channels below the 16 input channels, nothing changes.
// DEEP-LABEL: nn.graph @mbconv
// DEEP-COUNT-2: nn.fused_conv2d
// min-hidden-per-image: the hidden tensor has 96 x 8 x 8 = 6144 values per
// image, so it fuses at 6144 and not above.
// BIG-LABEL: nn.graph @mbconv
// BIG:       nn.fused_expand_depthwise
// SMALL-LABEL: nn.graph @mbconv
// SMALL-NOT:   nn.fused_expand_depthwise
// SMALL-COUNT-2: nn.fused_conv2d
nn.graph @mbconv(%x: tensor<1x16x8x8xf32>) -> tensor<1x96x4x4xf32> {
  %we = nn.weight "e" : tensor<96x16x1x1xf32>
  %be = nn.weight "be" : tensor<96xf32>
  %wd = nn.weight "d" : tensor<96x1x3x3xf32>
  %bd = nn.weight "bd" : tensor<96xf32>
  %h = nn.fused_conv2d %x, %we, %be strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x16x8x8xf32>, tensor<96x16x1x1xf32>, tensor<96xf32> -> tensor<1x96x8x8xf32>
  %y = nn.fused_conv2d %h, %wd, %bd strides = [2, 2] padding = [1, 1, 1, 1] groups = 96 activation = relu6 : tensor<1x96x8x8xf32>, tensor<96x1x3x3xf32>, tensor<96xf32> -> tensor<1x96x4x4xf32>
  nn.output %y : tensor<1x96x4x4xf32>
}

// -----

// Negative: the expanded tensor has another user.
// CHECK-LABEL: nn.graph @expand_other_use
// CHECK-NOT:   nn.fused_expand_depthwise
nn.graph @expand_other_use(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %we = nn.weight "e" : tensor<8x4x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %wd = nn.weight "d" : tensor<8x1x3x3xf32>
  %h = nn.fused_conv2d %x, %we, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  %y = nn.fused_conv2d %h, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 8 activation = relu6 : tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  %s = nn.add %y, %h : tensor<1x8x8x8xf32>
  nn.output %s : tensor<1x8x8x8xf32>
}

// -----

// Negative: a dense 3x3 conv after the 1x1 is not a depthwise one.
// CHECK-LABEL: nn.graph @dense_after_expand
// CHECK-NOT:   nn.fused_expand_depthwise
nn.graph @dense_after_expand(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %we = nn.weight "e" : tensor<8x4x1x1xf32>
  %b = nn.weight "b" : tensor<8xf32>
  %w = nn.weight "w" : tensor<8x8x3x3xf32>
  %h = nn.fused_conv2d %x, %we, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x4x8x8xf32>, tensor<8x4x1x1xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  %y = nn.fused_conv2d %h, %w, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 1 activation = relu6 : tensor<1x8x8x8xf32>, tensor<8x8x3x3xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  nn.output %y : tensor<1x8x8x8xf32>
}

// -----

// whole-image-pixels: an expand of any depth fuses over a map of at most 64
// pixels that divide 64 (8x8, 672 input channels, far past
// max-expand-channels), not over 15x15 (225 pixels).
// WHOLE-LABEL: nn.graph @deep8x8
// WHOLE: nn.fused_expand_depthwise {{.*}} : tensor<10x672x8x8xf32>, tensor<1152x672x1x1xf32>, tensor<1152x1x3x3xf32>, tensor<1152xf32> -> tensor<10x1152x8x8xf32>
// WHOLE-NOT: nn.fused_conv2d
// CHECK-LABEL: nn.graph @deep8x8
// CHECK-COUNT-2: nn.fused_conv2d
nn.graph @deep8x8(%x: tensor<10x672x8x8xf32>) -> tensor<10x1152x8x8xf32> {
  %we = nn.weight "e" : tensor<1152x672x1x1xf32>
  %be = nn.weight "be" : tensor<1152xf32>
  %wd = nn.weight "d" : tensor<1152x1x3x3xf32>
  %h = nn.fused_conv2d %x, %we, %be strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<10x672x8x8xf32>, tensor<1152x672x1x1xf32>, tensor<1152xf32> -> tensor<10x1152x8x8xf32>
  %y = nn.fused_conv2d %h, %wd, %be strides = [1, 1] padding = [1, 1, 1, 1] groups = 1152 activation = relu6 : tensor<10x1152x8x8xf32>, tensor<1152x1x3x3xf32>, tensor<1152xf32> -> tensor<10x1152x8x8xf32>
  nn.output %y : tensor<10x1152x8x8xf32>
}

// -----

// WHOLE-LABEL: nn.graph @deep15x15
// WHOLE-COUNT-2: nn.fused_conv2d
// WHOLE-NOT: nn.fused_expand_depthwise
nn.graph @deep15x15(%x: tensor<2x480x15x15xf32>) -> tensor<2x672x8x8xf32> {
  %we = nn.weight "e" : tensor<672x480x1x1xf32>
  %be = nn.weight "be" : tensor<672xf32>
  %wd = nn.weight "d" : tensor<672x1x3x3xf32>
  %h = nn.fused_conv2d %x, %we, %be strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x480x15x15xf32>, tensor<672x480x1x1xf32>, tensor<672xf32> -> tensor<2x672x15x15xf32>
  %y = nn.fused_conv2d %h, %wd, %be strides = [2, 2] padding = [1, 1, 1, 1] groups = 672 activation = relu6 : tensor<2x672x15x15xf32>, tensor<672x1x3x3xf32>, tensor<672xf32> -> tensor<2x672x8x8xf32>
  nn.output %y : tensor<2x672x8x8xf32>
}
