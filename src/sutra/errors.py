"""Every error Sutra raises on purpose.

    SutraError
    ├── ConfigError            bad settings or data-directory parameters
    ├── InputError             bad user input (empty text, unreadable file, unknown format)
    │   └── LimitError         a request over a storage server limit (frame size, batch size, depth, k)
    ├── StorageError
    │   ├── StoreLockedError   another process holds the data directory
    │   ├── CorruptionError    a checksum or format check failed (WAL, snapshot, index)
    │   ├── IntegrityError     `Store.check()` found inconsistent state
    │   └── RemoteStoreError   the storage server is unreachable or the connection broke
    │       ├── ProtocolError  a malformed frame or an unsupported protocol version
    │       └── AuthError      a token that is missing, malformed, tampered with or expired
    │           └── ForbiddenError   the token's role does not allow the operation
    ├── ModelError             the embedding or language model is missing or broken
    └── NotFoundError          an id (concept, audit record, source) does not exist

Each message says what failed and what to do about it.
"""


class SutraError(Exception):
    """Base class: catch this to handle any Sutra failure."""


class ConfigError(SutraError):
    pass


class InputError(SutraError):
    pass


class StorageError(SutraError):
    pass


class StoreLockedError(StorageError):
    pass


class CorruptionError(StorageError):
    pass


class IntegrityError(StorageError):
    pass


class LimitError(InputError):
    pass


class RemoteStoreError(StorageError):
    pass


class ProtocolError(RemoteStoreError):
    pass


class AuthError(RemoteStoreError):
    pass


class ForbiddenError(AuthError):
    pass


class ModelError(SutraError):
    pass


class NotFoundError(SutraError):
    pass
