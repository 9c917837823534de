//===- NNToGPU.cpp - fused nn.graph -> gpu kernels + host launcher --------===//
//
// The graph is a straight-line program, so the conversion is a single walk:
// plan one workspace for the activations (a buffer is reused once its last
// reader has been launched), pack the constant weights into one blob, emit a
// kernel per op and a launch on one async token chain. Whole-graph liveness
// is what buffer planning needs, which is why this is a walk over the graph
// rather than independent per-op conversion patterns.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "ptxnet/Conversion/Passes.h"
#include "ptxnet/Dialect/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

namespace ptxnet {
#define GEN_PASS_DEF_CONVERTNNTOGPU
#include "ptxnet/Conversion/Passes.h.inc"
} // namespace ptxnet

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::kernels;

static constexpr int64_t kAlignment = 256;

static int64_t alignTo(int64_t x) {
  return (x + kAlignment - 1) / kAlignment * kAlignment;
}

/// Bytes per element in device memory: tf32 weights are stored as float32.
static int64_t storedBytes(Type element) {
  return isa<FloatTF32Type>(element) ? 4 : element.getIntOrFloatBitWidth() / 8;
}

namespace {

/// First-fit placement of activation buffers in one workspace: a buffer's
/// range is freed when the op that reads it last has been launched, and
/// adjacent free ranges merge.
class WorkspacePlanner {
public:
  int64_t allocate(int64_t bytes) {
    bytes = alignTo(bytes);
    for (auto it = free.begin(); it != free.end(); ++it) {
      if (it->second < bytes)
        continue;
      int64_t offset = it->first;
      if (it->second == bytes)
        free.erase(it);
      else {
        free.insert(std::make_pair(offset + bytes, it->second - bytes));
        free.erase(it);
      }
      return offset;
    }
    // No hole fits: grow, reusing a free range that touches the end.
    if (!free.empty() && std::prev(free.end())->first +
                                 std::prev(free.end())->second ==
                             size) {
      auto last = std::prev(free.end());
      int64_t offset = last->first;
      size = offset + bytes;
      free.erase(last);
      return offset;
    }
    int64_t offset = size;
    size += bytes;
    return offset;
  }

  void release(int64_t offset, int64_t bytes) {
    bytes = alignTo(bytes);
    auto [it, inserted] = free.insert(std::make_pair(offset, bytes));
    (void)inserted;
    auto next = std::next(it);
    if (next != free.end() && offset + it->second == next->first) {
      it->second += next->second;
      free.erase(next);
    }
    if (it != free.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free.erase(it);
      }
    }
  }

  int64_t totalSize() const { return std::max<int64_t>(size, kAlignment); }

private:
  std::map<int64_t, int64_t> free; // offset -> bytes
  int64_t size = 0;
};

struct ConvertNNToGPUPass
    : public ptxnet::impl::ConvertNNToGPUBase<ConvertNNToGPUPass> {
  using Base::Base;
  void runOnOperation() override;
};

/// What convert-nn-to-gpu's options choose beyond the kernels themselves:
/// which kernel runs each op, and how activations are stored.
struct LoweringOptions {
  Precision precision = Precision::fp32;
  KernelOptions kernels;
  int64_t linearMmaMinBatch = 0; // linear-mma-min-batch
  bool linearFragments = true;   // linear-fragments
  bool denseConvMma = false;     // dense-conv-mma
  bool padPlanes = true;         // pad-planes
};

/// Builds @ptxnet_forward for one graph.
class GraphLowering {
public:
  GraphLowering(ModuleOp module, nn::GraphOp graph,
                const LoweringOptions &options)
      : module(module), graph(graph), builder(module.getContext()),
        options(options) {
    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    kernelModule = gpu::GPUModuleOp::create(b, graph.getLoc(), "ptxnet_kernels");
    emitter = std::make_unique<KernelEmitter>(kernelModule, options.kernels);
  }

  LogicalResult run();

private:
  LogicalResult checkSupported();
  /// f16 and bf16 programs run an expand + depthwise pair's expand on tensor
  /// cores where the kernel supports its shape.
  bool expandOnTensorCores(nn::FusedExpandDepthwiseOp f) const;
  /// The pair as one tensor-core GEMM with the depthwise in its epilogue:
  /// on maps small enough that a column tile holds whole images (where the
  /// fused kernel's 16x16 input regions would be mostly empty).
  bool expandAsGemm(nn::FusedExpandDepthwiseOp f) const;
  /// tf32, f16 and bf16 programs run a linear layer over a flattened input
  /// as the tensor-core GEMM, from linear-mma-min-batch images on.
  bool linearOnTensorCores(nn::FusedLinearOp linear) const;
  /// How `op`'s kernel reads the weight `operand`: f16 or bf16 in 16-bit
  /// tensor-core kernels, tf32 (packed rounded, stored as f32) for tf32 GEMM
  /// filters, f32 otherwise.
  Type weightType(Operation *op, Value operand);
  void planStorage();
  void planPlanes();
  /// Bytes `tensor` occupies in the workspace (padded planes included).
  int64_t storedByteSize(Value tensor) const;
  /// A 1x1 GEMM over padded planes: its columns are the padded ones.
  ConvShape pointwiseShape(nn::FusedConv2DOp conv) const;
  void packWeights();
  Value view(Value buffer, int64_t offset, ArrayRef<int64_t> shape,
             Type element);
  Value viewOf(Value tensor, ArrayRef<int64_t> shape);
  Value viewOf(Value tensor) {
    return viewOf(tensor, cast<RankedTensorType>(tensor.getType()).getShape());
  }
  /// `op`'s weight `tensor`, packed as weightType says.
  Value weightView(Operation *op, Value tensor);
  Value weightView(Operation *op, Value tensor, ArrayRef<int64_t> shape);
  /// The weight `tensor` as packed in `element` (planned by planStorage).
  Value packedWeightView(Value tensor, Type element, ArrayRef<int64_t> shape);
  Type storage(Value tensor) const { return storageType.lookup(tensor); }
  /// The element type viewOf gives `tensor`: f32 for weights.
  Type elementOf(Value tensor) {
    return storageType.count(tensor) ? storage(tensor) : builder.getF32Type();
  }
  /// The element type of a memref view.
  static Type memrefElement(Value view) {
    return cast<MemRefType>(view.getType()).getElementType();
  }
  void launch(const KernelLaunch &kernel, ValueRange args, Location loc);
  void zeroOutput(Value view, Location loc);
  std::string kernelName(StringRef kind);
  LogicalResult lowerOp(Operation *op);

