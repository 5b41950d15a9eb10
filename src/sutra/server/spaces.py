"""Open spaces (one `Sutra` engine each) and the discipline for running engine work off the event loop.

Each space is its own data directory under `<server data>/spaces/<name>`, opened on first use and kept
open (the directory lock is held for the server's lifetime). A space's readers-writer lock lets reads
(asks, searches, browsing) run side by side, while a write (learning, deleting) runs alone, so no read sees
half of one. The spaCy pipeline, shared by every space, guards itself (`learning.nlp`): questions that
arrive together are parsed together in one batch.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio import CapacityLimiter

from sutra.embedding.base import Embedder
from sutra.engine import Sutra
from sutra.server.accounts import Accounts
from sutra.server.config import ServerConfig
from sutra.server.errors import ApiError
from sutra.server.rwlock import ReadWriteLock

T = TypeVar("T")
log = logging.getLogger(__name__)


class Space:
    def __init__(self, name: str, engine: Sutra) -> None:
        self.name = name
        self.engine = engine
        self.lock = ReadWriteLock()


class Spaces:
    def __init__(self, config: ServerConfig, accounts: Accounts, embedder: Embedder | None) -> None:
        self.config = config
        self.accounts = accounts
        self._embedder = embedder
        self._open: dict[str, Space] = {}
        self._opening = threading.Lock()
        self.limiter = CapacityLimiter(config.workers)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from sutra.embedding import get_embedder

            self._embedder = get_embedder(self.config.engine)
        return self._embedder

    def opened(self, name: str) -> Space | None:
        return self._open.get(name)

    def get(self, name: str) -> Space:
        """The open space; `ApiError` 404 when no such space was created."""
        space = self._open.get(name)
        if space is not None:
            return space
        if not self.accounts.space_exists(name):
            raise ApiError(
                404, "space_not_found", f"no space {name!r}; an admin creates it (POST /v1/spaces)"
            )
        with self._opening:
            space = self._open.get(name)
            if space is None:
                settings = self.config.engine.with_(data_dir=self.config.spaces_dir / name)
                space = Space(name, Sutra(settings=settings, embedder=self.embedder))
                self._open[name] = space
                threading.Thread(target=_warm, args=(space,), name=f"warm-{name}", daemon=True).start()
        return space

    def create(self, name: str) -> None:
        self.accounts.create_space(name)
        self.get(name)  # opens (creates) the directory now, so a broken disk shows at once

    async def read(self, space: Space, fn: Callable[[Sutra], T]) -> T:
        """Run a call that only reads the space (ask, search, browse) in a worker thread, beside other
        reads of it."""

        def call() -> T:
            with space.lock.reading():
                return fn(space.engine)

        return await anyio.to_thread.run_sync(call, limiter=self.limiter)

    async def write(self, space: Space, fn: Callable[[Sutra], T]) -> T:
        """Run a call that changes the space (learn, delete) in a worker thread, alone in it."""

        def call() -> T:
            with space.lock.writing():
                return fn(space.engine)

        return await anyio.to_thread.run_sync(call, limiter=self.limiter)

    def close(self) -> None:
        with self._opening:
            for space in self._open.values():
                with space.lock.writing():
                    space.engine.close()
            self._open.clear()


def _warm(space: Space) -> None:
    """Build the space's keyword index and load the embedding model now, in the background, rather than in
    its first ask or search (about a second at 2,000 statements, far longer at a million); then set
    aside what is loaded from the garbage collector's rounds (`_set_aside_loaded`)."""
    try:
        with space.lock.reading():
            space.engine.store.search_text("warm", 1)
        _ = space.engine.embedder
    except Exception:  # a space that cannot be searched says so to the request that tries
        log.warning("warming space %r failed", space.name, exc_info=True)
    _set_aside_loaded()


def _set_aside_loaded() -> None:
    """Move every object the server holds now (models, the space's records and indexes) out of the cyclic
    garbage collector's sight (`gc.freeze`). Each full collection walked them all: 65-72 ms in a server
    with one 2,000-statement space open (187,000 objects), a pause that every request in flight waited
    through, and which set the p99 of asks. Frozen objects are still freed by reference counting; garbage
    is collected first, so none is frozen with them. Records and models hold no reference cycles."""
    gc.collect()
    gc.freeze()
