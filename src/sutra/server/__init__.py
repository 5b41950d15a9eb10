"""Sutra's HTTP server: `create_app(ServerConfig(...))`, run by `sutra serve` (see docs/server.md)."""

from __future__ import annotations

from sutra.server.app import create_app
from sutra.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]
