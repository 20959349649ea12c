"""Offset pagination, reusable by any list endpoint: the query parameters, a page that knows
whether more rows follow, and the `Link` header that points at the next one."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BeforeValidator
from starlette.datastructures import URL

MAX_PAGE_SIZE = 500
# Unchanged since offsets were first accepted (clients rely on it). A page at offset N reads N
# rows first (65 ms at 99,000 on PostgreSQL, against ~3 ms for a cursor page); the per-user
# task quota (MAX_TASKS_PER_USER) is what bounds that cost.
MAX_OFFSET = 1_000_000
DEFAULT_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


def _blank_as(default: int) -> BeforeValidator:
    # An empty value (`limit=`, as a form sends a blank field) means the default, as an empty
    # filter means no filter: one rule for every query parameter.
    return BeforeValidator(lambda value: default if value == "" else value)


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE), _blank_as(DEFAULT_PAGE_SIZE)
    ] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET), _blank_as(0)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_more: bool

    @classmethod
    def from_overfetch(cls, rows: Sequence[T], params: PageParams) -> "Page[T]":
        """`rows` was fetched with `limit + 1`: the extra row only says that more follow."""
        return cls(items=rows[: params.limit], has_more=len(rows) > params.limit)


def next_page_link(url: URL, params: PageParams, public_base_url: str | None = None) -> str:
    """`Link` header value for the page after `params`: absolute on `public_base_url` when one
    is configured, else relative. Never built on the request's Host header, which the client
    chooses."""
    next_url = url.include_query_params(limit=params.limit, offset=params.offset + params.limit)
    return f'<{public_base_url or ""}{next_url.path}?{next_url.query}>; rel="next"'


def next_cursor_link(url: URL, cursor: str, public_base_url: str | None = None) -> str:
    """`Link` header value for the page after this one, in cursor mode: the same query with
    the new `cursor` (absolute or relative as for `next_page_link`)."""
    next_url = url.include_query_params(cursor=cursor)
    return f'<{public_base_url or ""}{next_url.path}?{next_url.query}>; rel="next"'
