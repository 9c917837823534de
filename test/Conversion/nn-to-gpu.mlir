// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu | FileCheck %s
// RUN: ptxnet-opt %s -split-input-file --convert-nn-to-gpu=dependent-launch=true | FileCheck %s --check-prefix=DEP

// One graph with every kernel kind: a strided dense 3x3 conv, a pointwise
// (1x1) conv, a depthwise conv, an add, and the pooled linear layer.

// CHECK: module attributes {gpu.container_module}
// The packed weights and the model info the runtime reads.
// CHECK: memref.global "public" constant @ptxnet_weights : memref<[[WB:[0-9]+]]xi8> = dense<"0x
// CHECK: memref.global "public" constant @ptxnet_model_info : memref<13xi64> = dense<[3, 4, 2, 3, 8, 8, 2, 2, 5, {{[0-9]+}}, [[WB]], 0, 0]>

// CHECK-LABEL: func.func @ptxnet_forward(
// CHECK-SAME:    %[[IN:.*]]: memref<2x3x8x8xf32>, %[[OUT:.*]]: memref<2x5xf32>, %[[WS:.*]]: memref<{{[0-9]+}}xi8>, %[[WT:.*]]: memref<[[WB]]xi8>)
// CHECK:   %[[T0:.*]] = gpu.wait async
// CHECK:   memref.view %[[WT]]
// CHECK:   %[[A:.*]] = memref.view %[[WS]]{{.*}} to memref<2x4x4x4xf32>
// CHECK:   %[[T1:.*]] = gpu.launch_func async [%[[T0]]] @ptxnet_kernels::@conv3x3_s2_relu_0 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) args(%[[IN]] : memref<2x3x8x8xf32>, %{{.*}} : memref<4x3x3x3xf32>, %{{.*}} : memref<4xf32>, %[[A]] : memref<2x4x4x4xf32>)
// The pointwise conv reads the same buffer as N x C x (H*W).
// CHECK:   %[[T2:.*]] = gpu.launch_func async [%[[T1]]] @ptxnet_kernels::@conv1x1_gemm_relu6_1 {{.*}} args(%{{.*}} : memref<2x4x16xf32>, %{{.*}} : memref<8x4xf32>, %{{.*}} : memref<8xf32>, %{{.*}} : memref<2x8x16xf32>)
// CHECK:   %[[T3:.*]] = gpu.launch_func async [%[[T2]]] @ptxnet_kernels::@depthwise3x3_s1_2
// CHECK:   %[[T4:.*]] = gpu.launch_func async [%[[T3]]] @ptxnet_kernels::@add_3 {{.*}} args(%{{.*}} : memref<256xf32>, %{{.*}} : memref<256xf32>, %{{.*}} : memref<256xf32>)
// CHECK:   %[[T5:.*]] = gpu.launch_func async [%[[T4]]] @ptxnet_kernels::@pool_linear_4 {{.*}} args(%{{.*}} : memref<2x8x16xf32>, %{{.*}} : memref<5x8xf32>, %{{.*}} : memref<5xf32>, %[[OUT]] : memref<2x5xf32>)
// CHECK:   gpu.wait [%[[T5]]]
// CHECK:   return

