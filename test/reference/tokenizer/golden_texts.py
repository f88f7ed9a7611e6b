"""The texts of the tokenizer golden data (make_tokenizer_golden.py,
make_bytelevel_golden.py) and the corpus their models are trained on."""

import random

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


def encoded(tok, texts):
    """The ids of `texts` by a tokenizers.Tokenizer (no special tokens
    added), and their decodings."""
    ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    return {"ids": ids,
            "decoded": [tok.decode(i, skip_special_tokens=False) for i in ids]}