  ModuleOp module;
  nn::GraphOp graph;
  OpBuilder builder;
  const LoweringOptions options;

  gpu::GPUModuleOp kernelModule;
  std::unique_ptr<KernelEmitter> emitter;

  // Host function state.
  Value inputArg, outputArg, workspaceArg, weightsArg, token;
  WorkspacePlanner planner;
  llvm::DenseMap<Value, int64_t> activationOffset; // into the workspace
  /// How each activation is stored in the workspace (planStorage).
  llvm::DenseMap<Value, Type> storageType;
  /// The activations stored with padded channel planes, and their plane
  /// size in elements (planPlanes).
  llvm::DenseMap<Value, int64_t> paddedPlane;
  /// Each weight in each element type its kernels read it in, with its
  /// offset into the weight blob.
  llvm::MapVector<std::pair<Value, Type>, int64_t> weightOffset;
  std::vector<char> weightBlob;
  unsigned kernelCount = 0;
};
} // namespace

/// The depthwise convolution of an expand + depthwise pair (alone or in a
/// whole MBConv block), over the (never materialised) hidden tensor.
template <typename FusedOp> static ConvShape expandDepthwiseShape(FusedOp f) {
  auto in = f.getInput().getType().getShape();
  auto wd = f.getFilter().getType().getShape();
  auto out = f.getType().getShape();
  int64_t hid = wd[0];
  return ConvShape{in[0], hid, in[2], in[3], hid, 1, wd[2], wd[3], out[2],
                   out[3], f.getStrides()[0], f.getStrides()[1],
                   f.getPadding()[0], f.getPadding()[1], hid};
}

bool GraphLowering::expandOnTensorCores(nn::FusedExpandDepthwiseOp f) const {
  return isHalf(options.precision) &&
         expandDepthwiseOnTensorCores(expandDepthwiseShape(f),
                                      f.getInput().getType().getDimSize(1));
}

/// The expand of an expand + depthwise pair as a 1x1 convolution.
static ConvShape expandShape(nn::FusedExpandDepthwiseOp f) {
  auto in = f.getInput().getType().getShape();
  int64_t hid = f.getFilter().getType().getDimSize(0);
  return ConvShape{in[0], in[1], in[2], in[3], hid, in[1], 1, 1,
                   in[2], in[3], 1,     1,     0,   0,     1};
}

bool GraphLowering::expandAsGemm(nn::FusedExpandDepthwiseOp f) const {
  return isHalf(options.precision) && depthwiseEpilogueFits(expandShape(f));
}

bool GraphLowering::linearOnTensorCores(nn::FusedLinearOp linear) const {
  int64_t batch = linear.getInput().getType().getDimSize(0);
  return options.precision != Precision::fp32 &&
         linear.getPrologue() == nn::Prologue::flatten &&
         options.linearMmaMinBatch > 0 && batch >= options.linearMmaMinBatch;
}

/// A linear layer over a flattened N x K input as a 1x1 convolution of K
/// channels into M over a 1 x 1 map: the GEMM's columns are then the images.
static ConvShape linearAsPointwise(nn::FusedLinearOp linear) {
  auto in = linear.getInput().getType().getShape();
  int64_t k = ShapedType::getNumElements(in.drop_front());
  int64_t m = linear.getWeight().getType().getDimSize(0);
  return ConvShape{in[0], k, 1, 1, m, k, 1, 1, 1, 1, 1, 1, 0, 0, 1};
}

