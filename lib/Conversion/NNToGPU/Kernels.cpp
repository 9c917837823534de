//===- Kernels.cpp - gpu.func generators for fused nn ops -----------------===//
//
// The kernels are built with scf/arith/memref on static shapes, so every index
// computation folds to constants and strength-reduced arithmetic in the PTX.
// Out-of-range loads are clamped and masked with `select` rather than
// branched around, which keeps warps converged.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>
#include <optional>
#include <tuple>

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;
using nn::Activation;

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

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

MemRefType ptxnet::kernels::activationMemref(ArrayRef<int64_t> nchw,
                                             Type element, int64_t plane) {
  if (plane == 0 || plane == nchw[2] * nchw[3])
    return MemRefType::get(nchw, element);
  auto layout = StridedLayoutAttr::get(element.getContext(), /*offset=*/0,
                                       {nchw[1] * plane, plane, nchw[3], 1});
  return MemRefType::get(nchw, element, layout);
}

namespace {
/// Terse index and float arithmetic on an ImplicitLocOpBuilder, so the kernel
/// bodies below read like the loops they are.
struct KB {
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
    return arith::AddFOp::create(b, acc, arith::MulFOp::create(b, x, y, contract),
                                 contract);
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
  SmallVector<Value> maskedVectorRead(Value valid, Value m,
                                      ArrayRef<Value> idx, int64_t width) {
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
    return llvm::Align(type.getNumElements() *
                       type.getElementTypeBitWidth() / 8);
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
  void storeOrPool(Value v, Value out, Value n, Value o, Value px,
                   bool pooled, int64_t pixels, bool splitK = false) {
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
} // namespace

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

/// Sets `b` before the kernel's gpu.return.
static void enterKernel(ImplicitLocOpBuilder &b, gpu::GPUFuncOp func) {
  b.setInsertionPoint(func.getBody().front().getTerminator());
}

/// The operands of the kernels that take (input, filter or weights, bias,
/// output): the direct convolutions and the linear layers.
static std::tuple<Value, Value, Value, Value>
inWeightBiasOut(gpu::GPUFuncOp func) {
  return {func.getArgument(0), func.getArgument(1), func.getArgument(2),
          func.getArgument(3)};
}

static MemRefType f32Memref(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return MemRefType::get(shape, Float32Type::get(ctx));
}

static MemRefType workgroupMemref(MLIRContext *ctx, ArrayRef<int64_t> shape,
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
static SmallVector<Value, 2> loadBFragments(KB &k, Value tile, ValueRange lead,
                                            Value row, Value col,
                                            Value laneHalf, int64_t count) {
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

//===----------------------------------------------------------------------===//
// Direct convolution
//===----------------------------------------------------------------------===//

/// Output channels one thread of a dense direct convolution computes: every
/// input tap it loads is reused that many times from registers. With the
/// filter as immediates, all of them (the filter index must be static).
static int64_t outputChannelsPerThread(const ConvShape &s, bool immediates) {
  if (immediates)
    return s.oc;
  if (s.groups != 1)
    return 1;
  for (int64_t ocb : {16, 8, 4, 2})
    if (s.oc % ocb == 0)
      return ocb;
  return 1;
}

/// Accumulators of one direct-convolution thread (registers).
static constexpr int64_t kMaxDirectAccumulators = 64;

bool ptxnet::kernels::directConvFilterAsImmediates(const ConvShape &s) {
  return s.groups == 1 && s.oc <= kMaxDirectAccumulators &&
         s.oc * s.icg * s.kh * s.kw <= 1024;
}

/// Adjacent output columns one thread computes: each input it loads then
/// feeds up to kw of them and each filter tap all of them, as long as the
/// layer still gives four blocks per SM (528 on an H100). 8 only at stride 1
/// over whole rows (measured: 20% faster for mbconv1's depthwise at batch
/// 64, but 37% slower at stride 2). With `pairs` (f16x2 sums of column
/// pairs, see f16StemMath), at least 2 while there is a block per SM: a
/// pair halves the FMAs, and the stem at batch 10 (half a wave of blocks)
/// measured 14.9 -> 13.8 us on an H200; at batch 1 (28 blocks) it was
/// slower.
static int64_t outputColumnsPerThread(const ConvShape &s, int64_t ocb,
                                      int64_t blockSize, bool pairs) {
  int64_t threads = s.n * (s.oc / ocb) * s.oh * s.ow;
  for (int64_t pw : {8, 4, 2}) {
    if (pw == 8 && (s.sw != 1 || s.ow % 8 != 0))
      continue;
    if (s.ow >= 2 * pw && threads / pw >= 528 * blockSize &&
        ocb * pw <= kMaxDirectAccumulators)
      return pw;
  }
  if (pairs && s.ow >= 4 && threads / 2 >= 132 * blockSize &&
      ocb <= kMaxDirectAccumulators)
    return 2;
  return 1;
}

/// The arguments of both direct-convolution kernels: input NxCxHxW, filter
/// OxC/gxKHxKW, bias O, output NxOxOHxOW.
static SmallVector<Type> directConvArguments(MLIRContext *ctx,
                                             const ConvShape &s,
                                             const Elements &types) {
  return {activationMemref({s.n, s.c, s.h, s.w}, types.in, s.inPlane),
          MemRefType::get({s.oc, s.icg, s.kh, s.kw}, types.filter),
          f32Memref(ctx, {s.oc}),
          activationMemref({s.n, s.oc, s.oh, s.ow}, types.out, s.outPlane)};
}

// Why stride 1 on odd widths only: there the direct kernel loads each
// input of its 4 columns per thread as a scalar, 3 times (once a filter
// row), and spends about 60 instructions an output. Walking down 15 rows,
// a thread spends about 25 an output, and EfficientNet-B1's 15x15 depthwise
// at batch 64 ran 22.0 -> 18.3 us on an H200. Where the direct kernel loads
// vectors (8x8 maps, the 30x30 map of stride 2) it measured faster than the
// walk (11.9 against 13.3 us, 15.9 against 16.9), and the 15x15 map of
// stride 2 ran as fast either way (bench/RESULTS.md, 2026-12-02).
int64_t KernelEmitter::depthwiseColumnRows(const ConvShape &s) const {
  if (s.groups != s.c || s.icg != 1 || s.oc != s.c ||
      options.depthwiseColumnRows == 0)
    return 0;
  if (options.depthwiseColumnRows >
      0) // the most rows up to options.depthwiseColumnRows
    for (int64_t ph = std::min(options.depthwiseColumnRows, s.oh);; --ph)
      if (s.oh % ph == 0)
        return ph;
  if (s.sh != 1 || s.sw != 1 || s.w % 2 == 0)
    return 0;
  const int64_t columns = s.n * s.c * s.ow;
  for (int64_t ph = s.oh; ph >= 2; --ph)
    if (s.oh % ph == 0 && columns * (s.oh / ph) >= 528 * options.blockSize)
      return ph;
  return 0;
}

/// The body of a depthwise direct-convolution kernel that walks down
/// columns (see emitDirectConv), `ph` output rows a thread; returns the
/// number of threads.
static int64_t walkDepthwiseColumns(KB &k, const ConvShape &s, Activation act,
                                    int64_t ph, int64_t blockSize, Value in,
                                    Value filter, Value bias, Value out) {
  const int64_t rowBlocks = s.oh / ph;
  const int64_t total = s.n * s.c * rowBlocks * s.ow;
  Value idx = k.globalThreadId(blockSize);
  k.ifThen(k.lt(idx, total), [&] {
    // Consecutive threads own consecutive columns of a row block, so that
    // every load and store of a warp covers whole rows.
    Value ox = k.rem(idx, s.ow);
    Value t = k.div(idx, s.ow);
    Value oyTop = rowBlocks == 1 ? k.c(0) : k.mul(k.rem(t, rowBlocks), ph);
    t = k.div(t, rowBlocks);
    Value ch = k.rem(t, s.c), n = k.div(t, s.c);
    // The window's columns; one past an edge of the image is read at
    // column 0 and its taps are zero instead (finite activations times zero
    // add nothing), so no load of the walk is masked by column.
    Value x0 = k.sub(k.mul(ox, s.sw), k.c(s.pl));
    SmallVector<Value> xs;
    SmallVector<Value> taps; // [ky][kx]
    SmallVector<Value> colOk;
    for (int64_t kx = 0; kx < s.kw; ++kx) {
      Value x = k.add(x0, kx);
      Value ok;
      if (kx < s.pl)
        ok = k.ge0(x);
      if ((s.ow - 1) * s.sw - s.pl + kx >= s.w) {
        Value inside = k.lt(x, s.w);
        ok = ok ? k.both(ok, inside) : inside;
      }
      colOk.push_back(ok);
      xs.push_back(ok ? k.sel(ok, x, k.c(0)) : x);
    }
    for (int64_t ky = 0; ky < s.kh; ++ky)
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        Value w = k.read(filter, {ch, k.c(0), k.c(ky), k.c(kx)});
        taps.push_back(colOk[kx] ? k.sel(colOk[kx], w, k.f(0.0f)) : w);
      }
    Value bo = k.load(bias, {ch});
    // Input rows top to bottom, each loaded once and added to every output
    // row whose window holds it, in the direct kernel's order (ky, then kx),
    // so that the sums match it. With one row block, rows outside the image
    // are known here and skipped; else they are masked.
    Value yTop = k.sub(k.mul(oyTop, s.sh), k.c(s.pt));
    const int64_t inRows = (ph - 1) * s.sh + s.kh;
    const int64_t lastTop = (rowBlocks - 1) * ph * s.sh - s.pt;
    SmallVector<Value> acc(ph); // null until the row's first tap
    for (int64_t i = 0; i < inRows; ++i) {
      if (rowBlocks == 1 && (i - s.pt < 0 || i - s.pt >= s.h))
        continue;
      Value y = k.add(yTop, i);
      bool mayPad = i - s.pt < 0 || lastTop + i >= s.h;
      Value rowOk = mayPad ? k.both(k.ge0(y), k.lt(y, s.h)) : Value();
      SmallVector<Value> v;
      for (int64_t kx = 0; kx < s.kw; ++kx)
        v.push_back(rowOk ? k.maskedLoad(rowOk, in, {n, ch, y, xs[kx]})
                          : k.read(in, {n, ch, y, xs[kx]}));
      for (int64_t r = 0; r < ph; ++r) {
        int64_t ky = i - r * s.sh;
        if (ky < 0 || ky >= s.kh)
          continue;
        if (!acc[r])
          acc[r] = k.f(0.0f);
        for (int64_t kx = 0; kx < s.kw; ++kx)
          acc[r] = k.fma(acc[r], v[kx], taps[ky * s.kw + kx]);
      }
    }
    for (int64_t r = 0; r < ph; ++r) {
      Value sum = acc[r] ? acc[r] : k.f(0.0f);
      k.write(k.activate(k.fadd(sum, bo), act), out,
              {n, ch, k.add(oyTop, r), ox});
    }
  });
  return total;
}

KernelLaunch KernelEmitter::emitDirectConv(StringRef name, const ConvShape &s,
                                           Activation act,
                                           const Elements &types,
                                           DenseFPElementsAttr filterValues) {
  MLIRContext *ctx = module.getContext();
  auto func = createKernel(name, directConvArguments(ctx, s, types));
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value in, filter, bias, out;
  std::tie(in, filter, bias, out) = inWeightBiasOut(func);
  if (int64_t ph = depthwiseColumnRows(s)) {
    int64_t threads = walkDepthwiseColumns(k, s, act, ph, options.blockSize, in,
                                           filter, bias, out);
    return {func,
            {ceilDiv(threads, options.blockSize), 1, 1},
            {options.blockSize, 1, 1}};
  }

  // A small dense filter known at compile time (the stem's 3x3x3x32) is
  // folded into the code: FMAs take it as immediates instead of loading it
  // once per tap and channel.
  SmallVector<float> immediates;
  if (filterValues && directConvFilterAsImmediates(s))
    for (APFloat v : filterValues.getValues<APFloat>())
      immediates.push_back(v.convertToFloat());
  const int64_t ocb = outputChannelsPerThread(s, !immediates.empty());
  const int64_t ocBlocks = s.oc / ocb;
  // With f16StemMath, a compiled-in filter and an f16 output, pairs of
  // adjacent columns are summed in f16x2 (pairMath): one fma.rn.f16x2 takes
  // a tap to two outputs, the inputs rounded to f16 in pairs
  // (cvt.rn.f16x2.f32), the sums rounded at every tap. The stem at batch 64
  // spent 83% of its instructions on float32 FMAs.
  const bool pairsWanted =
      options.f16StemMath && !immediates.empty() && types.out.isF16();
  const int64_t pw =
      outputColumnsPerThread(s, ocb, options.blockSize, pairsWanted);
  const bool pairMath = pairsWanted && pw % 2 == 0;
  const int64_t owBlocks = ceilDiv(s.ow, pw);
  // The input columns a thread's pw outputs read in one filter row.
  const int64_t span = (pw - 1) * s.sw + s.kw;
  // They are loaded as aligned vectors of vw elements (up to 16 bytes) when
  // rows and thread starts allow: every vector is then wholly inside or
  // wholly outside the row. A thread's first column x0 is `lead` past a
  // vector boundary.
  const int64_t inBytes = types.in.getIntOrFloatBitWidth() / 8;
  int64_t vw = 1;
  for (int64_t v : {8, 4, 2})
    if (v * inBytes <= 16 && s.w % v == 0 && (pw * s.sw) % v == 0) {
      vw = v;
      break;
    }
  const int64_t lead = (vw - s.pl % vw) % vw;
  const int64_t vectors = ceilDiv(lead + span, vw);
  int64_t total = s.n * ocBlocks * s.oh * owBlocks;
  Value idx = k.globalThreadId(options.blockSize);
  k.ifThen(k.lt(idx, total), [&] {
    // NCHW output order: consecutive threads write consecutive columns.
    Value ox0 = k.mul(k.rem(idx, owBlocks), pw);
    Value t = k.div(idx, owBlocks);
    Value oy = k.rem(t, s.oh);
    t = k.div(t, s.oh);
    Value o0 = k.mul(k.rem(t, ocBlocks), ocb);
    Value n = k.div(t, ocBlocks);
    Value group = k.div(o0, s.oc / s.groups);
    Value y0 = k.sub(k.mul(oy, s.sh), k.c(s.pt));
    Value x0 = k.sub(k.mul(ox0, s.sw), k.c(s.pl));
    // With pairMath, the f16x2 sums of adjacent column pairs [j][p / 2].
    auto pairType = VectorType::get({2}, b.getF16Type());
    SmallVector<Value> pairSums;
    if (pairMath)
      pairSums.assign(ocb * pw / 2, k.splat(pairType, 0.0f));
    // Adds input channel ci's taps to sums[j][p]; ciStatic is ci as a
    // number where the channel loop is unrolled (immediates).
    auto accumulate = [&](Value ci, int64_t ciStatic,
                          SmallVector<Value> &sums) {
          Value ch = k.add(k.mul(group, s.icg), ci);
          // The window is small and static: unrolled here, so each tap is a
          // constant offset from the same base address. A filter row's
          // inputs are loaded once for all pw outputs.
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            Value y = k.add(y0, ky);
            Value rowOk = k.both(k.ge0(y), k.lt(y, s.h));
            SmallVector<Value> segment; // columns x0 - lead, ...
            for (int64_t m = 0; m < vectors; ++m) {
              Value x = k.add(k.sub(x0, k.c(lead)), m * vw);
              Value ok = k.both(rowOk, k.both(k.ge0(x), k.lt(x, s.w)));
              llvm::append_range(segment,
                                 k.maskedVectorRead(ok, in, {n, ch, y, x}, vw));
            }
            ArrayRef<Value> row = ArrayRef<Value>(segment).slice(lead, span);
            if (pairMath) {
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                SmallVector<Value> inPairs;
                for (int64_t q = 0; q < pw; q += 2)
                  inPairs.push_back(k.convert(
                      k.pair(row[q * s.sw + kx], row[(q + 1) * s.sw + kx]),
                      pairType));
                for (int64_t j = 0; j < ocb; ++j) {
                  Value wv = k.splat(
                      pairType,
                      immediates[((j * s.icg + ciStatic) * s.kh + ky) * s.kw +
                                 kx]);
                  for (int64_t q = 0; q < pw / 2; ++q)
                    pairSums[j * (pw / 2) + q] =
                        k.fma(pairSums[j * (pw / 2) + q], inPairs[q], wv);
                }
              }
              continue;
            }
            for (int64_t kx = 0; kx < s.kw; ++kx)
              for (int64_t j = 0; j < ocb; ++j) {
                Value wv =
                    immediates.empty()
                        ? k.read(filter, {k.add(o0, j), ci, k.c(ky), k.c(kx)})
                        : k.f(immediates[((j * s.icg + ciStatic) * s.kh + ky) *
                                             s.kw +
                                         kx]);
                for (int64_t q = 0; q < pw; ++q)
                  sums[j * pw + q] =
                      k.fma(sums[j * pw + q], row[q * s.sw + kx], wv);
              }
          }
    };
    SmallVector<Value> acc(ocb * pw, k.f(0.0f)); // [j][p]
    if (!immediates.empty()) {
      for (int64_t ci = 0; ci < s.icg; ++ci)
        accumulate(k.c(ci), ci, acc);
    } else {
      acc = k.loop(0, s.icg, 1, acc, [&](Value ci, ValueRange a) {
        SmallVector<Value> sums(a.begin(), a.end());
        accumulate(ci, /*ciStatic=*/-1, sums);
        return sums;
      });
    }
    // The pw outputs of a channel are adjacent: with whole blocks per row
    // (OW % pw == 0) they leave as one aligned vector.
    const int64_t outBytes = types.out.getIntOrFloatBitWidth() / 8;
    const bool vectorStore =
        pw > 1 && s.ow % pw == 0 && pw * outBytes <= 16;
    for (int64_t j = 0; j < ocb; ++j) {
      Value o = k.add(o0, j);
      Value bo = k.load(bias, {o});
      // With pairMath, the channel's activated f16 outputs.
      SmallVector<Value> halfOut;
      if (pairMath) {
        Value bp = k.convert(k.pair(bo, bo), pairType);
        for (int64_t q = 0; q < pw / 2; ++q) {
          Value h = k.activate(k.fadd(pairSums[j * (pw / 2) + q], bp), act);
          halfOut.push_back(vector::ExtractOp::create(b, h, 0));
          halfOut.push_back(vector::ExtractOp::create(b, h, 1));
        }
      }
      // The activated output (j, q), as stored.
      auto result = [&](int64_t q) {
        return pairMath ? halfOut[q]
                        : k.activate(k.fadd(acc[j * pw + q], bo), act);
      };
      if (vectorStore) {
        SmallVector<Value> results;
        for (int64_t q = 0; q < pw; ++q)
          results.push_back(k.convert(result(q), types.out));
        Value vec = vector::FromElementsOp::create(
            b, VectorType::get({pw}, types.out), results);
        k.vectorStore(vec, out, {n, o, oy, ox0});
        continue;
      }
      for (int64_t q = 0; q < pw; ++q) {
        Value ox = k.add(ox0, q);
        auto store = [&] { k.write(result(q), out, {n, o, oy, ox}); };
        if (s.ow % pw == 0 || q == 0)
          store();
        else
          k.ifThen(k.lt(ox, s.ow), store);
      }
    }
  });
  return {func,
          {ceilDiv(total, options.blockSize), 1, 1},
          {options.blockSize, 1, 1}};
}

//===----------------------------------------------------------------------===//
// Small dense convolution on tensor cores (f16, bf16)
//===----------------------------------------------------------------------===//

// An implicit GEMM for dense convolutions with few taps, like the stem (3
// input channels x 3 x 3 = 27): output channels x pixels over K = C x KH x
// KW, zero-padded to whole m16n8k16 k-steps. A block owns up to 4 output
// rows of one image, two warps per row. It stages, by coalesced loads, the
// input rows those outputs read (all channels, as 16-bit values; padding and
// one extra row of zeros) and the filter as A. The two warps of a row take
// its groups of 8 pixels in turn. Per group, lane (g, t) gathers the B
// fragment elements of pixel g, taps 16 s + 8 h + 2 t + e, from the staged
// rows at offsets fixed per lane (taps past K read the zero row), and the
// warp multiplies them by the A fragments it took by ldmatrix once. Bias
// and activation go to a shared output tile as pairs of adjacent pixels;
// the tile leaves in 16-byte row vectors.
//
// The direct kernel spends C x KH x KW FMAs per output, this one an MMA per
// 16 x 8 outputs and 16 taps, yet measured 1% slower end to end on an H200
// (bench/RESULTS.md, 2026-12-01 fourth session): both stems take about 12
// us at batch 10 under ncu with DRAM 11% busy, bound by the latency of
// short blocks rather than by FMAs. So dense-conv-mma is off by default.
// Earlier layouts were slower still: a warp per row (8 warps per SM, 10
// cycles per instruction), the filter fragments gathered per lane from
// device memory (half of all sectors), fragment pairs stored straight to
// device memory (half of the sectors partial).
static constexpr int64_t kDenseMmaMaxTaps = 64, kDenseMmaMaxChannels = 64;

namespace {
struct DenseConvMmaPlan {
  int64_t rows;        // output rows per block
  int64_t warpsPerRow; // warps sharing an output row's pixel groups
  int64_t shift;       // shared column of input column 0 (>= pl, 4-aligned)
  int64_t rowsStaged;  // input rows of one channel a block stages
  int64_t width;       // 16-bit values per staged row
  int64_t groups;      // 8-pixel groups per output row
  int64_t outRow;      // 16-bit values per row of the shared output tile
  int64_t plane() const { return rowsStaged * width; }
  /// The staged channels, then the zero row.
  int64_t elements(const ConvShape &s) const { return s.c * plane() + width; }
  /// The output tile: rows x (output channels, whole 16-channel tiles).
  int64_t outElements(const ConvShape &s) const {
    return rows * llvm::alignTo(s.oc, 16) * outRow;
  }
  /// The filter as A: whole 16-channel tiles x (taps in whole k-steps + 8,
  /// so that the 8 rows of an ldmatrix phase hit distinct bank groups).
  static int64_t filterRow(const ConvShape &s) {
    return llvm::alignTo(s.c * s.kh * s.kw, 16) + 8;
  }
  int64_t filterElements(const ConvShape &s) const {
    return llvm::alignTo(s.oc, 16) * filterRow(s);
  }
};
} // namespace

/// Shared memory (staged rows, output tile, filter) stays under 48 KB
/// (static); then as many rows per block as keep two blocks per SM.
static std::optional<DenseConvMmaPlan> planDenseConvMma(const ConvShape &s,
                                                        int64_t sms) {
  if (s.groups != 1 || s.icg != s.c || (s.kh == 1 && s.kw == 1) ||
      s.c * s.kh * s.kw > kDenseMmaMaxTaps || s.oc > kDenseMmaMaxChannels)
    return std::nullopt;
  DenseConvMmaPlan p;
  p.groups = ceilDiv(s.ow, 8);
  p.shift = llvm::alignTo(s.pl, 4);
  // The last column a group's gather reads: pixel 8 x groups - 1, tap kw - 1.
  const int64_t last = s.sw * (8 * p.groups - 1) + s.kw - 1 - s.pl + p.shift;
  p.width = llvm::alignTo(last + 1, 8);
  p.warpsPerRow = std::min<int64_t>(2, p.groups);
  // Whole groups; a row stride of 4 x an odd number of words puts the 8
  // channels g of a fragment store in distinct banks.
  p.outRow = 8 * p.groups + (p.groups % 2 == 0 ? 8 : 0);
  for (int64_t rows : {4, 2, 1}) {
    p.rows = rows;
    p.rowsStaged = (rows - 1) * s.sh + s.kh;
    if (2 * (p.elements(s) + p.outElements(s) + p.filterElements(s)) >
        48 * 1024)
      continue;
    if (rows == 1 || s.n * ceilDiv(s.oh, rows) >= 2 * sms)
      return p;
  }
  return std::nullopt;
}

bool ptxnet::kernels::denseConvOnTensorCores(const ConvShape &s,
                                             const GemmTuning &tuning) {
  return planDenseConvMma(s, tuning.sms).has_value();
}

KernelLaunch KernelEmitter::emitDenseConvMma(StringRef name, const ConvShape &s,
                                             Activation act,
                                             const Elements &types) {
  MLIRContext *ctx = module.getContext();
  const DenseConvMmaPlan p = *planDenseConvMma(s, options.tuning.sms);
  Type half = types.out; // the tensor cores' operand type
  const int64_t taps = s.c * s.kh * s.kw, kSteps = ceilDiv(taps, 16);
  const int64_t mTiles = ceilDiv(s.oc, 16);
  const int64_t threads = 32 * p.rows * p.warpsPerRow;
  const int64_t zeroRow = s.c * p.plane();
  const int64_t tileChannels = llvm::alignTo(s.oc, 16);
  const int64_t rowA = DenseConvMmaPlan::filterRow(s);
  auto func = createKernel(name, directConvArguments(ctx, s, types),
                           {workgroupMemref(ctx, {p.elements(s)}, half),
                            workgroupMemref(ctx, {p.outElements(s)}, half),
                            workgroupMemref(ctx, {tileChannels, rowA}, half)});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value in, filter, bias, out;
  std::tie(in, filter, bias, out) = inWeightBiasOut(func);
  Value staged = func.getWorkgroupAttributions()[0];
  Value outTile = func.getWorkgroupAttributions()[1];
  Value tileA = func.getWorkgroupAttributions()[2];
  Value tid = k.threadId(gpu::Dimension::x);
  Value lane = k.rem(tid, 32), warp = k.div(tid, 32);
  Value g = k.div(lane, 4), t = k.rem(lane, 4);
  Value n = k.blockId(gpu::Dimension::y);
  Value oy0 = k.mul(k.blockId(gpu::Dimension::x), p.rows);
  Value iy0 = k.sub(k.mul(oy0, s.sh), k.c(s.pt));

  // Tap kk of the filter as (channel, ky, kx).
  auto tapIndices = [&](Value kk) {
    return std::array<Value, 3>{k.div(kk, s.kh * s.kw),
                                k.rem(k.div(kk, s.kw), s.kh), k.rem(kk, s.kw)};
  };

  // Staging: row r of channel c holds input row iy0 + r, column x at shift +
  // x; chunks of vw values, each wholly inside or outside the image.
  const int64_t inBytes = types.in.getIntOrFloatBitWidth() / 8;
  int64_t vw = 1;
  for (int64_t v : {8, 4, 2})
    if (v * inBytes <= 16 && s.w % v == 0 && p.shift % v == 0) {
      vw = v;
      break;
    }
  const int64_t chunksPerRow = p.width / vw;
  const int64_t realRows = s.c * p.rowsStaged;
  auto chunkIndices = [&](Value chunk) {
    Value row = k.div(chunk, chunksPerRow);
    return std::make_pair(row, k.mul(k.rem(chunk, chunksPerRow), vw));
  };
  k.loadsThenStores(
      tid, threads, (realRows + 1) * chunksPerRow,
      [&](Value chunk) {
        auto [row, col] = chunkIndices(chunk);
        Value y = k.add(iy0, k.rem(row, p.rowsStaged));
        Value x = k.sub(col, k.c(p.shift));
        Value ok =
            k.both(k.both(k.lt(row, realRows), k.both(k.ge0(y), k.lt(y, s.h))),
                   k.both(k.ge0(x), k.lt(x, s.w)));
        SmallVector<Value> halves;
        for (Value v : k.maskedVectorRead(
                 ok, in, {n, k.div(row, p.rowsStaged), y, x}, vw))
          halves.push_back(k.convert(v, half));
        return vw == 1 ? halves.front()
                       : vector::FromElementsOp::create(
                             b, VectorType::get({vw}, half), halves)
                             .getResult();
      },
      [&](Value chunk, Value v) {
        auto [row, col] = chunkIndices(chunk);
        Value at = k.add(k.mul(row, p.width), col);
        if (vw == 1)
          k.store(v, staged, {at});
        else
          k.vectorStore(v, staged, {at});
      });
  // The filter as A (taps in OIHW order, zero past O and past K), by
  // coalesced loads: the warps then take their fragments by ldmatrix
  // (gathering them from device memory per lane cost half of the kernel's
  // sectors). Elements past the tile lie past O.
  k.loadsThenStores(
      tid, threads, tileChannels * rowA,
      [&](Value e) {
        Value o = k.div(e, rowA), kk = k.rem(e, rowA);
        auto [ci, ky, kx] = tapIndices(kk);
        Value ok = k.both(k.lt(o, s.oc), k.lt(kk, taps));
        return k.convert(k.maskedLoad(ok, filter, {o, ci, ky, kx}), half);
      },
      [&](Value e, Value v) {
        k.store(v, tileA, {k.div(e, rowA), k.rem(e, rowA)});
      });
  gpu::BarrierOp::create(b);

  Value rowInBlock = k.div(warp, p.warpsPerRow);
  Value part = k.rem(warp, p.warpsPerRow);
  Value oy = k.add(oy0, rowInBlock);
  k.ifThen(k.lt(oy, s.oh), [&] {
    // A fragments [m][ks], x4: lanes 0-15 address rows 16 m + 0..15 at tap
    // 16 ks, lanes 16-31 the same rows at tap 16 ks + 8.
    Value lane16 = k.rem(lane, 16), laneHalf = k.div(lane, 16);
    SmallVector<Value> aFrag;
    for (int64_t m = 0; m < mTiles; ++m)
      for (int64_t ks = 0; ks < kSteps; ++ks)
        aFrag.push_back(nvgpu::LdMatrixOp::create(
            b, VectorType::get({4, 2}, half), tileA,
            ValueRange{k.add(lane16, 16 * m),
                       k.add(k.mul(laneHalf, 8), 16 * ks)},
            /*transpose=*/false, /*numTiles=*/4));
    // B gather offsets [ks][h][e] of pixel g of group 0; group q adds
    // 8 q x sw. Taps past K read the zero row.
    Value rowBase = k.add(k.mul(rowInBlock, s.sh * p.width),
                          k.add(k.mul(g, s.sw), k.c(p.shift - s.pl)));
    SmallVector<Value> gather;
    for (int64_t ks = 0; ks < kSteps; ++ks)
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t j = 0; j < 2; ++j) {
          Value kk = k.add(k.mul(t, 2), 16 * ks + 8 * h + j);
          auto [ci, ky, kx] = tapIndices(kk);
          Value off =
              k.add(k.add(k.mul(ci, p.plane()), k.mul(ky, p.width)), kx);
          gather.push_back(k.sel(k.lt(kk, taps), k.add(rowBase, off),
                                 k.add(k.mul(g, s.sw), k.c(zeroRow))));
        }
    SmallVector<Value> biases; // [m][i]: channel 16 m + 8 i + g
    for (int64_t m = 0; m < mTiles; ++m)
      for (int64_t i = 0; i < 2; ++i) {
        Value o = k.add(g, 16 * m + 8 * i);
        biases.push_back(k.maskedLoad(k.lt(o, s.oc), bias, {o}));
      }
    Value zero = k.splat(VectorType::get({2, 2}, b.getF32Type()), 0.0f);
    Value tileRow = k.mul(rowInBlock, tileChannels);
    auto pixelGroup = [&](Value q) {
      Value step = k.mul(q, 8 * s.sw);
      SmallVector<Value> bFrag;
      for (int64_t ks = 0; ks < kSteps; ++ks) {
        SmallVector<Value> e;
        for (int64_t i = 0; i < 4; ++i)
          e.push_back(k.load(staged, {k.add(gather[ks * 4 + i], step)}));
        bFrag.push_back(vector::FromElementsOp::create(
            b, VectorType::get({2, 2}, half), e));
      }
      Value ox = k.add(k.mul(q, 8), k.mul(t, 2));
      for (int64_t m = 0; m < mTiles; ++m) {
        Value acc = zero;
        for (int64_t ks = 0; ks < kSteps; ++ks)
          acc = nvgpu::MmaSyncOp::create(b, aFrag[m * kSteps + ks], bFrag[ks],
                                         acc, ArrayRef<int64_t>{16, 8, 16},
                                         /*tf32Enabled=*/false);
        for (int64_t i = 0; i < 2; ++i) {
          Value o = k.add(g, 16 * m + 8 * i);
          Value bo = biases[m * 2 + i];
          SmallVector<Value, 2> v;
          for (int64_t j = 0; j < 2; ++j)
            v.push_back(k.fadd(
                vector::ExtractOp::create(b, acc, ArrayRef<int64_t>{i, j}),
                bo));
          Value pair = k.activate(
              k.convert(k.pair(v[0], v[1]), VectorType::get({2}, half)), act);
          k.vectorStore(pair, outTile,
                        {k.add(k.mul(k.add(tileRow, o), p.outRow), ox)});
        }
      }
    };
    // This warp's groups part, part + warpsPerRow, ...: unrolled (the loads
    // of several groups in flight) unless the row is long.
    const int64_t turns = ceilDiv(p.groups, p.warpsPerRow);
    auto turn = [&](Value i, bool guarded) {
      Value q = k.add(part, k.mul(i, p.warpsPerRow));
      if (guarded)
        k.ifThen(k.lt(q, p.groups), [&] { pixelGroup(q); });
      else
        pixelGroup(q);
    };
    if (turns <= 16) {
      for (int64_t i = 0; i < turns; ++i)
        turn(k.c(i), (i + 1) * p.warpsPerRow > p.groups);
    } else {
      k.loop(0, turns, 1, [&](Value i) { turn(i, /*guarded=*/true); });
    }
  });

