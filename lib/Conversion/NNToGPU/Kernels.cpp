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
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;
using nn::Activation;

ConvShape ConvShape::get(nn::FusedConv2DOp op) {
  auto in = op.getInput().getType().getShape();
  auto w = op.getFilter().getType().getShape();
  auto out = op.getResult().getType().getShape();
  return ConvShape{in[0],  in[1],  in[2],  in[3],  w[0],
                   w[1],   w[2],   w[3],   out[2], out[3],
                   op.getStrides()[0], op.getStrides()[1],
                   op.getPadding()[0], op.getPadding()[1],
                   int64_t(op.getGroups())};
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

namespace {
/// Terse index and float arithmetic on an ImplicitLocOpBuilder, so the kernel
/// bodies below read like the loops they are.
struct KB {
  ImplicitLocOpBuilder &b;
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f(float v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
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
  Value fma(Value acc, Value x, Value y) { return fadd(acc, fmul(x, y)); }
  Value load(Value m, ValueRange idx) {
    return memref::LoadOp::create(b, m, idx);
  }
  void store(Value v, Value m, ValueRange idx) {
    memref::StoreOp::create(b, v, m, idx);
  }
  /// Load m[idx] where `valid`, else 0; the address is clamped to element 0
  /// so that no lane reads out of bounds.
  Value maskedLoad(Value valid, Value m, ArrayRef<Value> idx) {
    SmallVector<Value> safe;
    for (Value i : idx)
      safe.push_back(sel(valid, i, c(0)));
    return sel(valid, load(m, safe), f(0.0f));
  }
  Value activate(Value x, Activation act) {
    if (act == Activation::none)
      return x;
    x = arith::MaximumFOp::create(b, x, f(0.0f));
    if (act == Activation::relu6)
      x = arith::MinimumFOp::create(b, x, f(6.0f));
    return x;
  }
  Value threadId(gpu::Dimension d) { return gpu::ThreadIdOp::create(b, d); }
  Value blockId(gpu::Dimension d) { return gpu::BlockIdOp::create(b, d); }
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
  builder.setInsertionPointToEnd(&func.getBody().front());
  gpu::ReturnOp::create(builder, module.getLoc());
  return func;
}

/// Sets `b` before the kernel's gpu.return.
static void enterKernel(ImplicitLocOpBuilder &b, gpu::GPUFuncOp func) {
  b.setInsertionPoint(func.getBody().front().getTerminator());
}

static MemRefType f32Memref(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return MemRefType::get(shape, Float32Type::get(ctx));
}

static MemRefType workgroupMemref(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  auto space = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  return MemRefType::get(shape, Float32Type::get(ctx), MemRefLayoutAttrInterface{},
                         space);
}

//===----------------------------------------------------------------------===//
// Direct convolution
//===----------------------------------------------------------------------===//

KernelLaunch KernelEmitter::emitDirectConv(StringRef name, const ConvShape &s,
                                           Activation act) {
  MLIRContext *ctx = module.getContext();
  auto func = createKernel(
      name, {f32Memref(ctx, {s.n, s.c, s.h, s.w}),
             f32Memref(ctx, {s.oc, s.icg, s.kh, s.kw}), f32Memref(ctx, {s.oc}),
             f32Memref(ctx, {s.n, s.oc, s.oh, s.ow})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value in = func.getArgument(0), filter = func.getArgument(1),
        bias = func.getArgument(2), out = func.getArgument(3);

  int64_t total = s.n * s.oc * s.oh * s.ow;
  Value idx = k.add(k.mul(k.blockId(gpu::Dimension::x), blockSize),
                    k.threadId(gpu::Dimension::x));
  k.ifThen(k.lt(idx, total), [&] {
    // NCHW output order: consecutive threads write consecutive columns.
    Value ox = k.rem(idx, s.ow);
    Value t = k.div(idx, s.ow);
    Value oy = k.rem(t, s.oh);
    t = k.div(t, s.oh);
    Value o = k.rem(t, s.oc);
    Value n = k.div(t, s.oc);
    Value group = k.div(o, s.oc / s.groups);
    Value y0 = k.sub(k.mul(oy, s.sh), k.c(s.pt));
    Value x0 = k.sub(k.mul(ox, s.sw), k.c(s.pl));
    Value acc = k.loop(0, s.icg, 1, {k.f(0.0f)}, [&](Value ci, ValueRange a) {
      Value ch = k.add(k.mul(group, s.icg), ci);
      Value sum = a[0];
      // The window is small and static: unrolled here, so each tap is a
      // constant offset from the same base address.
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        Value y = k.add(y0, ky);
        Value rowOk = k.both(k.ge0(y), k.lt(y, s.h));
        for (int64_t kx = 0; kx < s.kw; ++kx) {
          Value x = k.add(x0, kx);
          Value ok = k.both(rowOk, k.both(k.ge0(x), k.lt(x, s.w)));
          Value v = k.maskedLoad(ok, in, {n, ch, y, x});
          Value wv = k.load(filter, {o, ci, k.c(ky), k.c(kx)});
          sum = k.fma(sum, v, wv);
        }
      }
      return SmallVector<Value>{sum};
    })[0];
    Value r = k.activate(k.fadd(acc, k.load(bias, {o})), act);
    k.store(r, out, {n, o, oy, ox});
  });
  return {func, {ceilDiv(total, blockSize), 1, 1}, {blockSize, 1, 1}};
}

//===----------------------------------------------------------------------===//
// Pointwise convolution as a tiled GEMM
//===----------------------------------------------------------------------===//

// A 64 (output channels) x 64 (pixels) tile per block of 16 x 16 threads,
// each thread a 4 x 4 sub-tile; K (input channels) in steps of 16 staged in
// shared memory, so each loaded value is reused 64 times from shared memory
// instead of re-read from L2.
static constexpr int64_t kTileM = 64, kTileN = 64, kTileK = 16, kSub = 4;

KernelLaunch KernelEmitter::emitPointwiseGemm(StringRef name,
                                              const ConvShape &s,
                                              Activation act) {
  MLIRContext *ctx = module.getContext();
  int64_t p = s.h * s.w;
  auto func = createKernel(
      name,
      {f32Memref(ctx, {s.n, s.c, p}), f32Memref(ctx, {s.oc, s.c}),
       f32Memref(ctx, {s.oc}), f32Memref(ctx, {s.n, s.oc, p})},
      {workgroupMemref(ctx, {kTileK, kTileM}),
       workgroupMemref(ctx, {kTileK, kTileN})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value in = func.getArgument(0), filter = func.getArgument(1),
        bias = func.getArgument(2), out = func.getArgument(3);
  Value tileA = func.getWorkgroupAttributions()[0];
  Value tileB = func.getWorkgroupAttributions()[1];

  Value tx = k.threadId(gpu::Dimension::x); // 0..15 over pixels
  Value ty = k.threadId(gpu::Dimension::y); // 0..15 over channels
  Value p0 = k.mul(k.blockId(gpu::Dimension::x), kTileN);
  Value o0 = k.mul(k.blockId(gpu::Dimension::y), kTileM);
  Value n = k.blockId(gpu::Dimension::z);
  Value tid = k.add(k.mul(ty, 16), tx);

  SmallVector<Value> init(kSub * kSub, k.f(0.0f));
  SmallVector<Value> acc = k.loop(
      0, s.c, kTileK, init, [&](Value c0, ValueRange a) {
        // Stage A[kk][m] = W[o0 + m][c0 + kk] and B[kk][q] = X[n][c0+kk][p0+q]:
        // 1024 values each, 4 per thread. Threads of a warp read consecutive
        // pixels of B (coalesced); A is small and stays in L1/L2.
        for (int64_t r = 0; r < kTileK * kTileM / 256; ++r) {
          Value e = k.add(tid, r * 256);
          Value kk = k.div(e, kTileM), m = k.rem(e, kTileM);
          Value o = k.add(o0, m), ch = k.add(c0, kk);
          Value ok = k.both(k.lt(o, s.oc), k.lt(ch, s.c));
          k.store(k.maskedLoad(ok, filter, {o, ch}), tileA, {kk, m});
          Value kb = k.div(e, kTileN), q = k.rem(e, kTileN);
          Value px = k.add(p0, q), chb = k.add(c0, kb);
          Value okb = k.both(k.lt(px, p), k.lt(chb, s.c));
          k.store(k.maskedLoad(okb, in, {n, chb, px}), tileB, {kb, q});
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
  for (int64_t i = 0; i < kSub; ++i) {
    Value o = k.add(k.add(o0, k.mul(ty, kSub)), i);
    k.ifThen(k.lt(o, s.oc), [&] {
      Value bo = k.load(bias, {o});
      for (int64_t j = 0; j < kSub; ++j) {
        Value px = k.add(k.add(p0, k.mul(tx, kSub)), j);
        k.ifThen(k.lt(px, p), [&] {
          k.store(k.activate(k.fadd(acc[i * kSub + j], bo), act), out,
                  {n, o, px});
        });
      }
    });
  }
  return {func, {ceilDiv(p, kTileN), ceilDiv(s.oc, kTileM), s.n}, {16, 16, 1}};
}

//===----------------------------------------------------------------------===//
// Pointwise convolution on tensor cores (tf32)
//===----------------------------------------------------------------------===//

// Block tile TM (channels) x TN (pixels), four warps of 32x32 each (2 x 4
// m16n8 fragments), K staged 16 at a time. Shared-memory rows are padded
// (A: 16 -> 20, B: 64/128 -> +8 floats) so that the fragment loads, where
// lane = 4 * group + t reads A[group][t] and B[t][group], hit 32 distinct
// banks.
KernelLaunch KernelEmitter::emitPointwiseGemmTF32(StringRef name,
                                                  const ConvShape &s,
                                                  Activation act) {
  MLIRContext *ctx = module.getContext();
  const int64_t p = s.h * s.w, kK = 16, kPadA = 20;
  // Narrow layers (<= 32 output channels) use a 32 x 128 tile so that no
  // warp computes rows that do not exist.
  const int64_t tm = s.oc <= 32 ? 32 : 64, tn = 128 * 64 / (tm * 2) ;
  const int64_t warpsN = tn / 32, kPadB = tn + 8;
  auto func = createKernel(
      name,
      {f32Memref(ctx, {s.n, s.c, p}), f32Memref(ctx, {s.oc, s.c}),
       f32Memref(ctx, {s.oc}), f32Memref(ctx, {s.n, s.oc, p})},
      {workgroupMemref(ctx, {tm, kPadA}), workgroupMemref(ctx, {kK, kPadB})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value in = func.getArgument(0), filter = func.getArgument(1),
        bias = func.getArgument(2), out = func.getArgument(3);
  Value tileA = func.getWorkgroupAttributions()[0];
  Value tileB = func.getWorkgroupAttributions()[1];

  Value tid = k.threadId(gpu::Dimension::x); // 128 threads, 4 warps
  Value lane = k.rem(tid, 32), warp = k.div(tid, 32);
  Value group = k.div(lane, 4), t = k.rem(lane, 4);
  Value warpM = k.mul(k.div(warp, warpsN), 32);
  Value warpN = k.mul(k.rem(warp, warpsN), 32);
  Value p0 = k.mul(k.blockId(gpu::Dimension::x), tn);
  Value o0 = k.mul(k.blockId(gpu::Dimension::y), tm);
  Value n = k.blockId(gpu::Dimension::z);

  auto accType = VectorType::get({2, 2}, b.getF32Type());
  Value zero = arith::ConstantOp::create(
      b, accType, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0f)));
  SmallVector<Value> init(2 * 4, zero); // [mi][ni], 2 x 4 fragments
  SmallVector<Value> acc = k.loop(0, s.c, kK, init, [&](Value c0,
                                                       ValueRange a) {
    // Stage A[m][kk] = W[o0 + m][c0 + kk] and B[kk][q] = X[n][c0 + kk][p0 + q].
    for (int64_t r = 0; r < tm * kK / 128; ++r) {
      Value e = k.add(tid, r * 128);
      Value m = k.div(e, kK), kk = k.rem(e, kK);
      Value o = k.add(o0, m), ch = k.add(c0, kk);
      Value ok = k.both(k.lt(o, s.oc), k.lt(ch, s.c));
      k.store(k.maskedLoad(ok, filter, {o, ch}), tileA, {m, kk});
    }
    for (int64_t r = 0; r < kK * tn / 128; ++r) {
      Value e = k.add(tid, r * 128);
      Value kk = k.div(e, tn), q = k.rem(e, tn);
      Value px = k.add(p0, q), ch = k.add(c0, kk);
      Value ok = k.both(k.lt(px, p), k.lt(ch, s.c));
      k.store(k.maskedLoad(ok, in, {n, ch, px}), tileB, {kk, q});
    }
    gpu::BarrierOp::create(b);
    SmallVector<Value> next(a.begin(), a.end());
    for (int64_t ks = 0; ks < kK; ks += 8) {
      SmallVector<Value> aFrag, bFrag;
      for (int64_t mi = 0; mi < 2; ++mi) {
        Value row = k.add(k.add(warpM, mi * 16), group);
        Value col = k.add(t, ks);
        SmallVector<Value> e = {
            k.load(tileA, {row, col}), k.load(tileA, {k.add(row, 8), col}),
            k.load(tileA, {row, k.add(col, 4)}),
            k.load(tileA, {k.add(row, 8), k.add(col, 4)})};
        aFrag.push_back(vector::FromElementsOp::create(
            b, VectorType::get({4, 1}, b.getF32Type()), e));
      }
      for (int64_t ni = 0; ni < 4; ++ni) {
        Value colB = k.add(k.add(warpN, ni * 8), group);
        Value rowB = k.add(t, ks);
        SmallVector<Value> e = {k.load(tileB, {rowB, colB}),
                                k.load(tileB, {k.add(rowB, 4), colB})};
        bFrag.push_back(vector::FromElementsOp::create(
            b, VectorType::get({2, 1}, b.getF32Type()), e));
      }
      for (int64_t mi = 0; mi < 2; ++mi)
        for (int64_t ni = 0; ni < 4; ++ni)
          next[mi * 4 + ni] = nvgpu::MmaSyncOp::create(
              b, aFrag[mi], bFrag[ni], next[mi * 4 + ni],
              ArrayRef<int64_t>{16, 8, 8}, /*tf32Enabled=*/true);
    }
    gpu::BarrierOp::create(b);
    return next;
  });

  // Epilogue: fragment element (i, j) of tile (mi, ni) is output channel
  // o0 + warpM + 16 mi + group + 8 i, pixel p0 + warpN + 8 ni + 2 t + j.
  for (int64_t mi = 0; mi < 2; ++mi)
    for (int64_t i = 0; i < 2; ++i) {
      Value o = k.add(k.add(o0, warpM), mi * 16 + i * 8);
      o = k.add(o, group);
      k.ifThen(k.lt(o, s.oc), [&] {
        Value bo = k.load(bias, {o});
        for (int64_t ni = 0; ni < 4; ++ni)
          for (int64_t j = 0; j < 2; ++j) {
            Value px = k.add(k.add(k.add(p0, warpN), ni * 8 + j),
                             k.mul(t, 2));
            k.ifThen(k.lt(px, p), [&] {
              Value v = vector::ExtractOp::create(b, acc[mi * 4 + ni],
                                                  ArrayRef<int64_t>{i, j});
              k.store(k.activate(k.fadd(v, bo), act), out, {n, o, px});
            });
          }
      });
    }
  return {func, {ceilDiv(p, tn), ceilDiv(s.oc, tm), s.n}, {128, 1, 1}};
}

//===----------------------------------------------------------------------===//
// Linear with a pooling / flatten prologue
//===----------------------------------------------------------------------===//

static constexpr int64_t kLinearOutputsPerBlock = 64, kWarps = 8;

KernelLaunch KernelEmitter::emitLinear(StringRef name, int64_t n, int64_t kDim,
                                       int64_t r, int64_t m,
                                       nn::Prologue prologue,
                                       Activation act) {
  MLIRContext *ctx = module.getContext();
  auto func = createKernel(name,
                           {f32Memref(ctx, {n, kDim, r}),
                            f32Memref(ctx, {m, kDim}), f32Memref(ctx, {m}),
                            f32Memref(ctx, {n, m})},
                           {workgroupMemref(ctx, {kDim})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value in = func.getArgument(0), weight = func.getArgument(1),
        bias = func.getArgument(2), out = func.getArgument(3);
  Value row = func.getWorkgroupAttributions()[0];
  Value tid = k.threadId(gpu::Dimension::x);
  Value img = k.blockId(gpu::Dimension::y);
  Value m0 = k.mul(k.blockId(gpu::Dimension::x), kLinearOutputsPerBlock);
  int64_t threads = kWarps * 32;

  // Prologue: the image's input row (pooled over R positions) into shared
  // memory, so the pooled vector never goes to device memory.
  float scale = prologue == nn::Prologue::global_avg_pool ? 1.0f / r : 1.0f;
  k.loop(0, ceilDiv(kDim, threads) * threads, threads, [&](Value base) {
    Value kk = k.add(base, tid);
    k.ifThen(k.lt(kk, kDim), [&] {
      Value sum = k.loop(0, r, 1, {k.f(0.0f)}, [&](Value q, ValueRange a) {
        return SmallVector<Value>{k.fadd(a[0], k.load(in, {img, kk, q}))};
      })[0];
      k.store(k.fmul(sum, k.f(scale)), row, {kk});
    });
  });
  gpu::BarrierOp::create(b);

  // One warp per output: lanes stride over K (coalesced weight reads), then
  // a butterfly reduction through warp shuffles.
  Value lane = k.rem(tid, 32), warp = k.div(tid, 32);
  for (int64_t j = 0; j < kLinearOutputsPerBlock / kWarps; ++j) {
    Value o = k.add(k.add(m0, k.mul(warp, kLinearOutputsPerBlock / kWarps)), j);
    Value valid = k.lt(o, m);
    Value oc = k.sel(valid, o, k.c(0));
    Value partial =
        k.loop(0, ceilDiv(kDim, 32) * 32, 32, {k.f(0.0f)},
               [&](Value base, ValueRange a) {
                 Value kk = k.add(base, lane);
                 Value ok = k.lt(kk, kDim);
                 Value x = k.maskedLoad(ok, row, {kk});
                 Value w = k.maskedLoad(ok, weight, {oc, kk});
                 return SmallVector<Value>{k.fma(a[0], x, w)};
               })[0];
    for (int offset = 16; offset > 0; offset /= 2) {
      Value other =
          gpu::ShuffleOp::create(b, partial, offset, 32, gpu::ShuffleMode::XOR)
              .getShuffleResult();
      partial = k.fadd(partial, other);
    }
    Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane,
                                        k.c(0));
    k.ifThen(k.both(first, valid), [&] {
      k.store(k.activate(k.fadd(partial, k.load(bias, {o})), act), out,
              {img, o});
    });
  }
  return {func, {ceilDiv(m, kLinearOutputsPerBlock), n, 1}, {threads, 1, 1}};
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

KernelLaunch KernelEmitter::emitElementwise(StringRef name, int64_t numElements,
                                            Elementwise kind) {
  MLIRContext *ctx = module.getContext();
  auto flat = f32Memref(ctx, {numElements});
  bool unary = kind == Elementwise::sigmoid;
  SmallVector<Type> args(unary ? 2 : 3, flat);
  auto func = createKernel(name, args);
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KB k{b};
  Value idx = k.add(k.mul(k.blockId(gpu::Dimension::x), blockSize),
                    k.threadId(gpu::Dimension::x));
  k.ifThen(k.lt(idx, numElements), [&] {
    Value x = k.load(func.getArgument(0), {idx});
    Value r;
    switch (kind) {
    case Elementwise::add:
      r = k.fadd(x, k.load(func.getArgument(1), {idx}));
      break;
    case Elementwise::mul:
      r = k.fmul(x, k.load(func.getArgument(1), {idx}));
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
    k.store(r, func.getArgument(unary ? 1 : 2), {idx});
  });
  return {func, {ceilDiv(numElements, blockSize), 1, 1}, {blockSize, 1, 1}};
}
