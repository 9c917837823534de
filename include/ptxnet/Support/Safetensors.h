//===- Safetensors.h - Reading weights from safetensors files ---*- C++ -*-===//
#ifndef PTXNET_SUPPORT_SAFETENSORS_H
#define PTXNET_SUPPORT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <vector>

namespace ptxnet {

/// A safetensors file (8-byte little-endian header size, a JSON header that
/// maps tensor names to dtype, shape and byte range, then the raw data),
/// memory-mapped once and read by name.
class SafetensorsFile {
public:
  struct Entry {
    std::string dtype;
    std::vector<int64_t> shape;
    size_t begin = 0, end = 0;
  };

  static llvm::Expected<SafetensorsFile> open(llvm::StringRef path);

  const Entry *lookup(llvm::StringRef name) const;

  /// The float32 tensor `name`, checked against `expectedShape`; a missing,
  /// misshaped or non-F32 tensor is an error that names it.
  llvm::Expected<llvm::ArrayRef<float>>
  readF32(llvm::StringRef name, llvm::ArrayRef<int64_t> expectedShape) const;

  llvm::StringRef path() const { return filePath; }

private:
  std::string filePath;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  size_t dataStart = 0;
  llvm::StringMap<Entry> entries;
};

} // namespace ptxnet

#endif // PTXNET_SUPPORT_SAFETENSORS_H
