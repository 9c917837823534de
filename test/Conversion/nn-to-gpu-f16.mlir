// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 --ptxnet-gpu-to-binary | FileCheck %s --check-prefix=PTX
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 f16-depthwise-math=false" | FileCheck %s --check-prefix=F32DW

// precision=f16 stores activations as f16 between kernels: the workspace
// holds the two 2x64x8x8 intermediates live at once in 2 x 16 KB (f32 would
// need 64 KB). The model info records the precision (field 14: 2 = f16; field 15: no dependent launch).
// CHECK: memref.global "public" constant @ptxnet_model_info : memref<15xi64> = dense<[3, 4, 2, 48, 8, 8, 4, 2, 40, 8, 8, 32768, {{[0-9]+}}, 2, 0]>

// The graph input and output stay f32 (the host ABI); the GEMM filters are
// packed as f16, biases and depthwise filters as f32.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu6_0
// CHECK-SAME: args(%{{.*}} : memref<2x48x64xf32>, %{{.*}} : memref<64x48xf16>, %{{.*}} : memref<64xf32>, %{{.*}} : memref<2x64x64xf16>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@depthwise3x3_s1_relu6_1
// CHECK-SAME: args(%{{.*}} : memref<2x64x8x8xf16>, %{{.*}} : memref<64x1x3x3xf32>, %{{.*}} : memref<64xf32>, %{{.*}} : memref<2x64x8x8xf16>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_2
// CHECK-SAME: args(%{{.*}} : memref<2x64x64xf16>, %{{.*}} : memref<40x64xf16>, %{{.*}} : memref<40xf32>, %{{.*}} : memref<2x40x64xf32>)

// The f16 GEMM: all 48 input channels in one K slice (gemm-single-slice-k),
// the filter double-buffered by cp.async (8 halves = 16 bytes a copy), rows
// padded to 56 halves; fragments loaded
// with ldmatrix (B transposed), m16n8k16 with f32 accumulators; bias and
// ReLU6 are applied as the output tile is staged, in f16, through shared
// memory, then rows are copied out 8 halves (16 bytes) at a time.
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu6_0
// CHECK-SAME: workgroup(%[[A:.*]] : memref<2x{{32|64}}x56xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[B:.*]] : memref<1x48x{{[0-9]+}}xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[C:.*]] : memref<{{32|64}}x{{[0-9]+}}xf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[A]][{{.*}}], 8, %{{.*}} {bypassL1} : memref<64x48xf16>
// The graph input is f32: B is read in vectors of 4 floats (16 bytes) and
// converted to f16 as it is prefetched.
// CHECK: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<2x48x64xf32>, vector<4xf32>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// CHECK: scf.for
// CHECK: vector.store %{{.*}}, %[[B]][{{.*}}] {alignment = 8 : i64} : memref<1x48x{{[0-9]+}}xf16, #gpu.address_space<workgroup>>, vector<4xf16>
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK: gpu.barrier
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// CHECK: nvgpu.ldmatrix %[[A]][{{.*}}] {numTiles = 4 : i32, transpose = false} : {{.*}} -> vector<4x2xf16>
// Two B fragments (8 columns each) by one transposed ldmatrix x4.
// CHECK: %[[PAIR_B:.*]] = nvgpu.ldmatrix %[[B]][{{.*}}] {numTiles = 4 : i32, transpose = true} : {{.*}} -> vector<4x2xf16>
// CHECK-COUNT-4: vector.extract %[[PAIR_B]]
// CHECK: vector.from_elements {{.*}} : vector<2x2xf16>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// The epilogue takes a fragment row's two adjacent columns as one pair:
// bias added in f32, one conversion, ReLU6 on the f16 pair, one store.
// CHECK: %[[PAIR:.*]] = vector.from_elements %{{.*}}, %{{.*}} : vector<2xf32>
// CHECK: %[[H:.*]] = arith.truncf %[[PAIR]] : vector<2xf32> to vector<2xf16>
// CHECK: %[[R:.*]] = arith.maximumf %[[H]], %{{.*}} : vector<2xf16>
// CHECK: %[[R6:.*]] = arith.minimumf %[[R]], %{{.*}} : vector<2xf16>
// CHECK: vector.store %[[R6]], %[[C]][{{.*}}] {alignment = 4 : i64} : {{.*}}, vector<2xf16>
// CHECK: gpu.barrier
// CHECK: %[[V:.*]] = vector.load %[[C]][{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<8xf16>
// CHECK: vector.store %[[V]], %arg3[{{.*}}] {alignment = 16 : i64} : memref<2x64x64xf16>, vector<8xf16>

