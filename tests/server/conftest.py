"""A real Sutra server on loopback per test module, with users in every role and two spaces.

admin  server admin, admin of both spaces
wendy  writer in "ops"          rita  reader in "ops"          olga  admin of "hr" only
nora   a user with no role anywhere
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sutra.config import Settings
from sutra.embedding.base import Embedder
from sutra.server import ServerConfig, create_app
from sutra.server.run import running, uvicorn_config

PASSWORD = "correct horse battery"
OPS_TEXT = (
    "If the disk is full then the database stops. Priya Nair owns the ledger database. "
    "The ledger database is in Dublin. Dublin is in Ireland."
)


@dataclass
class Live:
    url: str
    data_dir: Path
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, user: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[user]}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


@contextmanager
def start(tmp: Path, embedder: Embedder, **options: object) -> Iterator[str]:
    config = ServerConfig(data_dir=tmp, engine=Settings().with_(fsync="off"), **options)  # type: ignore[arg-type]
    app = create_app(config, embedder=embedder)
    with running(uvicorn_config(app, config.host, 0, log_level="warning")) as url:
        yield url


def populate(live: Live) -> None:
    """Accounts as the docstring says, made through the API itself (the first admin through the CLI's
    library call, as `sutra user create-admin` does)."""
    from sutra.server.accounts import Accounts
    from sutra.server.config import ServerConfig as Config

    accounts = Accounts(Config(data_dir=live.data_dir).accounts_path)
    accounts.create_user("admin", PASSWORD, is_admin=True)
    accounts.close()
    with httpx.Client(base_url=live.url, timeout=60) as anon:
        token = anon.post("/v1/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as admin:
        live.keys["admin"] = admin.post("/v1/keys", json={"label": "tests"}).json()["key"]
        for name in ("wendy", "rita", "olga", "nora"):
            assert admin.post("/v1/users", json={"name": name, "password": PASSWORD}).status_code == 201
        for space in ("ops", "hr"):
            assert admin.post("/v1/spaces", json={"name": space}).status_code == 201
        for space, user, role in (
            ("ops", "wendy", "writer"),
            ("ops", "rita", "reader"),
            ("hr", "olga", "admin"),
        ):
            assert admin.put(f"/v1/spaces/{space}/members/{user}", json={"role": role}).status_code == 200
        learned = admin.post("/v1/spaces/ops/learn", json={"text": OPS_TEXT, "source": "runbook"})
        assert learned.status_code == 200, learned.text
        learned = admin.post(
            "/v1/spaces/hr/learn", json={"text": "Mara Quinn manages the payroll team.", "source": "hr-wiki"}
        )
        assert learned.status_code == 200, learned.text
    for name in ("wendy", "rita", "olga", "nora"):
        with httpx.Client(base_url=live.url, timeout=60) as anon:
            token = anon.post("/v1/auth/login", json={"username": name, "password": PASSWORD}).json()["token"]
        live.keys[name] = token


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Live]:
    """An authenticating server (no rate limit) with the accounts above, parsing questions in a child
    process as `sutra serve` does."""
    data_dir = tmp_path_factory.mktemp("server")
    with start(data_dir, embedder, rate_per_second=0.0, parse_worker=True) as url:
        server = Live(url, data_dir)
        populate(server)
        yield server
