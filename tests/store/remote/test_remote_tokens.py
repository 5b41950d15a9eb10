"""Tokens: signed, expiring, role-bearing; every way a token can be wrong is refused with the reason."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from sutra.errors import AuthError, ConfigError, ForbiddenError, InputError
from sutra.store.remote import tokens

SECRET = b"s" * 40
NOW = 1_800_000_000.0


def test_a_token_carries_its_role_and_lifetime() -> None:
    token = tokens.issue(SECRET, "writer", 60, subject="ingest-job", now=NOW)
    claims = tokens.verify(token, SECRET, now=NOW + 59)
    assert claims == tokens.Claims("writer", NOW, NOW + 60, "ingest-job")


def test_an_expired_token_is_refused_saying_when_it_expired() -> None:
    token = tokens.issue(SECRET, "admin", 60, now=NOW)
    with pytest.raises(AuthError, match="expired at 2027-01-15T08:01:00"):
        tokens.verify(token, SECRET, now=NOW + 60)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = tokens.issue(b"t" * 40, "admin", 60, now=NOW)
    with pytest.raises(AuthError, match="signature does not match"):
        tokens.verify(token, SECRET, now=NOW)


def test_a_token_whose_payload_was_altered_is_refused() -> None:
    prefix, payload, signature = tokens.issue(SECRET, "reader", 60, now=NOW).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthError, match="altered"):
        tokens.verify(f"{prefix}.{forged}.{signature}", SECRET, now=NOW)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "needs a token"),
        (None, "needs a token"),
        (12, "needs a token"),
        ("st1.abc", "malformed"),
        ("jwt.abc.def", "malformed"),
        ("st1.%%%.abc", "signature does not match"),
        ("st1.abc.%%%", "malformed"),
        ("st1.é.abc", "malformed"),
        ("st1." + "a" * 5000 + ".b", "malformed"),
    ],
)
def test_malformed_tokens_are_refused(token: object, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        tokens.verify(token, SECRET, now=NOW)


def test_roles_are_ordered_reader_writer_admin() -> None:
    reader = tokens.Claims("reader", NOW, NOW + 60)
    reader.require("reader", "get_concept", now=NOW)
    with pytest.raises(ForbiddenError, match="'apply' needs the writer role; this token grants only reader"):
        reader.require("writer", "apply", now=NOW)
    writer = tokens.Claims("writer", NOW, NOW + 60)
    writer.require("writer", "apply", now=NOW)
    with pytest.raises(ForbiddenError, match="admin"):
        writer.require("admin", "checkpoint", now=NOW)
    tokens.Claims("admin", NOW, NOW + 60).require("admin", "checkpoint", now=NOW)


def test_issuing_checks_its_inputs() -> None:
    with pytest.raises(InputError, match="role 'root'"):
        tokens.issue(SECRET, "root", 60)
    with pytest.raises(InputError, match="positive"):
        tokens.issue(SECRET, "reader", 0)
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        tokens.issue(b"short", "reader", 60)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("12h", 43200), ("1.5d", 129600)]
)
def test_lifetimes_read_with_units(text: str, seconds: float) -> None:
    assert tokens.parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5m", "5w", "h", "1e9"])
def test_bad_lifetimes_are_input_errors(text: str) -> None:
    with pytest.raises(InputError, match="lifetime"):
        tokens.parse_ttl(text)


def test_a_secret_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    tokens.write_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = tokens.read_secret(path)
    assert len(secret) >= tokens.MIN_SECRET_BYTES
    with pytest.raises(InputError, match="exists"):
        tokens.write_secret(path)
    assert tokens.read_secret(path) == secret


def test_a_short_or_missing_secret_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "short").write_text("tiny\n")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        tokens.read_secret(tmp_path / "short")
    with pytest.raises(ConfigError, match="cannot read"):
        tokens.read_secret(tmp_path / "missing")
