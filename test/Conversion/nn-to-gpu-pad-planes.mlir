// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 pad-planes=false" | FileCheck %s --check-prefix=DENSE
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=tf32 | FileCheck %s --check-prefix=DENSE
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 --ptxnet-gpu-to-binary | FileCheck %s --check-prefix=PTX

// f16 activations on 30x30 (900 pixels) and 15x15 (225) maps have their
// channel planes padded to 904 and 232 elements. The workspace holds both
// padded 30x30 tensors live at once: 2 x 16 x 904 halves and 2 x 32 x 904,
// 57856 + 115712 bytes (dense planes: 57600 + 115200).
// CHECK: memref.global "public" constant @ptxnet_model_info : memref<15xi64> = dense<[3, 4, 2, 16, 30, 30, 4, 2, 16, 1, 1, 173568,
// DENSE-NOT: strided
// DENSE: memref.global "public" constant @ptxnet_model_info : memref<15xi64> = dense<[3, 4, 2, 16, 30, 30, 4, 2, 16, 1, 1, {{(172800|345600)}},

// The depthwise convolutions take padded planes through strided views; the
// GEMMs run over the padded columns (N x C x 904 and N x C x 232).
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: %[[D0:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [2, 16, 30, 30], strides: [14464, 904, 30, 1] : memref<2x16x904xf16> to memref<2x16x30x30xf16, strided<[14464, 904, 30, 1]>>
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@depthwise3x3_s1_relu6_0
// CHECK-SAME: args(%{{.*}} : memref<2x16x30x30xf32>, %{{.*}} : memref<16x1x3x3xf32>, %{{.*}} : memref<16xf32>, %[[D0]] : memref<2x16x30x30xf16, strided<[14464, 904, 30, 1]>>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu6_1
// CHECK-SAME: args(%{{.*}} : memref<2x16x904xf16>, %{{.*}} : memref<32x16xf16>, %{{.*}} : memref<32xf32>, %{{.*}} : memref<2x32x904xf16>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@depthwise3x3_s2_relu6_2
// CHECK-SAME: args(%{{.*}} : memref<2x32x30x30xf16, strided<[28928, 904, 30, 1]>>, %{{.*}} : memref<32x1x3x3xf32>, %{{.*}} : memref<32xf32>, %{{.*}} : memref<2x32x15x15xf16, strided<[7424, 232, 15, 1]>>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu6_3
// CHECK-SAME: args(%{{.*}} : memref<2x32x232xf16>, %{{.*}} : memref<32x32xf16>, %{{.*}} : memref<32xf32>, %{{.*}} : memref<2x32x232xf16>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@depthwise3x3_s1_relu6_4
// CHECK-SAME: args(%{{.*}} : memref<2x32x15x15xf16, strided<[7424, 232, 15, 1]>>, %{{.*}} : memref<32x1x3x3xf32>, %{{.*}} : memref<32xf32>, %{{.*}} : memref<2x32x15x15xf16>)
// The pooled head reads its input as pixels: dense planes.
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu_pool_5
// CHECK-SAME: args(%{{.*}} : memref<2x32x225xf16>,
// DENSE-LABEL: func.func @ptxnet_forward
// DENSE: @ptxnet_kernels::@conv1x1_mma_{{f16|tf32}}_relu6_1
// DENSE-SAME: args(%{{.*}} : memref<2x16x900xf{{16|32}}>,

// The kernels index padded planes with their strides.
// CHECK-LABEL: gpu.func @depthwise3x3_s2_relu6_2
// CHECK-SAME: %arg0: memref<2x32x30x30xf16, strided<[28928, 904, 30, 1]>>
// CHECK-SAME: %arg3: memref<2x32x15x15xf16, strided<[7424, 232, 15, 1]>>

// Over padded columns, the GEMM's activation rows go as 16-byte vectors
// (8 halves): 232 and 904 are multiples of 8, 225 and 900 are not.
// PTX-LABEL: .entry conv1x1_mma_f16_relu6_3(
// PTX: ld.global.v4.b32
// PTX-LABEL: .entry depthwise3x3_s1_relu6_4(
nn.graph @planes(%x: tensor<2x16x30x30xf32>) -> tensor<2x16x1x1xf32> {
  %wd = arith.constant dense<0.1> : tensor<16x1x3x3xf32>
  %b16 = arith.constant dense<0.1> : tensor<16xf32>
  %d = nn.fused_conv2d %x, %wd, %b16 strides = [1, 1] padding = [1, 1, 1, 1] groups = 16 activation = relu6 : tensor<2x16x30x30xf32>, tensor<16x1x3x3xf32>, tensor<16xf32> -> tensor<2x16x30x30xf32>
  %we = arith.constant dense<0.05> : tensor<32x16x1x1xf32>
  %b32 = arith.constant dense<0.1> : tensor<32xf32>
  %e = nn.fused_conv2d %d, %we, %b32 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x16x30x30xf32>, tensor<32x16x1x1xf32>, tensor<32xf32> -> tensor<2x32x30x30xf32>
  %wd2 = arith.constant dense<0.1> : tensor<32x1x3x3xf32>
  %f = nn.fused_conv2d %e, %wd2, %b32 strides = [2, 2] padding = [1, 1, 1, 1] groups = 32 activation = relu6 : tensor<2x32x30x30xf32>, tensor<32x1x3x3xf32>, tensor<32xf32> -> tensor<2x32x15x15xf32>
  %wg = arith.constant dense<0.05> : tensor<32x32x1x1xf32>
  %g = nn.fused_conv2d %f, %wg, %b32 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x32x15x15xf32>, tensor<32x32x1x1xf32>, tensor<32xf32> -> tensor<2x32x15x15xf32>
  %h = nn.fused_conv2d %g, %wd2, %b32 strides = [1, 1] padding = [1, 1, 1, 1] groups = 32 activation = relu6 : tensor<2x32x15x15xf32>, tensor<32x1x3x3xf32>, tensor<32xf32> -> tensor<2x32x15x15xf32>
  %wp = arith.constant dense<0.05> : tensor<16x32x1x1xf32>
  %y = nn.fused_conv2d %h, %wp, %b16 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<2x32x15x15xf32>, tensor<16x32x1x1xf32>, tensor<16xf32> -> tensor<2x16x1x1xf32>
  nn.output %y : tensor<2x16x1x1xf32>
}

// -----

// A split-K GEMM accumulates into a dense f32 output, so its input stays
// dense too (a GEMM's columns are its input's and its output's), and so
// does the GEMM before it.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK-NOT: strided
// CHECK: @ptxnet_kernels::@conv1x1_mma_f16_relu6_1
// CHECK-SAME: args(%{{.*}} : memref<2x256x225xf16>, %{{.*}}, %{{.*}}, %{{.*}} : memref<2x512x225xf16>)
// CHECK: @ptxnet_kernels::@conv1x1_mma_f16_2
// CHECK-SAME: args(%{{.*}} : memref<2x512x225xf16>, %{{.*}}, %{{.*}}, %{{.*}} : memref<2x32x225xf32>)
// CHECK: return
nn.graph @splitk(%x: tensor<2x256x15x15xf32>) -> tensor<2x32x15x15xf32> {
  %wd = arith.constant dense<0.1> : tensor<256x1x3x3xf32>
  %b256 = arith.constant dense<0.1> : tensor<256xf32>
  %d = nn.fused_conv2d %x, %wd, %b256 strides = [1, 1] padding = [1, 1, 1, 1] groups = 256 activation = relu6 : tensor<2x256x15x15xf32>, tensor<256x1x3x3xf32>, tensor<256xf32> -> tensor<2x256x15x15xf32>
  %we = arith.constant dense<0.05> : tensor<512x256x1x1xf32>
  %b512 = arith.constant dense<0.1> : tensor<512xf32>
  %e = nn.fused_conv2d %d, %we, %b512 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x256x15x15xf32>, tensor<512x256x1x1xf32>, tensor<512xf32> -> tensor<2x512x15x15xf32>
  %wp = arith.constant dense<0.05> : tensor<32x512x1x1xf32>
  %b32 = arith.constant dense<0.1> : tensor<32xf32>
  %y = nn.fused_conv2d %e, %wp, %b32 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<2x512x15x15xf32>, tensor<32x512x1x1xf32>, tensor<32xf32> -> tensor<2x32x15x15xf32>
  nn.output %y : tensor<2x32x15x15xf32>
}
