"""The server's own settings: where it keeps spaces and accounts, and how it protects itself.

Engine settings (fsync policy, model folder, reasoning limits) come from `sutra.config.Settings` as for the
CLI; this object only adds what an HTTP edge needs. It is validated once, when the app is built.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from sutra.config import Settings
from sutra.errors import ConfigError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """`data_dir` holds `accounts.db`, the token secret and one folder per space under `spaces/`.

    `dev` turns authentication off (every caller may do everything) and is refused on any host that is
    not loopback. `rate_per_second`/`rate_burst` shape each caller's token bucket (0 turns limiting off).
    """

    data_dir: Path
    engine: Settings = field(default_factory=Settings)
    dev: bool = False
    host: str = "127.0.0.1"
    # threads running engine work: reads of a space (asks) run side by side, each write alone. Questions are
    # parsed before they reach these threads, so a few suffice: on 2 cores, 16 clients asking distinct
    # questions got 175-182 answers/s with 2 or 4 threads and fewer with 8 (Python threads contend for the
    # interpreter lock); 4 keeps one long read (an export) from holding up every ask
    workers: int = 4
    parse_worker: bool = False  # parse questions in a child process (`sutra serve` turns it on)
    max_body_bytes: int = 8 * 1024 * 1024
    rate_per_second: float = 50.0
    rate_burst: int = 100
    token_ttl_seconds: int = 12 * 3600
    cors_origins: tuple[str, ...] = ()
    answer_cache_size: int = 4096
    tls: bool = False  # set by `serve` when a cert and key are given: adds Strict-Transport-Security

    def __post_init__(self) -> None:
        if self.dev and not is_loopback(self.host):
            raise ConfigError(
                f"--dev turns authentication off, so it only binds to loopback; {self.host!r} is not "
                "(use 127.0.0.1, ::1 or localhost, or drop --dev)"
            )
        if not 1 <= self.workers <= 64:
            raise ConfigError(f"workers must be between 1 and 64, got {self.workers}")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes}")
        if self.rate_per_second < 0 or self.rate_burst < 1:
            raise ConfigError("rate_per_second must be >= 0 and rate_burst >= 1")
        if self.token_ttl_seconds < 60:
            raise ConfigError(f"token_ttl_seconds must be at least 60, got {self.token_ttl_seconds}")

    @property
    def spaces_dir(self) -> Path:
        return self.data_dir / "spaces"

    @property
    def accounts_path(self) -> Path:
        return self.data_dir / "accounts.db"

    @property
    def secret_path(self) -> Path:
        return self.data_dir / "token.secret"