  // The tile leaves by rows of channels in vectors of up to 16 bytes (the
  // fragments' 4-byte pairs spread a warp's store over 8 rows: half of the
  // sectors written were partial).
  gpu::BarrierOp::create(b);
  int64_t ov = 1;
  for (int64_t v : {8, 4, 2})
    if (s.ow % v == 0) {
      ov = v;
      break;
    }
  const int64_t perRow = ceilDiv(s.ow, ov), pieces = p.rows * s.oc * perRow;
  auto vecType = VectorType::get({ov}, half);
  for (int64_t base = 0; base < pieces; base += threads) {
    Value idx = k.add(tid, base);
    Value x = k.mul(k.rem(idx, perRow), ov);
    Value row = k.div(idx, perRow); // rowInBlock x oc + o
    Value o = k.rem(row, s.oc), r = k.div(row, s.oc);
    Value y = k.add(oy0, r);
    Value ok = k.lt(y, s.oh);
    if (base + threads > pieces)
      ok = k.both(ok, k.lt(idx, pieces));
    k.ifThen(ok, [&] {
      Value from = k.add(k.mul(k.add(k.mul(r, tileChannels), o), p.outRow), x);
      if (ov == 1)
        k.store(k.load(outTile, {from}), out, {n, o, y, x});
      else
        k.vectorStore(k.vectorLoad(vecType, outTile, {from}), out,
                      {n, o, y, x});
    });
  }
  return {func, {ceilDiv(s.oh, p.rows), s.n, 1}, {threads, 1, 1}};
}

//===----------------------------------------------------------------------===//
// Pointwise convolution as a tiled GEMM
//===----------------------------------------------------------------------===//

// A 64 (output channels) x 64 (pixels) tile per block of 16 x 16 threads,
// each thread a 4 x 4 sub-tile; K (input channels) in steps of 16 staged in
// shared memory, so each loaded value is reused 64 times from shared memory
// instead of re-read from L2.
static constexpr int64_t kTileM = 64, kTileN = 64, kTileK = 16, kSub = 4;

/// The arguments of both pointwise GEMM kernels: input N x C x P, filter
/// O x C, bias O, output N x O x P (N x O when pooled).
static SmallVector<Type> gemmArguments(MLIRContext *ctx, const ConvShape &s,
                                       bool pooled, const Elements &types) {
  int64_t p = s.h * s.w;
  MemRefType out = pooled ? MemRefType::get({s.n, s.oc}, types.out)
                          : MemRefType::get({s.n, s.oc, p}, types.out);
  return {MemRefType::get({s.n, s.c, p}, types.in),
          MemRefType::get({s.oc, s.c}, types.filter), f32Memref(ctx, {s.oc}),
          out};
}

/// The arguments of the expand + depthwise kernels (see Kernels.h), and of
/// a GEMM with a depthwise epilogue; the expand filter is f32, f16 or bf16.
static SmallVector<Type>
expandDepthwiseArguments(MLIRContext *ctx, const ConvShape &s, int64_t cin,
                         const Elements &types, Type expandFilter) {
  int64_t hid = s.c;
  return {MemRefType::get({s.n, cin, s.h, s.w}, types.in),
          MemRefType::get({hid, cin}, expandFilter),
          f32Memref(ctx, {hid}),
          f32Memref(ctx, {hid, 1, s.kh, s.kw}),
          f32Memref(ctx, {hid}),
          MemRefType::get({s.n, hid, s.oh, s.ow}, types.out)};
}

/// expandDepthwiseArguments' values in a kernel: input, expand filter and
/// bias, depthwise filter and bias, output.
static std::array<Value, 6> expandDepthwiseOperands(gpu::GPUFuncOp func) {
  return {func.getArgument(0), func.getArgument(1), func.getArgument(2),
          func.getArgument(3), func.getArgument(4), func.getArgument(5)};
}

namespace {
/// A GEMM kernel's arguments, in gemmArguments' order.
struct GemmOperands {
  Value in, filter, bias, out;
  explicit GemmOperands(gpu::GPUFuncOp func)
      : in(func.getArgument(0)), filter(func.getArgument(1)),
        bias(func.getArgument(2)), out(func.getArgument(3)) {}
};
} // namespace

/// K chunks of the fp32 GEMM over `tiles` output tiles: deep layers with few
/// tiles split K over blocks (partial sums added atomically), but only
/// without an activation, which would not distribute over the partial sums.
static int64_t chooseSplitK(const ConvShape &s, int64_t tiles, Activation act,
                            bool pooled, int64_t targetBlocks) {
  if (act != Activation::none || pooled || tiles >= targetBlocks || s.c < 128)
    return 1;
  return std::min(ceilDiv(2 * targetBlocks, tiles), s.c / 128);
}

KernelLaunch KernelEmitter::emitPointwiseGemm(StringRef name,
                                              const ConvShape &s,
                                              Activation act, bool pooled,
                                              const Elements &types) {
  MLIRContext *ctx = module.getContext();
  // Batch and pixels form one column dimension j = n * P + p.
  const int64_t p = s.h * s.w, cols = s.n * p;
  const int64_t tiles = ceilDiv(cols, kTileN) * ceilDiv(s.oc, kTileM);
  int64_t splitK = chooseSplitK(s, tiles, act, pooled, /*targetBlocks=*/264);
  const int64_t chunk = ceilDiv(ceilDiv(s.c, splitK), kTileK) * kTileK;
  splitK = ceilDiv(s.c, chunk);
  auto func = createKernel(name, gemmArguments(ctx, s, pooled, types),
                           {workgroupMemref(ctx, {kTileK, kTileM}),
                            workgroupMemref(ctx, {kTileK, kTileN})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  GemmOperands g(func);
  Value in = g.in, filter = g.filter, bias = g.bias, out = g.out;
  Value tileA = func.getWorkgroupAttributions()[0],
        tileB = func.getWorkgroupAttributions()[1];

  Value tx = k.threadId(gpu::Dimension::x); // 0..15 over columns
  Value ty = k.threadId(gpu::Dimension::y); // 0..15 over channels
  Value j0 = k.mul(k.blockId(gpu::Dimension::x), kTileN);
  Value o0 = k.mul(k.blockId(gpu::Dimension::y), kTileM);
  Value kz = k.blockId(gpu::Dimension::z);
  Value kBegin = k.mul(kz, chunk);
  Value tid = k.add(k.mul(ty, 16), tx);

  // 256 threads stage 1024 values of each tile, 4 each: a thread's A column
  // (channel) and B column (pixel) are fixed, its rows are 4 apart.
  Value m = k.rem(tid, kTileM), q = k.rem(tid, kTileN);
  Value row0 = k.div(tid, kTileM); // kTileM == kTileN
  Value oA = k.add(o0, m), oAOk = k.lt(oA, s.oc);
  Value jB = k.add(j0, q), jBOk = k.lt(jB, cols);
  Value jBSafe = k.sel(jBOk, jB, k.c(0));
  Value imgB = k.div(jBSafe, p), pxB = k.rem(jBSafe, p);

  SmallVector<Value> init(kSub * kSub, k.f(0.0f));
  SmallVector<Value> acc = k.loop(
      0, chunk, kTileK, init, [&](Value kOff, ValueRange a) {
        Value c0 = k.add(kBegin, kOff);
        // Threads of a warp read consecutive pixels of B (coalesced); A is
        // small and stays in L1/L2.
        for (int64_t r = 0; r < kTileK * kTileM / 256; ++r) {
          Value kk = k.add(row0, r * (256 / kTileM));
          Value ch = k.add(c0, kk);
          Value chOk = k.lt(ch, s.c);
          k.store(k.maskedLoad(k.both(oAOk, chOk), filter, {oA, ch}), tileA,
                  {kk, m});
          k.store(k.maskedLoad(k.both(jBOk, chOk), in, {imgB, ch, pxB}),
                  tileB, {kk, q});
        }
        gpu::BarrierOp::create(b);
        SmallVector<Value> next(a.begin(), a.end());
        for (int64_t kk = 0; kk < kTileK; ++kk) {
          Value kkv = k.c(kk);
          SmallVector<Value> av, bv;
          for (int64_t i = 0; i < kSub; ++i)
            av.push_back(k.load(tileA, {kkv, k.add(k.mul(ty, kSub), i)}));
          for (int64_t j = 0; j < kSub; ++j)
            bv.push_back(k.load(tileB, {kkv, k.add(k.mul(tx, kSub), j)}));
          for (int64_t i = 0; i < kSub; ++i)
            for (int64_t j = 0; j < kSub; ++j)
              next[i * kSub + j] = k.fma(next[i * kSub + j], av[i], bv[j]);
        }
        gpu::BarrierOp::create(b);
        return next;
      });
  // The thread's 4 output columns, split into (image, pixel) once.
  SmallVector<Value> colOk, img, px;
  for (int64_t j = 0; j < kSub; ++j) {
    Value col = k.add(k.add(j0, k.mul(tx, kSub)), j);
    colOk.push_back(k.lt(col, cols));
    Value safe = k.sel(colOk.back(), col, k.c(0));
    img.push_back(k.div(safe, p));
    px.push_back(k.rem(safe, p));
  }
  Value firstChunk =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kz, k.c(0));
  for (int64_t i = 0; i < kSub; ++i) {
    Value o = k.add(k.add(o0, k.mul(ty, kSub)), i);
    k.ifThen(k.lt(o, s.oc), [&] {
      Value bo = k.read(bias, {o});
      if (splitK > 1) // only the first K chunk adds the bias
        bo = k.sel(firstChunk, bo, k.f(0.0f));
      for (int64_t j = 0; j < kSub; ++j)
        k.ifThen(colOk[j], [&] {
          k.storeOrPool(k.activate(k.fadd(acc[i * kSub + j], bo), act), out,
                        img[j], o, px[j], pooled, p, splitK > 1);
        });
    });
  }
  KernelLaunch launch{func,
                      {ceilDiv(cols, kTileN), ceilDiv(s.oc, kTileM), splitK},
                      {16, 16, 1}};
  launch.accumulatesOutput = pooled || splitK > 1;
  return launch;
}

//===----------------------------------------------------------------------===//
// Pointwise convolution on tensor cores (tf32, f16, bf16)
//===----------------------------------------------------------------------===//

// Warps of 32 x 32 outputs (2 x 4 m16n8 fragments) arranged wm x wn in a
// block; batch and pixels form one column dimension j = n * P + p, so small
// late layers still produce enough blocks. K is staged through shared memory
// one slice at a time:
//  - the filter (A) slice by cp.async (nvgpu.device_async_copy, 16 bytes)
//    into a double buffer: the next slice is in flight while this one is
//    multiplied;
//  - the activation (B) slice through registers, prefetched during the MMAs,
//    in vectors of up to 16 bytes where P allows (15x15 maps do not: their
//    rows are not aligned, and cp.async needs aligned sources);
//  - or, in deep f16/bf16 layers whose rows allow it, both slices by cp.async
//    through a ring of gemm-async-stages slices (see the K loop below).
// tf32: m16n8k8 on scalar fragment loads; rows padded (A: +4 floats, B: +8)
// so lane 4 * group + t reading A[group][t] and B[t][group] hits 32
// distinct banks. f16 and bf16: m16n8k16 on nvgpu.ldmatrix (B transposed);
// rows padded by 8 halves so the 8 rows of each ldmatrix phase hit distinct
// 16-byte bank groups. planMmaGemm picks the block shape, K sharing,
// split-K and column tiles per block for each layer.
static MmaGemmPlan planMmaGemmWithin(const ConvShape &s, Activation act,
                                     bool pooled, Precision precision,
                                     const GemmTuning &tuning, bool halfInput,
                                     int64_t ringBudget, bool wholeImages) {
  const int64_t cols = s.n * s.h * s.w, p = s.h * s.w;
  const bool half = isHalf(precision);
  // Deep layers whose operands can go to shared memory as they are (16-bit
  // activations in rows of whole 4-byte pieces, filter rows of 16-byte
  // pieces) keep a ring of K slices in flight by cp.async; measured on an
  // H200, they run best on fewer, larger tiles than the other layers
  // (bench/RESULTS.md), hence their own blocks-per-SM target.
  const bool ring = half && halfInput && tuning.asyncStages > 1 &&
                    s.c >= tuning.asyncMinK && s.c % 8 == 0 && p % 2 == 0;
  // Every tile but the ring's lives in static shared memory (48 KB); the
  // ring may take more, as dynamic shared memory (gemm-async-shared-kb).
  const int64_t budget = ring ? ringBudget : kStaticSharedBytes;
  const int64_t targetBlocks =
      (ring ? tuning.asyncBlocksPerSM : tuning.blocksPerSM) * tuning.sms;
  MmaGemmPlan plan{};
  plan.wm = plan.wn = 1;
  // Largest tile first; the first one that still gives targetBlocks wins.
  // With wholeImages, only tiles whose columns hold whole images (for a
  // depthwise epilogue), the largest of them if none gives targetBlocks.
  static const std::pair<int64_t, int64_t> options[] = {
      {2, 2}, {1, 4}, {2, 1}, {1, 2}, {1, 1}};
  bool chosen = false;
  for (auto [wm, wn] : options) {
    if (wm == 2 && s.oc <= 32)
      continue;
    if (wholeImages && (32 * wn) % p != 0)
      continue;
    if (wholeImages && !chosen) {
      plan.wm = wm;
      plan.wn = wn;
      chosen = true;
    }
    if (ceilDiv(s.oc, 32 * wm) * ceilDiv(cols, 32 * wn) >= targetBlocks) {
      plan.wm = wm;
      plan.wn = wn;
      break;
    }
  }
  // A warp multiplies 32 channels a round in f16, 16 in tf32 (and in f16
  // when that is all there is: the 16-channel input of EfficientNet's second
  // expand).
  int64_t warpSlice = half && s.c > 16 ? 32 : 16;
  // Deep, narrow layers (the late blocks' 8x8 and 15x15 maps, K up to 1152)
  // give too few warps to hide the K loop's latency. First, up to 4 warps of
  // a block share each output tile, each multiplying its own part of every
  // slice, and add their results in shared memory: as long as the GPU is
  // short of warpsPerSM warps per SM and every warp has a whole part of K.
  const int64_t targetWarps = tuning.warpsPerSM * tuning.sms;
  const int64_t tiles =
      ceilDiv(s.oc, plan.tileRows()) * ceilDiv(cols, plan.tileCols());
  int64_t warps = tiles * plan.wm * plan.wn;
  // The shared memory of a shape, counted for the largest case (A double
  // buffered unless staged once, a float32 output tile), must stay within
  // the budget.
  const int64_t operandBytes = half ? 2 : 4;
  auto sharedBytes = [&](int64_t wk, int64_t warpK, int64_t buffersA = 2) {
    int64_t tm = plan.tileRows(), tn = plan.tileCols(), slice = warpK * wk;
    return buffersA * tm * (slice + 8) * operandBytes +
           slice * (tn + 8) * operandBytes + tm * (tn + 4) * 4 +
           (wk - 1) * tm * (tn + 4) * 4;
  };
  // Layers with all of K in one slice run through this many column tiles
  // per block, so that each tile's loads overlap the previous tile's MMAs
  // and stores; about tileBlocksPerSM blocks per SM remain. (Pooled outputs
  // accumulate: one tile per block.)
  auto columnTilesPerBlock = [&] {
    return pooled ? 1
                  : std::clamp<int64_t>(
                        tiles / (tuning.tileBlocksPerSM * tuning.sms), 1, 8);
  };
  // Shallow f16/bf16 layers (K more than one round but at most
  // tuning.singleSliceK channels) take all of K in one slice, as the
  // single-round layers do: each block then stages A once and runs through
  // several column tiles (below) instead of a short K loop per tile. The
  // slice must fit with B, a float32 output tile and A, once where the block
  // runs through several tiles, double-buffered for a (one-round) K loop.
  const int64_t stepChannels = half ? 16 : 8;
  const int64_t wholeK = ceilDiv(s.c, stepChannels) * stepChannels;
  // (The filter slice goes by cp.async, whole 16-byte pieces per thread:
  // the register path assumes the threads hold whole rows of it.)
  if (half && wholeK > warpSlice && wholeK <= tuning.singleSliceK &&
      s.c % 8 == 0) {
    const int64_t threads = 32 * plan.wm * plan.wn;
    if ((plan.tileRows() * (wholeK / 8)) % threads == 0 &&
        sharedBytes(1, wholeK, columnTilesPerBlock() > 1 ? 1 : 2) <= budget)
      warpSlice = wholeK;
  }
  plan.wk = 1;
  while (plan.wk < 4 && 2 * warps * plan.wk <= targetWarps &&
         s.c >= 2 * plan.wk * warpSlice &&
         sharedBytes(2 * plan.wk, warpSlice) <= budget)
    plan.wk *= 2;
  warps *= plan.wk;
  // Deep layers run many serial iterations of the K loop, each staging a
  // slice and waiting on two block barriers. Up to tuning.warpKSteps mma
  // k-steps per warp and slice make them fewer: while K still holds two
  // slices, B is staged in 16-byte vectors (P a multiple of one), a thread
  // stages at most 64 B values (warpSlice / wm of them) and the tiles fit.
  // (On an H200 the 48 KB bound left 3 EfficientNet kernels to deepen, for
  // 0.35% at batch 64, so the default stays 2: bench/RESULTS.md.)
  while (2 * warpSlice <= tuning.warpKSteps * stepChannels &&
         s.c >= 2 * plan.wk * 2 * warpSlice &&
         (s.h * s.w) % (16 / operandBytes) == 0 &&
         2 * warpSlice <= 64 * plan.wm &&
         sharedBytes(plan.wk, 2 * warpSlice) <= budget)
    warpSlice *= 2;
  plan.kSlice = warpSlice * plan.wk;
  // Then, still short, K is split over blocks that add their partial sums
  // atomically into a float32 output: only without an activation, which
  // would not distribute over them, and in chunks of at least one slice.
  int64_t splitK = 1;
  if (act == Activation::none && !pooled && 2 * warps < targetWarps)
    splitK = std::max<int64_t>(
        1, std::min(ceilDiv(targetWarps, warps), s.c / plan.kSlice));
  plan.chunk = ceilDiv(ceilDiv(s.c, splitK), plan.kSlice) * plan.kSlice;
  plan.splitK = ceilDiv(s.c, plan.chunk);
  // A pooled output whose images each lie within one column tile (P a
  // multiple of a warp's 32 columns that divides the tile's, as the head's
  // 8x8 maps in 64-column tiles) is summed within the block and stored once,
  // with K-sharing warps too (the first adds the others' partial tiles): no
  // atomics, and no zeroing before the launch.
  plan.poolsInBlock =
      pooled && plan.splitK == 1 && p % 32 == 0 && plan.tileCols() % p == 0;
  plan.accumulates = (pooled && !plan.poolsInBlock) || plan.splitK > 1;
  // Shallow layers (all of K in one slice) run through several column tiles
  // per block.
  plan.tilesPerBlock = 1;
  if (!plan.accumulates && plan.wk == 1 && s.c <= plan.kSlice && !wholeImages)
    plan.tilesPerBlock = columnTilesPerBlock();
  // The ring: as many slices as the budget holds (at least 2), each an A slice
  // (rows padded by 8 halves) and a B slice (likewise); the epilogue's tiles
  // alias it (counted here with a float32 output tile), and B goes in pieces
  // of 8, 4 or 2 pixels, whole pieces per thread.
  plan.stages = 1;
  plan.pieceB = 0;
  const int64_t tm = plan.tileRows(), tn = plan.tileCols(), kK = plan.kSlice;
  if (ring && plan.tilesPerBlock == 1 &&
      (tm * (kK / 8)) % plan.threads() == 0)
    for (int64_t v : {8, 4, 2})
      if (p % v == 0 && (kK * (tn / v)) % plan.threads() == 0) {
        plan.pieceB = v;
        break;
      }
  if (plan.pieceB) {
    const int64_t stageBytes = 2 * (tm * (kK + 8) + kK * (tn + 8));
    const int64_t epilogueBytes = plan.wk * tm * (tn + 4) * 4;
    auto fits = [&](int64_t stages) {
      return std::max(stages * stageBytes, epilogueBytes) <= budget;
    };
    plan.stages = tuning.asyncStages;
    while (plan.stages > 2 && !fits(plan.stages))
      --plan.stages;
    if (!fits(plan.stages))
      plan.stages = 1;
  }
  return plan;
}

MmaGemmPlan ptxnet::kernels::planMmaGemm(const ConvShape &s, Activation act,
                                         bool pooled, Precision precision,
                                         const GemmTuning &tuning,
                                         bool halfInput, bool wholeImages) {
  MmaGemmPlan plan =
      planMmaGemmWithin(s, act, pooled, precision, tuning, halfInput,
                        tuning.asyncSharedBytes, wholeImages);
  // Only the ring goes to dynamic shared memory: a layer planned for it
  // that ends up without one is planned again within static memory.
  if (plan.stages == 1 && tuning.asyncSharedBytes > kStaticSharedBytes)
    plan = planMmaGemmWithin(s, act, pooled, precision, tuning, halfInput,
                             kStaticSharedBytes, wholeImages);
  return plan;
}

bool ptxnet::kernels::depthwiseEpilogueFits(const ConvShape &pointwise) {
  const int64_t p = pointwise.h * pointwise.w;
  return p <= 64 && 64 % p == 0;
}

KernelLaunch KernelEmitter::emitPointwiseGemmMma(
    StringRef name, const ConvShape &s, Activation act, bool pooled,
    Precision precision, const Elements &types, const DepthwiseEpilogue *dw) {
  MLIRContext *ctx = module.getContext();
  // f16 and bf16 take the same path: 16-bit operands, m16n8k16, ldmatrix.
  const FloatType halfOperand = halfType(ctx, precision);
  const bool half = bool(halfOperand);
  assert((!dw || (!pooled && depthwiseEpilogueFits(s))) &&
         "a depthwise epilogue needs whole images in each column tile");
  const MmaGemmPlan plan =
      planMmaGemm(s, act, pooled, precision, options.tuning,
                  half && types.in == halfOperand, /*wholeImages=*/dw);
  const int64_t p = s.h * s.w, cols = s.n * p;
  const int64_t wm = plan.wm, wn = plan.wn;
  const int64_t tm = plan.tileRows(), tn = plan.tileCols();
  const int64_t kK = plan.kSlice, chunk = plan.chunk, splitK = plan.splitK;
  const int64_t kStep = half ? 16 : 8; // K of one mma.sync
  Type operand = half ? Type(halfOperand) : Float32Type::get(ctx);
  const int64_t padA = kK + (half ? 8 : 4), padB = tn + 8;
  const int64_t wk = plan.wk, threads = plan.threads();
  const int64_t kWarp = kK / wk; // the part of a slice one warp multiplies
  // The filter slice goes by cp.async in pieces of vec operands, the largest
  // of 16, 8 or 4 bytes that C is a multiple of (every piece then lies within
  // one row, aligned), when the filter is stored in the operand type and each
  // thread gets whole pieces. (Through registers instead, a one-warp block
  // holding both slices across its MMAs made ptxas spill.)
  const int64_t operandBytes = half ? 2 : 4;
  int64_t vec = 16 / operandBytes;
  while (vec * operandBytes > 4 && s.c % vec != 0)
    vec /= 2;
  const bool asyncA = s.c % vec == 0 && types.filter == operand &&
                      (tm * (kK / vec)) % threads == 0;
  // B is staged in vectors of bv pixels (up to 16 bytes) when they never
  // straddle two images (P % bv == 0) and every thread gets whole rows.
  const int64_t inBytes = types.in.getIntOrFloatBitWidth() / 8;
  int64_t bv = 1;
  for (int64_t v = 16 / inBytes; v > 1; v /= 2)
    if (p % v == 0 && kK % (threads / (tn / v)) == 0) {
      bv = v;
      break;
    }
  const int64_t aPerThread = tm * kK / threads;
  const int64_t bPerThread = kK * (tn / bv) / threads; // vectors
  const int64_t aCopiesPerThread = tm * (kK / vec) / threads;
  // Plain stores go through a shared-memory tile of the block's outputs, in
  // the output's element type, after bias and activation: warps then copy
  // whole rows out in vectors of up to 16 bytes (the accumulator fragments
  // hold 2 scattered columns per row). Atomic and pooled epilogues write
  // from the fragments.
  const bool stageOutput = !plan.accumulates && !pooled;
  // A pooled tile's row sums, one column of them per warp column of the
  // tile (plan.poolsInBlock).
  const int64_t rowSumBytes = plan.poolsInBlock ? tm * (tn / 32) * 4 : 0;
  const int64_t outBytes = types.out.getIntOrFloatBitWidth() / 8;
  const int64_t padC = tn + 16 / outBytes; // rows stay 16-byte aligned
  // With f16 activations whose rows allow it (P a multiple of pieceB, 2 to 8
  // halves: 4- to 16-byte copies), B goes by cp.async too, and the K loop
  // keeps a ring of `stages` slices of both operands in shared memory:
  // stages - 1 slices are in flight while one is multiplied, one barrier per
  // slice, no registers held for the prefetch. The epilogue's tiles (the
  // output tile, the K-sharing warps' partials) then alias the ring, so
  // everything is carved out of one byte buffer.
  const int64_t stages = plan.stages, pieceB = plan.pieceB;
  const bool asyncB = stages > 1;
  assert((!asyncB || asyncA) && "the ring copies both operands by cp.async");
  auto align16 = [](int64_t bytes) { return ceilDiv(bytes, 16) * 16; };
  const int64_t stageBytesA = align16(tm * padA * operandBytes);
  const int64_t stageBytesB = align16(kK * padB * operandBytes);
  const int64_t tileCBytes = stageOutput ? align16(tm * padC * outBytes) : 0;
  // The row sums follow the K-sharing warps' partial tiles, which warp 0
  // of each tile reads while it sums.
  const int64_t partialBytes = (wk - 1) * tm * (tn + 4) * 4;
  const int64_t epilogueBytes = tileCBytes + partialBytes + rowSumBytes;
  const int64_t ringBytes =
      std::max(stages * (stageBytesA + stageBytesB), epilogueBytes);
  // A ring larger than static shared memory allows is dynamic shared memory
  // (planned within gemm-async-shared-kb).
  const bool dynamicRing = asyncB && ringBytes > kStaticSharedBytes;
  SmallVector<Type> workgroup;
  if (asyncB) {
    if (!dynamicRing)
      workgroup.push_back(
          workgroupMemref(ctx, {ringBytes}, IntegerType::get(ctx, 8)));
  } else {
    // A is double-buffered for a K loop, staged once for column tiles.
    const int64_t buffersA = asyncA && plan.tilesPerBlock == 1 ? 2 : 1;
    workgroup = {workgroupMemref(ctx, {buffersA, tm, padA}, operand),
                 workgroupMemref(ctx, {1, kK, padB}, operand)};
    if (stageOutput)
      workgroup.push_back(workgroupMemref(ctx, {tm, padC}, types.out));
    // The partial tiles of the K-sharing warps 1..wk-1, added by warp 0.
    if (wk > 1)
      workgroup.push_back(workgroupMemref(ctx, {wk - 1, tm, tn + 4}));
    if (plan.poolsInBlock)
      workgroup.push_back(workgroupMemref(ctx, {tn / 32, tm}));
  }
  // With a depthwise epilogue: (input N x C x P, filter, bias, depthwise
  // filter, depthwise bias, output N x O x OH x OW).
  SmallVector<Type> arguments = gemmArguments(ctx, s, pooled, types);
  if (dw) {
    arguments.pop_back();
    arguments.append({f32Memref(ctx, {s.oc, 1, dw->kh, dw->kw}),
                      f32Memref(ctx, {s.oc}),
                      MemRefType::get({s.n, s.oc, dw->oh, dw->ow}, types.out)});
  }
  auto func = createKernel(name, arguments, workgroup);
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  GemmOperands g(func);
  Value in = g.in, filter = g.filter, bias = g.bias, out = g.out;
  Value dwFilter, dwBias;
  if (dw) {
    dwFilter = func.getArgument(3);
    dwBias = func.getArgument(4);
    out = func.getArgument(5);
  }
  Value tileA, tileB, tileC, partials, rowSums;
  if (asyncB) {
    Value ring = dynamicRing
                     ? gpu::DynamicSharedMemoryOp::create(
                           b, workgroupMemref(ctx, {ShapedType::kDynamic},
                                              IntegerType::get(ctx, 8)))
                           .getResult()
                     : Value(func.getWorkgroupAttributions()[0]);
    auto view = [&](int64_t offset, MemRefType type) -> Value {
      return memref::ViewOp::create(b, type, ring, k.c(offset), ValueRange{});
    };
    tileA = view(0, workgroupMemref(ctx, {stages, tm, padA}, operand));
    tileB = view(stages * stageBytesA,
                 workgroupMemref(ctx, {stages, kK, padB}, operand));
    if (stageOutput)
      tileC = view(0, workgroupMemref(ctx, {tm, padC}, types.out));
    if (wk > 1)
      partials = view(tileCBytes, workgroupMemref(ctx, {wk - 1, tm, tn + 4}));
    if (plan.poolsInBlock)
      rowSums =
          view(tileCBytes + partialBytes, workgroupMemref(ctx, {tn / 32, tm}));
  } else {
    auto attributions = func.getWorkgroupAttributions();
    tileA = attributions[0];
    tileB = attributions[1];
    if (stageOutput)
      tileC = attributions[2];
    if (wk > 1)
      partials = attributions[stageOutput ? 3 : 2];
    if (plan.poolsInBlock)
      rowSums = attributions.back();
  }

  Value tid = k.threadId(gpu::Dimension::x);
  Value lane = k.rem(tid, 32), warp = k.div(tid, 32);
  Value group = k.div(lane, 4), t = k.rem(lane, 4);
  Value lane16 = k.rem(lane, 16), laneHalf = k.div(lane, 16);
  // Warps wm x wn over the tile, then wk deep over each slice.
  Value spatial = k.rem(warp, wm * wn), kw = k.div(warp, wm * wn);
  Value warpM = k.mul(k.div(spatial, wn), 32);
  Value warpN = k.mul(k.rem(spatial, wn), 32);
  Value kWarp0 = k.mul(kw, kWarp);
  Value blockCol = k.blockId(gpu::Dimension::x);
  Value o0 = k.mul(k.blockId(gpu::Dimension::y), tm);
  Value kz = k.blockId(gpu::Dimension::z); // K chunk
  Value kBegin = k.mul(kz, chunk);

  // The staged elements of each thread: threads is a multiple of both kK
  // (A's row length) and tn (B's), so a thread always loads the same A column
  // and B column, on rows spaced `threads / kK` and `threads / tn` apart.
  Value aCol = k.rem(tid, kK), aRow0 = k.div(tid, kK);
  int64_t aRowStep = threads / kK;
  Value bCol = k.mul(k.rem(tid, tn / bv), bv), bRow0 = k.div(tid, tn / bv);
  int64_t bRowStep = threads / (tn / bv);
  // A thread's B column in the tile starting at column j0, split into
  // (image, pixel) once per tile.
  struct BColumn {
    Value ok, img, px;
  };
  auto bColumn = [&](Value j0) {
    Value j = k.add(j0, bCol);
    Value ok = k.lt(j, cols);
    Value safe = k.sel(ok, j, k.c(0));
    return BColumn{ok, k.div(safe, p), k.rem(safe, p)};
  };
  // Register-staged slices at channel c0 (masked to zeros past C and O).
  auto loadA = [&](Value c0) {
    SmallVector<Value> regs;
    Value chA = k.add(c0, aCol);
    Value chAOk = k.lt(chA, s.c);
    for (int64_t r = 0; r < aPerThread; ++r) {
      Value o = k.add(k.add(o0, aRow0), r * aRowStep);
      regs.push_back(k.convert(
          k.maskedLoad(k.both(chAOk, k.lt(o, s.oc)), filter, {o, chA}),
          operand));
    }
    return regs;
  };
  auto bVector = VectorType::get({bv}, operand);
  auto loadB = [&](Value c0, const BColumn &col) {
    SmallVector<Value> regs;
    for (int64_t r = 0; r < bPerThread; ++r) {
      Value ch = k.add(k.add(c0, bRow0), r * bRowStep);
      Value ok = k.both(col.ok, k.lt(ch, s.c));
      SmallVector<Value> idx = {col.img, ch, col.px};
      Value v = bv == 1 ? k.convert(k.maskedLoad(ok, in, idx), operand)
                        : k.convert(k.maskedVectorLoad(ok, in, idx, bv),
                                    bVector);
      // The filter is packed rounded; round the activations as they come.
      regs.push_back(half ? v : k.roundToTF32(v));
    }
    return regs;
  };
  auto storeA = [&](ValueRange regs, Value buf) {
    for (int64_t r = 0; r < aPerThread; ++r)
      k.store(regs[r], tileA, {buf, k.add(aRow0, r * aRowStep), aCol});
  };
  auto storeB = [&](ValueRange regs) {
    for (int64_t r = 0; r < bPerThread; ++r) {
      Value row = k.add(bRow0, r * bRowStep);
      if (bv == 1)
        k.store(regs[r], tileB, {k.c(0), row, bCol});
      else
        k.vectorStore(regs[r], tileB, {k.c(0), row, bCol});
    }
  };
  // cp.async of the A slice at c0 into buffer `buf`: each thread copies
  // 16-byte pieces; pieces past C are zero-filled (source size 0) and rows
  // past O are clamped to row 0 (their outputs are never stored).
  // A thread copies pieces tid, tid + threads, ...: where a row's pieces
  // divide the threads (every slice but a whole-K one of, say, 96 channels),
  // always the same column on rows `threads / piecesPerRow` apart.
  const int64_t aPiecesPerRow = kK / vec;
  const bool aFixedColumn = threads % aPiecesPerRow == 0;
  Value aPiece = k.rem(tid, aPiecesPerRow),
        aPieceRow0 = k.div(tid, aPiecesPerRow);
  const int64_t aPieceRowStep = threads / aPiecesPerRow;
  // One cp.async of `elements` operands, zero-filled (source size 0) where
  // not `ok`; only 16-byte copies may bypass L1 (cp.async.cg).
  auto copyPiece = [&](Value dst, ValueRange dstIdx, Value src,
                       ValueRange srcIdx, int64_t elements, Value ok) {
    Value srcElements = k.sel(ok, k.c(elements), k.c(0));
    bool cg = elements * operandBytes == 16;
    return nvgpu::DeviceAsyncCopyOp::create(
               b, nvgpu::DeviceAsyncTokenType::get(ctx), dst, dstIdx, src,
               srcIdx, b.getIndexAttr(elements), srcElements,
               /*bypassL1=*/cg ? b.getUnitAttr() : UnitAttr())
        .getResult();
  };
  // With `live` false (a ring slice past the block's K chunk) every piece is
  // zero-filled and nothing is read.
  auto copyATokens = [&](Value c0, Value buf, Value live) {
    auto channel = [&](Value piece) {
      Value col = k.mul(piece, vec);
      Value ch = k.add(c0, col);
      Value chOk = k.lt(ch, s.c);
      if (live)
        chOk = k.both(chOk, live);
      return std::make_tuple(col, chOk, k.sel(chOk, ch, k.c(0)));
    };
    Value col, chOk, chSafe;
    std::tie(col, chOk, chSafe) = channel(aPiece);
    SmallVector<Value> tokens;
    for (int64_t r = 0; r < aCopiesPerThread; ++r) {
      Value row = k.add(aPieceRow0, r * aPieceRowStep);
      if (!aFixedColumn) {
        Value q = k.add(tid, r * threads);
        row = k.div(q, aPiecesPerRow);
        std::tie(col, chOk, chSafe) = channel(k.rem(q, aPiecesPerRow));
      }
      Value o = k.add(o0, row);
      Value ok = k.both(chOk, k.lt(o, s.oc));
      tokens.push_back(copyPiece(tileA, {buf, row, col}, filter,
                                 {k.sel(ok, o, k.c(0)), chSafe}, vec, ok));
    }
    return tokens;
  };
  auto copyA = [&](Value c0, Value buf) {
    return k.commitCopies(copyATokens(c0, buf, Value()));
  };
  // cp.async of the B slice at c0 into ring buffer `buf`: pieces of pieceB
  // pixels, which never straddle two images (P % pieceB == 0); pieces past C,
  // past the columns or not `live` are zero-filled from a clamped source.
  const int64_t bPiecesPerRow = pieceB ? tn / pieceB : 1;
  Value bPiece = k.rem(tid, bPiecesPerRow),
        bPieceRow0 = k.div(tid, bPiecesPerRow);
  const int64_t bPieceRowStep = threads / bPiecesPerRow;
  auto copyBTokens = [&](Value c0, Value buf, Value live) {
    Value col = k.mul(bPiece, pieceB);
    Value j = k.add(k.mul(blockCol, tn), col);
    Value colOk = k.both(k.lt(j, cols), live);
    Value js = k.sel(colOk, j, k.c(0));
    Value img = k.div(js, p), px = k.rem(js, p);
    SmallVector<Value> tokens;
    for (int64_t r = 0; r < kK / bPieceRowStep; ++r) {
      Value row = k.add(bPieceRow0, r * bPieceRowStep);
      Value ch = k.add(c0, row);
      Value ok = k.both(colOk, k.lt(ch, s.c));
      tokens.push_back(copyPiece(tileB, {buf, row, col}, in,
                                 {img, k.sel(ok, ch, k.c(0)), px}, pieceB,
                                 ok));
    }
    return tokens;
  };

  // The warp's MMAs of one staged slice (A in buffer `buf`), over its part
  // of the slice, into its 2 x 4 accumulator fragments [mi][ni].
  auto mmaSlice = [&](ValueRange accIn, Value buf, Value bBuf) {
    SmallVector<Value> acc(accIn.begin(), accIn.end());
    for (int64_t kk = 0; kk < kWarp; kk += kStep) {
      Value ks = k.add(kWarp0, kk);
      SmallVector<Value> aFrag, bFrag;
      for (int64_t mi = 0; mi < 2; ++mi) {
        Value row = k.add(warpM, mi * 16);
        if (half) {
          // x4: lanes 0-15 address rows 0-15 of the 16x16 fragment at
          // column ks, lanes 16-31 the same rows at column ks + 8.
          aFrag.push_back(nvgpu::LdMatrixOp::create(
              b, VectorType::get({4, 2}, operand), tileA,
              ValueRange{buf, k.add(row, lane16),
                         k.add(k.mul(laneHalf, 8), ks)},
              /*transpose=*/false, /*numTiles=*/4));
          continue;
        }
        row = k.add(row, group);
        Value col = k.add(t, ks);
        SmallVector<Value> e = {
            k.load(tileA, {buf, row, col}),
            k.load(tileA, {buf, k.add(row, 8), col}),
            k.load(tileA, {buf, row, k.add(col, 4)}),
            k.load(tileA, {buf, k.add(row, 8), k.add(col, 4)})};
        aFrag.push_back(vector::FromElementsOp::create(
            b, VectorType::get({4, 1}, operand), e));
      }
      // f16/bf16: fragments ni and ni + 1 by one load.
      for (int64_t ni = 0; half && ni < 4; ni += 2)
        llvm::append_range(bFrag,
                           loadBFragments(k, tileB, bBuf, k.add(lane16, ks),
                                          k.add(warpN, ni * 8), laneHalf, 2));
      for (int64_t ni = 0; !half && ni < 4; ++ni) {
        Value colB = k.add(k.add(warpN, ni * 8), group);
        Value rowB = k.add(t, ks);
        SmallVector<Value> e = {k.load(tileB, {bBuf, rowB, colB}),
                                k.load(tileB, {bBuf, k.add(rowB, 4), colB})};
        bFrag.push_back(vector::FromElementsOp::create(
            b, VectorType::get({2, 1}, operand), e));
      }
      for (int64_t mi = 0; mi < 2; ++mi)
        for (int64_t ni = 0; ni < 4; ++ni)
          acc[mi * 4 + ni] = nvgpu::MmaSyncOp::create(
              b, aFrag[mi], bFrag[ni], acc[mi * 4 + ni],
              ArrayRef<int64_t>{16, 8, kStep}, /*tf32Enabled=*/!half);
    }
    return acc;
  };

  // Fragment element (i, jj) of tile (mi, ni) is tile row
  // warpM + 16 mi + group + 8 i, tile column warpN + 8 ni + 2 t + jj. The
  // epilogues take the elements through `Element`, so that the K-sharing
  // warps' partial sums can be added on the way.
  auto fragRow = [&](int64_t mi, int64_t i) {
    return k.add(k.add(warpM, mi * 16 + i * 8), group);
  };
  auto fragCol = [&](int64_t ni, int64_t jj) {
    return k.add(k.add(warpN, ni * 8 + jj), k.mul(t, 2));
  };
  using Element = llvm::function_ref<Value(int64_t mi, int64_t ni, int64_t i,
                                           int64_t jj)>;

  // Staged epilogue: bias and activation into the shared output tile; then
  // (copyOut, all threads) rows leave in vectors of ov elements: a vector
  // never straddles two images (P % ov == 0) and is wholly inside or outside
  // the columns.
  int64_t ov = 1;
  for (int64_t v : {8, 4, 2})
    if (v * outBytes <= 16 && p % v == 0) {
      ov = v;
      break;
    }
  auto stageFragments = [&](Element element) {
    for (int64_t mi = 0; mi < 2; ++mi)
      for (int64_t i = 0; i < 2; ++i) {
        Value row = fragRow(mi, i);
        Value o = k.add(o0, row);
        Value bo = k.maskedLoad(k.lt(o, s.oc), bias, {o});
        // A fragment row's two adjacent columns leave as one pair: one
        // conversion (cvt f16x2), the activation on the pair in the output
        // type (exact: rounding is monotonic and keeps 0 and 6), one store.
        auto pairType = VectorType::get({2}, types.out);
        for (int64_t ni = 0; ni < 4; ++ni) {
          Value v0 = k.fadd(element(mi, ni, i, 0), bo);
          Value v1 = k.fadd(element(mi, ni, i, 1), bo);
          Value pair = k.pair(v0, v1);
          k.vectorStore(k.activate(k.convert(pair, pairType), act), tileC,
                        {row, fragCol(ni, 0)});
        }
      }
  };
  auto copyOut = [&](Value j0) {
    const int64_t vectorsPerRow = tn / ov;
    Value col = k.mul(k.rem(tid, vectorsPerRow), ov);
    Value row0 = k.div(tid, vectorsPerRow);
    const int64_t rowStep = threads / vectorsPerRow;
    Value j = k.add(j0, col);
    Value colOk = k.lt(j, cols);
    Value js = k.sel(colOk, j, k.c(0));
    Value img = k.div(js, p), px = k.rem(js, p);
    auto vecType = VectorType::get({ov}, types.out);
    for (int64_t r = 0; r < tm / rowStep; ++r) {
      Value row = k.add(row0, r * rowStep);
      Value o = k.add(o0, row);
      k.ifThen(k.both(colOk, k.lt(o, s.oc)), [&] {
        k.vectorStore(k.vectorLoad(vecType, tileC, {row, col}), out,
                      {img, o, px});
      });
    }
  };
  // The epilogues of tiles that hold whole images (tn / p of them) visit
  // each (tile row, image) whose output channel and image exist, `lanes`
  // threads to a pair: body(lane, row, image in the tile, output, image).
  using RowOfImage = llvm::function_ref<void(Value lane, Value row, Value q,
                                             Value o, Value img)>;
  auto forEachRowOfImage = [&](Value j0, int64_t lanes, RowOfImage body) {
    const int64_t pairs = tm * (tn / p), perPass = threads / lanes;
    Value img0 = k.div(j0, p), lane = k.rem(tid, lanes);
    for (int64_t base = 0; base < pairs; base += perPass) {
      Value e = k.add(k.div(tid, lanes), base);
      Value row = k.rem(e, tm), q = k.div(e, tm);
      Value o = k.add(o0, row), img = k.add(img0, q);
      Value ok = k.both(k.lt(o, s.oc), k.lt(img, s.n));
      if (base + perPass > pairs)
        ok = k.both(ok, k.lt(e, pairs));
      k.ifThen(ok, [&] { body(lane, row, q, o, img); });
    }
  };
  // Depthwise epilogue: the staged tile holds whole images (tn / p of them,
  // p = H x W), so each depthwise output of its channels is a sum over taps
  // in one tile row. `lanes` threads share each (row, image): they load the
  // row's bias and taps once and take every lanes-th output pixel.
  auto depthwiseOut = [&](Value j0) {
    const int64_t opx = dw->oh * dw->ow;
    const int64_t lanes = std::max<int64_t>(1, threads / (tm * (tn / p)));
    forEachRowOfImage(
        j0, lanes, [&](Value lane, Value row, Value q, Value o, Value img) {
          Value bo = k.read(dwBias, {o});
          SmallVector<Value> taps;
          for (int64_t ky = 0; ky < dw->kh; ++ky)
            for (int64_t kx = 0; kx < dw->kw; ++kx)
              taps.push_back(k.read(dwFilter, {o, k.c(0), k.c(ky), k.c(kx)}));
          for (int64_t i = 0; i < ceilDiv(opx, lanes); ++i) {
            Value px = k.add(lane, i * lanes);
            auto body = [&] {
              Value oy = k.div(px, dw->ow), ox = k.rem(px, dw->ow);
              Value iy0 = k.sub(k.mul(oy, dw->sh), k.c(dw->pt));
              Value ix0 = k.sub(k.mul(ox, dw->sw), k.c(dw->pl));
              Value acc = bo;
              for (int64_t ky = 0; ky < dw->kh; ++ky)
                for (int64_t kx = 0; kx < dw->kw; ++kx) {
                  Value iy = k.add(iy0, ky), ix = k.add(ix0, kx);
                  Value inside = k.both(k.both(k.ge0(iy), k.lt(iy, s.h)),
                                        k.both(k.ge0(ix), k.lt(ix, s.w)));
                  Value col = k.add(k.mul(q, p), k.add(k.mul(iy, s.w), ix));
                  Value v = k.convert(
                      k.load(tileC, {row, k.sel(inside, col, k.c(0))}),
                      b.getF32Type());
                  acc = k.fma(acc, k.sel(inside, v, k.f(0.0f)),
                              taps[ky * dw->kw + kx]);
                }
              k.write(k.convert(k.activate(acc, dw->act), types.out), out,
                      {img, o, oy, ox});
            };
            if ((i + 1) * lanes > opx)
              k.ifThen(k.lt(px, opx), body);
            else
              body();
          }
        });
  };
  // Atomic epilogue (pooled or split K): the 8 columns of a thread are split
  // into (image, pixel) once. With split K only the first chunk adds the
  // bias. A pooled output whose warp columns (32) lie in one image (P % 32
  // == 0) is summed over them in registers and shuffles first: one atomic
  // per row and warp instead of 32.
  const bool warpPool = pooled && p % 32 == 0;
  // Row (mi, i) of a warp's fragments, output o, summed over the warp's 32
  // columns after bias (zero where !oOk) and activation: 8 values per lane,
  // then two shuffles over the 4 lanes t of the row. Every lane takes part;
  // the sum is whole in lane t == 0.
  auto warpRowSum = [&](Element element, int64_t mi, int64_t i, Value o,
                        Value oOk) {
    Value bo = k.maskedLoad(oOk, bias, {o});
    Value sum = k.f(0.0f);
    for (int64_t ni = 0; ni < 4; ++ni)
      for (int64_t jj = 0; jj < 2; ++jj)
        sum = k.fadd(sum, k.activate(k.fadd(element(mi, ni, i, jj), bo), act));
    for (int64_t offset : {1, 2})
      sum = k.fadd(
          sum, gpu::ShuffleOp::create(b, sum, offset, 32, gpu::ShuffleMode::XOR)
                   .getShuffleResult());
    return sum;
  };
  auto atomicFragments = [&](Element element, Value j0) {
    struct Column {
      Value ok, img, px;
    };
    SmallVector<Column> columns;
    for (int64_t ni = 0; ni < 4; ++ni)
      for (int64_t jj = 0; jj < 2; ++jj) {
        Value j = k.add(j0, fragCol(ni, jj));
        Value ok = k.lt(j, cols);
        Value js = k.sel(ok, j, k.c(0));
        columns.push_back({ok, k.div(js, p), k.rem(js, p)});
      }
    Value firstChunk =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kz, k.c(0));
    for (int64_t mi = 0; mi < 2; ++mi)
      for (int64_t i = 0; i < 2; ++i) {
        Value o = k.add(o0, fragRow(mi, i));
        if (warpPool) {
          // Rows past O add nothing.
          Value oOk = k.lt(o, s.oc);
          Value sum = warpRowSum(element, mi, i, o, oOk);
          Value lead = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, t,
                                             k.c(0));
          k.ifThen(k.both(k.both(lead, oOk), columns[0].ok), [&] {
            k.storeOrPool(sum, out, columns[0].img, o, columns[0].px,
                          /*pooled=*/true, p);
          });
          continue;
        }
        k.ifThen(k.lt(o, s.oc), [&] {
          Value bo = k.read(bias, {o});
          if (splitK > 1)
            bo = k.sel(firstChunk, bo, k.f(0.0f));
          for (int64_t ni = 0; ni < 4; ++ni)
            for (int64_t jj = 0; jj < 2; ++jj) {
              Column &col = columns[ni * 2 + jj];
              k.ifThen(col.ok, [&] {
                k.storeOrPool(
                    k.activate(k.fadd(element(mi, ni, i, jj), bo), act), out,
                    col.img, o, col.px, pooled, p, splitK > 1);
              });
            }
        });
      }
  };
  // Pooled within the block (plan.poolsInBlock): each warp (of the first K
  // layer, which holds the sums of the whole K) sums its 32 columns of every
  // row (warpRowSum) into the row sums; then, after a barrier, thread e adds
  // row e % tm of the tile's image e / tm over that image's warp columns and
  // stores the mean.
  auto poolRowSums = [&](Element element) {
    Value warpCol = k.div(warpN, 32);
    for (int64_t mi = 0; mi < 2; ++mi)
      for (int64_t i = 0; i < 2; ++i) {
        Value row = fragRow(mi, i);
        Value o = k.add(o0, row);
        Value sum = warpRowSum(element, mi, i, o, k.lt(o, s.oc));
        k.ifThen(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, t, k.c(0)),
                 [&] {
                   k.store(sum, rowSums, {warpCol, row});
                 });
      }
  };
  auto poolStore = [&](Value j0) {
    gpu::BarrierOp::create(b);
    const int64_t warpsPerImage = p / 32;
    forEachRowOfImage(
        j0, 1, [&](Value, Value row, Value q, Value o, Value img) {
          Value sum = k.f(0.0f);
          for (int64_t w = 0; w < warpsPerImage; ++w)
            sum = k.fadd(
                sum, k.load(rowSums, {k.add(k.mul(q, warpsPerImage), w), row}));
          k.write(k.fmul(sum, k.f(1.0f / float(p))), out, {img, o});
        });
  };
  // The whole epilogue of the tile at column j0. With K-sharing warps, warps
  // 1..wk-1 leave their partial tiles in shared memory and warp 0 of each
  // output tile adds them as it reads its fragments.
  auto epilogue = [&](ValueRange acc, Value j0) {
    auto own = [&](int64_t mi, int64_t ni, int64_t i, int64_t jj) -> Value {
      return vector::ExtractOp::create(b, acc[mi * 4 + ni],
                                       ArrayRef<int64_t>{i, jj});
    };
    auto fragments = [&](Element element) {
      if (stageOutput)
        stageFragments(element);
      else if (plan.poolsInBlock)
        poolRowSums(element);
      else
        atomicFragments(element, j0);
    };
    if (wk == 1) {
      // The row sums may alias the ring: once every warp is done with it.
      if (plan.poolsInBlock)
        gpu::BarrierOp::create(b);
      fragments(own);
    } else {
      Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kw,
                                          k.c(0));
      Value other = k.sub(kw, k.c(1));
      k.ifThen(k.lt(k.c(0), kw), [&] {
        for (int64_t mi = 0; mi < 2; ++mi)
          for (int64_t ni = 0; ni < 4; ++ni)
            for (int64_t i = 0; i < 2; ++i)
              for (int64_t jj = 0; jj < 2; ++jj)
                k.store(own(mi, ni, i, jj), partials,
                        {other, fragRow(mi, i), fragCol(ni, jj)});
      });
      gpu::BarrierOp::create(b);
      k.ifThen(first, [&] {
        fragments([&](int64_t mi, int64_t ni, int64_t i, int64_t jj) {
          Value v = own(mi, ni, i, jj);
          for (int64_t q = 0; q < wk - 1; ++q)
            v = k.fadd(v, k.load(partials, {k.c(q), fragRow(mi, i),
                                            fragCol(ni, jj)}));
          return v;
        });
      });
    }
    if (plan.poolsInBlock)
      poolStore(j0);
    if (stageOutput) {
      gpu::BarrierOp::create(b);
      if (dw)
        depthwiseOut(j0);
      else
        copyOut(j0);
    }
  };

  Value zero = k.splat(VectorType::get({2, 2}, b.getF32Type()), 0.0f);
  SmallVector<Value> zeros(2 * 4, zero);
  const int64_t colTiles = ceilDiv(cols, tn);
  KernelLaunch launch{func,
                      {ceilDiv(colTiles, plan.tilesPerBlock),
                       ceilDiv(s.oc, tm), splitK},
                      {threads, 1, 1}};
  launch.accumulatesOutput = plan.accumulates;
  if (dynamicRing)
    launch.dynamicSharedBytes = ringBytes;

  if (plan.tilesPerBlock > 1) {
    // One slice holds all of K: A is staged once, and each iteration
    // multiplies one column tile and writes it out while the next tile's B
    // is already in flight.
    if (asyncA) {
      k.waitCopies(copyA(k.c(0), k.c(0)), 0);
    } else {
      storeA(loadA(k.c(0)), k.c(0));
    }
    Value firstTile = k.mul(blockCol, plan.tilesPerBlock);
    k.loop(0, plan.tilesPerBlock, 1,
           loadB(k.c(0), bColumn(k.mul(firstTile, tn))),
           [&](Value ti, ValueRange regs) {
             Value j0 = k.mul(k.add(firstTile, ti), tn);
             storeB(regs);
             gpu::BarrierOp::create(b);
             SmallVector<Value> next = loadB(k.c(0), bColumn(k.add(j0, tn)));
             // The epilogue's barrier also orders this tile's reads of
             // tileB and tileC before the next iteration's writes.
             epilogue(mmaSlice(zeros, k.c(0), k.c(0)), j0);
             return next;
           });
    return launch;
  }

  Value j0 = k.mul(blockCol, tn);
  if (asyncB) {
    // The ring: slice i is in buffer i % stages. Before slice i is
    // multiplied, the block waits for its copies (at most stages - 2 younger
    // groups still in flight) and on one barrier, after which every warp is
    // done with slice i - 1; only then is slice i + stages - 1 started, into
    // slice i - 1's buffer. Slices past the chunk copy nothing.
    // nvgpu.device_async_wait counts groups, whatever its token: the loop
    // waits through the prologue's.
    Value kEnd = k.add(kBegin, chunk);
    auto copySlice = [&](Value c0, Value buf) {
      Value live = k.lt(c0, kEnd);
      SmallVector<Value> tokens = copyATokens(c0, buf, live);
      llvm::append_range(tokens, copyBTokens(c0, buf, live));
      return k.commitCopies(tokens);
    };
    Value inFlight;
    for (int64_t st = 0; st + 1 < stages; ++st)
      inFlight = copySlice(k.add(kBegin, st * kK), k.c(st));
    SmallVector<Value> acc =
        k.loop(0, chunk, kK, zeros, [&](Value kOff, ValueRange accIn) {
          Value slice = k.div(kOff, kK);
          k.waitCopies(inFlight, stages - 2);
          gpu::BarrierOp::create(b);
          copySlice(k.add(k.add(kBegin, kOff), (stages - 1) * kK),
                    k.rem(k.add(slice, stages - 1), stages));
          Value buf = k.rem(slice, stages);
          return mmaSlice(accIn, buf, buf);
        });
    // The epilogue's tiles alias the ring: every copy (the trailing empty
    // ones included) must have landed and every warp be done reading.
    k.waitCopies(inFlight, 0);
    gpu::BarrierOp::create(b);
    epilogue(acc, j0);
    return launch;
  }

  // K in slices: the next slice's A is in flight by cp.async (double
  // buffered) and its B in registers while this one is multiplied.
  BColumn colB = bColumn(j0);
  auto loadSlices = [&](Value c0) {
    SmallVector<Value> regs;
    if (!asyncA)
      regs = loadA(c0);
    llvm::append_range(regs, loadB(c0, colB));
    return regs;
  };
  SmallVector<Value> init(zeros);
  if (asyncA)
    copyA(kBegin, k.c(0));
  llvm::append_range(init, loadSlices(kBegin));
  const int64_t regsA = asyncA ? 0 : aPerThread;
  SmallVector<Value> state = k.loop(0, chunk, kK, init, [&](Value kOff,
                                                           ValueRange a) {
    Value c0 = k.add(kBegin, kOff);
    Value slice = k.div(kOff, kK);
    Value buf = asyncA ? k.rem(slice, 2) : k.c(0);
    ValueRange regs = a.drop_front(8);
    if (!asyncA)
      storeA(regs.take_front(regsA), buf);
    storeB(regs.drop_front(regsA));
    if (asyncA) {
      // Start the next A slice into the other buffer (read by the previous
      // iteration, which ended with a barrier), then wait for this one: at
      // most the group just issued may still be in flight.
      Value next = copyA(k.add(c0, kK), k.rem(k.add(slice, 1), 2));
      k.waitCopies(next, 1);
    }
    gpu::BarrierOp::create(b);
    // Prefetch the next slices (masked to zeros past C) before the MMAs.
    SmallVector<Value> nextRegs = loadSlices(k.add(c0, kK));
    SmallVector<Value> acc = mmaSlice(a.take_front(8), buf, k.c(0));
    gpu::BarrierOp::create(b);
    acc.append(nextRegs);
    return acc;
  });
  if (asyncA) {
    // The last iteration's copy (past the chunk, unused) must land before
    // the block exits: wait on everything, through an empty group.
    k.waitCopies(k.commitCopies(), 0);
  }
  epilogue(ValueRange(state).take_front(8), j0);
  return launch;
}

