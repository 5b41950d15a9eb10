"""The ONNX graph is checked against an independent forward pass of the same BERT math in numpy.

The oracle reads the safetensors weights directly, runs one sentence at a time in float64 with no padding
(so it shares neither the graph builder, the batching nor the masking with the code under test), and must
agree with the fp32 ONNX output to cosine > 0.9999.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from sutra.embedding import build
from sutra.embedding.onnx_embedder import OnnxEmbedder

SENTENCES = (
    "A man is eating food.",
    "The girl is carrying a baby.",
    "Water boils at 100 degrees Celsius at sea level.",
    "Who discovered penicillin, and in which year?",
    "ok",
)

_erf = np.vectorize(math.erf)


class NumpyBert:
    def __init__(self) -> None:
        folder = build.source_dir()
        self.w = {k: v.astype(np.float64) for k, v in load_file(str(folder / "model.safetensors")).items()}
        self.cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the packaged file pads every text to 128 tokens

    def _layer_norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        normed = (x - mean) / np.sqrt(var + self.cfg["layer_norm_eps"])
        return normed * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def embed(self, text: str) -> np.ndarray:
        ids = self.tokenizer.encode(text).ids
        n, heads = len(ids), self.cfg["num_attention_heads"]
        hidden = self.cfg["hidden_size"]
        d = hidden // heads
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._layer_norm(x, "embeddings.LayerNorm")
        for i in range(self.cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}"
            q, k, v = (
                self._linear(x, f"{p}.attention.self.{m}").reshape(n, heads, d).transpose(1, 0, 2)
                for m in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
            attn = self._layer_norm(
                self._linear(context, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm"
            )
            inner = self._linear(attn, f"{p}.intermediate.dense")
            gelu = 0.5 * inner * (1.0 + _erf(inner / math.sqrt(2.0)))
            x = self._layer_norm(self._linear(gelu, f"{p}.output.dense") + attn, f"{p}.output.LayerNorm")
        mean = x.mean(axis=0)
        return mean / np.linalg.norm(mean)


@pytest.fixture(scope="module")
def oracle() -> NumpyBert:
    return NumpyBert()


def test_fp32_graph_matches_numpy_forward_pass(oracle: NumpyBert, fp32: OnnxEmbedder) -> None:
    # batched with padding on the ONNX side, one by one without padding in the oracle
    got = fp32.embed(SENTENCES)
    for text, vector in zip(SENTENCES, got, strict=True):
        expected = oracle.embed(text)
        assert float(vector @ expected) > 0.9999, text


def test_int8_stays_close_to_the_oracle(oracle: NumpyBert, int8: OnnxEmbedder) -> None:
    got = int8.embed(SENTENCES[:4])
    cosines = [float(v @ oracle.embed(t)) for t, v in zip(SENTENCES[:4], got, strict=True)]
    assert min(cosines) > 0.98
