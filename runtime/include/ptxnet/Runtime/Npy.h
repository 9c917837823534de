//===- Npy.h - NumPy .npy and raw .bin tensor files -------------*- C++ -*-===//
//
// Plain C++ (no LLVM) so that both the compiler tools and the generated
// programs' runtime read inputs and references the same way.
//
//===----------------------------------------------------------------------===//
#ifndef PTXNET_RUNTIME_NPY_H
#define PTXNET_RUNTIME_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace ptxnet {

/// A dense row-major array read from a file, widened to double so that a
/// float64 reference keeps its precision.
struct HostArray {
  std::vector<int64_t> shape;
  std::vector<double> values;
  int64_t numElements() const;
};

/// Reads a little-endian C-order .npy file of float32 or float64. On failure
/// returns false and sets `error` to a message naming the file.
bool readNpy(const std::string &path, HostArray &out, std::string &error);

/// Reads `path` as .npy if it ends in ".npy", else as raw little-endian
/// float32 that must hold exactly `expectedElements` values.
bool readTensorFile(const std::string &path, int64_t expectedElements,
                    HostArray &out, std::string &error);

/// Writes a float32 .npy file.
bool writeNpyF32(const std::string &path, const std::vector<int64_t> &shape,
                 const float *data, std::string &error);

/// ||a - b|| / ||b|| over all elements (b is the reference).
double relativeError(const float *a, const double *b, int64_t n);

} // namespace ptxnet

#endif // PTXNET_RUNTIME_NPY_H
