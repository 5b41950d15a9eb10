"""The real `sutra` command, in-process through Typer's runner and as a second process for locking."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from sutra.cli import app

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
    data = str(tmp_path / "d")
    code, stdout, stderr = run("ingest", str(notes), "--data", data)
    assert code == 0, stderr
    assert "learned 2 document" in stdout
    code, stdout, _ = run("stats", "--data", data)
    assert code == 0 and stdout.strip()
    source = f"{notes.as_posix()}:{text.index('John')}"  # ids are file:offset
    code, stdout, stderr = run("forget", source, "--data", data)
    assert code == 0, stderr
    assert "forgot" in stdout


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
    assert "I don't know" in stdout