//===----------------------------------------------------------------------===//
// Expand 1x1 + depthwise, fused
//===----------------------------------------------------------------------===//

namespace {
/// Where a fused block sits: its first hidden channel, image, output patch
/// origin and the input origin of that patch's window.
struct FusedBlockOrigin {
  Value ch0, n, oy0, ox0, iy0, ix0;
};
} // namespace

/// Grid x runs over th x tw output patches (tilesX per row), y over blocks of
/// `channels` hidden channels, z over images.
static FusedBlockOrigin fusedBlockOrigin(KB &k, const ConvShape &s,
                                         int64_t th, int64_t tw,
                                         int64_t channels, int64_t tilesX) {
  Value tile = k.blockId(gpu::Dimension::x);
  Value oy0 = k.mul(k.div(tile, tilesX), th);
  Value ox0 = k.mul(k.rem(tile, tilesX), tw);
  return {k.mul(k.blockId(gpu::Dimension::y), channels),
          k.blockId(gpu::Dimension::z),
          oy0,
          ox0,
          k.sub(k.mul(oy0, s.sh), k.c(s.pt)),
          k.sub(k.mul(ox0, s.sw), k.c(s.pl))};
}

namespace {
/// The depthwise phase of a fused expand + depthwise kernel: its operands.
struct SharedDepthwise {
  Value hidden;                // [channels][rw * rw] in shared memory, padded
  int64_t rw, th, tw;          // region side, output patch
  int64_t channels;            // hidden channels of the block
  Value ch0, n, oy0, ox0;      // first channel, image, output patch origin
  Value filter, bias, out;     // Hidx1xKHxKW, Hid, NxHidxOHxOW
};
} // namespace

