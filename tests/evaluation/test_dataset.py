from __future__ import annotations

import json
from pathlib import Path

import pytest

from sutra.errors import InputError
from sutra.evaluation.dataset import load_dataset


def test_babi_loads_with_contexts_and_support(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "babi")
    assert ds.name == "babi"
    assert len(ds.questions) == 11000
    assert len(ds.corpus) == 36422
    first = ds.questions[0]
    assert first.id == "1-train1-3"
    assert first.answers == ["bathroom"]
    assert first.support == ["1-train1-1"]
    assert first.context_ids == ["1-train1-1", "1-train1-2"]
    assert first.group == "1"
    assert ds.corpus["1-train1-1"].text == "Mary moved to the bathroom."


def test_task_filter_and_limit(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "babi", tasks=["19"], limit=5)
    assert len(ds.questions) == 5
    assert {q.group for q in ds.questions} == {"19"}
    assert all(q.answer_kind == "ordered_list" for q in ds.questions)


def test_per_task_sampling_covers_every_task(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "babi", per_group=3)
    assert len(ds.questions) == 12 * 3
    assert [q.group for q in ds.questions][:4] == ["1", "1", "1", "2"]


def test_entailmentbank_pulls_in_the_worldtree_corpus(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "entailmentbank")
    assert [p.parent.name for p in ds.corpus_files] == ["entailmentbank", "worldtree"]
    for question in ds.questions:
        assert all(i in ds.corpus for i in [*question.support, *question.context_ids])
    assert ds.questions[0].query("hypothesis") == ds.questions[0].meta["hypothesis"]


def test_proofwriter_labels(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "proofwriter")
    assert {q.label for q in ds.questions} == {"true", "false", "unknown"}


def test_missing_query_field_is_a_clear_error(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "hotpot24", limit=1)
    with pytest.raises(InputError, match="hypothesis"):
        ds.questions[0].query("hypothesis")


def _write_set(folder: Path, corpus: list[str], questions: list[str]) -> Path:
    folder.mkdir()
    (folder / "corpus.jsonl").write_text("\n".join(corpus) + "\n", encoding="utf-8")
    (folder / "questions.jsonl").write_text("\n".join(questions) + "\n", encoding="utf-8")
    return folder


GOOD_ROW = json.dumps({"id": "c1", "text": "Mary went home."})
GOOD_Q = json.dumps({"id": "q1", "question": "Where is Mary?", "answers": ["home"], "context_ids": ["c1"]})


@pytest.mark.parametrize(
    ("corpus", "questions", "message"),
    [
        ([GOOD_ROW, "{not json"], [GOOD_Q], r"corpus.jsonl:2: not valid JSON"),
        ([GOOD_ROW, GOOD_ROW], [GOOD_Q], r"corpus.jsonl:2: duplicate corpus id 'c1'"),
        ([json.dumps({"text": "no id"})], [GOOD_Q], r"corpus.jsonl:1: 'id' must be"),
        ([GOOD_ROW], [GOOD_Q, GOOD_Q], r"questions.jsonl:2: duplicate question id 'q1'"),
        ([GOOD_ROW], [json.dumps({"id": "q", "question": "x", "label": "perhaps"})], r"'label' 'perhaps'"),
        ([GOOD_ROW], [json.dumps({"id": "q", "question": "x", "answers": "home"})], r"'answers' must be"),
        (
            [GOOD_ROW],
            [json.dumps({"id": "q", "question": "x", "context_ids": ["nope"]})],
            r"1 referenced corpus id\(s\) not found, e.g. nope",
        ),
    ],
)
def test_malformed_sets_name_file_and_line(
    tmp_path: Path, corpus: list[str], questions: list[str], message: str
) -> None:
    folder = _write_set(tmp_path / "broken", corpus, questions)
    with pytest.raises(InputError, match=message):
        load_dataset(folder)


