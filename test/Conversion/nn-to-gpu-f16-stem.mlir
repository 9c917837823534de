// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu="precision=f16 f16-stem-math=false" | FileCheck %s --check-prefix=F32
// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu=precision=f16 --ptxnet-gpu-to-binary | FileCheck %s --check-prefix=PTX

// f16-stem-math: EfficientNet-B1's stem at batch 64 (3x3, stride 2, 3 -> 32
// channels, its small filter compiled in). Its threads compute all 32
// channels of 2 adjacent columns (64 x 120 x 60 threads, 1800 blocks), so
// each tap takes one f16x2 multiply-add for both: 32 x 27 = 864 of them,
// none in float32, on input pairs rounded to f16 together; the bias is
// added and the ReLU applied to the pair, which is stored as one 4-byte
// vector into the f16 activation.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:       gpu.launch_func {{.*}}@ptxnet_kernels::@conv3x3_s2_relu_0 blocks in (%c1800,
// CHECK:       gpu.func @conv3x3_s2_relu_0
// CHECK:         arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// CHECK-COUNT-864: arith.mulf %{{.*}} fastmath<contract> : vector<2xf16>
// CHECK-NOT:     arith.mulf
// CHECK:         arith.addf %{{.*}} : vector<2xf16>
// CHECK:         arith.maximumf %{{.*}} : vector<2xf16>
// CHECK:         vector.store %{{.*}} {alignment = 4 : i64} : memref<64x32x120x120xf16>, vector<2xf16>
// CHECK:         gpu.return
// Without it: two float32 multiply-adds a tap.
// F32-LABEL:   func.func @ptxnet_forward
// F32:         gpu.func @conv3x3_s2_relu_0
// F32-NOT:       arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// F32-COUNT-1728: arith.mulf %{{.*}} fastmath<contract> : f32
// F32-NOT:       arith.mulf
// F32:           gpu.return
// PTX-DAG:     fma.rn.f16x2
// PTX-DAG:     cvt.rn.f16x2.f32
nn.graph @stem(%x: tensor<64x3x240x240xf32>) -> tensor<64x8x120x120xf32> {
  %w = arith.constant dense<0.25> : tensor<32x3x3x3xf32>
  %b = arith.constant dense<0.5> : tensor<32xf32>
  %s = nn.fused_conv2d %x, %w, %b strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 activation = relu : tensor<64x3x240x240xf32>, tensor<32x3x3x3xf32>, tensor<32xf32> -> tensor<64x32x120x120xf32>
  %w2 = arith.constant dense<0.125> : tensor<8x32x1x1xf32>
  %b2 = arith.constant dense<0.0> : tensor<8xf32>
  %y = nn.fused_conv2d %s, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<64x32x120x120xf32>, tensor<8x32x1x1xf32>, tensor<8xf32> -> tensor<64x8x120x120xf32>
  nn.output %y : tensor<64x8x120x120xf32>
}

// -----

// Batch 10: column pairs take 10 x 120 x 60 threads, fewer than four blocks
// per SM but more than one (282 blocks), so the pairs are kept; without
// f16-stem-math a thread computes one column (563 blocks).
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:       gpu.launch_func {{.*}}@ptxnet_kernels::@conv3x3_s2_relu_0 blocks in (%c282,
// CHECK:       gpu.func @conv3x3_s2_relu_0
// CHECK-COUNT-864: arith.mulf %{{.*}} fastmath<contract> : vector<2xf16>
// CHECK-NOT:     arith.mulf
// F32-LABEL:   func.func @ptxnet_forward
// F32:         gpu.launch_func {{.*}}@ptxnet_kernels::@conv3x3_s2_relu_0 blocks in (%c563,
nn.graph @stem_b10(%x: tensor<10x3x240x240xf32>) -> tensor<10x8x120x120xf32> {
  %w = arith.constant dense<0.25> : tensor<32x3x3x3xf32>
  %b = arith.constant dense<0.5> : tensor<32xf32>
  %s = nn.fused_conv2d %x, %w, %b strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 activation = relu : tensor<10x3x240x240xf32>, tensor<32x3x3x3xf32>, tensor<32xf32> -> tensor<10x32x120x120xf32>
  %w2 = arith.constant dense<0.125> : tensor<8x32x1x1xf32>
  %b2 = arith.constant dense<0.0> : tensor<8xf32>
  %y = nn.fused_conv2d %s, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<10x32x120x120xf32>, tensor<8x32x1x1xf32>, tensor<8xf32> -> tensor<10x8x120x120xf32>
  nn.output %y : tensor<10x8x120x120xf32>
}

// -----

// One image: pairs would leave 28 blocks, under one per SM; a thread keeps
// one column (57 blocks), in float32.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:       gpu.launch_func {{.*}}@ptxnet_kernels::@conv3x3_s2_relu_0 blocks in (%c57,
// CHECK:       gpu.func @conv3x3_s2_relu_0
// CHECK-NOT:     vector<2xf16>
// CHECK-COUNT-864: arith.mulf %{{.*}} fastmath<contract> : f32
// CHECK-NOT:     arith.mulf
// F32-LABEL:   func.func @ptxnet_forward
nn.graph @stem_b1(%x: tensor<1x3x240x240xf32>) -> tensor<1x8x120x120xf32> {
  %w = arith.constant dense<0.25> : tensor<32x3x3x3xf32>
  %b = arith.constant dense<0.5> : tensor<32xf32>
  %s = nn.fused_conv2d %x, %w, %b strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 activation = relu : tensor<1x3x240x240xf32>, tensor<32x3x3x3xf32>, tensor<32xf32> -> tensor<1x32x120x120xf32>
  %w2 = arith.constant dense<0.125> : tensor<8x32x1x1xf32>
  %b2 = arith.constant dense<0.0> : tensor<8xf32>
  %y = nn.fused_conv2d %s, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x32x120x120xf32>, tensor<8x32x1x1xf32>, tensor<8xf32> -> tensor<1x8x120x120xf32>
  nn.output %y : tensor<1x8x120x120xf32>
}
