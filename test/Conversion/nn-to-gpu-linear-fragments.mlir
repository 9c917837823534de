// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s

// Tensor-core linear layers whose fragments come from device memory, at
// batch 11. Their 6 and 1 blocks of 16 outputs leave most SMs idle, so each
// block takes one image fragment of 8 (a second block row takes images 8-10,
// its fragment partial). The 1x1 convolution's f16 output, flattened to
// 1120 features, feeds 1120 -> 96 as 16-bit rows: 35 K chunks over 18 warps
// of 2 rounds, only the second masked (its loads select zeros past the
// chunks), both rounds' loads (2 weight pieces, 1 input piece) before the
// MMAs, each round 2 k-steps x 1 image fragment: 4 MMAs. The 96 -> 10 after
// it reads that layer's float32 output as hi + lo halves: 3 chunks, 2 warps,
// 8 MMAs.
// CHECK: @ptxnet_kernels::@linear_mma_fragments_f16_relu6_1 blocks in (%c6, %c2{{.*}}, %c1{{.*}}) threads in (%c576, {{.*}} args(%{{.*}} : memref<11x1120xf16>
// CHECK: @ptxnet_kernels::@linear_mma_fragments_f16_2 blocks in (%c1{{.*}}, %c2{{.*}}, %c1{{.*}}) threads in (%c64, {{.*}} args(%{{.*}} : memref<11x96xf32>
// CHECK-LABEL: gpu.func @linear_mma_fragments_f16_relu6_1
// CHECK-SAME: workgroup(%{{.*}} : memref<18x16x12xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: arith.select {{.*}} : vector<8xf16>
// CHECK-COUNT-3: vector.load %arg{{[01]}}{{.*}} vector<8xf16>
// CHECK-NOT: nvgpu.mma.sync
// CHECK: arith.select {{.*}} : vector<8xf16>
// CHECK-NOT: arith.subf
// CHECK-COUNT-4: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: memref.store
// CHECK-LABEL: gpu.func @linear_mma_fragments_f16_2
// CHECK: vector.load %arg0{{.*}} : memref<11x96xf32>, vector<4xf32>
// CHECK: arith.subf
// CHECK-COUNT-8: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: gpu.return
nn.graph @two_layers(%x: tensor<11x8x8x7xf32>) -> tensor<11x10xf32> {
  %wc = arith.constant dense<0.05> : tensor<20x8x1x1xf32>
  %bc = arith.constant dense<0.1> : tensor<20xf32>
  %c = nn.fused_conv2d %x, %wc, %bc strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<11x8x8x7xf32>, tensor<20x8x1x1xf32>, tensor<20xf32> -> tensor<11x20x8x7xf32>
  %w1 = arith.constant dense<0.01> : tensor<96x1120xf32>
  %b1 = arith.constant dense<0.1> : tensor<96xf32>
  %h = nn.fused_linear %c, %w1, %b1 prologue = flatten activation = relu6 : tensor<11x20x8x7xf32>, tensor<96x1120xf32>, tensor<96xf32> -> tensor<11x96xf32>
  %w2 = arith.constant dense<0.02> : tensor<10x96xf32>
  %b2 = arith.constant dense<0.2> : tensor<10xf32>
  %y = nn.fused_linear %h, %w2, %b2 prologue = flatten activation = none : tensor<11x96xf32>, tensor<10x96xf32>, tensor<10xf32> -> tensor<11x10xf32>
  nn.output %y : tensor<11x10xf32>
}

// -----

// 2112 outputs are 132 blocks of 16, an SM each: the blocks keep both image
// fragments of batch 11 (one block row). 4 K chunks over 2 warps of 2
// rounds, each 2 k-steps x 2 fragments x (hi, lo): 16 MMAs.
// CHECK: @ptxnet_kernels::@linear_mma_fragments_f16_0 blocks in (%c132, %c1{{.*}}, %c1{{.*}}) threads in (%c64,
// CHECK-LABEL: gpu.func @linear_mma_fragments_f16_0
// CHECK-SAME: workgroup(%{{.*}} : memref<2x16x20xf32, #gpu.address_space<workgroup>>
// CHECK-COUNT-16: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: gpu.return
nn.graph @many_outputs(%x: tensor<11x128xf32>) -> tensor<11x2112xf32> {
  %w = arith.constant dense<0.01> : tensor<2112x128xf32>
  %b = arith.constant dense<0.1> : tensor<2112xf32>
  %y = nn.fused_linear %x, %w, %b prologue = flatten activation = none : tensor<11x128xf32>, tensor<2112x128xf32>, tensor<2112xf32> -> tensor<11x2112xf32>
  nn.output %y : tensor<11x2112xf32>
}

