"""Remote storage: a storage server (asyncio, optional TLS and tokens) and `RemoteStore`, its client.

protocol.py  frames, requests, responses, limits, errors on the wire
ops.py       the operations a server answers, with the role each needs
server.py    `StorageServer` (asyncio) and `ServerThread` (one on a background loop)
client.py    `RemoteStore`, the `Store` interface over one pipelined connection
tokens.py    HMAC-signed, expiring tokens with roles reader / writer / admin
tls.py       TLS contexts, and a self-signed CA + server certificate for trying it
"""

from __future__ import annotations

from sutra.store.remote.client import RemoteStore
from sutra.store.remote.protocol import PROTOCOL_VERSION, Limits
from sutra.store.remote.server import ServerThread, StorageServer

__all__ = ["PROTOCOL_VERSION", "Limits", "RemoteStore", "ServerThread", "StorageServer"]
