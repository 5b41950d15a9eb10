"""A child process that parses questions, so the server's own process spends its GIL on reasoning.

Parsing a question is about 6 ms of the ~12 ms an ask costs, nearly all of it Python holding the GIL,
so threads answering asks side by side barely gain from a second core. Here the parse runs in another
process; the asking thread waits on a pipe (the GIL released) and rebuilds the `Doc` from the
annotations Sutra reads (`pack`), about 0.06 ms (spaCy's own `Doc.to_bytes`/`from_bytes` cost 0.27 ms
each way). One request is in flight at a time: `nlp.parse_soon` sends every question waiting at that moment
as one batch.

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

START_TIMEOUT_S = 120.0
# A reply slower than this (plus a second per 2,000 characters) means a stalled child (stopped, or stuck):
# it is killed, and the caller parses in process, rather than every asker waiting for ever.
REPLY_TIMEOUT_S = 10.0
# A parsed Doc as it travels: words, spaces, tags, parts of speech, lemmas, heads, dependency labels, and
# the entities (None where the recogniser did not run). Sentences follow from the heads; lexical
# attributes (lower case, punctuation) come from the receiving vocabulary.
Packed = tuple[list[str], list[bool], list[str], list[str], list[str], list[int], list[str], Any]


def pack(doc: Any) -> Packed:
    tokens = list(doc)
    ents = [(e.start, e.end, e.label_) for e in doc.ents] if doc.has_annotation("ENT_IOB") else None
    return (
        [t.text for t in tokens],
        [bool(t.whitespace_) for t in tokens],
        [t.tag_ for t in tokens],
        [t.pos_ for t in tokens],
        [t.lemma_ for t in tokens],
        [t.head.i for t in tokens],
        [t.dep_ for t in tokens],
        ents,
    )


def unpack(packed: Packed, vocab: Any) -> Any:
    """The Doc `pack` was given, on `vocab`: the same tokens, annotations, sentences and entities."""
    from spacy.tokens import Doc, Span

    words, spaces, tags, pos, lemmas, heads, deps, ents = packed
    doc = Doc(vocab, words=words, spaces=spaces, tags=tags, pos=pos, lemmas=lemmas, heads=heads, deps=deps)
    if ents is not None:
        doc.set_ents([Span(doc, start, end, label=label) for start, end, label in ents], default="outside")
    return doc


class ParseWorkerError(RuntimeError):
    pass


class ParseWorker:
    def __init__(self, reply_timeout_s: float = REPLY_TIMEOUT_S) -> None:
        self.reply_timeout_s = reply_timeout_s
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
        timeout = self.reply_timeout_s + sum(map(len, texts)) / 2000
        with self._lock:
            try:
                self._conn.send(texts)
                if not self._conn.poll(timeout):
                    self._process.kill()
                    self._process.wait()
                    raise ParseWorkerError(f"the parse worker did not answer in {timeout:.0f} s; stopped it")
                reply = self._conn.recv()
            except (OSError, EOFError) as exc:
                raise ParseWorkerError(f"the parse worker is gone ({exc})") from exc
        if not isinstance(reply, list):
            raise ParseWorkerError(f"the parse worker failed: {reply}")
        return [unpack(packed, vocab) for packed in reply]

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
            conn.send([pack(doc) for doc in docs])
        except Exception as exc:  # a reply must always come back, or the asking thread waits for ever
            conn.send(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
