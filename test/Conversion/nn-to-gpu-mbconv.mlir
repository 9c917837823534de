// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=bf16 | FileCheck %s --check-prefix=BF16
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 --ptxnet-gpu-to-binary | FileCheck %s --check-prefix=PTX

// A whole MBConv block is one kernel: the grid covers the output patches and
// the images only (y is 1: each block runs through the 72 hidden channels
// itself), and its arguments are the expand + depthwise kernel's with the
// project's f16 filter and f32 bias before the 24-channel output.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@mbconv_dw3x3_s2_relu6_project_mma_f16_0 blocks in (%{{.*}}, %c1{{[_0-9]*}}, %c2{{[_0-9]*}})
// CHECK-SAME: args(%{{.*}} : memref<2x16x32x32xf32>, %{{.*}} : memref<72x16xf16>, %{{.*}} : memref<72xf32>, %{{.*}} : memref<72x1x3x3xf32>, %{{.*}} : memref<72xf32>, %{{.*}} : memref<24x72xf16>, %{{.*}} : memref<24xf32>, %{{.*}} : memref<2x24x16x16xf32>)
// CHECK-NOT: gpu.launch_func
// The expand + depthwise kernel's tiles, then the project's: its filter
// slice (24 outputs padded to 32 rows of 32 + 8) and the depthwise outputs
// of one hidden block (32 x 96 positions + 8); blocks of 256 threads get a
// register budget of 3 blocks per SM.
// CHECK-LABEL: gpu.func @mbconv_dw3x3_s2_relu6_project_mma_f16_0
// CHECK-SAME: workgroup(%{{.*}} : memref<32x24xf16, {{.*}}, %[[B:.*]] : memref<32x{{[0-9]+}}xf16, {{.*}}, %{{.*}} : memref<{{[0-9]+}}xi16, {{.*}}, %[[P:.*]] : memref<32x40xf16, {{.*}}, %[[D:.*]] : memref<32x104xf16, {{.*}})
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>, nvvm.minctasm = 3
// The loop over the three hidden blocks carries the project's accumulators.
// CHECK: scf.for %{{.*}} = %c0{{[_0-9]*}} to %c3{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args(
// CHECK:   gpu.barrier
// CHECK:   nvgpu.device_async_copy %arg5[{{.*}}], %[[P]][{{.*}}], 8, %{{.*}} {bypassL1} : memref<24x72xf16>
// The expand's K loop, its MMAs, the hidden tile...
// CHECK:   scf.for
// CHECK:     nvgpu.mma.sync
// ...the depthwise phase, on f16 pairs (f16-depthwise-math), writes pairs
// of 16-bit outputs to the project's B tile (no store to the output
// here)...
// CHECK-NOT: %arg7
// CHECK:   vector.shuffle %{{.*}}, %{{.*}} [0, 2] : vector<2xf16>, vector<2xf16>
// CHECK-NOT: %arg7
// CHECK:   arith.addf %{{.*}}, %{{.*}} fastmath<contract> : vector<2xf16>
// CHECK-NOT: %arg7
// CHECK:   vector.store %{{.*}}, %[[D]][%{{.*}}, %{{.*}}] {alignment = 4 : i64} : memref<32x104xf16, #gpu.address_space<workgroup>>, vector<2xf16>
// CHECK-NOT: %arg7
// CHECK:   gpu.barrier
// ...and the project multiplies it: A from the filter slice, B transposed
// from the depthwise outputs.
// CHECK:   nvgpu.ldmatrix %[[P]]
// CHECK:   nvgpu.ldmatrix %[[D]]{{.*}} {numTiles = 2 : i32, transpose = true}
// CHECK:   nvgpu.mma.sync
// CHECK:   scf.yield
// After the loop, each fragment row leaves as a pair (the width is even).
// CHECK: vector.store %{{.*}}, %arg7[%{{.*}}] {alignment = 8 : i64} : memref<2x24x16x16xf32>, vector<2xf32>
// bf16: the same kernel on bf16 operands, its depthwise in float32.
// BF16: gpu.func @mbconv_dw3x3_s2_relu6_project_mma_bf16_0({{.*}}%arg5: memref<24x72xbf16>
// BF16-NOT: vector.shuffle
// BF16: arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// BF16-NOT: vector.shuffle
// BF16: gpu.return
// In the PTX, the budget and the project's MMAs. Within that budget the
// expand loads one B fragment a transposed ldmatrix (x2; pairs by x4 cost
// registers it does not have).
// PTX: minnctapersm 3
// PTX-NOT: ldmatrix.sync.aligned.m8n8.x4.trans
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-NOT: ldmatrix.sync.aligned.m8n8.x4.trans
// PTX: fma.rn.f16x2
// PTX-NOT: ldmatrix.sync.aligned.m8n8.x4.trans
nn.graph @mbconv(%x: tensor<2x16x32x32xf32>) -> tensor<2x24x16x16xf32> {
  %we = arith.constant dense<0.05> : tensor<72x16x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<72xf32>
  %wd = arith.constant dense<0.1> : tensor<72x1x3x3xf32>
  %bd = arith.constant dense<0.2> : tensor<72xf32>
  %wp = arith.constant dense<0.03> : tensor<24x72x1x1xf32>
  %bp = arith.constant dense<0.01> : tensor<24xf32>
  %y = nn.fused_mbconv %x, %we, %be expand_activation = relu6, %wd, %bd strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6, %wp, %bp project_activation = none : tensor<2x16x32x32xf32>, tensor<72x16x1x1xf32>, tensor<72x1x3x3xf32>, tensor<72xf32>, tensor<24x72x1x1xf32>, tensor<24xf32> -> tensor<2x24x16x16xf32>
  nn.output %y : tensor<2x24x16x16xf32>
}

