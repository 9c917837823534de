//===- NNOps.td - nn dialect operations --------------------*- tablegen -*-===//
#ifndef PTXNET_DIALECT_NN_NNOPS
#define PTXNET_DIALECT_NN_NNOPS

include "ptxnet/Dialect/NN/IR/NNDialect.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/FunctionInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/CallInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

//===----------------------------------------------------------------------===//
// Types and attributes
//===----------------------------------------------------------------------===//

def NN_Tensor : RankedTensorOf<[F32]>;
def NN_Tensor1D : 1DTensorOf<[F32]>;
def NN_Tensor2D : 2DTensorOf<[F32]>;
def NN_Tensor4D : 4DTensorOf<[F32]>;

def NN_PositiveF64Attr : ConfinedAttr<F64Attr, [AttrConstraint<
    CPred<"::llvm::cast<::mlir::FloatAttr>($_self).getValueAsDouble() > 0">,
    "whose value is positive">]>;

def NN_Activation : I32EnumAttr<"Activation",
    "elementwise activation applied in a fused epilogue", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"relu", 1>,
      I32EnumAttrCase<"relu6", 2>
    ]> {
  let cppNamespace = "::ptxnet::nn";
}

def NN_Prologue : I32EnumAttr<"Prologue",
    "reduction applied to the input of a fused linear layer", [
      I32EnumAttrCase<"flatten", 0>,
      I32EnumAttrCase<"global_avg_pool", 1>
    ]> {
  let cppNamespace = "::ptxnet::nn";
}

//===----------------------------------------------------------------------===//
// Graph structure
//===----------------------------------------------------------------------===//

