"""The request-body rules, checked directly on the schemas: no app, no HTTP, no database.
Each refusal is pinned to the exact `detail` the API answers with (tests/tasks/test_validation.py
proves the endpoints give the same, and write nothing)."""

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from app.tasks.schemas import TaskCreate, TaskUpdate
from tests.support.helpers import LONGEST_TITLES, validation_failure

NUL_OR_SURROGATE = "must not contain NUL characters or unpaired surrogates"
TOO_SHORT = "String should have at least 1 character"
TOO_LONG = "String should have at most 200 characters"
NOT_A_STRING = "Input should be a valid string"
NOT_A_BOOLEAN = "Input should be a valid boolean"


def refusal(model: type[BaseModel], body: Any) -> str:
    """The detail of the 400 VALIDATION_ERROR this body gets."""
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    code, detail = validation_failure(refused.value.errors())
    assert code == "VALIDATION_ERROR"
    return detail


def from_json(raw: bytes) -> Any:
    """A body as the server decodes it: JSON escapes may produce lone surrogates."""
    return json.loads(raw)


# --- create -------------------------------------------------------------------------------

BAD_CREATE_BODIES = [
    pytest.param({}, "title: Field required", id="title-missing"),
    pytest.param({"description": "no title"}, "title: Field required", id="only-description"),
    pytest.param({"title": ""}, f"title: {TOO_SHORT}", id="title-empty"),
    pytest.param({"title": "   "}, f"title: {TOO_SHORT}", id="title-spaces"),
    pytest.param({"title": "\t\n\r "}, f"title: {TOO_SHORT}", id="title-whitespace"),
    pytest.param({"title": "\u00a0\u3000"}, f"title: {TOO_SHORT}", id="title-unicode-spaces"),
    pytest.param({"title": "a" * 201}, f"title: {TOO_LONG}", id="title-201-chars"),
    pytest.param({"title": "😀" * 201}, f"title: {TOO_LONG}", id="title-201-emoji"),
    pytest.param(
        {"title": "x", "description": "a" * 2001},
        "description: String should have at most 2000 characters",
        id="description-2001",
    ),
    pytest.param({"title": 1}, f"title: {NOT_A_STRING}", id="title-number"),
    pytest.param({"title": True}, f"title: {NOT_A_STRING}", id="title-bool"),
    pytest.param({"title": None}, f"title: {NOT_A_STRING}", id="title-null"),
    pytest.param({"title": []}, f"title: {NOT_A_STRING}", id="title-list"),
    pytest.param({"title": {}}, f"title: {NOT_A_STRING}", id="title-object"),
    pytest.param(
        {"title": "x", "description": 5}, f"description: {NOT_A_STRING}", id="description-number"
    ),
    *(
        pytest.param(
            {"title": "x", "is_completed": value}, f"is_completed: {NOT_A_BOOLEAN}", id=name
        )
        for name, value in [
            ("completed-yes", "yes"),
            ("completed-str", "true"),
            ("completed-1", 1),
            ("completed-0", 0),
            ("completed-null", None),
        ]
    ),
    pytest.param({"title": "x", "user_id": "someone"}, "user_id: unknown field", id="user_id"),
    pytest.param(
        {"title": "x", "id": "00000000-0000-0000-0000-000000000001"},
        "id: unknown field",
        id="unknown-id",
    ),
    pytest.param(
        {"title": "x", "created_at": "2020-01-01T00:00:00Z"},
        "created_at: unknown field",
        id="unknown-created_at",
    ),
    pytest.param({"title": "x", "foo": "bar"}, "foo: unknown field", id="unknown-foo"),
    pytest.param({"title": "a\u0000b"}, f"title: {NUL_OR_SURROGATE}", id="title-nul"),
    pytest.param(
        {"title": "x", "description": "a\u0000b"},
        f"description: {NUL_OR_SURROGATE}",
        id="description-nul",
    ),
    *(
        pytest.param(from_json(raw), detail, id=name)
        for name, raw, detail in [
            ("title-high-surrogate", b'{"title": "\\ud800"}', f"title: {NUL_OR_SURROGATE}"),
            ("title-low-surrogate", b'{"title": "a\\udfffb"}', f"title: {NUL_OR_SURROGATE}"),
            ("title-pair-reversed", b'{"title": "\\ude00\\ud83d"}', f"title: {NUL_OR_SURROGATE}"),
            (
                "description-surrogate",
                b'{"title": "x", "description": "\\ud800"}',
                f"description: {NUL_OR_SURROGATE}",
            ),
            (
                "boolean-surrogate",
                b'{"title": "x", "is_completed": "\\ud800"}',
                f"is_completed: {NUL_OR_SURROGATE}",
            ),
            (
                "field-named-by-a-surrogate",
                b'{"title": "x", "\\ud800": 1}',
                "Input should be a valid string, unable to parse raw data as a unicode string",
            ),
        ]
    ),
]


