//===- ImportONNX.cpp - ONNX models to the nn dialect ---------------------===//
//
// Reads the model with Debian's ONNX library (its generated protobuf classes),
// then walks the nodes in order (ONNX graphs are topologically sorted) and
// builds one nn op per node. Weights are initializers or Constant nodes; they
// become arith.constant. Result shapes are computed here, and the nn verifiers
// check them, so an inconsistent model is an error rather than a crash.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Import/ONNX.h"
#include "ptxnet/Dialect/NN/IR/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <limits>

using namespace mlir;
using namespace ptxnet;

namespace {

/// A weight as read from the model: shape and float data.
struct ConstTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

class Importer {
public:
  Importer(MLIRContext *context, StringRef path)
      : context(context), builder(context), path(path) {}

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model);

private:
  Location nodeLoc(const onnx::NodeProto &node, int index);
  LogicalResult readTensor(const onnx::TensorProto &t, ConstTensor &out,
                           Location loc);
  LogicalResult importNode(const onnx::NodeProto &node, Location loc);

  /// The SSA value of an activation (a graph input or an earlier node's
  /// output), or of a weight (materialised as arith.constant on first use).
  FailureOr<Value> value(StringRef name, Location loc);
  const ConstTensor *constant(StringRef name) const {
    auto it = constants.find(name);
    return it == constants.end() ? nullptr : &it->second;
  }
  Value materialize(const ConstTensor &t, Location loc);
  RankedTensorType tensorType(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }
  static ArrayRef<int64_t> shapeOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  }

  MLIRContext *context;
  OpBuilder builder;
  std::string path;
  llvm::StringMap<Value> values;
  llvm::StringMap<ConstTensor> constants;
  llvm::StringMap<unsigned> useCount; // readers of each ONNX value name
  std::string currentNode;            // "node 'name' (OpType)"

  InFlightDiagnostic fail(Location loc) {
    return emitError(loc) << currentNode << ": ";
  }
};
} // namespace

/// Node i is reported as "line" i + 1 of the model file, and named in the
/// IR's locations, so diagnostics and the printed graph point at it.
Location Importer::nodeLoc(const onnx::NodeProto &node, int index) {
  currentNode = (node.name().empty()
                     ? "node #" + std::to_string(index)
                     : "node '" + node.name() + "'") +
                " (" + node.op_type() + ")";
  return NameLoc::get(builder.getStringAttr(currentNode),
                      FileLineColLoc::get(context, path, index + 1, 0));
}

LogicalResult Importer::readTensor(const onnx::TensorProto &t, ConstTensor &out,
                                   Location loc) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return fail(loc) << "tensor '" << t.name()
                          << "' uses external data, which is not supported";
  out.shape.assign(t.dims().begin(), t.dims().end());
  int64_t n = out.numElements();
  out.data.resize(n);
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    if (t.has_raw_data()) {
      if (int64_t(t.raw_data().size()) != n * 4)
        return fail(loc) << "tensor '" << t.name() << "' holds "
                              << t.raw_data().size() << " bytes, its shape needs "
                              << n * 4;
      std::memcpy(out.data.data(), t.raw_data().data(), n * 4);
    } else {
      if (t.float_data_size() != n)
        return fail(loc) << "tensor '" << t.name() << "' holds "
                              << t.float_data_size()
                              << " floats, its shape needs " << n;
      std::copy(t.float_data().begin(), t.float_data().end(), out.data.begin());
    }
    return success();
  case onnx::TensorProto::DOUBLE:
    if (t.has_raw_data() && int64_t(t.raw_data().size()) == n * 8) {
      const double *d = reinterpret_cast<const double *>(t.raw_data().data());
      std::copy(d, d + n, out.data.begin());
      return success();
    }
    if (t.double_data_size() == n) {
      std::copy(t.double_data().begin(), t.double_data().end(),
                out.data.begin());
      return success();
    }
    return fail(loc) << "tensor '" << t.name() << "' has a bad size";
  default:
    return fail(loc) << "tensor '" << t.name() << "' has ONNX data type "
                          << t.data_type() << "; only float is supported";
  }
}

