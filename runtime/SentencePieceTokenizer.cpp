//===- SentencePieceTokenizer.cpp - tokenizer.model ----------------------===//
//
// Mistral's and Mixtral's tokenizer.model, encoded by libsentencepiece
// itself so that its normaliser and BPE are exactly the trainer's.
//
//===----------------------------------------------------------------------===//

#include "runtime/TokenizerModels.h"

#include <sentencepiece_processor.h>

using namespace moec;

namespace {

class SentencePieceTokenizer : public Tokenizer {
public:
  Status init(std::string_view bytes, const std::string &where) {
    if (sentencepiece::util::Status status =
            processor.LoadFromSerializedProto(bytes);
        !status.ok())
      return Status::error("%s: not a SentencePiece model: %s", where.c_str(),
                           status.ToString().c_str());
    for (int id = 0, n = processor.GetPieceSize(); id < n; ++id) {
      Kind kind = processor.IsByte(id)      ? Kind::Byte
                  : processor.IsControl(id) ? Kind::Control
                  : processor.IsUnknown(id) ? Kind::Unknown
                                            : Kind::Text;
      // SentencePiece writes an unknown piece as " ⁇ ".
      addPiece(kind == Kind::Unknown ? " \xE2\x81\x87 "
                                     : processor.IdToPiece(id),
               kind);
      if (kind == Kind::Control)
        addSpecial(processor.IdToPiece(id), id);
    }
    bosId = processor.bos_id();
    eosId = processor.eos_id();
    // Whether the model adds the dummy prefix that decoding removes.
    std::vector<std::string> probe;
    stripLeadingSpace = processor.Encode("a", &probe).ok() && !probe.empty() &&
                        probe[0].rfind("\xE2\x96\x81", 0) == 0;
    return Status();
  }

protected:
  void encodeText(std::string_view text, bool,
                  std::vector<int32_t> &ids) const override {
    std::vector<int> encoded;
    // Encoding fails only on a model that failed to load.
    if (processor.Encode(text, &encoded).ok())
      ids.insert(ids.end(), encoded.begin(), encoded.end());
  }

private:
  sentencepiece::SentencePieceProcessor processor;
};

} // namespace

Status moec::loadSentencePiece(std::string_view bytes, const std::string &where,
                               std::unique_ptr<Tokenizer> &out) {
  auto tokenizer = std::make_unique<SentencePieceTokenizer>();
  if (Status status = tokenizer->init(bytes, where); !status)
    return status;
  out = std::move(tokenizer);
  return Status();
}
