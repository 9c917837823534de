//===- Linear.cpp - linear layers -----------------------------------------===//
//
// The linear layer with a flatten or global-average-pool prologue on CUDA
// cores, and over a flattened input on tensor cores with fragments loaded
// straight from device memory.
//
// The kernels are built with scf/arith/memref on static shapes, so every index
// computation folds to constants and strength-reduced arithmetic in the PTX.
// Out-of-range loads are clamped and masked with `select` rather than
// branched around, which keeps warps converged.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;

//===----------------------------------------------------------------------===//
// Linear with a pooling / flatten prologue
//===----------------------------------------------------------------------===//

// 8 warps of 2 outputs: enough blocks for the GPU even at batch 1, and two
// independent weight streams per warp.
static constexpr int64_t kWarps = 8, kOutputsPerWarp = 2,
                         kLinearOutputsPerBlock = kWarps * kOutputsPerWarp;

/// Sum of `v` over the 32 lanes of a warp (butterfly through shuffles).
static Value warpSum(ImplicitLocOpBuilder &b, KernelBuilder &k, Value v) {
  for (int offset = 16; offset > 0; offset /= 2)
    v = k.fadd(v,
               gpu::ShuffleOp::create(b, v, offset, 32, gpu::ShuffleMode::XOR)
                   .getShuffleResult());
  return v;
}

KernelLaunch KernelEmitter::emitLinear(StringRef name, int64_t n, int64_t kDim,
                                       int64_t r, int64_t m,
                                       nn::Prologue prologue, Activation act,
                                       const Elements &types) {
  MLIRContext *ctx = module.getContext();
  // Images per block: each weight row is read once for all of them.
  int64_t images = linearImagesPerBlock(n, kDim);
  auto func =
      createKernel(name,
                   {MemRefType::get({n, kDim, r}, types.in),
                    MemRefType::get({m, kDim}, types.filter),
                    f32Memref(ctx, {m}), MemRefType::get({n, m}, types.out)},
                   {workgroupMemref(ctx, {images, kDim})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KernelBuilder k{b};
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
  SmallVector<Value> partial = kLoop([&](Value base,
                                         ValueRange a) -> SmallVector<Value> {
    Value kk = k.add(base, k.mul(lane, lv));
    Value ok = k.lt(kk, kDim);
    SmallVector<SmallVector<Value>> xs;
    for (int64_t i = 0; i < images; ++i)
      xs.push_back(k.maskedVectorRead(ok, rows, {k.c(i), kk}, lv));
    SmallVector<Value> next(a.begin(), a.end());
    for (int64_t jo = 0; jo < kOutputsPerWarp; ++jo) {
      SmallVector<Value> w = k.maskedVectorRead(ok, weight, {safe[jo], kk}, lv);
      for (int64_t i = 0; i < images; ++i)
        for (int64_t e = 0; e < lv; ++e)
          next[jo * images + i] = k.fma(next[jo * images + i], xs[i][e], w[e]);
    }
    return next;
  });
  Value first =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, k.c(0));
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
  KernelBuilder k{b};
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