LogicalResult GraphLowering::checkSupported() {
  WalkResult result = graph.walk([&](Operation *op) {
    if (isa<nn::GraphOp, nn::OutputOp, nn::FusedConv2DOp, nn::FusedLinearOp,
            nn::FusedExpandDepthwiseOp, nn::AddOp, nn::MulOp, nn::SigmoidOp>(
            op))
      return WalkResult::advance();
    if (auto block = dyn_cast<nn::FusedMBConvOp>(op)) {
      if (isHalf(options.precision) &&
          mbconvOnTensorCores(expandDepthwiseShape(block),
                              block.getInput().getType().getDimSize(1),
                              block.getType().getDimSize(1)))
        return WalkResult::advance();
      op->emitOpError("has no GPU kernel here: it needs f16 or bf16 "
                      "precision, a 3x3 depthwise of stride 1 or 2, multiples "
                      "of 8 input and hidden channels and at most 64 outputs");
      return WalkResult::interrupt();
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      if (isa<DenseFPElementsAttr>(constant.getValue()))
        return WalkResult::advance();
      op->emitOpError("is not a dense f32 tensor constant");
      return WalkResult::interrupt();
    }
    if (isa<nn::WeightOp>(op)) {
      op->emitOpError("must be a constant before GPU lowering: run "
                      "nn-import-weights (ptxnet-compile --weights) first");
      return WalkResult::interrupt();
    }
    op->emitOpError("cannot be lowered to GPU kernels: run the fusion "
                    "pipeline (nn-fusion-pipeline) first");
    return WalkResult::interrupt();
  });
  if (result.wasInterrupted())
    return failure();
  // Kernels index with 32-bit integers (ptxnet-gpu-to-binary).
  WalkResult tooLarge = graph.walk([&](Operation *op) {
    for (Value v : op->getResults())
      if (auto t = dyn_cast<RankedTensorType>(v.getType());
          t && t.getNumElements() >= (int64_t(1) << 31)) {
        op->emitOpError("result has ")
            << t.getNumElements()
            << " elements; GPU kernels index with 32 bits: use a smaller batch";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  if (tooLarge.wasInterrupted())
    return failure();
  if (graph.getNumArguments() != 1)
    return graph.emitOpError("GPU lowering supports one input, got ")
           << graph.getNumArguments();
  return success();
}

/// In which element type `op`'s kernel reads the weight `operand`: f16 and
/// bf16 builds pack the GEMM filters and the linear weight in their 16-bit
/// type; biases and direct-convolution filters stay f32.
Type GraphLowering::weightType(Operation *op, Value operand) {
  Type f32 = builder.getF32Type();
  FloatType half = halfType(builder.getContext(), options.precision);
  if (auto conv = dyn_cast<nn::FusedConv2DOp>(op);
      conv && operand == conv.getFilter() && conv.isOneByOne()) {
    // tf32 GEMM filters are packed already rounded to tf32 (nearest), as the
    // activations are rounded when they are staged: the tensor cores would
    // otherwise truncate both.
    if (options.precision == Precision::tf32)
      return builder.getTF32Type();
    return half ? Type(half) : f32;
  }
  if (auto fused = dyn_cast<nn::FusedExpandDepthwiseOp>(op);
      fused && operand == fused.getExpandFilter() &&
      (expandOnTensorCores(fused) || expandAsGemm(fused)))
    return half;
  if (auto block = dyn_cast<nn::FusedMBConvOp>(op);
      block && (operand == block.getExpandFilter() ||
                operand == block.getProjectFilter()))
    return half;
  if (auto linear = dyn_cast<nn::FusedLinearOp>(op);
      linear && operand == linear.getWeight()) {
    // On tensor cores the weight is the GEMM's filter, packed as above.
    if (linearOnTensorCores(linear) && options.precision == Precision::tf32)
      return builder.getTF32Type();
    if (half)
      return half;
  }
  return f32;
}

/// Decides how each activation is stored and in which element types each
/// weight is packed (weightType). fp32 and tf32 store activations as f32.
/// f16 and bf16 store a kernel's output in their 16-bit type unless several
/// blocks accumulate into it (split-K and most pooled GEMM epilogues add
/// atomically, in f32), it is pooled (the means stay f32 for the linear
/// layer after them) or it is the graph's output (the host ABI is f32).
void GraphLowering::planStorage() {
  Type f32 = builder.getF32Type();
  FloatType half = halfType(builder.getContext(), options.precision);
  Value output = graph.getOutputOp().getResults()[0];
  storageType[graph.getArgument(0)] = f32;
  for (Operation &op : graph.getBody().front().without_terminator()) {
    if (isa<arith::ConstantOp>(op))
      continue;
    Type result = f32;
    if (auto conv = dyn_cast<nn::FusedConv2DOp>(op)) {
      ConvShape s = ConvShape::get(conv);
      result = half ? Type(half) : f32;
      if (half && conv.isOneByOne() &&
          (conv.getPooled() ||
           planMmaGemm(s, conv.getActivation(), /*pooled=*/false,
                       options.precision, options.kernels.tuning,
                       storageType.lookup(conv.getInput()) == half)
               .accumulates))
        result = f32;
    } else if (isa<nn::FusedExpandDepthwiseOp, nn::FusedMBConvOp>(op)) {
      result = half ? Type(half) : f32;
    }
    for (Value operand : op.getOperands())
      if (operand.getDefiningOp<arith::ConstantOp>())
        weightOffset.insert({{operand, weightType(&op, operand)}, 0});
    for (Value r : op.getResults())
      storageType[r] = r == output ? f32 : result;
  }
}

int64_t GraphLowering::storedByteSize(Value tensor) const {
  auto type = cast<RankedTensorType>(tensor.getType());
  int64_t elements = type.getNumElements();
  if (int64_t plane = paddedPlane.lookup(tensor))
    elements = type.getDimSize(0) * type.getDimSize(1) * plane;
  return elements * storedBytes(storage(tensor));
}

ConvShape GraphLowering::pointwiseShape(nn::FusedConv2DOp conv) const {
  ConvShape s = ConvShape::get(conv);
  // The GEMM only sees pixels as columns: over padded planes they form one
  // row of `plane`, the padding included. (Its padding columns compute junk
  // into the output's padding, which no kernel reads as pixels.)
  if (int64_t plane = paddedPlane.lookup(conv.getInput())) {
    s.h = s.oh = 1;
    s.w = s.ow = plane;
  }
  return s;
}

/// In f16 and bf16, a GEMM over a map whose H x W is not a multiple of 8
/// (EfficientNet's 15x15 and 30x30) cannot stage its activation rows as
/// aligned vectors: every other channel plane starts at an odd element, and
/// the B operand goes by 2-byte loads (measured on an H200: a 480 -> 672 GEMM
/// took 36% more per column on a 15x15 map than on a 16x16 one). Such
/// activations are stored with their planes padded to a multiple of 8 elements,
/// where every kernel that reads or writes them takes padded planes: direct
/// convolutions (which index them through a strided memref) and 1x1 GEMMs
/// that neither pool nor accumulate (which run over the padded columns; the
/// input and output of one must then both be padded).
void GraphLowering::planPlanes() {
  FloatType half = halfType(builder.getContext(), options.precision);
  if (!options.padPlanes || !half)
    return;
  Block &body = graph.getBody().front();
  Value output = graph.getOutputOp().getResults()[0];
  auto takesPadded = [&](Operation *op) {
    auto conv = dyn_cast<nn::FusedConv2DOp>(op);
    if (!conv)
      return false;
    if (conv.isOneByOne())
      return !conv.getPooled();
    return !(
        options.denseConvMma &&
        denseConvOnTensorCores(ConvShape::get(conv), options.kernels.tuning));
  };
  for (Operation &op : body.without_terminator()) {
    if (!takesPadded(&op))
      continue;
    Value r = op.getResult(0);
    auto shape = cast<RankedTensorType>(r.getType()).getShape();
    if (r == output || storage(r) != half || shape.size() != 4 ||
        (shape[2] * shape[3]) % 8 == 0)
      continue;
    if (llvm::all_of(r.getUsers(), takesPadded))
      paddedPlane[r] = llvm::alignTo(shape[2] * shape[3], 8);
  }
  // A GEMM's input and output share its columns: both padded or neither,
  // and padded only where the padded GEMM does not accumulate. Dropping one
  // may drop the next GEMM's, hence the fixpoint.
  for (bool changed = true; changed;) {
    changed = false;
    body.walk([&](nn::FusedConv2DOp conv) {
      if (!conv.isOneByOne() || conv.getPooled())
        return;
      Value in = conv.getInput(), out = conv.getResult();
      bool keep = paddedPlane.count(in) && paddedPlane.count(out) &&
                  !planMmaGemm(pointwiseShape(conv), conv.getActivation(),
                               /*pooled=*/false, options.precision,
                               options.kernels.tuning,
                               /*halfInput=*/true)
                       .accumulates;
      if (!keep && (paddedPlane.count(in) || paddedPlane.count(out))) {
        paddedPlane.erase(in);
        paddedPlane.erase(out);
        changed = true;
      }
    });
  }
}

/// Packs every weight, in every element type it is read in, into one blob of
/// 256-byte aligned entries.
void GraphLowering::packWeights() {
  for (auto &[key, offset] : weightOffset) {
    auto [value, element] = key;
    auto dense = cast<DenseFPElementsAttr>(
        value.getDefiningOp<arith::ConstantOp>().getValue());
    int64_t count = dense.getNumElements();
    int64_t width = storedBytes(element);
    offset = alignTo(weightBlob.size());
    weightBlob.resize(offset + count * width);
    char *dst = weightBlob.data() + offset;
    auto put = [&](int64_t i, APFloat v) {
      bool lost;
      if (isa<FloatTF32Type>(element)) {
        // Round to tf32's 10 mantissa bits as cvt.rna.tf32.f32 does, and
        // store the result as a float32.
        v.convert(APFloat::FloatTF32(), APFloat::rmNearestTiesToAway, &lost);
        v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
      } else {
        v.convert(cast<FloatType>(element).getFloatSemantics(),
                  APFloat::rmNearestTiesToEven, &lost);
      }
      APInt bits = v.bitcastToAPInt();
      // The blob is little-endian, as on the GPU.
      for (int64_t byte = 0; byte < width; ++byte)
        dst[i * width + byte] = char(bits.extractBitsAsZExtValue(8, 8 * byte));
    };
    if (dense.isSplat()) {
      APFloat v = dense.getSplatValue<APFloat>();
      for (int64_t i = 0; i < count; ++i)
        put(i, v);
    } else {
      for (auto [i, v] : llvm::enumerate(dense.getValues<APFloat>()))
        put(i, v);
    }
  }
  weightBlob.resize(alignTo(std::max<size_t>(weightBlob.size(), 1)));
}

Value GraphLowering::view(Value buffer, int64_t offset,
                          ArrayRef<int64_t> shape, Type element) {
  Location loc = graph.getLoc();
  Value shift = arith::ConstantIndexOp::create(builder, loc, offset);
  auto type = MemRefType::get(shape, element);
  return memref::ViewOp::create(builder, loc, type, buffer, shift,
                                ValueRange{});
}

Value GraphLowering::weightView(Operation *op, Value tensor) {
  return weightView(op, tensor,
                    cast<RankedTensorType>(tensor.getType()).getShape());
}

Value GraphLowering::weightView(Operation *op, Value tensor,
                                ArrayRef<int64_t> shape) {
  return packedWeightView(tensor, weightType(op, tensor), shape);
}

Value GraphLowering::packedWeightView(Value tensor, Type element,
                                      ArrayRef<int64_t> shape) {
  auto it = weightOffset.find({tensor, element});
  assert(it != weightOffset.end() && "weight not planned by planStorage");
  return view(weightsArg, it->second, shape,
              isa<FloatTF32Type>(element) ? builder.getF32Type() : element);
}

/// A memref view of an activation or weight, in any shape with its element
/// count (the kernels read NCHW tensors as N x C x (H*W) and so on).
Value GraphLowering::viewOf(Value tensor, ArrayRef<int64_t> shape) {
  if (tensor == graph.getArgument(0) ||
      tensor == graph.getOutputOp().getResults()[0]) {
    Value arg = tensor == graph.getArgument(0) ? inputArg : outputArg;
    auto type = cast<MemRefType>(arg.getType());
    if (type.getShape() == shape)
      return arg;
    // Reinterpret the contiguous buffer in the kernel's shape.
    SmallVector<ReassociationIndices> all = {
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))};
    auto flatType = MemRefType::get({type.getNumElements()}, type.getElementType());
    Value flat = memref::CollapseShapeOp::create(builder, graph.getLoc(),
                                                 flatType, arg, all);
    SmallVector<ReassociationIndices> expand = {
        llvm::to_vector(llvm::seq<int64_t>(0, int64_t(shape.size())))};
    return memref::ExpandShapeOp::create(
        builder, graph.getLoc(), MemRefType::get(shape, type.getElementType()),
        flat, expand);
  }
  if (tensor.getDefiningOp<arith::ConstantOp>())
    return packedWeightView(tensor, builder.getF32Type(), shape);
  int64_t plane = paddedPlane.lookup(tensor);
  auto tensorShape = cast<RankedTensorType>(tensor.getType()).getShape();
  if (!plane || shape != tensorShape)
    return view(workspaceArg, activationOffset.lookup(tensor), shape,
                storage(tensor));
  // N x C x H x W over padded planes: a strided view of N x C x plane.
  Value planes = view(workspaceArg, activationOffset.lookup(tensor),
                      {shape[0], shape[1], plane}, storage(tensor));
  return memref::ReinterpretCastOp::create(
      builder, graph.getLoc(), activationMemref(shape, storage(tensor), plane),
      planes, /*offset=*/0, shape,
      ArrayRef<int64_t>{shape[1] * plane, plane, shape[3], 1});
}

/// Pooled and split-K GEMM epilogues add into their (float32) output: it is
/// zeroed first, on the same token chain.
void GraphLowering::zeroOutput(Value view, Location loc) {
  Value zero =
      arith::ConstantOp::create(builder, loc, builder.getF32FloatAttr(0.0f));
  token = gpu::MemsetOp::create(builder, loc,
                                gpu::AsyncTokenType::get(builder.getContext()),
                                ValueRange{token}, view, zero)
              .getAsyncToken();
}

void GraphLowering::launch(const KernelLaunch &kernel, ValueRange args,
                           Location loc) {
  auto dim = [&](ArrayRef<int64_t> xyz) {
    return gpu::KernelDim3{
        arith::ConstantIndexOp::create(builder, loc, xyz[0]),
        arith::ConstantIndexOp::create(builder, loc, xyz[1]),
        arith::ConstantIndexOp::create(builder, loc, xyz[2])};
  };
  auto tokenType = gpu::AsyncTokenType::get(builder.getContext());
  Value dynamicShared;
  if (kernel.dynamicSharedBytes)
    dynamicShared = arith::ConstantIntOp::create(
        builder, loc, builder.getI32Type(), kernel.dynamicSharedBytes);
  auto op = gpu::LaunchFuncOp::create(
      builder, loc, kernel.func, dim(kernel.grid), dim(kernel.block),
      dynamicShared, args, tokenType, ValueRange{token});
  // Tell the NVVM backend the block size: it bounds registers and lets
  // thread-id ranges fold.
  gpu::GPUFuncOp func = kernel.func;
  func.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({int32_t(kernel.block[0]),
                                    int32_t(kernel.block[1]),
                                    int32_t(kernel.block[2])}));
  token = op.getAsyncToken();
}

