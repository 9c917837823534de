//===- Safetensors.cpp - Reading weights from safetensors files -----------===//
#include "ptxnet/Support/Safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <nlohmann/json.hpp>

using namespace ptxnet;
using llvm::Expected;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

static size_t dtypeSize(StringRef dtype) {
  return llvm::StringSwitch<size_t>(dtype)
      .Cases({"F64", "I64", "U64"}, 8)
      .Cases({"F32", "I32", "U32"}, 4)
      .Cases({"F16", "BF16", "I16", "U16"}, 2)
      .Cases({"I8", "U8", "BOOL"}, 1)
      .Default(0);
}

Expected<SafetensorsFile> SafetensorsFile::open(StringRef path) {
  auto bufOr = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
  if (!bufOr)
    return makeError("cannot open weights file '" + path +
                     "': " + bufOr.getError().message());
  SafetensorsFile file;
  file.filePath = path.str();
  file.buffer = std::move(*bufOr);
  StringRef bytes = file.buffer->getBuffer();
  auto bad = [&](const llvm::Twine &why) {
    return makeError("'" + path + "' is not a valid safetensors file: " + why);
  };
  if (bytes.size() < 8)
    return bad("shorter than its 8-byte header size");
  uint64_t headerSize = 0;
  for (int i = 0; i < 8; ++i)
    headerSize |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  if (headerSize > bytes.size() - 8)
    return bad("header size " + llvm::Twine(headerSize) +
               " exceeds the file size");
  file.dataStart = 8 + headerSize;
  size_t dataSize = bytes.size() - file.dataStart;

  nlohmann::json header = nlohmann::json::parse(
      bytes.substr(8, headerSize).str(), nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    return bad("the header is not a JSON object");
  for (auto &[name, desc] : header.items()) {
    if (name == "__metadata__")
      continue;
    if (!desc.is_object() || !desc.contains("dtype") ||
        !desc.contains("shape") || !desc.contains("data_offsets") ||
        !desc["dtype"].is_string() || !desc["shape"].is_array() ||
        !desc["data_offsets"].is_array() || desc["data_offsets"].size() != 2)
      return bad("entry '" + name +
                 "' lacks a dtype, shape or data_offsets pair");
    Entry entry;
    entry.dtype = desc["dtype"].get<std::string>();
    size_t elements = 1;
    for (auto &d : desc["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        return bad("entry '" + name + "' has a bad shape");
      entry.shape.push_back(d.get<int64_t>());
      elements *= entry.shape.back();
    }
    auto &offsets = desc["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      return bad("entry '" + name + "' has bad data_offsets");
    entry.begin = offsets[0].get<size_t>();
    entry.end = offsets[1].get<size_t>();
    if (entry.begin > entry.end || entry.end > dataSize)
      return bad("entry '" + name + "' lies outside the data section");
    size_t elemSize = dtypeSize(entry.dtype);
    if (elemSize && entry.end - entry.begin != elements * elemSize)
      return bad("entry '" + name + "' holds " +
                 llvm::Twine(entry.end - entry.begin) + " bytes, its shape " +
                 shapeString(entry.shape) + " needs " +
                 llvm::Twine(elements * elemSize));
    file.entries[name] = std::move(entry);
  }
  return std::move(file);
}

const SafetensorsFile::Entry *SafetensorsFile::lookup(StringRef name) const {
  auto it = entries.find(name);
  return it == entries.end() ? nullptr : &it->second;
}

Expected<llvm::ArrayRef<float>>
SafetensorsFile::readF32(StringRef name,
                         llvm::ArrayRef<int64_t> expectedShape) const {
  const Entry *entry = lookup(name);
  if (!entry)
    return makeError("weight '" + name + "' is missing from '" + filePath +
                     "'");
  if (entry->dtype != "F32")
    return makeError("weight '" + name + "' has dtype " + entry->dtype +
                     ", expected F32");
  if (llvm::ArrayRef<int64_t>(entry->shape) != expectedShape)
    return makeError("weight '" + name + "' has shape " +
                     shapeString(entry->shape) + ", the graph expects " +
                     shapeString(expectedShape));
  const char *data = buffer->getBufferStart() + dataStart + entry->begin;
  // The data section is only guaranteed 8-byte aligned relative to the header
  // end; MemoryBuffer's mapping is page aligned, so check rather than assume.
  if (reinterpret_cast<uintptr_t>(data) % alignof(float) != 0)
    return makeError("weight '" + name + "' is not 4-byte aligned in '" +
                     filePath + "'");
  return llvm::ArrayRef<float>(reinterpret_cast<const float *>(data),
                               (entry->end - entry->begin) / sizeof(float));
}
