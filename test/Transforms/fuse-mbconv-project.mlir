// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-mbconv-project))' | FileCheck %s
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-mbconv-project{max-output-channels=23}))' | FileCheck %s --check-prefix=NARROW
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-mbconv-project{max-expand-macs=1536}))' | FileCheck %s --check-prefix=MACS
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn.graph(nn-fuse-mbconv-project{max-expand-macs=1535}))' | FileCheck %s --check-prefix=FEWER
// The fusion pipeline runs it after nn-fuse-expand-depthwise.
// RUN: ptxnet-opt %s -split-input-file --pass-pipeline='builtin.module(nn-fusion-pipeline{expand-max-channels=32 project-max-channels=64})' | FileCheck %s --check-prefix=PIPE

// A fused expand + depthwise op and the project after it become one op with
// the project's filter, bias and activation; the locations of both are kept.
// CHECK-LABEL: nn.graph @block
// CHECK:       %[[F:.*]] = nn.fused_mbconv %{{.*}}, %{{.*}}, %{{.*}} expand_activation = relu6, %{{.*}}, %{{.*}} strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6, %{{.*}}, %{{.*}} project_activation = none : tensor<1x16x8x8xf32>, tensor<96x16x1x1xf32>, tensor<96x1x3x3xf32>, tensor<96xf32>, tensor<24x96x1x1xf32>, tensor<24xf32> -> tensor<1x24x4x4xf32>
// CHECK-NOT:   nn.fused_expand_depthwise
// CHECK-NOT:   nn.fused_conv2d
// CHECK:       nn.output %[[F]]
// max-output-channels below the project's 24: nothing changes.
// NARROW-LABEL: nn.graph @block
// NARROW:       nn.fused_expand_depthwise
// NARROW:       nn.fused_conv2d
// max-expand-macs: the expand takes 16 x 96 = 1536 multiply-adds per
// position, so it fuses at 1536 and not below.
// MACS-LABEL: nn.graph @block
// MACS:       nn.fused_mbconv
// FEWER-LABEL: nn.graph @block
// FEWER-NOT:   nn.fused_mbconv
nn.graph @block(%x: tensor<1x16x8x8xf32>) -> tensor<1x24x4x4xf32> {
  %we = nn.weight "e" : tensor<96x16x1x1xf32>
  %be = nn.weight "be" : tensor<96xf32>
  %wd = nn.weight "d" : tensor<96x1x3x3xf32>
  %bd = nn.weight "bd" : tensor<96xf32>
  %wp = nn.weight "p" : tensor<24x96x1x1xf32>
  %bp = nn.weight "bp" : tensor<24xf32>
  %y = nn.fused_expand_depthwise %x, %we, %be expand_activation = relu6, %wd, %bd strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x16x8x8xf32>, tensor<96x16x1x1xf32>, tensor<96x1x3x3xf32>, tensor<96xf32> -> tensor<1x96x4x4xf32>
  %z = nn.fused_conv2d %y, %wp, %bp strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x96x4x4xf32>, tensor<24x96x1x1xf32>, tensor<24xf32> -> tensor<1x24x4x4xf32>
  nn.output %z : tensor<1x24x4x4xf32>
}

// -----

// From the unfused graph: the pipeline fuses the expand and the depthwise,
// then the project (with its activation).
// PIPE-LABEL: nn.graph @unfused
// PIPE:       nn.fused_mbconv {{.*}} project_activation = relu : tensor<1x16x8x8xf32>
// PIPE-NOT:   nn.fused_conv2d
// CHECK-LABEL: nn.graph @unfused
// CHECK-NOT:   nn.fused_mbconv
nn.graph @unfused(%x: tensor<1x16x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %we = nn.weight "e" : tensor<32x16x1x1xf32>
  %be = nn.weight "be" : tensor<32xf32>
  %wd = nn.weight "d" : tensor<32x1x3x3xf32>
  %bd = nn.weight "bd" : tensor<32xf32>
  %wp = nn.weight "p" : tensor<8x32x1x1xf32>
  %bp = nn.weight "bp" : tensor<8xf32>
  %h = nn.fused_conv2d %x, %we, %be strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x16x8x8xf32>, tensor<32x16x1x1xf32>, tensor<32xf32> -> tensor<1x32x8x8xf32>
  %y = nn.fused_conv2d %h, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] groups = 32 activation = relu6 : tensor<1x32x8x8xf32>, tensor<32x1x3x3xf32>, tensor<32xf32> -> tensor<1x32x8x8xf32>
  %z = nn.fused_conv2d %y, %wp, %bp strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu : tensor<1x32x8x8xf32>, tensor<8x32x1x1xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  nn.output %z : tensor<1x8x8x8xf32>
}

// -----

