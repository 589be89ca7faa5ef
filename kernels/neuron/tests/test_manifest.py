"""compile.py without the Neuron SDK: the package it writes from an NxDI workdir, its refusals, the missing-SDK exit."""

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import compile as nc  # noqa: E402  (kernels/neuron/compile.py; importable without the SDK)

MODEL = os.path.join(HERE, "fixtures", "llama-tiny")
WORKDIR = os.path.join(HERE, "fixtures", "nxdi-workdir")
SCRIPT = os.path.join(os.path.dirname(HERE), "compile.py")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def run_main(*args):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = nc.main(list(args))
    return code, err.getvalue()


class PackageFromWorkdir(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.out = os.path.join(self.tmp, "pkg")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def package(self, *extra):
        return run_main(MODEL, "--out", self.out, "--workdir", WORKDIR, "--package-only",
                        "--prefill-buckets", "64,128", "--kv-lengths", "256", "--max-batch", "4", *extra)

    def test_buckets_neffs_and_hashes(self):
        code, err = self.package()
        self.assertEqual(0, code, err)
        m = load(os.path.join(self.out, "manifest.json"))
        self.assertEqual(("basalt-neuron-package", 1, "inf2", 1), (m["format"], m["version"], m["target"], m["tp_degree"]))
        self.assertEqual([("prefill", 1, 64, 64), ("prefill", 1, 128, 128), ("decode", 4, 1, 256)],
                         [(b["tag"], b["batch"], b["length"], b["kv_length"]) for b in m["buckets"]])
        # bucket i of a tag is _tp0_bk<i>, copied byte for byte and hashed
        for b, src in zip(m["buckets"], ("context_encoding_model/_tp0_bk0", "context_encoding_model/_tp0_bk1",
                                         "token_generation_model/_tp0_bk0")):
            data = read(os.path.join(self.out, b["neff"]))
            self.assertEqual(read(os.path.join(WORKDIR, src, "graph.neff")), data)
            self.assertEqual(hashlib.sha256(data).hexdigest(), b["sha256"])
        self.assertEqual({"num_layers": 2, "hidden_size": 16, "intermediate_size": 32, "num_heads": 4, "num_kv_heads": 2,
                          "vocab_size": 64, "max_positions": 256, "rms_eps": 1e-5, "rope_theta": 10000.0, "rotary_dims": 4,
                          "rope_style": "half"}, m["checkpoint"]["config"])
        f = m["checkpoint"]["files"][0]
        self.assertEqual(("model.safetensors", 27), (f["name"], f["bytes"]))
        self.assertEqual({"max_batch": 4, "max_length": 256, "dtype": "bf16"}, m["kv"])
        self.assertFalse(m["chunked_prefill"])

    def test_the_nxdi_input_contract(self):
        self.package("--dtype", "f32")
        b = load(os.path.join(self.out, "manifest.json"))["buckets"][2]  # decode, batch 4, K 256
        ins = b["inputs"]
        self.assertEqual([f"input{i}" for i in range(30)], [t["name"] for t in ins])
        self.assertEqual([("input_ids", [4, 1], "int32"), ("attention_mask", [4, 256], "int32"), ("position_ids", [4, 1], "int32"),
                          ("seq_ids", [4], "int32"), ("sampling_params", [4, 3], "f32")],
                         [(t["kind"], t["shape"], t["dtype"]) for t in ins[:5]])
        self.assertTrue(all(t["role"] == "user" for t in ins[:5]))
        states = ins[5:9]
        self.assertEqual(["layer.0.k_cache", "layer.0.v_cache", "layer.1.k_cache", "layer.1.v_cache"], [t["kind"] for t in states])
        self.assertEqual([[4, 2, 256, 4]] * 4, [t["shape"] for t in states])
        self.assertEqual(["output1", "output2", "output3", "output4"], [t["alias"] for t in states])
        self.assertEqual([(o["name"], o["kind"]) for o in b["outputs"]],
                         [("output0", "logits")] + [(s["alias"], s["kind"]) for s in states])
        self.assertEqual([4, 64], b["outputs"][0]["shape"])
        weights = {t["kind"]: t for t in ins[9:]}
        self.assertTrue(all(t["role"] == "weight" for t in ins[9:]))
        self.assertEqual("model.layers.1.self_attn.q_proj.weight", weights["layer.1.wq"]["checkpoint_key"])
        self.assertEqual([8, 16], weights["layer.0.wk"]["shape"])
        self.assertEqual("lm_head.weight", weights["lm_head"]["checkpoint_key"])
        self.assertNotIn("shard", weights["layer.0.wq"])  # tp 1: nothing is split

    def test_tensor_parallel_shards_per_rank(self):
        code, err = self.package("--tp", "2")
        self.assertEqual(0, code, err)
        b = load(os.path.join(self.out, "manifest.json"))["buckets"][0]
        w = {t["kind"]: t for t in b["inputs"] if t["role"] == "weight"}
        self.assertEqual(({"axis": 0}, [8, 16]), (w["layer.0.wq"]["shard"], w["layer.0.wq"]["shape"]))
        self.assertEqual(({"axis": 1}, [16, 8]), (w["layer.0.wo"]["shard"], w["layer.0.wo"]["shape"]))
        self.assertEqual(({"axis": 1}, [16, 16]), (w["layer.0.w_down"]["shard"], w["layer.0.w_down"]["shape"]))
        self.assertNotIn("shard", w["layer.0.attn_norm"])
        self.assertEqual([4, 1, 256, 4], next(t for t in b["inputs"] if t["role"] == "state")["shape"])

    def test_a_metaneff_that_disagrees_is_refused(self):
        work = os.path.join(self.tmp, "work")
        shutil.copytree(WORKDIR, work)
        from make_fixture import metaneff
        with open(os.path.join(work, "context_encoding_model", "_tp0_bk0", "metaneff.pb"), "wb") as f:
            f.write(metaneff(24, 5))
        code, err = run_main(MODEL, "--out", self.out, "--workdir", work, "--package-only", "--prefill-buckets", "64,128",
                             "--kv-lengths", "256")
        self.assertEqual(2, code)
        self.assertIn("24 inputs", err)
        self.assertIn("differently", err)

    def test_a_damaged_neff_or_missing_bucket_is_named(self):
        work = os.path.join(self.tmp, "work")
        shutil.copytree(WORKDIR, work)
        neff = os.path.join(work, "token_generation_model", "_tp0_bk0", "graph.neff")
        with open(neff, "ab") as f:
            f.write(b"extra")
        code, err = run_main(MODEL, "--out", self.out, "--workdir", work, "--package-only", "--prefill-buckets", "64,128",
                             "--kv-lengths", "256")
        self.assertEqual(2, code)
        self.assertIn("not a NEFF", err)
        code, err = run_main(MODEL, "--out", self.out, "--workdir", WORKDIR, "--package-only", "--prefill-buckets", "64,128,256",
                             "--kv-lengths", "256")
        self.assertEqual(2, code)
        self.assertIn("_tp0_bk2", err)

    def test_bad_options(self):
        cases = [(("--tp", "3"), "inf2 supports 1, 2, 4, 8, 24"), (("--tp", "4", "--target", "trn1"), "trn1 supports"),
                 (("--decode-batches", "1,4"), "one token-generation batch size"), (("--max-length", "128"), "--max-length 128"),
                 (("--prefill-buckets", "a,b"), "comma-separated")]
        for extra, fragment in cases:
            code, err = self.package(*extra)
            self.assertEqual(2, code, extra)
            self.assertIn(fragment, err)
            self.assertEqual(1, len(err.strip().splitlines()), err)


class Refusals(unittest.TestCase):
    def test_gpt2_and_gpt_oss_have_no_nxdi_model_class(self):
        for model_type, name in (("gpt2", "GPT-2"), ("gpt_oss", "gpt-oss")):
            with tempfile.TemporaryDirectory() as d:
                with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
                    json.dump({"model_type": model_type}, f)
                code, err = run_main(d, "--out", os.path.join(d, "out"))
                self.assertEqual(2, code)
                self.assertIn(f"{name} cannot be compiled for Inf2/Trn1", err)
                self.assertIn("NxD Inference", err)

    def test_protobuf_reader_takes_names_from_nested_messages(self):
        from make_fixture import metaneff
        self.assertEqual((30, 5), nc.metaneff_counts(os.path.join(WORKDIR, "context_encoding_model", "_tp0_bk0", "metaneff.pb")))
        self.assertEqual(["input0", "output0"], nc.protobuf_strings(metaneff(1, 1)))


@unittest.skipIf(nc.missing_sdk() == [], "the Neuron SDK is installed here")
class WithoutTheSdk(unittest.TestCase):
    def test_the_script_names_the_missing_packages_and_exits_2(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([sys.executable, SCRIPT, MODEL, "--out", os.path.join(d, "pkg")], capture_output=True, text=True)
            self.assertEqual(2, r.returncode, r.stderr)
            self.assertIn("the Neuron SDK is not installed: missing", r.stderr)
            for pip in nc.missing_sdk():
                self.assertIn(pip, r.stderr)
            self.assertIn("neuronx-distributed-inference", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "pkg", "manifest.json")))


if __name__ == "__main__":
    unittest.main()
