#!/usr/bin/env python3
"""Writes the tokenizer golden data of test/unit/TokenizerTest.cpp.

  tokenizer.model            a SentencePiece BPE model with byte fallback,
                             trained here on generated sentences with the
                             options of Mistral's and Llama's models
  tokenizer.json             the same vocabulary and merges as HuggingFace
                             writes them for Mistral/Mixtral (normaliser
                             Prepend + Replace), plus the ChatML tokens
  tokenizer-metaspace.json   the same with the Metaspace pre-tokeniser
                             (prepend_scheme "first") of newer conversions
  golden.json                texts and their ids and decodings by the
                             sentencepiece and tokenizers packages

Needs: pip install sentencepiece tokenizers transformers
"""

import io
import json
import os

import sentencepiece as spm
from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import BPE
from transformers.convert_slow_tokenizer import SentencePieceExtractor

from golden_texts import SPECIAL_TEXTS, TEXTS, corpus, encoded

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = 400
CHATML = ["<|im_end|>", "<|im_start|>"]


def train(path):
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus()), model_writer=model,
        model_type="bpe", vocab_size=VOCAB, byte_fallback=True,
        split_digits=True, allow_whitespace_only_pieces=True,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        minloglevel=2)
    with open(path, "wb") as f:
        f.write(model.getvalue())


def hf_tokenizer(model_path, metaspace):
    extracted = SentencePieceExtractor(model_path).extract(BPE)
    tok = Tokenizer(BPE(extracted["vocab"], extracted["merges"],
                        unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True)
                            for t in ["<unk>", "<s>", "</s>"]])
    if metaspace:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(
            replacement="\u2581", prepend_scheme="first", split=False)
    else:
        tok.normalizer = normalizers.Sequence(
            [normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    tok.decoder = decoders.Sequence(
        [decoders.Replace("\u2581", " "), decoders.ByteFallback(),
         decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True)
                            for t in CHATML])
    return tok


def main():
    model_path = os.path.join(HERE, "tokenizer.model")
    train(model_path)
    sp = spm.SentencePieceProcessor(model_file=model_path)
    golden = {"texts": TEXTS, "special_texts": SPECIAL_TEXTS,
              "sentencepiece": {
                  "ids": [sp.encode(t) for t in TEXTS],
                  "decoded": [sp.decode(sp.encode(t)) for t in TEXTS]}}
    for name, metaspace in [("tokenizer.json", False),
                            ("tokenizer-metaspace.json", True)]:
        tok = hf_tokenizer(model_path, metaspace)
        tok.save(os.path.join(HERE, name))
        golden[name] = encoded(tok, TEXTS + SPECIAL_TEXTS)
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
