//===- SafeTensors.cpp - safetensors headers ----------------------------===//

#include "compiler/import/SafeTensors.h"
#include "compiler/import/Diagnostics.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace moec;
using llvm::Expected;
using llvm::StringRef;
using json = nlohmann::json;

namespace {

struct DTypeInfo {
  DType dtype;
  StringRef name;
  unsigned bits;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::Bool, "BOOL", 8},        {DType::U8, "U8", 8},
    {DType::I8, "I8", 8},            {DType::I16, "I16", 16},
    {DType::U16, "U16", 16},         {DType::F16, "F16", 16},
    {DType::BF16, "BF16", 16},       {DType::I32, "I32", 32},
    {DType::U32, "U32", 32},         {DType::F32, "F32", 32},
    {DType::F64, "F64", 64},         {DType::I64, "I64", 64},
    {DType::U64, "U64", 64},         {DType::F8_E4M3, "F8_E4M3", 8},
    {DType::F8_E5M2, "F8_E5M2", 8},  {DType::F8_E8M0, "F8_E8M0", 8},
    {DType::F6_E2M3, "F6_E2M3", 6},  {DType::F6_E3M2, "F6_E3M2", 6},
    {DType::F4, "F4", 4},
};

const DTypeInfo &info(DType dtype) {
  return *llvm::find_if(kDTypes,
                        [&](const DTypeInfo &i) { return i.dtype == dtype; });
}


/// Checks the 8-byte header length against the file size and returns it.
Expected<uint64_t> headerLength(StringRef path, StringRef first8,
                                uint64_t fileSize) {
  if (fileSize < 8)
    return fileError(path, "truncated: " + llvm::Twine(fileSize) +
                               " bytes, too short for the 8-byte header "
                               "length");
  uint64_t length = llvm::support::endian::read64le(first8.data());
  if (length > SafeTensorsFile::kMaxHeaderSize)
    return fileError(path, "header length " + llvm::Twine(length) +
                               " exceeds the limit of " +
                               llvm::Twine(SafeTensorsFile::kMaxHeaderSize) +
                               " bytes");
  if (length > fileSize - 8)
    return fileError(path, "truncated: header length " + llvm::Twine(length) +
                               " runs past the end of the file (" +
                               llvm::Twine(fileSize) + " bytes)");
  return length;
}


} // namespace

StringRef moec::dtypeName(DType dtype) { return info(dtype).name; }

unsigned moec::dtypeBits(DType dtype) { return info(dtype).bits; }

std::optional<DType> moec::parseDType(StringRef name) {
  for (const DTypeInfo &i : kDTypes)
    if (i.name == name)
      return i.dtype;
  return std::nullopt;
}

int64_t TensorInfo::numElements() const {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  return n;
}

const TensorInfo *SafeTensorsFile::find(StringRef name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : &tensorList[it->second];
}

Expected<SafeTensorsFile> SafeTensorsFile::open(StringRef path) {
  uint64_t fileSize = 0;
  llvm::Expected<int> file = openRegularFile(path, fileSize);
  if (!file)
    return file.takeError();
  llvm::scope_exit close([&] { ::close(*file); });

  // Reads exactly `length` bytes at `offset`, or fails.
  auto readAt = [&](uint64_t offset, uint64_t length,
                    std::string &out) -> llvm::Error {
    out.resize(length);
    uint64_t done = 0;
    while (done < length) {
      Expected<size_t> got = llvm::sys::fs::readNativeFileSlice(
          *file, llvm::MutableArrayRef<char>(out.data() + done, length - done),
          offset + done);
      if (!got)
        return fileError(path, "cannot read: " + toString(got.takeError()));
      if (*got == 0)
        return fileError(path, "truncated while reading the header");
      done += *got;
    }
    return llvm::Error::success();
  };

  std::string first8(8, '\0');
  if (fileSize >= 8)
    if (llvm::Error error = readAt(0, 8, first8))
      return std::move(error);
  Expected<uint64_t> length = headerLength(path, first8, fileSize);
  if (!length)
    return length.takeError();
  std::string header;
  if (llvm::Error error = readAt(8, *length, header))
    return std::move(error);
  return parseHeader(path, header, fileSize);
}

Expected<SafeTensorsFile> SafeTensorsFile::parse(StringRef path,
                                                 StringRef bytes) {
  std::string first8(8, '\0');
  std::copy_n(bytes.begin(), std::min<size_t>(8, bytes.size()),
              first8.begin());
  Expected<uint64_t> length = headerLength(path, first8, bytes.size());
  if (!length)
    return length.takeError();
  return parseHeader(path, bytes.substr(8, *length), bytes.size());
}