std::string GraphLowering::kernelName(StringRef kind) {
  return (llvm::Twine(kind) + "_" + llvm::Twine(kernelCount++)).str();
}

static StringRef activationSuffix(nn::Activation act) {
  switch (act) {
  case nn::Activation::none:
    return "";
  case nn::Activation::relu:
    return "_relu";
  case nn::Activation::relu6:
    return "_relu6";
  }
  return "";
}

LogicalResult GraphLowering::lowerOp(Operation *op) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<nn::FusedConv2DOp>([&](nn::FusedConv2DOp conv) -> LogicalResult {
        ConvShape s =
            conv.isOneByOne() ? pointwiseShape(conv) : ConvShape::get(conv);
        std::string suffix = activationSuffix(conv.getActivation()).str();
        bool pooled = conv.getPooled();
        if (pooled && !conv.isOneByOne())
          return op->emitOpError("a pooled epilogue is only supported on 1x1 "
                                 "convolutions (nn-fuse-pool-into-conv)");
        if (conv.isOneByOne()) {
          int64_t p = s.h * s.w;
          SmallVector<int64_t> outShape = {s.n, s.oc};
          if (!pooled)
            outShape.push_back(p);
          Value outView = viewOf(conv.getResult(), outShape);
          if (pooled)
            suffix += "_pool";
          Value filterView = weightView(op, conv.getFilter(), {s.oc, s.c});
          Elements types{storage(conv.getInput()), memrefElement(filterView),
                         storage(conv.getResult())};
          auto k =
              options.precision == Precision::fp32
                  ? emitter->emitPointwiseGemm(
                        kernelName("conv1x1_gemm" + suffix), s,
                        conv.getActivation(), pooled, types)
                  : emitter->emitPointwiseGemmMma(
                        kernelName("conv1x1_mma_" +
                                   stringifyPrecision(options.precision).str() +
                                   suffix),
                        s, conv.getActivation(), pooled, options.precision,
                        types);
          if (k.accumulatesOutput)
            zeroOutput(outView, op->getLoc());
          launch(k,
                 {viewOf(conv.getInput(), {s.n, s.c, p}), filterView,
                  viewOf(conv.getBias()), outView},
                 op->getLoc());
          return success();
        }
        std::string kind =
            (s.groups == s.c && s.icg == 1 ? "depthwise" : "conv") +
            std::to_string(s.kh) + "x" + std::to_string(s.kw) + "_s" +
            std::to_string(s.sh) + suffix;
        s.inPlane = paddedPlane.lookup(conv.getInput());
        s.outPlane = paddedPlane.lookup(conv.getResult());
        DenseFPElementsAttr filterValues;
        if (auto constant = conv.getFilter().getDefiningOp<arith::ConstantOp>())
          filterValues = dyn_cast<DenseFPElementsAttr>(constant.getValue());
        Elements types{storage(conv.getInput()), builder.getF32Type(),
                       storage(conv.getResult())};
        // On tensor cores where the output is 16-bit (the operand type; a
        // graph output is f32).
        KernelLaunch k;
        if (options.denseConvMma && types.out != builder.getF32Type() &&
            denseConvOnTensorCores(s, options.kernels.tuning))
          k = emitter->emitDenseConvMma(
              kernelName(kind + "_mma_" +
                         stringifyPrecision(options.precision).str()),
              s, conv.getActivation(), types);
        else
          k = emitter->emitDirectConv(kernelName(kind), s, conv.getActivation(),
                                      types, filterValues);
        launch(k,
               {viewOf(conv.getInput()), viewOf(conv.getFilter()),
                viewOf(conv.getBias()), viewOf(conv.getResult())},
               op->getLoc());
        return success();
      })
      .Case<nn::FusedExpandDepthwiseOp>([&](nn::FusedExpandDepthwiseOp f) {
        ConvShape s = expandDepthwiseShape(f);
        int64_t cin = f.getInput().getType().getDimSize(1);
        std::string kind = "expand_dw" + std::to_string(s.kh) + "x" +
                           std::to_string(s.kw) + "_s" +
                           std::to_string(s.sh) +
                           activationSuffix(f.getActivation()).str();
        Value expandFilter = weightView(op, f.getExpandFilter(), {s.c, cin});
        Elements types{storage(f.getInput()), memrefElement(expandFilter),
                       storage(f.getResult())};
        DepthwiseEpilogue epilogue{
            s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.oh, s.ow, f.getActivation()};
        KernelLaunch k =
            expandAsGemm(f)
                ? emitter->emitPointwiseGemmMma(
                      kernelName("conv1x1_" + kind + "_mma_" +
                                 stringifyPrecision(options.precision).str()),
                      expandShape(f), f.getExpandActivation(),
                      /*pooled=*/false, options.precision, types, &epilogue)
            : expandOnTensorCores(f)
                ? emitter->emitExpandDepthwiseMma(
                      kernelName(kind + "_mma_" +
                                 stringifyPrecision(options.precision).str()),
                      s, cin, f.getExpandActivation(), f.getActivation(), types)
                : emitter->emitExpandDepthwise(kernelName(kind), s, cin,
                                               f.getExpandActivation(),
                                               f.getActivation(), types);
        auto in = f.getInput().getType().getShape();
        launch(k,
               {expandAsGemm(f)
                    ? viewOf(f.getInput(), {in[0], in[1], in[2] * in[3]})
                    : viewOf(f.getInput()),
                expandFilter, viewOf(f.getExpandBias()), viewOf(f.getFilter()),
                viewOf(f.getBias()), viewOf(f.getResult())},
               op->getLoc());
        return success();
      })
      .Case<nn::FusedMBConvOp>([&](nn::FusedMBConvOp f) {
        ConvShape s = expandDepthwiseShape(f);
        int64_t cin = f.getInput().getType().getDimSize(1);
        int64_t oc = f.getType().getDimSize(1);
        std::string kind =
            "mbconv_dw" + std::to_string(s.kh) + "x" + std::to_string(s.kw) +
            "_s" + std::to_string(s.sh) +
            activationSuffix(f.getActivation()).str() + "_project" +
            activationSuffix(f.getProjectActivation()).str() + "_mma_" +
            stringifyPrecision(options.precision).str();
        Value expandFilter = weightView(op, f.getExpandFilter(), {s.c, cin});
        Value projectFilter = weightView(op, f.getProjectFilter(), {oc, s.c});
        Elements types{storage(f.getInput()), memrefElement(expandFilter),
                       storage(f.getResult())};
        KernelLaunch k = emitter->emitMBConvMma(
            kernelName(kind), s, cin, oc, f.getExpandActivation(),
            f.getActivation(), f.getProjectActivation(), types);
        launch(k,
               {viewOf(f.getInput()), expandFilter, viewOf(f.getExpandBias()),
                viewOf(f.getFilter()), viewOf(f.getBias()), projectFilter,
                viewOf(f.getProjectBias()), viewOf(f.getResult())},
               op->getLoc());
        return success();
      })
      .Case<nn::FusedLinearOp>([&](nn::FusedLinearOp linear) -> LogicalResult {
        if (linearOnTensorCores(linear)) {
          ConvShape s = linearAsPointwise(linear);
          Value weight = weightView(op, linear.getWeight(), {s.oc, s.c});
          Value outView = viewOf(linear.getResult(), {s.n, s.oc, 1});
          Elements types{storage(linear.getInput()), memrefElement(weight),
                         storage(linear.getResult())};
          auto k = emitter->emitPointwiseGemmMma(
              kernelName("linear_mma_" +
                         stringifyPrecision(options.precision).str() +
                         activationSuffix(linear.getActivation()).str()),
              s, linear.getActivation(), /*pooled=*/false, options.precision,
              types);
          if (k.accumulatesOutput)
            zeroOutput(outView, op->getLoc());
          launch(k,
                 {viewOf(linear.getInput(), {s.n, s.c, 1}), weight,
                  viewOf(linear.getBias()), outView},
                 op->getLoc());
          return success();
        }
        auto in = linear.getInput().getType().getShape();
        int64_t n = in[0], r = 1;
        int64_t k = ShapedType::getNumElements(in.drop_front());
        if (linear.getPrologue() == nn::Prologue::global_avg_pool) {
          k = in[1];
          r = in[2] * in[3];
        }
        int64_t m = linear.getWeight().getType().getDimSize(0);
        if (options.linearFragments && isHalf(options.precision) &&
            linear.getPrologue() == nn::Prologue::flatten &&
            linearOnFragments(k, storage(linear.getInput()),
                              weightType(op, linear.getWeight()))) {
          Value weight = weightView(op, linear.getWeight(), {m, k});
          Elements types{storage(linear.getInput()), memrefElement(weight),
                         storage(linear.getResult())};
          auto kl = emitter->emitLinearMma(
              kernelName("linear_mma_fragments_" +
                         stringifyPrecision(options.precision).str() +
                         activationSuffix(linear.getActivation()).str()),
              n, k, m, linear.getActivation(), types);
          launch(kl,
                 {viewOf(linear.getInput(), {n, k}), weight,
                  viewOf(linear.getBias()), viewOf(linear.getResult())},
                 op->getLoc());
          return success();
        }
        // A row of K floats is staged in shared memory (48 KB static max).
        if (k * 4 > 48 * 1024)
          return op->emitOpError("input rows of ")
                 << k << " features exceed the 48 KB shared-memory stage";
        std::string kind =
            linear.getPrologue() == nn::Prologue::global_avg_pool
                ? "pool_linear"
                : "linear";
        Value weight = weightView(op, linear.getWeight());
        Elements types{storage(linear.getInput()), memrefElement(weight),
                       storage(linear.getResult())};
        auto kl = emitter->emitLinear(
            kernelName(kind + activationSuffix(linear.getActivation()).str()),
            n, k, r, m, linear.getPrologue(), linear.getActivation(), types);
        launch(kl,
               {viewOf(linear.getInput(), {n, k, r}),
                weight,
                viewOf(linear.getBias()), viewOf(linear.getResult())},
               op->getLoc());
        return success();
      })
      .Case<nn::AddOp, nn::MulOp>([&](Operation *) {
        auto type = cast<RankedTensorType>(op->getResult(0).getType());
        int64_t count = type.getNumElements();
        bool isAdd = isa<nn::AddOp>(op);
        auto k = emitter->emitElementwise(
            kernelName(isAdd ? "add" : "mul"), count,
            isAdd ? KernelEmitter::Elementwise::add
                  : KernelEmitter::Elementwise::mul,
            {elementOf(op->getOperand(0)), elementOf(op->getOperand(1)),
             storage(op->getResult(0))});
        launch(k,
               {viewOf(op->getOperand(0), {count}),
                viewOf(op->getOperand(1), {count}),
                viewOf(op->getResult(0), {count})},
               op->getLoc());
        return success();
      })
      .Case<nn::SigmoidOp>([&](nn::SigmoidOp sigmoid) {
        int64_t count = sigmoid.getType().getNumElements();
        auto k = emitter->emitElementwise(
            kernelName("sigmoid"), count, KernelEmitter::Elementwise::sigmoid,
            {elementOf(sigmoid.getInput()), storage(sigmoid.getResult())});
        launch(k,
               {viewOf(sigmoid.getInput(), {count}),
                viewOf(sigmoid.getResult(), {count})},
               op->getLoc());
        return success();
      })
      .Default([&](Operation *) { return success(); });
}

