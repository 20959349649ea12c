"""Property-based: schemathesis generates requests from our own OpenAPI document, valid and
invalid (negative cases include requests without the token), and every response must be one
the document promises, on both databases.

Schemathesis and Hypothesis are synchronous while the app, its engine and the `client` live on
the test's event loop. So the Hypothesis run happens in a worker thread, and each request is
handed back to that loop with `run_coroutine_threadsafe`: the app never leaves its loop.
"""

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode, checks

from app.main import create_app
from tests.support.helpers import ALICE, BOB, auth, make_settings, make_task, stored_task

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("hypothesis_home")]

MAX_EXAMPLES = 50  # per operation and database
# Seeded rows, so GET/PUT/DELETE by id sometimes reach a real task, and another user's.
ALICE_TASK = uuid.UUID("00000000-0000-4000-8000-00000000a11c")
BOB_TASK = uuid.UUID("00000000-0000-4000-8000-000000000b0b")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# The event streams never end, and the in-process client waits for the end of a response:
# tests/sync/test_events.py and tests/lists cover them against real servers.
NOT_FUZZED = {"GET /api/tasks/events", "GET /api/events"}
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, methods in create_app(make_settings()).openapi()["paths"].items()
    for method in methods
    if f"{method.upper()} {path}" not in NOT_FUZZED
]
BASE_URL = "http://testserver"

T = TypeVar("T")
Operation = APIOperation[Any, Any, Any, Any]
AnyCase = Case[Operation]


async def ensure_seeded(app: FastAPI) -> None:
    """Before every example: the previous one may have deleted a seeded task."""
    for task_id, owner in ((ALICE_TASK, ALICE), (BOB_TASK, BOB)):
        if await stored_task(app, task_id) is None:
            await make_task(app, owner, id=task_id, title=f"seeded for {owner}")


def cases(operation: Operation) -> st.SearchStrategy[AnyCase]:
    """Valid and invalid requests, plus valid ones aimed at the seeded tasks."""
    strategies = [
        operation.as_strategy(generation_mode=mode)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    if "task_id" in operation.path_parameters:
        strategies += [
            operation.as_strategy(path_parameters={"task_id": str(task_id)})
            for task_id in (ALICE_TASK, BOB_TASK)
        ]
    return st.one_of(strategies)


def as_httpx_request(client: httpx.AsyncClient, case: AnyCase) -> httpx.Request:
    """Schemathesis' own serialisation of the case (for `requests`), as an httpx request."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=auth(ALICE))
    assert not kwargs.pop("cookies"), "the API documents no cookies"
    if "data" in kwargs:
        kwargs["content"] = kwargs.pop("data")
    # Header values beyond ASCII (obs-text, e.g. in If-Match) go as the bytes HTTP carries;
    # httpx would refuse them as str.
    kwargs["headers"] = {
        name: value.encode("latin-1", "replace") if isinstance(value, str) else value
        for name, value in kwargs["headers"].items()
    }
    return client.build_request(**kwargs)


@pytest.mark.parametrize("label", OPERATIONS)
async def test_responses_match_the_openapi_document(
    app: FastAPI, client: httpx.AsyncClient, label: str
) -> None:
    operation = schemathesis.openapi.from_dict(app.openapi()).find_operation_by_label(label)
    assert operation is not None
    loop = asyncio.get_running_loop()

    def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        # No shrinking: it would replay requests against rows that earlier examples changed,
        # and the first failure already comes with a curl command and a seed to reproduce it.
        phases=[Phase.generate],
    )
    @given(case=cases(operation))
    def check(case: AnyCase) -> None:
        on_loop(ensure_seeded(app))
        request = as_httpx_request(client, case)
        response = on_loop(client.send(request))
        case.validate_response(response, checks=CHECKS, headers=dict(request.headers))

    await asyncio.to_thread(check)