namespace {
/// A hidden channel of a fused kernel's depthwise phase: whether it exists,
/// and its taps and bias (those of channel 0 past the last channel, so that
/// every load stays in bounds).
struct DepthwiseChannel {
  Value ch, ok;
  SmallVector<Value> taps; // [ky][kx]
  Value bias;
};
} // namespace

/// Hidden channel ch0 + j of the depthwise `s`, its taps and bias loaded.
static DepthwiseChannel loadDepthwiseChannel(KB &k, const ConvShape &s,
                                             Value ch0, Value j, Value filter,
                                             Value bias) {
  DepthwiseChannel c;
  c.ch = k.add(ch0, j);
  c.ok = k.lt(c.ch, s.c);
  Value safe = k.sel(c.ok, c.ch, k.c(0));
  for (int64_t ky = 0; ky < s.kh; ++ky)
    for (int64_t kx = 0; kx < s.kw; ++kx)
      c.taps.push_back(k.load(filter, {safe, k.c(0), k.c(ky), k.c(kx)}));
  c.bias = k.load(bias, {safe});
  return c;
}

/// Hidden channel ch0 + j of the depthwise `s`, its taps and bias read from
/// row j of a block's depthwise filter tile (kDepthwiseTapRow).
static DepthwiseChannel readDepthwiseChannel(KB &k, const ConvShape &s,
                                             Value ch0, Value j, Value tile) {
  DepthwiseChannel c;
  c.ch = k.add(ch0, j);
  c.ok = k.lt(c.ch, s.c);
  for (int64_t t = 0; t < s.kh * s.kw; ++t)
    c.taps.push_back(k.load(tile, {j, k.c(t)}));
  c.bias = k.load(tile, {j, k.c(s.kh * s.kw)});
  return c;
}

