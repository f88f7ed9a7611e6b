//===- MoeAttrs.cpp - moe enums and attributes --------------------------===//

#include "dialects/moe/IR/MoeAttrs.h"
#include "dialects/moe/IR/MoeDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::moe;

#include "dialects/moe/IR/MoeEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/moe/IR/MoeAttrs.cpp.inc"

void MoeDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/moe/IR/MoeAttrs.cpp.inc"
      >();
}

LogicalResult
WeightRefAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      StringRef file, StringRef tensor, Type dtype,
                      ArrayRef<int64_t> shape, uint64_t offset) {
  if (file.empty())
    return emitError() << "weight reference has an empty file name";
  if (tensor.empty())
    return emitError() << "weight reference has an empty tensor name";
  if (!dtype.isBF16() && !dtype.isF16() && !dtype.isF32())
    return emitError() << "weight '" << tensor
                       << "' has unsupported dtype " << dtype
                       << " (expected bf16, f16 or f32)";
  if (shape.empty())
    return emitError() << "weight '" << tensor << "' has an empty shape";
  for (int64_t dim : shape)
    if (dim <= 0)
      return emitError() << "weight '" << tensor
                         << "' has a non-positive dimension " << dim;
  return success();
}

int64_t WeightRefAttr::getNumElements() const {
  int64_t n = 1;
  for (int64_t dim : getShape())
    n *= dim;
  return n;
}

uint64_t WeightRefAttr::getSizeInBytes() const {
  return getNumElements() * (getDtype().getIntOrFloatBitWidth() / 8);
}

std::optional<BlockFormat> mlir::moe::blockFormatOf(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return std::nullopt;
  if (auto attr = dyn_cast_or_null<BlockFormatAttr>(tensor.getEncoding()))
    return attr.getValue();
  return std::nullopt;
}

bool mlir::moe::isInterleaved(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  auto attr =
      tensor ? dyn_cast_or_null<BlockFormatAttr>(tensor.getEncoding()) : nullptr;
  return attr && attr.getLayout() == BlockLayout::Interleaved;
}

uint64_t mlir::moe::storedBytes(ShapedType type,
                                std::optional<BlockFormat> format) {
  uint64_t count = type.getNumElements();
  if (format)
    return count / kBlockValues * blockBytes(*format);
  return count * (type.getElementTypeBitWidth() / 8);
}

RankedTensorType mlir::moe::blocksType(MLIRContext *context,
                                       ArrayRef<int64_t> shape,
                                       BlockFormat format,
                                       BlockLayout layout) {
  SmallVector<int64_t> blocks(shape.drop_back());
  blocks.push_back(shape.back() / kBlockValues * blockBytes(format));
  return RankedTensorType::get(blocks, IntegerType::get(context, 8),
                               BlockFormatAttr::get(context, format, layout));
}
