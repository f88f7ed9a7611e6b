//===- Npy.cpp - writing .npy files -------------------------------------===//

#include "runtime/Npy.h"

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

  std::string temp = path + ".tmp";
  FILE *f = std::fopen(temp.c_str(), "wb");
  if (!f)
    return Status::error("%s: cannot write: %s", path.c_str(),
                         std::strerror(errno));
  uint16_t length = uint16_t(header.size());
  unsigned char prefix[10] = {0x93,
                              'N',
                              'U',
                              'M',
                              'P',
                              'Y',
                              1,
                              0,
                              (unsigned char)(length & 0xff),
                              (unsigned char)(length >> 8)};
  bool ok = std::fwrite(prefix, 1, 10, f) == 10 &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            std::fwrite(data, sizeof(float), size_t(count), f) == size_t(count);
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return Status::error("%s: write failed", path.c_str());
  }
  return Status();
}
