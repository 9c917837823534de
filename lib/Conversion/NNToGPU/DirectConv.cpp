//===- DirectConv.cpp - direct and small dense convolutions ---------------===//
//
// Direct convolutions on CUDA cores (dense, grouped and depthwise), and the
// small dense convolution (the stem) as an implicit GEMM on tensor cores.
//
// The kernels are built with scf/arith/memref on static shapes, so every index
// computation folds to constants and strength-reduced arithmetic in the PTX.
// Out-of-range loads are clamped and masked with `select` rather than
// branched around, which keeps warps converged.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include <optional>

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;

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
static int64_t walkDepthwiseColumns(KernelBuilder &k, const ConvShape &s,
                                    Activation act, int64_t ph,
                                    int64_t blockSize, Value in, Value filter,
                                    Value bias, Value out) {
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
  KernelBuilder k{b};
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
                  immediates[((j * s.icg + ciStatic) * s.kh + ky) * s.kw + kx]);
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
    const bool vectorStore = pw > 1 && s.ow % pw == 0 && pw * outBytes <= 16;
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
  KernelBuilder k{b};
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