/// The depthwise convolution `s` of the block's hidden tile, written to
/// `out`. A thread owns one output column of one channel and walks down its
/// th rows: the channel's taps and bias are loaded once, and each hidden
/// row it needs is read once (3 taps) and kept in registers while the rows
/// that use it are computed. Consecutive threads own consecutive columns.
static void emitDepthwiseFromShared(KB &k, const ConvShape &s,
                                    const SharedDepthwise &d, Value tid,
                                    int64_t threads, Activation act) {
  const int64_t columns = d.channels * d.tw;
  k.loop(0, ceilDiv(columns, threads) * threads, threads, [&](Value base) {
    Value e = k.add(base, tid);
    Value eOk = k.lt(e, columns);
    Value eSafe = k.sel(eOk, e, k.c(0));
    Value j = k.div(eSafe, d.tw), ox = k.rem(eSafe, d.tw);
    auto [ch, chOk, taps, bias] =
        loadDepthwiseChannel(k, s, d.ch0, j, d.filter, d.bias);
    Value x = k.add(d.ox0, ox);
    Value columnOk = k.both(eOk, k.both(chOk, k.lt(x, s.ow)));
    Value col0 = k.mul(ox, s.sw); // the column's first tap in the region
    llvm::DenseMap<int64_t, SmallVector<Value>> rows; // region row -> taps
    auto row = [&](int64_t r) -> ArrayRef<Value> {
      auto [it, inserted] = rows.try_emplace(r);
      if (inserted)
        for (int64_t kx = 0; kx < s.kw; ++kx)
          it->second.push_back(
              k.read(d.hidden, {j, k.add(col0, r * d.rw + kx)}));
      return it->second;
    };
    for (int64_t oy = 0; oy < d.th; ++oy) {
      Value sum = bias;
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        ArrayRef<Value> h = row(oy * s.sh + ky);
        for (int64_t kx = 0; kx < s.kw; ++kx)
          sum = k.fma(sum, h[kx], taps[ky * s.kw + kx]);
      }
      rows.erase(oy * s.sh); // no later output row reads it
      if (s.sh == 2)
        rows.erase(oy * s.sh + 1);
      Value y = k.add(d.oy0, oy);
      k.ifThen(k.both(columnOk, k.lt(y, s.oh)), [&] {
        k.write(k.activate(sum, act), d.out, {d.n, ch, y, x});
      });
    }
  });
}

// A block owns a TH x TW tile of the depthwise output for kHiddenPerBlock
// hidden channels of one image. It computes the expand for the tile's input
// window (halo included) into shared memory, zero outside the image (the
// depthwise padding pads the hidden tensor with zeros), then the depthwise
// from shared memory. The hidden tensor never goes to device memory.
static constexpr int64_t kHiddenPerBlock = 8, kFusedThreads = 128;

