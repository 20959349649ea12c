"""The README's field lists and endpoint table say what the OpenAPI document says: a field or an
endpoint gained or lost on either side fails here, so the README cannot drift again."""

import re
from pathlib import Path
from typing import Any

import pytest

from app.main import create_app
from app.models import metadata
from tests.support.helpers import make_settings

README = (Path(__file__).parents[3] / "README.md").read_text()
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Statuses the README states once for many rows instead of in each of them.
ANY_REQUEST = {414, 500}
ANY_API_REQUEST = {429, 503}


def section(heading: str) -> str:
    """The text under a `## ` heading, up to the next heading of any level."""
    start = README.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"^#{1,3} ", README[start:], re.MULTILINE)
    return README[start : start + following.start()] if following else README[start:]


API = section("## The API")


def names_after(marker: str, text: str = API) -> list[str]:
    """The lower-case `names` in the sentence that begins with marker: fields, tables (`PUT`,
    `ETag` or `DATABASE_URL` are none of these)."""
    start = text.index(marker) + len(marker)
    end = re.compile(r"\.(\s|$)").search(text, start)
    assert end is not None, marker
    return re.findall(r"`([a-z_]+)`", text[start : end.start()])


def template(path: str) -> str:
    """`/api/tasks/{id}` and `/api/tasks/{task_id}` are the same endpoint."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented_endpoints() -> dict[tuple[str, str], set[int]]:
    """(method, path) -> the statuses in its Success and Errors cells."""
    rows = re.findall(rf"^\| `({'|'.join(METHODS)}) (/\S*)` *\|(.*)\|$", API, re.MULTILINE)
    return {
        (method, template(path)): {int(status) for status in re.findall(r"\b\d{3}\b", cells)}
        for method, path, cells in rows
    }


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app(make_settings()).openapi()


def properties(openapi: dict[str, Any], schema: str) -> list[str]:
    return list(openapi["components"]["schemas"][schema]["properties"])


def test_the_task_fields_are_those_of_a_task_response(openapi: dict[str, Any]) -> None:
    assert names_after("A task:") == properties(openapi, "TaskRead")


def test_create_lists_the_fields_it_accepts_and_which_are_required(
    openapi: dict[str, Any],
) -> None:
    schema = openapi["components"]["schemas"]["TaskCreate"]

    assert names_after("**Create** takes") == properties(openapi, "TaskCreate")
    assert re.findall(r"`([a-z_]+)` \(required\)", API) == schema["required"]


def test_the_fields_create_refuses_are_not_create_fields(openapi: dict[str, Any]) -> None:
    refused = names_after("Any other field,")

    assert refused
    assert not set(refused) & set(properties(openapi, "TaskCreate"))
    assert set(refused) <= set(properties(openapi, "TaskRead"))


def test_update_lists_the_fields_it_accepts(openapi: dict[str, Any]) -> None:
    assert names_after("**Update** (`PUT`) takes") == properties(openapi, "TaskUpdate")


def test_the_endpoint_table_lists_every_operation_and_no_other(openapi: dict[str, Any]) -> None:
    served = {
        (method.upper(), template(path))
        for path, operations in openapi["paths"].items()
        for method in operations
    }

    assert set(documented_endpoints()) == served


def test_each_endpoint_lists_the_statuses_it_can_answer(openapi: dict[str, Any]) -> None:
    assert "Any `/api/...` request can also get 429" in API
    assert "any request can get 414\n`URI_TOO_LONG`" in API
    assert "for\na bug, 500" in API
    for (method, path), documented in documented_endpoints().items():
        implied = ANY_REQUEST | (ANY_API_REQUEST if path.startswith("/api/") else set())
        operation = next(
            operations[method.lower()]
            for served_path, operations in openapi["paths"].items()
            if template(served_path) == path
        )

        assert documented | implied == {int(status) for status in operation["responses"]} | (
            implied
        ), f"{method} {path}"


def test_the_tables_said_not_to_clash_with_better_auth_are_this_apis_tables() -> None:
    named = names_after("and this API's (", section("## Using with Better Auth"))

    assert set(named) == set(metadata.tables) | {"alembic_version"}


def test_the_layout_names_every_module_of_the_app_and_nothing_else() -> None:
    """The tree in "Development": each folder of app/ on its own line (`tasks/`), its modules
    named after it, until the next folder. Adding, moving or removing a module fails here
    until the README says so."""
    block = section("## Development").split("```")[1]
    app_dir = Path(__file__).resolve().parents[2] / "app"
    served = {
        str(path.relative_to(app_dir))
        for path in app_dir.rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.parts
    }
    named, folder = set(), ""
    for line in block.splitlines():
        if line.startswith("  tests/"):
            break
        heading = re.match(r"^    (\w+)/", line)
        if heading:
            folder = heading.group(1) + "/"
        elif re.match(r"^    \w+\.py", line):
            folder = ""
        named |= {folder + name for name in re.findall(r"\b(\w+\.py)\b", line)}

    assert named == served
