//===- Evaluator.h - CPU reference execution of nn graphs -------*- C++ -*-===//
//
// Executes an nn.graph, fused or not, op by op on the CPU in float32. It is
// the oracle the fusion passes and the GPU lowering are checked against.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_REFERENCE_EVALUATOR_H
#define PTXNET_REFERENCE_EVALUATOR_H

#include "ptxnet/Dialect/NN/IR/NNOps.h"
#include "ptxnet/Support/Safetensors.h"

#include <vector>

namespace ptxnet::reference {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Runs `graph` on `inputs`. `nn.weight` ops are read from `weights`, which
/// may be null when the graph holds only constants. Errors name the op.
llvm::Expected<Tensor> evaluateGraph(nn::GraphOp graph,
                                     const SafetensorsFile *weights,
                                     llvm::ArrayRef<Tensor> inputs);

} // namespace ptxnet::reference

#endif // PTXNET_REFERENCE_EVALUATOR_H