LogicalResult GraphLowering::run() {
  if (failed(checkSupported()))
    return failure();
  planStorage();
  planPlanes();
  packWeights();
  MLIRContext *ctx = module.getContext();
  Location loc = graph.getLoc();
  Value input = graph.getArgument(0);
  Value output = graph.getOutputOp().getResults()[0];
  if (input == output || output.getDefiningOp<arith::ConstantOp>())
    return graph.emitOpError("output must be computed from the input");

  // Liveness: the op after which each activation is dead.
  llvm::DenseMap<Value, Operation *> lastUse;
  Block &body = graph.getBody().front();
  for (Operation &op : body)
    for (Value v : op.getOperands())
      lastUse[v] = &op;

  // Plan the workspace before emitting the host function, so its size is
  // known for the signature.
  for (Operation &op : body.without_terminator()) {
    if (isa<arith::ConstantOp>(op))
      continue;
    for (Value result : op.getResults())
      if (result != output)
        activationOffset[result] = planner.allocate(storedByteSize(result));
    for (Value operand : op.getOperands())
      if (lastUse.lookup(operand) == &op && activationOffset.count(operand))
        planner.release(activationOffset[operand], storedByteSize(operand));
  }
  int64_t workspaceBytes = planner.totalSize();
  int64_t weightBytes = int64_t(weightBlob.size());

  auto inType = cast<RankedTensorType>(input.getType());
  auto outType = cast<RankedTensorType>(output.getType());
  auto inMemref = MemRefType::get(inType.getShape(), builder.getF32Type());
  auto outMemref = MemRefType::get(outType.getShape(), builder.getF32Type());
  auto wsType = MemRefType::get({workspaceBytes}, builder.getI8Type());
  auto wtType = MemRefType::get({weightBytes}, builder.getI8Type());

  builder.setInsertionPoint(kernelModule);
  // The packed weights, uploaded once by the runtime.
  auto blobAttr = DenseElementsAttr::getFromRawBuffer(
      RankedTensorType::get({weightBytes}, builder.getI8Type()),
      ArrayRef<char>(weightBlob));
  memref::GlobalOp::create(builder, loc, "ptxnet_weights",
                           builder.getStringAttr("public"), wtType, blobAttr,
                           /*constant=*/true, builder.getI64IntegerAttr(64));
  // Model info for the runtime: version, input rank + dims, output rank +
  // dims, workspace bytes, weight bytes, precision (0 fp32, 1 tf32, 2 f16,
  // 3 bf16),
  // dependent launch (0 or 1: the kernels wait on griddepcontrol).
  SmallVector<int64_t> info = {3, inType.getRank()};
  llvm::append_range(info, inType.getShape());
  info.push_back(outType.getRank());
  llvm::append_range(info, outType.getShape());
  info.push_back(workspaceBytes);
  info.push_back(weightBytes);
  info.push_back(int64_t(options.precision));
  info.push_back(options.kernels.dependentLaunch);
  auto infoType = MemRefType::get({int64_t(info.size())}, builder.getI64Type());
  memref::GlobalOp::create(
      builder, loc, "ptxnet_model_info", builder.getStringAttr("public"),
      infoType,
      DenseElementsAttr::get(
          RankedTensorType::get({int64_t(info.size())}, builder.getI64Type()),
          ArrayRef<int64_t>(info)),
      /*constant=*/true, /*alignment=*/nullptr);

  auto funcType = builder.getFunctionType({inMemref, outMemref, wsType, wtType},
                                          {});
  auto func = func::FuncOp::create(builder, loc, "ptxnet_forward", funcType);
  func->setAttr("ptxnet.graph", graph.getSymNameAttr());
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  inputArg = entry->getArgument(0);
  outputArg = entry->getArgument(1);
  workspaceArg = entry->getArgument(2);
  weightsArg = entry->getArgument(3);

  // One stream for the whole forward: a token chain from gpu.wait async.
  auto tokenType = gpu::AsyncTokenType::get(ctx);
  token = gpu::WaitOp::create(builder, loc, tokenType, ValueRange{})
              .getAsyncToken();
  for (Operation &op : body.without_terminator())
    if (failed(lowerOp(&op)))
      return failure();
  gpu::WaitOp::create(builder, loc, Type(), ValueRange{token});
  func::ReturnOp::create(builder, loc);

  graph.erase();
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(ctx));
  return success();
}

void ConvertNNToGPUPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto graphs = llvm::to_vector(module.getOps<nn::GraphOp>());
  if (graphs.size() != 1) {
    module.emitError("convert-nn-to-gpu expects exactly one nn.graph, found ")
        << graphs.size();
    return signalPassFailure();
  }
  std::optional<Precision> kind = parsePrecision(precision);
  if (!kind) {
    emitError(module.getLoc(), "unknown precision '")
        << precision << "': expected " << kPrecisionNames;
    return signalPassFailure();
  }
  if (gemmWarpsPerSM < 1 || gemmBlocksPerSM < 0 || gemmTileBlocksPerSM < 1 ||
      gemmWarpKSteps < 0 || gemmAsyncStages < 1 || gemmAsyncMinK < 1 ||
      gemmAsyncBlocksPerSM < 1 || gemmSingleSliceK < 0 ||
      linearMmaMinBatch < 0) {
    emitError(module.getLoc(), "gemm-warps-per-sm, gemm-tile-blocks-per-sm, "
                               "gemm-async-stages, gemm-async-min-k and "
                               "gemm-async-blocks-per-sm must be positive, "
                               "gemm-blocks-per-sm, gemm-warp-k-steps, "
                               "gemm-single-slice-k and linear-mma-min-batch "
                               "not negative");
    return signalPassFailure();
  }
  if (depthwiseColumnRows < -1) {
    emitError(module.getLoc(), "depthwise-column-rows must be -1 (by shape), "
                               "0 (never) or positive, got ")
        << int64_t(depthwiseColumnRows);
    return signalPassFailure();
  }
  if (gemmAsyncSharedKB != 0 &&
      (gemmAsyncSharedKB < 48 || gemmAsyncSharedKB > 227)) {
    emitError(module.getLoc(), "gemm-async-shared-kb must be 0 or within 48 "
                               "and 227 (KB of shared memory per block), got ")
        << int64_t(gemmAsyncSharedKB);
    return signalPassFailure();
  }
  // The batch-dependent tuning defaults (0 below) differ at batch 1.
  const bool singleImage = graphs.front().getBatchSize() == 1;
  // A single image gives every GEMM few columns: larger tiles (one block per
  // SM) then beat more blocks.
  int64_t blocksPerSM = gemmBlocksPerSM;
  if (blocksPerSM == 0)
    blocksPerSM = singleImage ? 1 : 2;
  // At batch 1 the pooled head's ring (K shared by 4 warps) holds 4 slices
  // in 99 KB instead of 2 in 48; at batch 10 the room lets 2 warps share the
  // head's K, and it measured slower, pooled within the block or not
  // (bench/RESULTS.md).
  int64_t ringSharedKB = gemmAsyncSharedKB;
  if (ringSharedKB == 0)
    ringSharedKB = singleImage ? 99 : 48;
  // Deeper K slices per warp pay off once there are several images of
  // columns; a single image has too few blocks to hide the longer slices.
  int64_t warpKSteps = gemmWarpKSteps;
  if (warpKSteps == 0)
    warpKSteps = singleImage ? 2 : 4;
  LoweringOptions options;
  options.precision = *kind;
  options.kernels.blockSize = blockSize;
  options.kernels.dependentLaunch = dependentLaunch;
  options.kernels.f16DepthwiseMath = f16DepthwiseMath;
  options.kernels.depthwiseColumnRows = depthwiseColumnRows;
  options.kernels.f16StemMath = f16StemMath;
  options.kernels.tuning = {
      blocksPerSM,          gemmWarpsPerSM,   gemmTileBlocksPerSM,
      warpKSteps,           gemmAsyncStages,  gemmAsyncMinK,
      gemmAsyncBlocksPerSM, gemmSingleSliceK, ringSharedKB * 1024};
  options.linearMmaMinBatch = linearMmaMinBatch;
  options.linearFragments = linearFragments;
  options.denseConvMma = denseConvMma;
  options.padPlanes = padPlanes;
  GraphLowering lowering(module, graphs.front(), options);
  if (failed(lowering.run()))
    signalPassFailure();
}