Expected<SafeTensorsFile> SafeTensorsFile::parseHeader(StringRef path,
                                                       StringRef header,
                                                       uint64_t fileSize) {
  if (header.empty() || header.front() != '{')
    return fileError(path, "header is not a JSON object");

  // nlohmann keeps the last of duplicate keys; the callback sees them all.
  llvm::StringSet<> seen;
  std::string duplicate;
  auto noteKeys = [&](int depth, json::parse_event_t event, json &parsed) {
    if (event == json::parse_event_t::key && depth == 1 &&
        !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json root = json::parse(header.begin(), header.end(), noteKeys,
                          /*allow_exceptions=*/false);
  if (root.is_discarded())
    return fileError(path, "malformed JSON header");
  if (!root.is_object())
    return fileError(path, "header is not a JSON object");
  if (!duplicate.empty())
    return fileError(path, "tensor '" + duplicate + "' is listed twice");

  SafeTensorsFile file;
  file.filePath = path.str();
  file.size = fileSize;
  uint64_t dataStart = 8 + header.size();

  // Byte ranges relative to the data area, to check the tiling below.
  struct Range {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;

  for (auto &item : root.items()) {
    const std::string &name = item.key();
    const json &entry = item.value();
    if (name == "__metadata__") {
      if (!entry.is_object())
        return fileError(path, "__metadata__ is not an object");
      for (auto &[key, value] : entry.items()) {
        if (!value.is_string())
          return fileError(path, "__metadata__ value for '" + key +
                                     "' is not a string");
        file.meta[key] = value.get<std::string>();
      }
      continue;
    }
    auto fail = [&](const llvm::Twine &message) {
      return fileError(path, "tensor '" + name + "': " + message);
    };
    if (!entry.is_object())
      return fail("entry is not an object");

    auto dtypeField = entry.find("dtype");
    if (dtypeField == entry.end() || !dtypeField->is_string())
      return fail("missing dtype");
    std::string dtypeString = dtypeField->get<std::string>();
    std::optional<DType> dtype = parseDType(dtypeString);
    if (!dtype)
      return fail("unknown dtype '" + dtypeString + "'");

    auto shapeField = entry.find("shape");
    if (shapeField == entry.end() || !shapeField->is_array())
      return fail("missing shape");
    TensorInfo tensor{name, *dtype, {}, 0, 0};
    for (const json &dim : *shapeField) {
      if (!dim.is_number_unsigned() ||
          dim.get<uint64_t>() > uint64_t(INT64_MAX))
        return fail("shape must hold non-negative integers");
      tensor.shape.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
    }
    uint64_t numBits = dtypeBits(*dtype);
    for (int64_t extent : tensor.shape)
      if (__builtin_mul_overflow(numBits, uint64_t(extent), &numBits))
        return fail("shape " + shapeString(tensor.shape) + " is too large");
    if (numBits % 8 != 0)
      return fail("shape " + shapeString(tensor.shape) +
                  " does not fill whole bytes");

    auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() ||
        offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      return fail("data_offsets must be two non-negative integers");
    uint64_t begin = (*offsets)[0].get<uint64_t>();
    uint64_t end = (*offsets)[1].get<uint64_t>();
    if (begin > end)
      return fail("data_offsets [" + llvm::Twine(begin) + ", " +
                  llvm::Twine(end) + ") run backwards");
    if (end > fileSize - dataStart)
      return fail("data_offsets [" + llvm::Twine(begin) + ", " +
                  llvm::Twine(end) + ") run past the end of the data (" +
                  llvm::Twine(fileSize - dataStart) +
                  " bytes); is the file truncated?");
    if (end - begin != numBits / 8)
      return fail("data_offsets [" + llvm::Twine(begin) + ", " +
                  llvm::Twine(end) + ") hold " + llvm::Twine(end - begin) +
                  " bytes, but " + dtypeString + " " +
                  shapeString(tensor.shape) + " needs " +
                  llvm::Twine(numBits / 8));
    tensor.offset = dataStart + begin;
    tensor.size = end - begin;
    ranges.push_back({begin, end, file.tensorList.size()});
    file.tensorList.push_back(std::move(tensor));
  }

  // The tensors must tile the data area exactly: no gap, no overlap.
  llvm::sort(ranges, [](const Range &a, const Range &b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t expected = 0;
  const TensorInfo *previous = nullptr;
  for (const Range &range : ranges) {
    const TensorInfo &tensor = file.tensorList[range.index];
    if (range.begin < expected)
      return fileError(path, "tensors '" + previous->name + "' and '" +
                                 tensor.name + "' overlap");
    if (range.begin > expected)
      return fileError(path, llvm::Twine(range.begin - expected) +
                                 " unused bytes before tensor '" +
                                 tensor.name + "'");
    expected = range.end;
    previous = &tensor;
  }
  if (dataStart + expected != fileSize)
    return fileError(path, llvm::Twine(fileSize - dataStart - expected) +
                               " bytes after the last tensor");

  // File order, then the name index.
  std::vector<TensorInfo> ordered;
  ordered.reserve(ranges.size());
  for (const Range &range : ranges)
    ordered.push_back(std::move(file.tensorList[range.index]));
  file.tensorList = std::move(ordered);
  for (auto [i, tensor] : llvm::enumerate(file.tensorList))
    file.byName[tensor.name] = i;
  return file;
}