// Negative: the depthwise output has another user.
// PIPE-LABEL:  nn.graph @other_use
// CHECK-LABEL: nn.graph @other_use
// CHECK-NOT:   nn.fused_mbconv
nn.graph @other_use(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %we = nn.weight "e" : tensor<16x16x1x1xf32>
  %b = nn.weight "b" : tensor<16xf32>
  %wd = nn.weight "d" : tensor<16x1x3x3xf32>
  %wp = nn.weight "p" : tensor<16x16x1x1xf32>
  %y = nn.fused_expand_depthwise %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>, tensor<16x1x3x3xf32>, tensor<16xf32> -> tensor<1x16x8x8xf32>
  %z = nn.fused_conv2d %y, %wp, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>, tensor<16xf32> -> tensor<1x16x8x8xf32>
  %s = nn.add %z, %y : tensor<1x16x8x8xf32>
  nn.output %s : tensor<1x16x8x8xf32>
}

// -----

// Negative: a pooled 1x1 (the head) is no project.
// CHECK-LABEL: nn.graph @pooled
// CHECK-NOT:   nn.fused_mbconv
nn.graph @pooled(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x1x1xf32> {
  %we = nn.weight "e" : tensor<16x16x1x1xf32>
  %b = nn.weight "b" : tensor<16xf32>
  %wd = nn.weight "d" : tensor<16x1x3x3xf32>
  %wp = nn.weight "p" : tensor<16x16x1x1xf32>
  %y = nn.fused_expand_depthwise %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>, tensor<16x1x3x3xf32>, tensor<16xf32> -> tensor<1x16x8x8xf32>
  %z = nn.fused_conv2d %y, %wp, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>, tensor<16xf32> -> tensor<1x16x1x1xf32>
  nn.output %z : tensor<1x16x1x1xf32>
}

// -----

// Negative: shapes the whole-block kernel does not take: 12 input channels
// (not a multiple of 8), a 5x5 depthwise.
// CHECK-LABEL: nn.graph @unsupported
// CHECK-NOT:   nn.fused_mbconv
nn.graph @unsupported(%x: tensor<1x12x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %we = nn.weight "e" : tensor<16x12x1x1xf32>
  %b = nn.weight "b" : tensor<16xf32>
  %wd = nn.weight "d" : tensor<16x1x3x3xf32>
  %wd5 = nn.weight "d5" : tensor<16x1x5x5xf32>
  %we2 = nn.weight "e2" : tensor<16x8x1x1xf32>
  %wp = nn.weight "p" : tensor<8x16x1x1xf32>
  %b8 = nn.weight "b8" : tensor<8xf32>
  %y = nn.fused_expand_depthwise %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x12x8x8xf32>, tensor<16x12x1x1xf32>, tensor<16x1x3x3xf32>, tensor<16xf32> -> tensor<1x16x8x8xf32>
  %z = nn.fused_conv2d %y, %wp, %b8 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x16x8x8xf32>, tensor<8x16x1x1xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  %y2 = nn.fused_expand_depthwise %z, %we2, %b expand_activation = relu6, %wd5, %b strides = [1, 1] padding = [2, 2, 2, 2] activation = relu6 : tensor<1x8x8x8xf32>, tensor<16x8x1x1xf32>, tensor<16x1x5x5xf32>, tensor<16xf32> -> tensor<1x16x8x8xf32>
  %z2 = nn.fused_conv2d %y2, %wp, %b8 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x16x8x8xf32>, tensor<8x16x1x1xf32>, tensor<8xf32> -> tensor<1x8x8x8xf32>
  nn.output %z2 : tensor<1x8x8x8xf32>
}

// -----

// Negative: 520 input channels, more than the kernel's expand filter rows
// are sure to fit in shared memory.
// CHECK-LABEL: nn.graph @deep_expand
// CHECK-NOT:   nn.fused_mbconv
nn.graph @deep_expand(%x: tensor<1x520x4x4xf32>) -> tensor<1x8x4x4xf32> {
  %we = nn.weight "e" : tensor<32x520x1x1xf32>
  %b = nn.weight "b" : tensor<32xf32>
  %wd = nn.weight "d" : tensor<32x1x3x3xf32>
  %wp = nn.weight "p" : tensor<8x32x1x1xf32>
  %b8 = nn.weight "b8" : tensor<8xf32>
  %y = nn.fused_expand_depthwise %x, %we, %b expand_activation = relu6, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x520x4x4xf32>, tensor<32x520x1x1xf32>, tensor<32x1x3x3xf32>, tensor<32xf32> -> tensor<1x32x4x4xf32>
  %z = nn.fused_conv2d %y, %wp, %b8 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x32x4x4xf32>, tensor<8x32x1x1xf32>, tensor<8xf32> -> tensor<1x8x4x4xf32>
  nn.output %z : tensor<1x8x4x4xf32>
}
