#!/usr/bin/env python3
"""Compile a Hugging Face Llama checkpoint for Inf2/Trn1 with NxD Inference, and write a Basalt package.

    python3 kernels/neuron/compile.py MODEL_DIR --out PACKAGE_DIR [--target inf2|trn1] [--tp N]
        [--prefill-buckets 128,512] [--kv-lengths 256,1024] [--max-batch 4] [--decode-batches 4]
        [--max-length N] [--dtype f32|bf16] [--workdir DIR] [--package-only]

Two halves (docs/NEURON.md §3, HARDWARE.md §2.3):
  1. compile_with_nxdi(): NxDI traces and compiles one NEFF per submodel tag x bucket into a compiler workdir,
     <workdir>/<tag>/_tp0_bk<i>/graph.neff (+ metaneff.pb). Needs the Neuron SDK (neuronx-cc, torch-neuronx,
     neuronx-distributed-inference); its imports live only inside that function.
  2. write_package(): copies each bucket's graph.neff into the package (context_encoding_model -> prefill,
     token_generation_model -> decode), sha256s it, and writes manifest.json. Standard library only, so it is
     importable and testable without the SDK (kernels/neuron/tests). --package-only runs only this half over an
     existing workdir.

ASSUMED, not read from the SDK (checked only on a real SDK host; see kernels/neuron/README.md):
  - NEFF input order: the five user inputs (input_ids, attention_mask, position_ids, seq_ids, sampling_params),
    then the KV states (layer 0 K, layer 0 V, layer 1 K, ...), then the weights in the order of WEIGHT_ORDER below.
    Outputs: output0 is the logits, then one output per KV state (each state input aliases its output).
    When a bucket's metaneff.pb is present it is scanned (a protobuf-free wire-format reader) for its input{i} /
    output{i} names, and a count that differs from this assumed contract is an error, never a silently wrong package.
  - Sharding: NxDI's Llama defaults (ColumnParallel q/k/v/gate/up on axis 0, RowParallel o/down on axis 1,
    ParallelEmbedding across the embedding dim (axis 1), lm_head column-parallel (axis 0), norms replicated).
  - checkpoint_key is the Hugging Face key (model.layers.N.self_attn.q_proj.weight); NxDI's own state-dict key
    (after convert_hf_to_neuron_state_dict) differs by prefix. The backend binds weights by `kind`.
  - One decode batch size (NxDI compiles token generation for tkg_batch_size = max_batch_size).
GPT-2 and gpt-oss have no NxDI model class on Inf2/Trn1 (HARDWARE.md §2): refused.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys

FORMAT = "basalt-neuron-package"
VERSION = 1
NEFF_HEADER = 1024
TP_DEGREES = {"inf2": (1, 2, 4, 8, 24), "trn1": (1, 2, 8, 16, 32)}
# The Neuron SDK's Python packages: (import name, pip package).
SDK_MODULES = (("torch", "torch"), ("transformers", "transformers"), ("neuronxcc", "neuronx-cc"),
               ("torch_neuronx", "torch-neuronx"), ("neuronx_distributed_inference", "neuronx-distributed-inference"))
TAGS = {"context_encoding_model": "prefill", "token_generation_model": "decode"}
UNSUPPORTED = {"gpt2": "GPT-2", "gpt_oss": "gpt-oss"}

# (kind suffix, Hugging Face key suffix, shape as a function of the config, shard axis or None)
WEIGHT_ORDER = (
    ("attn_norm", "input_layernorm.weight", lambda c: [c["hidden_size"]], None),
    ("wq", "self_attn.q_proj.weight", lambda c: [c["num_heads"] * c["head_dim"], c["hidden_size"]], 0),
    ("wk", "self_attn.k_proj.weight", lambda c: [c["num_kv_heads"] * c["head_dim"], c["hidden_size"]], 0),
    ("wv", "self_attn.v_proj.weight", lambda c: [c["num_kv_heads"] * c["head_dim"], c["hidden_size"]], 0),
    ("wo", "self_attn.o_proj.weight", lambda c: [c["hidden_size"], c["num_heads"] * c["head_dim"]], 1),
    ("ffn_norm", "post_attention_layernorm.weight", lambda c: [c["hidden_size"]], None),
    ("w_gate", "mlp.gate_proj.weight", lambda c: [c["intermediate_size"], c["hidden_size"]], 0),
    ("w_up", "mlp.up_proj.weight", lambda c: [c["intermediate_size"], c["hidden_size"]], 0),
    ("w_down", "mlp.down_proj.weight", lambda c: [c["hidden_size"], c["intermediate_size"]], 1),
)


class CompileError(Exception):
    """A problem the user fixes (bad option, unsupported model, missing SDK): one line, exit 2."""


# ---------------------------------------------------------------------------------------------- options and config

def parse_list(option, text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CompileError(f"{option} must be comma-separated whole numbers, got '{text}'")
    if not values or any(v <= 0 for v in values):
        raise CompileError(f"{option} must list positive numbers, got '{text}'")
    return sorted(set(values))


def read_hf_config(model_dir):
    """The Basalt checkpoint config (NEURON.md §3) of a Hugging Face Llama directory; other architectures refused."""
    path = os.path.join(model_dir, "config.json")
    if not os.path.isfile(path):
        raise CompileError(f"{model_dir}: no config.json (a Hugging Face checkpoint directory is needed)")
    with open(path, encoding="utf-8") as f:
        hf = json.load(f)
    model_type = hf.get("model_type", "")
    if model_type in UNSUPPORTED:
        raise CompileError(f"{UNSUPPORTED[model_type]} cannot be compiled for Inf2/Trn1: NxD Inference has no "
                           f"{UNSUPPORTED[model_type]} model class on Inf2/Trn1 (HARDWARE.md §2); serve it on the cpu "
                           "or torch backend")
    if model_type != "llama":
        raise CompileError(f"{path}: model_type '{model_type}' is not supported (llama only)")
    heads = hf["num_attention_heads"]
    head_dim = hf.get("head_dim") or hf["hidden_size"] // heads
    return {
        "num_layers": hf["num_hidden_layers"], "hidden_size": hf["hidden_size"],
        "intermediate_size": hf["intermediate_size"], "num_heads": heads,
        "num_kv_heads": hf.get("num_key_value_heads") or heads, "vocab_size": hf["vocab_size"],
        "max_positions": hf["max_position_embeddings"], "rms_eps": hf.get("rms_norm_eps", 1e-6),
        "rope_theta": float(hf.get("rope_theta", 10000.0)), "rotary_dims": head_dim,
        # Hugging Face Llama rotates halves (rotate_half), not interleaved pairs.
        "rope_style": "half", "head_dim": head_dim, "tie_word_embeddings": bool(hf.get("tie_word_embeddings", False)),
    }


def checkpoint_files(model_dir):
    names = sorted(n for n in os.listdir(model_dir) if n.endswith(".safetensors"))
    if not names:
        raise CompileError(f"{model_dir}: no *.safetensors files")
    return [{"name": n, "bytes": os.path.getsize(os.path.join(model_dir, n)), "sha256": sha256(os.path.join(model_dir, n))}
            for n in names]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_options(cfg, o):
    tp = o["tp"]
    if tp not in TP_DEGREES[o["target"]]:
        raise CompileError(f"--tp {tp}: {o['target']} supports {', '.join(map(str, TP_DEGREES[o['target']]))}")
    if cfg["num_heads"] % tp or cfg["num_kv_heads"] % tp:
        raise CompileError(f"--tp {tp} must divide the heads ({cfg['num_heads']}) and KV heads ({cfg['num_kv_heads']})")
    if cfg["intermediate_size"] % tp or cfg["hidden_size"] % tp:
        raise CompileError(f"--tp {tp} must divide hidden_size and intermediate_size")
    if o["decode_batches"] != [o["max_batch"]]:
        raise CompileError(f"--decode-batches {o['decode_batches']}: NxDI compiles one token-generation batch size, "
                           f"--max-batch ({o['max_batch']})")
    if max(o["kv_lengths"]) > o["max_length"] or max(o["prefill_buckets"]) > o["max_length"]:
        raise CompileError(f"buckets longer than --max-length {o['max_length']}")
    if o["max_length"] > cfg["max_positions"]:
        raise CompileError(f"--max-length {o['max_length']} exceeds the model's {cfg['max_positions']} positions")


# ---------------------------------------------------------------------------------------------- the NxDI contract

def bucket_io(cfg, o, kind, batch, length, kv_length):
    """Inputs and outputs of one bucket's NEFF under the assumed NxDI order (module docstring)."""
    tp, dtype = o["tp"], o["dtype"]
    n_active = length if kind == "prefill" else 1
    user = [("input_ids", [batch, n_active], "int32"), ("attention_mask", [batch, kv_length if kind == "decode" else length], "int32"),
            ("position_ids", [batch, n_active], "int32"), ("seq_ids", [batch], "int32"), ("sampling_params", [batch, 3], "f32")]
    inputs = [{"role": "user", "kind": k, "shape": s, "dtype": d} for k, s, d in user]
    kv_shape = [o["max_batch"], cfg["num_kv_heads"] // tp, o["max_length"], cfg["head_dim"]]
    states = []
    for layer in range(cfg["num_layers"]):
        for which in ("k_cache", "v_cache"):
            states.append({"role": "state", "kind": f"layer.{layer}.{which}", "shape": kv_shape, "dtype": dtype})
    inputs += states
    weights = [weight("tok_embeddings", "model.embed_tokens.weight", [cfg["vocab_size"], cfg["hidden_size"]], 1, tp, dtype)]
    for layer in range(cfg["num_layers"]):
        for kind_suffix, key, shape, axis in WEIGHT_ORDER:
            weights.append(weight(f"layer.{layer}.{kind_suffix}", f"model.layers.{layer}.{key}", shape(cfg), axis, tp, dtype))
    weights.append(weight("final_norm", "model.norm.weight", [cfg["hidden_size"]], None, tp, dtype))
    lm_key = "model.embed_tokens.weight" if cfg["tie_word_embeddings"] else "lm_head.weight"
    weights.append(weight("lm_head", lm_key, [cfg["vocab_size"], cfg["hidden_size"]], 0, tp, dtype))
    inputs += weights
    for i, t in enumerate(inputs):
        t["name"] = f"input{i}"
    outputs = [{"name": "output0", "kind": "logits", "shape": [batch, cfg["vocab_size"]], "dtype": "f32"}]
    for i, s in enumerate(states):
        out = f"output{i + 1}"
        s["alias"] = out
        outputs.append({"name": out, "kind": s["kind"], "shape": s["shape"], "dtype": s["dtype"]})
    return [ordered(t) for t in inputs], outputs


def weight(kind, key, full_shape, axis, tp, dtype):
    shape = list(full_shape)
    t = {"role": "weight", "kind": kind, "checkpoint_key": key, "dtype": dtype}
    if axis is not None and tp > 1:
        shape[axis] //= tp
        t["shard"] = {"axis": axis}
    t["shape"] = shape
    return t


def ordered(t):
    keys = ("name", "role", "kind", "checkpoint_key", "shape", "dtype", "shard", "alias")
    return {k: t[k] for k in keys if k in t}


# ---------------------------------------------------------------------------------------------- NEFF and metaneff

def check_neff(path):
    """The 1024-byte NEFF header (HARDWARE.md §1.8): sizes and major version, so a truncated copy is caught here."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(NEFF_HEADER)
    if len(head) < NEFF_HEADER:
        raise CompileError(f"{path}: {size} bytes, shorter than a NEFF header ({NEFF_HEADER})")
    _, header_size, data_size, major = struct.unpack_from("<QQQQ", head, 0)
    if header_size != NEFF_HEADER or data_size != size - NEFF_HEADER:
        raise CompileError(f"{path}: not a NEFF (header_size {header_size}, data_size {data_size}, file {size} bytes)")
    if major != 2:
        raise CompileError(f"{path}: NEFF version {major}, expected 2")


def _varint(buf, i):
    value, shift = 0, 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def protobuf_strings(buf, depth=0):
    """Every length-delimited field of a protobuf message that reads as a UTF-8 string, nested messages included.

    A schema-free reader: metaneff.proto is torch-neuronx's, not vendored here, so only names are taken from it."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        wire = key & 7
        if wire == 0:
            _, i = _varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = _varint(buf, i)
            chunk = buf[i:i + n]
            if len(chunk) != n:
                raise ValueError("truncated field")
            i += n
            nested = None
            if depth < 4:
                try:
                    nested = protobuf_strings(chunk, depth + 1)
                except ValueError:
                    nested = None
            if nested:
                out += nested
            else:
                try:
                    out.append(chunk.decode("utf-8"))
                except UnicodeDecodeError:
                    pass
        else:
            raise ValueError(f"wire type {wire}")
    return out


def metaneff_counts(path):
    """(inputs, outputs) named input{i} / output{i} in a metaneff.pb, or None when it cannot be read."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        names = set(protobuf_strings(data))
    except ValueError:
        return None
    ins = sum(1 for n in names if n.startswith("input") and n[5:].isdigit())
    outs = sum(1 for n in names if n.startswith("output") and n[6:].isdigit())
    return ins, outs


# ---------------------------------------------------------------------------------------------- the package

def write_package(workdir, out_dir, model_dir, cfg, o, compiler):
    """Copies the workdir's NEFFs into out_dir and writes manifest.json (NEURON.md §3). No SDK needed."""
    os.makedirs(out_dir, exist_ok=True)
    buckets = []
    plan = [("context_encoding_model", "prefill", 1, length, length) for length in o["prefill_buckets"]]
    plan += [("token_generation_model", "decode", o["max_batch"], 1, k) for k in o["kv_lengths"]]
    index = {"context_encoding_model": 0, "token_generation_model": 0}
    for tag, kind, batch, length, kv_length in plan:
        src_dir = os.path.join(workdir, tag, f"_tp0_bk{index[tag]}")
        index[tag] += 1
        src = os.path.join(src_dir, "graph.neff")
        if not os.path.isfile(src):
            raise CompileError(f"{src}: missing (the workdir has no {kind} bucket {index[tag] - 1}; "
                               "were the buckets given here the ones it was compiled with?)")
        check_neff(src)
        inputs, outputs = bucket_io(cfg, o, kind, batch, length, kv_length)
        meta = os.path.join(src_dir, "metaneff.pb")
        if os.path.isfile(meta):
            counts = metaneff_counts(meta)
            if counts is not None and counts != (len(inputs), len(outputs)):
                raise CompileError(f"{meta}: {counts[0]} inputs and {counts[1]} outputs, the assumed NxDI contract has "
                                   f"{len(inputs)} and {len(outputs)}: this NxDI version orders its NEFF differently "
                                   "(see kernels/neuron/README.md)")
        name = f"{kind}_b{batch}_l{length if kind == 'prefill' else kv_length}.neff"
        shutil.copyfile(src, os.path.join(out_dir, name))
        buckets.append({"tag": kind, "batch": batch, "length": length, "kv_length": kv_length, "neff": name,
                        "sha256": sha256(os.path.join(out_dir, name)), "inputs": inputs, "outputs": outputs})
    config = {k: cfg[k] for k in ("num_layers", "hidden_size", "intermediate_size", "num_heads", "num_kv_heads",
                                  "vocab_size", "max_positions", "rms_eps", "rope_theta", "rotary_dims", "rope_style")}
    manifest = {
        "format": FORMAT, "version": VERSION, "target": o["target"], "compiler": compiler,
        "checkpoint": {"architecture": "llama", "files": checkpoint_files(model_dir), "config": config},
        "tp_degree": o["tp"], "weight_dtype": o["dtype"],
        "kv": {"max_batch": o["max_batch"], "max_length": o["max_length"], "dtype": o["dtype"]},
        # NxDI's context encoding starts every row at position 0: no chunked prefill.
        "chunked_prefill": False, "output": "logits", "buckets": buckets,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


# ---------------------------------------------------------------------------------------------- the SDK half

def missing_sdk():
    return [pip for module, pip in SDK_MODULES if importlib.util.find_spec(module) is None]


def compile_with_nxdi(model_dir, workdir, o):
    """NxDI compile into workdir; returns the compiler string for the manifest. Needs the Neuron SDK."""
    import torch  # noqa: imported here so write_package() needs no SDK
    import neuronxcc
    from neuronx_distributed_inference.models.config import NeuronConfig
    from neuronx_distributed_inference.models.llama.modeling_llama import LlamaInferenceConfig, NeuronLlamaForCausalLM
    from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config
    import neuronx_distributed_inference as nxdi

    neuron_config = NeuronConfig(
        tp_degree=o["tp"], batch_size=o["max_batch"], max_batch_size=o["max_batch"], ctx_batch_size=1,
        tkg_batch_size=o["max_batch"], is_continuous_batching=True, seq_len=o["max_length"],
        max_context_length=max(o["prefill_buckets"]), enable_bucketing=True,
        context_encoding_buckets=o["prefill_buckets"], token_generation_buckets=o["kv_lengths"],
        torch_dtype=torch.float32 if o["dtype"] == "f32" else torch.bfloat16,
        on_device_sampling_config=None,  # the engine samples: the NEFF returns logits
        target=o["target"],
    )
    config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config(model_dir))
    model = NeuronLlamaForCausalLM(model_dir, config)
    # NxDI compiles into its compiler workdir; BASE_COMPILE_WORK_DIR points it at ours so the NEFFs are found.
    os.environ["BASE_COMPILE_WORK_DIR"] = workdir
    model.compile(os.path.join(workdir, "traced"))
    return f"neuronx-cc {getattr(neuronxcc, '__version__', '?')} / NxDI {getattr(nxdi, '__version__', '?')}"


# ---------------------------------------------------------------------------------------------- command line

def main(argv=None):
    p = argparse.ArgumentParser(prog="compile.py", description="Compile a Hugging Face Llama for Inf2/Trn1 (NxDI) into a Basalt package.")
    p.add_argument("model", help="Hugging Face checkpoint directory (config.json + *.safetensors)")
    p.add_argument("--out", required=True, help="package directory to write")
    p.add_argument("--target", default="inf2", choices=("inf2", "trn1"))
    p.add_argument("--tp", type=int, default=1)
    p.add_argument("--prefill-buckets", default="128")
    p.add_argument("--kv-lengths", default=None, help="decode buckets (KV lengths); default: --max-length")
    p.add_argument("--max-batch", type=int, default=4)
    p.add_argument("--decode-batches", default=None, help="must equal --max-batch (NxDI: one token-generation batch size)")
    p.add_argument("--max-length", type=int, default=None, help="longest sequence (default: the largest bucket)")
    p.add_argument("--dtype", default="bf16", choices=("f32", "bf16"))
    p.add_argument("--workdir", default=None, help="compiler workdir (default: OUT/.nxdi-workdir)")
    p.add_argument("--package-only", action="store_true", help="write the package from an existing --workdir (no SDK)")
    a = p.parse_args(argv)
    try:
        cfg = read_hf_config(a.model)
        prefill = parse_list("--prefill-buckets", a.prefill_buckets)
        max_length = a.max_length or max(prefill + (parse_list("--kv-lengths", a.kv_lengths) if a.kv_lengths else []))
        o = {"target": a.target, "tp": a.tp, "prefill_buckets": prefill,
             "kv_lengths": parse_list("--kv-lengths", a.kv_lengths) if a.kv_lengths else [max_length],
             "max_batch": a.max_batch, "max_length": max_length, "dtype": a.dtype,
             "decode_batches": parse_list("--decode-batches", a.decode_batches) if a.decode_batches else [a.max_batch]}
        if a.max_batch <= 0:
            raise CompileError(f"--max-batch must be positive, got {a.max_batch}")
        check_options(cfg, o)
        workdir = os.path.abspath(a.workdir or os.path.join(a.out, ".nxdi-workdir"))
        if a.package_only:
            compiler = "NxDI workdir " + os.path.basename(workdir)
        else:
            missing = missing_sdk()
            if missing:
                raise CompileError("the Neuron SDK is not installed: missing " + ", ".join(missing)
                                   + " (pip install --extra-index-url https://pip.repos.neuron.amazonaws.com ...; "
                                   "or use the compile image: docker build --target compile -f Dockerfile.neuron .)")
            compiler = compile_with_nxdi(os.path.abspath(a.model), workdir, o)
        m = write_package(workdir, a.out, a.model, cfg, o, compiler)
    except CompileError as e:
        print(f"basalt: {e}", file=sys.stderr)
        return 2
    print(f"wrote {os.path.join(a.out, 'manifest.json')}: {len(m['buckets'])} bucket(s), target {a.target}, tp {a.tp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
