//===- ptxnet-compile.cpp - graph in, executable and PTX out --------------===//
//
//   ptxnet-compile model.mlir --weights w.safetensors --chip sm_89 -o effnet
//
// writes `effnet` (a program that runs the model on an NVIDIA GPU) and
// `effnet.ptx`. The pipeline: nn-set-batch (--batch), nn-import-weights,
// nn-fusion-pipeline, convert-nn-to-gpu, ptxnet-gpu-to-binary, then LLVM's
// TargetMachine for the host object and the system C++ driver to link it
// with the ptxnet runtime.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Conversion/Passes.h"
#include "ptxnet/Conversion/Precision.h"
#include "ptxnet/Dialect/NN/Transforms/Passes.h"
#include "ptxnet/Support/GraphIO.h"
#include "ptxnet/Target/HostEmission.h"
#include "ptxnet/Target/Pipelines.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>

using namespace mlir;
using namespace ptxnet;
namespace cl = llvm::cl;

enum class Emit { fused, gpu, llvm, ptx, obj, exe };

static cl::OptionCategory category("ptxnet-compile options");
static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir|model.onnx>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> outputFile("o",
                                       cl::desc("Output executable (the PTX "
                                                "goes to <output>.ptx)"),
                                       cl::value_desc("file"), cl::init("model"),
                                       cl::cat(category));
