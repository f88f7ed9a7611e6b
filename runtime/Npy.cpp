//===- Npy.cpp - writing .npy files -------------------------------------===//

#include "runtime/Npy.h"
#include "runtime/OutputFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace moec;

Status moec::writeNpy(const std::string &path,
                      const std::vector<int64_t> &shape, const float *data) {
  std::string dims;
  int64_t count = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + (shape.size() == 1 ? "," : ", ");
    count *= d;
  }
  if (shape.size() > 1)
    dims.resize(dims.size() - 2);
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header, padded to 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  uint16_t length = uint16_t(header.size());
  unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              (unsigned char)(length & 0xff),
                              (unsigned char)(length >> 8)};
  OutputFile file;
  if (Status s = file.open(path); !s)
    return s;
  if (Status s = file.write(prefix, sizeof(prefix)); !s)
    return s;
  if (Status s = file.write(header.data(), header.size()); !s)
    return s;
  if (Status s = file.write(data, sizeof(float) * size_t(count)); !s)
    return s;
  return file.commit();
}