// The depthwise kernel reads f16 and computes in f32.
// CHECK-LABEL: gpu.func @depthwise3x3_s1_relu6_1
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to f16

// Shared tiles are 16-byte aligned (ldmatrix rows, cp.async, vectors).
// PTX: .shared .align 16 .b8 __wg_conv1x1_mma_f16_relu6_0_0[
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX-NOT: ldmatrix.sync.aligned.m8n8.x2.trans
// PTX-DAG: cvt.rn.f16x2.f32
// PTX-DAG: max.NaN.f16x2
// PTX-DAG: min.NaN.f16x2
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-DAG: cvt.rn.f16.f32
nn.graph @mbconv(%x: tensor<2x48x8x8xf32>) -> tensor<2x40x8x8xf32> {
  %we = arith.constant dense<0.05> : tensor<64x48x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<64xf32>
  %wd = arith.constant dense<0.1> : tensor<64x1x3x3xf32>
  %bd = arith.constant dense<0.1> : tensor<64xf32>
  %wp = arith.constant dense<0.02> : tensor<40x64x1x1xf32>
  %bp = arith.constant dense<0.1> : tensor<40xf32>
  %e = nn.fused_conv2d %x, %we, %be strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x48x8x8xf32>, tensor<64x48x1x1xf32>, tensor<64xf32> -> tensor<2x64x8x8xf32>
  %d = nn.fused_conv2d %e, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] groups = 64 activation = relu6 : tensor<2x64x8x8xf32>, tensor<64x1x3x3xf32>, tensor<64xf32> -> tensor<2x64x8x8xf32>
  %y = nn.fused_conv2d %d, %wp, %bp strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<2x64x8x8xf32>, tensor<40x64x1x1xf32>, tensor<40xf32> -> tensor<2x40x8x8xf32>
  nn.output %y : tensor<2x40x8x8xf32>
}

// -----

// A split-K projection accumulates atomically, so in f16 mode its output is
// still stored as f32 (zeroed first), and the next GEMM reads it as f32.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.memset async [%{{.*}}] %{{.*}}, %{{.*}} : memref<2x320x64xf32>, f32
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_0
// CHECK-SAME: args(%{{.*}} : memref<2x1152x64xf32>, %{{.*}} : memref<320x1152xf16>, %{{.*}} : memref<320xf32>, %{{.*}} : memref<2x320x64xf32>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu6_1
// CHECK-SAME: args(%{{.*}} : memref<2x320x64xf32>, %{{.*}} : memref<64x320xf16>, %{{.*}} : memref<64xf32>, %{{.*}} : memref<2x64x64xf32>)
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_0
// CHECK: gpu.block_id  z
// CHECK: memref.atomic_rmw addf %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : (f32, memref<2x320x64xf32>) -> f32
nn.graph @project(%x: tensor<2x1152x8x8xf32>) -> tensor<2x64x8x8xf32> {
  %w = arith.constant dense<0.01> : tensor<320x1152x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<320xf32>
  %w2 = arith.constant dense<0.01> : tensor<64x320x1x1xf32>
  %b2 = arith.constant dense<0.1> : tensor<64xf32>
  %p = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<2x1152x8x8xf32>, tensor<320x1152x1x1xf32>, tensor<320xf32> -> tensor<2x320x8x8xf32>
  %y = nn.fused_conv2d %p, %w2, %b2 strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x320x8x8xf32>, tensor<64x320x1x1xf32>, tensor<64xf32> -> tensor<2x64x8x8xf32>
  nn.output %y : tensor<2x64x8x8xf32>
}