Value Importer::materialize(const ConstTensor &t, Location loc) {
  auto type = tensorType(t.shape);
  return arith::ConstantOp::create(
      builder, loc, type, DenseElementsAttr::get(type, ArrayRef<float>(t.data)));
}

FailureOr<Value> Importer::value(StringRef name, Location loc) {
  if (auto it = values.find(name); it != values.end())
    return it->second;
  if (const ConstTensor *t = constant(name)) {
    Value v = materialize(*t, loc);
    values[name] = v;
    return v;
  }
  return fail(loc) << "input '" << name
                        << "' is neither a graph input, an initializer nor "
                           "the output of an earlier node";
}

static const onnx::AttributeProto *findAttr(const onnx::NodeProto &node,
                                            StringRef name) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

static SmallVector<int64_t> intsAttr(const onnx::NodeProto &node,
                                     StringRef name,
                                     SmallVector<int64_t> dflt) {
  const onnx::AttributeProto *a = findAttr(node, name);
  if (!a)
    return dflt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

static int64_t intAttr(const onnx::NodeProto &node, StringRef name,
                       int64_t dflt) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->i() : dflt;
}

static float floatAttr(const onnx::NodeProto &node, StringRef name,
                       float dflt) {
  const onnx::AttributeProto *a = findAttr(node, name);
  return a ? a->f() : dflt;
}

/// The double with the float's shortest decimal spelling: ONNX stores epsilon
/// as float, and 1e-3f should read as 1e-3, not 1.0000000474974513e-3.
static double widenDecimal(float f) {
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, double(f));
    if (float(std::strtod(text, nullptr)) == f)
      break;
  }
  return std::strtod(text, nullptr);
}

/// A transposed copy of a 2-D weight: ONNX MatMul/Gemm(transB=0) hold K x M,
/// nn.linear wants PyTorch's M x K.
static ConstTensor transpose2D(const ConstTensor &t) {
  ConstTensor r;
  r.shape = {t.shape[1], t.shape[0]};
  r.data.resize(t.data.size());
  for (int64_t i = 0; i < t.shape[0]; ++i)
    for (int64_t j = 0; j < t.shape[1]; ++j)
      r.data[j * t.shape[0] + i] = t.data[i * t.shape[1] + j];
  return r;
}

