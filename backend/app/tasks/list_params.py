"""The query string of `GET /api/tasks`, parsed into a `TaskQuery`. Each parameter is declared
for validation and the OpenAPI document. An unknown parameter is ignored, as it always was
(clients and proxies add their own, e.g. cache busters); one of ours that takes one value but
is given twice is a 400, not a silent choice of either."""

import functools
import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import Depends, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, ValidationError

from app.errors import ValidationFailed
from app.http.dependencies import Pagination, settings_of
from app.http.error_handlers import describe_validation_errors
from app.kit.keys import fold
from app.kit.schemas import CANONICAL_UUID, check_storable_text
from app.models.task import TAG_MAX_LENGTH
from app.tasks.cursor import MAX_CURSOR_LENGTH, cursor_key
from app.tasks.query import (
    MAX_TAG_FILTERS,
    Q_MAX_LENGTH,
    SORT_KEYS,
    DueBound,
    SortKey,
    TaskFilter,
    TaskQuery,
)
from app.tasks.schemas import PRIORITIES, Priority

SortParameter = Literal[
    "asc",  # = created_at: accepted because clients sent it before `sort` existed
    "desc",  # = -created_at
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "due",
    "-due",
    "priority",
    "-priority",
    "title",
    "-title",
    "position",
    "-position",
]
_REPEATABLE = ("priority", "tag")


def enum_varnames(values: tuple[str, ...]) -> list[JsonValue]:
    """Names for generated clients (`x-enum-varnames`, read by openapi-python-client and
    OpenAPI Generator): `-due` is `DUE_DESC`, not `VALUE_7`."""
    return [
        value.removeprefix("-").upper() + ("_DESC" if value.startswith("-") else "")
        for value in values
    ]


_SINGLE = (
    "completed",
    "due_before",
    "due_after",
    "overdue",
    "q",
    "parent",
    "list",
    "sort",
    "cursor",
)
# Parameters that did not exist before cursors: any of them puts the list in cursor mode.
_NEW = (*_REPEATABLE, *_SINGLE)
_LEGACY_SORTS = {"asc": "created_at", "desc": "-created_at"}
_DUE_BOUND = (
    'A date ("2026-12-01": the whole day, UTC, for timed tasks) or a date-time with an offset '
    '("2026-12-01T17:00:00+01:00"; encode "+" as %2B). All-day tasks compare by their date.'
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def _true_or_false(value: object) -> bool:
    # Only the two words the README documents: pydantic alone would also take yes/on/1/no.
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]


def _given(request: Request) -> dict[str, Any]:
    """Our parameters with a value. An empty one (`tag=`, `q=`, `completed=`: what a form sends
    for a field left blank) counts as not given, the one rule for every parameter."""
    params = request.query_params
    raw: dict[str, Any] = {}
    for name in params:
        values = [value for value in params.getlist(name) if value.strip()]
        if name in _REPEATABLE:
            raw[name] = values
        elif values:
            raw[name] = values[0]
    return raw


def _refuse_repeated(request: Request) -> None:
    params = request.query_params
    for name in params:
        if name in _SINGLE and len(params.getlist(name)) > 1:
            raise ValidationFailed(f"query.{name}: give it at most once")


def _due_bound(name: str, text: str | None, *, before: bool) -> DueBound | None:
    if text is None:
        return None
    # An unencoded "+" in a query string arrives as a space: "17:00:00 01:00".
    text = _SPACED_OFFSET.sub(r"+\1", text)
    try:
        value: date | datetime
        if _DATE.fullmatch(text):
            value = date.fromisoformat(text)
        else:
            value = datetime.fromisoformat(text)
            if value.tzinfo is None:
                raise ValueError
        return DueBound.before(value) if before else DueBound.after(value)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"query.{name}: must be a date (YYYY-MM-DD) or a date-time with an offset "
            "(2026-12-01T17:00:00+01:00)"
        ) from None


def _text(q: str | None) -> str | None:
    if q is None or not q.strip():
        return None  # an empty search box searches for nothing
    try:
        check_storable_text(q)
    except ValueError as error:
        raise ValidationFailed(f"query.q: {error}") from None
    return fold(q.strip())


def _parent(value: str | None) -> uuid.UUID | None:
    if value is None or value == "none":
        return None
    if _CANONICAL_UUID.fullmatch(value) is None:
        raise ValidationFailed("query.parent: must be a task's id (a UUID) or none")
    return uuid.UUID(value)


NO_LIST = "none"


def _list_id(text: str | None) -> uuid.UUID | None:
    if text is None or text == NO_LIST:
        return None
    if CANONICAL_UUID.fullmatch(text) is None:
        raise ValidationFailed("query.list: must be a list's id (a UUID) or none")
    return uuid.UUID(text)


def _tag_keys(tags: list[str]) -> tuple[str, ...]:
    keys = []
    for tag in tags:
        try:
            check_storable_text(tag)
        except ValueError as error:
            raise ValidationFailed(f"query.tag: {error}") from None
        if len(tag.strip()) > TAG_MAX_LENGTH:
            raise ValidationFailed(f"query.tag: at most {TAG_MAX_LENGTH} characters")
        keys.append(fold(tag.strip()))
    return tuple(sorted(set(keys)))


