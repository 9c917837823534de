// RUN: ptxnet-opt %s --convert-nn-to-gpu=precision=f16 | FileCheck %s --check-prefix=FRAG
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=f16 linear-mma-min-batch=3" | FileCheck %s --check-prefix=FRAG
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=f16 linear-fragments=false" | FileCheck %s
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=f16 linear-mma-min-batch=2" | FileCheck %s --check-prefix=MMA
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=tf32 linear-mma-min-batch=1" | FileCheck %s --check-prefix=TF32
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=fp32 linear-mma-min-batch=1" | FileCheck %s --check-prefix=FP32
// RUN: not ptxnet-opt %s --convert-nn-to-gpu="precision=f16 linear-mma-min-batch=-1" 2>&1 | FileCheck %s --check-prefix=BAD

// By default (and below linear-mma-min-batch images) f16 and bf16 run the
// layer on tensor cores, each warp loading its fragments from device memory:
// one block for 10 outputs x 2 images, 4 warps of 2 rounds for the 8 K
// chunks of 32. A lane's share of a chunk is one 16-byte piece of each of its
// two weight rows and two of its input row, both rounds' loads before the
// MMAs; the float32 input goes in as hi + lo halves (two MMAs per k-step),
// and the warps' partial sums meet in shared memory (rows of 8 images padded
// by 4 floats). No loop: the rounds are unrolled.
// FRAG: gpu.launch_func async {{.*}} @ptxnet_kernels::@linear_mma_fragments_f16_0 blocks in (%c1{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c128, {{.*}} args(%{{.*}} : memref<2x256xf32>, %{{.*}} : memref<10x256xf16>, %{{.*}} : memref<10xf32>, %{{.*}} : memref<2x10xf32>)
// FRAG-LABEL: gpu.func @linear_mma_fragments_f16_0
// FRAG-SAME: workgroup(%{{.*}} : memref<4x16x12xf32, #gpu.address_space<workgroup>>
// FRAG-NOT: scf.for
// FRAG: vector.load %arg1{{.*}} : memref<10x256xf16>, vector<8xf16>
// FRAG: vector.load %arg1{{.*}} : memref<10x256xf16>, vector<8xf16>
// FRAG: vector.load %arg0{{.*}} : memref<2x256xf32>, vector<4xf32>
// FRAG: vector.load %arg0{{.*}} : memref<2x256xf32>, vector<4xf32>
// FRAG-NOT: nvgpu.mma.sync
// FRAG: vector.load %arg1{{.*}} : memref<10x256xf16>, vector<8xf16>
// FRAG: vector.load %arg1{{.*}} : memref<10x256xf16>, vector<8xf16>
// FRAG: vector.load %arg0{{.*}} : memref<2x256xf32>, vector<4xf32>
// FRAG: vector.load %arg0{{.*}} : memref<2x256xf32>, vector<4xf32>
// FRAG: %[[HI:.*]] = arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// FRAG: %[[BACK:.*]] = arith.extf %[[HI]] : vector<4xf16> to vector<4xf32>
// FRAG: %[[REST:.*]] = arith.subf %{{.*}}, %[[BACK]] : vector<4xf32>
// FRAG: arith.truncf %[[REST]] : vector<4xf32> to vector<4xf16>
// FRAG-COUNT-8: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// FRAG-NOT: nvgpu.mma.sync
// FRAG: vector.store {{.*}} : memref<4x16x12xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// FRAG: gpu.barrier
// FRAG-COUNT-4: memref.load %arg4
// FRAG-NOT: memref.load %arg4
// FRAG: memref.store {{.*}}, %arg3
// FRAG: gpu.return

// bf16: the same kernel on bf16 halves.
// BF16-LABEL: gpu.func @linear_mma_fragments_bf16_0
// BF16: arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// BF16: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>

// With linear-fragments=false the layer runs on CUDA cores, f16 weights:
// each thread issues all its loads of the input rows before storing them to
// shared memory, and the K loop (one round of 32 lanes x 8 halves here) is
// unrolled: no scf.for in the kernel.
// CHECK: gpu.launch_func async {{.*}} @ptxnet_kernels::@linear_0 {{.*}} args(%{{.*}} : memref<2x256x1xf32>, %{{.*}} : memref<10x256xf16>, %{{.*}} : memref<10xf32>, %{{.*}} : memref<2x10xf32>)
// CHECK-LABEL: gpu.func @linear_0
// CHECK: memref.load %arg0
// CHECK: memref.load %arg0
// CHECK: memref.store {{.*}}, %{{.*}}[%c0
// CHECK: memref.store {{.*}}, %{{.*}}[%c1
// CHECK: gpu.barrier
// CHECK-NOT: scf.for
// CHECK: gpu.shuffle
// CHECK: gpu.return

// From linear-mma-min-batch images on, the layer is the tensor-core GEMM of a
// 1x1 convolution over a 1x1 map: the images are its columns, K is split over
// blocks (grid z) that add into the zeroed float32 output.
// MMA: gpu.memset async {{.*}} : memref<2x10x1xf32>, f32
// MMA: gpu.launch_func async {{.*}} @ptxnet_kernels::@linear_mma_f16_0 blocks in ({{.*}}) {{.*}} args(%{{.*}} : memref<2x256x1xf32>, %{{.*}} : memref<10x256xf16>, %{{.*}} : memref<10xf32>, %{{.*}} : memref<2x10x1xf32>)
// MMA-LABEL: gpu.func @linear_mma_f16_0
// MMA: gpu.block_id  z
// MMA: nvgpu.device_async_copy %arg1
// MMA: nvgpu.mma.sync
// MMA: memref.atomic_rmw addf

// tf32: the weight is packed rounded to tf32 (0.1 is stored as 0x3DCCC000,
// little-endian 00C0CC3D), as the GEMMs' filters are.
// TF32: memref.global "public" constant @ptxnet_weights : memref<{{[0-9]+}}xi8> = dense<"0x00C0CC3D
// TF32: @ptxnet_kernels::@linear_mma_tf32_0
// TF32: nvgpu.mma.sync

// fp32 stays exact: CUDA cores whatever linear-mma-min-batch says.
// FP32: @ptxnet_kernels::@linear_0
// FP32-NOT: nvgpu.mma.sync

// BAD: error: gemm-warps-per-sm, gemm-tile-blocks-per-sm, gemm-async-stages, gemm-async-min-k and gemm-async-blocks-per-sm must be positive, gemm-blocks-per-sm, gemm-warp-k-steps, gemm-single-slice-k and linear-mma-min-batch not negative
nn.graph @classifier(%x: tensor<2x256xf32>) -> tensor<2x10xf32> {
  %w = arith.constant dense<0.1> : tensor<10x256xf32>
  %b = arith.constant dense<0.5> : tensor<10xf32>
  %y = nn.fused_linear %x, %w, %b prologue = flatten activation = none : tensor<2x256xf32>, tensor<10x256xf32>, tensor<10xf32> -> tensor<2x10xf32>
  nn.output %y : tensor<2x10xf32>
}
