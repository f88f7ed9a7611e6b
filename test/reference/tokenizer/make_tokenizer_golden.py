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
import random

import sentencepiece as spm
from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import BPE
from transformers.convert_slow_tokenizer import SentencePieceExtractor

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = 400
CHATML = ["<|im_end|>", "<|im_start|>"]

# Plain texts: every encoder must agree on these.
TEXTS = [
    "Hello world",
    "The router chooses two experts for each token.",
    "  leading spaces and  double  spaces ",
    "line one\nline two\n\ttab",
    "numbers 12345 and 3.14",
    "Größe über Übung: ça coûte à Noël",
    "日本語のテキスト",
    "emoji \U0001F642\U0001F44D\U0001F3FD end",
    "",
    " ",
    "mixed ünïcödé 漢字 and ascii",
    "the sparse expert reads the active neurons of the gate",
]
# Texts with special tokens, for the tokenizer.json forms.
SPECIAL_TEXTS = [
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    "<s>[INST] What is a router? [/INST]",
    "a<|im_end|>b",
    "<|im_start|><|im_end|>",
]


def corpus():
    random.seed(0)
    words = ("the model reads weights from memory and every expert computes "
             "a sparse product while the router chooses two experts for each "
             "token of the prompt compiler kernel cache layer attention "
             "neuron active gate bandwidth").split()
    lines = []
    for i in range(400):
        line = " ".join(random.choice(words)
                        for _ in range(random.randint(4, 14)))
        line = line.capitalize() + random.choice(".!?,")
        if i % 5 == 0:
            line += " %d" % random.randint(0, 2000)
        lines.append(line)
    lines += ["Die Gewichte werden gelesen, während über Größe und Übung "
              "gesprochen wird."] * 3
    lines += ["Le modèle lit les poids; l'été à Noël, où ça coûte."] * 3
    return lines


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
        texts = TEXTS + SPECIAL_TEXTS
        ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]
        golden[name] = {
            "ids": ids,
            "decoded": [tok.decode(i, skip_special_tokens=False) for i in ids]}
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
