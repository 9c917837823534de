//===- NNOps.cpp - nn dialect operations ----------------------------------===//
//
// Dialect registration, the custom form of nn.graph, shape verifiers for every
// op and the compile-time folders of the BatchNorm parameter arithmetic.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Dialect/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace ptxnet::nn;

#include "ptxnet/Dialect/NN/IR/NNEnums.cpp.inc"
#include "ptxnet/Dialect/NN/IR/NNOpsDialect.cpp.inc"

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ptxnet/Dialect/NN/IR/NNOps.cpp.inc"
      >();
}

Operation *NNDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                          Type type, Location loc) {
  if (auto typed = dyn_cast<TypedAttr>(value))
    if (typed.getType() == type)
      return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}

int64_t ptxnet::nn::convOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                   int64_t padBegin, int64_t padEnd) {
  int64_t span = in + padBegin + padEnd - kernel;
  if (span < 0 || stride <= 0)
    return 0;
  return span / stride + 1;
}

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

//===----------------------------------------------------------------------===//
// GraphOp
//===----------------------------------------------------------------------===//

void GraphOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                    FunctionType type) {
  state.addAttribute(SymbolTable::getSymbolAttrName(),
                     builder.getStringAttr(name));
  state.addAttribute(getFunctionTypeAttrName(state.name), TypeAttr::get(type));
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Type input : type.getInputs())
    block->addArgument(input, state.location);
}

ParseResult GraphOp::parse(OpAsmParser &parser, OperationState &result) {
  auto buildFuncType = [](Builder &builder, ArrayRef<Type> argTypes,
                          ArrayRef<Type> results,
                          function_interface_impl::VariadicFlag,
                          std::string &) {
    return builder.getFunctionType(argTypes, results);
  };
  return function_interface_impl::parseFunctionOp(
      parser, result, /*allowVariadic=*/false,
      getFunctionTypeAttrName(result.name), buildFuncType,
      getArgAttrsAttrName(result.name), getResAttrsAttrName(result.name));
}

void GraphOp::print(OpAsmPrinter &p) {
  function_interface_impl::printFunctionOp(
      p, *this, /*isVariadic=*/false, getFunctionTypeAttrName(),
      getArgAttrsAttrName(), getResAttrsAttrName());
}

OutputOp GraphOp::getOutputOp() {
  return cast<OutputOp>(getBody().front().getTerminator());
}

int64_t GraphOp::getBatchSize() {
  ArrayRef<Type> inputs = getArgumentTypes();
  auto input =
      inputs.empty() ? RankedTensorType() : dyn_cast<RankedTensorType>(inputs[0]);
  return input && input.getRank() > 0 ? input.getDimSize(0) : 1;
}

LogicalResult GraphOp::verify() {
  if (getBody().empty())
    return emitOpError("needs a body: a graph cannot be a declaration");
  if (getFunctionType().getNumResults() != 1)
    return emitOpError("must have exactly one result, got ")
           << getFunctionType().getNumResults();
  for (Type t : getFunctionType().getInputs()) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || !tensor.hasStaticShape() ||
        !tensor.getElementType().isF32())
      return emitOpError("inputs must be statically shaped f32 tensors, got ")
             << t;
  }
  return success();
}

