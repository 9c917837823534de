//===- NNDialect.td - The nn graph dialect -----------------*- tablegen -*-===//
#ifndef PTXNET_DIALECT_NN_NNDIALECT
#define PTXNET_DIALECT_NN_NNDIALECT

include "mlir/IR/OpBase.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let summary = "A declarative graph of a convolutional network";
  let description = [{
    The `nn` dialect holds a whole inference model: an `nn.graph` whose block
    arguments are the model inputs, `nn.weight` ops that name parameters in a
    safetensors file (PyTorch `state_dict` names), and value-semantic ops on
    ranked `f32` tensors in NCHW layout. The fusion passes rewrite it into
    `nn.fused_conv2d` / `nn.fused_linear`, which the GPU conversion lowers.
  }];
  let cppNamespace = "::ptxnet::nn";
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let hasConstantMaterializer = 1;
}

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits>;

#endif // PTXNET_DIALECT_NN_NNDIALECT
