//===- Npy.cpp - NumPy .npy and raw .bin tensor files ---------------------===//
#include "ptxnet/Runtime/Npy.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace ptxnet;

int64_t HostArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static bool slurp(const std::string &path, std::string &bytes,
                  std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  bytes = ss.str();
  return true;
}

/// Finds `'key': value` in a .npy header dict and returns the value text.
static bool headerField(const std::string &header, const std::string &key,
                        std::string &value) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    return false;
  size_t colon = header.find(':', k);
  if (colon == std::string::npos)
    return false;
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos)
    return false;
  char open = header[start];
  size_t end;
  if (open == '(')
    end = header.find(')', start) + 1;
  else if (open == '\'')
    end = header.find('\'', start + 1) + 1;
  else
    end = header.find_first_of(",}", start);
  if (end == std::string::npos || end == 0)
    return false;
  value = header.substr(start, end - start);
  return true;
}

bool ptxnet::readNpy(const std::string &path, HostArray &out,
                     std::string &error) {
  std::string bytes;
  if (!slurp(path, bytes, error))
    return false;
  auto fail = [&](const std::string &why) {
    error = "'" + path + "' is not a valid .npy file: " + why;
    return false;
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return fail("bad magic");
  uint8_t major = bytes[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = uint8_t(bytes[8]) | (uint8_t(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    headerStart = 12;
  } else {
    return fail("unsupported version " + std::to_string(major));
  }
  if (headerStart + headerLen > bytes.size())
    return fail("truncated header");
  std::string header = bytes.substr(headerStart, headerLen);
  std::string descr, fortran, shape;
  if (!headerField(header, "descr", descr) ||
      !headerField(header, "fortran_order", fortran) ||
      !headerField(header, "shape", shape))
    return fail("header lacks descr, fortran_order or shape");
  if (fortran.rfind("False", 0) != 0)
    return fail("Fortran order is not supported");
  int elemSize;
  if (descr == "'<f4'")
    elemSize = 4;
  else if (descr == "'<f8'")
    elemSize = 8;
  else
    return fail("dtype " + descr + " is not float32 or float64");
  out.shape.clear();
  std::string dims = shape.substr(1, shape.size() - 2);
  std::stringstream ss(dims);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos)
      continue;
    char *end;
    long long d = std::strtoll(item.c_str(), &end, 10);
    if (d < 0)
      return fail("negative dimension");
    out.shape.push_back(d);
  }
  int64_t n = out.numElements();
  size_t dataStart = headerStart + headerLen;
  if (bytes.size() - dataStart != size_t(n) * elemSize)
    return fail("holds " + std::to_string(bytes.size() - dataStart) +
                " data bytes, its shape needs " +
                std::to_string(size_t(n) * elemSize));
  out.values.resize(n);
  const char *data = bytes.data() + dataStart;
  for (int64_t i = 0; i < n; ++i) {
    if (elemSize == 4) {
      float f;
      std::memcpy(&f, data + 4 * i, 4);
      out.values[i] = f;
    } else {
      std::memcpy(&out.values[i], data + 8 * i, 8);
    }
  }
  return true;
}

bool ptxnet::readTensorFile(const std::string &path, int64_t expectedElements,
                            HostArray &out, std::string &error) {
  bool isNpy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (isNpy) {
    if (!readNpy(path, out, error))
      return false;
  } else {
    std::string bytes;
    if (!slurp(path, bytes, error))
      return false;
    if (bytes.size() % 4 != 0) {
      error = "'" + path + "' holds " + std::to_string(bytes.size()) +
              " bytes, not a whole number of float32 values";
      return false;
    }
    out.shape = {int64_t(bytes.size() / 4)};
    out.values.resize(bytes.size() / 4);
    for (size_t i = 0; i < out.values.size(); ++i) {
      float f;
      std::memcpy(&f, bytes.data() + 4 * i, 4);
      out.values[i] = f;
    }
  }
  if (out.numElements() != expectedElements) {
    error = "'" + path + "' holds " + std::to_string(out.numElements()) +
            " values, expected " + std::to_string(expectedElements);
    return false;
  }
  return true;
}

bool ptxnet::writeNpyF32(const std::string &path,
                         const std::vector<int64_t> &shape, const float *data,
                         std::string &error) {
  // Python's tuple syntax: "(5,)" for one dimension, "(2, 3)" for more.
  std::string dims;
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += (i ? ", " : "") + std::to_string(shape[i]);
    n *= shape[i];
  }
  if (shape.size() == 1)
    dims += ",";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream os(path, std::ios::binary);
  if (!os) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  os.write("\x93NUMPY\x01\x00", 8);
  char len[2] = {char(header.size() & 0xff), char(header.size() >> 8)};
  os.write(len, 2);
  os.write(header.data(), header.size());
  os.write(reinterpret_cast<const char *>(data), n * sizeof(float));
  if (!os) {
    error = "error while writing '" + path + "'";
    return false;
  }
  return true;
}

double ptxnet::relativeError(const float *a, const double *b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = double(a[i]) - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  if (std::isnan(num))
    return INFINITY;
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}