def NN_GraphOp : NN_Op<"graph", [
    FunctionOpInterface, IsolatedFromAbove, Symbol,
    SingleBlockImplicitTerminator<"OutputOp">]> {
  let summary = "A whole model: inputs as block arguments, one result";
  let description = [{
    Holds the model. Block arguments are the model inputs; weights are not
    arguments but `nn.weight` ops naming them. The body ends in `nn.output`.

    ```mlir
    nn.graph @tiny(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
      %w = nn.weight "conv.weight" : tensor<4x3x3x3xf32>
      %y = nn.conv2d %x, %w strides = [1, 1] padding = [1, 1, 1, 1] groups = 1
          : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x8x8xf32>
      nn.output %y : tensor<1x4x8x8xf32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs);
  let regions = (region SizedRegion<1>:$body);
  let builders = [OpBuilder<(ins "::llvm::StringRef":$name,
                                 "::mlir::FunctionType":$type)>];
  let extraClassDeclaration = [{
    ::llvm::ArrayRef<::mlir::Type> getArgumentTypes() {
      return getFunctionType().getInputs();
    }
    ::llvm::ArrayRef<::mlir::Type> getResultTypes() {
      return getFunctionType().getResults();
    }
    ::mlir::Region *getCallableRegion() { return &getBody(); }
    OutputOp getOutputOp();
    /// The images one run takes: the leading dimension of the first input
    /// (1 without a ranked input), which nn-set-batch rewrites.
    int64_t getBatchSize();
  }];
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
}

def NN_OutputOp : NN_Op<"output", [Pure, HasParent<"GraphOp">, Terminator,
                                   ReturnLike]> {
  let summary = "Returns the graph result";
  let arguments = (ins Variadic<NN_Tensor>:$results);
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, {}); }]>];
  let assemblyFormat = "attr-dict ($results^ `:` type($results))?";
  let hasVerifier = 1;
}

def NN_WeightOp : NN_Op<"weight", [Pure]> {
  let summary = "A named model parameter, read from the weights file";
  let description = [{
    Refers to a tensor of the safetensors weights file by its PyTorch
    `state_dict` name. `nn-import-weights` replaces it by a constant; the
    reference evaluator reads it directly.
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute ops
//===----------------------------------------------------------------------===//

def NN_Conv2DOp : NN_Op<"conv2d", [Pure]> {
  let summary = "2-D convolution in NCHW / OIHW layout";
  let description = [{
    `padding` is `[top, left, bottom, right]`; the filter is
    `O x (C/groups) x KH x KW`; the bias, when present, has `O` elements.
    `groups = C = O` is a depthwise convolution.
  }];
  let arguments = (ins NN_Tensor4D:$input, NN_Tensor4D:$filter,
                       Optional<NN_Tensor1D>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding,
                       ConfinedAttr<I64Attr, [IntPositive]>:$groups);
  let results = (outs NN_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? `strides` `=` $strides
    `padding` `=` $padding `groups` `=` $groups attr-dict `:`
    type($input) `,` type($filter) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def NN_FusedConv2DOp : NN_Op<"fused_conv2d", [Pure]> {
  let summary = "Convolution with a bias and activation epilogue";
  let description = [{
    `activation(conv2d(input, filter) + bias)`: what `nn-fold-batch-norm` and
    `nn-fuse-conv-bias-activation` leave of conv + BatchNorm + ReLU/ReLU6.
    Same layout and attributes as `nn.conv2d`; the bias is required.

    With `pooled` (set by `nn-fuse-pool-into-conv`), the result is the
    global average over H and W of that value, `N x O x 1 x 1`: the reduction
    runs in the epilogue and the full-size map is never materialised.
  }];
  let arguments = (ins NN_Tensor4D:$input, NN_Tensor4D:$filter,
                       NN_Tensor1D:$bias,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding,
                       ConfinedAttr<I64Attr, [IntPositive]>:$groups,
                       NN_Activation:$activation,
                       UnitAttr:$pooled);
  let results = (outs NN_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $filter `,` $bias `strides` `=` $strides
    `padding` `=` $padding `groups` `=` $groups
    `activation` `=` $activation (`pooled` $pooled^)? attr-dict `:`
    type($input) `,` type($filter) `,` type($bias) `->` type($result)
  }];
  let extraClassDeclaration = [{
    /// 1x1, stride 1, unpadded and ungrouped: a matrix product per pixel
    /// (then pooled, with `pooled`).
    bool isOneByOne();
    /// isOneByOne and not pooled: a GEMM per image.
    bool isPointwise() { return isOneByOne() && !getPooled(); }
    /// One group per input channel, one output channel per group.
    bool isDepthwise();
  }];
  let hasVerifier = 1;
}

def NN_FusedExpandDepthwiseOp : NN_Op<"fused_expand_depthwise", [Pure,
    AllTypesMatch<["expand_bias", "bias"]>]> {
  let summary = "An MBConv block's expand 1x1 and depthwise convolutions";
  let description = [{
    `act(depthwise(expand_act(conv1x1(input, expand_filter) + expand_bias),
    filter) + bias)`: the hidden tensor (the expand output, typically 6x
    wider than the input) exists only tile by tile on chip. The depthwise
    convolution has `groups` = hidden channels; its padding pads the hidden
    tensor with zeros, as in the unfused graph. Made by
    `nn-fuse-expand-depthwise`.
  }];
  let arguments = (ins NN_Tensor4D:$input, NN_Tensor4D:$expand_filter,
                       NN_Tensor1D:$expand_bias, NN_Activation:$expand_activation,
                       NN_Tensor4D:$filter, NN_Tensor1D:$bias,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding,
                       NN_Activation:$activation);
  let results = (outs NN_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $expand_filter `,` $expand_bias
    `expand_activation` `=` $expand_activation `,` $filter `,` $bias
    `strides` `=` $strides `padding` `=` $padding
    `activation` `=` $activation attr-dict `:` type($input) `,`
    type($expand_filter) `,` type($filter) `,` type($bias) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def NN_FusedMBConvOp : NN_Op<"fused_mbconv", [Pure,
    AllTypesMatch<["expand_bias", "bias"]>]> {
  let summary = "An MBConv block's expand 1x1, depthwise and project 1x1";
  let description = [{
    `project_act(conv1x1(dw, project_filter) + project_bias)`, where `dw` is
    what `nn.fused_expand_depthwise` with the same operands computes: neither
    the hidden tensor nor the depthwise output (both as wide as the block's
    hidden channels) goes to device memory; only the project's narrow output
    does. Made by `nn-fuse-mbconv-project`.
  }];
  let arguments = (ins NN_Tensor4D:$input, NN_Tensor4D:$expand_filter,
                       NN_Tensor1D:$expand_bias, NN_Activation:$expand_activation,
                       NN_Tensor4D:$filter, NN_Tensor1D:$bias,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding,
                       NN_Activation:$activation,
                       NN_Tensor4D:$project_filter, NN_Tensor1D:$project_bias,
                       NN_Activation:$project_activation);
  let results = (outs NN_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $expand_filter `,` $expand_bias
    `expand_activation` `=` $expand_activation `,` $filter `,` $bias
    `strides` `=` $strides `padding` `=` $padding
    `activation` `=` $activation `,` $project_filter `,` $project_bias
    `project_activation` `=` $project_activation attr-dict `:` type($input)
    `,` type($expand_filter) `,` type($filter) `,` type($bias) `,`
    type($project_filter) `,` type($project_bias) `->` type($result)
  }];
  let hasVerifier = 1;
}

def NN_BatchNormOp : NN_Op<"batch_norm", [Pure,
    AllTypesMatch<["scale", "shift", "mean", "variance"]>]> {
  let summary = "Inference batch normalization over the channel dimension";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * scale + shift`, per channel (dim 1),
    with the running statistics (PyTorch `eval()` semantics).
  }];
  let arguments = (ins NN_Tensor4D:$input, NN_Tensor1D:$scale,
                       NN_Tensor1D:$shift, NN_Tensor1D:$mean,
                       NN_Tensor1D:$variance,
                       NN_PositiveF64Attr:$epsilon);
  let results = (outs NN_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $shift `,` $mean `,` $variance
    `epsilon` `=` $epsilon attr-dict `:` type($input) `,` type($scale)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

class NN_UnaryOp<string mnemonic, string summaryText>
    : NN_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = summaryText;
  let arguments = (ins NN_Tensor:$input);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_ReluOp : NN_UnaryOp<"relu", "max(x, 0)">;
def NN_Relu6Op : NN_UnaryOp<"relu6", "min(max(x, 0), 6)">;
def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;

class NN_BinaryOp<string mnemonic, string summaryText>
    : NN_Op<mnemonic, [Pure, SameOperandsAndResultType, Commutative]> {
  let summary = summaryText;
  let arguments = (ins NN_Tensor:$lhs, NN_Tensor:$rhs);
  let results = (outs NN_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def NN_AddOp : NN_BinaryOp<"add", "Elementwise sum of two tensors of one shape">;
def NN_MulOp : NN_BinaryOp<"mul", "Elementwise product of two tensors of one shape">;

def NN_GlobalAvgPoolOp : NN_Op<"global_avg_pool", [Pure]> {
  let summary = "Mean over H and W: N x C x H x W -> N x C x 1 x 1";
  let arguments = (ins NN_Tensor4D:$input);
  let results = (outs NN_Tensor4D:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_FlattenOp : NN_Op<"flatten", [Pure]> {
  let summary = "Collapses every dimension after the first: N x ... -> N x K";
  let arguments = (ins NN_Tensor:$input);
  let results = (outs NN_Tensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_LinearOp : NN_Op<"linear", [Pure]> {
  let summary = "x * W^T + b with W in PyTorch's M x K layout";
  let arguments = (ins NN_Tensor2D:$input, NN_Tensor2D:$weight,
                       Optional<NN_Tensor1D>:$bias);
  let results = (outs NN_Tensor2D:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def NN_FusedLinearOp : NN_Op<"fused_linear", [Pure]> {
  let summary = "Linear layer with a reduction prologue and bias epilogue";
  let description = [{
    `activation(prologue(input) * W^T + bias)`. With `prologue = flatten` the
    input is `N x ...` and is read as `N x K`; with `global_avg_pool` it is
    `N x K x H x W` and is averaged over H and W first, so the pooled vector
    never goes to device memory.
  }];
  let arguments = (ins NN_Tensor:$input, NN_Tensor2D:$weight,
                       NN_Tensor1D:$bias, NN_Prologue:$prologue,
                       NN_Activation:$activation);
  let results = (outs NN_Tensor2D:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `prologue` `=` $prologue
    `activation` `=` $activation attr-dict `:` type($input) `,`
    type($weight) `,` type($bias) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Parameter arithmetic (folded at compile time once weights are constants)
//===----------------------------------------------------------------------===//

def NN_BNFoldFilterOp : NN_Op<"bn_fold_filter", [Pure,
    AllTypesMatch<["scale", "variance"]>]> {
  let summary = "filter[o] * scale[o] / sqrt(variance[o] + epsilon)";
  let description = [{
    The filter of a convolution with a following inference BatchNorm folded
    in. Emitted by `nn-fold-batch-norm`; folds to a constant when its operands
    are constants, so the work is done at compile time.
  }];
  let arguments = (ins NN_Tensor4D:$filter, NN_Tensor1D:$scale,
                       NN_Tensor1D:$variance,
                       NN_PositiveF64Attr:$epsilon);
  let results = (outs NN_Tensor4D:$result);
  let assemblyFormat = [{
    $filter `,` $scale `,` $variance `epsilon` `=` $epsilon attr-dict `:`
    type($filter) `,` type($scale) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_BNFoldBiasOp : NN_Op<"bn_fold_bias", [Pure,
    AllTypesMatch<["scale", "shift", "mean", "variance"]>]> {
  let summary = "(bias - mean) * scale / sqrt(variance + epsilon) + shift";
  let description = [{
    The bias of a convolution with a following inference BatchNorm folded in;
    a missing convolution bias counts as zero.
  }];
  let arguments = (ins Optional<NN_Tensor1D>:$bias, NN_Tensor1D:$scale,
                       NN_Tensor1D:$shift, NN_Tensor1D:$mean,
                       NN_Tensor1D:$variance,
                       NN_PositiveF64Attr:$epsilon);
  let results = (outs NN_Tensor1D:$result);
  let assemblyFormat = [{
    (`bias` `(` $bias^ `:` type($bias) `)`)? $scale `,` $shift `,` $mean `,` $variance
    `epsilon` `=` $epsilon attr-dict `:` type($scale) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // PTXNET_DIALECT_NN_NNOPS
