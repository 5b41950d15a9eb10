"""Schemathesis against the live server's own OpenAPI schema: no 5xx, every response as documented.

Every operation is fuzzed with valid (positive) and invalid (negative) requests, as the server admin (an
admin of the populated "ops" space); operations under a space run once in "ops", so the fuzzing reaches
the engine, and once with generated space names.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.server.conftest import Live

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = 10


@pytest.mark.slow
def test_api_matches_its_schema(live: Live) -> None:
    schema = schemathesis.openapi.from_url(live.url + "/v1/openapi.json")
    headers = {"Authorization": f"Bearer {live.keys['admin']}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        in_space = any(p.name == "space" for p in operation.path_parameters)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for fixed in ({"space": "ops"}, None) if in_space else (None,):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

                @given(case=strategy)
                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                )
                def run(case: schemathesis.Case) -> None:
                    case.call_and_validate(base_url=live.url, headers=headers, checks=CHECKS)

                try:
                    run()
                except Unsatisfiable:  # nothing to make invalid (no parameters, no body): nothing to test
                    assert mode is GenerationMode.NEGATIVE
                except Exception as exc:  # collect every operation's failure, not just the first
                    report = str(exc)  # generated URLs can be huge: keep the report readable
                    failures.append(f"{operation.label} ({mode.value}, space={fixed}): {report[:3000]}")
    assert not failures, "\n\n".join(failures)