@pytest.mark.parametrize(("body", "detail"), BAD_CREATE_BODIES)
def test_create_refuses_invalid_field(body: dict[str, Any], detail: str) -> None:
    assert refusal(TaskCreate, body) == detail


@pytest.mark.parametrize(
    "title",
    [*LONGEST_TITLES, pytest.param("\t buy milk \n", id="surrounding-whitespace")],
)
def test_create_keeps_a_title_of_up_to_200_characters_trimmed(title: str) -> None:
    assert TaskCreate.model_validate({"title": title}).title == title.strip()


def test_create_accepts_a_description_of_2000_characters() -> None:
    description = "😀" * 1000 + "a" * 1000

    assert TaskCreate.model_validate({"title": "x", "description": description}).description == (
        description
    )


def test_create_defaults_to_incomplete_without_description() -> None:
    task = TaskCreate.model_validate({"title": "x"})

    assert (task.description, task.is_completed) == (None, False)


def test_escaped_surrogate_pair_is_one_character() -> None:
    assert TaskCreate.model_validate(from_json(b'{"title": "\\ud83d\\ude00 done"}')).title == (
        "😀 done"
    )


# --- update -------------------------------------------------------------------------------


def either(field: str, branch: str, message: str) -> str:
    """How pydantic reports a bad value for an optional-but-not-null field."""
    return f"{field}.{branch}: {message}; {field}.none: Input should be None"


BAD_UPDATE_BODIES = [
    pytest.param(
        {},
        "Provide at least one of: title, description, is_completed, due_date, due_at, "
        "priority, tags, list_id, recurrence, reminders",
        id="no-fields",
    ),
    pytest.param(
        {"title": None}, "title: cannot be null (omit it to leave it unchanged)", id="title-null"
    ),
    pytest.param(
        {"is_completed": None},
        "is_completed: cannot be null (omit it to leave it unchanged)",
        id="completed-null",
    ),
    pytest.param({"title": ""}, either("title", "constrained-str", TOO_SHORT), id="title-empty"),
    pytest.param({"title": "  "}, either("title", "constrained-str", TOO_SHORT), id="title-spaces"),
    pytest.param(
        {"title": "a" * 201}, either("title", "constrained-str", TOO_LONG), id="title-201-chars"
    ),
    pytest.param({"title": 5}, either("title", "constrained-str", NOT_A_STRING), id="title-number"),
    pytest.param(
        {"description": "a" * 2001},
        "description: String should have at most 2000 characters",
        id="description-2001",
    ),
    pytest.param(
        {"is_completed": "false"},
        either("is_completed", "bool", NOT_A_BOOLEAN),
        id="completed-str",
    ),
    pytest.param(
        {"is_completed": 0}, either("is_completed", "bool", NOT_A_BOOLEAN), id="completed-0"
    ),
    pytest.param({"foo": 1}, "foo: unknown field", id="unknown-foo"),
    pytest.param({"user_id": "someone-else"}, "user_id: unknown field", id="unknown-user_id"),
    pytest.param(
        {"id": "00000000-0000-0000-0000-000000000001"}, "id: unknown field", id="unknown-id"
    ),
    pytest.param(
        {"updated_at": "2020-01-01T00:00:00Z"},
        "updated_at: unknown field",
        id="unknown-updated_at",
    ),
    pytest.param({"title": "valid", "foo": 1}, "foo: unknown field", id="valid-with-unknown"),
    pytest.param(
        {"title": "valid", "is_completed": "yes"},
        either("is_completed", "bool", NOT_A_BOOLEAN),
        id="valid-with-bad",
    ),
    pytest.param({"title": "a\u0000"}, f"title: {NUL_OR_SURROGATE}", id="title-nul"),
    pytest.param({"description": "\u0000"}, f"description: {NUL_OR_SURROGATE}", id="desc-nul"),
    pytest.param(
        from_json(b'{"title": "\\ud800"}'), f"title: {NUL_OR_SURROGATE}", id="title-surrogate"
    ),
    pytest.param(
        from_json(b'{"description": "x\\udc00"}'),
        f"description: {NUL_OR_SURROGATE}",
        id="description-surrogate",
    ),
]