// -----

// An expand + depthwise pair in f16 runs its expand on tensor cores: blocks
// of 32 hidden channels over an input region sized to the layer (here the
// whole 8x8 output map: 17 rows of the 16x16 input, halo included, staged
// from one column further left so that every pair of f32 values is an
// aligned 8-byte vector, 17 x 18 positions padded to 320, a warp per 64),
// the expand filter (f16, 16 input channels) by cp.async, with threads past
// the last piece copying nothing, the padding mask, the region staged as f16
// pairs (all loads, then all stores), ldmatrix (two B fragments a
// transposed x4) + m16n8k16 from accumulators
// that start at the bias, then the 32 x 320 hidden tile in the same shared
// buffer, as f16 pairs activated and masked, and the depthwise from there. 96 hidden
// channels: 1 patch, 3 channel blocks, 2 images.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@expand_dw3x3_s2_relu6_mma_f16_0 blocks in (%c1{{.*}}, %c3, %c2) threads in (%c160,
// CHECK-SAME: args(%{{.*}} : memref<2x16x16x16xf32>, %{{.*}} : memref<96x16xf16>, %{{.*}} : memref<96xf32>, %{{.*}} : memref<96x1x3x3xf32>, %{{.*}} : memref<96xf32>, %{{.*}} : memref<2x96x8x8xf32>)
// CHECK-LABEL: gpu.func @expand_dw3x3_s2_relu6_mma_f16_0
// CHECK-SAME: workgroup(%[[A:.*]] : memref<32x24xf16, {{.*}}, %[[B:.*]] : memref<32x328xf16, {{.*}}, %[[M:.*]] : memref<320xi16, {{.*}}, %[[TAPS:.*]] : memref<32x10xf32, {{.*}}) kernel
// The depthwise taps and bias of the block's 32 channels go to their tile
// by 4-byte copies that the expand filter's wait covers.
// CHECK: nvgpu.device_async_copy %arg3[{{.*}}], %[[TAPS]][{{.*}}], 1, %{{.*}} : memref<96x1x3x3xf32>
// CHECK: nvgpu.device_async_copy %arg4[{{.*}}], %[[TAPS]][{{.*}}], 1, %{{.*}} : memref<96xf32>
// CHECK: scf.if
// CHECK:   nvgpu.device_async_copy %arg1[{{.*}}], %[[A]][{{.*}}], 8, %{{.*}} {bypassL1}
// CHECK: %[[G:.*]] = nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// CHECK: scf.if
// CHECK:   vector.store %{{.*}}, %[[M]][%{{.*}}] {alignment = 4 : i64} : {{.*}}, vector<2xi16>
// CHECK: %[[BIAS:.*]] = vector.from_elements %{{.*}} : vector<2x2xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[BIAS]],
// CHECK:   gpu.barrier
// CHECK:   vector.load %arg0[{{.*}}] {alignment = 8 : i64} : memref<2x16x16x16xf32>, vector<2xf32>
// CHECK:   arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// CHECK:   vector.load %arg0
// CHECK:   scf.if
// CHECK:     vector.store %{{.*}}, %[[B]][{{.*}}] {alignment = 4 : i64} : {{.*}}, vector<2xf16>
// CHECK:   gpu.barrier
// CHECK:   nvgpu.ldmatrix %[[A]]
// CHECK:   nvgpu.ldmatrix %[[B]]{{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK:   nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]}
// Once every warp is done reading B, the buffer takes the hidden tile.
// CHECK: gpu.barrier
// CHECK: %[[MASK:.*]] = vector.load %[[M]][%{{.*}}] {{.*}} vector<2xi16>
// CHECK: arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// CHECK: arith.maximumf %{{.*}} : vector<2xf16>
// CHECK: %[[H:.*]] = arith.minimumf %{{.*}} : vector<2xf16>
// CHECK: %[[BITS:.*]] = vector.bitcast %[[H]] : vector<2xf16> to vector<2xi16>
// CHECK: %[[ZEROED:.*]] = arith.andi %[[BITS]], %[[MASK]] : vector<2xi16>
// CHECK: %[[P:.*]] = vector.bitcast %[[ZEROED]] : vector<2xi16> to vector<2xf16>
// CHECK: vector.store %[[P]], %[[B]]
// CHECK: gpu.barrier
// The depthwise: a thread owns two adjacent columns of a channel, reads its
// 9 taps and bias once from their tile as f16 pairs and walks down the columns, reading each
// hidden row once as aligned pairs. By default (f16-depthwise-math) both
// columns are one f16 pair: at stride 2 (with the window one column into
// the first loaded pair) each tap's inputs are the odd or even halves of
// two loaded pairs, one shuffle, then one multiply-add of f16 pairs
// (fma.rn.f16x2). The 8-column map takes the outputs as pairs.
// CHECK: scf.for
// CHECK:   scf.if
// CHECK-COUNT-10: memref.load %[[TAPS]]
// CHECK-COUNT-10: arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// CHECK:   %[[H0:.*]] = vector.load %[[B]][{{.*}}] {alignment = 4 : i64} : {{.*}}, vector<2xf16>
// CHECK:   %[[H1:.*]] = vector.load %[[B]][{{.*}}] {alignment = 4 : i64} : {{.*}}, vector<2xf16>
// CHECK:   %[[H2:.*]] = vector.load %[[B]][{{.*}}] {alignment = 4 : i64} : {{.*}}, vector<2xf16>
// CHECK:   %[[T0:.*]] = vector.shuffle %[[H0]], %[[H1]] [1, 3] : vector<2xf16>, vector<2xf16>
// CHECK:   %[[T1:.*]] = vector.shuffle %[[H1]], %[[H2]] [0, 2] : vector<2xf16>, vector<2xf16>
// CHECK:   %[[T2:.*]] = vector.shuffle %[[H1]], %[[H2]] [1, 3] : vector<2xf16>, vector<2xf16>
// CHECK:   arith.mulf %[[T0]], %{{.*}} fastmath<contract> : vector<2xf16>
// CHECK:   arith.extf %{{.*}} : vector<2xf16> to vector<2xf32>
// CHECK:   vector.store %{{.*}}, %arg5[{{.*}}] {alignment = 8 : i64} : memref<2x96x8x8xf32>, vector<2xf32>
// With f16-depthwise-math=false, float32 FMAs on the converted values.
// F32DW-LABEL: gpu.func @expand_dw3x3_s2_relu6_mma_f16_0
// F32DW-COUNT-10: memref.load %{{.*}} : memref<32x10xf32, #gpu.address_space<workgroup>>
// F32DW-NOT: vector.shuffle
// F32DW: arith.extf %{{.*}} : f16 to f32
// F32DW-NOT: vector.shuffle
// F32DW: arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// F32DW-NOT: fastmath<contract> : vector<2xf16>
// F32DW: gpu.return
// PTX: fma.rn.f16x2
nn.graph @expand_dw(%x: tensor<2x16x16x16xf32>) -> tensor<2x96x8x8xf32> {
  %we = arith.constant dense<0.05> : tensor<96x16x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<96xf32>
  %wd = arith.constant dense<0.1> : tensor<96x1x3x3xf32>
  %bd = arith.constant dense<0.2> : tensor<96xf32>
  %y = nn.fused_expand_depthwise %x, %we, %be expand_activation = relu6, %wd, %bd strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6 : tensor<2x16x16x16xf32>, tensor<96x16x1x1xf32>, tensor<96x1x3x3xf32>, tensor<96xf32> -> tensor<2x96x8x8xf32>
  nn.output %y : tensor<2x96x8x8xf32>
}

