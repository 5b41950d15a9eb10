"""The local embedder: the built ONNX model run by onnxruntime on CPU, tokenised by `tokenizers`.

No torch and no network at run time; everything comes from the model directory made by
`python -m sutra.embedding.build`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from sutra.embedding import windows
from sutra.embedding.base import Embedder
from sutra.embedding.manifest import FP32_FILE, INT8_FILE, MODEL_NAME, TOKENIZER_FILE, read_manifest
from sutra.errors import InputError, ModelError

Variant = Literal["int8", "fp32"]
# Tokens shared by neighbouring windows of a long text, so a sentence cut by a window edge is still seen
# whole by one of them (32 tokens ≈ one or two sentences).
WINDOW_OVERLAP = 32
# Calls of at most this many windows (a question, a few sentences) run on a one-thread session. Splitting
# so small a product over threads costs more in hand-offs than it gains: measured on the 2-core machine, a
# 15-word question took 2.1 ms of CPU on one thread against 3.6 ms (2.8 ms wall) on two, and a server
# answering many questions at once gets its parallelism from the questions, not from inside each one.
SMALL_CALL = 4


def default_threads() -> int:
    """Intra-op threads: the cores this process may use, at most 4. Beyond 4 a 6-layer MiniLM stops getting
    faster per call and only steals cores from the rest of the engine (the server's request threads)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


class OnnxEmbedder(Embedder):
    """Embeds with an ONNX sentence-embedding model whose graph does pooling and normalisation itself."""

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        dim: int,
        max_tokens: int,
        name: str = MODEL_NAME,
        batch_size: int = 32,
        threads: int | None = None,
        spin_wait: bool = False,
        small_call: int = SMALL_CALL,
    ) -> None:
        self.name = name
        self.dim = dim
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.model_path = Path(model_path)
        self._session = _open_session(self.model_path, threads or default_threads(), spin_wait)
        self.small_call = small_call  # 0: every call on the multi-thread session
        self._small_session = _open_session(self.model_path, 1, spin_wait) if small_call else self._session
        self._tokenizer = _open_tokenizer(Path(tokenizer_path))
        self._cls = self._special_id("[CLS]")
        self._sep = self._special_id("[SEP]")

    @classmethod
    def from_dir(
        cls,
        model_dir: Path,
        *,
        variant: Variant = "int8",
        batch_size: int = 32,
        spin_wait: bool = False,
        small_call: int = SMALL_CALL,
    ) -> OnnxEmbedder:
        """Load a model directory made by the build step."""
        hint = f"build it with `python -m sutra.embedding.build --out {model_dir}`"
        manifest = read_manifest(model_dir)
        if manifest is None or not manifest.is_complete(model_dir):
            raise ModelError(f"no complete embedding model in {model_dir}; {hint}")
        model_file = model_dir / (INT8_FILE if variant == "int8" else FP32_FILE)
        if not model_file.is_file():
            raise ModelError(f"{model_file} is missing (built with --no-fp32?); {hint} --force")
        return cls(
            model_file,
            model_dir / TOKENIZER_FILE,
            name=manifest.model,
            dim=manifest.dim,
            max_tokens=manifest.max_seq_length,
            batch_size=batch_size,
            spin_wait=spin_wait,
            small_call=small_call,
        )

    def windows(self, text: str) -> list[list[int]]:
        """The token windows `text` is embedded as, each wrapped in [CLS] … [SEP]; more than one means the
        text was longer than the model's window and is chunked."""
        (text,) = self._checked([text])
        return self._windows_of(0, self._tokenizer.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = self._checked(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        all_windows: list[list[int]] = []
        bounds = [0]  # windows of text i are all_windows[bounds[i]:bounds[i+1]]
        for i, encoding in enumerate(encodings):
            all_windows.extend(self._windows_of(i, encoding.ids))
            bounds.append(len(all_windows))
        vectors = self._run(all_windows)
        if len(all_windows) == len(texts):  # the common case: nothing was chunked
            return vectors
        return np.stack([windows.combine(vectors[bounds[i] : bounds[i + 1]]) for i in range(len(texts))])

    def _windows_of(self, index: int, ids: list[int]) -> list[list[int]]:
        if not ids:  # e.g. only control characters, which the normaliser drops
            raise InputError(f"text {index} has no tokens to embed; pass some words")
        content = self.max_tokens - 2  # room for [CLS] and [SEP]
        return [[self._cls, *part, self._sep] for part in windows.split(ids, content, WINDOW_OVERLAP)]

    def _run(self, token_windows: list[list[int]]) -> np.ndarray:
        """Embed token windows in batches of similar length (less padding), results in input order."""
        order = sorted(range(len(token_windows)), key=lambda j: len(token_windows[j]))
        session = self._small_session if len(token_windows) <= self.small_call else self._session
        out = np.empty((len(token_windows), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = len(token_windows[batch[-1]])
            ids = np.zeros((len(batch), width), dtype=np.int64)  # 0 is [PAD]
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, j in enumerate(batch):
                n = len(token_windows[j])
                ids[row, :n] = token_windows[j]
                mask[row, :n] = 1
            (result,) = session.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})
            out[batch] = result
        return out

    @staticmethod
    def _checked(texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):  # a bare string would be embedded character by character
            raise InputError("embed() takes a sequence of texts; use embed_one() for a single text")
        checked = list(texts)
        for i, text in enumerate(checked):
            if not isinstance(text, str):
                raise InputError(f"text {i} is a {type(text).__name__}, not a str")
            if not text.strip():
                raise InputError(f"text {i} is empty or blank; there is nothing to embed")
        return checked

    def _special_id(self, token: str) -> int:
        token_id = self._tokenizer.token_to_id(token)
        if token_id is None:
            raise ModelError(f"the tokenizer of {self.model_path} has no {token} token; rebuild the model")
        return token_id

    def __repr__(self) -> str:
        return f"OnnxEmbedder({self.name!r}, dim={self.dim}, model={str(self.model_path)!r})"


def _open_session(path: Path, threads: int, spin_wait: bool) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # the graph is one chain; parallelism is inside the MatMuls
    # Spin-waiting worker threads trade CPU for latency: after each call they keep a core busy for a while.
    # Measured on the 2-core machine, the embedder alone, batch 32 / single: spinning 370-450 sentences/s,
    # 2.3-2.7 ms; not spinning 280-330/s, 4.9 ms. But the engine never runs the embedder alone: the spinning
    # threads take the core that spaCy and the request threads need. Asks in process went from 17 ms to
    # 9.5 ms mean (the parse alone 6.4 -> 4.2 ms), learning from 295 to 335 documents/s, without spinning.
    # So it is off unless asked for (spin_wait=True: a process that does nothing but embed).
    if not spin_wait:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: ORT's optimiser notes are noise to users
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind error types for unreadable models
        raise ModelError(f"cannot load the embedding model {path}: {exc}; rebuild it with --force") from exc
    names = {i.name for i in session.get_inputs()}
    if names != {"input_ids", "attention_mask"} or session.get_outputs()[0].name != "sentence_embedding":
        raise ModelError(f"{path} is not a Sutra sentence-embedding model (inputs {sorted(names)}); rebuild")
    return session


def _open_tokenizer(path: Path) -> Tokenizer:
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for unreadable files
        raise ModelError(f"cannot load the tokenizer {path}: {exc}; rebuild the model with --force") from exc
    # The build already stores it this way; repeating it here keeps an older or hand-copied file honest.
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
