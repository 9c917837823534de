//===- Passes.td - nn graph transformations ----------------*- tablegen -*-===//
#ifndef PTXNET_DIALECT_NN_TRANSFORMS_PASSES
#define PTXNET_DIALECT_NN_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def NNImportWeights : Pass<"nn-import-weights", "::ptxnet::nn::GraphOp"> {
  let summary = "Replace nn.weight references by constants from a safetensors file";
  let description = [{
    Reads every `nn.weight "name"` from the safetensors file `file` (PyTorch
    `state_dict` names) and replaces it by an `arith.constant`, so that later
    folds (`nn.bn_fold_filter`, `nn.bn_fold_bias`) run at compile time. A
    weight that is missing, has another shape or is not F32 is an error that
    names it.
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"",
           "Path of the safetensors weights file">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def NNFoldBatchNorm : Pass<"nn-fold-batch-norm", "::ptxnet::nn::GraphOp"> {
  let summary = "Fold inference BatchNorm into the preceding convolution";
  let description = [{
    `batch_norm(conv2d(x, W, b))` becomes `conv2d(x, W', b')` with
    `W' = W * gamma / sqrt(var + eps)` per output channel and
    `b' = (b - mean) * gamma / sqrt(var + eps) + beta`, expressed as
    `nn.bn_fold_filter` / `nn.bn_fold_bias`, which fold to constants when the
    weights are constants. Applies to dense, strided and depthwise
    convolutions; a convolution whose result has another use is left alone.
  }];
}

def NNFuseConvBiasActivation
    : Pass<"nn-fuse-conv-bias-activation", "::ptxnet::nn::GraphOp"> {
  let summary = "Fuse conv2d + bias + ReLU/ReLU6 into nn.fused_conv2d";
  let description = [{
    Every `nn.conv2d` becomes an `nn.fused_conv2d` (a missing bias becomes a
    zero constant), and an `nn.relu` / `nn.relu6` whose only producer is such
    a convolution is absorbed into its `activation` epilogue. An activation
    after anything else, or after a convolution with other uses, stays.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def NNFuseMatmulBias : Pass<"nn-fuse-matmul-bias", "::ptxnet::nn::GraphOp"> {
  let summary = "Fuse [global_avg_pool +] flatten + linear into nn.fused_linear";
  let description = [{
    `linear(flatten(x))` becomes `fused_linear(x) prologue = flatten`, and
    `linear(flatten(global_avg_pool(x)))` becomes
    `fused_linear(x) prologue = global_avg_pool`: the reduction runs in the
    matmul kernel. Intermediate values with other uses are not absorbed.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def NNFusePoolIntoConv : Pass<"nn-fuse-pool-into-conv", "::ptxnet::nn::GraphOp"> {
  let summary = "Move a global average pool into a pointwise convolution's epilogue";
  let description = [{
    `fused_linear(fused_conv2d(x)) prologue = global_avg_pool`, with a 1x1
    convolution whose only user is the linear layer, becomes
    `fused_linear(fused_conv2d(x) pooled) prologue = flatten`: the head's
    1x1 conv + ReLU + pool is one kernel whose N x O x H x W map never goes to
    device memory. Convolutions that are not 1x1 / stride 1 / unpadded /
    ungrouped are left alone (their kernels have no reducing epilogue).
  }];
}

def NNFuseExpandDepthwise
    : Pass<"nn-fuse-expand-depthwise", "::ptxnet::nn::GraphOp"> {
  let summary = "Fuse an MBConv expand 1x1 and its depthwise conv into one op";
  let description = [{
    `fused_conv2d(depthwise)(fused_conv2d(1x1)(x))`, where the expand result
    has no other user, becomes `nn.fused_expand_depthwise`: the hidden
    tensor, 6x wider than the block input, never goes to device memory. The
    GPU kernel recomputes the expand for each tile's halo (on tensor cores in
    f16/bf16, with float32 FMAs otherwise), which pays off while the expand
    is shallow: `max-expand-channels` bounds its input channels (deeper
    expands stay tensor-core GEMMs). What fusion
    saves is the hidden tensor's round trip through device memory, so
    `min-hidden-per-image` can restrict it to blocks whose hidden tensor
    (channels x height x width of one image) is at least that large.
  }];
  let options = [
    Option<"maxExpandChannels", "max-expand-channels", "int64_t",
           /*default=*/"32",
           "Fuse only expands with at most this many input channels">,
    Option<"minHiddenPerImage", "min-hidden-per-image", "int64_t",
           /*default=*/"0",
           "Fuse only where the hidden tensor of one image has at least this "
           "many values">,
    Option<"wholeImagePixels", "whole-image-pixels", "int64_t",
           /*default=*/"0",
           "Also fuse expands of any depth over maps of at most this many "
           "pixels per image, a divisor of it (0: none): in f16/bf16 "
           "convert-nn-to-gpu runs those of at most 64 pixels, a divisor of "
           "64, as one tensor-core GEMM whose column tiles hold whole images, "
           "the depthwise in its epilogue (larger ones take the fused "
           "expand + depthwise kernels)">
  ];
}

def NNFuseMBConvProject
    : Pass<"nn-fuse-mbconv-project", "::ptxnet::nn::GraphOp"> {
  let summary = "Fuse an MBConv project 1x1 into its expand + depthwise op";
  let description = [{
    `fused_conv2d(1x1)(fused_expand_depthwise(x))`, where the depthwise
    output has no other user, becomes `nn.fused_mbconv`: the whole block is
    one kernel, and only the project's output (a few dozen channels, against
    the hidden tensor's hundreds) goes to device memory. The GPU kernel keeps
    the project's accumulators in registers while it runs through the
    hidden channels, so `max-output-channels` bounds the project's output
    channels. One block of the kernel runs the whole expand (input x hidden
    channels multiply-adds per position) and the depthwise, 32 hidden
    channels per round, where the unfused kernels spread the hidden channels
    over blocks: `max-expand-macs` bounds that serial work. It fuses the
    blocks that kernel takes: a 3x3 depthwise of stride 1 or 2, input and
    hidden channels multiples of 8, at most 512 input channels. Run it
    after `nn-fuse-expand-depthwise`. The GPU lowering supports the op in
    f16 and bf16 only (on tensor cores).
  }];
  let options = [
    Option<"maxOutputChannels", "max-output-channels", "int64_t",
           /*default=*/"64",
           "Fuse only projects with at most this many output channels">,
    Option<"maxExpandMacs", "max-expand-macs", "int64_t",
           /*default=*/"0",
           "Fuse only blocks whose expand takes at most this many "
           "multiply-adds per position, input x hidden channels (0: any)">
  ];
}

def NNComposePointwise
    : Pass<"nn-compose-pointwise", "::ptxnet::nn::GraphOp"> {
  let summary = "Compose a linear 1x1 convolution into the next 1x1 convolution";
  let description = [{
    `fused_conv2d(1x1, act)(fused_conv2d(1x1, none)(x))`, where the inner
    convolution has no other user and both have constant filters and biases
    (after `nn-import-weights` and `nn-fold-batch-norm`), becomes one 1x1
    `fused_conv2d` with filter `W2 W1` and bias `W2 b1 + b2`, computed at
    compile time in double precision. In an MBConv network without skip
    connections this joins each block's project to the next block's expand
    (and the last project to the head): the narrow tensor between them is
    never computed, and one kernel launch is saved. The composed product
    costs `O2 x C1` multiply-adds per pixel instead of `C2 x (C1 + O2)`,
    usually more; pairs whose composition would add more than
    `max-added-gflop` GFLOP over the whole batch stay apart (a launch saved
    outweighs a few hundred MFLOP on tensor cores, not several GFLOP).
    Run it before `nn-fuse-pool-into-conv` and `nn-fuse-expand-depthwise`,
    whose ops it does not match. With `keep-fusable-expands=N`, a pair stays
    apart where the second convolution is an expand that
    `nn-fuse-expand-depthwise{max-expand-channels=N}` would fuse with its
    depthwise (its only user) and the composed one would not (more than N
    input channels; and `keep-fusable-min-hidden` mirrors its
    min-hidden-per-image): the fused kernel keeps the wide hidden tensor on
    chip, which saves more than the composition. Both passes decide with one
    predicate (`fusableDepthwise`).
  }];
  let options = [
    Option<"maxAddedGflop", "max-added-gflop", "double", /*default=*/"1.0",
           "Compose only where that adds at most this many GFLOP (over the "
           "batch; compositions that save work always apply)">,
    Option<"keepFusableExpands", "keep-fusable-expands", "int64_t",
           /*default=*/"0",
           "Do not compose into an expand of at most this many input "
           "channels that feeds a depthwise convolution, where the composed "
           "expand would have more (0: no such exception)">,
    Option<"keepFusableMinHidden", "keep-fusable-min-hidden", "int64_t",
           /*default=*/"0",
           "With keep-fusable-expands: nn-fuse-expand-depthwise's "
           "min-hidden-per-image, which the kept expand must meet too">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def NNSetBatch : Pass<"nn-set-batch", "::ptxnet::nn::GraphOp"> {
  let summary = "Re-specialise a graph for another batch size";
  let description = [{
    Sets dimension 0 of the graph inputs, result and of every activation to
    `batch`. Weights keep their shapes; the verifiers then re-check every op.
  }];
  let options = [
    Option<"batch", "batch", "int64_t", /*default=*/"0",
           "New batch size (must be positive)">
  ];
}

#endif // PTXNET_DIALECT_NN_TRANSFORMS_PASSES
