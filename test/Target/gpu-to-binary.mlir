// RUN: ptxnet-opt %S/../Conversion/nn-to-gpu.mlir -split-input-file --convert-nn-to-gpu --ptxnet-gpu-to-binary | FileCheck %s
// RUN: ptxnet-opt %S/../Conversion/nn-to-gpu.mlir -split-input-file --pass-pipeline='builtin.module(convert-nn-to-gpu,convert-scf-to-cf,nvvm-attach-target{chip=sm_89 features=+ptx80},gpu.module(convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1}))' | FileCheck %s --check-prefix=NVVM

// After the upstream pipeline: host code calls into the runtime through the
// GPU dialect's launch, and the kernels are embedded as sm_89 PTX.
// CHECK: llvm.mlir.global external constant @ptxnet_weights
// CHECK: llvm.mlir.global external constant @ptxnet_model_info
// CHECK: llvm.func @ptxnet_forward(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @ptxnet_kernels::@conv3x3_s2_relu_0
// CHECK: gpu.binary @ptxnet_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_89", features = "+ptx80">, {{.*}}assembly = "
// CHECK-SAME: .version 8.0
// CHECK-SAME: .target sm_89
// CHECK-SAME: .visible .entry conv3x3_s2_relu_0(
// CHECK-SAME: .visible .entry pool_linear_4(
// CHECK-SAME: shfl.sync.bfly.b32

// The kernels in the NVVM dialect, with bare-pointer arguments.
// NVVM: gpu.module @ptxnet_kernels [#nvvm.target<chip = "sm_89", features = "+ptx80">]
// NVVM: llvm.func @conv3x3_s2_relu_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) attributes {gpu.kernel, gpu.known_block_size = array<i32: 256, 1, 1>, nvvm.kernel, nvvm.maxntid = array<i32: 256, 1, 1>}
// NVVM: nvvm.read.ptx.sreg.ctaid.x
// NVVM: llvm.func @conv1x1_gemm_relu6_1
// NVVM: nvvm.barrier
// NVVM: llvm.func @pool_linear_4
// NVVM: nvvm.shfl.sync bfly
