//===- PointwiseGemm.cpp - 1x1 convolutions as GEMMs ----------------------===//
//
// 1x1 convolutions as tiled GEMMs: float32 FMA, and on tensor cores
// (mma.sync tf32, f16, bf16) with ldmatrix, cp.async rings and a depthwise
// or pooling epilogue; planMmaGemm cuts each layer.
//
// The kernels are built with scf/arith/memref on static shapes, so every index
// computation folds to constants and strength-reduced arithmetic in the PTX.
// Out-of-range loads are clamped and masked with `select` rather than
// branched around, which keeps warps converged.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include <algorithm>

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;

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
  KernelBuilder k{b};
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
  SmallVector<Value> acc =
      k.loop(0, chunk, kTileK, init, [&](Value kOff, ValueRange a) {
        Value c0 = k.add(kBegin, kOff);
        // Threads of a warp read consecutive pixels of B (coalesced); A is
        // small and stays in L1/L2.
        for (int64_t r = 0; r < kTileK * kTileM / 256; ++r) {
          Value kk = k.add(row0, r * (256 / kTileM));
          Value ch = k.add(c0, kk);
          Value chOk = k.lt(ch, s.c);
          k.store(k.maskedLoad(k.both(oAOk, chOk), filter, {oA, ch}), tileA,
                  {kk, m});
          k.store(k.maskedLoad(k.both(jBOk, chOk), in, {imgB, ch, pxB}), tileB,
                  {kk, q});
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
  if (ring && plan.tilesPerBlock == 1 && (tm * (kK / 8)) % plan.threads() == 0)
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
  KernelBuilder k{b};
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
      Value v = bv == 1
                    ? k.convert(k.maskedLoad(ok, in, idx), operand)
                    : k.convert(k.maskedVectorLoad(ok, in, idx, bv), bVector);
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
                                 {img, k.sel(ok, ch, k.c(0)), px}, pieceB, ok));
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
  using Element =
      llvm::function_ref<Value(int64_t mi, int64_t ni, int64_t i, int64_t jj)>;

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
          Value lead =
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, t, k.c(0));
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
      Value first =
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kw, k.c(0));
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
            v = k.fadd(
                v, k.load(partials, {k.c(q), fragRow(mi, i), fragCol(ni, jj)}));
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
  KernelLaunch launch{
      func,
      {ceilDiv(colTiles, plan.tilesPerBlock), ceilDiv(s.oc, tm), splitK},
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
  SmallVector<Value> state =
      k.loop(0, chunk, kK, init, [&](Value kOff, ValueRange a) {
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