@pytest.mark.parametrize(("body", "detail"), BAD_UPDATE_BODIES)
def test_update_refuses_invalid_field(body: dict[str, Any], detail: str) -> None:
    assert refusal(TaskUpdate, body) == detail


def test_an_empty_update_names_every_field_of_the_published_update_schema() -> None:
    published = TaskUpdate.model_json_schema()["properties"]

    assert refusal(TaskUpdate, {}) == f"Provide at least one of: {', '.join(published)}"


@pytest.mark.parametrize(
    ("body", "changes"),
    [
        pytest.param({"title": "\t new title \n"}, {"title": "new title"}, id="title-trimmed"),
        pytest.param({"description": None}, {"description": None}, id="description-null-clears"),
        pytest.param({"is_completed": False}, {"is_completed": False}, id="is_completed"),
        pytest.param(
            {"title": "t", "description": "d", "is_completed": True},
            {"title": "t", "description": "d", "is_completed": True},
            id="all-fields",
        ),
    ],
)
def test_update_changes_only_the_fields_sent(body: dict[str, Any], changes: dict[str, Any]) -> None:
    assert TaskUpdate.model_validate(body).changes() == changes


# --- text a UI would show misleadingly ----------------------------------------------------

INVISIBLE = "must contain a visible character"
BIDI = "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069)"


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param(" \u200b\u200c\u200d\u2060\ufeff ", id="zero-width-mix"),
        pytest.param("\u2060" * 10, id="word-joiners"),
    ],
)
@pytest.mark.parametrize("model", [TaskCreate, TaskUpdate], ids=lambda m: m.__name__)
def test_an_invisible_title_is_refused(model: type[BaseModel], title: str) -> None:
    assert refusal(model, {"title": title}) == f"title: {INVISIBLE}"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("invoice\u202egnp.exe", id="right-to-left-override"),
        pytest.param("a\u2066b\u2069", id="left-to-right-isolate"),
        pytest.param("\u202ax", id="left-to-right-embedding"),
    ],
)
@pytest.mark.parametrize("field", ["title", "description"])
def test_bidirectional_controls_are_refused(field: str, text: str) -> None:
    body = {"title": "a task", field: text}
    assert refusal(TaskCreate, body) == f"{field}: {BIDI}"


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("שלום עולם", id="hebrew"),
        pytest.param("مرحبا\u200f!", id="arabic-with-rtl-mark"),
        pytest.param("a\u200db", id="zero-width-joiner-inside"),
        pytest.param("👩\u200d💻", id="emoji-sequence"),
    ],
)
def test_visible_and_right_to_left_titles_are_kept_as_sent(title: str) -> None:
    assert TaskCreate.model_validate({"title": title}).title == title