// CHECK-LABEL: gpu.module @ptxnet_kernels
// Direct convolution: one thread per output, masked loads, fused epilogue.
// The 4x3x3x3 filter is small and dense, so it is compiled in: the input
// channels are unrolled, each thread computes all 4 output channels, and
// the taps are FMA immediates (multiply-adds allowed to contract).
// CHECK:       gpu.func @conv3x3_s2_relu_0(%{{.*}}: memref<2x3x8x8xf32>, %{{.*}}: memref<4x3x3x3xf32>, %{{.*}}: memref<4xf32>, %{{.*}}: memref<2x4x4x4xf32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// CHECK:         gpu.block_id x
// CHECK:         scf.if
// CHECK-NOT:     scf.for
// CHECK-NOT:     memref.load %arg1
// Rows of 8 with stride 2: each thread's input columns start one past an
// even column, so they are read as aligned pairs.
// CHECK:         vector.load %arg0[{{.*}}] {alignment = 8 : i64} : memref<2x3x8x8xf32>, vector<2xf32>
// CHECK:         arith.select
// CHECK:         %[[W:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:         arith.mulf %{{.*}}, %[[W]] fastmath<contract> : f32
// CHECK:         arith.addf %{{.*}} fastmath<contract> : f32
// CHECK:         arith.maximumf
// CHECK-NOT:     arith.minimumf
// CHECK:         memref.store
// Pointwise GEMM: shared-memory tiles, barriers, 16x16 threads.
// CHECK:       gpu.func @conv1x1_gemm_relu6_1({{.*}}) workgroup(%{{.*}} : memref<16x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<16x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel attributes {known_block_size = array<i32: 16, 16, 1>}
// CHECK:         gpu.barrier
// CHECK:         arith.minimumf
// A grouped filter is read from memory, in a loop over the group's input
// channels.
// CHECK:       gpu.func @depthwise3x3_s1_2
// CHECK:         scf.for {{.*}} iter_args
// CHECK:         memref.load %arg1
// CHECK:       gpu.func @add_3
// CHECK:         arith.addf
// Pool + linear: the pooled row in shared memory, a warp-shuffle reduction.
// CHECK:       gpu.func @pool_linear_4({{.*}}) workgroup(%{{.*}} : memref<2x8xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK:         gpu.barrier
// CHECK:         gpu.shuffle  xor
nn.graph @small(%x: tensor<2x3x8x8xf32>) -> tensor<2x5xf32> {
  %w0 = arith.constant dense<0.5> : tensor<4x3x3x3xf32>
  %b0 = arith.constant dense<0.1> : tensor<4xf32>
  %c0 = nn.fused_conv2d %x, %w0, %b0 strides = [2, 2] padding = [1, 1, 1, 1] groups = 1 activation = relu : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32> -> tensor<2x4x4x4xf32>
  %w1 = arith.constant dense<0.25> : tensor<8x4x1x1xf32>
  %b1 = arith.constant dense<0.2> : tensor<8xf32>
  %c1 = nn.fused_conv2d %c0, %w1, %b1 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x4x4x4xf32>, tensor<8x4x1x1xf32>, tensor<8xf32> -> tensor<2x8x4x4xf32>
  %w2 = arith.constant dense<0.125> : tensor<8x1x3x3xf32>
  %c2 = nn.fused_conv2d %c1, %w2, %b1 strides = [1, 1] padding = [1, 1, 1, 1] groups = 8 activation = none : tensor<2x8x4x4xf32>, tensor<8x1x3x3xf32>, tensor<8xf32> -> tensor<2x8x4x4xf32>
  %s = nn.add %c2, %c1 : tensor<2x8x4x4xf32>
  %w3 = arith.constant dense<0.3> : tensor<5x8xf32>
  %b3 = arith.constant dense<0.4> : tensor<5xf32>
  %l = nn.fused_linear %s, %w3, %b3 prologue = global_avg_pool activation = none : tensor<2x8x4x4xf32>, tensor<5x8xf32>, tensor<5xf32> -> tensor<2x5xf32>
  nn.output %l : tensor<2x5xf32>
}

// -----

