"""Open spaces (one `Sutra` engine each) and the discipline for running engine work off the event loop.

Each space is its own data directory under `<server data>/spaces/<name>`, opened on first use and kept
open (the directory lock is held for the server's lifetime). Calls into one space are serialised by its
lock, so its store is never read while it is being written. The spaCy pipeline is one object per process,
shared by every space and not thread-safe, so anything that may parse (learning, asking) also holds the
process-wide parse lock; store-only reads of different spaces still run side by side.
"""

from __future__ import annotations

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

T = TypeVar("T")


class Space:
    def __init__(self, name: str, engine: Sutra) -> None:
        self.name = name
        self.engine = engine
        self.lock = threading.Lock()


class Spaces:
    def __init__(self, config: ServerConfig, accounts: Accounts, embedder: Embedder | None) -> None:
        self.config = config
        self.accounts = accounts
        self._embedder = embedder
        self._open: dict[str, Space] = {}
        self._opening = threading.Lock()
        self.parse_lock = threading.Lock()
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
        return space

    def create(self, name: str) -> None:
        self.accounts.create_space(name)
        self.get(name)  # opens (creates) the directory now, so a broken disk shows at once

    async def read(self, space: Space, fn: Callable[[Sutra], T]) -> T:
        """Run a store-only call in a worker thread, holding the space's lock."""

        def call() -> T:
            with space.lock:
                return fn(space.engine)

        return await anyio.to_thread.run_sync(call, limiter=self.limiter)

    async def parse(self, space: Space, fn: Callable[[Sutra], T]) -> T:
        """Run a call that may use the language model (learn, ask) in a worker thread."""

        def call() -> T:
            with space.lock, self.parse_lock:
                return fn(space.engine)

        return await anyio.to_thread.run_sync(call, limiter=self.limiter)

    def close(self) -> None:
        with self._opening:
            for space in self._open.values():
                with space.lock:
                    space.engine.close()
            self._open.clear()
