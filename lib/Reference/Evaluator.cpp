//===- Evaluator.cpp - CPU reference execution of nn graphs ---------------===//
//
// Straightforward loops, ordered so the innermost one is contiguous and
// vectorisable: EfficientNet-B1 at batch 10 (about 5 GFLOP) runs in seconds,
// which keeps the end-to-end checks in CI.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Reference/Evaluator.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace ptxnet;
using namespace ptxnet::nn;
using reference::Tensor;

static llvm::Error opError(Operation *op, const llvm::Twine &msg) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getLoc() << ": '" << op->getName() << "' " << msg;
  return llvm::createStringError(llvm::inconvertibleErrorCode(), os.str());
}

/// A tensor of this shape, all zeros.
static Tensor zeroTensor(ArrayRef<int64_t> shape) {
  Tensor t;
  t.shape.assign(shape.begin(), shape.end());
  t.data.assign(ShapedType::getNumElements(shape), 0.0f);
  return t;
}

static Tensor makeTensor(Value v) {
  return zeroTensor(cast<RankedTensorType>(v.getType()).getShape());
}

static float activate(float x, Activation act) {
  switch (act) {
  case Activation::none:
    return x;
  case Activation::relu:
    return std::max(x, 0.0f);
  case Activation::relu6:
    return std::min(std::max(x, 0.0f), 6.0f);
  }
  return x;
}

/// out = act(conv(in, w) + bias), NCHW / OIHW, any stride, padding, groups.
static void convolution(const Tensor &in, const Tensor &w, const float *bias,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
                        int64_t groups, Activation act, Tensor &out) {
  int64_t n = in.shape[0], c = in.shape[1], h = in.shape[2], wd = in.shape[3];
  int64_t oc = w.shape[0], icg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
  int64_t oh = out.shape[2], ow = out.shape[3];
  int64_t ocg = oc / groups, sh = strides[0], sw = strides[1];
  int64_t pt = padding[0], pl = padding[1];
  std::vector<float> plane(oh * ow);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t o = 0; o < oc; ++o) {
      std::fill(plane.begin(), plane.end(), 0.0f);
      int64_t g = o / ocg;
      for (int64_t i = 0; i < icg; ++i) {
        const float *src = &in.data[((b * c) + g * icg + i) * h * wd];
        for (int64_t y = 0; y < kh; ++y) {
          for (int64_t x = 0; x < kw; ++x) {
            float wv = w.data[((o * icg + i) * kh + y) * kw + x];
            for (int64_t r = 0; r < oh; ++r) {
              int64_t iy = r * sh + y - pt;
              if (iy < 0 || iy >= h)
                continue;
              float *dst = &plane[r * ow];
              const float *row = src + iy * wd;
              for (int64_t q = 0; q < ow; ++q) {
                int64_t ix = q * sw + x - pl;
                if (ix >= 0 && ix < wd)
                  dst[q] += wv * row[ix];
              }
            }
          }
        }
      }
      float *dst = &out.data[(b * oc + o) * oh * ow];
      float bv = bias ? bias[o] : 0.0f;
      for (int64_t p = 0; p < oh * ow; ++p)
        dst[p] = activate(plane[p] + bv, act);
    }
  }
}

/// The 1x1, stride 1, unpadded, ungrouped case as a GEMM with a contiguous
/// inner loop: most of the model's FLOPs.
static bool isPointwise(const Tensor &w, ArrayRef<int64_t> strides,
                        ArrayRef<int64_t> padding, int64_t groups) {
  return groups == 1 && w.shape[2] == 1 && w.shape[3] == 1 &&
         strides[0] == 1 && strides[1] == 1 &&
         llvm::all_of(padding, [](int64_t p) { return p == 0; });
}