// A pooled 1x1 convolution: its N x O output is zeroed, then accumulated
// atomically by the GEMM epilogue.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:   %[[Z:.*]] = gpu.memset async [%{{.*}}] %[[POOLED:.*]], %{{.*}} : memref<2x6xf32>, f32
// CHECK:   gpu.launch_func async [%[[Z]]] @ptxnet_kernels::@conv1x1_gemm_relu_pool_0 {{.*}} args(%{{.*}} : memref<2x4x16xf32>, %{{.*}} : memref<6x4xf32>, %{{.*}} : memref<6xf32>, %[[POOLED]] : memref<2x6xf32>)
// CHECK:   gpu.launch_func async {{.*}} @ptxnet_kernels::@linear_1
// CHECK-LABEL: gpu.func @conv1x1_gemm_relu_pool_0
// CHECK-NOT:   nvvm.griddepcontrol
// CHECK:   memref.atomic_rmw addf %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : (f32, memref<2x6xf32>) -> f32
// With dependent-launch, every kernel waits for the previous one before it
// touches memory, and the model info (last field) tells the runtime to
// launch them early.
// DEP: memref.global "public" constant @ptxnet_model_info : memref<13xi64> = dense<[3, 4, 2, 4, 4, 4, 2, 2, 3, {{[0-9]+}}, {{[0-9]+}}, 0, 1]>
// DEP-LABEL: gpu.func @conv1x1_gemm_relu_pool_0
// DEP-NEXT:    nvvm.griddepcontrol wait
// DEP-NOT:     nvvm.griddepcontrol
// DEP:         memref.atomic_rmw addf
// DEP-LABEL: gpu.func @linear_1
// DEP-NEXT:    nvvm.griddepcontrol wait
module {
nn.graph @head(%x: tensor<2x4x4x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<0.5> : tensor<6x4x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<6xf32>
  %c = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<2x4x4x4xf32>, tensor<6x4x1x1xf32>, tensor<6xf32> -> tensor<2x6x1x1xf32>
  %lw = arith.constant dense<0.3> : tensor<3x6xf32>
  %lb = arith.constant dense<0.4> : tensor<3xf32>
  %l = nn.fused_linear %c, %lw, %lb prologue = flatten activation = none : tensor<2x6x1x1xf32>, tensor<3x6xf32>, tensor<3xf32> -> tensor<2x3xf32>
  nn.output %l : tensor<2x3xf32>
}
}

// -----

// The fused expand + depthwise kernel: expand weights and the hidden tile in
// shared memory, one launch for both convolutions.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:   gpu.launch_func async [%{{.*}}] @ptxnet_kernels::@expand_dw3x3_s2_relu6_0 {{.*}} args(%{{.*}} : memref<1x16x8x8xf32>, %{{.*}} : memref<32x16xf32>, %{{.*}} : memref<32xf32>, %{{.*}} : memref<32x1x3x3xf32>, %{{.*}} : memref<32xf32>, %{{.*}} : memref<1x32x4x4xf32>)
// CHECK-LABEL: gpu.func @expand_dw3x3_s2_relu6_0
// CHECK-SAME: workgroup(%{{.*}} : memref<8x16xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{.*}} : memref<8x289xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK:   gpu.barrier
// CHECK:   gpu.barrier
nn.graph @mbconv(%x: tensor<1x16x8x8xf32>) -> tensor<1x32x4x4xf32> {
  %we = arith.constant dense<0.5> : tensor<32x16x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<32xf32>
  %wd = arith.constant dense<0.25> : tensor<32x1x3x3xf32>
  %y = nn.fused_expand_depthwise %x, %we, %b expand_activation = relu6, %wd, %b strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x16x8x8xf32>, tensor<32x16x1x1xf32>, tensor<32x1x3x3xf32>, tensor<32xf32> -> tensor<1x32x4x4xf32>
  nn.output %y : tensor<1x32x4x4xf32>
}

// -----

// A 1x1 convolution padded only at the bottom and right is no GEMM: its
// output (5x5) is larger than its input (4x4). It runs as a direct
// convolution (the GEMM path used to take it and fail on the output view).
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:       gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_s1_0
// CHECK-LABEL: gpu.func @conv1x1_s1_0
// CHECK-SAME:  memref<1x8x4x4xf32>, %{{.*}}: memref<8x8x1x1xf32>, %{{.*}}: memref<8xf32>, %{{.*}}: memref<1x8x5x5xf32>
nn.graph @pad_bottom_right(%x: tensor<1x8x4x4xf32>) -> tensor<1x8x5x5xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<8xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 1, 1] groups = 1 activation = none : tensor<1x8x4x4xf32>, tensor<8x8x1x1xf32>, tensor<8xf32> -> tensor<1x8x5x5xf32>
  nn.output %y : tensor<1x8x5x5xf32>
}
