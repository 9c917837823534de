// RUN: ptxnet-opt %s --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=f16 linear-mma-min-batch=2" | FileCheck %s --check-prefix=MMA
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=tf32 linear-mma-min-batch=1" | FileCheck %s --check-prefix=TF32
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=f16 linear-mma-min-batch=3" | FileCheck %s
// RUN: ptxnet-opt %s --convert-nn-to-gpu="precision=fp32 linear-mma-min-batch=1" | FileCheck %s --check-prefix=FP32
// RUN: not ptxnet-opt %s --convert-nn-to-gpu="precision=f16 linear-mma-min-batch=-1" 2>&1 | FileCheck %s --check-prefix=BAD

// By default (and below linear-mma-min-batch images) the linear layer runs on
// CUDA cores, f16 weights: each thread issues all its loads of the input
// rows before storing them to shared memory, and the K loop (one round of
// 32 lanes x 8 halves here) is unrolled: no scf.for in the kernel.
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

// BAD: error: gemm-warps-per-sm, gemm-tile-blocks-per-sm, gemm-warp-k-steps, gemm-async-stages, gemm-async-min-k and gemm-async-blocks-per-sm must be positive, gemm-blocks-per-sm, gemm-single-slice-k and linear-mma-min-batch not negative
nn.graph @classifier(%x: tensor<2x256xf32>) -> tensor<2x10xf32> {
  %w = arith.constant dense<0.1> : tensor<10x256xf32>
  %b = arith.constant dense<0.5> : tensor<10xf32>
  %y = nn.fused_linear %x, %w, %b prologue = flatten activation = none : tensor<2x256xf32>, tensor<10x256xf32>, tensor<10xf32> -> tensor<2x10xf32>
  nn.output %y : tensor<2x10xf32>
}
