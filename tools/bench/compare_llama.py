"""Decode and prompt speed of moec against llama.cpp on the same weights.

Run through tools/bench/compare-llama.sh, which builds moec and makes the
Python environment (gguf, llama-cpp-python built on this machine). For each
model (Mixtral 8x7B layer dimensions, 2 layers, bf16, a SwiGLU and a dReLU
version, and a dReLU one with a trained model's statistics: 15 % of the
neurons active, predictors of rank 1024; a dense Llama-shaped model of 30
layers and 163M parameters):
synthesise the checkpoint with moec-synth, compile it for this CPU with
moec-compile (exact and with --bf16-dot; the dReLU one also --no-sparse),
measure it with moec-bench, write the same weights as GGUF and time
llama.cpp's decode steps at the same context, threads and dtype, and its
prompt of --prompt tokens (as llama-bench's pp512). With --weights=q8_0
(or q4_0, or a list), each model is also compiled with moec-compile
--weights (the integer products, and --int8-dot=false's exact kernels
where the CPU has VNNI) and llama.cpp reads a GGUF holding the same
blocks (test/reference/block_formats.py's bytes, which moec's equal).
Prints Markdown tables and writes every measurement to OUT/results.json.
"""
import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SHAPE = dict(hidden_size=4096, intermediate_size=14336, num_experts=8, top_k=2,
             num_heads=32, num_kv_heads=8, vocab_size=32000, num_layers=2)
# A SmolLM-135M-shaped dense model (30 layers, GQA 9/3, vocab 49152).
DENSE_SHAPE = dict(hidden_size=576, intermediate_size=1536, num_heads=9,
                   num_kv_heads=3, vocab_size=49152, num_layers=30,
                   sliding_window=0, max_position_embeddings=8192)


def log(message):
    print(f"compare-llama: {message}", file=sys.stderr, flush=True)


def run(command, **kwargs):
    log(" ".join(str(c) for c in command))
    return subprocess.run([str(c) for c in command], check=True, **kwargs)


# --- safetensors in, GGUF out --------------------------------------------

def read_safetensors(directory):
    """name -> (dtype string, shape, uint8 memmap of the bytes)."""
    tensors = {}
    for path in sorted(Path(directory).glob("*.safetensors")):
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length)
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            tensors[name] = (info["dtype"], info["shape"], data[begin:end])
    return tensors


