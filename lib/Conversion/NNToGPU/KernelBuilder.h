//===- KernelBuilder.h - shared pieces of the kernel generators -*- C++ -*-===//
//
// What every gpu.func generator of convert-nn-to-gpu builds with: terse
// index and float arithmetic on an ImplicitLocOpBuilder (KernelBuilder), the
// kernels' argument and shared-memory types, and the tensor-core fragment
// loads that several kernels share. Private to lib/Conversion/NNToGPU.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_LIB_CONVERSION_NNTOGPU_KERNELBUILDER_H
#define PTXNET_LIB_CONVERSION_NNTOGPU_KERNELBUILDER_H

#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <tuple>

namespace ptxnet::kernels {
// The generators are written against MLIR's names, as MLIR's own
// conversions are (CIRCT imports them into its namespace the same way).
using namespace mlir;
using nn::Activation;

constexpr int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Terse index and float arithmetic on an ImplicitLocOpBuilder, so the kernel
/// bodies read like the loops they are.
struct KernelBuilder {
  ImplicitLocOpBuilder &b;
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f(float v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  /// `v` as a constant of float `type`, or of every element of a vector type.
  Value splat(Type type, float v) {
    Attribute value =
        b.getFloatAttr(cast<FloatType>(getElementTypeOrSelf(type)), v);
    if (auto vec = dyn_cast<VectorType>(type))
      value = DenseElementsAttr::get(vec, value);
    return arith::ConstantOp::create(b, type, cast<TypedAttr>(value));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, c(y)) : x; }
  Value mul(Value x, int64_t y) { return y == 1 ? x : mul(x, c(y)); }
  Value div(Value x, int64_t y) {
    return y == 1 ? x : arith::DivUIOp::create(b, x, c(y));
  }
  Value rem(Value x, int64_t y) { return arith::RemUIOp::create(b, x, c(y)); }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, x, y);
  }
  Value lt(Value x, int64_t y) { return lt(x, c(y)); }
  Value ge0(Value x) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::sge, x, c(0));
  }
  Value both(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value sel(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, cond, x, y);
  }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  /// acc + x * y, allowed to contract into one fused multiply-add (one
  /// rounding instead of two; fp32 programs stay within 1e-5).
  Value fma(Value acc, Value x, Value y) {
    auto contract = arith::FastMathFlags::contract;
    return arith::AddFOp::create(
        b, acc, arith::MulFOp::create(b, x, y, contract), contract);
  }
  Value load(Value m, ValueRange idx) {
    return memref::LoadOp::create(b, m, idx);
  }
  void store(Value v, Value m, ValueRange idx) {
    memref::StoreOp::create(b, v, m, idx);
  }
  /// `v` (f32, f16 or bf16, or a vector of them) as `type`.
  Value convert(Value v, Type type) {
    if (v.getType() == type)
      return v;
    if (getElementTypeOrSelf(type).getIntOrFloatBitWidth() <
        getElementTypeOrSelf(v.getType()).getIntOrFloatBitWidth())
      return arith::TruncFOp::create(b, type, v);
    return arith::ExtFOp::create(b, type, v);
  }
  /// `v` (f32, or a vector of f32) rounded to tf32's 10 mantissa bits, to
  /// nearest (cvt.rna.tf32.f32), still as f32: tensor cores given plain f32
  /// operands truncate them, which biases every product toward zero.
  Value roundToTF32(Value v) {
    auto round = [&](Value x) {
      return NVVM::InlinePtxOp::create(b, TypeRange{b.getF32Type()},
                                       ValueRange{x}, ValueRange{},
                                       "cvt.rna.tf32.f32 $0, $1;", Value())
          .getResult(0);
    };
    auto vec = dyn_cast<VectorType>(v.getType());
    if (!vec)
      return round(v);
    SmallVector<Value> elements;
    for (int64_t e = 0; e < vec.getNumElements(); ++e)
      elements.push_back(round(vector::ExtractOp::create(b, v, e)));
    return vector::FromElementsOp::create(b, vec, elements);
  }
  /// The 2-vector (v0, v1) of their scalar type: a pair that one cvt or one
  /// f16x2 instruction then takes at once.
  Value pair(Value v0, Value v1) {
    return vector::FromElementsOp::create(b, VectorType::get({2}, v0.getType()),
                                          ValueRange{v0, v1});
  }
  /// Loads and stores of tensors in global memory, which may be stored as
  /// f16 or bf16: the kernels' arithmetic is float32.
  Value read(Value m, ValueRange idx) {
    return convert(load(m, idx), b.getF32Type());
  }
  void write(Value v, Value m, ValueRange idx) {
    store(convert(v, cast<MemRefType>(m.getType()).getElementType()), m, idx);
  }
  /// Read m[idx] where `valid`, else 0; the address is clamped to element 0
  /// so that no lane reads out of bounds.
  Value maskedLoad(Value valid, Value m, ArrayRef<Value> idx) {
    SmallVector<Value> safe;
    for (Value i : idx)
      safe.push_back(sel(valid, i, c(0)));
    return sel(valid, read(m, safe), f(0.0f));
  }
  /// The `width` consecutive elements at m[idx] (along the last index) as
  /// float32 values: one aligned vector load where `valid`, else zeros. The
  /// caller guarantees that idx is a multiple of `width` elements into
  /// width-aligned rows.
  SmallVector<Value> maskedVectorRead(Value valid, Value m, ArrayRef<Value> idx,
                                      int64_t width) {
    if (width == 1)
      return {maskedLoad(valid, m, idx)};
    Value vec = maskedVectorLoad(valid, m, idx, width);
    SmallVector<Value> values;
    for (int64_t e = 0; e < width; ++e)
      values.push_back(
          convert(vector::ExtractOp::create(b, vec, e), b.getF32Type()));
    return values;
  }
  /// Vector loads and stores aligned to the vector's own size: the kernels
  /// issue them only at multiples of the vector length into rows that are.
  static llvm::Align vectorAlign(VectorType type) {
    return llvm::Align(type.getNumElements() * type.getElementTypeBitWidth() /
                       8);
  }
  Value vectorLoad(VectorType type, Value m, ValueRange idx) {
    return vector::LoadOp::create(b, type, m, idx, /*nontemporal=*/false,
                                  vectorAlign(type));
  }
  void vectorStore(Value v, Value m, ValueRange idx) {
    vector::StoreOp::create(b, v, m, idx, /*nontemporal=*/false,
                            vectorAlign(cast<VectorType>(v.getType())));
  }
  /// The same as one vector of m's element type (zeros where not `valid`).
  Value maskedVectorLoad(Value valid, Value m, ArrayRef<Value> idx,
                         int64_t width) {
    Type element = cast<MemRefType>(m.getType()).getElementType();
    auto type = VectorType::get({width}, element);
    SmallVector<Value> safe;
    for (Value i : idx)
      safe.push_back(sel(valid, i, c(0)));
    Value vec = vectorLoad(type, m, safe);
    return sel(valid, vec, splat(type, 0.0f));
  }
  /// The GEMM epilogues' store: out[n][o][px] = v; for a pooled output,
  /// out[n][o] += v / P (an atomic add: every pixel block contributes); with
  /// split K, out[n][o][px] += v (every K chunk contributes).
  void storeOrPool(Value v, Value out, Value n, Value o, Value px, bool pooled,
                   int64_t pixels, bool splitK = false) {
    if (pooled) {
      memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::addf,
                                  fmul(v, f(1.0f / float(pixels))), out,
                                  ValueRange{n, o});
      return;
    }
    if (splitK) {
      memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::addf, v, out,
                                  ValueRange{n, o, px});
      return;
    }
    write(v, out, {n, o, px});
  }
  /// `x` (a float or a vector of floats of any width) activated.
  Value activate(Value x, Activation act) {
    if (act == Activation::none)
      return x;
    x = arith::MaximumFOp::create(b, x, splat(x.getType(), 0.0f));
    if (act == Activation::relu6)
      x = arith::MinimumFOp::create(b, x, splat(x.getType(), 6.0f));
    return x;
  }
  /// cp.async.commit_group: the thread's copies since the last commit (and
  /// `tokens`' copies) as one group.
  Value commitCopies(ValueRange tokens = {}) {
    return nvgpu::DeviceAsyncCreateGroupOp::create(
        b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens);
  }
  /// cp.async.wait_group: waits until at most `pending` of the thread's
  /// newest groups are still in flight (`group`, the newest, names them).
  void waitCopies(Value group, int32_t pending) {
    nvgpu::DeviceAsyncWaitOp::create(b, group, b.getI32IntegerAttr(pending));
  }
  Value threadId(gpu::Dimension d) { return gpu::ThreadIdOp::create(b, d); }
  Value blockId(gpu::Dimension d) { return gpu::BlockIdOp::create(b, d); }
  /// The thread's index in a 1-D grid of blocks of `blockSize` threads.
  Value globalThreadId(int64_t blockSize) {
    return add(mul(blockId(gpu::Dimension::x), blockSize),
               threadId(gpu::Dimension::x));
  }
  /// Runs `body` inside `if (cond)`.
  void ifThen(Value cond, llvm::function_ref<void()> body) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }
  /// for (iv = lb; iv < ub; iv += step) carrying `init`; `body` returns the
  /// next values of the carried state.
  SmallVector<Value>
  loop(int64_t lb, int64_t ub, int64_t step, ValueRange init,
       llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = scf::ForOp::create(b, c(lb), c(ub), c(step), init);
    // A loop without carried values comes with an implicit scf.yield.
    if (forOp.getBody()->mightHaveTerminator())
      forOp.getBody()->getTerminator()->erase();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    SmallVector<Value> next =
        body(forOp.getInductionVar(), forOp.getRegionIterArgs());
    scf::YieldOp::create(b, next);
    return SmallVector<Value>(forOp.getResults());
  }
  /// The same loop unrolled (constant induction values): the loads of all
  /// iterations can then be in flight together.
  SmallVector<Value>
  unrolledLoop(int64_t lb, int64_t ub, int64_t step, ValueRange init,
               llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    SmallVector<Value> state(init.begin(), init.end());
    for (int64_t iv = lb; iv < ub; iv += step)
      state = body(c(iv), state);
    return state;
  }
  /// Thread `tid` of `threads` moves elements tid, tid + threads, ... below
  /// `total`: it issues all its loads before its stores (one latency for all
  /// of them, where a load-store loop waits out one per element), and skips
  /// the stores of the last round past `total` (`load` masks those itself).
  void loadsThenStores(Value tid, int64_t threads, int64_t total,
                       llvm::function_ref<Value(Value)> load,
                       llvm::function_ref<void(Value, Value)> store) {
    SmallVector<std::pair<Value, Value>> loaded; // (element, value)
    for (int64_t base = 0; base < total; base += threads) {
      Value e = add(tid, base);
      loaded.push_back({e, load(e)});
    }
    for (auto [round, item] : llvm::enumerate(loaded)) {
      auto [e, v] = item;
      if (int64_t(round + 1) * threads <= total)
        store(e, v);
      else
        ifThen(lt(e, total), [&, e = e, v = v] { store(e, v); });
    }
  }
  void loop(int64_t lb, int64_t ub, int64_t step,
            llvm::function_ref<void(Value)> body) {
    loop(lb, ub, step, ValueRange{}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>{};
    });
  }
};

