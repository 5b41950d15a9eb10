"""`sutra storage`: secrets, tokens and certificates from the command line, and a real `serve` process
that an engine-side client reaches with them, then stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.store.builders import entity
from typer.testing import CliRunner

from sutra.cli import app
from sutra.model import PutConcept
from sutra.store import LocalStore
from sutra.store.remote import RemoteStore, tokens

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["storage", *args])
    return result.exit_code, result.output


def test_secret_token_and_certs(tmp_path: Path) -> None:
    code, output = invoke("secret", str(tmp_path / "secret"))
    assert code == 0 and "wrote a token secret" in output
    code, output = invoke("secret", str(tmp_path / "secret"))
    assert code == 2 and "exists" in output
    code, output = invoke(
        "token", "--token-secret-file", str(tmp_path / "secret"), "--role", "writer", "--ttl", "15m"
    )
    assert code == 0
    claims = tokens.verify(output.strip(), tokens.read_secret(tmp_path / "secret"))
    assert claims.role == "writer" and 899 <= claims.expires_at - claims.issued_at <= 900
    code, output = invoke("certs", str(tmp_path / "tls"), "--host", "db.internal", "--host", "10.0.0.5")
    assert code == 0 and "ca.pem" in output and "server.key" in output
    assert sorted(p.name for p in (tmp_path / "tls").iterdir()) == ["ca.pem", "server.key", "server.pem"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "--role", "reader"), "--token-secret-file is required"),
        (("token", "--token-secret-file", "SECRET", "--role", "root"), "role 'root'"),
        (("token", "--token-secret-file", "SECRET", "--ttl", "soon"), "lifetime"),
        (("token", "--token-secret-file", "missing-file"), "cannot read the token secret file"),
        (("serve", "--host", "0.0.0.0"), "without --token-secret-file"),
        (("serve", "--cert", "c.pem"), "--cert and --key go together"),
        (("certs", "OUT", "--days", "0"), "--days must be at least 1"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    (tmp_path / "secret").write_text(tokens.new_secret())
    args = tuple(
        a.replace("SECRET", str(tmp_path / "secret")).replace("OUT", str(tmp_path / "o")) for a in args
    )
    code, output = invoke(*args, *(() if args[0] != "serve" else ("--data", str(tmp_path / "db"))))
    assert code in (1, 2) and message in output and "Traceback" not in output


def test_serve_runs_until_sigterm_with_tls_and_tokens(tmp_path: Path) -> None:
    assert invoke("secret", str(tmp_path / "secret"))[0] == 0
    assert invoke("certs", str(tmp_path / "tls"))[0] == 0
    tls_dir = tmp_path / "tls"
    command = [
        sys.executable, "-m", "sutra.cli", "storage", "serve", "--data", str(tmp_path / "db"), "--port", "0",
        "--cert", str(tls_dir / "server.pem"), "--key", str(tls_dir / "server.key"),
        "--token-secret-file", str(tmp_path / "secret"),
    ]  # fmt: skip
    env = {**os.environ, "SUTRA_FSYNC": "off"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"at (sutras://127\.0\.0\.1:\d+) \(tokens\)", line)
            assert match, line + (proc.stderr.read() if proc.stderr else "")
            writer = tokens.issue(tokens.read_secret(tmp_path / "secret"), "writer", 60)
            with RemoteStore(match.group(1), token=writer, ca=tls_dir / "ca.pem") as store:
                store.apply([PutConcept(entity("Ann", "s1"))])
                assert store.find_entities("ann") == [entity("Ann").id]
        finally:
            proc.send_signal(signal.SIGTERM)
            remaining, errors = proc.communicate(timeout=60)
        assert proc.returncode == 0, errors
        assert "storage server stopped" in remaining
    with LocalStore(tmp_path / "db") as store:  # the server released the directory; the write is there
        assert [c.text for c in store.concepts()] == ["Ann"]


def test_every_cli_command_runs_over_a_storage_server(tmp_path: Path, monkeypatch) -> None:
    """The engine's CLI with SUTRA_STORAGE_URL: its --data folder holds only the audit log, so reading
    commands must not refuse it as "no Sutra space" (they did, though learn had written to the server)."""
    from contextlib import ExitStack

    from tests.backends import BACKENDS

    with ExitStack() as stack:
        changes = BACKENDS["remote"](tmp_path / "served", stack)
        monkeypatch.setenv("SUTRA_STORAGE_URL", changes["storage_url"])
        monkeypatch.setenv("SUTRA_STORAGE_TOKEN", changes["storage_token"])
        monkeypatch.setenv("SUTRA_FSYNC", "off")
        local = str(tmp_path / "engine")

        def cli(*args: str) -> str:
            result = CliRunner().invoke(app, [*args, "--data", local])
            assert result.exit_code == 0, result.output
            return result.output

        cli("learn", "Priya Nair owns the ledger database.", "--source", "team-page")
        assert "Priya Nair" in cli("ask", "Who owns the ledger database?")
        assert "concepts" in cli("stats")
        cli("export", str(tmp_path / "dump.jsonl"))
        assert "team-page" in (tmp_path / "dump.jsonl").read_text(encoding="utf-8")
        cli("forget", "team-page")
        assert "I don't know" in cli("ask", "Who owns the ledger database?")
