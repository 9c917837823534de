// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu=precision=f16 | FileCheck %s --check-prefix=AUTO
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-blocks-per-sm=1" | FileCheck %s --check-prefix=ONE
// RUN: ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-blocks-per-sm=2" | FileCheck %s --check-prefix=TWO
// RUN: not ptxnet-opt %s --split-input-file --convert-nn-to-gpu="precision=f16 gemm-blocks-per-sm=-1" 2>&1 | FileCheck %s --check-prefix=BAD

// gemm-blocks-per-sm=0 (the default) plans the GEMM tiles for one block per
// SM at batch 1 and for two otherwise. The same 64 -> 128 layer over a 48x48
// map: at batch 1, 64x32 tiles of 2 warps (144 of them) with one block per
// SM against 32x32 tiles of one warp (288) with two.
// AUTO: @conv1x1_mma_f16_relu6_0 blocks in (%c72, %c2, %{{.*}}) threads in (%c64,
// ONE: @conv1x1_mma_f16_relu6_0 blocks in (%c72, %c2, %{{.*}}) threads in (%c64,
// TWO: @conv1x1_mma_f16_relu6_0 blocks in (%c72, %c4, %{{.*}}) threads in (%c32,
nn.graph @one(%x: tensor<1x64x48x48xf32>) -> tensor<1x128x48x48xf32> {
  %w = arith.constant dense<0.05> : tensor<128x64x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<128xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<1x64x48x48xf32>, tensor<128x64x1x1xf32>, tensor<128xf32> -> tensor<1x128x48x48xf32>
  nn.output %y : tensor<1x128x48x48xf32>
}

// -----

// At batch 2 the default is two blocks per SM: 64x32 tiles (288), against
// 64x64 tiles of 4 warps (144) with one.
// AUTO: @conv1x1_mma_f16_relu6_0 blocks in (%c144, %c2, %{{.*}}) threads in (%c64,
// ONE: @conv1x1_mma_f16_relu6_0 blocks in (%c72, %c2, %{{.*}}) threads in (%c128,
// TWO: @conv1x1_mma_f16_relu6_0 blocks in (%c144, %c2, %{{.*}}) threads in (%c64,
nn.graph @two(%x: tensor<2x64x48x48xf32>) -> tensor<2x128x48x48xf32> {
  %w = arith.constant dense<0.05> : tensor<128x64x1x1xf32>
  %b = arith.constant dense<0.1> : tensor<128xf32>
  %y = nn.fused_conv2d %x, %w, %b strides = [1, 1] padding = [0, 0, 0, 0] groups = 1 activation = relu6 : tensor<2x64x48x48xf32>, tensor<128x64x1x1xf32>, tensor<128xf32> -> tensor<2x128x48x48xf32>
  nn.output %y : tensor<2x128x48x48xf32>
}

// BAD: error: gemm-warps-per-sm, gemm-tile-blocks-per-sm, gemm-async-stages, gemm-async-min-k and gemm-async-blocks-per-sm must be positive, gemm-blocks-per-sm, gemm-warp-k-steps, gemm-single-slice-k and linear-mma-min-batch not negative
