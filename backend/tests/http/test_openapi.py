"""The OpenAPI document: checked in, up to date, and saying what the API really does.
No database needed: the document comes from the routes alone."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from app.errors import ErrorCode
from app.main import create_app
from app.tasks.schemas import TaskCreate, TaskUpdate
from tests.support.helpers import make_settings, running_app

CHECKED_IN = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}

# Every operation, with each status code it can answer (500 for a bug, 414 for a URL over
# MAX_URL_BYTES, 415 wherever there is a body).
OPERATIONS = {
    ("get", "/api/tasks"): ("list_tasks", {"200", "400", "401", "429", "414", "500", "503"}),
    ("post", "/api/tasks"): (
        "create_task",
        {"201", "400", "401", "409", "413", "414", "415", "422", "429", "500", "503"},
    ),
    ("get", "/api/tasks/changes"): (
        "list_changes",
        {"200", "400", "401", "410", "429", "414", "500", "503"},
    ),
    ("get", "/api/tasks/events"): (
        "stream_events",
        {"200", "400", "401", "410", "429", "414", "500", "503"},
    ),
    ("get", "/api/tasks/{task_id}"): (
        "get_task",
        {"200", "304", "401", "403", "404", "429", "414", "500", "503"},
    ),
    ("put", "/api/tasks/{task_id}"): (
        "update_task",
        {"200", "400", "401", "403", "404", "409", "412", "413", "415", "429", "414", "500", "503"},
    ),
    ("delete", "/api/tasks/{task_id}"): (
        "delete_task",
        {"204", "400", "401", "403", "404", "412", "429", "414", "500", "503"},
    ),
    ("post", "/api/tasks/{task_id}/move"): (
        "move_task",
        {"200", "400", "401", "403", "404", "409", "412", "413", "415", "429", "414", "500", "503"},
    ),
    ("post", "/api/tasks/{task_id}/skip"): (
        "skip_occurrence",
        {"200", "400", "401", "403", "404", "412", "414", "422", "429", "500", "503"},
    ),
    ("get", "/api/tasks/{task_id}/completions"): (
        "list_completions",
        {"200", "400", "401", "403", "404", "414", "429", "500", "503"},
    ),
    ("get", "/api/tasks/{task_id}/occurrences"): (
        "list_occurrences",
        {"200", "400", "401", "403", "404", "414", "429", "500", "503"},
    ),
    ("post", "/api/tasks/batch"): (
        "run_batch",
        {
            "200",
            "400",
            "401",
            "403",
            "404",
            "409",
            "412",
            "413",
            "415",
            "422",
            "429",
            "414",
            "500",
            "503",
        },
    ),
    ("get", "/health"): ("health", {"200", "414", "500", "503"}),
    ("get", "/health/live"): ("liveness", {"200", "414", "500"}),
    ("get", "/health/ready"): ("readiness", {"200", "414", "500", "503"}),
    ("get", "/api/tags"): ("list_tags", {"200", "400", "401", "429", "414", "500", "503"}),
    ("get", "/api/lists"): ("list_lists", {"200", "400", "401", "429", "414", "500", "503"}),
    ("post", "/api/lists"): (
        "create_list",
        {"201", "400", "401", "409", "413", "414", "415", "422", "429", "500", "503"},
    ),
    ("get", "/api/lists/{list_id}"): (
        "get_list",
        {"200", "304", "401", "403", "404", "429", "414", "500", "503"},
    ),
    ("put", "/api/lists/{list_id}"): (
        "update_list",
        {"200", "400", "401", "403", "404", "412", "413", "415", "429", "414", "500", "503"},
    ),
    ("delete", "/api/lists/{list_id}"): (
        "delete_list",
        {"204", "400", "401", "403", "404", "409", "412", "429", "414", "500", "503"},
    ),
    ("post", "/api/lists/{list_id}/move"): (
        "move_list",
        {"200", "400", "401", "403", "404", "412", "413", "415", "422", "429", "414", "500", "503"},
    ),
    ("get", "/api/webhooks"): ("list_webhooks", {"200", "401", "414", "429", "500", "503"}),
    ("post", "/api/webhooks"): (
        "create_webhook",
        {"201", "400", "401", "409", "413", "414", "415", "429", "500", "503"},
    ),
    ("get", "/api/webhooks/{webhook_id}"): (
        "get_webhook",
        {"200", "401", "403", "404", "414", "429", "500", "503"},
    ),
    ("put", "/api/webhooks/{webhook_id}"): (
        "update_webhook",
        {"200", "400", "401", "403", "404", "413", "414", "415", "429", "500", "503"},
    ),
    ("delete", "/api/webhooks/{webhook_id}"): (
        "delete_webhook",
        {"204", "401", "403", "404", "414", "429", "500", "503"},
    ),
    ("post", "/api/webhooks/{webhook_id}/rotate-secret"): (
        "rotate_webhook_secret",
        {"200", "401", "403", "404", "414", "429", "500", "503"},
    ),
    ("post", "/api/webhooks/{webhook_id}/ping"): (
        "ping_webhook",
        {"202", "401", "403", "404", "414", "429", "500", "503"},
    ),
    ("get", "/api/webhooks/{webhook_id}/deliveries"): (
        "list_deliveries",
        {"200", "400", "401", "403", "404", "414", "429", "500", "503"},
    ),
    ("post", "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): (
        "retry_delivery",
        {"202", "401", "403", "404", "414", "429", "500", "503"},
    ),
    ("get", "/api/changes"): (
        "list_all_changes",
        {"200", "400", "401", "410", "429", "414", "500", "503"},
    ),
    ("get", "/api/events"): (
        "stream_all_events",
        {"200", "400", "401", "410", "429", "414", "500", "503"},
    ),
}
TASK_OPERATIONS = [key for key in OPERATIONS if key[1].startswith("/api/tasks")]
FAILING_OPERATIONS = [key for key, (_, codes) in OPERATIONS.items() if max(map(int, codes)) >= 400]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    openapi: dict[str, Any] = create_app(make_settings()).openapi()
    return openapi


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


def test_checked_in_document_matches_the_code(document: dict[str, Any]) -> None:
    checked_in = json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    assert checked_in == document, "docs/openapi.json is out of date: run scripts/openapi"


def test_checked_in_document_is_pretty_printed_with_a_final_newline(
    document: dict[str, Any],
) -> None:
    expected = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    assert CHECKED_IN.read_text(encoding="utf-8") == expected, "run scripts/openapi"


async def test_served_document_is_the_generated_one(
    document: dict[str, Any], tmp_path: Path
) -> None:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/db", auto_migrate=True)
    async with running_app(settings) as (_, client):
        served = await client.get("/openapi.json")
        docs = await client.get("/docs")
    assert served.status_code == 200
    assert served.json() == document
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text


def test_the_document_lists_exactly_these_operations(document: dict[str, Any]) -> None:
    listed = {(method, path) for path, methods in document["paths"].items() for method in methods}
    assert listed == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), list(OPERATIONS))
def test_operation_id_is_the_function_name(
    document: dict[str, Any], method: str, path: str
) -> None:
    assert operation(document, method, path)["operationId"] == OPERATIONS[method, path][0]


@pytest.mark.parametrize(("method", "path"), list(OPERATIONS))
def test_operation_lists_exactly_its_real_status_codes(
    document: dict[str, Any], method: str, path: str
) -> None:
    assert set(operation(document, method, path)["responses"]) == OPERATIONS[method, path][1]


@pytest.mark.parametrize(("method", "path"), FAILING_OPERATIONS)
def test_every_error_response_is_the_error_envelope(
    document: dict[str, Any], method: str, path: str
) -> None:
    responses = operation(document, method, path)["responses"]
    errors = {code: response for code, response in responses.items() if int(code) >= 400}
    assert "content" not in responses.get("304", {})
    assert errors
    for code, response in errors.items():
        content = response["content"]["application/json"]
        assert content["schema"] == ERROR_SCHEMA, code
        assert content["example"]["status_code"] == int(code)
        assert content["example"]["error_code"] in set(ErrorCode)


def test_only_a_reused_idempotency_key_documents_422(document: dict[str, Any]) -> None:
    """Validation errors are 400; the one 422 is the Idempotency-Key draft's."""
    with_422 = [
        (method, path)
        for path, methods in document["paths"].items()
        for method, described in methods.items()
        if "422" in described["responses"]
    ]
    # The POSTs that take an Idempotency-Key.
    assert sorted(with_422) == sorted(
        [
            ("post", "/api/tasks"),
            ("post", "/api/tasks/batch"),
            ("post", "/api/tasks/{task_id}/skip"),
            ("post", "/api/lists"),
            ("post", "/api/lists/{list_id}/move"),
        ]
    )
    example = operation(document, "post", "/api/tasks")["responses"]["422"]["content"]
    assert example["application/json"]["example"]["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_delete_answers_204_without_a_body(document: dict[str, Any]) -> None:
    no_content = operation(document, "delete", "/api/tasks/{task_id}")["responses"]["204"]
    assert "content" not in no_content


@pytest.mark.parametrize(("method", "path"), TASK_OPERATIONS)
def test_401_documents_the_www_authenticate_header(
    document: dict[str, Any], method: str, path: str
) -> None:
    headers = operation(document, method, path)["responses"]["401"]["headers"]
    assert headers["WWW-Authenticate"]["required"] is True


def test_bearer_security_scheme_is_declared(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["HTTPBearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


@pytest.mark.parametrize(("method", "path"), TASK_OPERATIONS)
def test_task_operations_require_the_bearer_token(
    document: dict[str, Any], method: str, path: str
) -> None:
    assert operation(document, method, path)["security"] == [{"HTTPBearer": []}]


def test_health_says_it_needs_no_token(document: dict[str, Any]) -> None:
    # Stated, not left out: linters (Redocly's security-defined) and readers need not guess.
    assert operation(document, "get", "/health")["security"] == []
    assert "security" not in document  # no global requirement either


def test_the_document_names_its_server_relative_to_where_it_is_served(
    document: dict[str, Any],
) -> None:
    assert [server["url"] for server in document["servers"]] == ["/"]


def test_create_body_leaves_every_field_but_title_optional_for_generators(
    document: dict[str, Any],
) -> None:
    # openapi-typescript (default options) makes a field with a non-null `default` required.
    schema = document["components"]["schemas"]["TaskCreate"]
    assert schema["required"] == ["title"]
    defaults = {
        name: field["default"]
        for name, field in schema["properties"].items()
        if field.get("default") is not None
    }
    assert defaults == {}
    assert "false when omitted" in schema["properties"]["is_completed"]["description"]
    assert "`none` when omitted" in schema["properties"]["priority"]["description"]


def test_error_code_is_an_enum_of_every_stable_code(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    error_code = schemas["ErrorResponse"]["properties"]["error_code"]
    assert error_code["$ref"] == "#/components/schemas/ErrorCode"
    assert schemas["ErrorCode"]["enum"] == [code.value for code in ErrorCode]
    assert schemas["ErrorResponse"]["required"] == ["detail", "error_code", "status_code"]


def test_error_code_description_explains_every_code(document: dict[str, Any]) -> None:
    error_response = document["components"]["schemas"]["ErrorResponse"]
    description = error_response["properties"]["error_code"]["description"]
    missing = [code.value for code in ErrorCode if f"`{code.value}`" not in description]
    assert missing == []


def test_description_says_how_authentication_works(document: dict[str, Any]) -> None:
    description = document["info"]["description"]
    for phrase in ("Authorization: Bearer", "BETTER_AUTH_SECRET", "`sub`", "401", "/health"):
        assert phrase in description


def test_the_event_stream_says_try_it_out_cannot_end(document: dict[str, Any]) -> None:
    description = operation(document, "get", "/api/tasks/events")["description"]

    assert "never ends" in description
    assert "Try it out" in description


def test_a_201_documents_its_location_header(document: dict[str, Any]) -> None:
    created = operation(document, "post", "/api/tasks")["responses"]["201"]

    assert set(created["headers"]) == {"ETag", "Location", "Idempotency-Replayed"}


def test_every_tag_used_is_declared_and_the_document_has_a_contact(
    document: dict[str, Any],
) -> None:
    used = {
        tag for path in document["paths"].values() for op in path.values() for tag in op["tags"]
    }

    assert used == {tag["name"] for tag in document["tags"]}
    assert all(tag["description"] for tag in document["tags"])
    assert document["info"]["contact"]["name"]


@pytest.mark.parametrize("schema_name", ["TaskCreate", "TaskUpdate"])
def test_a_body_schema_refuses_both_due_kinds_and_its_example_is_accepted(
    document: dict[str, Any], schema_name: str
) -> None:
    schema = document["components"]["schemas"][schema_name]
    both = {"due_date": "2026-12-01", "due_at": "2026-12-01T17:00:00Z"}

    forbidden = schema["not"]
    assert set(forbidden["required"]) == set(both)
    assert all(forbidden["properties"][name]["type"] == "string" for name in both)
    model: type[BaseModel] = TaskCreate if schema_name == "TaskCreate" else TaskUpdate
    for example in schema["examples"]:
        model.model_validate_json(json.dumps(example))


def test_enums_whose_values_are_not_names_carry_names_for_generators() -> None:
    """openapi-python-client and OpenAPI Generator name `-due` `VALUE_7` unless told."""

    def enums(node: object) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if "enum" in node:
                yield node
            for value in node.values():
                yield from enums(value)
        elif isinstance(node, list):
            for value in node:
                yield from enums(value)

    document = create_app(make_settings()).openapi()
    unnamed = [
        schema["enum"]
        for schema in enums(document)
        if not all(str(value).isidentifier() for value in schema["enum"])
        and not (
            len(schema.get("x-enum-varnames", [])) == len(schema["enum"])
            and all(name.isidentifier() for name in schema["x-enum-varnames"])
        )
    ]
    assert unnamed == []
