// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu | FileCheck %s
// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu=depthwise-column-rows=0 | FileCheck %s --check-prefix=OFF
// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu=depthwise-column-rows=4 | FileCheck %s --check-prefix=FORCED
// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu=depthwise-column-rows=4 | grep -c "memref.load %arg0.*memref<64x480x15x15xf32>" | FileCheck %s --check-prefix=LOADS

// Depthwise convolutions down columns (emitDepthwiseColumns): a thread per
// output column and block of output rows, each input row loaded once.

// EfficientNet-B1's 15x15 depthwise at batch 64: stride 1 on an odd width,
// so by default a thread walks all 15 rows (64 x 480 x 15 columns still
// give four blocks per SM): 1800 blocks of 256. Rows -1 and 15 are known to
// be padding and skipped: 15 x 9 - 2 x 3 multiply-adds.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:       gpu.launch_func {{.*}}@ptxnet_kernels::@depthwise3x3_s1_relu6_0 blocks in (%c1800, %{{.*}}, %{{.*}}) threads in (%c256,
// CHECK:       gpu.func @depthwise3x3_s1_relu6_0
// CHECK-NOT:     scf.for
// CHECK-COUNT-129: arith.mulf {{.*}} fastmath<contract> : f32
// CHECK-NOT:     arith.mulf
// CHECK:         gpu.return
// Without the walk: the direct kernel's threads of 4 columns and one row
// (7200 blocks), with a loop over the group's one input channel.
// OFF:         gpu.launch_func {{.*}}@ptxnet_kernels::@depthwise3x3_s1_relu6_0 blocks in (%c7200,
// OFF:         gpu.func @depthwise3x3_s1_relu6_0
// OFF:           scf.for
// Forced to at most 4 rows: 3 (a divisor of 15), 5 row blocks, 9000
// blocks; each thread loads its 5 input rows once, 3 taps each (15 loads),
// for 3 x 9 multiply-adds.
// FORCED-LABEL: func.func @ptxnet_forward
// FORCED:      gpu.launch_func {{.*}}@ptxnet_kernels::@depthwise3x3_s1_relu6_0 blocks in (%c9000,
// FORCED:      gpu.func @depthwise3x3_s1_relu6_0
// FORCED-NOT:    scf.for
// FORCED-COUNT-27: arith.mulf {{.*}} fastmath<contract> : f32
// FORCED-NOT:    arith.mulf
// FORCED:        gpu.return
// LOADS:       {{^}}15{{$}}
nn.graph @dw_s1_odd(%x: tensor<64x480x15x15xf32>) -> tensor<64x480x15x15xf32> {
  %w = arith.constant dense<0.1> : tensor<480x1x3x3xf32>
  %b = arith.constant dense<0.2> : tensor<480xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 480 activation = relu6 : tensor<64x480x15x15xf32>, tensor<480x1x3x3xf32>, tensor<480xf32> -> tensor<64x480x15x15xf32>
  nn.output %y : tensor<64x480x15x15xf32>
}

// -----

// Stride 2 (like even widths) keeps the direct kernel by default: 64 x 480
// x 8 rows x 2 threads of 4 columns (1920 blocks), which reads its rows of
// 16 as vectors. Forced to 4 rows: 64 x 480 x 2 row blocks x 8 columns
// (1920 blocks too), 9 input rows of 3 scalar taps, 4 x 9 multiply-adds.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:       gpu.launch_func {{.*}}@ptxnet_kernels::@depthwise3x3_s2_relu6_0 blocks in (%c1920,
// CHECK:       gpu.func @depthwise3x3_s2_relu6_0
// CHECK:         scf.for
// CHECK:         vector.load %arg0
// FORCED-LABEL: func.func @ptxnet_forward
// FORCED:      gpu.launch_func {{.*}}@ptxnet_kernels::@depthwise3x3_s2_relu6_0 blocks in (%c1920,
// FORCED:      gpu.func @depthwise3x3_s2_relu6_0
// FORCED-NOT:    scf.for
// FORCED-NOT:    vector.load
// FORCED-COUNT-36: arith.mulf {{.*}} fastmath<contract> : f32
// FORCED-NOT:    arith.mulf
// FORCED:        gpu.return
nn.graph @dw_s2(%x: tensor<64x480x16x16xf32>) -> tensor<64x480x8x8xf32> {
  %w = arith.constant dense<0.1> : tensor<480x1x3x3xf32>
  %b = arith.constant dense<0.2> : tensor<480xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [2, 2] padding = [1, 1, 1, 1] groups = 480 activation = relu6 : tensor<64x480x16x16xf32>, tensor<480x1x3x3xf32>, tensor<480xf32> -> tensor<64x480x8x8xf32>
  nn.output %y : tensor<64x480x8x8xf32>
}

// -----

// One image: 480 x 15 columns cannot keep four blocks per SM in 2 or more
// rows a thread, so the direct kernel runs it (one output a thread: 422
// blocks).
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:       gpu.launch_func {{.*}}@ptxnet_kernels::@depthwise3x3_s1_relu6_0 blocks in (%c422,
nn.graph @dw_one_image(%x: tensor<1x480x15x15xf32>) -> tensor<1x480x15x15xf32> {
  %w = arith.constant dense<0.1> : tensor<480x1x3x3xf32>
  %b = arith.constant dense<0.2> : tensor<480xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 480 activation = relu6 : tensor<1x480x15x15xf32>, tensor<480x1x3x3xf32>, tensor<480xf32> -> tensor<1x480x15x15xf32>
  nn.output %y : tensor<1x480x15x15xf32>
}
