// RUN: ptxnet-opt %s --split-input-file -verify-diagnostics --pass-pipeline='builtin.module(gpu.module(ptxnet-convert-nvgpu-to-nvvm{index-bitwidth=32}))'

// bf16 mma.sync is lowered with a float32 accumulator only; anything else
// stays an error (upstream's pattern reports it), and the pass fails rather
// than leaving an nvgpu op behind.
gpu.module @kernels {
  gpu.func @mma(%a: vector<4x2xbf16>, %b: vector<2x2xbf16>, %c: vector<2x2xf16>, %out: memref<2x2xf16>) kernel {
    // expected-error @below {{failed to deduce operand PTX types}}
    // expected-error @below {{failed to legalize operation 'nvgpu.mma.sync'}}
    %d = nvgpu.mma.sync (%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf16>) -> vector<2x2xf16>
    %c0 = arith.constant 0 : index
    vector.store %d, %out[%c0, %c0] : memref<2x2xf16>, vector<2x2xf16>
    gpu.return
  }
}
