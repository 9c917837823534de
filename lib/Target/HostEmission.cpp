//===- HostEmission.cpp - PTX, host object and executable output ----------===//
#include "ptxnet/Target/HostEmission.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

LogicalResult ptxnet::writePTX(ModuleOp module, StringRef path) {
  std::string text;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute attr : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(attr))
        text += object.getObject().getValue().str();
  });
  if (text.empty())
    return module.emitError("no gpu.binary with PTX to write");
  // The embedded string is null-terminated for the driver's JIT.
  while (!text.empty() && text.back() == '\0')
    text.pop_back();
  std::string error;
  auto out = openOutputFile(path, &error);
  if (!out)
    return module.emitError(error);
  out->os() << text;
  out->keep();
  return success();
}

LogicalResult ptxnet::emitHostObject(ModuleOp module, StringRef objectPath) {
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "ptxnet");
  if (!llvmModule)
    return module.emitError("translation of the host code to LLVM IR failed");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError("no LLVM target for the host: ") << error;
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, "generic", "", targetOptions, llvm::Reloc::PIC_));
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);

  std::error_code ec;
  llvm::ToolOutputFile out(objectPath, ec, llvm::sys::fs::OF_None);
  if (ec)
    return module.emitError("cannot write '") << objectPath
                                              << "': " << ec.message();
  llvm::legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, out.os(), nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return module.emitError("the host target cannot emit object files");
  pm.run(*llvmModule);
  out.keep();
  return success();
}

LogicalResult ptxnet::linkExecutable(StringRef objectPath, StringRef exePath,
                                     const LinkOptions &options) {
  auto compiler = llvm::sys::findProgramByName(options.compiler);
  if (!compiler) {
    llvm::errs() << "error: cannot find the linker driver '"
                 << options.compiler << "' on PATH\n";
    return failure();
  }
  std::string runtimeLib = options.runtimeDir + "/libptxnet_runtime.a";
  if (!llvm::sys::fs::exists(runtimeLib)) {
    llvm::errs() << "error: the ptxnet runtime is missing: " << runtimeLib
                 << " (was the CUDA toolkit found when ptxnet was built? "
                    "see --runtime-dir)\n";
    return failure();
  }
  std::vector<std::string> args = {*compiler,
                                   objectPath.str(),
                                   "-o",
                                   exePath.str(),
                                   runtimeLib,
                                   options.runtimeDir + "/libptxnet_npy.a",
                                   "-L" + options.cudaLibDir,
                                   "-lcuda"};
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(*compiler, argRefs, std::nullopt, {}, 0,
                                     0, &error);
  if (rc != 0) {
    llvm::errs() << "error: linking '" << exePath << "' failed";
    if (!error.empty())
      llvm::errs() << ": " << error;
    llvm::errs() << "\n  command:";
    for (auto &a : args)
      llvm::errs() << " " << a;
    llvm::errs() << "\n";
    return failure();
  }
  return success();
}
