"""A child process that parses questions, so the server's own process spends its GIL on reasoning.

Parsing a question is about 6 ms of the ~12 ms an ask costs, nearly all of it Python holding the GIL,
so threads answering asks side by side barely gain from a second core. Here the parse runs in another
process; the asking thread waits on a pipe (the GIL released) and rebuilds the `Doc` from its bytes,
about 0.4 ms. One request is in flight at a time: `nlp.parse_one` sends every question waiting at that
moment as one batch.

The child loads the same pipeline and parses exactly as `nlp` does in process (same entity rule). If it
dies, `parse` raises `ParseWorkerError` and the caller parses in process from then on.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

# What a Doc needs to travel: its tokens' annotations, sentences and entities, not the tensor or user data.
DOC_EXCLUDE = ["tensor", "user_data"]
START_TIMEOUT_S = 120.0


class ParseWorkerError(RuntimeError):
    pass


class ParseWorker:
    def __init__(self) -> None:
        # A plain child interpreter on one end of a socket pair: unlike multiprocessing's spawn, it does
        # not re-import the parent's main module, which may not be import-safe.
        ours, theirs = socket.socketpair()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "sutra.learning.parse_worker", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._conn = Connection(ours.detach())
        self._lock = threading.Lock()
        try:
            ready = self._conn.poll(START_TIMEOUT_S) and self._conn.recv() == "ready"
        except (OSError, EOFError):
            ready = False
        if not ready:
            self.close()
            raise ParseWorkerError("the parse worker did not start (its error, if any, is on stderr)")

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def parse(self, texts: list[str], vocab: Any) -> list[Any]:
        """Parsed `Doc`s for `texts`, rebuilt on `vocab` (the in-process pipeline's)."""
        from spacy.tokens import Doc

        with self._lock:
            try:
                self._conn.send(texts)
                reply = self._conn.recv()
            except (OSError, EOFError) as exc:
                raise ParseWorkerError(f"the parse worker is gone ({exc})") from exc
        if not isinstance(reply, list):
            raise ParseWorkerError(f"the parse worker failed: {reply}")
        return [Doc(vocab).from_bytes(data) for data in reply]

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # already gone
            self._conn.send(None)
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._conn.close()


def _serve(conn: Connection) -> None:
    """The child's loop: a list of texts in, a list of Doc bytes (or an error message) out."""
    import signal

    from sutra.learning import nlp

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which then closes this
    nlp.load()
    conn.send("ready")
    while True:
        try:
            texts = conn.recv()
        except (EOFError, OSError):
            return
        if texts is None:
            return
        try:
            docs = nlp.parse_in_process(texts)
            conn.send([doc.to_bytes(exclude=DOC_EXCLUDE) for doc in docs])
        except Exception as exc:  # a reply must always come back, or the asking thread waits for ever
            conn.send(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
