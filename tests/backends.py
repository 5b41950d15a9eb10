"""Storage backends the engine tests can run over, chosen with SUTRA_TEST_BACKEND (default "local").

Each backend turns a fresh space directory into the Settings changes that make `Sutra` use that backend;
anything it starts (a storage server, say) is registered on the ExitStack and stopped after the test.
`make test-backends` runs the engine tests once per backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

Backend = Callable[[Path, ExitStack], dict[str, Any]]


def _local(directory: Path, stack: ExitStack) -> dict[str, Any]:
    return {}


BACKENDS: dict[str, Backend] = {"local": _local}


def chosen() -> str:
    name = os.environ.get("SUTRA_TEST_BACKEND", "local")
    if name not in BACKENDS:
        raise RuntimeError(f"SUTRA_TEST_BACKEND={name!r} is not one of {', '.join(sorted(BACKENDS))}")
    return name
