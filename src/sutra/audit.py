"""Audit records: one per question, appended to the data directory and retrievable by id."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from sutra.answer import Answer
from sutra.errors import NotFoundError
from sutra.model import content_id

AUDIT_FILE = "audit.jsonl"


class AuditLog:
    """Append-only JSON lines; an id derives from the question, the time and a counter, so it is unique."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / AUDIT_FILE
        self._lock = threading.Lock()
        self._count = 0

    def record(self, answer: Answer, elapsed_ms: float) -> str:
        with self._lock:
            self._count += 1
            audit_id = content_id("q", answer.question, repr(time.time()), str(self._count))
            answer.audit_id = audit_id
            entry: dict[str, Any] = {
                "audit_id": audit_id,
                "at": time.time(),
                "elapsed_ms": round(elapsed_ms, 3),
                **answer.to_dict(),
            }
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return audit_id

    def get(self, audit_id: str) -> dict[str, Any]:
        if self.path.exists():
            with self.path.open(encoding="utf-8") as fh:
                for line in fh:
                    if audit_id in line:
                        try:
                            entry = json.loads(line)
                        except json.JSONDecodeError:
                            continue  # a torn last line after a crash is not an audit record
                        if entry.get("audit_id") == audit_id:
                            return entry
        raise NotFoundError(
            f"no audit record {audit_id!r} in {self.path}; audit ids are printed with each answer"
        )
