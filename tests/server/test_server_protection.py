"""Protection at the edge: rate limits, TLS, CORS, dev mode on loopback only; and the server commands."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.server.conftest import PASSWORD, start
from typer.testing import CliRunner

from sutra.cli import app as cli_app
from sutra.config import Settings
from sutra.embedding.base import Embedder
from sutra.errors import ConfigError
from sutra.server import ServerConfig, create_app
from sutra.server.accounts import Accounts
from sutra.server.run import running, uvicorn_config


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, embedder: Embedder) -> None:
    with (
        start(tmp_path, embedder, dev=True, rate_per_second=0.5, rate_burst=3) as url,
        httpx.Client(base_url=url) as c,
    ):
        statuses = [c.get("/v1/spaces").status_code for _ in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
        limited = c.get("/v1/spaces")
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        assert c.get("/v1/health").status_code == 200  # health is never limited


def test_login_attempts_are_limited_per_address(tmp_path: Path, embedder: Embedder) -> None:
    with start(tmp_path, embedder, rate_per_second=0.2, rate_burst=2) as url, httpx.Client(base_url=url) as c:
        attempts = [
            c.post("/v1/auth/login", json={"username": "x", "password": "guess-guess"}) for _ in range(3)
        ]
        assert [a.status_code for a in attempts] == [401, 401, 429]


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_tls(tmp_path: Path, embedder: Embedder) -> None:
    cert, key = self_signed(tmp_path)
    config = ServerConfig(data_dir=tmp_path / "d", engine=Settings().with_(fsync="off"), dev=True, tls=True)
    app = create_app(config, embedder=embedder)
    with running(uvicorn_config(app, "127.0.0.1", 0, cert=cert, key=key, log_level="warning")) as url:
        assert url.startswith("https://")
        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=url, verify=context) as c:
            health = c.get("/v1/health")
            assert health.json() == {"status": "ok"}
            assert health.headers["strict-transport-security"].startswith("max-age=")
        with httpx.Client(base_url=url) as untrusting, pytest.raises(httpx.ConnectError):
            untrusting.get("/v1/health")  # the system store does not know this certificate
    with pytest.raises(ConfigError, match="both --cert and --key"):
        uvicorn_config(app, "127.0.0.1", 0, cert=cert)


def test_dev_mode_is_loopback_only_and_needs_no_auth(tmp_path: Path, embedder: Embedder) -> None:
    for host in ("0.0.0.0", "192.168.1.4", "example.org"):
        with pytest.raises(ConfigError, match="loopback"):
            ServerConfig(data_dir=tmp_path, dev=True, host=host)
    with start(tmp_path, embedder, dev=True) as url, httpx.Client(base_url=url, timeout=60) as c:
        assert c.post("/v1/spaces", json={"name": "scratch"}).status_code == 201
        assert c.post("/v1/spaces/scratch/learn", json={"text": "Ada is in Rome."}).status_code == 200
        assert c.post("/v1/spaces/scratch/ask", json={"question": "Where is Ada?"}).json()["text"] == "Rome"
        assert c.post("/v1/keys", json={}).json()["error"]["code"] == "dev_mode"


def test_a_failing_audit_log_names_no_server_path(tmp_path: Path, embedder: Embedder) -> None:
    with start(tmp_path, embedder, dev=True) as url, httpx.Client(base_url=url, timeout=60) as c:
        assert c.post("/v1/spaces", json={"name": "au"}).status_code == 201
        assert c.post("/v1/spaces/au/learn", json={"text": "Ada is in Rome."}).status_code == 200
        first = c.post("/v1/spaces/au/ask", json={"question": "Where is Ada?"}).json()
        audit = tmp_path / "spaces" / "au" / "audit.jsonl"
        audit.unlink()
        audit.mkdir()  # the log can be neither written nor read now, as on a broken disk
        answered = c.post("/v1/spaces/au/ask", json={"question": "Who is in Rome?"})
        assert answered.status_code == 200 and answered.json()["audit_id"] == ""
        assert "audit_error" in answered.json()["plan"] and str(tmp_path) not in answered.text
        lookup = c.get(f"/v1/spaces/au/audit/{first['audit_id']}")
        assert lookup.status_code == 503 and lookup.json()["error"]["code"] == "storage_unavailable"
        assert str(tmp_path) not in lookup.text
        # a question refused is a 400 before any stream starts, as from /ask
        assert c.post("/v1/spaces/au/ask/stream", json={"question": "\u200b"}).status_code == 400


def test_cors_only_for_configured_origins(tmp_path: Path, embedder: Embedder) -> None:
    with (
        start(tmp_path, embedder, dev=True, cors_origins=("https://app.example",)) as url,
        httpx.Client(base_url=url) as c,
    ):
        preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
        allowed = c.options("/v1/spaces", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = c.get("/v1/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cli_creates_the_first_admin_and_refuses_bad_serve_options(tmp_path: Path) -> None:
    runner = CliRunner()
    data = str(tmp_path / "srv")
    no_terminal = runner.invoke(cli_app, ["user", "create-admin", "root", "--data", data], input="")
    assert no_terminal.exit_code == 2 and "--password-stdin" in no_terminal.stderr
    made = runner.invoke(
        cli_app, ["user", "create-admin", "root", "--password-stdin", "--data", data], input=PASSWORD + "\n"
    )
    assert made.exit_code == 0, made.stderr
    short = runner.invoke(
        cli_app, ["user", "create", "kid", "--password-stdin", "--data", data], input="short\n"
    )
    assert short.exit_code == 2 and "at least 8" in short.stderr
    assert (
        runner.invoke(cli_app, ["space", "create", "lab", "--admin", "root", "--data", data]).exit_code == 0
    )
    key = runner.invoke(cli_app, ["user", "key", "root", "--data", data]).stdout.strip()
    accounts = Accounts(Path(data) / "accounts.db")
    user, _ = accounts.user_by_key(key) or (None, None)
    assert user is not None and user.is_admin and accounts.role("lab", user.id) == "admin"
    accounts.close()
    refused = runner.invoke(cli_app, ["serve", "--dev", "--host", "0.0.0.0", "--data", data])
    assert refused.exit_code == 2 and "loopback" in refused.stderr
