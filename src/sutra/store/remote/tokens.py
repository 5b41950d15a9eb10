"""Access tokens for the storage server: HMAC-SHA256-signed, expiring, carrying one role.

A token is ``st1.<payload>.<signature>``, both parts unpadded base64url; the payload is JSON
``{"role", "iat", "exp", "sub"}``. The server holds the secret, so it can check a token without storing any;
the price is that a token cannot be revoked before it expires except by changing the secret (which revokes
all of them), so keep lifetimes short. Roles are ordered: a reader may read, a writer may also apply
batches (deletions included), an admin may also checkpoint and check.

Rejected alternative: JSON Web Tokens via PyJWT would add a dependency and algorithm negotiation (the
source of JWT's best-known bugs) for a format only this server and its own CLI ever read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sutra.errors import AuthError, ConfigError, ForbiddenError, InputError

ROLES = ("reader", "writer", "admin")
PREFIX = "st1"
MIN_SECRET_BYTES = 32
MAX_TOKEN_CHARS = 4096
_TTL = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_TTL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Claims:
    role: str
    issued_at: float
    expires_at: float
    subject: str = ""

    def require(self, needed: str, op: str, now: float | None = None) -> None:
        """Raise unless this token, still unexpired, grants `needed` (checked on every request)."""
        if (time.time() if now is None else now) >= self.expires_at:
            raise AuthError(f"the token expired at {_when(self.expires_at)}; issue a new one and reconnect")
        if ROLES.index(self.role) < ROLES.index(needed):
            raise ForbiddenError(f"{op!r} needs the {needed} role; this token grants only {self.role}")


def issue(secret: bytes, role: str, ttl: float, *, subject: str = "", now: float | None = None) -> str:
    check_secret(secret)
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not ttl > 0:
        raise InputError(f"a token's lifetime must be positive, got {ttl} seconds")
    issued = time.time() if now is None else now
    payload = json.dumps(
        {"role": role, "iat": issued, "exp": issued + ttl, "sub": subject}, separators=(",", ":")
    )
    body = f"{PREFIX}.{_b64(payload.encode())}"
    return f"{body}.{_b64(_sign(secret, body))}"


def verify(token: object, secret: bytes, *, now: float | None = None) -> Claims:
    """The claims of a valid, unexpired token; `AuthError` saying why otherwise."""
    if not isinstance(token, str) or not token:
        raise AuthError("the storage server needs a token; set storage_token (SUTRA_STORAGE_TOKEN)")
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or not token.isascii() or len(parts) != 3 or parts[0] != PREFIX:
        raise AuthError("the token is malformed (not a Sutra storage token); see `sutra storage token`")
    body = f"{parts[0]}.{parts[1]}"
    try:
        signature = _unb64(parts[2])
    except (ValueError, binascii.Error):
        raise AuthError("the token is malformed (bad encoding); issue a new one") from None
    if not hmac.compare_digest(signature, _sign(secret, body)):
        raise AuthError("the token's signature does not match: it was altered or signed with another secret")
    try:  # parsed only once the signature says these are the issuer's bytes
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error):
        raise AuthError("the token's claims are malformed; issue a new one") from None
    try:
        claims = Claims(
            str(payload["role"]), float(payload["iat"]), float(payload["exp"]), str(payload.get("sub", ""))
        )
    except (KeyError, TypeError, ValueError):
        raise AuthError("the token's claims are malformed; issue a new one") from None
    if claims.role not in ROLES:
        raise AuthError(f"the token names an unknown role {claims.role!r}")
    claims.require("reader", "connect", now)  # expired tokens are refused at the door
    return claims


def parse_ttl(text: str) -> float:
    """'90', '90s', '15m', '12h', '30d' as seconds."""
    match = _TTL.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"token lifetime {text!r} is not a positive number of seconds or 15m / 12h / 30d")
    return float(match.group(1)) * _TTL_UNITS[match.group(2)]


# ---- the secret ----


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def write_secret(path: Path) -> None:
    """A fresh secret in a new file only its owner can read; an existing file is never overwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"{path} exists; remove it first (it revokes every token signed with it)") from None
    except OSError as exc:
        raise InputError(f"cannot create {path} ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(new_secret() + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_secret(path: Path) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the token secret file {path} ({exc.strerror})") from None
    check_secret(secret, path)
    return secret


def check_secret(secret: bytes, where: object = "the token secret") -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{where} must hold at least {MIN_SECRET_BYTES} bytes; make one with `sutra storage secret FILE`"
        )


def _sign(secret: bytes, body: str) -> bytes:
    return hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
