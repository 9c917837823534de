// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=bf16 | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=bf16 --ptxnet-gpu-to-binary | FileCheck %s --check-prefix=PTX

// precision=bf16 takes the f16 path with bfloat16 as the 16-bit type:
// activations stored as bf16 between kernels, GEMM filters packed as bf16,
// m16n8k16 on ldmatrix fragments with float32 accumulation. The model info
// records the precision (field 14: 3 = bf16).
// CHECK: memref.global "public" constant @ptxnet_model_info : memref<15xi64> = dense<[3, 4, 2, 48, 8, 8, 4, 2, 40, 8, 8, 32768, {{[0-9]+}}, 3, 0]>
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_bf16_relu6_0
// CHECK-SAME: args(%{{.*}} : memref<2x48x64xf32>, %{{.*}} : memref<64x48xbf16>, %{{.*}} : memref<64xf32>, %{{.*}} : memref<2x64x64xbf16>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@depthwise3x3_s1_relu6_1
// CHECK-SAME: args(%{{.*}} : memref<2x64x8x8xbf16>, %{{.*}} : memref<64x1x3x3xf32>, %{{.*}} : memref<64xf32>, %{{.*}} : memref<2x64x8x8xbf16>)
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_bf16_2
// CHECK-SAME: args(%{{.*}} : memref<2x64x64xbf16>, %{{.*}} : memref<40x64xbf16>, %{{.*}} : memref<40xf32>, %{{.*}} : memref<2x40x64xf32>)
// CHECK-LABEL: gpu.func @conv1x1_mma_bf16_relu6_0
// CHECK-SAME: workgroup(%[[A:.*]] : memref<2x{{32|64}}x56xbf16, {{.*}}, %[[B:.*]] : memref<1x48x{{[0-9]+}}xbf16, {{.*}}, %[[C:.*]] : memref<{{32|64}}x{{[0-9]+}}xbf16,
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[A]][{{.*}}], 8, %{{.*}} {bypassL1} : memref<64x48xbf16>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK: nvgpu.ldmatrix %[[A]][{{.*}}] {numTiles = 4 : i32, transpose = false} : {{.*}} -> vector<4x2xbf16>
// Two B fragments (8 columns each) by one transposed ldmatrix x4.
// CHECK: %[[PAIR_B:.*]] = nvgpu.ldmatrix %[[B]][{{.*}}] {numTiles = 4 : i32, transpose = true} : {{.*}} -> vector<4x2xbf16>
// CHECK-COUNT-4: vector.extract %[[PAIR_B]]
// CHECK: vector.from_elements {{.*}} : vector<2x2xbf16>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: arith.truncf %{{.*}} : vector<2xf32> to vector<2xbf16>
// CHECK: vector.store %{{.*}}, %arg3[{{.*}}] {alignment = 16 : i64} : memref<2x64x64xbf16>, vector<8xbf16>
// CHECK-LABEL: gpu.func @depthwise3x3_s1_relu6_1
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16

// In the PTX, bf16 tensor-core MMAs (ptxnet-convert-nvgpu-to-nvvm's own
// pattern; upstream lowers no bf16 mma.sync) and round-to-nearest converts.
// PTX: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX: cvt.rn.bf16x2.f32
// PTX-NOT: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
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

// The fused expand + depthwise kernel takes the expand filter's type for its
// tensor-core operands: bf16 here. 0.05 packs as bf16 0x3D4D (0.050048828),
// so the first two bytes of the blob (the expand filter) are 4D 3D.
// CHECK: memref.global "public" constant @ptxnet_weights : memref<{{[0-9]+}}xi8> = dense<"0x4D3D4D3D
// CHECK-LABEL: gpu.func @expand_dw3x3_s2_relu6_mma_bf16_0
// CHECK-SAME: workgroup(%{{.*}} : memref<32x24xbf16, {{.*}}, %{{.*}} : memref<32x328xbf16, {{.*}}, %{{.*}} : memref<320xi16, {{.*}}) kernel
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
nn.graph @expand_dw(%x: tensor<2x16x16x16xf32>) -> tensor<2x96x8x8xf32> {
  %we = arith.constant dense<0.05> : tensor<96x16x1x1xf32>
  %be = arith.constant dense<0.1> : tensor<96xf32>
  %wd = arith.constant dense<0.1> : tensor<96x1x3x3xf32>
  %bd = arith.constant dense<0.2> : tensor<96xf32>
  %y = nn.fused_expand_depthwise %x, %we, %be expand_activation = relu6, %wd, %bd strides = [2, 2] padding = [1, 1, 1, 1] activation = relu6 : tensor<2x16x16x16xf32>, tensor<96x16x1x1xf32>, tensor<96x1x3x3xf32>, tensor<96xf32> -> tensor<2x96x8x8xf32>
  nn.output %y : tensor<2x96x8x8xf32>
}
