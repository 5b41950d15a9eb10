"""Signed, expiring login tokens: `st.<payload>.<signature>`, HMAC-SHA256 over the payload.

The secret is 32 random bytes in the server's data directory, created with mode 0600 on first start;
restarting keeps tokens valid, deleting the file revokes them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

import orjson

PREFIX = "st."


def load_secret(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes()
        if len(secret) < 32:
            raise ValueError(f"{path} holds a too-short secret; delete it to make a new one") from None
        return secret
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
        fh.flush()
        os.fsync(fh.fileno())
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: bytes, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl = ttl_seconds

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("utf-8", "replace"), hashlib.sha256).digest())

    def issue(self, user_id: int) -> tuple[str, float]:
        expires = time.time() + self.ttl
        payload = _b64(orjson.dumps({"u": user_id, "exp": expires, "n": secrets.token_hex(8)}))
        return f"{PREFIX}{payload}.{self._sign(payload)}", expires

    def verify(self, token: str) -> int | None:
        """The user id of a valid, unexpired token; None for anything else."""
        # tokens are ASCII; compare_digest refuses non-ASCII strings with a TypeError
        if not token.isascii() or not token.startswith(PREFIX) or token.count(".") != 2:
            return None
        payload, signature = token[len(PREFIX) :].split(".")
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            claims = orjson.loads(_unb64(payload))
            user_id, expires = int(claims["u"]), float(claims["exp"])
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            return None
        return user_id if expires > time.time() else None