// -----

// An odd output width: each fragment row leaves as two scalars, the second
// one guarded by the width; the project's ReLU is applied first. The block
// is smaller than 256 threads: no register budget.
// CHECK-LABEL: gpu.func @mbconv_dw3x3_s1_relu6_project_relu_mma_f16_1
// CHECK-NOT: nvvm.minctasm
// CHECK: scf.for
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : vector<2xf32>
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %arg7[{{.*}}] : memref<1x8x5x7xf32>
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %arg7[{{.*}}] : memref<1x8x5x7xf32>
nn.graph @odd_width(%x: tensor<1x8x5x7xf32>) -> tensor<1x8x5x7xf32> {
  %we = arith.constant dense<0.05> : tensor<32x8x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<32xf32>
  %wd = arith.constant dense<0.1> : tensor<32x1x3x3xf32>
  %bd = arith.constant dense<0.2> : tensor<32xf32>
  %wp = arith.constant dense<0.03> : tensor<8x32x1x1xf32>
  %bp = arith.constant dense<0.01> : tensor<8xf32>
  %w8 = arith.constant dense<0.1> : tensor<8x1x3x3xf32>
  %d = nn.fused_conv2d %x, %w8, %bp strides = [1, 1] padding = [1, 1, 1, 1] groups = 8 activation = relu : tensor<1x8x5x7xf32>, tensor<8x1x3x3xf32>, tensor<8xf32> -> tensor<1x8x5x7xf32>
  %y = nn.fused_mbconv %d, %we, %be expand_activation = relu6, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] activation = relu6, %wp, %bp project_activation = relu : tensor<1x8x5x7xf32>, tensor<32x8x1x1xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>, tensor<8x32x1x1xf32>, tensor<8xf32> -> tensor<1x8x5x7xf32>
  nn.output %y : tensor<1x8x5x7xf32>
}

// -----

// From f16 input (a depthwise's output) in one K slice staged by cp.async,
// each hidden block's expand filter and input slice are copied during the
// previous block's project: the first block's before the loop; in the loop,
// the project filter's copies are their own group, the wait at the top
// leaves just that one in flight (numGroups = 1), the one before the project
// waits for it, and after that barrier (A and B free) the next block's
// copies are issued.
// CHECK-LABEL: gpu.func @mbconv_dw3x3_s2_relu6_project_mma_f16_1
// CHECK-SAME: workgroup(%[[A:.*]] : memref<32x24xf16, {{.*}}, %[[B:.*]] : memref<32x520xf16, {{.*}}, %{{.*}} : memref<512xi16, {{.*}}, %[[P:.*]] : memref<32x40xf16, {{.*}}, %[[D:.*]] : memref<32x104xf16, {{.*}})
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[A]][{{.*}}]
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %[[B]][{{.*}}], 4
// CHECK: nvgpu.device_async_create_group
// CHECK-NOT: nvgpu.device_async_wait
// CHECK: scf.for %{{.*}} = %c0{{[_0-9]*}} to %c3{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args(
// CHECK: arith.muli
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: nvgpu.device_async_copy %arg0
// CHECK:   nvgpu.device_async_copy %arg5[{{.*}}], %[[P]][{{.*}}]
// CHECK:   %[[PG:.*]] = nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %[[PG]] {numGroups = 1 : i32}
// CHECK-NOT: nvgpu.device_async_copy
// CHECK:   nvgpu.mma.sync
// CHECK-NOT: nvgpu.device_async_copy
// CHECK:   vector.store %{{.*}}, %[[D]]
// CHECK-NOT: nvgpu.device_async_copy
// CHECK:   nvgpu.device_async_wait %[[PG]] {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK:   scf.if
// CHECK:     nvgpu.device_async_copy %arg1[{{.*}}], %[[A]][{{.*}}]
// CHECK:     nvgpu.device_async_copy %arg0[{{.*}}], %[[B]][{{.*}}], 4
// CHECK:     nvgpu.device_async_create_group
// CHECK:   nvgpu.ldmatrix %[[P]]
// CHECK:   nvgpu.mma.sync
// CHECK:   scf.yield
nn.graph @mbconv_prefetch(%x: tensor<2x16x32x32xf32>) -> tensor<2x24x16x16xf32> {
  %w0 = arith.constant dense<0.1> : tensor<16x1x3x3xf32>
  %b0 = arith.constant dense<0.1> : tensor<16xf32>
  %d = nn.fused_conv2d %x, %w0, %b0 strides = [1, 1] padding = [1, 1, 1, 1] groups = 16 activation = relu6 : tensor<2x16x32x32xf32>, tensor<16x1x3x3xf32>, tensor<16xf32> -> tensor<2x16x32x32xf32>
  %we = arith.constant dense<0.05> : tensor<72x16x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<72xf32>
  %wd = arith.constant dense<0.1> : tensor<72x1x3x3xf32>
  %bd = arith.constant dense<0.2> : tensor<72xf32>
  %wp = arith.constant dense<0.03> : tensor<24x72x1x1xf32>
  %bp = arith.constant dense<0.01> : tensor<24xf32>
  %y = nn.fused_mbconv %d, %we, %be expand_activation = relu6, %wd, %bd strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6, %wp, %bp project_activation = none : tensor<2x16x32x32xf32>, tensor<72x16x1x1xf32>, tensor<72x1x3x3xf32>, tensor<72xf32>, tensor<24x72x1x1xf32>, tensor<24xf32> -> tensor<2x24x16x16xf32>
  nn.output %y : tensor<2x24x16x16xf32>
}
