//===- ExpandDepthwiseFusion.h - which expand + depthwise pairs fuse -*- C++ -*-===//
//
// nn-fuse-expand-depthwise fuses the pairs this predicate accepts, and
// nn-compose-pointwise (keep-fusable-expands) asks it whether a composition
// would take an expand out of that fusion: one definition keeps the two
// passes from drifting apart.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_LIB_DIALECT_NN_TRANSFORMS_EXPANDDEPTHWISEFUSION_H
#define PTXNET_LIB_DIALECT_NN_TRANSFORMS_EXPANDDEPTHWISEFUSION_H

#include "ptxnet/Dialect/NN/IR/NNOps.h"

namespace ptxnet::nn {

/// The depthwise convolution nn-fuse-expand-depthwise would fuse `expand`
/// with if the expand took `inChannels` input channels: the expand's only
/// user, a depthwise fused_conv2d (not pooled), where the expand is a 1x1
/// GEMM of at most `maxExpandChannels` input channels whose hidden tensor
/// has at least `minHiddenPerImage` values per image. Null otherwise.
inline FusedConv2DOp fusableDepthwise(FusedConv2DOp expand, int64_t inChannels,
                                      int64_t maxExpandChannels,
                                      int64_t minHiddenPerImage) {
  if (!expand.isPointwise() || !expand->hasOneUse() ||
      inChannels > maxExpandChannels)
    return {};
  auto dw = llvm::dyn_cast<FusedConv2DOp>(*expand->user_begin());
  if (!dw || dw.getPooled() || !dw.isDepthwise())
    return {};
  auto hidden = expand.getType().getShape();
  if (hidden[1] * hidden[2] * hidden[3] < minHiddenPerImage)
    return {};
  return dw;
}

} // namespace ptxnet::nn

#endif // PTXNET_LIB_DIALECT_NN_TRANSFORMS_EXPANDDEPTHWISEFUSION_H