static void pointwise(const Tensor &in, const Tensor &w, const float *bias,
                      Activation act, Tensor &out) {
  int64_t n = in.shape[0], c = in.shape[1], hw = in.shape[2] * in.shape[3];
  int64_t oc = w.shape[0];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < oc; ++o) {
      float *dst = &out.data[(b * oc + o) * hw];
      std::fill(dst, dst + hw, 0.0f);
      for (int64_t i = 0; i < c; ++i) {
        float wv = w.data[o * c + i];
        const float *src = &in.data[(b * c + i) * hw];
        for (int64_t p = 0; p < hw; ++p)
          dst[p] += wv * src[p];
      }
      float bv = bias ? bias[o] : 0.0f;
      for (int64_t p = 0; p < hw; ++p)
        dst[p] = activate(dst[p] + bv, act);
    }
}

static void convolutionOp(const Tensor &in, const Tensor &w, const float *bias,
                          ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
                          int64_t groups, Activation act, Tensor &out) {
  if (isPointwise(w, strides, padding, groups))
    pointwise(in, w, bias, act, out);
  else
    convolution(in, w, bias, strides, padding, groups, act, out);
}

/// Mean over H x W of N x C x H x W, as N x C.
static std::vector<float> globalAvgPool(const Tensor &in) {
  int64_t nc = in.shape[0] * in.shape[1], hw = in.shape[2] * in.shape[3];
  std::vector<float> out(nc);
  for (int64_t i = 0; i < nc; ++i) {
    double sum = 0;
    for (int64_t p = 0; p < hw; ++p)
      sum += in.data[i * hw + p];
    out[i] = float(sum / double(hw));
  }
  return out;
}

/// out[n][m] = act(sum_k x[n][k] * w[m][k] + b[m])
static void linear(const float *x, int64_t n, int64_t k, const Tensor &w,
                   const float *bias, Activation act, Tensor &out) {
  int64_t m = w.shape[0];
  for (int64_t b = 0; b < n; ++b)
    for (int64_t j = 0; j < m; ++j) {
      double sum = 0;
      for (int64_t i = 0; i < k; ++i)
        sum += double(x[b * k + i]) * w.data[j * k + i];
      out.data[b * m + j] = activate(float(sum + (bias ? bias[j] : 0.0f)), act);
    }
}

static std::vector<float> bnFactor(const Tensor &scale, const Tensor &variance,
                                   double eps) {
  std::vector<float> f(scale.data.size());
  for (size_t c = 0; c < f.size(); ++c)
    f[c] = float(double(scale.data[c]) / std::sqrt(double(variance.data[c]) + eps));
  return f;
}

/// A 1x1 convolution (stride 1, no padding, one group) into `out`.
static void pointwiseOp(const Tensor &in, const Tensor &w, const float *bias,
                        Activation act, Tensor &out) {
  int64_t zeros[] = {0, 0, 0, 0}, ones[] = {1, 1};
  convolutionOp(in, w, bias, ones, zeros, 1, act, out);
}

/// conv1x1 + activation into the hidden tensor, then the depthwise
/// convolution of it into `out` (whose shape is set).
static void expandDepthwise(const Tensor &in, const Tensor &expandFilter,
                            const float *expandBias, Activation expandAct,
                            const Tensor &filter, const float *bias,
                            ArrayRef<int64_t> strides,
                            ArrayRef<int64_t> padding, Activation act,
                            Tensor &out) {
  Tensor hidden = zeroTensor(
      {in.shape[0], expandFilter.shape[0], in.shape[2], in.shape[3]});
  pointwiseOp(in, expandFilter, expandBias, expandAct, hidden);
  convolutionOp(hidden, filter, bias, strides, padding, hidden.shape[1], act,
                out);
}