LogicalResult Importer::importNode(const onnx::NodeProto &node, Location loc) {
  StringRef op = node.op_type();
  auto input = [&](int i) -> FailureOr<Value> {
    if (i >= node.input_size() || node.input(i).empty())
      return fail(loc) << "needs input #" << i;
    return value(node.input(i), loc);
  };
  auto constInput = [&](int i) -> const ConstTensor * {
    if (i >= node.input_size() || node.input(i).empty())
      return nullptr;
    return constant(node.input(i));
  };
  auto define = [&](Value v) {
    if (node.output_size() < 1)
      return;
    values[node.output(0)] = v;
  };
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return fail(loc) << "op '" << op << "' of domain '" << node.domain()
                          << "' is not supported";

  if (op == "Constant") {
    const onnx::AttributeProto *a = findAttr(node, "value");
    if (!a || !a->has_t())
      return fail(loc) << "Constant without a tensor 'value' is not "
                               "supported";
    ConstTensor t;
    if (failed(readTensor(a->t(), t, loc)))
      return failure();
    constants[node.output(0)] = std::move(t);
    return success();
  }

  if (op == "Identity") {
    if (node.input_size() != 1 || node.output_size() != 1)
      return fail(loc) << "Identity needs one input and one output";
    if (const ConstTensor *c = constInput(0)) {
      constants[node.output(0)] = *c;
      return success();
    }
    FailureOr<Value> x = input(0);
    if (failed(x))
      return failure();
    define(*x);
    return success();
  }

  if (op == "Conv") {
    FailureOr<Value> x = input(0);
    const ConstTensor *w = constInput(1);
    if (failed(x))
      return failure();
    if (!w || w->shape.size() != 4)
      return fail(loc) << "Conv needs a constant 4-D filter";
    if (llvm::any_of(intsAttr(node, "dilations", {1, 1}),
                     [](int64_t d) { return d != 1; }))
      return fail(loc) << "Conv with dilations other than 1 is not "
                               "supported";
    if (const auto *a = findAttr(node, "auto_pad");
        a && a->s() != "NOTSET" && !a->s().empty())
      return fail(loc) << "Conv auto_pad '" << a->s()
                            << "' is not supported; export explicit pads";
    auto strides = intsAttr(node, "strides", {1, 1});
    auto pads = intsAttr(node, "pads", {0, 0, 0, 0});
    int64_t groups = intAttr(node, "group", 1);
    if (strides.size() != 2 || pads.size() != 4)
      return fail(loc) << "only 2-D convolutions are supported";
    if (shapeOf(*x).size() != 4 || groups <= 0)
      return fail(loc) << "Conv needs an N x C x H x W input and a "
                               "positive group";
    ArrayRef<int64_t> in = shapeOf(*x);
    int64_t oh = nn::convOutputSize(in[2], w->shape[2], strides[0], pads[0],
                                    pads[2]);
    int64_t ow = nn::convOutputSize(in[3], w->shape[3], strides[1], pads[1],
                                    pads[3]);
    auto type = tensorType({in[0], w->shape[0], oh, ow});
    Value filter = materialize(*w, loc);
    Value bias;
    if (node.input_size() > 2 && !node.input(2).empty()) {
      const ConstTensor *b = constInput(2);
      if (!b)
        return fail(loc) << "Conv bias must be a constant";
      bias = materialize(*b, loc);
    }
    define(nn::Conv2DOp::create(builder, loc, type, *x, filter, bias,
                                builder.getDenseI64ArrayAttr(strides),
                                builder.getDenseI64ArrayAttr(pads),
                                builder.getI64IntegerAttr(groups)));
    return success();
  }

  if (op == "BatchNormalization") {
    FailureOr<Value> x = input(0);
    if (failed(x))
      return failure();
    SmallVector<Value> params;
    for (int i = 1; i <= 4; ++i) {
      const ConstTensor *p = constInput(i);
      if (!p || p->shape.size() != 1)
        return fail(loc) << "BatchNormalization input #" << i
                              << " must be a constant 1-D tensor";
      params.push_back(materialize(*p, loc));
    }
    if (node.output_size() > 1)
      return fail(loc) << "BatchNormalization in training mode (more "
                               "than one output) is not supported";
    define(nn::BatchNormOp::create(
        builder, loc, x->getType(), *x, params[0], params[1], params[2],
        params[3], builder.getF64FloatAttr(widenDecimal(floatAttr(node, "epsilon", 1e-5f)))));
    return success();
  }

  if (op == "Relu" || op == "Sigmoid") {
    FailureOr<Value> x = input(0);
    if (failed(x))
      return failure();
    if (op == "Relu")
      define(nn::ReluOp::create(builder, loc, *x));
    else
      define(nn::SigmoidOp::create(builder, loc, *x));
    return success();
  }

  if (op == "Clip") {
    FailureOr<Value> x = input(0);
    if (failed(x))
      return failure();
    float lo = -std::numeric_limits<float>::infinity();
    float hi = std::numeric_limits<float>::infinity();
    // Opset >= 11: min and max are optional (constant) inputs; before,
    // attributes.
    lo = floatAttr(node, "min", lo);
    hi = floatAttr(node, "max", hi);
    for (int i = 1; i <= 2; ++i) {
      if (i >= node.input_size() || node.input(i).empty())
        continue;
      const ConstTensor *c = constInput(i);
      if (!c || c->data.size() != 1)
        return fail(loc) << "Clip bound #" << i
                              << " must be a constant scalar";
      (i == 1 ? lo : hi) = c->data[0];
    }
    if (lo == 0.0f && hi == 6.0f)
      define(nn::Relu6Op::create(builder, loc, *x));
    else if (lo == 0.0f && std::isinf(hi))
      define(nn::ReluOp::create(builder, loc, *x));
    else
      return fail(loc) << "Clip(min = " << llvm::formatv("{0}", lo).str()
                       << ", max = " << llvm::formatv("{0}", hi).str()
                            << ") is not supported: only ReLU (0, inf) and "
                               "ReLU6 (0, 6)";
    return success();
  }

  if (op == "GlobalAveragePool") {
    FailureOr<Value> x = input(0);
    if (failed(x))
      return failure();
    ArrayRef<int64_t> in = shapeOf(*x);
    if (in.size() != 4)
      return fail(loc) << "GlobalAveragePool needs an N x C x H x W input";
    define(nn::GlobalAvgPoolOp::create(builder, loc,
                                       tensorType({in[0], in[1], 1, 1}), *x));
    return success();
  }

  if (op == "Flatten") {
    FailureOr<Value> x = input(0);
    if (failed(x))
      return failure();
    if (intAttr(node, "axis", 1) != 1)
      return fail(loc) << "Flatten with axis != 1 is not supported";
    ArrayRef<int64_t> in = shapeOf(*x);
    int64_t k = 1;
    for (int64_t d : in.drop_front())
      k *= d;
    define(nn::FlattenOp::create(builder, loc, tensorType({in[0], k}), *x));
    return success();
  }

  if (op == "Gemm" || op == "MatMul") {
    FailureOr<Value> x = input(0);
    const ConstTensor *b = constInput(1);
    if (failed(x))
      return failure();
    if (!b || b->shape.size() != 2 || shapeOf(*x).size() != 2)
      return fail(loc) << op << " needs a 2-D input and a constant 2-D "
                                     "weight";
    bool transB = op == "Gemm" && intAttr(node, "transB", 0);
    if (op == "Gemm" &&
        (intAttr(node, "transA", 0) || floatAttr(node, "alpha", 1) != 1 ||
         floatAttr(node, "beta", 1) != 1))
      return fail(loc) << "Gemm with transA, alpha or beta other than "
                               "the defaults is not supported";
    ConstTensor weight = transB ? *b : transpose2D(*b);
    Value w = materialize(weight, loc);
    Value bias;
    if (op == "Gemm" && node.input_size() > 2 && !node.input(2).empty()) {
      const ConstTensor *c = constInput(2);
      if (!c || c->numElements() != weight.shape[0])
        return fail(loc) << "Gemm bias must be a constant with one value "
                                 "per output";
      ConstTensor flat = *c;
      flat.shape = {weight.shape[0]};
      bias = materialize(flat, loc);
    }
    define(nn::LinearOp::create(
        builder, loc, tensorType({shapeOf(*x)[0], weight.shape[0]}), *x, w,
        bias));
    return success();
  }

  if (op == "Add" || op == "Mul") {
    // MatMul + Add(bias): a constant bias joins the linear layer, if the
    // MatMul's output has no other reader.
    if (op == "Add" && node.input_size() == 2) {
      for (int i = 0; i < 2; ++i) {
        const ConstTensor *c = constInput(1 - i);
        auto it = values.find(node.input(i));
        if (!c || it == values.end() || useCount.lookup(node.input(i)) != 1)
          continue;
        auto linear = it->second.getDefiningOp<nn::LinearOp>();
        if (!linear || linear.getBias() ||
            c->numElements() != shapeOf(linear.getResult())[1])
          continue;
        ConstTensor flat = *c;
        flat.shape = {c->numElements()};
        builder.setInsertionPoint(linear);
        Value bias = materialize(flat, loc);
        builder.setInsertionPointToEnd(linear->getBlock());
        linear.getBiasMutable().assign(bias);
        define(linear.getResult());
        return success();
      }
    }
    FailureOr<Value> lhs = input(0), rhs = input(1);
    if (failed(lhs) || failed(rhs))
      return failure();
    if (lhs->getType() != rhs->getType())
      return fail(loc) << op << " of " << lhs->getType() << " and "
                            << rhs->getType()
                            << " is not supported: broadcasting is only "
                               "supported for a MatMul bias";
    if (op == "Add")
      define(nn::AddOp::create(builder, loc, *lhs, *rhs));
    else
      define(nn::MulOp::create(builder, loc, *lhs, *rhs));
    return success();
  }

  return fail(loc) << "ONNX op '" << op << "' is not supported";
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model) {
  Location fileLoc = FileLineColLoc::get(context, path, 0, 0);
  const onnx::GraphProto &graph = model.graph();
  for (const onnx::TensorProto &init : graph.initializer()) {
    ConstTensor t;
    if (failed(readTensor(init, t, fileLoc)))
      return nullptr;
    constants[init.name()] = std::move(t);
  }
  for (const auto &node : graph.node())
    for (const auto &in : node.input())
      ++useCount[in];
  for (const auto &out : graph.output())
    ++useCount[out.name()];
  // The model input: the graph input that is not an initializer.
  SmallVector<const onnx::ValueInfoProto *> inputs;
  for (const auto &in : graph.input())
    if (!constants.count(in.name()))
      inputs.push_back(&in);
  if (inputs.size() != 1 || graph.output_size() != 1) {
    emitError(fileLoc) << "expected a model with one input and one output, "
                          "found "
                       << inputs.size() << " and " << graph.output_size();
    return nullptr;
  }
  const auto &tensorType = inputs[0]->type().tensor_type();
  if (tensorType.elem_type() != onnx::TensorProto::FLOAT) {
    emitError(fileLoc) << "the input '" << inputs[0]->name()
                       << "' must be float32";
    return nullptr;
  }
  SmallVector<int64_t> shape;
  for (const auto &d : tensorType.shape().dim()) {
    if (!d.has_dim_value() || d.dim_value() <= 0) {
      emitError(fileLoc) << "the input '" << inputs[0]->name()
                         << "' must have a static shape (use --batch to set "
                            "a symbolic batch)";
      return nullptr;
    }
    shape.push_back(d.dim_value());
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  std::string name = graph.name().empty() ? "model" : graph.name();
  for (char &c : name)
    if (!isalnum(static_cast<unsigned char>(c)))
      c = '_';
  // The result type is only known at the end: start with a placeholder.
  auto graphOp = nn::GraphOp::create(
      builder, fileLoc, name,
      builder.getFunctionType({this->tensorType(shape)}, {}));
  Block &body = graphOp.getBody().front();
  values[inputs[0]->name()] = body.getArgument(0);
  builder.setInsertionPointToEnd(&body);
  for (auto [i, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, nodeLoc(node, int(i)))))
      return nullptr;
  FailureOr<Value> result = value(graph.output(0).name(), fileLoc);
  if (failed(result))
    return nullptr;
  nn::OutputOp::create(builder, fileLoc, ValueRange{*result});
  graphOp.setFunctionTypeAttr(TypeAttr::get(builder.getFunctionType(
      {this->tensorType(shape)}, {result->getType()})));
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> ptxnet::importONNXFile(StringRef path,
                                             MLIRContext *context) {
  context->loadDialect<nn::NNDialect, arith::ArithDialect>();
  Location loc = FileLineColLoc::get(context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(loc) << "cannot open '" << path
                   << "': " << buffer.getError().message();
    return nullptr;
  }
  onnx::ModelProto model;
  StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() > size_t(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), int(bytes.size()))) {
    emitError(loc) << "'" << path
                   << "' is not a valid ONNX model (protobuf parse failed: "
                      "malformed or truncated file)";
    return nullptr;
  }
  if (!model.has_graph()) {
    emitError(loc) << "'" << path << "' holds no graph";
    return nullptr;
  }
  Importer importer(context, path);
  return importer.run(model);
}
