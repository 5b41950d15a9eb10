"""The audit log survives torn and garbled lines, fsyncs each record (records written at once share an
fsync), and a failed write loses no answer."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sutra.answer import Answer
from sutra.audit import AUDIT_FILE, AuditLog
from sutra.engine import Sutra
from sutra.errors import NotFoundError


def _answer(question: str = "Where is Mary?") -> Answer:
    return Answer(question=question, text="kitchen", status="answered", confidence=0.9, sources=["m1"])


def test_record_and_get_round_trip(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    answer = _answer()
    audit_id = log.record(answer, 1.5)
    assert answer.audit_id == audit_id
    record = log.get(audit_id)
    assert (record["audit_id"], record["question"], record["text"]) == (audit_id, "Where is Mary?", "kitchen")
    assert record["elapsed_ms"] == 1.5


def test_a_torn_last_line_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    first = log.record(_answer("first?"), 1.0)
    with log.path.open("ab") as fh:  # a crash in the middle of writing a record
        fh.write(b'{"audit_id": "q:torn", "question": "half a rec')
    second = log.record(_answer("second?"), 1.0)
    third = log.record(_answer("third?"), 1.0)

    assert log.get(first)["question"] == "first?"
    assert log.get(second)["question"] == "second?"
    assert log.get(third)["question"] == "third?"
    lines = log.path.read_bytes().split(b"\n")
    assert lines[1].startswith(b'{"audit_id": "q:torn"')  # the torn line stays alone on its line
    assert json.loads(lines[2])["audit_id"] == second
    with pytest.raises(NotFoundError):
        log.get("q:torn")


def test_lines_that_are_not_utf8_or_json_are_skipped(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    before = log.record(_answer("before?"), 1.0)
    with log.path.open("ab") as fh:
        fh.write(b"\xff\xfe\x00 not text at all\n")
        fh.write(b'{"audit_id": "q:bad\xff\xfe", "question": "caf\xe9"}\n')  # Latin-1, not UTF-8
        fh.write(b"[1, 2, 3]\n")
        fh.write(b"\n")
    after = log.record(_answer("after?"), 1.0)
    assert log.get(before)["question"] == "before?"
    assert log.get(after)["question"] == "after?"
    with pytest.raises(NotFoundError):
        log.get("q:missing")


def test_records_glued_onto_a_torn_line_by_older_versions_are_recovered(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    good = json.dumps({"audit_id": "q:glued", "question": "Where is Fay?", "text": "garden"})
    log.path.write_text('{"audit_id": "q:torn", "quest' + good + "\n", encoding="utf-8")
    assert log.get("q:glued")["text"] == "garden"


def test_each_record_is_fsynced_unless_fsync_is_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    log = AuditLog(tmp_path)
    log.record(_answer(), 1.0)  # the file and its directory entry
    assert len(synced) == 2
    log.record(_answer(), 1.0)
    assert len(synced) == 3

    synced.clear()
    AuditLog(tmp_path, fsync=False).record(_answer(), 1.0)
    assert synced == []


def test_answers_survive_an_audit_write_failure(
    make_space: Callable[..., Sutra], caplog: pytest.LogCaptureFixture
) -> None:
    space = make_space()
    space.learn("Mary went to the kitchen.", source="m1")
    (space.settings.data_dir / AUDIT_FILE).mkdir()  # the record cannot be appended: open() fails
    with caplog.at_level(logging.WARNING, logger="sutra.engine"):
        answer = space.ask("Where is Mary?")
    assert (answer.text, answer.sources) == ("kitchen", ["m1"])
    assert answer.audit_id == ""
    assert "could not be written" in answer.plan["audit_error"]
    assert "without an audit id" in caplog.text


def test_engine_audit_reads_past_a_torn_tail(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("Mary went to the kitchen.", source="m1")
    first = space.ask("Where is Mary?").audit_id
    with (space.settings.data_dir / AUDIT_FILE).open("ab") as fh:
        fh.write(b'{"audit_id": "q:0000", "ques\xff')
    second = space.ask("Who went to the kitchen?").audit_id
    assert space.audit(first)["question"] == "Where is Mary?"
    assert space.audit(second)["question"] == "Who went to the kitchen?"


def test_records_written_at_once_share_fsyncs_and_each_is_durable_when_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: while one fsync runs, the records written meanwhile wait for the next one, which
    covers them all; no record is acknowledged before an fsync begun after its write has finished."""
    durable_upto: list[int] = []  # the file size each finished fsync started at: bytes made durable
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        size = os.fstat(fd).st_size
        time.sleep(0.02)  # a slow disk, so that records pile up behind each fsync
        real_fsync(fd)
        durable_upto.append(size)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    log = AuditLog(tmp_path)
    log.record(_answer(), 1.0)  # creates the file first
    durable_upto.clear()
    late: list[str] = []

    def record_one(i: int) -> None:
        audit_id = log.record(_answer(f"question {i}?"), 1.0)
        raw = log.path.read_bytes()
        end = raw.index(b"\n", raw.index(audit_id.encode())) + 1
        if max(durable_upto, default=0) < end:
            late.append(audit_id)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(record_one, range(48)))
    assert late == []
    assert len(durable_upto) < 48  # shared: one fsync per record would be 48
    questions = [json.loads(line)["question"] for line in log.path.read_text(encoding="utf-8").splitlines()]
    assert sorted(questions[1:]) == sorted(f"question {i}?" for i in range(48))
