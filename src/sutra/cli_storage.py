"""`sutra storage ...`: run a storage server over one data directory, and make what secure mode needs
(a token secret, tokens, a self-signed TLS set). Engines then use it with `SUTRA_STORAGE_URL`,
`SUTRA_STORAGE_TOKEN` and `SUTRA_STORAGE_CA`."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sutra.cli_common import DataOption, _data_dir, _handled, out
from sutra.config import Settings
from sutra.errors import InputError
from sutra.readers import shown

if TYPE_CHECKING:  # the server is imported only when a storage command runs
    from sutra.store.remote import StorageServer

storage_app = typer.Typer(
    name="storage",
    help="Serve a data directory to engines over the network (sutra:// or sutras://), with tokens and TLS.",
    no_args_is_help=True,
)

SecretOption = Annotated[
    Path | None,
    typer.Option(
        "--token-secret-file", help="File holding the token secret (make one: sutra storage secret)."
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(storage_app, name="storage")


@storage_app.command()
def serve(
    data: DataOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one and prints it).")] = 7878,
    cert: Annotated[
        Path | None, typer.Option(help="TLS certificate (PEM); with --key, clients use sutras://.")
    ] = None,
    key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    token_secret_file: SecretOption = None,
) -> None:
    """Serve the space in --data until Ctrl-C or SIGTERM. Without --token-secret-file every client is an
    admin, so that is allowed on a loopback address only."""
    from sutra.store import open_store
    from sutra.store.remote import StorageServer, tls, tokens

    with _handled():
        if (cert is None) != (key is None):
            raise InputError("--cert and --key go together: give both for TLS, or neither")
        if not 0 <= port <= 65535:
            raise InputError(f"--port must be between 0 and 65535, got {port}")
        if token_secret_file is None and not _loopback(host):
            raise InputError(
                f"serving on {host} without --token-secret-file would let anyone who can reach it read and "
                "change the space; make a secret with `sutra storage secret FILE` and pass it"
            )
        secret = None if token_secret_file is None else tokens.read_secret(token_secret_file)
        context = None if cert is None or key is None else tls.server_context(cert, key)
        directory = _data_dir(data)
        # the space as it is on disk (one store or shards); never itself remote, whatever the environment says
        with open_store(directory, Settings().with_(storage_url="")) as store:
            server = StorageServer(store, host=host, port=port, ssl_context=context, token_secret=secret)
            asyncio.run(_run_until_signal(server, directory))
    out.print("storage server stopped")


async def _run_until_signal(server: StorageServer, directory: Path) -> None:
    await server.start()
    auth = "tokens" if server.requires_tokens else "no tokens: every client is admin"
    out.print(f"serving {escape(shown(directory))} at {server.url} ({auth})")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


@storage_app.command()
def token(
    token_secret_file: SecretOption = None,
    role: Annotated[
        str, typer.Option(help="reader (reads), writer (+ apply and delete), admin (+ checkpoint, check).")
    ] = "reader",
    ttl: Annotated[str, typer.Option(help="Lifetime: seconds, or 15m, 12h, 30d.")] = "12h",
    subject: Annotated[
        str, typer.Option(help="Who the token is for (kept in the token, for your records).")
    ] = "",
) -> None:
    """Print a signed token for a storage server that uses this secret."""
    from sutra.store.remote import tokens

    with _handled():
        if token_secret_file is None:
            raise InputError("--token-secret-file is required: the token is signed with the server's secret")
        issued = tokens.issue(
            tokens.read_secret(token_secret_file), role, tokens.parse_ttl(ttl), subject=subject
        )
    out.print(issued)


@storage_app.command()
def secret(path: Annotated[Path, typer.Argument(help="New file to write the secret to (mode 600).")]) -> None:
    """Write a new random token secret. A server given a new secret refuses every older token."""
    from sutra.store.remote import tokens

    with _handled():
        tokens.write_secret(path)
    out.print(f"wrote a token secret to {escape(shown(path))}")


@storage_app.command()
def certs(
    out_dir: Annotated[Path, typer.Argument(help="Folder for ca.pem, server.pem and server.key.")],
    host: Annotated[
        list[str] | None, typer.Option("--host", help="Name or IP the server is reached by (repeatable).")
    ] = None,
    days: Annotated[int, typer.Option(help="Validity in days.")] = 365,
) -> None:
    """Make a private CA and a server certificate it signs, for trying TLS (use a real CA in production)."""
    from sutra.store.remote import tls

    with _handled():
        if days < 1:
            raise InputError(f"--days must be at least 1, got {days}")
        files = tls.write_self_signed(out_dir, tuple(host or ("localhost", "127.0.0.1")), days)
    out.print(f"CA for clients (SUTRA_STORAGE_CA): {escape(shown(files.ca))}")
    out.print(f"server: --cert {escape(shown(files.cert))} --key {escape(shown(files.key))}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
