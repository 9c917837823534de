//===- ExternDynamicSharedMemory.cpp - dynamic shared memory as extern ----===//
//
// A kernel's dynamic shared memory is addressed in PTX through an extern,
// unsized shared array. convert-gpu-to-nvvm emits it as an internal
// zero-length global instead, which NVPTX demotes into the kernel as a
// 1-byte static variable that the kernel then indexes far past. Declaring
// the global external gives the PTX form the ISA documents.
//
//===----------------------------------------------------------------------===//

#include "ptxnet/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace ptxnet {
#define GEN_PASS_DEF_EXTERNDYNAMICSHAREDMEMORY
#include "ptxnet/Conversion/Passes.h.inc"
} // namespace ptxnet

using namespace mlir;

namespace {
/// A zero-length array in the shared address space: only dynamic shared
/// memory has that shape.
bool isDynamicSharedMemory(LLVM::GlobalOp global) {
  auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
  return array && array.getNumElements() == 0 &&
         global.getAddrSpace() ==
             static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared);
}

struct ExternDynamicSharedMemoryPass
    : ptxnet::impl::ExternDynamicSharedMemoryBase<
          ExternDynamicSharedMemoryPass> {
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](LLVM::GlobalOp global) {
      if (!isDynamicSharedMemory(global))
        return WalkResult::advance();
      // A declaration has no value; shared memory is never initialized.
      if (global.getValueOrNull() || !global.getInitializerRegion().empty()) {
        global.emitOpError("is a zero-length shared array (dynamic shared "
                           "memory) with an initial value");
        return WalkResult::interrupt();
      }
      global.setLinkage(LLVM::Linkage::External);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