LogicalResult OutputOp::verify() {
  auto graph = cast<GraphOp>((*this)->getParentOp());
  ArrayRef<Type> expected = graph.getResultTypes();
  if (getResults().size() != expected.size())
    return emitOpError("returns ")
           << getResults().size() << " values but the graph declares "
           << expected.size();
  for (auto [i, pair] : llvm::enumerate(llvm::zip(getResults(), expected)))
    if (std::get<0>(pair).getType() != std::get<1>(pair))
      return emitOpError("result #")
             << i << " has type " << std::get<0>(pair).getType()
             << " but the graph declares " << std::get<1>(pair);
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty weight name");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("weight '") << getName() << "' must be statically shaped";
  return success();
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

/// Shared by nn.conv2d and nn.fused_conv2d: every shape relation between the
/// input, filter, bias and result, with the attribute that breaks it named.
static LogicalResult verifyConvolution(Operation *op, Value input,
                                       Value filter, Value bias,
                                       Value result,
                                       ArrayRef<int64_t> strides,
                                       ArrayRef<int64_t> padding,
                                       int64_t groups, bool pooled = false) {
  if (strides.size() != 2)
    return op->emitOpError("expects 2 strides [sh, sw], got ")
           << strides.size();
  if (llvm::any_of(strides, [](int64_t s) { return s <= 0; }))
    return op->emitOpError("expects positive strides");
  if (padding.size() != 4)
    return op->emitOpError(
               "expects 4 padding values [top, left, bottom, right], got ")
           << padding.size();
  if (llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return op->emitOpError("expects non-negative padding");

  ArrayRef<int64_t> in = shapeOf(input), w = shapeOf(filter),
                    out = shapeOf(result);
  int64_t channels = in[1], outChannels = w[0];
  if (channels % groups != 0)
    return op->emitOpError("input channels (")
           << channels << ") are not divisible by groups (" << groups << ")";
  if (outChannels % groups != 0)
    return op->emitOpError("output channels (")
           << outChannels << ") are not divisible by groups (" << groups
           << ")";
  if (w[1] != channels / groups)
    return op->emitOpError("filter expects ")
           << w[1] << " input channels per group but the input has "
           << channels << " channels in " << groups << " groups";
  if (bias) {
    ArrayRef<int64_t> b = shapeOf(bias);
    if (b[0] != outChannels)
      return op->emitOpError("bias has ")
             << b[0] << " elements but the filter has " << outChannels
             << " output channels";
  }
  int64_t oh = convOutputSize(in[2], w[2], strides[0], padding[0], padding[2]);
  int64_t ow = convOutputSize(in[3], w[3], strides[1], padding[1], padding[3]);
  if (oh <= 0 || ow <= 0)
    return op->emitOpError("the ")
           << w[2] << "x" << w[3] << " window does not fit the padded "
           << in[2] << "x" << in[3] << " input";
  SmallVector<int64_t> expected = {in[0], outChannels, oh, ow};
  if (pooled)
    expected = {in[0], outChannels, 1, 1}; // mean over the oh x ow map
  if (out != ArrayRef<int64_t>(expected))
    return op->emitOpError("result shape should be ")
           << "[" << expected[0] << ", " << expected[1] << ", " << expected[2]
           << ", " << expected[3] << "], got " << result.getType();
  return success();
}

LogicalResult Conv2DOp::verify() {
  return verifyConvolution(*this, getInput(), getFilter(), getBias(),
                           getResult(), getStrides(), getPadding(),
                           getGroups());
}

bool FusedConv2DOp::isOneByOne() {
  auto w = getFilter().getType().getShape();
  return w[2] == 1 && w[3] == 1 && getGroups() == 1 &&
         llvm::all_of(getStrides(), [](int64_t s) { return s == 1; }) &&
         llvm::all_of(getPadding(), [](int64_t p) { return p == 0; });
}

bool FusedConv2DOp::isDepthwise() {
  int64_t channels = getInput().getType().getDimSize(1);
  return int64_t(getGroups()) == channels &&
         getFilter().getType().getDimSize(0) == channels;
}

LogicalResult FusedConv2DOp::verify() {
  return verifyConvolution(*this, getInput(), getFilter(), getBias(),
                           getResult(), getStrides(), getPadding(),
                           getGroups(), getPooled());
}

/// The expand + depthwise part of a fused MBConv op: filter and bias shapes,
/// strides and padding. Returns the depthwise output's shape (N x hidden x
/// OH x OW), or failure after reporting on `op`.
static FailureOr<SmallVector<int64_t>>
verifyExpandDepthwise(Operation *op, Value input, Value expandFilter,
                      Value expandBias, Value filter, ArrayRef<int64_t> st,
                      ArrayRef<int64_t> pad) {
  ArrayRef<int64_t> in = shapeOf(input), we = shapeOf(expandFilter),
                    wd = shapeOf(filter);
  if (we[1] != in[1] || we[2] != 1 || we[3] != 1)
    return op->emitOpError("expand filter must be ")
           << "<hidden>x" << in[1] << "x1x1, got " << expandFilter.getType();
  int64_t hidden = we[0];
  if (shapeOf(expandBias)[0] != hidden)
    return op->emitOpError("expand bias has ")
           << shapeOf(expandBias)[0] << " elements, expected " << hidden;
  if (wd[0] != hidden || wd[1] != 1)
    return op->emitOpError("depthwise filter must be ")
           << hidden << "x1xKHxKW, got " << filter.getType();
  // The depthwise part is an ordinary grouped convolution of the hidden
  // tensor (N x hidden x H x W): check it as one.
  if (st.size() != 2 || pad.size() != 4 ||
      llvm::any_of(st, [](int64_t v) { return v <= 0; }) ||
      llvm::any_of(pad, [](int64_t v) { return v < 0; }))
    return op->emitOpError("expects 2 positive strides and 4 non-negative "
                           "padding values");
  int64_t oh = convOutputSize(in[2], wd[2], st[0], pad[0], pad[2]);
  int64_t ow = convOutputSize(in[3], wd[3], st[1], pad[1], pad[3]);
  if (oh <= 0 || ow <= 0)
    return op->emitOpError("depthwise output would be empty (")
           << oh << "x" << ow << ")";
  return SmallVector<int64_t>{in[0], hidden, oh, ow};
}

LogicalResult FusedExpandDepthwiseOp::verify() {
  auto expected = verifyExpandDepthwise(*this, getInput(), getExpandFilter(),
                                        getExpandBias(), getFilter(),
                                        getStrides(), getPadding());
  if (failed(expected))
    return failure();
  ArrayRef<int64_t> e = *expected;
  if (shapeOf(getResult()) != e)
    return emitOpError("result shape should be [")
           << e[0] << ", " << e[1] << ", " << e[2] << ", " << e[3] << "], got "
           << getResult().getType();
  return success();
}

LogicalResult FusedMBConvOp::verify() {
  auto dw = verifyExpandDepthwise(*this, getInput(), getExpandFilter(),
                                  getExpandBias(), getFilter(), getStrides(),
                                  getPadding());
  if (failed(dw))
    return failure();
  ArrayRef<int64_t> d = *dw, wp = shapeOf(getProjectFilter());
  if (wp[1] != d[1] || wp[2] != 1 || wp[3] != 1)
    return emitOpError("project filter must be ")
           << "<out>x" << d[1] << "x1x1, got " << getProjectFilter().getType();
  if (shapeOf(getProjectBias())[0] != wp[0])
    return emitOpError("project bias has ")
           << shapeOf(getProjectBias())[0] << " elements, expected " << wp[0];
  SmallVector<int64_t> expected = {d[0], wp[0], d[2], d[3]};
  if (shapeOf(getResult()) != ArrayRef<int64_t>(expected))
    return emitOpError("result shape should be [")
           << d[0] << ", " << wp[0] << ", " << d[2] << ", " << d[3] << "], got "
           << getResult().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// BatchNorm and its folded parameters
//===----------------------------------------------------------------------===//

static LogicalResult verifyPerChannel(Operation *op, Value param,
                                      int64_t channels, StringRef what) {
  int64_t n = shapeOf(param)[0];
  if (n != channels)
    return op->emitOpError(what) << " has " << n << " elements, expected "
                                 << channels << " (one per channel)";
  return success();
}

LogicalResult BatchNormOp::verify() {
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type ")
           << getResult().getType() << " differs from the input type "
           << getInput().getType();
  return verifyPerChannel(*this, getScale(), shapeOf(getInput())[1],
                          "scale");
}

LogicalResult BNFoldFilterOp::verify() {
  if (getFilter().getType() != getResult().getType())
    return emitOpError("result type must equal the filter type");
  return verifyPerChannel(*this, getScale(), shapeOf(getFilter())[0],
                          "scale");
}

LogicalResult BNFoldBiasOp::verify() {
  if (getResult().getType() != getScale().getType())
    return emitOpError("result type must equal the scale type ")
           << getScale().getType();
  if (getBias() && getBias().getType() != getScale().getType())
    return emitOpError("bias type ")
           << getBias().getType() << " differs from the scale type "
           << getScale().getType();
  return success();
}

/// The per-channel factor scale / sqrt(var + eps), or empty if the operands
/// are not constants.
static std::optional<SmallVector<float>>
bnFactor(Attribute scaleAttr, Attribute varianceAttr, double eps) {
  auto scale = dyn_cast_if_present<DenseFPElementsAttr>(scaleAttr);
  auto variance = dyn_cast_if_present<DenseFPElementsAttr>(varianceAttr);
  if (!scale || !variance)
    return std::nullopt;
  SmallVector<float> factor;
  for (auto [g, v] :
       llvm::zip(scale.getValues<float>(), variance.getValues<float>()))
    factor.push_back(float(double(g) / std::sqrt(double(v) + eps)));
  return factor;
}

OpFoldResult BNFoldFilterOp::fold(FoldAdaptor adaptor) {
  auto filter = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getFilter());
  auto factor = bnFactor(adaptor.getScale(), adaptor.getVariance(),
                         getEpsilon().convertToDouble());
  if (!filter || !factor)
    return {};
  auto values = llvm::to_vector(filter.getValues<float>());
  size_t perChannel = values.size() / factor->size();
  for (size_t i = 0; i < values.size(); ++i)
    values[i] *= (*factor)[i / perChannel];
  return DenseElementsAttr::get(getType(), ArrayRef<float>(values));
}

OpFoldResult BNFoldBiasOp::fold(FoldAdaptor adaptor) {
  auto shift = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getShift());
  auto mean = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getMean());
  auto bias = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getBias());
  auto factor = bnFactor(adaptor.getScale(), adaptor.getVariance(),
                         getEpsilon().convertToDouble());
  if (!shift || !mean || !factor || (getBias() && !bias))
    return {};
  auto b = llvm::to_vector(shift.getValues<float>());
  auto m = llvm::to_vector(mean.getValues<float>());
  SmallVector<float> conv(b.size(), 0.0f);
  if (bias)
    conv = llvm::to_vector(bias.getValues<float>());
  SmallVector<float> values(b.size());
  for (size_t c = 0; c < b.size(); ++c)
    values[c] = (conv[c] - m[c]) * (*factor)[c] + b[c];
  return DenseElementsAttr::get(getType(), ArrayRef<float>(values));
}

