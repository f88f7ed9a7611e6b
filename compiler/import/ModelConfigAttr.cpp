//===- ModelConfigAttr.cpp - a model config as an MLIR attribute --------===//

#include "compiler/import/ModelConfigAttr.h"

#include "mlir/IR/Builders.h"

#include <nlohmann/json.hpp>

using namespace mlir;
using json = nlohmann::ordered_json;

static Attribute toAttr(const json &value, Builder &b) {
  switch (value.type()) {
  case json::value_t::object: {
    SmallVector<NamedAttribute> entries;
    for (auto &[key, item] : value.items())
      if (!item.is_null())
        entries.push_back(b.getNamedAttr(key, toAttr(item, b)));
    return b.getDictionaryAttr(entries);
  }
  case json::value_t::array: {
    SmallVector<Attribute> items;
    for (const json &item : value)
      items.push_back(toAttr(item, b));
    return b.getArrayAttr(items);
  }
  case json::value_t::string:
    return b.getStringAttr(value.get<std::string>());
  case json::value_t::boolean:
    return b.getBoolAttr(value.get<bool>());
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
    return b.getI64IntegerAttr(value.get<int64_t>());
  default:
    return b.getF64FloatAttr(value.get<double>());
  }
}

/// The JSON value of an attribute written by toAttr, or null.
static json toJson(Attribute attr) {
  if (auto dict = dyn_cast<DictionaryAttr>(attr)) {
    json out = json::object();
    for (NamedAttribute entry : dict)
      out[entry.getName().str()] = toJson(entry.getValue());
    return out;
  }
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    json out = json::array();
    for (Attribute item : array)
      out.push_back(toJson(item));
    return out;
  }
  if (auto str = dyn_cast<StringAttr>(attr))
    return str.str();
  if (auto flag = dyn_cast<BoolAttr>(attr))
    return flag.getValue();
  if (auto integer = dyn_cast<IntegerAttr>(attr))
    return integer.getInt();
  if (auto real = dyn_cast<FloatAttr>(attr))
    return real.getValueAsDouble();
  return nullptr;
}

DictionaryAttr moec::configToAttr(const ModelConfig &config,
                                  MLIRContext *context) {
  Builder b(context);
  return cast<DictionaryAttr>(toAttr(json::parse(config.toJson()), b));
}

llvm::Expected<moec::ModelConfig>
moec::configFromAttr(DictionaryAttr attr, llvm::StringRef where) {
  return ModelConfig::parse(where, toJson(attr).dump());
}