def test_not_a_set_folder(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("raw log line\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no questions\.jsonl or corpus\.jsonl here; an evaluation folder"):
        load_dataset(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        load_dataset(tmp_path / "missing")


def test_explicit_extra_corpus(tmp_path: Path) -> None:
    folder = _write_set(
        tmp_path / "set", [GOOD_ROW], [json.dumps({"id": "q", "question": "x", "support": ["far"]})]
    )
    extra = tmp_path / "facts.jsonl"
    extra.write_text(json.dumps({"id": "far", "text": "A fact."}) + "\n", encoding="utf-8")
    ds = load_dataset(folder, extra_corpora=[extra])
    assert ds.corpus["far"].text == "A fact."


def test_corpus_only_folder_loads_for_ingest(tmp_path: Path) -> None:
    folder = tmp_path / "facts"
    folder.mkdir()
    rows = [GOOD_ROW, json.dumps({"id": "c2", "text": "John took the apple."})]
    (folder / "corpus.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # question filters have nothing to select from and do not fail the load
    ds = load_dataset(folder, tasks=["1"], per_group=1, limit=1)
    assert ds.ingest_only
    assert ds.questions == []
    assert list(ds.corpus) == ["c1", "c2"]
    assert ds.corpus_files == [folder / "corpus.jsonl"]


def test_empty_corpus_only_folder(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"corpus\.jsonl: no documents in the file"):
        load_dataset(tmp_path)


# ---- only the set's own files and explicit corpora can fail a load ----

REMOTE_Q = json.dumps({"id": "q", "question": "x", "support": ["far"]})


def _corpus_only(folder: Path, text: str) -> Path:
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(text, encoding="utf-8")
    return folder


def test_a_broken_unrelated_sibling_does_not_fail_the_set(tmp_path: Path) -> None:
    _corpus_only(tmp_path / "aaa-broken", "{not json\n")
    _corpus_only(tmp_path / "shared", json.dumps({"id": "far", "text": "A fact."}) + "\n")
    folder = _write_set(tmp_path / "set", [GOOD_ROW], [REMOTE_Q])
    ds = load_dataset(folder)
    assert ds.corpus["far"].text == "A fact."
    assert [p.parent.name for p in ds.corpus_files] == ["set", "shared"]
    # a set that needs nothing from its siblings never reads them
    own = _write_set(tmp_path / "own", [GOOD_ROW], [GOOD_Q])
    assert load_dataset(own).corpus_files == [own / "corpus.jsonl"]


def test_ids_still_missing_mention_the_siblings_passed_over(tmp_path: Path) -> None:
    _corpus_only(tmp_path / "aaa-broken", "{not json\n")
    folder = _write_set(tmp_path / "set", [GOOD_ROW], [REMOTE_Q])
    with pytest.raises(
        InputError, match=r"not found, e\.g\. far; .*passed over: .*aaa-broken/corpus\.jsonl:1"
    ):
        load_dataset(folder)


def test_explicit_corpus_must_be_valid(tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "set", [GOOD_ROW], [GOOD_Q])
    extra = tmp_path / "extra.jsonl"
    extra.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"extra\.jsonl:1: not valid JSON"):
        load_dataset(folder, extra_corpora=[extra])


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (
            {"task1_context_ids": "c1"},
            r"'meta\.task1_context_ids' must be a list of corpus ids \(strings\), got str",
        ),
        ({"task1_context_ids": ["c1", 2]}, r"'meta\.task1_context_ids' must be .*non-string"),
    ],
)
def test_task1_context_ids_must_be_a_list(tmp_path: Path, meta: dict[str, object], message: str) -> None:
    question = json.dumps({"id": "q", "question": "x", "meta": meta})
    folder = _write_set(tmp_path / "set", [GOOD_ROW], [question])
    with pytest.raises(InputError, match=r"questions\.jsonl:1: " + message):
        load_dataset(folder)


def test_task1_context_ids_list_is_resolved(tmp_path: Path) -> None:
    question = json.dumps({"id": "q", "question": "x", "meta": {"task1_context_ids": ["nope"]}})
    folder = _write_set(tmp_path / "set", [GOOD_ROW], [question])
    with pytest.raises(InputError, match=r"1 referenced corpus id\(s\) not found, e\.g\. nope"):
        load_dataset(folder)


@pytest.mark.parametrize("name", ["questions.jsonl", "corpus.jsonl"])
def test_set_files_that_are_folders(tmp_path: Path, name: str) -> None:
    folder = _write_set(tmp_path / "set", [GOOD_ROW], [GOOD_Q])
    (folder / name).unlink()
    (folder / name).mkdir()
    with pytest.raises(InputError, match=rf"{name}: is a folder or other non-file; it must be a JSONL file"):
        load_dataset(folder)


def test_question_lines_nested_too_deeply(tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "set", [GOOD_ROW], [GOOD_Q, "[" * 100_000 + "]" * 100_000])
    with pytest.raises(InputError, match=r"questions\.jsonl:2: not valid JSON.*nested too deeply"):
        load_dataset(folder)


def test_raw_line_separators_inside_strings(tmp_path: Path) -> None:
    row = json.dumps({"id": "c1", "text": "Mary\u2028went\x85home.\r"}, ensure_ascii=False)
    question = json.dumps(
        {"id": "q1", "question": "Where\u2029is Mary?", "context_ids": ["c1"]}, ensure_ascii=False
    )
    folder = _write_set(tmp_path / "set", [row, json.dumps({"id": "c2", "text": "x"})], [question])
    ds = load_dataset(folder)
    assert ds.corpus["c1"].text == "Mary\u2028went\x85home."
    assert list(ds.corpus) == ["c1", "c2"]
    assert ds.questions[0].question == "Where\u2029is Mary?"
    (folder / "corpus.jsonl").write_bytes(
        b'{"id": "c1", "text": "CRLF lines."}\r\n{"id": "c2", "text": "y"}\r\n'
    )
    assert [d.text for d in load_dataset(folder).corpus.values()] == ["CRLF lines.", "y"]
