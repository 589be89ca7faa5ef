"""Writes fixtures/: a tiny Llama checkpoint directory and the NxDI compiler workdir compile.py packages from it.

The NEFFs have valid 1024-byte headers (HARDWARE.md §1.8) over a few bytes of data; one bucket has a metaneff.pb
(input_tensors / output_tensors, each with a name) that agrees with the assumed NxDI contract. Run to regenerate:
    python3 kernels/neuron/tests/make_fixture.py
"""

import hashlib
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2, "hidden_size": 16,
          "intermediate_size": 32, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 64,
          "max_position_embeddings": 256, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False}


def neff_bytes(name, data):
    header = bytearray(1024)
    struct.pack_into("<QQQQQ", header, 0, 1, 1024, len(data), 2, 0)
    header[40:40 + len(b"fixture")] = b"fixture"
    struct.pack_into("<I", header, 168, 1)
    header[172:204] = hashlib.sha256(data).digest()
    header[220:220 + len(name)] = name.encode()
    struct.pack_into("<I", header, 476, 1)
    struct.pack_into("<I", header, 552, 1)
    return bytes(header) + data


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number, payload):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def metaneff(inputs, outputs):
    """input_tensors (1) and output_tensors (2), each a message with name (1) and a varint type (4)."""
    tensor = lambda name: _field(1, name.encode()) + _varint(4 << 3) + _varint(1)
    return b"".join(_field(1, tensor(f"input{i}")) for i in range(inputs)) + b"".join(
        _field(2, tensor(f"output{i}")) for i in range(outputs))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    model = os.path.join(FIXTURES, "llama-tiny")
    write(os.path.join(model, "config.json"), (json.dumps(CONFIG, indent=2) + "\n").encode())
    # Not real weights: compile.py only names, sizes and hashes the checkpoint's files.
    write(os.path.join(model, "model.safetensors"), b'\x10\x00\x00\x00\x00\x00\x00\x00{"__metadata__":{}}')
    work = os.path.join(FIXTURES, "nxdi-workdir")
    for tag, buckets in (("context_encoding_model", 2), ("token_generation_model", 1)):
        for i in range(buckets):
            write(os.path.join(work, tag, f"_tp0_bk{i}", "graph.neff"), neff_bytes(f"{tag}_{i}", f"{tag} {i}\n".encode()))
    # 5 user inputs + 4 KV states + embedding, 2 x 9 layer weights, final norm, lm_head; logits + 4 states out.
    write(os.path.join(work, "context_encoding_model", "_tp0_bk0", "metaneff.pb"), metaneff(30, 5))
    write(os.path.join(work, "neuron_config.json"), b'{"neuron_config": {"tp_degree": 1}}\n')


if __name__ == "__main__":
    main()
