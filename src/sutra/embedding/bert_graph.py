"""The BERT sentence-embedding graph, written node by node with the `onnx` helper API.

    (input_ids, attention_mask) → embeddings → N encoder layers → masked mean pooling → L2 normalisation
                                                                    → sentence_embedding [batch, hidden]

The `onnx` modules arrive as an argument (`deps`, from `build.require_build_deps`) instead of being imported
here, so the optional `build-model` extra stays confined to the build step.

Two variants come out of the same code: the plain fp32 graph (the reference, checked against a numpy forward
pass in the tests) and a *smoothed* one that only feeds the int8 quantizer (see `smoothing.py`): the input of
each linear layer is divided per channel by `s` and the weight's matching rows multiplied by `s`, which
leaves the math unchanged and moves activation outliers into the per-channel-quantized weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

Weights = Mapping[str, np.ndarray]
# Added to attention scores of padding positions; exp(-1e4) underflows to exactly 0 in float32, and unlike
# float32's minimum it cannot overflow to -inf when added to a negative score.
MASK_NEGATIVE = -1.0e4
# opset 17 is the first with LayerNormalization; IR 8 goes with it and every onnxruntime ≥ 1.14 reads it.
OPSET = 17
IR_VERSION = 8
PROBE_SUFFIX = ".input"


@dataclass(frozen=True, slots=True)
class BertConfig:
    hidden: int
    heads: int
    layers: int
    intermediate: int
    eps: float
    max_seq_length: int


def linear_groups(layers: int) -> dict[str, tuple[str, ...]]:
    """Linear layers that read the same tensor, keyed by a group name; they share one smoothing scale.
    Query, key and value all read the layer's input, so they form one group."""
    groups: dict[str, tuple[str, ...]] = {}
    for i in range(layers):
        p = f"encoder.layer.{i}"
        groups[f"{p}.attention.self"] = tuple(f"{p}.attention.self.{n}" for n in ("query", "key", "value"))
        for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
            groups[f"{p}.{name}"] = (f"{p}.{name}",)
    return groups


class _Graph:
    """A small node/initializer accumulator so the model code below reads like the math."""

    def __init__(self, deps: SimpleNamespace, smooth: Mapping[str, np.ndarray], probe: bool) -> None:
        self.deps = deps
        self.smooth = smooth
        self.probe = probe
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.probes: list[str] = []
        self._count = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self.deps.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs: Any) -> str:
        self._count += 1
        name = out or f"{op_type.lower()}_{self._count}"
        self.nodes.append(self.deps.helper.make_node(op_type, list(inputs), [name], name=name, **attrs))
        return name

    def group_input(self, x: str, group: str) -> tuple[str, np.ndarray | None]:
        """The tensor a linear group reads (divided by its smoothing scale, if any) and that scale."""
        if self.probe:  # calibration wants to see exactly what the group's MatMuls will see
            self.probes.append(self.op("Identity", x, out=group + PROBE_SUFFIX))
        scale = self.smooth.get(group)
        if scale is None:
            return x, None
        inverse = self.const(f"{group}.smooth_inv", (1.0 / scale).astype(np.float32))
        return self.op("Mul", x, inverse), scale

    def linear(self, x: str, weights: Weights, prefix: str, row_scale: np.ndarray | None = None) -> str:
        # torch stores Linear weights as [out, in]; MatMul wants [in, out]. A constant right-hand MatMul is
        # what quantize_dynamic turns into MatMulInteger, so the weight stays the second input.
        weight_t = weights[f"{prefix}.weight"].T
        if row_scale is not None:
            weight_t = weight_t * row_scale[:, None]
        w = self.const(f"{prefix}.weight_t", weight_t.astype(np.float32))
        b = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"].astype(np.float32))
        # named after the torch module, so quantizer logs and nodes_to_exclude speak the model's language
        return self.op("Add", self.op("MatMul", x, w, out=f"{prefix}.matmul"), b, out=f"{prefix}.out")

    def dense(self, x: str, weights: Weights, prefix: str) -> str:
        """A linear layer that is a group of its own."""
        smoothed, scale = self.group_input(x, prefix)
        return self.linear(smoothed, weights, prefix, scale)

    def layer_norm(self, x: str, weights: Weights, prefix: str, eps: float) -> str:
        scale = self.const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        bias = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)


def _attention(g: _Graph, x: str, mask_bias: str, w: Weights, p: str, cfg: BertConfig) -> str:
    head_dim = cfg.hidden // cfg.heads
    split = g.const(f"{p}.split_heads", np.array([0, 0, cfg.heads, head_dim], dtype=np.int64))
    merge = g.const(f"{p}.merge_heads", np.array([0, 0, cfg.hidden], dtype=np.int64))
    scale = g.const(f"{p}.scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    shared, row_scale = g.group_input(x, f"{p}.attention.self")

    def heads(name: str, perm: list[int]) -> str:  # [B,S,H] → per-head layout given by perm
        projected = g.linear(shared, w, f"{p}.attention.self.{name}", row_scale)
        return g.op("Transpose", g.op("Reshape", projected, split), perm=perm)

    q = heads("query", [0, 2, 1, 3])  # [B, h, S, d]
    k_t = heads("key", [0, 2, 3, 1])  # [B, h, d, S]
    v = heads("value", [0, 2, 1, 3])
    scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k_t), scale), mask_bias)
    context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
    context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
    out = g.op("Add", g.dense(context, w, f"{p}.attention.output.dense"), x)
    return g.layer_norm(out, w, f"{p}.attention.output.LayerNorm", cfg.eps)