class ListParameters(BaseModel):
    """The list's filter, sort and cursor parameters: validated here, documented in OpenAPI
    from this model (`LIST_PARAMETERS`). Not FastAPI query parameters: parsing nine of them on
    every request would slow the plain list, which has none."""

    model_config = ConfigDict(extra="ignore")

    completed: QueryBool | None = Field(
        None, description="`true`: only completed tasks; `false`: only open ones."
    )
    priority: list[Priority] = Field(
        [], description="Any of these priorities (repeat the parameter)."
    )
    tag: list[str] = Field(
        [], description="Tasks with all of these tags, ignoring case (repeat the parameter)."
    )
    due_before: str | None = Field(
        None, max_length=40, description="Due strictly before. " + _DUE_BOUND
    )
    due_after: str | None = Field(
        None, max_length=40, description="Due strictly after. " + _DUE_BOUND
    )
    overdue: QueryBool | None = Field(
        None,
        description="`true`: only tasks due before now (all-day: before today, UTC) and open; "
        "`false` is the same as leaving it out.",
    )
    q: str | None = Field(
        None,
        max_length=Q_MAX_LENGTH,
        description="Text in the title or description, ignoring case (Unicode casefolding); "
        "empty means no search.",
    )
    parent: str | None = Field(
        None,
        max_length=36,
        json_schema_extra={"examples": ["none"]},
        description="A task's id: only its direct subtasks. `none`: only top-level tasks.",
    )
    list_: str | None = Field(
        None,
        alias="list",
        max_length=36,
        description="Only tasks in this list (its id), or `none`: only tasks in no list. A list "
        "of another user's matches nothing.",
    )
    sort: SortParameter = Field(
        "-created_at",
        json_schema_extra={"x-enum-varnames": enum_varnames(get_args(SortParameter))},
        description="Order: a key, `-` first for descending. Tasks without a due date come "
        "last either way; ties are broken by id. (`asc`, `desc`: `created_at`, `-created_at`.) "
        "`position`: the user's own order among siblings (with `parent`).",
    )
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description='From the previous page\'s `Link: rel="next"`; empty on the first page to '
        "get cursor links with no other parameter. Not with an `offset` above 0.",
    )


def _openapi_parameters() -> list[dict[str, Any]]:
    properties = ListParameters.model_json_schema()["properties"]
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": schema.pop("description"),
            "schema": schema,
        }
        for name, schema in properties.items()
    ]


LIST_PARAMETERS = _openapi_parameters()
_PLAIN = TaskQuery(TaskFilter())  # newest first, by offset: the list before issue 10


async def task_list_query(request: Request, page: Pagination) -> TaskQuery:
    params = request.query_params
    if not any(name in _NEW for name in params):
        return _PLAIN
    _refuse_repeated(request)
    raw = _given(request)
    try:
        parsed = ListParameters.model_validate(raw)
    except ValidationError as invalid:
        errors = [{**error, "loc": ("query", *error["loc"])} for error in invalid.errors()]
        raise describe_validation_errors(errors) from None
    # `offset=0` is the default, so it means what no offset means (Swagger UI and generated
    # clients send it): only a real offset turns cursors off.
    if parsed.cursor is not None and page.offset:
        raise ValidationFailed("query.cursor: cannot be combined with offset")
    for name, value in (("tag", parsed.tag), ("priority", parsed.priority)):
        if len(value) > MAX_TAG_FILTERS:
            raise ValidationFailed(f"query.{name}: at most {MAX_TAG_FILTERS} values")
    task_filter = TaskFilter(
        completed=parsed.completed,
        priorities=tuple(sorted({PRIORITIES.index(name) for name in parsed.priority})),
        tags=_tag_keys(parsed.tag),
        due_before=_due_bound("due_before", parsed.due_before, before=True),
        due_after=_due_bound("due_after", parsed.due_after, before=False),
        overdue=bool(parsed.overdue),
        text=_text(parsed.q),
        parent=_parent(parsed.parent),
        top_level=parsed.parent == "none",
        list_id=_list_id(parsed.list_),
        no_list=parsed.list_ == NO_LIST,
    )
    sort = _LEGACY_SORTS.get(parsed.sort, parsed.sort)
    key: SortKey = sort.removeprefix("-")  # type: ignore[assignment]
    assert key in SORT_KEYS
    return TaskQuery(
        filter=task_filter,
        sort=key,
        descending=sort.startswith("-"),
        cursor=parsed.cursor or None,
        uses_cursor=not page.offset,
    )


TaskListQuery = Annotated[TaskQuery, Depends(task_list_query)]


@functools.cache
def _signing_key(secret: str | None) -> bytes:
    return cursor_key(secret)


def cursor_signing_key(request: Request) -> bytes:
    """The key that signs this server's cursors (see app.tasks.cursor.cursor_key)."""
    settings = settings_of(request)
    secret = settings.cursor_secret or settings.better_auth_secret
    return _signing_key(None if secret is None else secret.get_secret_value())