// -----

// An expand from 24 input channels stages K as one slice of 32 (channels 24
// to 31 zero): with two slices of 16, the second slice's staged values would
// be live together with the accumulators.
// CHECK-LABEL: gpu.func @expand_dw3x3_s2_relu6_mma_f16_0
// CHECK-SAME: workgroup(%{{.*}} : memref<32x40xf16, {{.*}}, %{{.*}} : memref<32x328xf16, {{.*}}, %{{.*}} : memref<320xi16, {{.*}}) kernel
// CHECK: scf.for %{{.*}} = %c0{{[_0-9]*}} to %c32{{[_0-9]*}} step %c32{{[_0-9]*}} iter_args(
nn.graph @expand_dw24(%x: tensor<1x24x16x16xf32>) -> tensor<1x64x8x8xf32> {
  %we = arith.constant dense<0.05> : tensor<64x24x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<64xf32>
  %wd = arith.constant dense<0.1> : tensor<64x1x3x3xf32>
  %bd = arith.constant dense<0.2> : tensor<64xf32>
  %y = nn.fused_expand_depthwise %x, %we, %be expand_activation = relu6, %wd, %bd strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6 : tensor<1x24x16x16xf32>, tensor<64x24x1x1xf32>, tensor<64x1x3x3xf32>, tensor<64xf32> -> tensor<1x64x8x8xf32>
  nn.output %y : tensor<1x64x8x8xf32>
}

