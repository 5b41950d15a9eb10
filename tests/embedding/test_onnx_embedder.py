"""The ONNX embedder on the real model: contract, semantics, chunking of long text, input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sutra.embedding import windows
from sutra.embedding.onnx_embedder import OnnxEmbedder
from sutra.errors import InputError

PARAPHRASE = ("A man is eating food.", "A man is eating a piece of bread.")
UNRELATED = "The girl is carrying a baby."


def test_shape_dtype_and_unit_length(int8: OnnxEmbedder, corpus_sentences: list[str]) -> None:
    texts = corpus_sentences[:50]
    vectors = int8.embed(texts)
    assert vectors.shape == (50, int8.dim) == (50, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one = int8.embed_one(texts[0])
    assert one.shape == (384,)
    assert one.dtype == np.float32


def test_metadata(int8: OnnxEmbedder) -> None:
    assert int8.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert int8.max_tokens == 256


def test_no_texts_gives_an_empty_matrix(int8: OnnxEmbedder) -> None:
    assert int8.embed([]).shape == (0, 384)


def test_deterministic(int8: OnnxEmbedder, corpus_sentences: list[str]) -> None:
    texts = corpus_sentences[100:140]
    np.testing.assert_array_equal(int8.embed(texts), int8.embed(texts))


# fp32 is batch-invariant up to float rounding. int8 is not: dynamic quantization picks one activation scale
# per MatMul call, i.e. per batch, so a text's vector moves with its batch-mates (WorldTree sentences: mean
# cosine 0.996, worst 0.994, about the size of the int8 error itself). Same inputs in the same order still
# give identical vectors, and `embed_batch_size=1` makes int8 exactly batch-invariant (next test).
@pytest.mark.parametrize(("variant", "floor"), [("fp32", 0.99999), ("int8", 0.99)])
def test_batch_equals_one_by_one_in_input_order(
    variant: str, floor: float, request: pytest.FixtureRequest, corpus_sentences: list[str]
) -> None:
    embedder: OnnxEmbedder = request.getfixturevalue(variant)
    # lengths vary a lot, so batches are reordered by length and padded: order must still be the input's
    texts = [*corpus_sentences[200:230], "cat", " ".join(corpus_sentences[230:240])]
    batched = embedder.embed(texts)
    singles = np.stack([embedder.embed_one(text) for text in texts])
    cosines = np.sum(batched * singles, axis=1)
    assert float(cosines.min()) > floor
    assert float(cosines.mean()) > max(floor, 0.995)
    # each row is closest to its own text's vector: nothing was shuffled
    assert (batched @ singles.T).argmax(axis=1).tolist() == list(range(len(texts)))


def test_int8_with_batch_size_one_is_exactly_batch_invariant(
    model_dir: Path, corpus_sentences: list[str]
) -> None:
    embedder = OnnxEmbedder.from_dir(model_dir, variant="int8", batch_size=1)
    texts = corpus_sentences[250:270]
    singles = np.stack([embedder.embed_one(text) for text in texts])
    np.testing.assert_array_equal(embedder.embed(texts), singles)


def test_small_calls_on_one_thread_give_the_vectors_of_the_multi_thread_session(
    model_dir: Path, corpus_sentences: list[str]
) -> None:
    # a question (a call of at most `small_call` windows) runs on the one-thread session
    one_thread = OnnxEmbedder.from_dir(model_dir, variant="int8")
    threaded = OnnxEmbedder.from_dir(model_dir, variant="int8", small_call=0)
    assert one_thread.small_call >= 1
    for text in corpus_sentences[400:420]:
        np.testing.assert_allclose(one_thread.embed_one(text), threaded.embed_one(text), atol=1e-5)
    few = corpus_sentences[420 : 420 + one_thread.small_call]
    np.testing.assert_allclose(one_thread.embed(few), threaded.embed(few), atol=1e-5)


def test_batch_size_does_not_change_results(model_dir: Path, corpus_sentences: list[str]) -> None:
    texts = corpus_sentences[300:340]
    small = OnnxEmbedder.from_dir(model_dir, variant="fp32", batch_size=3).embed(texts)
    large = OnnxEmbedder.from_dir(model_dir, variant="fp32", batch_size=64).embed(texts)
    assert float(np.min(np.sum(small * large, axis=1))) > 0.99999


@pytest.mark.parametrize("variant", ["int8", "fp32"])
def test_paraphrases_score_higher_than_unrelated(variant: str, request: pytest.FixtureRequest) -> None:
    embedder: OnnxEmbedder = request.getfixturevalue(variant)
    a, b, c = embedder.embed([*PARAPHRASE, UNRELATED])
    assert float(a @ b) > 0.7
    assert float(a @ b) > float(a @ c) + 0.4
    assert float(b @ c) < 0.3


def test_semantic_search_finds_the_related_fact(int8: OnnxEmbedder) -> None:
    facts = [
        "a star produces light and heat",
        "plants need water to grow",
        "a magnet attracts iron objects",
        "the moon orbits the earth",
    ]
    queries = ["What gives off heat and light in space?", "What pulls on a nail made of iron?"]
    scores = int8.embed(queries) @ int8.embed(facts).T
    assert scores.argmax(axis=1).tolist() == [0, 2]


def _long_text(sentences: list[str], words: int) -> tuple[str, list[str]]:
    """About `words` words of real sentences, and the same text cut into ~200-word parts."""
    parts: list[str] = []
    current: list[str] = []
    total = 0
    for sentence in sentences:
        current.append(sentence.rstrip(".") + ".")
        total += len(sentence.split())
        if sum(len(s.split()) for s in current) >= 200:
            parts.append(" ".join(current))
            current = []
        if total >= words:
            break
    if current:
        parts.append(" ".join(current))
    return " ".join(parts), parts


def test_long_text_is_chunked_not_truncated(int8: OnnxEmbedder, corpus_sentences: list[str]) -> None:
    text, parts = _long_text(corpus_sentences[1000:], 2000)
    assert len(text.split()) >= 2000
    used = int8.windows(text)
    assert len(used) > 8  # ~2,000 words is well over 2,000 tokens, 222 new tokens per window
    assert all(len(w) == int8.max_tokens for w in used)
    vector = int8.embed_one(text)
    np.testing.assert_allclose(np.linalg.norm(vector), 1.0, atol=1e-5)

    part_vectors = int8.embed(parts)
    mean_of_parts = windows.combine(part_vectors)
    assert float(vector @ mean_of_parts) > 0.95
    # truncation would make the text's vector the vector of its first window; chunking keeps the rest
    first_only = part_vectors[0]
    assert float(vector @ mean_of_parts) > float(vector @ first_only) + 0.05


def test_window_boundary(int8: OnnxEmbedder) -> None:
    # "cat" is one token: 254 of them fill one window exactly ([CLS] + 254 + [SEP] = 256), 255 need two
    assert len(int8.windows(" ".join(["cat"] * 254))) == 1
    assert len(int8.windows(" ".join(["cat"] * 255))) == 2


@pytest.mark.parametrize("bad", ["", "   ", "\n\t"])
def test_empty_text_is_an_input_error(int8: OnnxEmbedder, bad: str) -> None:
    with pytest.raises(InputError, match="text 1 is empty"):
        int8.embed(["fine", bad])
    with pytest.raises(InputError):
        int8.embed_one(bad)


def test_text_without_tokens_is_an_input_error(int8: OnnxEmbedder) -> None:
    with pytest.raises(InputError, match="no tokens"):
        int8.embed_one("\x00\x01")


def test_non_text_inputs_are_rejected(int8: OnnxEmbedder) -> None:
    with pytest.raises(InputError, match="sequence of texts"):
        int8.embed("a bare string")
    with pytest.raises(InputError, match="not a str"):
        int8.embed(["ok", 3])  # type: ignore[list-item]
