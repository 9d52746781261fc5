"""A bounded schemathesis run against a real `faqbot serve` (2 workers), SQLite and PostgreSQL.

Every operation of /openapi.json gets a fixed number of generated requests, valid ones and
ones that break the schema, from a fixed seed (Hypothesis' derandomize: the same requests
every run, and no example database written). Any 5xx, or a response that does not match the
schema, fails the test with the request to reproduce it (issue 14: 19,254 generated requests
found 500s in four kinds of input).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import drop_schema, fresh_schema
from tests.support.servers import two_worker_server

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

pytestmark = pytest.mark.slow

# Per operation and per mode (valid, invalid): about 60 operations x 2 x 10 requests.
EXAMPLES = 10
KEYS = {"/api/agent": "dev-agent-key", "/api/lead": "dev-lead-key", "/api/me": "dev-agent-key"}
# Streams end after a second: the fuzzer must not wait out a generated `timeout`.
STREAMS = {"/api/conversations/{session_id}/events", "/api/agent/events"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    env = {"FAQBOT_ENVIRONMENT": "development",  # the shared dev keys sign in
           "FAQBOT_RATE_LIMIT_PER_MINUTE": "1000000"}  # a 429 everywhere would test nothing
    schema = f"faqbot_fuzz_{os.getpid()}"
    if request.param == "postgresql":
        env["FAQBOT_DATABASE_URL"] = fresh_schema(schema)
    try:
        with two_worker_server(tmp_path, **env) as port:
            yield f"http://127.0.0.1:{port}"
    finally:
        if request.param == "postgresql":
            drop_schema(schema)


def headers_for(path: str) -> dict[str, str]:
    for prefix, key in KEYS.items():
        if path.startswith(prefix):
            return {"Authorization": f"Bearer {key}"}
    return {}


def test_generated_requests_get_no_5xx_and_match_the_schema(server: str) -> None:
    schema = schemathesis.openapi.from_url(server + "/openapi.json")
    sent = [0]
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        query = {"timeout": 1} if operation.path in STREAMS else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(
                max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                suppress_health_check=list(hypothesis.HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode, query=query))
            def run(case: Any) -> None:
                sent[0] += 1
                headers = headers_for(case.operation.path)
                response = case.call(base_url=server, headers=headers, timeout=30)
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance],
                    headers=headers)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # Nothing to break (no parameters, no body): the valid requests were sent.
                assert mode is GenerationMode.NEGATIVE, operation.label
    # Figures for the report (pytest -s): requests sent and the run's length.
    print(f"fuzz: {sent[0]} requests in {time.monotonic() - started:.1f} s")