// -----

// From f16 activations (here a depthwise's output) the region goes to shared
// memory by cp.async, in vectors of 4 halves (8 bytes: the 16x16 map staged
// from a column left of the window), zero-filled (no source bytes) where a
// vector pads; no staged value passes through registers. The expand
// filter's copies join the first slice's group: one wait for both.
// CHECK-LABEL: gpu.func @expand_dw3x3_s1_relu6_mma_f16_1
// CHECK-SAME: (%arg0: memref<2x16x16x16xf16>
// CHECK-SAME: workgroup(%[[A:.*]] : memref<32x24xf16, {{.*}}, %[[B:.*]] : memref<32x264xf16, {{.*}}, %{{.*}} : memref<256xi16, {{.*}}) kernel
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[A]][{{.*}}]
// CHECK-NOT: nvgpu.device_async_wait
// CHECK: scf.for
// CHECK:   gpu.barrier
// CHECK-NOT: vector.load %arg0
// CHECK:   %[[N:.*]] = arith.select %{{.*}}, %c4{{[_0-9]*}}, %c0{{[_0-9]*}} : index
// CHECK:   scf.if
// CHECK:     nvgpu.device_async_copy %arg0[{{.*}}], %[[B]][{{.*}}], 4, %[[N]] : memref<2x16x16x16xf16> to memref<32x264xf16
// CHECK-NOT: vector.load %arg0
// CHECK:   %[[G:.*]] = nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: vector.load %arg0
// CHECK: nvgpu.ldmatrix %[[B]]
nn.graph @expand_dw_f16(%x: tensor<2x16x16x16xf32>) -> tensor<2x64x16x16xf32> {
  %w0 = arith.constant dense<0.1> : tensor<16x1x3x3xf32>
  %b0 = arith.constant dense<0.1> : tensor<16xf32>
  %d = nn.fused_conv2d %x, %w0, %b0 strides = [1, 1] padding = [1, 1, 1, 1] groups = 16 activation = relu6 : tensor<2x16x16x16xf32>, tensor<16x1x3x3xf32>, tensor<16xf32> -> tensor<2x16x16x16xf32>
  %we = arith.constant dense<0.05> : tensor<64x16x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<64xf32>
  %wd = arith.constant dense<0.1> : tensor<64x1x3x3xf32>
  %bd = arith.constant dense<0.2> : tensor<64xf32>
  %y = nn.fused_expand_depthwise %d, %we, %be expand_activation = relu6, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6 : tensor<2x16x16x16xf32>, tensor<64x16x1x1xf32>, tensor<64x1x3x3xf32>, tensor<64xf32> -> tensor<2x64x16x16xf32>
  nn.output %y : tensor<2x64x16x16xf32>
}
