//===- Elementwise.cpp - elementwise kernels ------------------------------===//
//
// Elementwise add, mul and sigmoid over flat tensors, one element a thread.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

KernelLaunch KernelEmitter::emitElementwise(StringRef name, int64_t numElements,
                                            Elementwise kind,
                                            ArrayRef<Type> elements) {
  MLIRContext *ctx = module.getContext();
  bool unary = kind == Elementwise::sigmoid;
  assert(elements.size() == (unary ? 2u : 3u) && "one element type per arg");
  SmallVector<Type> args;
  for (Type element : elements)
    args.push_back(MemRefType::get({numElements}, element));
  auto func = createKernel(name, args);
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KernelBuilder k{b};
  Value idx = k.globalThreadId(options.blockSize);
  k.ifThen(k.lt(idx, numElements), [&] {
    Value x = k.read(func.getArgument(0), {idx});
    Value r;
    switch (kind) {
    case Elementwise::add:
      r = k.fadd(x, k.read(func.getArgument(1), {idx}));
      break;
    case Elementwise::mul:
      r = k.fmul(x, k.read(func.getArgument(1), {idx}));
      break;
    case Elementwise::sigmoid: {
      // 1 / (1 + 2^(-x * log2(e))), with the hardware's ex2 (2 ulp) rather
      // than a libdevice call, so no libdevice has to be found and linked.
      Value arg = k.fmul(x, k.f(-1.4426950408889634f));
      Value e = NVVM::InlinePtxOp::create(b, TypeRange{b.getF32Type()},
                                          ValueRange{arg}, ValueRange{},
                                          "ex2.approx.f32 $0, $1;", Value())
                    .getResult(0);
      r = arith::DivFOp::create(b, k.f(1.0f), k.fadd(k.f(1.0f), e));
      break;
    }
    }
    k.write(r, func.getArgument(unary ? 1 : 2), {idx});
  });
  return {func,
          {ceilDiv(numElements, options.blockSize), 1, 1},
          {options.blockSize, 1, 1}};
}
