"""The real `sutra` command, in-process through Typer's runner and as a second process for locking."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from sutra import cli
from sutra.cli import app
from sutra.engine import MAX_TEXT_CHARS, LearnReport

if TYPE_CHECKING:
    from sutra.engine import Sutra

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_clean_error(code: int, stderr: str, expected: str, exit_code: int = 2) -> None:
    assert code == exit_code, stderr
    assert stderr.startswith("error: ")
    assert expected in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_missing_file(tmp_path: Path) -> None:
    code, _, stderr = run("ingest", str(tmp_path / "nope.md"), "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, "nope.md: no such file or folder")


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_text("x", encoding="utf-8")
    code, _, stderr = run("ingest", str(path), "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, "unknown format '.docx'")


def test_malformed_jsonl_line_is_named_and_nothing_is_learned(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"id": "a", "text": "Mary went home."}\n{"id": "b", "text": \n', encoding="utf-8")
    code, _, stderr = run("ingest", str(path), "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, "corpus.jsonl:2: not valid JSON")
    assert not (tmp_path / "d").exists()  # validated before the store was opened


def test_empty_text(tmp_path: Path) -> None:
    code, _, stderr = run("learn", "   ", "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, "nothing to learn")


def test_eval_on_a_folder_with_neither_questions_nor_corpus(tmp_path: Path) -> None:
    (tmp_path / "HDFS_2k.log").write_text("081109 203615 148 INFO dfs.DataNode\n", encoding="utf-8")
    code, _, stderr = run("eval", str(tmp_path))
    assert_clean_error(code, stderr, "no questions.jsonl or corpus.jsonl here")
    assert "corpus.jsonl alone for an ingest-only run" in stderr


def test_bad_context_mode(shared_data: Path) -> None:
    code, _, stderr = run("eval", str(shared_data / "hotpot24"), "--context", "everything")
    assert_clean_error(code, stderr, "--context must be one of")


def test_learn_then_ask_json(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    code, stdout, stderr = run("learn", "Mary moved to the bathroom.", "--source", "s1", "--data", data)
    assert code == 0, stderr
    assert "learned 1 document" in stdout
    code, stdout, stderr = run("ask", "Where is Mary?", "--json", "--data", data)
    assert code == 0, stderr
    answer = json.loads(stdout)
    assert answer["status"] == "answered"
    assert answer["text"] == "bathroom"
    assert answer["sources"] == ["s1"]
    code, stdout, _ = run("ask", "Where is Mary?", "--explain", "--data", data)
    assert code == 0 and "bathroom" in stdout and "s1" in stdout
    code, stdout, stderr = run("learn", "!!!", "--data", data)  # nothing learnable: a note, not an error
    assert code == 0, stderr
    assert "0 statements" in stdout
    assert "note: nothing learnable was found" in stderr


def test_unknown_answer_says_why(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    assert run("learn", "Mary moved to the bathroom.", "--data", data)[0] == 0
    code, stdout, _ = run("ask", "Where is Daniel?", "--explain", "--data", data)
    assert code == 0
    assert "I don't know" in stdout
    assert "why:" in stdout


def test_ingest_stats_forget(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    text = "# Office\n\nJohn went to the kitchen.\n\nSandra went to the garden.\n"
    notes.write_text(text, encoding="utf-8")
    data = str(tmp_path / "d")  # inside the folder that is ingested below
    code, stdout, stderr = run("ingest", str(notes), "--data", data)
    assert code == 0, stderr
    assert "learned 2 document" in stdout
    code, stdout, _ = run("stats", "--data", data)
    assert code == 0 and stdout.strip()
    assert run("ask", "Where is John?", "--data", data)[0] == 0  # writes d/audit.jsonl
    # the space's own files (audit.jsonl) are not learned when the folder holding it is ingested
    code, stdout, stderr = run("ingest", str(tmp_path), "--data", data)
    assert code == 0, stderr
    assert "1 file: learned 2 documents" in stdout
    assert "skipped 1 file:" in stdout and "audit.jsonl (inside the data directory)" in stdout
    source = f"{notes.as_posix()}:{text.index('John')}"  # ids are file:offset
    code, stdout, stderr = run("forget", source, "--data", data)
    assert code == 0, stderr
    assert "forgot" in stdout
    code, _, stderr = run("forget", source, "--data", data)  # nothing cites it any more
    assert_clean_error(code, stderr, f"no learned item cites source {source!r}")


def test_second_process_gets_a_clean_locked_message(make_space: Callable[..., Sutra], tmp_path: Path) -> None:
    space = make_space("held")
    space.learn("Mary moved to the bathroom.")
    proc = subprocess.run(
        [sys.executable, "-m", "sutra.cli", "stats", "--data", str(tmp_path / "held")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: ")
    assert "is in use by process" in proc.stderr  # the store's StoreLockedError, one line
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_demo_answers_and_refuses(tmp_path: Path) -> None:
    code, stdout, stderr = run("demo", "--data", str(tmp_path / "demo"))
    assert code == 0, stderr
    assert "Learning handbook.md" in stdout
    # every question of the demo gets the handbook's answer (the last one is not in it)
    answers = [line.split("  (confidence")[0] for line in stdout.splitlines() if "  (confidence" in line]
    assert answers == [
        "Priya Nair",
        "Frankfurt",
        "Quayside platform team",
        "yes",
        "high latency",
        "the database stops",
        "On 4 March 2024 Priya Nair rotated the log files.",
        "Tomás Ortega",
    ]
    assert stdout.rstrip().splitlines()[-3:][0].strip() == "I don't know"


# ---- bad input is refused before anything is written ----


def test_ingest_validates_every_document_before_learning(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    rows = [{"id": "a", "text": "Mary went home."}, {"id": "b", "text": "x" * (MAX_TEXT_CHARS + 1)}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, _, stderr = run("ingest", str(path), "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, "corpus.jsonl:2: document 'b' is")
    assert "split it into smaller documents" in stderr
    assert not (tmp_path / "d").exists()


def test_duplicate_ids_within_one_ingest(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"id": "a", "text": "One."}\n{"id": "a", "text": "Two."}\n', encoding="utf-8")
    code, _, stderr = run("ingest", str(path), "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, "corpus.jsonl:2: duplicate document id 'a' (also at")
    assert "corpus.jsonl:1)" in stderr
    assert not (tmp_path / "d").exists()


def test_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "caf\udce9.txt").write_text("Mary went home.", encoding="utf-8")
    code, _, stderr = run("ingest", str(folder), "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, "caf\\udce9.txt': the file name is not valid UTF-8")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["learn", "The cat is \udcff happy."], "TEXT"),
        (["learn", "The cat is happy.", "--source", "s\udcfe"], "--source"),
        (["learn", "The cat is happy.", "--time", "2024\udcff"], "--time"),
        (["ask", "Where is \udcff?"], "QUESTION"),
        (["forget", "s\udcff"], "SOURCE"),
    ],
)
def test_arguments_that_are_not_utf8(tmp_path: Path, args: list[str], name: str) -> None:
    code, _, stderr = run(*args, "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, f"{name} is not valid UTF-8 (byte 0x")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "May 1st", ""])
def test_time_must_be_iso_8601(tmp_path: Path, value: str) -> None:
    code, _, stderr = run("learn", "Mary went home.", "--time", value, "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, f"--time {value!r} is not an ISO-8601 date or datetime; e.g. 2024-05-01")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("args", [["ask", "Where is Mary?"], ["stats"], ["forget", "s1"], ["audit", "q:1"]])
def test_read_only_commands_refuse_a_space_that_does_not_exist(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "typo"
    code, _, stderr = run(*args, "--data", str(missing))
    assert_clean_error(code, stderr, f"no Sutra space at {missing}; learn or ingest something first")
    assert not missing.exists()
    (tmp_path / "empty").mkdir()  # an empty folder is not a space either, and stays empty
    code, _, stderr = run(*args, "--data", str(tmp_path / "empty"))
    assert_clean_error(code, stderr, "no Sutra space at")
    assert not any((tmp_path / "empty").iterdir())


@pytest.mark.parametrize("source", ["", "   "])
def test_forget_an_empty_source(tmp_path: Path, source: str) -> None:
    code, _, stderr = run("forget", source, "--data", str(tmp_path / "d"))
    assert_clean_error(code, stderr, "nothing to forget: SOURCE is empty")


def test_interrupted_ingest_says_what_was_committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": "Mary went home."}) + "\n" for i in range(5)))

    class Interrupted:
        def learn_documents(self, docs: Iterable[Any], *, batch_size: int, progress: Any) -> LearnReport:
            batch = [doc for doc, _ in zip(docs, range(batch_size), strict=False)]
            progress(len(batch))  # the first batch is committed, then Ctrl-C arrives
            raise KeyboardInterrupt

    @contextmanager
    def engine(data: Path | None, **_: Any) -> Iterator[Interrupted]:
        yield Interrupted()

    monkeypatch.setattr(cli, "_engine", engine)
    code, _, stderr = run("ingest", str(path), "--batch-size", "2", "--data", str(tmp_path / "d"))
    assert code == 130
    assert "interrupted: 2 of 5 documents were learned and committed" in stderr
    assert "the other 3 were not learned" in stderr
    assert "Traceback" not in stderr


def _tiny_set(folder: Path) -> Path:
    folder.mkdir()
    (folder / "corpus.jsonl").write_text('{"id": "c1", "text": "Mary went home."}\n', encoding="utf-8")
    question = {"id": "q1", "question": "Where is Mary?", "answers": ["home"], "context_ids": ["c1"]}
    (folder / "questions.jsonl").write_text(json.dumps(question) + "\n", encoding="utf-8")
    return folder


def test_eval_checks_the_report_path_before_running(tmp_path: Path) -> None:
    folder = _tiny_set(tmp_path / "set")
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    code, _, stderr = run("eval", str(folder), "--json", str(blocker / "out.json"))
    assert_clean_error(code, stderr, "out.json: cannot write the report there")
    code, _, stderr = run("eval", str(folder), "--json", str(tmp_path))
    assert_clean_error(code, stderr, "is a folder; give a file name for the report")


def test_eval_that_fails_leaves_no_report_behind(tmp_path: Path) -> None:
    folder = _tiny_set(tmp_path / "set")
    (folder / "questions.jsonl").write_text('{"id": "q1", "question": \n', encoding="utf-8")
    report = tmp_path / "reports" / "out.json"
    code, _, stderr = run("eval", str(folder), "--json", str(report))
    assert_clean_error(code, stderr, "questions.jsonl:1: not valid JSON")
    assert not report.exists()


def test_a_data_path_that_is_a_file_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine")
    for data in (tmp_path / "file", tmp_path / "file" / "sub"):
        code, _, stderr = run("learn", "Mary went home.", "--data", str(data))
        assert_clean_error(code, stderr, "data directory")
    assert (tmp_path / "file").read_text() == "mine"


def test_forget_says_how_many_items_were_removed_and_kept(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    for source in ("a", "b"):
        assert run("learn", "Mary went to the kitchen.", "--source", source, "--data", data)[0] == 0
    code, stdout, stderr = run("forget", "a", "--data", data)
    assert code == 0, stderr
    assert "0 removed" in stdout and "kept (other sources support them)" in stdout
    code, stdout, stderr = run("forget", "b", "--data", data)
    assert code == 0, stderr
    assert re.search(r"cited it, [1-9]\d* removed", stdout) and "kept" not in stdout


def test_ingesting_a_folder_lists_the_files_of_formats_it_does_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "notes.md").write_text("Mary went to the kitchen.\n", encoding="utf-8")
    (folder / "manual.pdf").write_bytes(b"%PDF-1.4")
    code, stdout, stderr = run("ingest", str(folder), "--data", str(tmp_path / "d"))
    assert code == 0, stderr
    assert "learned 1 document" in stdout
    assert "skipped 1 file:" in stdout and "manual.pdf (.pdf: not a format Sutra reads)" in stdout
