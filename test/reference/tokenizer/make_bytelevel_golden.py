#!/usr/bin/env python3
"""Writes the byte-level BPE golden data of test/unit/TokenizerTest.cpp.

  tokenizer-gpt2.json     a byte-level BPE trained here, as GPT-2's files
                          are: the ByteLevel pre-tokeniser with its own
                          split pattern, the ByteLevel decoder,
                          <|endoftext|>
  tokenizer-llama3.json   the same kind of model as Llama 3's and SmolLM's
                          files are: a Split pre-tokeniser with Llama 3's
                          pattern, then ByteLevel without its pattern,
                          ignore_merges, Llama 3's header tokens
  golden-bytelevel.json   texts, and their ids and decodings by the
                          tokenizers package (no special tokens added)

Needs: pip install tokenizers
"""

import json
import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, pre_tokenizers, trainers
from tokenizers.models import BPE

from golden_texts import TEXTS, corpus, encoded

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = 500
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|"
                  r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<|eot_id|>"]
# What the split patterns treat apart: contractions, runs of digits,
# whitespace before newlines and before words.
BYTE_LEVEL_TEXTS = [
    "I'm sure they'll say it's DONE, isn't it?",
    "1234567 digits 2026-12-04",
    "spaces   \n\n  before newlines\r\n",
    "ünïcödé\u00a0no-break space",
]
SPECIAL = {
    "tokenizer-gpt2.json": ["<|endoftext|> between<|endoftext|>"],
    "tokenizer-llama3.json": [
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
        "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"],
}


def train(pre_tokenizer, specials, ignore_merges):
    tok = Tokenizer(BPE(ignore_merges=ignore_merges))
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus() + TEXTS + BYTE_LEVEL_TEXTS, trainer)
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True)
                            for t in specials])
    return tok


def main():
    models = {
        "tokenizer-gpt2.json": train(
            pre_tokenizers.ByteLevel(add_prefix_space=False),
            ["<|endoftext|>"], False),
        "tokenizer-llama3.json": train(
            pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False,
                                         use_regex=False)]),
            LLAMA3_SPECIAL, True),
    }
    golden = {"texts": TEXTS + BYTE_LEVEL_TEXTS}
    for name, tok in models.items():
        tok.save(os.path.join(HERE, name))
        golden[name] = {"special_texts": SPECIAL[name],
                        **encoded(tok, golden["texts"] + SPECIAL[name])}
    with open(os.path.join(HERE, "golden-bytelevel.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
