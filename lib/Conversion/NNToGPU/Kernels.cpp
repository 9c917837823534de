//===- Kernels.cpp - what the gpu.func generators share ------------------===//
//
// ConvShape, the activation memref types, KernelEmitter's kernel skeleton
// and the tensor-core B fragment loads. The generators themselves live in
// one file per kernel family: DirectConv.cpp, PointwiseGemm.cpp,
// FusedExpandDepthwise.cpp, Linear.cpp and Elementwise.cpp.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;

ConvShape ConvShape::get(nn::FusedConv2DOp op) {
  auto in = op.getInput().getType().getShape();
  auto w = op.getFilter().getType().getShape();
  ArrayRef<int64_t> st = op.getStrides(), pad = op.getPadding();
  // The convolution's own output size (a pooled result is 1 x 1).
  int64_t oh = nn::convOutputSize(in[2], w[2], st[0], pad[0], pad[2]);
  int64_t ow = nn::convOutputSize(in[3], w[3], st[1], pad[1], pad[3]);
  return ConvShape{in[0], in[1], in[2],  in[3],  w[0],   w[1],
                   w[2],  w[3],  oh,     ow,     st[0],  st[1],
                   pad[0], pad[1], int64_t(op.getGroups())};
}

MemRefType ptxnet::kernels::activationMemref(ArrayRef<int64_t> nchw,
                                             Type element, int64_t plane) {
  if (plane == 0 || plane == nchw[2] * nchw[3])
    return MemRefType::get(nchw, element);
  auto layout = StridedLayoutAttr::get(element.getContext(), /*offset=*/0,
                                       {nchw[1] * plane, plane, nchw[3], 1});
  return MemRefType::get(nchw, element, layout);
}

gpu::GPUFuncOp KernelEmitter::createKernel(StringRef name,
                                           ArrayRef<Type> args,
                                           ArrayRef<Type> workgroup) {
  OpBuilder builder(module.getContext());
  builder.setInsertionPointToEnd(module.getBody());
  auto type = builder.getFunctionType(args, {});
  auto func = gpu::GPUFuncOp::create(builder, module.getLoc(), name, type,
                                     workgroup);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  // Shared-memory tiles are read and written in 16-byte vectors, by ldmatrix
  // and by cp.async: align each to 16 bytes.
  for (unsigned i = 0; i < workgroup.size(); ++i)
    func.setWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                                     builder.getI64IntegerAttr(16));
  builder.setInsertionPointToEnd(&func.getBody().front());
  // Launched early (programmatic stream serialization), the kernel first
  // waits for the previous one's results. It signals no launch_dependents:
  // the next kernel is then launched as this one's blocks exit, overlapping
  // only the launch with the drain. (Signalling at entry let the next
  // kernel's waiting blocks hold SMs this one still needed: 8% slower at
  // batch 10 on an H100, bench/RESULTS.md.)
  if (options.dependentLaunch)
    NVVM::GriddepcontrolOp::create(builder, module.getLoc(),
                                   NVVM::GridDepActionKind::wait);
  gpu::ReturnOp::create(builder, module.getLoc());
  return func;
}

/// `count` (1 or 2) m16n8k16 B fragments over K rows row .. row + 15 of a
/// K-major 16-bit shared tile (`lead` indexes its leading dimensions), one
/// for each group of 8 columns from `col` on, by one transposed ldmatrix:
/// x2 for one fragment (lanes 0-15 address the rows); x4 for two (lanes
/// 16-31 address the same rows 8 columns on), half the loads and addresses
/// of one x2 per fragment.
SmallVector<Value, 2>
ptxnet::kernels::loadBFragments(KernelBuilder &k, Value tile, ValueRange lead,
                                Value row, Value col, Value laneHalf,
                                int64_t count) {
  assert((count == 1 || count == 2) && "one ldmatrix holds 1 or 2 fragments");
  ImplicitLocOpBuilder &b = k.b;
  Type operand = cast<MemRefType>(tile.getType()).getElementType();
  auto fragmentType = VectorType::get({2, 2}, operand);
  SmallVector<Value> idx(lead.begin(), lead.end());
  idx.append({row, count == 1 ? col : k.add(col, k.mul(laneHalf, 8))});
  if (count == 1)
    return {nvgpu::LdMatrixOp::create(b, fragmentType, tile, idx,
                                      /*transpose=*/true, /*numTiles=*/2)};
  Value pair = nvgpu::LdMatrixOp::create(b, VectorType::get({4, 2}, operand),
                                         tile, idx, /*transpose=*/true,
                                         /*numTiles=*/4);
  SmallVector<Value, 2> fragments;
  for (int64_t f = 0; f < 2; ++f) {
    SmallVector<Value> e;
    for (int64_t r = 2 * f; r < 2 * f + 2; ++r)
      for (int64_t c = 0; c < 2; ++c)
        e.push_back(
            vector::ExtractOp::create(b, pair, ArrayRef<int64_t>{r, c}));
    fragments.push_back(vector::FromElementsOp::create(b, fragmentType, e));
  }
  return fragments;
}