llvm::Expected<Tensor>
reference::evaluateGraph(GraphOp graph, const SafetensorsFile *weights,
                         ArrayRef<Tensor> inputs) {
  Block &body = graph.getBody().front();
  if (inputs.size() != body.getNumArguments())
    return opError(graph, "expects " + llvm::Twine(body.getNumArguments()) +
                              " inputs, got " + llvm::Twine(inputs.size()));
  llvm::DenseMap<Value, Tensor> env;
  for (auto [arg, input] : llvm::zip(body.getArguments(), inputs)) {
    auto type = cast<RankedTensorType>(arg.getType());
    if (int64_t(input.data.size()) != type.getNumElements())
      return opError(graph, "input holds " + llvm::Twine(input.data.size()) +
                                " values, the graph expects " +
                                llvm::Twine(type.getNumElements()));
    env[arg] = input;
  }
  // Frees a value once its last user has run: the unfused model holds many
  // large intermediates otherwise.
  llvm::DenseMap<Value, Operation *> lastUse;
  for (Operation &op : body)
    for (Value v : op.getOperands())
      lastUse[v] = &op;

  for (Operation &opRef : body) {
    Operation *op = &opRef;
    if (auto output = dyn_cast<OutputOp>(op))
      return env.lookup(output.getResults()[0]);
    auto get = [&](Value v) -> const Tensor & { return env.find(v)->second; };
    auto biasPtr = [&](Value v) -> const float * {
      return v ? get(v).data.data() : nullptr;
    };
    Tensor result;
    if (op->getNumResults() == 1)
      result = makeTensor(op->getResult(0));
    llvm::Error err = llvm::Error::success();
    llvm::TypeSwitch<Operation *>(op)
        .Case<WeightOp>([&](WeightOp w) {
          if (!weights) {
            err = opError(op, "needs a weights file (--weights)");
            return;
          }
          auto data = weights->readF32(w.getName(), result.shape);
          if (!data)
            err = data.takeError();
          else
            result.data.assign(data->begin(), data->end());
        })
        .Case<arith::ConstantOp>([&](arith::ConstantOp c) {
          auto dense = dyn_cast<DenseFPElementsAttr>(c.getValue());
          if (!dense)
            err = opError(op, "holds no dense f32 tensor");
          else
            result.data.assign(dense.value_begin<float>(), dense.value_end<float>());
        })
        .Case<Conv2DOp>([&](Conv2DOp c) {
          convolutionOp(get(c.getInput()), get(c.getFilter()),
                        biasPtr(c.getBias()), c.getStrides(), c.getPadding(),
                        c.getGroups(), Activation::none, result);
        })
        .Case<FusedConv2DOp>([&](FusedConv2DOp c) {
          if (!c.getPooled()) {
            convolutionOp(get(c.getInput()), get(c.getFilter()),
                          biasPtr(c.getBias()), c.getStrides(), c.getPadding(),
                          c.getGroups(), c.getActivation(), result);
            return;
          }
          // The full map first, then its mean over H x W.
          const Tensor &in = get(c.getInput());
          const Tensor &w = get(c.getFilter());
          Tensor full = zeroTensor(
              {in.shape[0], w.shape[0],
               convOutputSize(in.shape[2], w.shape[2], c.getStrides()[0],
                              c.getPadding()[0], c.getPadding()[2]),
               convOutputSize(in.shape[3], w.shape[3], c.getStrides()[1],
                              c.getPadding()[1], c.getPadding()[3])});
          convolutionOp(in, w, biasPtr(c.getBias()), c.getStrides(),
                        c.getPadding(), c.getGroups(), c.getActivation(), full);
          result.data = globalAvgPool(full);
        })
        .Case<FusedExpandDepthwiseOp>([&](FusedExpandDepthwiseOp f) {
          expandDepthwise(get(f.getInput()), get(f.getExpandFilter()),
                          biasPtr(f.getExpandBias()), f.getExpandActivation(),
                          get(f.getFilter()), biasPtr(f.getBias()),
                          f.getStrides(), f.getPadding(), f.getActivation(),
                          result);
        })
        .Case<FusedMBConvOp>([&](FusedMBConvOp f) {
          const Tensor &wp = get(f.getProjectFilter());
          Tensor dw = zeroTensor(
              {result.shape[0], wp.shape[1], result.shape[2], result.shape[3]});
          expandDepthwise(get(f.getInput()), get(f.getExpandFilter()),
                          biasPtr(f.getExpandBias()), f.getExpandActivation(),
                          get(f.getFilter()), biasPtr(f.getBias()),
                          f.getStrides(), f.getPadding(), f.getActivation(),
                          dw);
          pointwiseOp(dw, wp, biasPtr(f.getProjectBias()),
                      f.getProjectActivation(), result);
        })
        .Case<BatchNormOp>([&](BatchNormOp bn) {
          const Tensor &in = get(bn.getInput());
          auto f = bnFactor(get(bn.getScale()), get(bn.getVariance()),
                            bn.getEpsilon().convertToDouble());
          const auto &mean = get(bn.getMean()).data;
          const auto &shift = get(bn.getShift()).data;
          int64_t c = in.shape[1], hw = in.shape[2] * in.shape[3];
          for (size_t i = 0; i < in.data.size(); ++i) {
            int64_t ch = (i / hw) % c;
            result.data[i] = (in.data[i] - mean[ch]) * f[ch] + shift[ch];
          }
        })
        .Case<ReluOp, Relu6Op>([&](Operation *) {
          Activation act = isa<ReluOp>(op) ? Activation::relu : Activation::relu6;
          const Tensor &in = get(op->getOperand(0));
          for (size_t i = 0; i < in.data.size(); ++i)
            result.data[i] = activate(in.data[i], act);
        })
        .Case<AddOp, MulOp>([&](Operation *) {
          const Tensor &l = get(op->getOperand(0)), &r = get(op->getOperand(1));
          bool isAdd = isa<AddOp>(op);
          for (size_t i = 0; i < l.data.size(); ++i)
            result.data[i] = isAdd ? l.data[i] + r.data[i] : l.data[i] * r.data[i];
        })
        .Case<SigmoidOp>([&](SigmoidOp s) {
          const Tensor &in = get(s.getInput());
          for (size_t i = 0; i < in.data.size(); ++i)
            result.data[i] = float(1.0 / (1.0 + std::exp(-double(in.data[i]))));
        })
        .Case<GlobalAvgPoolOp>([&](GlobalAvgPoolOp p) {
          result.data = globalAvgPool(get(p.getInput()));
        })
        .Case<FlattenOp>(
            [&](FlattenOp f) { result.data = get(f.getInput()).data; })
        .Case<LinearOp>([&](LinearOp l) {
          const Tensor &x = get(l.getInput());
          linear(x.data.data(), x.shape[0], x.shape[1], get(l.getWeight()),
                 biasPtr(l.getBias()), Activation::none, result);
        })
        .Case<FusedLinearOp>([&](FusedLinearOp l) {
          const Tensor &x = get(l.getInput());
          std::vector<float> pooled;
          const float *data = x.data.data();
          int64_t k = int64_t(x.data.size()) / x.shape[0];
          if (l.getPrologue() == Prologue::global_avg_pool) {
            pooled = globalAvgPool(x);
            data = pooled.data();
            k = x.shape[1];
          }
          linear(data, x.shape[0], k, get(l.getWeight()), biasPtr(l.getBias()),
                 l.getActivation(), result);
        })
        .Case<BNFoldFilterOp>([&](BNFoldFilterOp f) {
          const Tensor &w = get(f.getFilter());
          auto factor = bnFactor(get(f.getScale()), get(f.getVariance()),
                                 f.getEpsilon().convertToDouble());
          size_t per = w.data.size() / factor.size();
          for (size_t i = 0; i < w.data.size(); ++i)
            result.data[i] = w.data[i] * factor[i / per];
        })
        .Case<BNFoldBiasOp>([&](BNFoldBiasOp f) {
          auto factor = bnFactor(get(f.getScale()), get(f.getVariance()),
                                 f.getEpsilon().convertToDouble());
          const auto &mean = get(f.getMean()).data;
          const auto &shift = get(f.getShift()).data;
          for (size_t c = 0; c < factor.size(); ++c) {
            float b = f.getBias() ? get(f.getBias()).data[c] : 0.0f;
            result.data[c] = (b - mean[c]) * factor[c] + shift[c];
          }
        })
        .Default([&](Operation *) {
          err = opError(op, "is not supported by the reference evaluator");
        });
    if (err)
      return std::move(err);
    for (Value v : op->getOperands())
      if (lastUse.lookup(v) == op)
        env.erase(v);
    if (op->getNumResults() == 1)
      env[op->getResult(0)] = std::move(result);
  }
  return opError(graph, "has no nn.output");
}
