"""Every error Sutra raises on purpose.

    SutraError
    ├── ConfigError            bad settings or data-directory parameters
    ├── InputError             bad user input (empty text, unreadable file, unknown format)
    ├── StorageError
    │   ├── StoreLockedError   another process holds the data directory
    │   ├── CorruptionError    a checksum or format check failed (WAL, snapshot, index)
    │   └── IntegrityError     `Store.check()` found inconsistent state
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


class ModelError(SutraError):
    pass


class NotFoundError(SutraError):
    pass