KernelLaunch KernelEmitter::emitExpandDepthwise(StringRef name,
                                                const ConvShape &s,
                                                int64_t inChannels,
                                                Activation expandAct,
                                                Activation act,
                                                const Elements &types) {
  MLIRContext *ctx = module.getContext();
  const int64_t cin = inChannels, hid = s.c, cb = kHiddenPerBlock;
  const int64_t th = s.sh == 1 ? 16 : 8, tw = s.sw == 1 ? 16 : 8;
  const int64_t rh = (th - 1) * s.sh + s.kh, rw = (tw - 1) * s.sw + s.kw;
  const int64_t region = rh * rw;
  const int64_t tilesX = ceilDiv(s.ow, tw), tilesY = ceilDiv(s.oh, th);
  auto func = createKernel(
      name,
      expandDepthwiseArguments(ctx, s, cin, types, Float32Type::get(ctx)),
      {workgroupMemref(ctx, {cb, cin}), workgroupMemref(ctx, {cb, region})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  auto [in, we, be, wd, bd, out] = expandDepthwiseOperands(func);
  Value weTile = func.getWorkgroupAttributions()[0];
  Value hidden = func.getWorkgroupAttributions()[1];

  Value tid = k.threadId(gpu::Dimension::x);
  auto [ch0, n, oy0, ox0, iy0, ix0] = fusedBlockOrigin(k, s, th, tw, cb, tilesX);

  // The block's expand weights, zero for channels past the last.
  k.loop(0, ceilDiv(cb * cin, kFusedThreads) * kFusedThreads, kFusedThreads,
         [&](Value base) {
           Value e = k.add(base, tid);
           k.ifThen(k.lt(e, cb * cin), [&] {
             Value j = k.div(e, cin), c = k.rem(e, cin);
             Value ch = k.add(ch0, j);
             k.store(k.maskedLoad(k.lt(ch, hid), we, {ch, c}), weTile, {j, c});
           });
         });
  gpu::BarrierOp::create(b);

  // Expand: each thread computes all channels of `per` window positions at
  // once, so each input value is loaded once and each (shared-memory
  // broadcast) weight feeds `per` FMAs.
  const int64_t per = ceilDiv(region, kFusedThreads);
  SmallVector<Value> pos, inside, iys, ixs;
  for (int64_t i = 0; i < per; ++i) {
    Value r = k.add(tid, i * kFusedThreads);
    Value iy = k.add(iy0, k.div(r, rw)), ix = k.add(ix0, k.rem(r, rw));
    Value ok = k.both(k.both(k.ge0(iy), k.lt(iy, s.h)),
                      k.both(k.ge0(ix), k.lt(ix, s.w)));
    pos.push_back(r);
    inside.push_back(k.both(ok, k.lt(r, region)));
    iys.push_back(iy);
    ixs.push_back(ix);
  }
  SmallVector<Value> init(cb * per, k.f(0.0f));
  SmallVector<Value> acc = k.loop(0, cin, 1, init, [&](Value c, ValueRange a) {
    SmallVector<Value> xs;
    for (int64_t i = 0; i < per; ++i)
      xs.push_back(k.maskedLoad(inside[i], in, {n, c, iys[i], ixs[i]}));
    SmallVector<Value> next(a.begin(), a.end());
    for (int64_t j = 0; j < cb; ++j) {
      Value w = k.load(weTile, {k.c(j), c});
      for (int64_t i = 0; i < per; ++i)
        next[j * per + i] = k.fma(next[j * per + i], xs[i], w);
    }
    return next;
  });
  for (int64_t j = 0; j < cb; ++j) {
    Value ch = k.add(ch0, j);
    Value bias = k.maskedLoad(k.lt(ch, hid), be, {ch});
    for (int64_t i = 0; i < per; ++i)
      k.ifThen(k.lt(pos[i], region), [&] {
        Value h = k.activate(k.fadd(acc[j * per + i], bias), expandAct);
        k.store(k.sel(inside[i], h, k.f(0.0f)), hidden, {k.c(j), pos[i]});
      });
  }
  gpu::BarrierOp::create(b);

  emitDepthwiseFromShared(k, s, {hidden, rw, th, tw, cb, ch0, n, oy0, ox0, wd,
                                bd, out},
                          tid, kFusedThreads, act);
  return {func, {tilesX * tilesY, ceilDiv(hid, cb), s.n},
          {kFusedThreads, 1, 1}};
}

//===----------------------------------------------------------------------===//
// Expand 1x1 + depthwise, fused, on tensor cores (f16, bf16)
//===----------------------------------------------------------------------===//

// A block owns 32 hidden channels of one image and a th x tw patch of
// depthwise outputs (tw even: a thread of the depthwise computes two adjacent
// columns). Its input region, halo included, is staged as rh rows of `width`
// columns that start `shift` columns left of the depthwise window, so that
// every staged vector of vw values is aligned and wholly inside or outside
// the image; the region is padded to `positions`, 64 per warp.
// planExpandPatch picks the patch per layer: the whole map where it fits
// (the late blocks' 8x8 and 15x15 maps), otherwise wide patches of a few
// rows. The expand is a 32 x positions GEMM over the input channels: A (the
// expand filter rows, all of K) stays in shared memory, B (the input region)
// is staged 32 channels at a time (by cp.async from 16-bit activations,
// through registers from the f32 graph input or in scalars), and each warp
// owns two 32-position column
// groups (m16n8k16 on ldmatrix fragments), its accumulators starting at the
// bias. The activation, the packing into 16-bit pairs and the zero padding
// of the hidden tensor (a mask per position, set while staging) are applied
// as the fragments go to a shared 32 x positions hidden tile, which reuses
// B's buffer once the GEMM is done; the depthwise then reads its taps from
// there as aligned pairs.
static constexpr int64_t kHiddenRows = 32, kPositionsPerWarp = 64;
// The most project outputs a fused MBConv kernel keeps accumulators for.
static constexpr int64_t kMaxProjectChannels = 64;

namespace {
struct ExpandPatch {
  int64_t th, tw;    // output patch (tw even)
  int64_t rh, width; // staged region: rows, columns (whole vectors, even)
  int64_t shift;     // staged columns left of the depthwise window
  int64_t vw;        // input values per staged vector
  int64_t positions; // rh x width, padded to whole warps
  int64_t warps() const { return positions / kPositionsPerWarp; }
  int64_t threads() const { return 32 * warps(); }
};
} // namespace

/// The expand's K staged per round, and K padded to whole rounds. Up to 32
/// input channels take one round: in a second one the slice's staged values
/// are live together with the accumulators (mbconv3's 24 channels in two
/// rounds of 16 needed 108 registers, 2 blocks per SM; in one of 32, 81).
static int64_t expandSlice(int64_t inChannels) {
  return inChannels > 16 ? 32 : 16;
}
static int64_t expandPaddedK(int64_t inChannels) {
  return ceilDiv(inChannels, expandSlice(inChannels)) *
         expandSlice(inChannels);
}

/// A row of the tensor-core fused kernels' depthwise filter tile: a hidden
/// channel's 3 x 3 taps, then its bias (float32).
static constexpr int64_t kDepthwiseTapRow = 3 * 3 + 1;

/// Shared memory of a block: A (32 x (padded K + 8)), the B / hidden buffer
/// (32 x (positions + 8)) of 16-bit floats, the i16 mask per position and,
/// with `tapTile` (the expand + depthwise kernel), the depthwise filter tile
/// (32 x kDepthwiseTapRow floats).
static int64_t expandSharedBytes(int64_t positions, int64_t inChannels,
                                 bool tapTile) {
  return 2 * kHiddenRows * (expandPaddedK(inChannels) + 8 + positions + 8) +
         2 * positions + (tapTile ? 4 * kHiddenRows * kDepthwiseTapRow : 0);
}

/// A fused MBConv kernel's project stage (nn.fused_mbconv): the filter
/// slice of a hidden block, (outputs padded to whole m16 tiles) x (32 + 8),
/// and the depthwise outputs of the block, 32 x (patch positions padded to
/// whole n8 tiles, plus a pad that keeps ldmatrix's 8 rows in distinct
/// 16-byte bank groups), both 16-bit.
static int64_t projectRows(int64_t outChannels) {
  return ceilDiv(outChannels, 16) * 16;
}
static int64_t projectColumns(int64_t th, int64_t tw) {
  return ceilDiv(th * tw, 8) * 8;
}
static int64_t projectStride(int64_t columns) {
  return columns + ((columns / 8) % 2 == 0 ? 8 : 16);
}
static int64_t projectSharedBytes(int64_t outChannels, int64_t th, int64_t tw) {
  if (outChannels == 0)
    return 0;
  return 2 * projectRows(outChannels) * (kHiddenRows + 8) +
         2 * kHiddenRows * projectStride(projectColumns(th, tw));
}

/// Threads of the depthwise phase per hidden channel: its tw / 2 column
/// pairs, rounded up so that no warp spans two channels' rows at an offset
/// (which costs every shared-memory load of the warp a second pass).
static int64_t depthwiseSlots(int64_t tw) {
  int64_t pairs = tw / 2;
  return pairs > 32 ? ceilDiv(pairs, 32) * 32 : llvm::PowerOf2Ceil(pairs);
}

/// A block's fixed cost in the planner's thread instructions: about 3000 are
/// instructions (setup, the filter, barriers). From two images on, the grids
/// run in several waves of resident blocks, and a block's cost also stands
/// for the time it spends waiting on its serial phases (staging, barriers,
/// the drain), which no instruction count shows. Measured on an H200 at
/// batch 10 (bench/RESULTS.md, 2026-12-02): with 3000, the planner picked
/// mbconv1's 5 x 60 patches over 6 x 60 (0.1% more instructions, 1/6 fewer
/// blocks), and the larger ones ran 8% faster; likewise mbconv2's 4 x 30
/// patches over 3 x 32, 1.5% faster. 15000 picks those, and keeps mbconv3's
/// 6 x 16 over 4 x 30 (that one measured 6% slower); the program ran 1.2%
/// faster. At batch 1 the grids are smaller than one wave (mbconv1's 48
/// blocks), a kernel lasts about as long as one block, and the same larger
/// patches measured 0.5% slower: there a block costs its instructions only.
static int64_t blockOverhead(int64_t images) {
  return images == 1 ? 3000 : 15000;
}

/// The patch with the least estimated instruction count over the whole map
/// (thread instructions, from the kernel's loops): staging the region, the
/// expand and its epilogue per position, the depthwise per pair of outputs
/// and round of the block's threads, and a fixed cost per block. Patches
/// that fit the 48 KB of static shared memory (with a project stage of
/// `projectChannels` outputs, if any) and 1024 threads only.
static std::optional<ExpandPatch> planExpandPatch(const ConvShape &s,
                                                  int64_t inChannels,
                                                  int64_t inBytes,
                                                  int64_t projectChannels = 0) {
  const int64_t kPad = expandPaddedK(inChannels);
  std::optional<ExpandPatch> best;
  int64_t bestCost = std::numeric_limits<int64_t>::max();
  for (int64_t th = 1; th <= s.oh; ++th)
    for (int64_t tw = 2; tw <= s.ow + 1; tw += 2)
      for (int64_t vw : {8, 4, 2, 1}) {
        if (vw * inBytes > 16 || s.w % vw != 0 || (tw * s.sw) % vw != 0)
          continue;
        // The window starts at ox0 sw - pl, ox0 sw a multiple of vw.
        int64_t shift = ((-s.pl) % vw + vw) % vw;
        int64_t rh = (th - 1) * s.sh + s.kh;
        // Rows of whole vectors, and of an even width: the epilogue and the
        // depthwise address the hidden tile by aligned pairs.
        int64_t align = std::max<int64_t>(vw, 2);
        int64_t width = ceilDiv(shift + (tw - 1) * s.sw + s.kw, align) * align;
        int64_t positions =
            ceilDiv(rh * width, kPositionsPerWarp) * kPositionsPerWarp;
        ExpandPatch p{th, tw, rh, width, shift, vw, positions};
        if (p.threads() > 1024 ||
            expandSharedBytes(positions, inChannels,
                              /*tapTile=*/projectChannels == 0) +
                    projectSharedBytes(projectChannels, th, tw) >
                48 * 1024)
          continue;
        int64_t rounds = ceilDiv(kHiddenRows * depthwiseSlots(tw), p.threads());
        // Thread instructions per block, estimated from the emitted PTX:
        // about 4 per staged vector and channel; 3/4 per position and
        // channel of K for the MMAs; 96 per position for the epilogue (32
        // hidden channels, about 3 each); 24 + 8 sw per output pair and row
        // of the depthwise, in whole rounds of the block's threads; and a
        // fixed cost per block (blockOverhead).
        int64_t block =
            kPad * positions / vw * 4 + positions * (kPad * 3 / 4 + 96) +
            rounds * p.threads() * th * (24 + 8 * s.sw) + blockOverhead(s.n);
        int64_t cost = ceilDiv(s.oh, th) * ceilDiv(s.ow, tw) * block;
        if (cost < bestCost) {
          bestCost = cost;
          best = p;
        }
      }
  return best;
}

/// The tensor-core expand + depthwise kernels' shapes: a 3x3 depthwise of
/// stride 1 or 2 after an expand from a multiple of 8 channels, with a patch
/// that fits (with a project stage of `projectChannels` outputs, if any).
/// Scalar staging (vw = 1) fits any input type: the element size only
/// widens the choice.
static bool fitsExpandKernel(const ConvShape &s, int64_t inChannels,
                             int64_t projectChannels) {
  return s.kh == 3 && s.kw == 3 && (s.sh == 1 || s.sh == 2) && s.sh == s.sw &&
         inChannels % 8 == 0 &&
         planExpandPatch(s, inChannels, /*inBytes=*/4, projectChannels)
             .has_value();
}

bool ptxnet::kernels::expandDepthwiseOnTensorCores(const ConvShape &s,
                                                   int64_t inChannels) {
  return fitsExpandKernel(s, inChannels, /*projectChannels=*/0);
}

bool ptxnet::kernels::mbconvOnTensorCores(const ConvShape &s,
                                          int64_t inChannels,
                                          int64_t outChannels) {
  // The project filter's rows are copied in 16-byte pieces.
  return s.c % 8 == 0 && outChannels > 0 &&
         outChannels <= kMaxProjectChannels &&
         fitsExpandKernel(s, inChannels, outChannels);
}

namespace {
/// Two adjacent depthwise outputs of a fused kernel's thread, as one pair
/// (vector<2 x f32>, or of f16 where the depthwise computes in f16): columns x
/// and x + 1 of row y in the map (ox, oy in the block's patch), of the
/// block's j-th hidden channel ch (chOk: it exists). `ok`: the channel, row
/// y and column x exist.
struct DepthwisePair {
  Value j, ch, chOk;
  int64_t oy;
  Value ox, y, x, ok;
  Value pair;
};
} // namespace

/// The depthwise convolution `s` of a block's hidden tile (rows of `width`
/// positions whose first `shift` columns precede the window), each pair of
/// outputs handed to `sink`. A thread owns two adjacent output columns of one
/// channel and walks down its th rows: the channel's taps and bias are read
/// once, from the block's depthwise filter tile `tapTile` (staged with the
/// expand filter, see ExpandPhase::stageDepthwiseFilter) or, where it is
/// null, from `filter` and `bias` in device memory; each hidden row it needs is
/// read once, as aligned pairs, and kept in registers while the rows that use
/// it are computed. Consecutive threads own consecutive column pairs
/// (depthwiseSlots per channel). Every pair of every row and channel row of the
/// patch reaches the sink.
///
/// With `f16Math`, an f16 hidden tile's two columns are computed as one
/// f16x2 pair (a bf16 tile's stay float32): each tap is one fma.rn.f16x2 on the
/// pair of hidden values the two outputs read, taken as loaded or put together
/// from two loaded pairs by one permute, instead of two float32 FMAs on values
/// converted one by one. The sums are then rounded to f16 at every tap.
static void emitDepthwisePairsFromShared(
    KB &k, const ConvShape &s, const ExpandPatch &p, Value hidden, Value ch0,
    Value oy0, Value ox0, Value tapTile, Value filter, Value bias, Value tid,
    Activation act, bool f16Math,
    llvm::function_ref<void(const DepthwisePair &)> sink) {
  ImplicitLocOpBuilder &b = k.b;
  const int64_t pairsPerRow = p.tw / 2, slots = depthwiseSlots(p.tw);
  const int64_t units = kHiddenRows * slots, threads = p.threads();
  // A pair's taps in a hidden row: columns c0 .. c0 + sw + kw - 1, read as
  // the pairs from the even column below c0 (c0 = shift + 2 m sw, so its
  // parity is the shift's).
  const int64_t lead = p.shift % 2, needed = s.sw + s.kw;
  const int64_t loads = ceilDiv(lead + needed, 2);
  Type half = cast<MemRefType>(hidden.getType()).getElementType();
  const bool halfMath = f16Math && half.isF16();
  auto pairType = VectorType::get({2}, half);
  k.loop(0, ceilDiv(units, threads) * threads, threads, [&](Value base) {
    Value e = k.add(base, tid);
    Value j = k.div(e, slots), m = k.rem(e, slots);
    Value unitOk = k.lt(e, units);
    if (slots != pairsPerRow)
      unitOk = k.both(unitOk, k.lt(m, pairsPerRow));
    k.ifThen(unitOk, [&] {
      auto [ch, chOk, taps, b0] =
          tapTile ? readDepthwiseChannel(k, s, ch0, j, tapTile)
                  : loadDepthwiseChannel(k, s, ch0, j, filter, bias);
      if (halfMath) {
        // Each tap and the bias once as an f16 pair (one cvt.rn.f16x2.f32).
        for (Value &tap : taps)
          tap = k.convert(k.pair(tap, tap), pairType);
        b0 = k.convert(k.pair(b0, b0), pairType);
      }
      Value ox = k.mul(m, 2);
      Value x = k.add(ox0, ox);
      Value columnOk = k.both(chOk, k.lt(x, s.ow));
      Value a0 = k.add(k.mul(ox, s.sw), p.shift - lead);
      // Region row -> its values: with halfMath, the operand pair of each
      // kx; else the columns from c0 on, as float32.
      llvm::DenseMap<int64_t, SmallVector<Value>> rows;
      auto row = [&](int64_t r) -> ArrayRef<Value> {
        auto [it, inserted] = rows.try_emplace(r);
        if (!inserted)
          return it->second;
        SmallVector<Value> loaded, values;
        for (int64_t i = 0; i < loads; ++i) {
          loaded.push_back(k.vectorLoad(pairType, hidden,
                                        {j, k.add(a0, r * p.width + 2 * i)}));
          if (!halfMath)
            for (int64_t h = 0; h < 2; ++h)
              values.push_back(
                  k.convert(vector::ExtractOp::create(b, loaded.back(), h),
                            b.getF32Type()));
        }
        if (halfMath) {
          // Tap kx of the outputs reads columns lead + kx and lead + sw + kx
          // of the loaded ones.
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            int64_t c0 = lead + kx, c1 = lead + s.sw + kx;
            it->second.push_back(
                c1 == c0 + 1 && c0 % 2 == 0
                    ? loaded[c0 / 2]
                    : vector::ShuffleOp::create(
                          b, loaded[c0 / 2], loaded[c1 / 2],
                          ArrayRef<int64_t>{c0 % 2, 2 + c1 % 2}));
          }
          return it->second;
        }
        it->second.assign(values.begin() + lead,
                          values.begin() + lead + needed);
        return it->second;
      };
      for (int64_t oy = 0; oy < p.th; ++oy) {
        Value pair;
        if (halfMath) {
          pair = b0;
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            ArrayRef<Value> h = row(oy * s.sh + ky);
            for (int64_t kx = 0; kx < s.kw; ++kx)
              pair = k.fma(pair, h[kx], taps[ky * s.kw + kx]);
          }
          pair = k.activate(pair, act);
        } else {
          Value sum[2] = {b0, b0};
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            ArrayRef<Value> h = row(oy * s.sh + ky);
            for (int64_t c = 0; c < 2; ++c)
              for (int64_t kx = 0; kx < s.kw; ++kx)
                sum[c] = k.fma(sum[c], h[c * s.sw + kx], taps[ky * s.kw + kx]);
          }
          Value v0 = k.activate(sum[0], act), v1 = k.activate(sum[1], act);
          pair = k.pair(v0, v1);
        }
        for (int64_t r = oy * s.sh; r < (oy + 1) * s.sh; ++r)
          rows.erase(r); // no later output row reads it
        Value y = k.add(oy0, oy);
        Value ok = k.both(columnOk, k.lt(y, s.oh));
        sink({j, ch, chOk, oy, ox, y, x, ok, pair});
      }
    });
  });
}

/// The sink of a fused expand + depthwise kernel: each pair to out[n][ch][y]
/// at x and x + 1, as one pair where the map's width is even.
static void storeDepthwisePair(KB &k, const ConvShape &s, Value out, Value n,
                               const DepthwisePair &d) {
  ImplicitLocOpBuilder &b = k.b;
  Type outType = cast<MemRefType>(out.getType()).getElementType();
  if (s.ow % 2 == 0) {
    // x is even and below the even width: both columns are real.
    k.ifThen(d.ok, [&] {
      k.vectorStore(k.convert(d.pair, VectorType::get({2}, outType)), out,
                    {n, d.ch, d.y, d.x});
    });
    return;
  }
  k.ifThen(d.ok, [&] {
    k.write(vector::ExtractOp::create(b, d.pair, 0), out, {n, d.ch, d.y, d.x});
  });
  Value x1 = k.add(d.x, 1);
  k.ifThen(k.both(d.ok, k.lt(x1, s.ow)), [&] {
    k.write(vector::ExtractOp::create(b, d.pair, 1), out, {n, d.ch, d.y, x1});
  });
}

/// `tile` (rows x cols, cols a multiple of 8) = src[row0 .. ][col0 .. ] (a
/// null origin is 0), zero past srcRows x srcCols, by cp.async in 16-byte
/// pieces of 8 16-bit values (srcCols a multiple of 8): thread tid of
/// `threads` issues every threads-th piece, uncommitted.
static void copyWindowAsync(KB &k, Value tid, int64_t threads, Value tile,
                            Value src, int64_t rows, int64_t cols, Value row0,
                            Value col0, int64_t srcRows, int64_t srcCols) {
  ImplicitLocOpBuilder &b = k.b;
  const int64_t perRow = cols / 8, pieces = rows * perRow;
  for (int64_t base = 0; base < pieces; base += threads) {
    Value e = k.add(tid, base);
    k.ifThen(k.lt(e, pieces), [&] {
      Value row = k.div(e, perRow), col = k.mul(k.rem(e, perRow), 8);
      Value r = row0 ? k.add(row0, row) : row;
      Value c = col0 ? k.add(col0, col) : col;
      Value ok = k.both(k.lt(r, srcRows), k.lt(c, srcCols));
      nvgpu::DeviceAsyncCopyOp::create(
          b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tile,
          ValueRange{row, col}, src,
          ValueRange{k.sel(ok, r, k.c(0)), k.sel(ok, c, k.c(0))},
          b.getIndexAttr(8), k.sel(ok, k.c(8), k.c(0)),
          /*bypassL1=*/b.getUnitAttr());
    });
  }
}

namespace {
/// The expand phase of the fused kernels on tensor cores, over a block's
/// input region (see ExpandPatch): its shared tiles, the thread's staging
/// chunks, and the steps that leave the expand of 32 hidden channels in the
/// hidden tile (B's buffer).
struct ExpandPhase {
  KB &k;
  const ConvShape &s;
  const ExpandPatch &p;
  int64_t cin;
  const Elements &types;
  Type half;                // the tensor cores' operand type
  Value tileA, tileB, mask; // shared: expand filter rows, B / hidden, mask
  Value dwTaps; // shared: depthwise taps and bias per hidden row, or null
  Value in, we, be;         // input, expand filter and bias
  Value wd, bd;             // depthwise filter and bias
  FusedBlockOrigin o;       // the block's image, patch and window
  Value tid, warp, group, lane16, laneHalf, t;

  struct Chunk {
    Value q;      // its first position
    Value valid;  // a chunk of this thread (not past the last one)
    Value inside; // its pixels lie in the image (else they are zero padding)
    Value iy, ix; // its first pixel, clamped to 0 outside the image
  };
  SmallVector<Chunk> chunks;
  Value cg; // the thread's channel group
  int64_t channelGroups = 1;
  /// The expand's B fragments of adjacent column groups by one ldmatrix x4
  /// (loadBFragments): fewer loads and addresses, measured 1.6% faster at
  /// batch 10 on an H200. The whole-block kernel keeps one x2 a fragment:
  /// pairs cost it registers it does not have (spills under its
  /// minctasm budget, 1.5% slower at batch 64).
  bool pairedBLoads = false;

  int64_t kK() const { return expandSlice(cin); }
  int64_t kPad() const { return expandPaddedK(cin); }
  /// 16-bit input in vectors of 4 to 16 bytes (cp.async's sizes) is staged
  /// by cp.async; f32 input (the graph's) and scalars through registers.
  bool asyncStaging() const { return types.in == half && p.vw >= 2; }

  /// The depthwise taps and bias of hidden channels ch0 .. ch0 + 31 to the
  /// depthwise filter tile (zero past the last channel), by 4-byte cp.async
  /// copies that join the expand filter's wait (stageExpandFilter, to be
  /// called next). The depthwise phase then reads them from shared memory
  /// instead of waiting out a load from device memory.
  void stageDepthwiseFilter(Value ch0) {
    ImplicitLocOpBuilder &b = k.b;
    const int64_t taps = s.kh * s.kw, threads = p.threads();
    auto copy = [&](int64_t total, int64_t perRow,
                    llvm::function_ref<SmallVector<Value>(Value, Value)> src,
                    Value srcMemref, int64_t col0) {
      for (int64_t base = 0; base < total; base += threads) {
        Value e = k.add(tid, base);
        k.ifThen(k.lt(e, total), [&] {
          Value j = k.div(e, perRow), t = k.rem(e, perRow);
          Value ch = k.add(ch0, j);
          Value ok = k.lt(ch, s.c);
          nvgpu::DeviceAsyncCopyOp::create(
              b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dwTaps,
              ValueRange{j, k.add(t, col0)}, srcMemref,
              src(k.sel(ok, ch, k.c(0)), t), b.getIndexAttr(1),
              k.sel(ok, k.c(1), k.c(0)), /*bypassL1=*/UnitAttr());
        });
      }
    };
    copy(
        kHiddenRows * taps, taps,
        [&](Value ch, Value t) -> SmallVector<Value> {
          return {ch, k.c(0), k.div(t, s.kw), k.rem(t, s.kw)};
        },
        wd, 0);
    copy(
        kHiddenRows, 1,
        [&](Value ch, Value) -> SmallVector<Value> { return {ch}; }, bd, taps);
  }

  /// A: the expand filter rows ch0 .. ch0 + 31, all input channels (zero
  /// past hid and past C), by cp.async in 16-byte pieces, with any copies
  /// the thread issued before. Threads past the last piece copy nothing.
  /// With cp.async staging, the copies join the first K slice's group and
  /// its wait (expandIntoHidden): the block then waits out one memory
  /// latency before its first MMAs instead of two. Else they are waited for
  /// here.
  void stageExpandFilter(Value ch0) {
    copyWindowAsync(k, tid, p.threads(), tileA, we, kHiddenRows, kPad(), ch0,
                    /*col0=*/Value(), s.c, cin);
    if (asyncStaging())
      return;
    k.waitCopies(k.commitCopies(), 0);
  }

  /// Staging: the region's positions in vectors of vw ("chunks", cpc per
  /// channel row). A thread keeps the same chunks for every channel, so that
  /// its addresses differ by whole channel planes: with more threads than
  /// chunks, `channelGroups` threads share a chunk and take every
  /// channelGroups-th channel. Then the mask: all ones where the hidden
  /// tensor is real, zero where it pads.
  void planChunksAndMask() {
    ImplicitLocOpBuilder &b = k.b;
    const int64_t vw = p.vw, threads = p.threads();
    const int64_t cpc = p.positions / vw;
    channelGroups = threads >= cpc ? threads / cpc : 1;
    const int64_t chunksPerThread = threads >= cpc ? 1 : ceilDiv(cpc, threads);
    cg = threads >= cpc ? k.div(tid, cpc) : k.c(0);
    for (int64_t i = 0; i < chunksPerThread; ++i) {
      Value pc = threads >= cpc ? k.rem(tid, cpc) : k.add(tid, i * threads);
      Value valid =
          threads >= cpc ? k.lt(tid, channelGroups * cpc) : k.lt(pc, cpc);
      Value q = k.mul(pc, vw);
      Value r = k.div(q, p.width), col = k.rem(q, p.width);
      Value iy = k.add(o.iy0, r), ix = k.add(k.sub(o.ix0, k.c(p.shift)), col);
      Value inside =
          k.both(k.lt(r, p.rh), k.both(k.both(k.ge0(iy), k.lt(iy, s.h)),
                                       k.both(k.ge0(ix), k.lt(ix, s.w))));
      chunks.push_back({q, valid, inside, k.sel(inside, iy, k.c(0)),
                        k.sel(inside, ix, k.c(0))});
    }
    Type i16 = b.getI16Type();
    auto maskType = VectorType::get({vw}, i16);
    for (const Chunk &c : chunks)
      k.ifThen(k.both(c.valid, k.lt(cg, 1)), [&] {
        Value ones = arith::ConstantOp::create(
            b, maskType, DenseElementsAttr::get(maskType, APInt(16, -1)));
        Value zeros = arith::ConstantOp::create(
            b, maskType, DenseElementsAttr::get(maskType, APInt(16, 0)));
        k.vectorStore(k.sel(c.inside, ones, zeros), mask, {c.q});
      });
  }