// -----

// 200 features (not a multiple of 32): CUDA cores.
// CHECK: @ptxnet_kernels::@linear_0
// CHECK-NOT: nvgpu.mma.sync
nn.graph @odd_k(%x: tensor<2x200xf32>) -> tensor<2x10xf32> {
  %w = arith.constant dense<0.01> : tensor<10x200xf32>
  %b = arith.constant dense<0.1> : tensor<10xf32>
  %y = nn.fused_linear %x, %w, %b prologue = flatten activation = none : tensor<2x200xf32>, tensor<10x200xf32>, tensor<10xf32> -> tensor<2x10xf32>
  nn.output %y : tensor<2x10xf32>
}

// -----

// A pooling prologue (the rows are means over 4x4 maps): CUDA cores.
// CHECK: @ptxnet_kernels::@pool_linear_0
// CHECK-NOT: nvgpu.mma.sync
nn.graph @pooled(%x: tensor<2x64x4x4xf32>) -> tensor<2x10xf32> {
  %w = arith.constant dense<0.01> : tensor<10x64xf32>
  %b = arith.constant dense<0.1> : tensor<10xf32>
  %y = nn.fused_linear %x, %w, %b prologue = global_avg_pool activation = none : tensor<2x64x4x4xf32>, tensor<10x64xf32>, tensor<10xf32> -> tensor<2x10xf32>
  nn.output %y : tensor<2x10xf32>
}

// -----

// 12800 features, past the CUDA-core kernel's 48 KB row stage (an error in
// fp32: nn-to-gpu-invalid.mlir): the fragment kernel reads the rows from
// device memory, 400 K chunks over 20 warps.
// CHECK: @ptxnet_kernels::@linear_mma_fragments_f16_0 blocks in (%c1{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c640,
// CHECK-LABEL: gpu.func @linear_mma_fragments_f16_0
// CHECK-SAME: workgroup(%{{.*}} : memref<20x16x12xf32, #gpu.address_space<workgroup>>
nn.graph @wide(%x: tensor<2x12800xf32>) -> tensor<2x10xf32> {
  %w = arith.constant dense<0.01> : tensor<10x12800xf32>
  %b = arith.constant dense<0.1> : tensor<10xf32>
  %y = nn.fused_linear %x, %w, %b prologue = flatten activation = none : tensor<2x12800xf32>, tensor<10x12800xf32>, tensor<10xf32> -> tensor<2x10xf32>
  nn.output %y : tensor<2x10xf32>
}

// -----

// 28672 features at batch 3: 896 K chunks, 45 rounds per warp, in groups of 4
// (each round 2 weight and 2 input pieces). Past 8 groups the groups of whole
// rounds run in a loop that carries the accumulators (rounds 0-43), and the
// last, partial round follows it, its loads masked.
// CHECK: @ptxnet_kernels::@linear_mma_fragments_f16_relu_0 blocks in (%c1{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c640,
// CHECK-LABEL: gpu.func @linear_mma_fragments_f16_relu_0
// CHECK-NOT: arith.select {{.*}} : vector<8xf16>
// CHECK: %[[ACC:.*]] = scf.for %{{.*}} = %c0{{.*}} to %c44{{.*}} step %c4{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<2x2xf32>)
// CHECK-NOT: arith.select {{.*}} : vector<8xf16>
// CHECK-COUNT-16: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK: arith.select {{.*}} : vector<8xf16>
// CHECK: nvgpu.mma.sync({{.*}}, {{.*}}, %[[ACC]])
// CHECK-COUNT-3: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: gpu.barrier
nn.graph @wide_loop(%x: tensor<3x28672xf32>) -> tensor<3x16xf32> {
  %w = arith.constant dense<0.01> : tensor<16x28672xf32>
  %b = arith.constant dense<0.1> : tensor<16xf32>
  %y = nn.fused_linear %x, %w, %b prologue = flatten activation = relu : tensor<3x28672xf32>, tensor<16x28672xf32>, tensor<16xf32> -> tensor<3x16xf32>
  nn.output %y : tensor<3x16xf32>
}
