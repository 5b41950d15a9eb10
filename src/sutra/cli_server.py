"""Server commands: `sutra serve` runs the HTTP API; `sutra user …` and `sutra space …` manage accounts
in the server's data directory (the first admin is created here, never over HTTP)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sutra.cli_common import _handled, err, out
from sutra.config import Settings
from sutra.errors import InputError, NotFoundError

ServerDataOption = Annotated[
    Path | None,
    typer.Option("--data", help="Server data directory: accounts, token secret, one folder per space."),
]
users = typer.Typer(help="Users and API keys of a Sutra server.", no_args_is_help=True)
spaces = typer.Typer(help="Spaces of a Sutra server and their members.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(users, name="user")
    app.add_typer(spaces, name="space")


def _server_dir(data: Path | None) -> Path:
    return data if data is not None else Settings().data_dir.with_name("sutra-server")


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8000,
    data: ServerDataOption = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Threads running engine work.")] = 4,
    parse_worker: Annotated[
        bool, typer.Option(help="Parse questions in a child process (frees this one's GIL for reasoning).")
    ] = True,
    dev: Annotated[bool, typer.Option("--dev", help="No authentication; loopback only.")] = False,
    cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM).")] = None,
    key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    cors: Annotated[list[str] | None, typer.Option(help="Allowed CORS origin (repeatable).")] = None,
    max_body_mb: Annotated[float, typer.Option(min=0.01, help="Largest request body, in MiB.")] = 8.0,
    rate: Annotated[float, typer.Option(min=0, help="Requests per second per caller (0: no limit).")] = 50.0,
    burst: Annotated[int, typer.Option(min=1, help="Requests a caller may make at once.")] = 100,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the HTTP API (REST, server-sent events, OpenAI-compatible chat); see docs/server.md."""
    with _handled():
        from sutra.server import ServerConfig, create_app
        from sutra.server.run import serve as run_server
        from sutra.server.run import uvicorn_config

        config = ServerConfig(
            data_dir=_server_dir(data),
            dev=dev,
            host=host,
            workers=workers,
            parse_worker=parse_worker,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
            rate_per_second=rate,
            rate_burst=burst,
            cors_origins=tuple(cors or ()),
            tls=cert is not None,
        )
        app = create_app(config)
        if not dev and not app.state.sutra.accounts.has_admin():
            err.print(
                f"note: no admin yet; create one with `sutra user create-admin NAME --data {config.data_dir}`"
            )
        settings = uvicorn_config(app, host, port, cert=cert, key=key, log_level=log_level)
    run_server(settings)


def _accounts(data: Path | None):  # type: ignore[no-untyped-def]
    from sutra.server.accounts import Accounts
    from sutra.server.config import ServerConfig

    return Accounts(ServerConfig(data_dir=_server_dir(data)).accounts_path)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask the password on; give it on stdin with --password-stdin")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")]


@users.command("create-admin")
def create_admin(name: str, password_stdin: PasswordStdin = False, data: ServerDataOption = None) -> None:
    """Create a server admin (may create users and spaces)."""
    with _handled():
        accounts = _accounts(data)
        accounts.create_user(name, _password(password_stdin), is_admin=True)
        out.print(f"created admin {escape(name)}")


@users.command("create")
def create_user(name: str, password_stdin: PasswordStdin = False, data: ServerDataOption = None) -> None:
    """Create a user (no roles until a space admin grants one)."""
    with _handled():
        _accounts(data).create_user(name, _password(password_stdin))
        out.print(f"created user {escape(name)}")


@users.command("key")
def create_key(
    name: str,
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    data: ServerDataOption = None,
) -> None:
    """Create an API key acting as a user; printed once, only its hash is stored."""
    with _handled():
        accounts = _accounts(data)
        user = accounts.user_by_name(name)
        if user is None:
            raise NotFoundError(f"no user {name!r}; create it with `sutra user create`")
        out.print(accounts.create_key(user, label))


@users.command("list")
def list_users(data: ServerDataOption = None) -> None:
    """List users and their spaces."""
    with _handled():
        accounts = _accounts(data)
        for user in accounts.users():
            roles = ", ".join(f"{s}:{r}" for s, r in accounts.memberships(user.id))
            mark = " (admin)" if user.is_admin else ""
            out.print(f"{escape(user.name)}{mark}  {escape(roles)}")


@spaces.command("create")
def create_space(
    name: str,
    admin: Annotated[str, typer.Option(help="The space's first admin (a user).")],
    data: ServerDataOption = None,
) -> None:
    """Create a space with its first admin (run while the server is stopped, or use POST /v1/spaces)."""
    with _handled():
        accounts = _accounts(data)
        user = accounts.user_by_name(admin)
        if user is None:
            raise InputError(f"no user {admin!r}; create it first with `sutra user create`")
        accounts.create_space(name)
        accounts.set_role(name, user, "admin")
        out.print(f"created space {escape(name)} with admin {escape(admin)}")
