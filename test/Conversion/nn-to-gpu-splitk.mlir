// RUN: ptxnet-opt %s --convert-nn-to-gpu=precision=tf32 | FileCheck %s

// A deep, narrow projection (K = 1152 over an 8x8 map, no activation) gives
// few output tiles, so K is split over blocks (grid z) and the partial sums
// are accumulated atomically into the zeroed output; only the first K chunk
// adds the bias.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK:   %[[Z:.*]] = gpu.memset async [%{{.*}}] %[[OUT:.*]], %{{.*}} : memref<2x320x64xf32>, f32
// 40 output tiles of 32 x 32, far from 16 warps per SM: 4 warps share each
// tile (slices of 64 channels, 16 per warp), and K = 1152 is split over 9
// blocks of 128 channels.
// CHECK:   %[[C9:.*]] = arith.constant 9 : index
// CHECK:   gpu.launch_func async [%[[Z]]] @ptxnet_kernels::@conv1x1_mma_tf32_0 blocks in (%{{.*}}, %{{.*}}, %[[C9]]) threads in (%c128,
// CHECK-LABEL: gpu.func @conv1x1_mma_tf32_0
// CHECK:   gpu.block_id  z
// CHECK:   nvgpu.mma.sync
// CHECK:   arith.select
// CHECK:   memref.atomic_rmw addf %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : (f32, memref<2x320x64xf32>) -> f32
nn.graph @project(%x: tensor<2x1152x8x8xf32>) -> tensor<2x320x8x8xf32> {
  %w = arith.constant dense<0.01> : tensor<320x1152x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<320xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = none : tensor<2x1152x8x8xf32>, tensor<320x1152x1x1xf32>, tensor<320xf32> -> tensor<2x320x8x8xf32>
  nn.output %y : tensor<2x320x8x8xf32>
}
