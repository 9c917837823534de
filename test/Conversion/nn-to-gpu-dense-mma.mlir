// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 dense-conv-mma=true" | FileCheck %s --check-prefix=MMA
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=bf16 dense-conv-mma=true" | FileCheck %s --check-prefix=BF16
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=tf32 dense-conv-mma=true" | FileCheck %s --check-prefix=TF32
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 dense-conv-mma=maybe" 2>&1 | FileCheck %s --check-prefix=BAD

// By default a stem-like 3x3 convolution (3 -> 32 channels, 27 taps) is the
// CUDA-core direct convolution, its filter as FMA immediates.
// CHECK-LABEL: gpu.func @conv3x3_s2_relu_0
// CHECK-NOT: nvgpu.mma.sync
// CHECK: gpu.return

// With dense-conv-mma it is an implicit GEMM on tensor cores. At batch 2 a
// block owns one of the 16 output rows of an image (more rows would leave
// fewer than two blocks per SM), two warps sharing its 3 groups of 8 pixels.
// Shared memory: 3 channels x 3 input rows + a zero row of 56 halves (20
// outputs at stride 2 read 52 columns, shifted by 4 for the padding), the
// 32 x 24 output tile, the filter as 32 x (32 + 8) halves. The input is
// staged by 16-byte vectors, A taken by ldmatrix, 2 channel tiles x 2
// k-steps of MMAs per group, and the tile leaves in vectors of 4 halves.
// MMA: gpu.launch_func async {{.*}} @ptxnet_kernels::@conv3x3_s2_relu_mma_f16_0 blocks in (%c16, %c2, %{{.*}}) threads in (%c64, {{.*}} args(%{{.*}} : memref<2x3x32x40xf32>, %{{.*}} : memref<32x3x3x3xf32>, %{{.*}} : memref<32xf32>, %{{.*}} : memref<2x32x16x20xf16>)
// MMA-LABEL: gpu.func @conv3x3_s2_relu_mma_f16_0
// MMA-SAME: workgroup(%{{.*}} : memref<560xf16, #gpu.address_space<workgroup>> {{.*}}, %{{.*}} : memref<768xf16, #gpu.address_space<workgroup>> {{.*}}, %{{.*}} : memref<32x40xf16, #gpu.address_space<workgroup>>
// MMA: vector.load %arg0{{.*}} : memref<2x3x32x40xf32>, vector<4xf32>
// MMA: gpu.barrier
// MMA: nvgpu.ldmatrix
// MMA-COUNT-4: nvgpu.mma.sync
// MMA: gpu.barrier
// MMA: vector.store {{.*}}, %arg3{{.*}} : memref<2x32x16x20xf16>, vector<4xf16>
// MMA: gpu.return
// BF16: @conv3x3_s2_relu_mma_bf16_0
// BF16: nvgpu.mma.sync{{.*}}bf16
// tf32 stores the stem's output as f32: the direct convolution.
// TF32-LABEL: gpu.func @conv3x3_s2_relu_0
// TF32-NOT: nvgpu.mma.sync
// TF32: gpu.return
nn.graph @stem(%x: tensor<2x3x32x40xf32>) -> tensor<2x32x16x20xf32> {
  %w = arith.constant dense<0.05> : tensor<32x3x3x3xf32>
  %b = arith.constant dense<0.1> : tensor<32xf32>
  %s = nn.fused_conv2d %x, %w, %b strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 activation = relu : tensor<2x3x32x40xf32>, tensor<32x3x3x3xf32>, tensor<32xf32> -> tensor<2x32x16x20xf32>
  %w2 = arith.constant dense<0.05> : tensor<32x32x1x1xf32>
  %y = nn.fused_conv2d %s, %w2, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<2x32x16x20xf32>, tensor<32x32x1x1xf32>, tensor<32xf32> -> tensor<2x32x16x20xf32>
  nn.output %y : tensor<2x32x16x20xf32>
}

// -----

// What stays on CUDA cores with dense-conv-mma: 8 x 3 x 3 = 72 taps (more
// than 64), a depthwise convolution, and a 2x2 convolution of 64 taps whose
// output is the graph's (f32, not an operand type).
// MMA-LABEL: gpu.func @conv3x3_s1_relu6_0
// MMA-NOT: nvgpu.mma.sync
// MMA-LABEL: gpu.func @depthwise3x3_s1_relu6_1
// MMA-NOT: nvgpu.mma.sync
// MMA-LABEL: gpu.func @conv2x2_s2_2
// MMA-NOT: nvgpu.mma.sync
// MMA: gpu.return
nn.graph @cuda_cores(%x: tensor<1x8x16x16xf32>) -> tensor<1x4x8x8xf32> {
  %w = arith.constant dense<0.05> : tensor<16x8x3x3xf32>
  %b = arith.constant dense<0.1> : tensor<16xf32>
  %a = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 1 activation = relu6 : tensor<1x8x16x16xf32>, tensor<16x8x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32>
  %wd = arith.constant dense<0.05> : tensor<16x1x3x3xf32>
  %d = nn.fused_conv2d %a, %wd, %b strides = [1, 1] padding = [1, 1, 1, 1] groups = 16 activation = relu6 : tensor<1x16x16x16xf32>, tensor<16x1x3x3xf32>, tensor<16xf32> -> tensor<1x16x16x16xf32>
  %w3 = arith.constant dense<0.05> : tensor<4x16x2x2xf32>
  %b3 = arith.constant dense<0.1> : tensor<4xf32>
  %y = nn.fused_conv2d %d, %w3, %b3 strides = [2, 2] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<1x16x16x16xf32>, tensor<4x16x2x2xf32>, tensor<4xf32> -> tensor<1x4x8x8xf32>
  nn.output %y : tensor<1x4x8x8xf32>
}

// BAD: for the --dense-conv-mma option: 'maybe' is invalid value for boolean argument
