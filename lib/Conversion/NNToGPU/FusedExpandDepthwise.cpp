//===- FusedExpandDepthwise.cpp - fused MBConv kernels --------------------===//
//
// The expand 1x1 + depthwise pair in one kernel (the hidden tensor stays in
// shared memory), on CUDA cores and with the expand on tensor cores, and the
// whole MBConv block with the project 1x1 after it.
//
// The kernels are built with scf/arith/memref on static shapes, so every index
// computation folds to constants and strength-reduced arithmetic in the PTX.
// Out-of-range loads are clamped and masked with `select` rather than
// branched around, which keeps warps converged.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include <limits>
#include <optional>

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;

/// The arguments of the expand + depthwise kernels (see Kernels.h); the
/// expand filter is f32, f16 or bf16.
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
static FusedBlockOrigin fusedBlockOrigin(KernelBuilder &k, const ConvShape &s,
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
  Value hidden;            // [channels][rw * rw] in shared memory, padded
  int64_t rw, th, tw;      // region side, output patch
  int64_t channels;        // hidden channels of the block
  Value ch0, n, oy0, ox0;  // first channel, image, output patch origin
  Value filter, bias, out; // Hidx1xKHxKW, Hid, NxHidxOHxOW
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
static DepthwiseChannel loadDepthwiseChannel(KernelBuilder &k,
                                             const ConvShape &s, Value ch0,
                                             Value j, Value filter,
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
static DepthwiseChannel readDepthwiseChannel(KernelBuilder &k,
                                             const ConvShape &s, Value ch0,
                                             Value j, Value tile) {
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
static void emitDepthwiseFromShared(KernelBuilder &k, const ConvShape &s,
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

KernelLaunch
KernelEmitter::emitExpandDepthwise(StringRef name, const ConvShape &s,
                                   int64_t inChannels, Activation expandAct,
                                   Activation act, const Elements &types) {
  MLIRContext *ctx = module.getContext();
  const int64_t cin = inChannels, hid = s.c, cb = kHiddenPerBlock;
  const int64_t th = s.sh == 1 ? 16 : 8, tw = s.sw == 1 ? 16 : 8;
  const int64_t rh = (th - 1) * s.sh + s.kh, rw = (tw - 1) * s.sw + s.kw;
  const int64_t region = rh * rw;
  const int64_t tilesX = ceilDiv(s.ow, tw), tilesY = ceilDiv(s.oh, th);
  auto func = createKernel(
      name, expandDepthwiseArguments(ctx, s, cin, types, Float32Type::get(ctx)),
      {workgroupMemref(ctx, {cb, cin}), workgroupMemref(ctx, {cb, region})});
  ImplicitLocOpBuilder b(func.getLoc(), ctx);
  enterKernel(b, func);
  KernelBuilder k{b};
  auto [in, we, be, wd, bd, out] = expandDepthwiseOperands(func);
  Value weTile = func.getWorkgroupAttributions()[0];
  Value hidden = func.getWorkgroupAttributions()[1];

  Value tid = k.threadId(gpu::Dimension::x);
  auto [ch0, n, oy0, ox0, iy0, ix0] =
      fusedBlockOrigin(k, s, th, tw, cb, tilesX);

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

  emitDepthwiseFromShared(
      k, s, {hidden, rw, th, tw, cb, ch0, n, oy0, ox0, wd, bd, out}, tid,
      kFusedThreads, act);
  return {
      func, {tilesX * tilesY, ceilDiv(hid, cb), s.n}, {kFusedThreads, 1, 1}};
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
  return ceilDiv(inChannels, expandSlice(inChannels)) * expandSlice(inChannels);
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
    KernelBuilder &k, const ConvShape &s, const ExpandPatch &p, Value hidden,
    Value ch0, Value oy0, Value ox0, Value tapTile, Value filter, Value bias,
    Value tid, Activation act, bool f16Math,
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
static void storeDepthwisePair(KernelBuilder &k, const ConvShape &s, Value out,
                               Value n, const DepthwisePair &d) {
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
static void copyWindowAsync(KernelBuilder &k, Value tid, int64_t threads,
                            Value tile, Value src, int64_t rows, int64_t cols,
                            Value row0, Value col0, int64_t srcRows,
                            int64_t srcCols) {
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
  KernelBuilder &k;
  const ConvShape &s;
  const ExpandPatch &p;
  int64_t cin;
  const Elements &types;
  Type half;                // the tensor cores' operand type
  Value tileA, tileB, mask; // shared: expand filter rows, B / hidden, mask
  Value dwTaps;       // shared: depthwise taps and bias per hidden row, or null
  Value in, we, be;   // input, expand filter and bias
  Value wd, bd;       // depthwise filter and bias
  FusedBlockOrigin o; // the block's image, patch and window
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
static ExpandPhase makeExpandPhase(KernelBuilder &k, gpu::GPUFuncOp func,
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

KernelLaunch
KernelEmitter::emitExpandDepthwiseMma(StringRef name, const ConvShape &s,
                                      int64_t inChannels, Activation expandAct,
                                      Activation act, const Elements &types) {
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
  KernelBuilder k{b};
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
  KernelBuilder k{b};
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