  /// A piece of a K slice's staging: one of the thread's chunks in the slice
  /// row of one of its channels.
  struct Piece {
    const Chunk &chunk;
    Value row; // the channel's row in the slice
    Value ch;  // its channel
    Value ok;  // inside the image and below C
  };
  Piece slicePiece(const Chunk &chunk, int64_t c, Value c0) {
    Value cc = k.add(cg, c * channelGroups);
    Value ch = k.add(c0, cc);
    return {chunk, cc, ch, k.both(chunk.inside, k.lt(ch, cin))};
  }
  /// Where a piece is read from (channel 0 where it pads).
  SmallVector<Value> sliceSource(const Piece &piece) {
    return {o.n, k.sel(piece.ok, piece.ch, k.c(0)), piece.chunk.iy,
            piece.chunk.ix};
  }
  /// Whether the thread writes a piece (its chunk exists, its row is in the
  /// slice).
  Value sliceWritten(const Piece &piece) {
    return k.both(piece.chunk.valid, k.lt(piece.row, kK()));
  }

  /// With asyncStaging: the thread's vectors of the K slice from channel c0
  /// to B's first kK rows by cp.async, zero-filled (no bytes read) where
  /// they pad, uncommitted. No staged value occupies registers next to the
  /// accumulators (measured on an H200: mbconv2's kernel at batch 64 went
  /// from 80.3 to 76.9 us).
  void issueSliceCopies(Value c0) {
    ImplicitLocOpBuilder &b = k.b;
    const int64_t vw = p.vw;
    for (int64_t c = 0; c < ceilDiv(kK(), channelGroups); ++c)
      for (const Chunk &chunk : chunks) {
        Piece piece = slicePiece(chunk, c, c0);
        k.ifThen(sliceWritten(piece), [&] {
          nvgpu::DeviceAsyncCopyOp::create(
              b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tileB,
              ValueRange{piece.row, piece.chunk.q}, in, sliceSource(piece),
              b.getIndexAttr(vw), k.sel(piece.ok, k.c(vw), k.c(0)),
              /*bypassL1=*/vw * 2 == 16 ? b.getUnitAttr() : UnitAttr());
        });
      }
  }

  /// The K slice from channel c0 in B's first kK rows, waited for (with
  /// every copy the thread issued before): by cp.async, or through
  /// registers (all loads, then all stores: one latency for the slice).
  void stageSlice(Value c0) {
    if (asyncStaging()) {
      issueSliceCopies(c0);
      k.waitCopies(k.commitCopies(), 0);
      return;
    }
    auto inVector = VectorType::get({p.vw}, types.in);
    auto halfVector = VectorType::get({p.vw}, half);
    struct Staged {
      Piece piece;
      Value v;
    };
    SmallVector<Staged> staged;
    for (int64_t c = 0; c < ceilDiv(kK(), channelGroups); ++c)
      for (const Chunk &chunk : chunks) {
        Piece piece = slicePiece(chunk, c, c0);
        Value v = k.vectorLoad(inVector, in, sliceSource(piece));
        v = k.sel(piece.ok, v, k.splat(inVector, 0.0f));
        staged.push_back({piece, k.convert(v, halfVector)});
      }
    for (const Staged &item : staged)
      k.ifThen(sliceWritten(item.piece), [&] {
        k.vectorStore(item.v, tileB, {item.piece.row, item.piece.chunk.q});
      });
  }

  /// The expand of hidden channels ch0 .. ch0 + 31 over the region (A
  /// staged), written to the hidden tile: a 32 x positions GEMM over the
  /// input channels, B staged kK channels at a time, each warp owning two
  /// 32-position column groups (m16n8k16 on ldmatrix fragments) with
  /// accumulators starting at the bias; then the activation, the packing into
  /// 16-bit pairs and the zero padding (the mask) as the fragments go to the
  /// hidden tile, which reuses B's buffer. Ends with a barrier. `prestaged`
  /// (a single slice only): the caller has staged the slice (and A) and
  /// waited for its copies.
  void expandIntoHidden(Value ch0, Activation expandAct,
                        bool prestaged = false) {
    ImplicitLocOpBuilder &b = k.b;
    const int64_t warps = p.warps(), kK = this->kK();
    assert((!prestaged || kPad() == kK) && "only a single slice prestages");
    // Accumulators [g][mi][ni] of the warp's column groups warp + g * warps,
    // starting at the bias of their rows (group + 16 mi + 8 i).
    const int64_t groups = kPositionsPerWarp / 32;
    SmallVector<Value> init;
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t mi = 0; mi < 2; ++mi) {
        SmallVector<Value> rowBias;
        for (int64_t i = 0; i < 2; ++i) {
          Value ch = k.add(ch0, k.add(group, mi * 16 + i * 8));
          Value v = k.maskedLoad(k.lt(ch, s.c), be, {ch});
          rowBias.append({v, v});
        }
        Value frag = vector::FromElementsOp::create(
            b, VectorType::get({2, 2}, b.getF32Type()), rowBias);
        init.append(4, frag);
      }
    SmallVector<Value> acc =
        k.loop(0, kPad(), kK, init, [&](Value c0, ValueRange a) {
          if (prestaged) {
            // The caller waited for the slice's copies; the barrier makes
            // every thread's visible.
            gpu::BarrierOp::create(b);
          } else {
            gpu::BarrierOp::create(b); // the previous slice's reads are done
            stageSlice(c0);
            gpu::BarrierOp::create(b);
          }
          SmallVector<Value> next(a.begin(), a.end());
          for (int64_t ks = 0; ks < kK; ks += 16) {
            SmallVector<Value> aFrag;
            for (int64_t mi = 0; mi < 2; ++mi)
              aFrag.push_back(nvgpu::LdMatrixOp::create(
                  b, VectorType::get({4, 2}, half), tileA,
                  ValueRange{k.add(lane16, mi * 16),
                             k.add(k.add(c0, k.mul(laneHalf, 8)), ks)},
                  /*transpose=*/false, /*numTiles=*/4));
            const int64_t perLoad = pairedBLoads ? 2 : 1;
            for (int64_t g = 0; g < groups; ++g)
              for (int64_t ni = 0; ni < 4; ni += perLoad) {
                Value col = k.add(k.mul(k.add(warp, g * warps), 32), ni * 8);
                SmallVector<Value, 2> bFrag =
                    loadBFragments(k, tileB, ValueRange{}, k.add(lane16, ks),
                                   col, laneHalf, perLoad);
                for (int64_t f = 0; f < perLoad; ++f)
                  for (int64_t mi = 0; mi < 2; ++mi) {
                    Value &c = next[g * 8 + mi * 4 + ni + f];
                    c = nvgpu::MmaSyncOp::create(b, aFrag[mi], bFrag[f], c,
                                                 ArrayRef<int64_t>{16, 8, 16},
                                                 /*tf32Enabled=*/false);
                  }
              }
          }
          return next;
        });

    // Fragments -> hidden tile (B's buffer, once every warp is done reading
    // B): activation, 16-bit pairs, zero where the mask says padding.
    gpu::BarrierOp::create(b);
    Type i16 = b.getI16Type();
    auto pairMask = VectorType::get({2}, i16);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t ni = 0; ni < 4; ++ni) {
        Value q = k.add(k.add(k.mul(k.add(warp, g * warps), 32), ni * 8),
                        k.mul(t, 2));
        Value m = k.vectorLoad(pairMask, mask, {q});
        for (int64_t mi = 0; mi < 2; ++mi)
          for (int64_t i = 0; i < 2; ++i) {
            Value v = vector::ExtractOp::create(b, acc[g * 8 + mi * 4 + ni],
                                                ArrayRef<int64_t>{i});
            // Rounding is monotonic and 0 and 6 are exact in f16 and bf16:
            // the activation of the rounded pair is the rounded activation.
            Value h =
                k.activate(k.convert(v, VectorType::get({2}, half)), expandAct);
            Value bits = arith::AndIOp::create(
                b, vector::BitCastOp::create(b, pairMask, h), m);
            k.vectorStore(vector::BitCastOp::create(b, h.getType(), bits),
                          tileB, {k.add(group, mi * 16 + i * 8), q});
          }
      }
    gpu::BarrierOp::create(b);
  }
};
} // namespace

// The tensor-core kernels below share their setup: the block's shared tiles
// (A: 32 x (padded K + 8), B / hidden: 32 x (positions + 8), the i16 mask,
// then the project stage's), thread and lane indices, the block's place
// (grid x over the patches, tilesX per row).
static ExpandPhase makeExpandPhase(KB &k, gpu::GPUFuncOp func,
                                   const ConvShape &s, const ExpandPatch &p,
                                   int64_t cin, const Elements &types,
                                   int64_t tilesX) {
  Value tid = k.threadId(gpu::Dimension::x);
  Value lane = k.rem(tid, 32), warp = k.div(tid, 32);
  Value group = k.div(lane, 4), t = k.rem(lane, 4);
  Value lane16 = k.rem(lane, 16), laneHalf = k.div(lane, 16);
  ExpandPhase e{k, s, p, cin, types};
  e.half = types.filter;
  auto tiles = func.getWorkgroupAttributions();
  e.tileA = tiles[0];
  e.tileB = tiles[1];
  e.mask = tiles[2];
  e.in = func.getArgument(0);
  e.we = func.getArgument(1);
  e.be = func.getArgument(2);
  e.wd = func.getArgument(3);
  e.bd = func.getArgument(4);
  e.tid = tid;
  e.warp = warp;
  e.group = group;
  e.lane16 = lane16;
  e.laneHalf = laneHalf;
  e.t = t;
  e.o = fusedBlockOrigin(k, s, p.th, p.tw, kHiddenRows, tilesX);
  return e;
}

static SmallVector<Type> expandSharedTiles(MLIRContext *ctx,
                                           const ExpandPatch &p, int64_t cin,
                                           Type half) {
  return {workgroupMemref(ctx, {kHiddenRows, expandPaddedK(cin) + 8}, half),
          workgroupMemref(ctx, {kHiddenRows, p.positions + 8}, half),
          workgroupMemref(ctx, {p.positions}, IntegerType::get(ctx, 16))};
}

KernelLaunch KernelEmitter::emitExpandDepthwiseMma(StringRef name,
                                                   const ConvShape &s,
                                                   int64_t inChannels,
                                                   Activation expandAct,
                                                   Activation act,
                                                   const Elements &types) {
  MLIRContext *ctx = module.getContext();
  // The tensor cores' operand type: the expand filter's, f16 or bf16.
  Type half = types.filter;
  const int64_t cin = inChannels, hc = kHiddenRows;
  const ExpandPatch p =
      *planExpandPatch(s, cin, types.in.getIntOrFloatBitWidth() / 8);
  const int64_t tilesX = ceilDiv(s.ow, p.tw), tilesY = ceilDiv(s.oh, p.th);
  // B's first kK rows hold the staged input slice during the expand; the
  // whole buffer then holds the hidden tile. Then the depthwise filter tile.
  SmallVector<Type> tiles = expandSharedTiles(ctx, p, cin, half);
  tiles.push_back(workgroupMemref(ctx, {hc, kDepthwiseTapRow}));
  auto func = createKernel(
      name, expandDepthwiseArguments(ctx, s, cin, types, half), tiles);
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  // The other operands go to ExpandPhase.
  Value out = expandDepthwiseOperands(func).back();
  ExpandPhase expand = makeExpandPhase(k, func, s, p, cin, types, tilesX);
  expand.pairedBLoads = true;
  expand.dwTaps = func.getWorkgroupAttributions()[3];
  const FusedBlockOrigin &o = expand.o;
  expand.stageDepthwiseFilter(o.ch0);
  expand.stageExpandFilter(o.ch0);
  expand.planChunksAndMask();
  expand.expandIntoHidden(o.ch0, expandAct);
  emitDepthwisePairsFromShared(
      k, s, p, expand.tileB, o.ch0, o.oy0, o.ox0, expand.dwTaps, expand.wd,
      expand.bd, expand.tid, act, options.f16DepthwiseMath,
      [&](const DepthwisePair &d) { storeDepthwisePair(k, s, out, o.n, d); });
  return {func, {tilesX * tilesY, ceilDiv(s.c, hc), s.n}, {p.threads(), 1, 1}};
}
// A fused MBConv kernel (nn.fused_mbconv) runs the expand + depthwise
// kernel's block through all hidden channels, 32 at a time, and feeds each
// block's depthwise outputs (16-bit, in shared memory) to the project 1x1 on
// tensor cores: out (outputs x patch positions) += Wp[:, 32 hidden] x dw (32
// x positions), its m16n8 fragments spread over the warps, the accumulators
// (starting at the project bias) in registers across the hidden blocks. Only
// the project's output goes to device memory.
KernelLaunch KernelEmitter::emitMBConvMma(StringRef name, const ConvShape &s,
                                          int64_t inChannels,
                                          int64_t outChannels,
                                          Activation expandAct, Activation act,
                                          Activation projectAct,
                                          const Elements &types) {
  MLIRContext *ctx = module.getContext();
  Type half = types.filter;
  const int64_t cin = inChannels, oc = outChannels, hc = kHiddenRows;
  const ExpandPatch p =
      *planExpandPatch(s, cin, types.in.getIntOrFloatBitWidth() / 8, oc);
  const int64_t tilesX = ceilDiv(s.ow, p.tw), tilesY = ceilDiv(s.oh, p.th);
  const int64_t rows = projectRows(oc), columns = projectColumns(p.th, p.tw);
  const int64_t stride = projectStride(columns), patch = p.th * p.tw;
  SmallVector<Type> args = expandDepthwiseArguments(ctx, s, cin, types, half);
  args.back() = MemRefType::get({s.n, oc, s.oh, s.ow}, types.out);
  args.insert(args.end() - 1,
              {MemRefType::get({oc, s.c}, half), f32Memref(ctx, {oc})});
  SmallVector<Type> tiles = expandSharedTiles(ctx, p, cin, half);
  tiles.push_back(workgroupMemref(ctx, {rows, hc + 8}, half));
  tiles.push_back(workgroupMemref(ctx, {hc, stride}, half));
  auto func = createKernel(name, args, tiles);
  // The project's accumulators stay live through the expand and the
  // depthwise: blocks of 256 threads get a register budget of 3 blocks per
  // SM (nvvm.minctasm, 85 registers), which keeps the SMs about as full as
  // the expand + depthwise kernel's. Measured on an H200 (bench/RESULTS.md):
  // EfficientNet-B1's 16 -> 96 -> 24 block at batch 64 took 96 registers and
  // 108 us without the budget, 78 and 96 us with it; blocks that spill
  // under it ran slower than unfused, and nn-fuse-mbconv-project's
  // max-expand-macs keeps those apart. (Smaller blocks, as on small maps,
  // spilled under the budget in the odd-shape graphs, and get none.)
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  if (p.threads() == 256)
    func->setAttr("nvvm.minctasm", b.getI32IntegerAttr(3));
  enterKernel(b, func);
  KB k{b};
  // (The depthwise filter and bias, arguments 3 and 4, go to ExpandPhase.
  // Its depthwise loads them from device memory: staging them as the expand
  // + depthwise kernel does took registers that spilled under the budget,
  // 124 bytes in EfficientNet-B1's mbconv2 at batch 64.)
  Value wp = func.getArgument(5), bp = func.getArgument(6);
  Value out = func.getArgument(7);
  Value tileP = func.getWorkgroupAttributions()[3];
  Value dw = func.getWorkgroupAttributions()[4];
  // Grid y is 1: the block runs through the hidden channels itself (its
  // origin's ch0 is 0).
  ExpandPhase expand = makeExpandPhase(k, func, s, p, cin, types, tilesX);
  const FusedBlockOrigin &o = expand.o;
  expand.planChunksAndMask();

  // The warp's project fragments: f = warp + i * warps of the (rows / 16) x
  // (columns / 8) m16n8 tiles; past the last one a warp recomputes the last
  // (its results are not stored), which keeps the MMAs unconditional.
  const int64_t nTiles = columns / 8, fragments = (rows / 16) * nTiles;
  const int64_t warps = p.warps(), perWarp = ceilDiv(fragments, warps);
  struct Fragment {
    Value real, mi, ni;
  };
  SmallVector<Fragment> frags;
  SmallVector<Value> init;
  for (int64_t i = 0; i < perWarp; ++i) {
    Value f = k.add(expand.warp, i * warps);
    Value real = k.lt(f, fragments);
    Value fc = k.sel(real, f, k.c(fragments - 1));
    frags.push_back({real, k.div(fc, nTiles), k.rem(fc, nTiles)});
    SmallVector<Value> rowBias;
    for (int64_t r = 0; r < 2; ++r) {
      Value row = k.add(k.mul(frags.back().mi, 16), k.add(expand.group, 8 * r));
      Value v = k.maskedLoad(k.lt(row, oc), bp, {row});
      rowBias.append({v, v});
    }
    init.push_back(vector::FromElementsOp::create(
        b, VectorType::get({2, 2}, b.getF32Type()), rowBias));
  }

  // With the input in one K slice staged by cp.async, each hidden block's
  // expand filter and input slice are copied while the previous block's
  // project runs (A and B are free by then), and its project filter while
  // its own expand and depthwise run: a block no longer waits on device
  // memory between its hidden blocks. Measured on an H200
  // (bench/RESULTS.md, 2026-12-02): batch 64 0.8% faster, though
  // EfficientNet-B1's mbconv2 spills 8 bytes under its register budget.
  const int64_t hiddenBlocks = ceilDiv(s.c, hc);
  const bool prefetch = expand.asyncStaging() && expand.kPad() == expand.kK();
  auto prefetchHiddenBlock = [&](Value ch0) {
    expand.stageExpandFilter(ch0);
    expand.issueSliceCopies(k.c(0));
    k.commitCopies();
  };
  if (prefetch)
    prefetchHiddenBlock(k.c(0));
  SmallVector<Value> acc =
      k.loop(0, hiddenBlocks, 1, init, [&](Value block, ValueRange a) {
        Value ch0 = k.mul(block, hc);
        gpu::BarrierOp::create(b); // the previous block's project is done
        // The project filter's columns ch0 .. ch0 + 31 (zero past the
        // outputs and the hidden channels), by cp.async in 16-byte pieces:
        // with prefetch, their own group, waited for before the project;
        // else waited for with the expand filter's (stageExpandFilter).
        copyWindowAsync(k, expand.tid, p.threads(), tileP, wp, rows, hc,
                        /*row0=*/Value(), ch0, oc, s.c);
        Value projectCopies;
        if (prefetch) {
          projectCopies = k.commitCopies();
          // All but the newest group: the prefetched filter and slice.
          k.waitCopies(projectCopies, 1);
        } else {
          expand.stageExpandFilter(ch0);
        }
        expand.expandIntoHidden(ch0, expandAct, /*prestaged=*/prefetch);
        // The depthwise outputs of the block's channels as the project's B
        // (zero for channels past the last, whose filter columns are zero
        // too but whose junk could be NaN).
        emitDepthwisePairsFromShared(
            k, s, p, expand.tileB, ch0, o.oy0, o.ox0, /*tapTile=*/Value(),
            expand.wd, expand.bd, expand.tid, act, options.f16DepthwiseMath,
            [&](const DepthwisePair &d) {
              // Zero each value, then round the pair to 16 bits.
              SmallVector<Value, 2> zeroed;
              for (int64_t h = 0; h < 2; ++h) {
                Value v = vector::ExtractOp::create(b, d.pair, h);
                zeroed.push_back(k.sel(d.chOk, v, k.splat(v.getType(), 0.0f)));
              }
              Value pair =
                  vector::FromElementsOp::create(b, d.pair.getType(), zeroed);
              k.vectorStore(k.convert(pair, VectorType::get({2}, half)), dw,
                            {d.j, k.add(d.ox, d.oy * p.tw)});
            });
        if (prefetch)
          k.waitCopies(projectCopies, 0);
        gpu::BarrierOp::create(b);
        // Every thread is done with A and B (the expand, the depthwise):
        // the next hidden block's copies fly during the project.
        if (prefetch)
          k.ifThen(k.lt(k.add(block, 1), hiddenBlocks),
                   [&] { prefetchHiddenBlock(k.add(ch0, hc)); });
        SmallVector<Value> next(a.begin(), a.end());
        for (int64_t ks = 0; ks < hc; ks += 16)
          for (int64_t i = 0; i < perWarp; ++i) {
            Value aFrag = nvgpu::LdMatrixOp::create(
                b, VectorType::get({4, 2}, half), tileP,
                ValueRange{k.add(k.mul(frags[i].mi, 16), expand.lane16),
                           k.add(k.mul(expand.laneHalf, 8), ks)},
                /*transpose=*/false, /*numTiles=*/4);
            Value bFrag =
                loadBFragments(k, dw, ValueRange{}, k.add(expand.lane16, ks),
                               k.mul(frags[i].ni, 8), expand.laneHalf, 1)[0];
            next[i] = nvgpu::MmaSyncOp::create(b, aFrag, bFrag, next[i],
                                               ArrayRef<int64_t>{16, 8, 16},
                                               /*tf32Enabled=*/false);
          }
        return next;
      });

  // Epilogue: fragment element [r][h] is output row mi 16 + group + 8 r at
  // patch position ni 8 + 2 t + h.
  Type outType = cast<MemRefType>(out.getType()).getElementType();
  for (int64_t i = 0; i < perWarp; ++i)
    for (int64_t r = 0; r < 2; ++r) {
      Value row = k.add(k.mul(frags[i].mi, 16), k.add(expand.group, 8 * r));
      Value pos = k.add(k.mul(frags[i].ni, 8), k.mul(expand.t, 2));
      Value y = k.add(o.oy0, k.div(pos, p.tw));
      Value x = k.add(o.ox0, k.rem(pos, p.tw));
      Value ok = k.both(
          k.both(frags[i].real, k.lt(row, oc)),
          k.both(k.lt(pos, patch), k.both(k.lt(y, s.oh), k.lt(x, s.ow))));
      Value v =
          k.activate(vector::ExtractOp::create(b, acc[i], ArrayRef<int64_t>{r}),
                     projectAct);
      // pos is even and tw even: x and x + 1 are in one patch row.
      if (s.ow % 2 == 0) {
        k.ifThen(ok, [&] {
          k.vectorStore(k.convert(v, VectorType::get({2}, outType)), out,
                        {o.n, row, y, x});
        });
        continue;
      }
      Value x1 = k.add(x, 1);
      k.ifThen(ok, [&] {
        k.write(vector::ExtractOp::create(b, v, 0), out, {o.n, row, y, x});
      });
      k.ifThen(k.both(ok, k.lt(x1, s.ow)), [&] {
        k.write(vector::ExtractOp::create(b, v, 1), out, {o.n, row, y, x1});
      });
    }
  return {func, {tilesX * tilesY, 1, s.n}, {p.threads(), 1, 1}};
}