//===----------------------------------------------------------------------===//
// Pooling, flatten, linear
//===----------------------------------------------------------------------===//

LogicalResult GlobalAvgPoolOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput()), out = shapeOf(getResult());
  if (out[0] != in[0] || out[1] != in[1] || out[2] != 1 || out[3] != 1)
    return emitOpError("result must be ")
           << in[0] << "x" << in[1] << "x1x1, got " << getResult().getType();
  return success();
}

static int64_t trailingElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape.drop_front())
    n *= d;
  return n;
}

LogicalResult FlattenOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput()), out = shapeOf(getResult());
  if (in.empty())
    return emitOpError("input must have rank >= 1");
  if (out[0] != in[0] || out[1] != trailingElements(in))
    return emitOpError("result must be ")
           << in[0] << "x" << trailingElements(in) << ", got "
           << getResult().getType();
  return success();
}

/// Shared by nn.linear and nn.fused_linear once the input is seen as N x K.
static LogicalResult verifyLinear(Operation *op, int64_t batch, int64_t k,
                                  Value weight, Value bias, Value result) {
  ArrayRef<int64_t> w = shapeOf(weight), out = shapeOf(result);
  if (w[1] != k)
    return op->emitOpError("weight expects ")
           << w[1] << " input features but the input has " << k;
  if (bias && shapeOf(bias)[0] != w[0])
    return op->emitOpError("bias has ")
           << shapeOf(bias)[0] << " elements but the weight has " << w[0]
           << " output features";
  if (out[0] != batch || out[1] != w[0])
    return op->emitOpError("result must be ")
           << batch << "x" << w[0] << ", got " << result.getType();
  return success();
}

LogicalResult LinearOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput());
  return verifyLinear(*this, in[0], in[1], getWeight(), getBias(),
                      getResult());
}

LogicalResult FusedLinearOp::verify() {
  ArrayRef<int64_t> in = shapeOf(getInput());
  if (in.size() < 2)
    return emitOpError("input must have rank >= 2");
  int64_t k = trailingElements(in);
  if (getPrologue() == Prologue::global_avg_pool) {
    if (in.size() != 4)
      return emitOpError("global_avg_pool prologue needs an N x C x H x W "
                         "input, got ")
             << getInput().getType();
    k = in[1];
  }
  return verifyLinear(*this, in[0], k, getWeight(), getBias(), getResult());
}

#define GET_OP_CLASSES
#include "ptxnet/Dialect/NN/IR/NNOps.cpp.inc"
