// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-async-shared-kb=48" | FileCheck %s --check-prefix=STATIC
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-async-shared-kb=99" | FileCheck %s --check-prefix=ROOM
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-async-shared-kb=47" 2>&1 | FileCheck %s --check-prefix=SMALL
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-async-shared-kb=228" 2>&1 | FileCheck %s --check-prefix=LARGE
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 --ptxnet-gpu-to-binary | FileCheck %s --check-prefix=PTX
// SMALL: error: gemm-async-shared-kb must be 0 or within 48 and 227 (KB of shared memory per block), got 47
// LARGE: error: gemm-async-shared-kb must be 0 or within 48 and 227 (KB of shared memory per block), got 228

// EfficientNet-B1's head at batch 1: 1280 x 64 outputs in 32x32 tiles (80
// blocks), each tile's K shared by 4 warps (128 channels a slice). By default
// (gemm-async-shared-kb 0: 99 KB at batch 1) the cp.async ring holds 4 slices
// (75776 bytes: dynamic shared memory, the launch says how much); within the
// 48 KB of static memory it held 2.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu_pool_1 blocks in (%c2{{.*}}, %c40{{.*}}, %c1{{.*}}) threads in (%c128{{.*}}) dynamic_shared_memory_size %c75776_i32 args(
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu_pool_1
// CHECK-NOT: workgroup(
// CHECK-SAME: kernel
// CHECK: %[[RING:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK-DAG: memref.view %[[RING]][%c0{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4x32x136xf16, #gpu.address_space<workgroup>>
// CHECK-DAG: memref.view %[[RING]][%c34816{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4x128x40xf16, #gpu.address_space<workgroup>>
// CHECK: scf.for
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 2 : i32}
// STATIC-LABEL: func.func @ptxnet_forward
// STATIC-NOT: dynamic_shared_memory_size
// STATIC-LABEL: gpu.func @conv1x1_mma_f16_relu_pool_1
// STATIC-SAME: workgroup(%[[RING:.*]] : memref<37888xi8, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// STATIC-NOT: gpu.dynamic_shared_memory
// STATIC: memref.view %[[RING]][%c0{{.*}}][] : {{.*}} to memref<2x32x136xf16, #gpu.address_space<workgroup>>
// STATIC: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// In PTX the ring is the documented extern, unsized shared array.
// PTX: .extern .shared .align 16 .b8 __dynamic_shmem__0[];
// PTX: .visible .entry conv1x1_mma_f16_relu_pool_1(
// PTX-NOT: .shared .align 16 .b8 __wg_conv1x1_mma_f16_relu_pool_1
// PTX: mov.b64 {{.*}}, __dynamic_shmem__0;
// PTX: cp.async.cg.shared.global
nn.graph @head1(%x: tensor<1x1152x8x8xf32>) -> tensor<1x1280x1x1xf32> {
  %wd = arith.constant dense<0.1> : tensor<1152x1x3x3xf32>
  %bd = arith.constant dense<0.1> : tensor<1152xf32>
  %d = nn.fused_conv2d %x, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] groups = 1152 activation = relu6 : tensor<1x1152x8x8xf32>, tensor<1152x1x3x3xf32>, tensor<1152xf32> -> tensor<1x1152x8x8xf32>
  %w = arith.constant dense<0.05> : tensor<1280x1152x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<1280xf32>
  %y = nn.fused_conv2d %d, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<1x1152x8x8xf32>, tensor<1280x1152x1x1xf32>, tensor<1280xf32> -> tensor<1x1280x1x1xf32>
  nn.output %y : tensor<1x1280x1x1xf32>
}

// -----

// The same head at batch 10 keeps its static ring by default (48 KB from
// batch 2 on: 2 slices of 64 channels, each warp taking 4 mma k-steps a
// slice as gemm-warp-k-steps does from batch 2, summed within the block).
// With 99 KB (ROOM) two warps share each tile's K (256 threads, 128
// channels a slice, 2 slices: 71680 bytes); the second warp's partial tile
// goes to shared memory, the first adds it and sums the rows, and the pools
// are still summed within the block (row sums after the partial tile): no
// atomics, no zeroed output.
// CHECK-LABEL: func.func @ptxnet_forward
// CHECK-NOT: gpu.memset
// CHECK: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu_pool_1 blocks in (%c10{{.*}}, %c20{{.*}}, %c1{{.*}}) threads in (%c128{{.*}}) args(
// CHECK-LABEL: gpu.func @conv1x1_mma_f16_relu_pool_1
// CHECK-SAME: workgroup(%{{.*}} : memref<36864xi8, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}}[%c0{{.*}}][] : {{.*}} to memref<2x64x72xf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}}[%c18432{{.*}}][] : {{.*}} to memref<2x64x72xf16, #gpu.address_space<workgroup>>
// ROOM: gpu.launch_func {{.*}} @ptxnet_kernels::@depthwise3x3_s1_relu6_0 {{.*}} args(%arg0 : memref<10x1152x8x8xf32>
// ROOM-NOT: gpu.memset
// ROOM: gpu.launch_func {{.*}} @ptxnet_kernels::@conv1x1_mma_f16_relu_pool_1 blocks in (%c10{{.*}}, %c20{{.*}}, %c1{{.*}}) threads in (%c256{{.*}}) dynamic_shared_memory_size %c71680_i32 args(
// ROOM: gpu.func @conv1x1_mma_f16_relu_pool_1
// ROOM: gpu.dynamic_shared_memory
// ROOM: memref.view {{.*}}[%c0{{.*}}][] : {{.*}} to memref<2x64x136xf16, #gpu.address_space<workgroup>>
// ROOM: memref.view {{.*}}[%c34816{{.*}}][] : {{.*}} to memref<2x128x72xf16, #gpu.address_space<workgroup>>
// ROOM: memref.view {{.*}}[%c0{{.*}}][] : {{.*}} to memref<1x64x68xf32, #gpu.address_space<workgroup>>
// ROOM: memref.view {{.*}}[%c17408{{.*}}][] : {{.*}} to memref<2x64xf32, #gpu.address_space<workgroup>>
// ROOM-NOT: memref.atomic_rmw
// ROOM: gpu.return
nn.graph @head10(%x: tensor<10x1152x8x8xf32>) -> tensor<10x1280x1x1xf32> {
  %wd = arith.constant dense<0.1> : tensor<1152x1x3x3xf32>
  %bd = arith.constant dense<0.1> : tensor<1152xf32>
  %d = nn.fused_conv2d %x, %wd, %bd strides = [1, 1] padding = [1, 1, 1, 1] groups = 1152 activation = relu6 : tensor<10x1152x8x8xf32>, tensor<1152x1x3x3xf32>, tensor<1152xf32> -> tensor<10x1152x8x8xf32>
  %w = arith.constant dense<0.05> : tensor<1280x1152x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<1280xf32>
  %y = nn.fused_conv2d %d, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu pooled : tensor<10x1152x8x8xf32>, tensor<1280x1152x1x1xf32>, tensor<1280xf32> -> tensor<10x1280x1x1xf32>
  nn.output %y : tensor<10x1280x1x1xf32>
}
