"""Users, API keys, spaces and memberships in one SQLite file (`accounts.db` in the server's data dir).

Passwords are stored as argon2id hashes; API keys (high-entropy random strings) as SHA-256 digests, so
the file never holds anything a caller could present. Roles are per space: reader < writer < admin. The
`is_admin` flag of a user (a server admin) lets them create users and spaces, not read a space's data.

Every write is its own transaction with `synchronous=FULL`, so an acknowledged change survives a crash.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sutra.errors import InputError, NotFoundError

Role = Literal["reader", "writer", "admin"]
ROLES: tuple[Role, ...] = ("reader", "writer", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
KEY_PREFIX = "sk-sutra-"
NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")  # with fullmatch: `$` lets a final newline through
MIN_PASSWORD = 8
KEY_ID_CHARS = 12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, password TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    digest TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS spaces (name TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    space TEXT NOT NULL REFERENCES spaces(name) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL, PRIMARY KEY (space, user_id));
"""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    is_admin: bool


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InputError(
            f"{what} {name!r} is not valid: use 1-63 lowercase letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _owner_only(path: Path) -> None:
    """Password and key digests are for the server's user alone: the database is created readable by its
    owner only (SQLite gives its -wal and -shm files the same mode), and one found wider is narrowed."""
    os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


class Accounts:
    """Thread-safe: one connection, one lock; each call is short (argon2 work happens outside the lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _owner_only(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._hasher = PasswordHasher()
        # verifying against this when the user does not exist keeps login time the same either way
        self._decoy = self._hasher.hash(secrets.token_hex(16))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple[object, ...]) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, args)
            except sqlite3.IntegrityError as exc:
                raise InputError(f"refused: {exc}") from exc

    def _one(self, sql: str, args: tuple[object, ...]) -> tuple[object, ...] | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ---- users ----

    def create_user(self, name: str, password: str, *, is_admin: bool = False) -> User:
        check_name(name, "user name")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise InputError(f"the password must have at least {MIN_PASSWORD} characters")
        if self.user_by_name(name) is not None:
            raise InputError(f"user {name!r} already exists; pick another name")
        hashed = self._hasher.hash(password)
        cur = self._write(
            "INSERT INTO users (name, password, is_admin, created) VALUES (?, ?, ?, ?)",
            (name, hashed, int(is_admin), time.time()),
        )
        return User(int(cur.lastrowid or 0), name, is_admin)

    def user_by_name(self, name: str) -> User | None:
        row = self._one("SELECT id, name, is_admin FROM users WHERE name = ?", (name,))
        return User(int(row[0]), str(row[1]), bool(row[2])) if row else None  # type: ignore[call-overload]

    def user_by_id(self, user_id: int) -> User | None:
        row = self._one("SELECT id, name, is_admin FROM users WHERE id = ?", (user_id,))
        return User(int(row[0]), str(row[1]), bool(row[2])) if row else None  # type: ignore[call-overload]

    def users(self) -> list[User]:
        rows = self._all("SELECT id, name, is_admin FROM users ORDER BY name")
        return [User(int(r[0]), str(r[1]), bool(r[2])) for r in rows]  # type: ignore[call-overload]

    def has_admin(self) -> bool:
        return self._one("SELECT 1 FROM users WHERE is_admin = 1", ()) is not None

    def verify_password(self, name: str, password: str) -> User | None:
        """The user when `password` is theirs; None otherwise (slow on purpose: argon2)."""
        row = self._one("SELECT id, password FROM users WHERE name = ?", (name,))
        stored = str(row[1]) if row else self._decoy
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return self.user_by_id(int(row[0])) if row else None  # type: ignore[call-overload]

    # ---- API keys ----

    def create_key(self, user: User, label: str = "") -> str:
        """A new key for `user`, shown once: only its digest is stored."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self._write(
            "INSERT INTO api_keys (digest, user_id, label, created) VALUES (?, ?, ?, ?)",
            (key_digest(key), user.id, label[:100], time.time()),
        )
        return key

    def keys(self, user: User) -> list[tuple[str, str, float]]:
        """(key id, label, created) of the user's keys; the id is the start of the key's digest."""
        rows = self._all(
            "SELECT digest, label, created FROM api_keys WHERE user_id = ? ORDER BY created", (user.id,)
        )
        return [(str(r[0])[:KEY_ID_CHARS], str(r[1]), float(r[2])) for r in rows]  # type: ignore[arg-type]

    def revoke_key(self, user: User, key_id: str) -> bool:
        """Delete one of the user's own keys by id; False when they have no such key."""
        if len(key_id) != KEY_ID_CHARS or not all(c in "0123456789abcdef" for c in key_id):
            return False
        cur = self._write(
            "DELETE FROM api_keys WHERE user_id = ? AND substr(digest, 1, ?) = ?",
            (user.id, KEY_ID_CHARS, key_id),
        )
        return cur.rowcount > 0

    def user_by_key(self, key: str) -> tuple[User, str] | None:
        """(user, key digest) for a presented key."""
        digest = key_digest(key)
        row = self._one("SELECT user_id FROM api_keys WHERE digest = ?", (digest,))
        user = self.user_by_id(int(row[0])) if row else None  # type: ignore[call-overload]
        return (user, digest) if user else None

    # ---- spaces and members ----

    def create_space(self, name: str) -> None:
        check_name(name, "space name")
        if self.space_exists(name):
            raise InputError(f"space {name!r} already exists")
        self._write("INSERT INTO spaces (name, created) VALUES (?, ?)", (name, time.time()))

    def space_exists(self, name: str) -> bool:
        return self._one("SELECT 1 FROM spaces WHERE name = ?", (name,)) is not None

    def spaces(self) -> list[str]:
        return [str(r[0]) for r in self._all("SELECT name FROM spaces ORDER BY name")]

    def set_role(self, space: str, user: User, role: str) -> None:
        check_role(role)
        if not self.space_exists(space):
            raise NotFoundError(f"no space {space!r}")
        self._write(
            "INSERT INTO members (space, user_id, role) VALUES (?, ?, ?) "
            "ON CONFLICT (space, user_id) DO UPDATE SET role = excluded.role",
            (space, user.id, role),
        )

    def remove_member(self, space: str, user: User) -> bool:
        cur = self._write("DELETE FROM members WHERE space = ? AND user_id = ?", (space, user.id))
        return cur.rowcount > 0

    def role(self, space: str, user_id: int) -> Role | None:
        row = self._one("SELECT role FROM members WHERE space = ? AND user_id = ?", (space, user_id))
        return row[0] if row else None  # type: ignore[return-value]

    def members(self, space: str) -> list[tuple[str, Role]]:
        rows = self._all(
            "SELECT u.name, m.role FROM members m JOIN users u ON u.id = m.user_id "
            "WHERE m.space = ? ORDER BY u.name",
            (space,),
        )
        return [(str(r[0]), r[1]) for r in rows]  # type: ignore[misc]

    def memberships(self, user_id: int) -> list[tuple[str, Role]]:
        rows = self._all("SELECT space, role FROM members WHERE user_id = ? ORDER BY space", (user_id,))
        return [(str(r[0]), r[1]) for r in rows]  # type: ignore[misc]