def as_bf16_bits(dtype, raw):
    if dtype != "BF16":
        raise SystemExit(f"compare-llama: expected bf16 weights, found {dtype}")
    return raw.view(np.uint16)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def permute_for_llama(bits, heads, shape):
    """HF's rotate-half rows -> llama.cpp's interleaved pairs (as its
    convert_hf_to_gguf does for q and k)."""
    w = bits.reshape(shape)
    return (w.reshape(heads, 2, shape[0] // heads // 2, shape[1])
            .swapaxes(1, 2).reshape(shape))


# Where block_formats.py is: numpy's statement of Q8_0 and Q4_0, equal bit
# for bit to what moec-compile --weights writes (its unit test says so).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "test" / "reference"))


def quantized_rows(values, fmt):
    """`values` [..., k] f32 as the bytes of `fmt` blocks, [..., k / 32 *
    block bytes] uint8, quantized a matrix at a time."""
    import block_formats

    matrices = values.reshape(-1, *values.shape[-2:])
    out = [np.frombuffer(block_formats.QUANTIZE[fmt](m), dtype=np.uint8)
           .reshape(m.shape[0], -1) for m in matrices]
    return np.stack(out).reshape(*values.shape[:-1], -1)


def write_gguf(checkpoint, out, weights="bf16"):
    """The checkpoint as a llama.cpp GGUF file. With `weights` q8_0 or q4_0,
    the tensors moec-compile --weights quantizes (attention, the FFN's
    gate, up and down, an untied LM head) are stored in those blocks, made
    by the same rules: each row's blocks the same bytes as moec's
    (row-major down projections: a --no-sparse build's; a sparse build
    quantizes its neuron-major rows along the hidden size instead)."""
    import gguf

    config = json.loads((Path(checkpoint) / "config.json").read_text())
    tensors = read_safetensors(checkpoint)
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    kv_heads = config["num_key_value_heads"]
    head_dim = config.get("head_dim") or hidden // heads
    layers = config["num_hidden_layers"]
    experts = config.get("num_local_experts")
    vocab = config["vocab_size"]

    # (gguf name, producer of the array, GGML type); produced one at a time
    # when written, so no more than one stacked expert tensor is in memory.
    plan = []

    def bits(name):
        dtype, shape, raw = tensors[name]
        return as_bf16_bits(dtype, raw).reshape(shape)

    def add(gguf_name, shape, f32, produce, quantize=False):
        if quantize and weights != "bf16":
            plan.append((gguf_name, shape, weights,
                         lambda: quantized_rows(bf16_to_f32(produce()), weights)))
        else:
            plan.append((gguf_name, shape, "f32" if f32 else "bf16", produce))

    def vector(name):
        return lambda: bf16_to_f32(bits(name))

    add("token_embd.weight", [vocab, hidden], False,
        lambda: bits("model.embed_tokens.weight"))
    for i in range(layers):
        p = f"model.layers.{i}."
        b = f"blk.{i}."
        add(b + "attn_norm.weight", [hidden], True, vector(p + "input_layernorm.weight"))
        # Permuting whole rows permutes their blocks: the same blocks.
        add(b + "attn_q.weight", [heads * head_dim, hidden], False,
            lambda p=p: permute_for_llama(bits(p + "self_attn.q_proj.weight"), heads,
                                          [heads * head_dim, hidden]), True)
        add(b + "attn_k.weight", [kv_heads * head_dim, hidden], False,
            lambda p=p: permute_for_llama(bits(p + "self_attn.k_proj.weight"), kv_heads,
                                          [kv_heads * head_dim, hidden]), True)
        add(b + "attn_v.weight", [kv_heads * head_dim, hidden], False,
            lambda p=p: bits(p + "self_attn.v_proj.weight"), True)
        add(b + "attn_output.weight", [hidden, heads * head_dim], False,
            lambda p=p: bits(p + "self_attn.o_proj.weight"), True)
        add(b + "ffn_norm.weight", [hidden], True,
            vector(p + "post_attention_layernorm.weight"))
        if not experts:
            for ours, theirs in (("gate_proj", "ffn_gate"), ("up_proj", "ffn_up"),
                                 ("down_proj", "ffn_down")):
                name = f"{p}mlp.{ours}.weight"
                add(f"{b}{theirs}.weight", tensors[name][1], False,
                    lambda name=name: bits(name), True)
            continue
        add(b + "ffn_gate_inp.weight", [experts, hidden], True,
            vector(p + "block_sparse_moe.gate.weight"))
        for ours, theirs in (("w1", "ffn_gate_exps"), ("w3", "ffn_up_exps"),
                             ("w2", "ffn_down_exps")):
            shape = [experts] + tensors[f"{p}block_sparse_moe.experts.0.{ours}.weight"][1]
            add(f"{b}{theirs}.weight", shape, False,
                lambda p=p, ours=ours: np.stack(
                    [bits(f"{p}block_sparse_moe.experts.{e}.{ours}.weight")
                     for e in range(experts)]), True)
    add("output_norm.weight", [hidden], True, vector("model.norm.weight"))
    # A tied head is the embedding table, which moec keeps as stored.
    tied = "lm_head.weight" not in tensors
    head = "model.embed_tokens.weight" if tied else "lm_head.weight"
    add("output.weight", [vocab, hidden], False, lambda: bits(head), not tied)

    writer = gguf.GGUFWriter(out, "llama")
    writer.add_name("moec benchmark model")
    writer.add_context_length(config.get("max_position_embeddings", 4096))
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_rope_dimension_count(head_dim)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(config.get("rms_norm_eps", 1e-5))
    writer.add_rope_freq_base(config.get("rope_theta", 1e6))
    if experts:
        writer.add_expert_count(experts)
        writer.add_expert_used_count(config["num_experts_per_tok"])
    writer.add_file_type({"bf16": gguf.LlamaFileType.MOSTLY_BF16,
                          "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
                          "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}[weights])
    # A SentencePiece-style vocabulary of the right size: the special
    # tokens, the 256 byte tokens, and placeholder pieces.
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    pieces += [f"\u2581p{i}" for i in range(vocab - len(pieces))]
    types = ([gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
             + [gguf.TokenType.BYTE] * 256
             + [gguf.TokenType.NORMAL] * (vocab - 259))
    # (A vocabulary smaller than that, as in the small test models, keeps
    # its first pieces.)
    pieces, types = pieces[:vocab], types[:vocab]
    writer.add_tokenizer_model("llama")
    writer.add_token_list(pieces)
    writer.add_token_scores([0.0] * vocab)
    writer.add_token_types(types)
    writer.add_bos_token_id(config.get("bos_token_id", 1))
    writer.add_eos_token_id(config.get("eos_token_id", 2))
    writer.add_unk_token_id(0)

    blocks = {"q8_0": (34, gguf.GGMLQuantizationType.Q8_0),
              "q4_0": (18, gguf.GGMLQuantizationType.Q4_0)}
    for name, shape, kind, _ in plan:
        count = int(np.prod(shape))
        if kind == "f32":
            writer.add_tensor_info(name, shape, np.dtype(np.float32), count * 4)
        elif kind == "bf16":
            writer.add_tensor_info(name, shape, np.dtype(np.uint16), count * 2,
                                   raw_dtype=gguf.GGMLQuantizationType.BF16)
        else:
            width, ggml_type = blocks[kind]
            byte_shape = list(shape[:-1]) + [shape[-1] // 32 * width]
            writer.add_tensor_info(name, byte_shape, np.dtype(np.uint8),
                                   count // 32 * width, raw_dtype=ggml_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, _, _, produce in plan:
        array = np.ascontiguousarray(produce())
        writer.write_tensor_data(array)
    writer.close()


# --- llama.cpp decode timing ---------------------------------------------

def time_llama(gguf_path, context, warmup, steps, threads, seed, prompt,
               prompt_runs):
    """Seconds of each timed decode step, and of each timed prompt (one
    untimed first, as moec-bench does)."""
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(gguf_path),
                          n_ctx=max(context + warmup + steps, prompt) + 16,
                          n_threads=threads, n_threads_batch=threads, n_batch=512,
                          n_ubatch=512, use_mmap=True, verbose=False, seed=seed)
    vocab = llm.n_vocab()
    rng = np.random.default_rng(seed + context)
    prompt_seconds = []
    if prompt:
        for n in range(prompt_runs + 1):
            llm.reset()
            tokens = rng.integers(0, vocab, size=prompt).tolist()
            start = time.perf_counter()
            llm.eval(tokens)
            if n:
                prompt_seconds.append(time.perf_counter() - start)
        llm.reset()
    llm.eval(rng.integers(0, vocab, size=context).tolist())
    seconds = []
    for n in range(warmup + steps):
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        start = time.perf_counter()
        llm.eval([token])
        if n >= warmup:
            seconds.append(time.perf_counter() - start)
    del llm
    return seconds, prompt_seconds


def quantiles(seconds):
    s = sorted(seconds)
    pick = lambda q: s[int(q * (len(s) - 1) + 0.5)]
    return {"median": statistics.median(s), "p10": pick(0.1), "p90": pick(0.9),
            "min": s[0], "max": s[-1]}


# --- the comparison -------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="moec's build/bin")
    parser.add_argument("--out", required=True, help="working directory")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating moec/llama.cpp runs per model")
    parser.add_argument("--prompt", type=int, default=512,
                        help="prompt tokens timed (0: none)")
    parser.add_argument("--prompt-runs", type=int, default=3)
    parser.add_argument("--models", default="dense,mixtral,drelu,sparse",
                        help="comma-separated: dense, mixtral, drelu, sparse")
    parser.add_argument("--weights", default="bf16",
                        help="comma-separated: bf16 (as stored), q8_0, q4_0; "
                        "each model is compared in each, moec with "
                        "--weights=FORMAT and llama.cpp on a GGUF of the same "
                        "blocks")
    parser.add_argument("--keep", action="store_true",
                        help="keep checkpoints, artifacts and GGUF files")
    parser.add_argument("--report", action="store_true",
                        help="only print the table of OUT/results.json")
    args = parser.parse_args()
    if args.report:
        saved = json.loads((Path(args.out) / "results.json").read_text())
        for key in ("threads", "context", "steps", "rounds", "prompt"):
            setattr(args, key, saved[key])
        print_table(saved["results"], args)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(args.bin)

    # moec exact (f32 activations) and with --bf16-dot (activations rounded
    # to bf16 in the products, as llama.cpp computes them).
    # Where the machine lacks AVX-512 BF16, --bf16-dot does not compile.
    bf16 = "avx512_bf16" in open("/proc/cpuinfo").read()
    dot = lambda builds: [b for b in builds if bf16 or "--bf16-dot" not in b[1]]
    # name: (title, architecture, shape, extra moec-synth flags, builds)
    catalogue = {
        "dense": ("dense 30 layers 163M (Llama/SmolLM shape)", "MistralForCausalLM",
                  DENSE_SHAPE, [],
                  dot([("moec", []), ("moec --bf16-dot", ["--bf16-dot"])])),
        "mixtral": ("SwiGLU (Mixtral)", "MixtralForCausalLM", SHAPE, [],
                    dot([("moec", []), ("moec --bf16-dot", ["--bf16-dot"])])),
        "drelu": ("dReLU (TurboSparse-Mixtral)", "TurboSparseMixtralForCausalLM", SHAPE,
                  [],
                  dot([("moec sparse", []), ("moec sparse --bf16-dot", ["--bf16-dot"]),
                       ("moec --no-sparse", ["--no-sparse"]),
                       ("moec --no-sparse --bf16-dot", ["--no-sparse", "--bf16-dot"])])),
        "sparse": ("dReLU, 15 % active, predictors of rank 1024",
                   "TurboSparseMixtralForCausalLM", SHAPE,
                   ["--active-fraction=0.15", "--predictor-rank=1024"],
                   [("moec exact sparse", []), ("moec --predictors", ["--predictors"]),
                    (DENSE_BUILD, ["--no-sparse"])]),
    }
    models = [catalogue[m] for m in args.models.split(",")]
    formats = args.weights.split(",")
    for f in formats:
        if f not in ("bf16", "q8_0", "q4_0"):
            parser.error(f"--weights: unknown format {f}")
    cpu_flags = open("/proc/cpuinfo").read()
    int8 = (("avx512_vnni" in cpu_flags and "avx512vl" in cpu_flags)
            or "avx_vnni" in cpu_flags)
    results = []
    started = time.time()
    for (title, arch, shape, extra_synth, builds), fmt in (
            (m, f) for m in models for f in formats):
        synth_flags = [f"--{k.replace('_', '-')}={v}" for k, v in shape.items()]
        synth_flags += extra_synth
        checkpoint = out / f"{arch}-ckpt"
        gguf_path = out / f"{arch}.{fmt}.gguf"
        if fmt == formats[0] or not checkpoint.exists():
            if checkpoint.exists():
                shutil.rmtree(checkpoint)
            run([bin_dir / "moec-synth", "-o", checkpoint, f"--arch={arch}",
                 "--dtype=bf16", "--seed=3", *synth_flags])
        if fmt != "bf16":
            title = f"{title}, {fmt}"
            # The bf16 dot product does not apply to blocks. The integer
            # one (--int8-dot, llama.cpp's way with them) is moec's default
            # where the CPU has it: each build with it, and the exact
            # kernels (--int8-dot=false) beside it.
            builds = [(label, flags) for label, flags in builds
                      if "--bf16-dot" not in flags]
            if int8:
                builds = ([(label + " --int8-dot", flags + ["--int8-dot"])
                           for label, flags in builds] +
                          [(label + " --int8-dot=false", flags + ["--int8-dot=false"])
                           for label, flags in builds if "--predictors" not in flags])
            builds = [(label, [f"--weights={fmt}"] + flags) for label, flags in builds]
        artifacts = []
        for label, flags in builds:
            artifact = out / f"{arch}{''.join(flags)}.moec"
            run([bin_dir / "moec-compile", checkpoint, "-o", artifact, *flags])
            artifacts.append((label, artifact))
        log(f"writing {gguf_path}")
        write_gguf(checkpoint, gguf_path, fmt)
        if not args.keep and fmt == formats[-1]:
            shutil.rmtree(checkpoint)

        # Rounds alternate the runs, so that a slow phase of a shared
        # machine falls on all of them alike; each figure is the median of
        # its rounds' medians.
        runs = {label: [] for label, _ in artifacts}
        runs["llama.cpp"] = []
        for round_ in range(args.rounds):
            for label, artifact in artifacts:
                report = json.loads(run(
                    [bin_dir / "moec-bench", artifact, f"--context={args.context}",
                     f"--steps={args.steps}", f"--warmup={args.warmup}",
                     f"--threads={args.threads}", f"--prompt-tokens={args.prompt}",
                     f"--prompt-runs={args.prompt_runs}", "--json"],
                    capture_output=True, text=True).stdout)
                runs[label].append(report)
            log(f"llama.cpp on {gguf_path}, round {round_ + 1}")
            seconds, prompt = time_llama(gguf_path, args.context, args.warmup,
                                         args.steps, args.threads, seed=round_,
                                         prompt=args.prompt,
                                         prompt_runs=args.prompt_runs)
            runs["llama.cpp"].append({"seconds_per_token": quantiles(seconds),
                                      "prompt_seconds": prompt})
        for label, reports in runs.items():
            entry = {"model": title, "engine": label, "rounds": reports}
            medians = [r["contexts"][0]["seconds_per_token"]["median"]
                       if "contexts" in r else r["seconds_per_token"]["median"]
                       for r in reports]
            entry["seconds_per_token"] = statistics.median(medians)
            if label != "llama.cpp":
                c = [r["contexts"][0] for r in reports]
                entry["bytes_per_token"] = statistics.median(
                    x["weight_bytes_per_token"] + x["cache_bytes_per_token"] for x in c)
                entry["bandwidth"] = statistics.median(
                    r["bandwidth_bytes_per_s"] for r in reports)
                entry["active"] = [l["active_neuron_fraction"]
                                   for l in c[len(c) // 2]["layers"]]
                entry["bytes_by_part"] = {
                    part: statistics.median(x["weight_bytes_by_part"][part] for x in c)
                    for part in c[0]["weight_bytes_by_part"]}
                entry["bytes_by_part"]["cache"] = statistics.median(
                    x["cache_bytes_per_token"] for x in c)
                entry["layers"] = shape["num_layers"]
            results.append(entry)
        if not args.keep:
            for _, artifact in artifacts:
                artifact.unlink()
            gguf_path.unlink()

    (out / "results.json").write_text(json.dumps(
        {"threads": args.threads, "context": args.context, "steps": args.steps,
         "warmup": args.warmup, "rounds": args.rounds, "prompt": args.prompt,
         "results": results}, indent=2))
    print_table(results, args)
    log(f"done in {time.time() - started:.0f} s; measurements in {out / 'results.json'}")


# Parts whose bytes every decoder layer reads; the rest (head, embedding row
# and final norm) are read once per token.
LAYER_PARTS = ("attention", "router", "predictor", "gate", "up", "down", "cache")
# The build whose counted bytes are llama.cpp's: every weight of the routed
# experts read, as llama.cpp's dense products do.
DENSE_BUILD = "moec --no-sparse"


def projected_bytes(parts, layers, to_layers):
    """Bytes per token of the same model with `to_layers` decoder layers."""
    per_layer = sum(parts[p] for p in LAYER_PARTS if p in parts) / layers
    once = sum(v for p, v in parts.items() if p not in LAYER_PARTS)
    return once + per_layer * to_layers


def print_sparse_table(results, args, llama):
    """For models with a dense moec build: bytes by part, the share of the
    bandwidth achieved on the bytes read, the speed-up over llama.cpp
    against the ratio of bytes read (llama.cpp reads the dense build's),
    and both projected to 32 layers at the same achieved bandwidth."""
    # (A quantized model's dense builds are labelled with their products'
    # flag after it; their bytes are the same.)
    models = {r["model"] for r in results if r["engine"].startswith(DENSE_BUILD)}
    if not models:
        return
    print("\nsparse decode: bytes per token by part (MB), speed-up over "
          "llama.cpp against the byte ratio, measured (2 layers) and "
          "projected to 32 layers at each engine's achieved bandwidth\n")
    parts = ("attention", "router", "predictor", "gate", "up", "down", "head",
             "cache")
    print("| model | engine | " + " | ".join(parts) + " | of bandwidth | speed-up "
          "| byte ratio | speed-up / byte ratio | 32 layers: speed-up | byte ratio "
          "| ratio |")
    print("|---|---|" + "---|" * (len(parts) + 7))
    for model in sorted(models):
        rows = [r for r in results if r["model"] == model and "bytes_by_part" in r]
        dense = next(r for r in rows if r["engine"].startswith(DENSE_BUILD))
        layers = dense["layers"]
        dense_bytes = dense["bytes_per_token"]
        dense_32 = projected_bytes(dense["bytes_by_part"], layers, 32)
        for r in rows:
            speedup = statistics.median(
                round_seconds(l) / round_seconds(x)
                for l, x in zip(llama[model], r["rounds"]))
            share = statistics.median(x["contexts"][0]["of_bandwidth"]
                                      for x in r["rounds"])
            ratio = dense_bytes / r["bytes_per_token"]
            bytes_32 = projected_bytes(r["bytes_by_part"], layers, 32)
            ratio_32 = dense_32 / bytes_32
            # Each engine keeps its achieved bandwidth: time scales with
            # its bytes (llama.cpp's are the dense build's).
            speedup_32 = speedup * (dense_32 / dense_bytes) / (bytes_32 / r["bytes_per_token"])
            cells = [f"{r['bytes_by_part'].get(p, 0) / 1e6:.0f}" for p in parts]
            print(f"| {model} | {r['engine']} | " + " | ".join(cells) +
                  f" | {share * 100:.0f} % | {speedup:.2f}× | {ratio:.2f} | "
                  f"{speedup / ratio:.2f} | {speedup_32:.2f}× | {ratio_32:.2f} | "
                  f"{speedup_32 / ratio_32:.2f} |")


def round_seconds(report):
    """Median seconds per token of one round's run, moec or llama.cpp."""
    if "contexts" in report:
        return report["contexts"][0]["seconds_per_token"]["median"]
    return report["seconds_per_token"]["median"]


def print_table(results, args):
    """Each ratio is the median over rounds of that round's ratio: the runs
    of a round ran back to back, so a slow phase of the machine cancels."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "unknown CPU")
    print(f"\n{cpu}, {args.threads} threads, context {args.context}, "
          f"{args.rounds} rounds of {args.steps} decode steps\n")
    print("| model | engine | ms/token | bytes/token | achieved | of bandwidth "
          "| llama.cpp time / this |")
    print("|---|---|---|---|---|---|---|")
    llama = {r["model"]: r["rounds"] for r in results if r["engine"] == "llama.cpp"}
    for r in results:
        t = r["seconds_per_token"]
        if "bytes_per_token" in r:
            rate = r["bytes_per_token"] / t
            share = statistics.median(x["contexts"][0]["of_bandwidth"]
                                      for x in r["rounds"])
            cells = [f"{r['bytes_per_token'] / 1e9:.2f} GB", f"{rate / 1e9:.1f} GB/s",
                     f"{share * 100:.0f} %"]
        else:
            cells = ["", "", ""]
        ratio = statistics.median(round_seconds(l) / round_seconds(x)
                                  for l, x in zip(llama[r["model"]], r["rounds"]))
        print(f"| {r['model']} | {r['engine']} | {t * 1e3:.1f} | " + " | ".join(cells) +
              f" | {ratio:.2f}× |")
    print_sparse_table(results, args, llama)
    if not args.prompt:
        return
    print(f"\nprompt of {args.prompt} tokens (median of each round's runs)\n")
    print("| model | engine | tokens/s | GFLOP/s | of peak | this / llama.cpp |")
    print("|---|---|---|---|---|---|")
    for r in results:
        rates = [round_prompt_rate(x, args.prompt) for x in r["rounds"]]
        if None in rates:
            continue
        ratio = statistics.median(
            rate / round_prompt_rate(l, args.prompt)
            for rate, l in zip(rates, llama[r["model"]]))
        cells = ["", ""]
        if "prompt" in r["rounds"][0]:
            p = [x["prompt"] for x in r["rounds"]]
            cells = [f"{statistics.median(x['flop_per_s'] for x in p) / 1e9:.0f}",
                     f"{statistics.median(x['of_peak'] for x in p):.2f}"]
        print(f"| {r['model']} | {r['engine']} | {statistics.median(rates):.0f} | "
              + " | ".join(cells) + f" | {ratio:.2f}× |")


def round_prompt_rate(report, tokens):
    """Prompt tokens per second of one round's run (median), or None."""
    if "prompt" in report:
        return report["prompt"]["tokens_per_s"] if report["prompt"] else None
    seconds = report.get("prompt_seconds")
    return tokens / statistics.median(seconds) if seconds else None


if __name__ == "__main__":
    main()
