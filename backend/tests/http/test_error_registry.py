"""The error classes are the one source of truth: the enum, its documentation, the OpenAPI
descriptions and the README's table all follow them."""

import re
from pathlib import Path

import pytest

from app.errors import (
    ERROR_CODE_DESCRIPTION,
    ApiError,
    ErrorCode,
    ResourceForbidden,
    ResourceNotFound,
    TaskForbidden,
    TaskNotFound,
)
from app.http.openapi import _DESCRIPTIONS, describe

README = Path(__file__).parents[3] / "README.md"


def test_every_error_states_its_status_code_and_description() -> None:
    for error in ApiError.registry:
        assert 400 <= error.status_code <= 599, error
        assert re.fullmatch(r"[A-Z_]+", error.error_code), error
        assert error.description.endswith("."), error
        assert error.detail, error


def test_codes_are_unique_and_are_the_enum() -> None:
    codes = [error.error_code for error in ApiError.registry]
    assert len(codes) == len(set(codes))
    assert [code.value for code in ErrorCode] == codes


def test_the_enum_documentation_lists_every_code_with_its_status() -> None:
    for error in ApiError.registry:
        line = f"- `{error.error_code}` ({error.status_code}): {error.description}\n"
        assert line in ERROR_CODE_DESCRIPTION


def test_the_readme_table_lists_every_code_in_status_order() -> None:
    rows = re.findall(r"^\| (\d{3}) +\| `([A-Z_]+)` *\|", README.read_text(), re.MULTILINE)
    documented = [(int(status), code) for status, code in rows]
    # By status, then as declared: a reader scans the table by number.
    in_status_order = sorted(ApiError.registry, key=lambda error: error.status_code)
    assert documented == [(error.status_code, error.error_code) for error in in_status_order]


@pytest.mark.parametrize("family", list(_DESCRIPTIONS), ids=lambda family: family.__name__)
def test_hand_written_family_descriptions_name_every_member(family: type[ApiError]) -> None:
    for member in family.members():
        assert f"`{member.error_code}`" in describe(family)


def test_a_family_is_never_raised_as_itself() -> None:
    families = {error.__mro__[1] for error in ApiError.registry} - set(ApiError.registry)
    for family in families - {ApiError}:
        assert "error_code" not in vars(family), family


def test_a_resource_error_names_its_resource_in_every_text() -> None:
    # No error_code: a family member that is never registered, so the registry stays as it is.
    class WidgetNotFound(ResourceNotFound):
        resource = "widget"

    class WidgetForbidden(ResourceForbidden):
        resource = "widget"

    assert WidgetNotFound().detail == "Widget not found"
    assert WidgetNotFound.NOT_A_UUID.startswith("Widget not found: the id is not a UUID")
    assert WidgetNotFound.description == "no widget with this id, or the id is not a UUID."
    assert WidgetForbidden().detail == "This widget belongs to another user"
    assert WidgetForbidden.status_code == 403
    assert WidgetNotFound not in ApiError.registry
    # The codes clients see keep their texts.
    assert (TaskNotFound.error_code, TaskNotFound.detail) == ("TASK_NOT_FOUND", "Task not found")
    assert (TaskForbidden.error_code, TaskForbidden.detail) == (
        "TASK_FORBIDDEN",
        "This task belongs to another user",
    )