/// Sets `b` before the kernel's gpu.return.
inline void enterKernel(ImplicitLocOpBuilder &b, gpu::GPUFuncOp func) {
  b.setInsertionPoint(func.getBody().front().getTerminator());
}

/// The operands of the kernels that take (input, filter or weights, bias,
/// output): the direct convolutions and the linear layers.
inline std::tuple<Value, Value, Value, Value>
inWeightBiasOut(gpu::GPUFuncOp func) {
  return {func.getArgument(0), func.getArgument(1), func.getArgument(2),
          func.getArgument(3)};
}

inline MemRefType f32Memref(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return MemRefType::get(shape, Float32Type::get(ctx));
}

inline MemRefType workgroupMemref(MLIRContext *ctx, ArrayRef<int64_t> shape,
                                  Type element = {}) {
  auto space = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  return MemRefType::get(shape, element ? element : Float32Type::get(ctx),
                         MemRefLayoutAttrInterface{}, space);
}

/// `count` (1 or 2) m16n8k16 B fragments over K rows row .. row + 15 of a
/// K-major 16-bit shared tile (`lead` indexes its leading dimensions), one
/// for each group of 8 columns from `col` on, by one transposed ldmatrix:
/// x2 for one fragment (lanes 0-15 address the rows); x4 for two (lanes
/// 16-31 address the same rows 8 columns on), half the loads and addresses
/// of one x2 per fragment.
SmallVector<Value, 2> loadBFragments(KernelBuilder &k, Value tile,
                                     ValueRange lead, Value row, Value col,
                                     Value laneHalf, int64_t count);

} // namespace ptxnet::kernels

#endif // PTXNET_LIB_CONVERSION_NNTOGPU_KERNELBUILDER_H