static cl::opt<std::string> weightsFile(
    "weights", cl::desc("Safetensors file with the graph's nn.weight names"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> chip("chip",
                                 cl::desc("NVIDIA architecture: sm_89 (Ada, "
                                          "the default) or sm_90 (Hopper)"),
                                 cl::init("sm_89"), cl::cat(category));
static cl::opt<int64_t> batch("batch",
                              cl::desc("Compile for this batch size instead "
                                       "of the graph's"),
                              cl::init(0), cl::cat(category));
static cl::opt<std::string> precision(
    "precision",
    cl::desc("fp32 (exact float32, the default), tf32 (tensor cores for the "
             "1x1 convolutions), f16 or bf16 (16-bit tensor cores, "
             "activations stored in that type); float32 accumulation in all "
             "four (but see --f16-depthwise-math)"),
    cl::init("fp32"), cl::cat(category));
static cl::opt<int64_t> fuseExpand(
    "fuse-expand-depthwise",
    cl::desc("Fuse MBConv expand 1x1 + depthwise 3x3 pairs whose expand has "
             "at most this many input channels (0: never). By default, f16 "
             "and bf16 fuse the pairs with at most 32 input channels, where "
             "the fused tensor-core kernel measured faster at every batch "
             "size (EfficientNet-B1's first three blocks at batch 10 and "
             "64, the first two at batch 1; the second expand is composed "
             "from 32 channels at batch 1 and 10); fp32 and tf32 fuse none"),
    cl::init(-1), cl::cat(category));
static cl::opt<int64_t> fuseGemmDepthwise(
    "fuse-gemm-depthwise",
    cl::desc("f16/bf16: also fuse 1x1 + depthwise pairs of any depth over "
             "maps of at most this many pixels, a divisor of it (0: never): "
             "one tensor-core GEMM whose column tiles hold whole images runs "
             "the depthwise in its epilogue. By default 64 (EfficientNet-B1's "
             "8x8 maps) at batch 2 to 16 in f16 and bf16, else 0: measured on "
             "an H200, 0.9% faster at batch 10, 5% slower at batch 64 and "
             "17% at batch 1 (whole-image tiles leave one image too few "
             "blocks)"),
    cl::init(-1), cl::cat(category));
static cl::opt<int64_t> fuseMBConvProject(
    "fuse-mbconv-project",
    cl::desc("f16/bf16: run each fused expand + depthwise pair and the "
             "project 1x1 after it as one kernel (nn-fuse-mbconv-project) "
             "where the project has at most this many output channels (0: "
             "never). Default 64 for f16 and bf16 (with "
             "--fuse-mbconv-max-expand-macs), 0 for fp32 and tf32"),
    cl::init(-1), cl::cat(category));
static cl::opt<int64_t> fuseMBConvMaxExpandMacs(
    "fuse-mbconv-max-expand-macs",
    cl::desc("With --fuse-mbconv-project: only blocks whose expand takes at "
             "most this many multiply-adds per position, input x hidden "
             "channels (0: any). Default 1536, measured on an H200: "
             "EfficientNet-B1's 32 -> 32 and 16 -> 96 blocks at batch 64 "
             "then run whole (2.9% faster), and the larger ones, slower "
             "whole, stay apart"),
    cl::init(1536), cl::cat(category));
static cl::opt<std::string> composePointwise(
    "compose-pointwise",
    cl::desc("Compose each 1x1 convolution without activation (an MBConv "
             "project) into the 1x1 convolution after it (the next expand, "
             "or the head) where that adds at most this many GFLOP over the "
             "batch, or 'off' (see nn-compose-pointwise). Defaults, measured "
             "on an H200: 1 for f16 and bf16 (on EfficientNet-B1, every pair "
             "at batch 1 and 10, none at 64), 0.1 for tf32 (every pair at "
             "batch 1, none at 10), off for fp32"),
    cl::value_desc("GFLOP|off"), cl::cat(category));
static cl::opt<bool> composeKeepsFusableExpands(
    "compose-keeps-fusable-expands",
    cl::desc("Leave a project 1x1 uncomposed where composing it would take "
             "the next expand out of --fuse-expand-depthwise "
             "(nn-compose-pointwise keep-fusable-expands). Default, measured "
             "on an H200: on from batch 2 (EfficientNet-B1 at batch 10: "
             "mbconv3's 24-channel expand then fuses with its depthwise, "
             "2.2% faster), off at batch 1 (1.8% slower there)"),
    cl::cat(category));
static cl::opt<bool> dependentLaunch(
    "dependent-launch",
    cl::desc("sm_90 only (on by default there): launch each kernel while "
             "the previous one drains (programmatic dependent launch); its "
             "blocks wait on griddepcontrol for the previous results. sm_89 "
             "has no such launch"),
    cl::init(true), cl::cat(category));
static cl::OptionCategory tuning("ptxnet-compile tuning options");
static cl::opt<bool> shortSharedPointers(
    "short-shared-pointers",
    cl::desc("32-bit shared-memory addresses in the PTX (fewer instructions "
             "in the GEMM loops; measured 2.4% slower at batch 10 and 0.8% "
             "faster at batch 64 on an H200, so off by default)"),
    cl::init(false), cl::cat(tuning));
static cl::opt<bool> denseConvMma(
    "dense-conv-mma",
    cl::desc("f16/bf16: small dense convolutions (at most 64 taps and 64 "
             "output channels, like the stem) as implicit GEMMs on tensor "
             "cores, their input rows staged in shared memory (off by "
             "default: the stem measured 1% slower end to end on an H200)"),
    cl::init(ConvertNNToGPUOptions().denseConvMma), cl::cat(tuning));
static cl::opt<bool> f16DepthwiseMath(
    "f16-depthwise-math",
    cl::desc("f16: the fused expand + depthwise and whole-MBConv kernels "
             "compute their depthwise on f16x2 pairs (sums rounded to f16 at "
             "every tap) instead of float32 FMAs (on by default, measured "
             "0.9% faster at batch 64 on an H200, EfficientNet-B1's error "
             "unchanged; --f16-depthwise-math=false for float32 sums)"),
    cl::init(ConvertNNToGPUOptions().f16DepthwiseMath), cl::cat(tuning));
static cl::opt<bool> f16StemMath(
    "f16-stem-math",
    cl::desc("f16: direct convolutions with a compiled-in filter (the stem) "
             "compute pairs of adjacent columns with fma.rn.f16x2 (on by "
             "default, measured 1.6% faster at batch 64 and 1.0% at batch 10 "
             "on an H200, EfficientNet-B1's error unchanged; "
             "--f16-stem-math=false for float32 sums)"),
    cl::init(ConvertNNToGPUOptions().f16StemMath), cl::cat(tuning));
static cl::opt<bool> linearFragments(
    "linear-fragments",
    cl::desc("f16/bf16: the linear layer on tensor cores, each warp's "
             "fragments loaded straight from device memory and K split over "
             "the block's warps (on by default, measured 1.5% faster at batch "
             "10 and 2.2% at batch 64 on an H200; --linear-fragments=false "
             "for the CUDA-core kernel)"),
    cl::init(ConvertNNToGPUOptions().linearFragments), cl::cat(tuning));
static cl::opt<bool> padPlanes(
    "pad-planes",
    cl::desc("f16/bf16: store activations whose H x W is not a multiple of "
             "8 (EfficientNet-B1's 30x30 and 15x15 maps) with channel planes "
             "padded to one, so that the GEMMs over them stage 16-byte "
             "vectors (on by default; --pad-planes=false for dense planes)"),
    cl::init(ConvertNNToGPUOptions().padPlanes), cl::cat(tuning));
namespace {
/// convert-nn-to-gpu's integer tuning options, offered as ptxnet-compile
/// flags of the same names. Each starts at the pass's default (appended to
/// its help) and must be at least `min`.
struct TuningFlag {
  const char *name;
  const char *help;
  int64_t ConvertNNToGPUOptions::*field;
  int64_t min;
};
} // namespace

static const TuningFlag kTuningFlags[] = {
    {"gemm-blocks-per-sm",
     "Tensor-core GEMM tiles shrink until there are this many blocks per SM; "
     "0 picks 1 at batch 1 and 2 otherwise",
     &ConvertNNToGPUOptions::gemmBlocksPerSM, 0},
    {"gemm-warps-per-sm",
     "Tensor-core GEMMs share, then split, K until there are this many warps "
     "per SM",
     &ConvertNNToGPUOptions::gemmWarpsPerSM, 1},
    {"gemm-tile-blocks-per-sm",
     "Shallow tensor-core GEMMs loop over column tiles until about this many "
     "blocks per SM remain",
     &ConvertNNToGPUOptions::gemmTileBlocksPerSM, 1},
    {"gemm-warp-k-steps",
     "Deep tensor-core GEMMs: mma k-steps each warp multiplies per staged K "
     "slice; 0 picks 2 at batch 1 and 4 otherwise",
     &ConvertNNToGPUOptions::gemmWarpKSteps, 0},
    {"gemm-async-stages",
     "Deep f16/bf16 tensor-core GEMMs: K slices of both operands in flight "
     "by cp.async where the activation rows allow it; 1 stages the "
     "activations through registers",
     &ConvertNNToGPUOptions::gemmAsyncStages, 1},
    {"gemm-async-min-k",
     "The cp.async ring only for GEMMs over at least this many input "
     "channels",
     &ConvertNNToGPUOptions::gemmAsyncMinK, 1},
    {"gemm-async-blocks-per-sm",
     "--gemm-blocks-per-sm for the GEMMs on the cp.async ring",
     &ConvertNNToGPUOptions::gemmAsyncBlocksPerSM, 1},
    {"gemm-async-shared-kb",
     "KB of shared memory the cp.async ring of a GEMM may take, 48 to 99 "
     "(sm_89) or 227 (sm_90), dynamic shared memory above 48; 0 picks 99 "
     "at batch 1 and 48 otherwise",
     &ConvertNNToGPUOptions::gemmAsyncSharedKB, 0},
    {"gemm-single-slice-k",
     "f16/bf16 tensor-core GEMMs over at most this many input channels "
     "stage all of K at once and loop over column tiles; 0: never",
     &ConvertNNToGPUOptions::gemmSingleSliceK, 0},
    {"linear-mma-min-batch",
     "tf32/f16/bf16: the linear layer runs as the tiled tensor-core GEMM "
     "from this batch size on, below as --linear-fragments says (f16/bf16) "
     "or on CUDA cores; 0: never (measured slower on an H200)",
     &ConvertNNToGPUOptions::linearMmaMinBatch, 0},
    {"depthwise-column-rows",
     "Depthwise convolutions with a thread per output column walking down "
     "this many output rows (a divisor of the output height); -1 picks "
     "those of stride 1 on odd widths (measured faster there on an H200), "
     "0: never",
     &ConvertNNToGPUOptions::depthwiseColumnRows, -1},
};

static cl::opt<Emit> emit(
    "emit", cl::desc("What to write (default: exe)"),
    cl::values(clEnumValN(Emit::fused, "fused", "nn graph after fusion"),
               clEnumValN(Emit::gpu, "gpu", "gpu/scf/memref after "
                                            "convert-nn-to-gpu"),
               clEnumValN(Emit::llvm, "llvm", "LLVM dialect with embedded PTX"),
               clEnumValN(Emit::ptx, "ptx", "the PTX only"),
               clEnumValN(Emit::obj, "obj", "PTX and the host object file"),
               clEnumValN(Emit::exe, "exe", "PTX and a linked executable")),
    cl::init(Emit::exe), cl::cat(category));
static cl::opt<std::string> runtimeDir("runtime-dir",
                                       cl::desc("Where libptxnet_runtime.a is"),
                                       cl::init(PTXNET_RUNTIME_DIR),
                                       cl::cat(category));
static cl::opt<std::string> cudaLibDir("cuda-lib-dir",
                                       cl::desc("Where libcuda.so is (the "
                                                "toolkit's stub is enough)"),
                                       cl::init(PTXNET_CUDA_LIB_DIR),
                                       cl::cat(category));
static cl::opt<std::string> linker("cxx",
                                   cl::desc("C++ driver used to link"),
                                   cl::init("c++"), cl::cat(category));
static cl::opt<bool> elide("elide-weights",
                           cl::desc("With --emit=fused/gpu/llvm: print large "
                                    "constants as __elided__"),
                           cl::cat(category));

static LogicalResult printModule(ModuleOp module, StringRef path) {
  std::string error;
  auto out = openOutputFile(path, &error);
  if (!out) {
    llvm::errs() << "error: " << error << "\n";
    return failure();
  }
  OpPrintingFlags flags;
  if (elide)
    flags.elideLargeElementsAttrs(16);
  module.print(out->os(), flags);
  out->keep();
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // The tuning flags (registered before parsing, alive until exit; the
  // help strings are sized up front, so cl::desc's references stay valid).
  std::vector<std::string> tuningHelp(std::size(kTuningFlags));
  SmallVector<std::unique_ptr<cl::opt<int64_t>>> tuningOptions;
  for (auto [flag, help] : llvm::zip_equal(kTuningFlags, tuningHelp)) {
    int64_t byDefault = ConvertNNToGPUOptions().*flag.field;
    help =
        (llvm::Twine(flag.help) + " (default " + llvm::Twine(byDefault) + ")")
            .str();
    tuningOptions.push_back(std::make_unique<cl::opt<int64_t>>(
        StringRef(flag.name), cl::desc(help), cl::init(byDefault),
        cl::cat(tuning)));
  }
  cl::HideUnrelatedOptions({&category, &tuning});
  cl::ParseCommandLineOptions(
      argc, argv,
      "ptxnet-compile: compile an nn graph into a GPU program and PTX\n\n"
      "  ptxnet-compile model.mlir --weights w.safetensors -o effnet\n"
      "  ./effnet --input x.npy --output y.npy --check ref.npy --bench 100\n");

  if (chip != "sm_89" && chip != "sm_90") {
    llvm::errs() << "error: unsupported --chip '" << chip
                 << "': expected sm_89 or sm_90\n";
    return 1;
  }
  std::optional<Precision> arithmetic = parsePrecision(precision);
  if (!arithmetic) {
    llvm::errs() << "error: unsupported --precision '" << precision
                 << "': expected " << kPrecisionNames << "\n";
    return 1;
  }

  for (auto [flag, option] : llvm::zip_equal(kTuningFlags, tuningOptions))
    if (*option < flag.min) {
      llvm::errs() << "error: --" << flag.name
                   << (flag.min > 0    ? " must be positive"
                       : flag.min == 0 ? " must not be negative"
                                       : " must be at least -1")
                   << ", got " << *option << "\n";
      return 1;
    }
  // A block's shared memory is bounded by the chip (opt-in sizes).
  const int64_t maxSharedKB = chip == "sm_89" ? 99 : 227;
  for (auto [flag, option] : llvm::zip_equal(kTuningFlags, tuningOptions))
    if (StringRef(flag.name) == "gemm-async-shared-kb" &&
        *option > maxSharedKB) {
      llvm::errs() << "error: --gemm-async-shared-kb " << *option
                   << " exceeds the " << maxSharedKB << " KB that " << chip
                   << " allows a block\n";
      return 1;
    }

  // Programmatic dependent launch (griddepcontrol) needs sm_90.
  const bool dependent = dependentLaunch && chip != "sm_89";
  if (dependentLaunch.getNumOccurrences() && dependentLaunch && !dependent) {
    llvm::errs() << "error: --dependent-launch needs --chip=sm_90 (" << chip
                 << " has no griddepcontrol)\n";
    return 1;
  }

  DialectRegistry registry;
  registerPtxnetDialects(registry);
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = loadModelFile(inputFile, context, sourceMgr);
  if (!module)
    return 1;
  nn::GraphOp graph = getSingleGraph(*module);
  if (!graph)
    return 1;

  PassManager pm(&context);
  if (failed(nn::addSetBatch(pm, batch)))
    return 1;
  // The bound on the FLOPs nn-compose-pointwise may add; negative: off.
  // f16/bf16 take the pass's default (measured on an H200); tf32 tensor
  // cores run at half the f16 rate on activations twice as wide, so added
  // FLOPs cost more there; fp32's SIMT GEMMs were not measured.
  double composeGflop = isHalf(*arithmetic)
                            ? nn::NNComposePointwiseOptions().maxAddedGflop
                        : *arithmetic == Precision::tf32 ? 0.1
                                                         : -1.0;
  if (composePointwise == "off") {
    composeGflop = -1.0;
  } else if (!composePointwise.empty() &&
             (!llvm::to_float(composePointwise, composeGflop) ||
              std::isnan(composeGflop) || composeGflop < 0)) {
    llvm::errs() << "error: --compose-pointwise takes a non-negative number "
                    "of GFLOP or 'off', got '"
                 << composePointwise << "'\n";
    return 1;
  }
  nn::FusionPipelineOptions fusion;
  fusion.weights = weightsFile;
  fusion.composeMaxAddedGflop = composeGflop;
  if (fuseExpand >= 0) {
    fusion.expandMaxChannels = fuseExpand;
  } else if (isHalf(*arithmetic)) {
    // Measured on an H200 (bench/RESULTS.md, 2026-12-01, fifth session):
    // the fused kernel wins while the expand is shallow (up to 32 channels:
    // 13% at batch 64, 3% at batch 10); from 40 channels on it no longer
    // does.
    fusion.expandMaxChannels = 32;
  }
  // Whole MBConv blocks and the GEMM depthwise epilogue run on tensor cores
  // only (f16, bf16): a count given must be non-negative, and positive only
  // there.
  auto halfOnlyCount = [&](const cl::opt<int64_t> &option, StringRef what) {
    if (!option.getNumOccurrences() ||
        (option >= 0 && (option == 0 || isHalf(*arithmetic))))
      return true;
    llvm::errs() << "error: --" << option.ArgStr << " takes a non-negative "
                 << what << " count and needs --precision f16 or bf16\n";
    return false;
  };
  if (!halfOnlyCount(fuseMBConvProject, "channel") ||
      !halfOnlyCount(fuseGemmDepthwise, "pixel"))
    return 1;
  if (fuseMBConvMaxExpandMacs < 0) {
    llvm::errs() << "error: --fuse-mbconv-max-expand-macs must not be "
                    "negative\n";
    return 1;
  }
  fusion.projectMaxChannels = fuseMBConvProject >= 0
                                  ? int64_t(fuseMBConvProject)
                              : isHalf(*arithmetic) ? 64
                                                    : 0;
  fusion.projectMaxExpandMacs = fuseMBConvMaxExpandMacs;
  // The batch the program is compiled for (--batch or the graph's own).
  int64_t images = batch > 0 ? int64_t(batch) : graph.getBatchSize();
  fusion.composeKeepsFusableExpands =
      composeKeepsFusableExpands.getNumOccurrences()
          ? bool(composeKeepsFusableExpands)
          : images != 1;
  fusion.expandWholeImagePixels =
      fuseGemmDepthwise >= 0                               ? fuseGemmDepthwise
      : isHalf(*arithmetic) && images >= 2 && images <= 16 ? 64
                                                           : 0;
  nn::buildFusionPipeline(pm, fusion);
  if (failed(pm.run(*module)))
    return 1;
  if (emit == Emit::fused)
    return failed(printModule(*module, outputFile));

  PassManager lower(&context);
  ConvertNNToGPUOptions toGpu;
  toGpu.precision = precision;
  toGpu.dependentLaunch = dependent;
  for (auto [flag, option] : llvm::zip_equal(kTuningFlags, tuningOptions))
    toGpu.*flag.field = *option;
  toGpu.denseConvMma = denseConvMma;
  toGpu.f16DepthwiseMath = f16DepthwiseMath;
  toGpu.f16StemMath = f16StemMath;
  toGpu.padPlanes = padPlanes;
  toGpu.linearFragments = linearFragments;
  lower.addPass(createConvertNNToGPU(toGpu));
  if (failed(lower.run(*module)))
    return 1;
  if (emit == Emit::gpu)
    return failed(printModule(*module, outputFile));

  PassManager binary(&context);
  GPUPipelineOptions gpuOptions;
  gpuOptions.chip = chip;
  gpuOptions.shortSharedPointers = shortSharedPointers;
  buildGPUToBinaryPipeline(binary, gpuOptions);
  if (failed(binary.run(*module)))
    return 1;
  if (emit == Emit::llvm)
    return failed(printModule(*module, outputFile));

  std::string ptxPath = emit == Emit::ptx ? outputFile : outputFile + ".ptx";
  if (failed(writePTX(*module, ptxPath)))
    return 1;
  if (emit == Emit::ptx)
    return 0;

  std::string objectPath =
      emit == Emit::obj ? outputFile.getValue() : outputFile + ".o";
  if (failed(emitHostObject(*module, objectPath)))
    return 1;
  if (emit == Emit::obj)
    return 0;
  LinkOptions link;
  link.compiler = linker;
  link.runtimeDir = runtimeDir;
  link.cudaLibDir = cudaLibDir;
  LogicalResult linked = linkExecutable(objectPath, outputFile, link);
  llvm::sys::fs::remove(objectPath);
  if (failed(linked))
    return 1;
  llvm::outs() << "wrote " << outputFile << " and " << ptxPath << " ("
               << chip << ", " << precision << ")\n";
  return 0;
}