def _encoder_layer(g: _Graph, x: str, mask_bias: str, w: Weights, i: int, cfg: BertConfig) -> str:
    p = f"encoder.layer.{i}"
    attn = _attention(g, x, mask_bias, w, p, cfg)
    # exact (erf) GELU, as BERT's "gelu"; onnxruntime fuses this pattern into its Gelu kernel
    inner = g.dense(attn, w, f"{p}.intermediate.dense")
    half = g.const(f"{p}.half", np.array(0.5, dtype=np.float32))
    one = g.const(f"{p}.one", np.array(1.0, dtype=np.float32))
    sqrt2 = g.const(f"{p}.sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
    erf = g.op("Erf", g.op("Div", inner, sqrt2))
    gelu = g.op("Mul", g.op("Mul", inner, half), g.op("Add", erf, one))
    out = g.op("Add", g.dense(gelu, w, f"{p}.output.dense"), attn)
    return g.layer_norm(out, w, f"{p}.output.LayerNorm", cfg.eps)


def _embeddings(g: _Graph, w: Weights, cfg: BertConfig) -> str:
    word = g.op("Gather", g.const("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids")
    # Sutra never feeds segment B, so token type 0 is folded into the position table (one Add fewer).
    positions = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    # positions 0..S-1 are the table's first S rows: slice it by the input's length (a Shape→Gather→Range
    # chain is the obvious alternative but trips an onnxruntime optimiser rewrite at ORT_ENABLE_ALL)
    seq_len = g.op("Shape", "input_ids", start=1, end=2)  # [S], 1-D
    zero = g.const("zero_1d", np.array([0], dtype=np.int64))
    pos = g.op("Slice", g.const("position_embeddings", positions.astype(np.float32)), zero, seq_len, zero)
    return g.layer_norm(g.op("Add", word, pos), w, "embeddings.LayerNorm", cfg.eps)


def _pool_and_normalise(g: _Graph, x: str, mask: str) -> str:
    # mean over real tokens only; the clamp keeps an all-padding row (never produced by Sutra) finite
    mask_3d = g.op("Unsqueeze", mask, g.const("axes_2", np.array([2], dtype=np.int64)))  # [B,S,1]
    axis_1 = g.const("axes_1", np.array([1], dtype=np.int64))
    summed = g.op("ReduceSum", g.op("Mul", x, mask_3d), axis_1, keepdims=0)
    count = g.op("ReduceSum", mask_3d, axis_1, keepdims=0)
    count = g.op("Max", count, g.const("eps_count", np.array(1e-9, dtype=np.float32)))
    mean = g.op("Div", summed, count)
    norm = g.op("Sqrt", g.op("ReduceSum", g.op("Mul", mean, mean), axis_1, keepdims=1))
    norm = g.op("Max", norm, g.const("eps_norm", np.array(1e-12, dtype=np.float32)))
    return g.op("Div", mean, norm, out="sentence_embedding")


def build_graph(
    weights: Weights,
    cfg: BertConfig,
    deps: SimpleNamespace,
    *,
    smooth: Mapping[str, np.ndarray] | None = None,
    probe: bool = False,
) -> Any:
    """The ONNX model. `smooth` maps `linear_groups` names to per-channel scales; `probe` adds an output
    ``<group>.input`` per group (the activations calibration measures)."""
    g = _Graph(deps, smooth or {}, probe)
    helper, TP = deps.helper, deps.TensorProto

    x = _embeddings(g, weights, cfg)
    mask = g.op("Cast", "attention_mask", to=TP.FLOAT)  # [B, S]
    mask_4d = g.op("Unsqueeze", mask, g.const("axes_1_2", np.array([1, 2], dtype=np.int64)))  # [B,1,1,S]
    one = g.const("one_f", np.array(1.0, dtype=np.float32))
    neg = g.const("mask_negative", np.array(MASK_NEGATIVE, dtype=np.float32))
    mask_bias = g.op("Mul", g.op("Sub", one, mask_4d), neg)
    for i in range(cfg.layers):
        x = _encoder_layer(g, x, mask_bias, weights, i, cfg)
    _pool_and_normalise(g, x, mask)

    outputs = [helper.make_tensor_value_info("sentence_embedding", TP.FLOAT, ["batch", cfg.hidden])]
    outputs += [helper.make_tensor_value_info(name, TP.FLOAT, [None, None, None]) for name in g.probes]
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TP.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TP.INT64, ["batch", "sequence"]),
        ],
        outputs,
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sutra")
    model.ir_version = IR_VERSION
    deps.onnx.checker.check_model(model)
    return model