//===----------------------------------------------------------------------===//
// Linear with a pooling / flatten prologue
//===----------------------------------------------------------------------===//

// 8 warps of 2 outputs: enough blocks for the GPU even at batch 1, and two
// independent weight streams per warp.
static constexpr int64_t kWarps = 8, kOutputsPerWarp = 2,
                         kLinearOutputsPerBlock = kWarps * kOutputsPerWarp;

/// Sum of `v` over the 32 lanes of a warp (butterfly through shuffles).
static Value warpSum(ImplicitLocOpBuilder &b, KB &k, Value v) {
  for (int offset = 16; offset > 0; offset /= 2)
    v = k.fadd(v, gpu::ShuffleOp::create(b, v, offset, 32,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult());
  return v;
}

KernelLaunch KernelEmitter::emitLinear(StringRef name, int64_t n, int64_t kDim,
                                       int64_t r, int64_t m,
                                       nn::Prologue prologue,
                                       Activation act,
                                       const Elements &types) {
  MLIRContext *ctx = module.getContext();
  // Images per block: each weight row is read once for all of them.
  int64_t images = linearImagesPerBlock(n, kDim);
  auto func = createKernel(name,
                           {MemRefType::get({n, kDim, r}, types.in),
                            MemRefType::get({m, kDim}, types.filter),
                            f32Memref(ctx, {m}),
                            MemRefType::get({n, m}, types.out)},
                           {workgroupMemref(ctx, {images, kDim})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value in, weight, bias, out;
  std::tie(in, weight, bias, out) = inWeightBiasOut(func);
  Value rows = func.getWorkgroupAttributions()[0];
  Value tid = k.threadId(gpu::Dimension::x);
  Value lane = k.rem(tid, 32), warp = k.div(tid, 32);
  Value img0 = k.mul(k.blockId(gpu::Dimension::y), images);
  Value m0 = k.mul(k.blockId(gpu::Dimension::x), kLinearOutputsPerBlock);
  int64_t threads = kWarps * 32;

  // Prologue: the block's input rows (pooled over R positions) into shared
  // memory, so the pooled vectors never go to device memory. With R >= 32 a
  // warp reduces one channel, lanes reading consecutive positions
  // (coalesced); otherwise a thread handles one channel.
  float scale = prologue == nn::Prologue::global_avg_pool ? 1.0f / r : 1.0f;
  // A flattened input: each thread's loads of every image and channel chunk
  // are issued before any of their stores, so that they are in flight
  // together (a load-store loop waits out one latency per chunk), as long as
  // they are few enough to hold in registers.
  // The block's image i: whether it exists, and its index clamped to 0.
  auto image = [&](int64_t i) {
    Value img = k.add(img0, i);
    Value imgOk = k.lt(img, n);
    return std::make_pair(imgOk, k.sel(imgOk, img, k.c(0)));
  };
  const int64_t chunks = ceilDiv(kDim, threads);
  if (r == 1 && images * chunks <= 32) {
    SmallVector<Value> values;
    for (int64_t i = 0; i < images; ++i) {
      auto [imgOk, imgSafe] = image(i);
      for (int64_t q = 0; q < chunks; ++q) {
        Value ch = k.add(tid, q * threads);
        Value ok = k.both(imgOk, k.lt(ch, kDim));
        values.push_back(k.maskedLoad(ok, in, {imgSafe, ch, k.c(0)}));
      }
    }
    for (int64_t i = 0; i < images; ++i)
      for (int64_t q = 0; q < chunks; ++q) {
        Value ch = k.add(tid, q * threads);
        auto store = [&] {
          k.store(values[i * chunks + q], rows, {k.c(i), ch});
        };
        if ((q + 1) * threads <= kDim)
          store();
        else
          k.ifThen(k.lt(ch, kDim), store);
      }
  } else {
    for (int64_t i = 0; i < images; ++i) {
      auto [imgOk, imgSafe] = image(i);
      if (r >= 32) {
        k.loop(0, kDim, kWarps, [&](Value base) {
          Value ch = k.add(base, warp);
          Value chOk = k.lt(ch, kDim);
          Value partial =
              k.loop(0, ceilDiv(r, 32) * 32, 32, {k.f(0.0f)},
                     [&](Value q0, ValueRange a) {
                       Value q = k.add(q0, lane);
                       Value ok = k.both(k.both(chOk, imgOk), k.lt(q, r));
                       Value v = k.maskedLoad(ok, in, {imgSafe, ch, q});
                       return SmallVector<Value>{k.fadd(a[0], v)};
                     })[0];
          Value sum = warpSum(b, k, partial);
          k.ifThen(chOk, [&] {
            k.store(k.fmul(sum, k.f(scale)), rows, {k.c(i), ch});
          });
        });
      } else {
        k.loop(0, ceilDiv(kDim, threads) * threads, threads, [&](Value base) {
          Value ch = k.add(base, tid);
          k.ifThen(k.lt(ch, kDim), [&] {
            Value sum =
                k.loop(0, r, 1, {k.f(0.0f)}, [&](Value q, ValueRange a) {
                  Value v = k.maskedLoad(imgOk, in, {imgSafe, ch, q});
                  return SmallVector<Value>{k.fadd(a[0], v)};
                })[0];
            k.store(k.fmul(sum, k.f(scale)), rows, {k.c(i), ch});
          });
        });
      }
    }
  }
  gpu::BarrierOp::create(b);

  // Each warp computes kOutputsPerWarp outputs together: lanes stride over
  // K (coalesced weight reads, each weight used for every image of the
  // block), the outputs' loads are independent and overlap, then
  // warp-shuffle sums.
  SmallVector<Value> outs, valids, safe;
  for (int64_t jo = 0; jo < kOutputsPerWarp; ++jo) {
    Value o = k.add(k.add(m0, k.mul(warp, kOutputsPerWarp)), jo);
    outs.push_back(o);
    valids.push_back(k.lt(o, m));
    safe.push_back(k.sel(valids.back(), o, k.c(0)));
  }
  // A lane reads lv consecutive weights (up to 16 bytes) and row values.
  const int64_t wBytes = types.filter.getIntOrFloatBitWidth() / 8;
  int64_t lv = 1;
  for (int64_t v = 16 / wBytes; v > 1; v /= 2)
    if (kDim % v == 0) {
      lv = v;
      break;
    }
  SmallVector<Value> init(images * kOutputsPerWarp, k.f(0.0f));
  // A short loop (up to 8 rounds: K of 2048 halves) is unrolled, so that
  // all of a lane's weight loads are in flight at once.
  const int64_t rounds = ceilDiv(kDim, 32 * lv);
  auto kLoop = [&](auto body) {
    return rounds <= 8
               ? k.unrolledLoop(0, rounds * 32 * lv, 32 * lv, init, body)
               : k.loop(0, rounds * 32 * lv, 32 * lv, init, body);
  };
  SmallVector<Value> partial =
      kLoop([&](Value base, ValueRange a) -> SmallVector<Value> {
        Value kk = k.add(base, k.mul(lane, lv));
        Value ok = k.lt(kk, kDim);
        SmallVector<SmallVector<Value>> xs;
        for (int64_t i = 0; i < images; ++i)
          xs.push_back(k.maskedVectorRead(ok, rows, {k.c(i), kk}, lv));
        SmallVector<Value> next(a.begin(), a.end());
        for (int64_t jo = 0; jo < kOutputsPerWarp; ++jo) {
          SmallVector<Value> w =
              k.maskedVectorRead(ok, weight, {safe[jo], kk}, lv);
          for (int64_t i = 0; i < images; ++i)
            for (int64_t e = 0; e < lv; ++e)
              next[jo * images + i] =
                  k.fma(next[jo * images + i], xs[i][e], w[e]);
        }
        return next;
      });
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane,
                                      k.c(0));
  for (int64_t jo = 0; jo < kOutputsPerWarp; ++jo)
    for (int64_t i = 0; i < images; ++i) {
      Value sum = warpSum(b, k, partial[jo * images + i]);
      Value img = k.add(img0, i);
      k.ifThen(k.both(k.both(first, valids[jo]), k.lt(img, n)), [&] {
        k.write(k.activate(k.fadd(sum, k.load(bias, {outs[jo]})), act), out,
                {img, outs[jo]});
      });
    }
  return {func,
          {ceilDiv(m, kLinearOutputsPerBlock), ceilDiv(n, images), 1},
          {threads, 1, 1}};
}

int64_t ptxnet::kernels::linearImagesPerBlock(int64_t n, int64_t kDim) {
  // Up to 4 images, within 48 KB of static shared memory.
  int64_t images = std::min<int64_t>(n, 4);
  while (images > 1 && images * kDim * 4 > 48 * 1024)
    --images;
  return images;
}

//===----------------------------------------------------------------------===//
// Linear layer on tensor cores, fragments straight from device memory
//===----------------------------------------------------------------------===//

// A GEMV-sized product (M outputs x a few images x K) gives a tiled GEMM a
// fraction of one tile and its shared-memory staging nothing to reuse. Here
// each warp loads its mma.sync fragments directly: A (the weight rows) in 16-
// byte pieces of 8 halves, B (the input rows) in 16-byte pieces of 4 floats,
// all of a group's loads issued before its MMAs. The warps of a block split K
// and add their partial sums once, in shared memory. The layer is bound by
// the latency of its loads, so a block has many warps of 2 rounds each (on
// an H200, 20 warps beat 8 and 16 at batch 1, 10 and 64: bench/RESULTS.md),
// as many as the partial sums of 32 images leave room for in 48 KB.
static constexpr int64_t kLinearMmaMaxWarps = 20, kLinearMmaRoundsPerWarp = 2,
                         kLinearMmaMaxImageTiles = 4,
                         kLinearMmaLoadsPerGroup = 16,
                         kLinearMmaUnrolledGroups = 8;

bool ptxnet::kernels::linearOnFragments(int64_t kDim, Type in, Type weight) {
  auto isHalfType = [](Type t) { return t.isF16() || t.isBF16(); };
  return kDim % 32 == 0 && isHalfType(weight) && (in.isF32() || in == weight);
}

KernelLaunch KernelEmitter::emitLinearMma(StringRef name, int64_t n,
                                          int64_t kDim, int64_t m,
                                          Activation act,
                                          const Elements &types) {
  assert(linearOnFragments(kDim, types.in, types.filter) &&
         "shape the fragment linear does not take");
  MLIRContext *ctx = module.getContext();
  const Type half = types.filter;
  const bool floatInput = types.in.isF32();
  // A block: 16 outputs (one m16 fragment row block) x up to 32 images (n8
  // fragments), its warps taking every warps-th 32-wide K chunk.
  static_assert(kLinearMmaMaxWarps * 16 * (8 * kLinearMmaMaxImageTiles + 4) *
                        4 <=
                    48 * 1024,
                "the partial sums must fit in static shared memory");
  // Fewer images a block while that still leaves SMs without one: each
  // block then streams the same weight rows for fewer images, but more of
  // the weights stream at once (1000 outputs are 63 blocks of 16).
  int64_t imageTiles = std::min(kLinearMmaMaxImageTiles, ceilDiv(n, 8));
  while (imageTiles > 1 &&
         ceilDiv(m, 16) * ceilDiv(n, 8 * imageTiles) < options.tuning.sms)
    imageTiles = ceilDiv(imageTiles, 2);
  const int64_t images = 8 * imageTiles;
  const int64_t chunks = kDim / 32;
  const int64_t warps =
      std::min(kLinearMmaMaxWarps, ceilDiv(chunks, kLinearMmaRoundsPerWarp));
  const int64_t rounds = ceilDiv(chunks, warps);
  // Partial sums, rows padded by 4 floats against bank conflicts.
  const int64_t sumCols = images + 4;
  auto func = createKernel(
      name,
      {MemRefType::get({n, kDim}, types.in), MemRefType::get({m, kDim}, half),
       f32Memref(ctx, {m}), MemRefType::get({n, m}, types.out)},
      {workgroupMemref(ctx, {warps, 16, sumCols})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value in, weight, bias, out;
  std::tie(in, weight, bias, out) = inWeightBiasOut(func);
  Value sums = func.getWorkgroupAttributions()[0];
  Value tid = k.threadId(gpu::Dimension::x);
  Value lane = k.rem(tid, 32), warp = k.div(tid, 32);
  Value group = k.div(lane, 4), t = k.rem(lane, 4);
  Value o0 = k.mul(k.blockId(gpu::Dimension::x), 16);
  Value img0 = k.mul(k.blockId(gpu::Dimension::y), images);

  // Rows past M and images past N read row (image) 0: their results are
  // never stored.
  auto clamped = [&](Value i, int64_t bound) {
    return k.sel(k.lt(i, bound), i, k.c(0));
  };
  Value rowA[2] = {clamped(k.add(o0, group), m),
                   clamped(k.add(k.add(o0, group), 8), m)};
  SmallVector<Value> rowB;
  for (int64_t ni = 0; ni < imageTiles; ++ni)
    rowB.push_back(clamped(k.add(k.add(img0, ni * 8), group), n));

  // K order within a chunk: an mma's K index 2t + {0, 1} and 2t + 8 + {0, 1}
  // (the fragment layout) is taken as K element 8t + 4 ks + {0, 1} and
  // {2, 3} of the chunk, in A and in B alike. The dot product is the same,
  // and each lane's share of a chunk is 8 adjacent elements: one 16-byte
  // load of a weight row, two of an input row.
  auto f32 = b.getF32Type();
  struct Loaded {
    Value a[2];           // a vector<8 x half> per A row
    SmallVector<Value> b; // per image tile: 2 vector<4xf32> or 1 vector<8 x
                          // half>
  };
  // Round `round` (an index value) of the warp; only the last round can run
  // past the chunks, and only if the warps do not divide them.
  auto loadRound = [&](Value round, bool last) {
    Value chunk = k.add(warp, k.mul(round, warps));
    Value ok = last && chunks % warps ? k.lt(chunk, chunks) : Value();
    Value kk = k.add(k.mul(chunk, 32), k.mul(t, 8));
    auto load = [&](Value m, Value row, Value col, int64_t width) {
      if (ok)
        return k.maskedVectorLoad(ok, m, {row, col}, width);
      return k.vectorLoad(
          VectorType::get({width},
                          cast<MemRefType>(m.getType()).getElementType()),
          m, {row, col});
    };
    Loaded l;
    for (int r = 0; r < 2; ++r)
      l.a[r] = load(weight, rowA[r], kk, 8);
    for (int64_t ni = 0; ni < imageTiles; ++ni) {
      if (floatInput) {
        l.b.push_back(load(in, rowB[ni], kk, 4));
        l.b.push_back(load(in, rowB[ni], k.add(kk, 4), 4));
      } else {
        l.b.push_back(load(in, rowB[ni], kk, 8));
      }
    }
    return l;
  };
  // Fragments are built from 16-bit pairs (shuffles of the loaded vectors),
  // row by row: n-D vectors only through insert/extract, which lower to LLVM
  // arrays.
  auto pair = [&](Value v, int64_t at) {
    return vector::ShuffleOp::create(b, v, v, ArrayRef<int64_t>{at, at + 1});
  };
  auto fragment = [&](ArrayRef<Value> pairs) {
    Value frag =
        k.splat(VectorType::get({int64_t(pairs.size()), 2}, half), 0.0f);
    for (auto [i, p] : llvm::enumerate(pairs))
      frag = vector::InsertOp::create(b, p, frag, int64_t(i));
    return frag;
  };
  auto multiplyRound = [&](const Loaded &l, SmallVector<Value> &acc) {
    for (int64_t ks = 0; ks < 2; ++ks) {
      // a0a1 = row g, a2a3 = row g + 8, a4a5 and a6a7 their next K pair.
      Value aFrag =
          fragment({pair(l.a[0], 4 * ks), pair(l.a[1], 4 * ks),
                    pair(l.a[0], 4 * ks + 2), pair(l.a[1], 4 * ks + 2)});
      for (int64_t ni = 0; ni < imageTiles; ++ni) {
        SmallVector<Value> bFrags;
        if (floatInput) {
          // The input rounded to half as hi + lo (hi = half(x), lo =
          // half(x - hi)): two MMAs carry x to 22 significant bits (16 in
          // bf16), where one would round the pooled features to half (the
          // measured errors are those of the CUDA-core kernel's float32
          // rows).
          Value x = l.b[2 * ni + ks];
          auto vec4 = VectorType::get({4}, half);
          Value hi = k.convert(x, vec4);
          Value lo = k.convert(
              arith::SubFOp::create(b, x, k.convert(hi, x.getType())), vec4);
          for (Value v : {hi, lo})
            bFrags.push_back(fragment({pair(v, 0), pair(v, 2)}));
        } else {
          bFrags.push_back(
              fragment({pair(l.b[ni], 4 * ks), pair(l.b[ni], 4 * ks + 2)}));
        }
        for (Value bFrag : bFrags)
          acc[ni] = nvgpu::MmaSyncOp::create(b, aFrag, bFrag, acc[ni],
                                             ArrayRef<int64_t>{16, 8, 16},
                                             /*tf32Enabled=*/false);
      }
    }
  };

  auto accType = VectorType::get({2, 2}, f32);
  SmallVector<Value> acc(imageTiles, k.splat(accType, 0.0f));
  // Rounds go in groups of at most 16 loads per lane (64 registers), each
  // group's loads before its MMAs, unrolled. Past kLinearMmaUnrolledGroups
  // groups (a float32 input of more than 20480 features at batch 1 to 8,
  // 10240 at 9 to 16) the groups of whole rounds run in a loop that carries
  // the accumulators, and the rest after it.
  const int64_t loadsPerRound = 2 + imageTiles * (floatInput ? 2 : 1);
  const int64_t perGroup =
      std::max<int64_t>(1, kLinearMmaLoadsPerGroup / loadsPerRound);
  auto runGroup = [&](Value r0, int64_t count, bool last) {
    SmallVector<Loaded> loaded;
    for (int64_t r = 0; r < count; ++r)
      loaded.push_back(loadRound(k.add(r0, r), last && r + 1 == count));
    for (const Loaded &l : loaded)
      multiplyRound(l, acc);
  };
  int64_t r0 = 0;
  if (ceilDiv(rounds, perGroup) > kLinearMmaUnrolledGroups) {
    const int64_t loopRounds = (rounds - 1) / perGroup * perGroup;
    acc =
        k.loop(0, loopRounds, perGroup, acc, [&](Value r, ValueRange carried) {
          acc.assign(carried.begin(), carried.end());
          runGroup(r, perGroup, /*last=*/false);
          return acc;
        });
    r0 = loopRounds;
  }
  for (; r0 < rounds; r0 += perGroup) {
    int64_t count = std::min(perGroup, rounds - r0);
    runGroup(k.c(r0), count, r0 + count == rounds);
  }

  // Partial sums to shared memory: fragment element [i][j] of image tile ni
  // is output row group + 8 i, image 8 ni + 2 t + j.
  for (int64_t ni = 0; ni < imageTiles; ++ni)
    for (int64_t i = 0; i < 2; ++i)
      k.vectorStore(vector::ExtractOp::create(b, acc[ni], i), sums,
                    {warp, k.add(group, 8 * i), k.add(k.mul(t, 2), ni * 8)});
  gpu::BarrierOp::create(b);
  // Then thread e of the block sums output o0 + e % 16 of image e / 16 over
  // the warps (adjacent threads, adjacent outputs of one image: coalesced).
  const int64_t threads = 32 * warps, total = 16 * images;
  for (int64_t base = 0; base < total; base += threads) {
    Value e = k.add(tid, base);
    Value row = k.rem(e, 16), col = k.div(e, 16);
    Value o = k.add(o0, row), img = k.add(img0, col);
    Value ok = k.both(k.lt(o, m), k.lt(img, n));
    if (base + threads > total)
      ok = k.both(ok, k.lt(e, total));
    k.ifThen(ok, [&] {
      Value sum = k.load(bias, {o});
      for (int64_t w = 0; w < warps; ++w)
        sum = k.fadd(sum, k.load(sums, {k.c(w), row, col}));
      k.write(k.activate(sum, act), out, {img, o});
    });
  }
  return {func, {ceilDiv(m, 16), ceilDiv(n, images), 1}, {threads, 1, 1}};
}

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
  KB k{b};
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
