"""The user's lists for the MCP tools: find_lists, and which list a tool's `in_list` names: an
id, or a name as a user says it ("add milk to my shopping list").

A name is matched whole, ignoring case and repeated spaces. A name that fits several lists or
none is a tool error listing the candidates with their ids, never a guess: a write into the
wrong list would go unnoticed by the user, and the model can ask or call again with an id."""

import uuid
from collections.abc import Iterable
from typing import Annotated

import orjson
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, StringConstraints

from app.errors import ListForbidden, ListNotFound
from app.kit.keys import fold
from app.kit.pagination import PageParams
from app.lists import service as list_service
from app.lists.service import ListRecord
from app.mcp.caller import Caller, McpContext, caller, tool_errors
from app.mcp.schemas import MAX_PAGE, FoundLists, ListSummary
from app.models.task_list import LIST_NAME_MAX_LENGTH

# Candidates named in one error: enough to choose from, short enough for a model's context.
MAX_CANDIDATES = 20


@tool_errors
async def find_lists(
    ctx: McpContext,
    name: Annotated[
        str | None,
        StringConstraints(max_length=LIST_NAME_MAX_LENGTH),
        Field(description="Only lists whose name contains this (case ignored)."),
    ] = None,
    archived: Annotated[
        bool | None, Field(description="false: active lists only; true: archived ones; null: both.")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0,
) -> FoundLists:
    """The user's lists in their own order: ids, names, archived or not, and how many open
    tasks each holds. Pass an id (or a name) as `in_list` to find_tasks, add_tasks and
    move_tasks."""
    who = caller(ctx, "read")
    lists = await _all_lists(who)
    if name is not None:
        lists = [list_ for list_ in lists if _key(name) in _key(list_["name"])]
    if archived is not None:
        lists = [list_ for list_ in lists if list_["archived"] is archived]
    page = lists[offset : offset + limit]
    more = len(lists) > offset + limit
    return FoundLists(lists=_summaries(page), next_offset=offset + limit if more else None)


async def resolve_list(who: Caller, ref: str) -> uuid.UUID:
    """The id of the caller's list that `ref` names (an id or a name), or a tool error saying
    what to send instead."""
    list_id = _as_uuid(ref)
    if list_id is not None:
        try:
            return (await list_service.get_list(who.database, who.owner, list_id))["id"]
        except (ListNotFound, ListForbidden):
            # Another user's list reads as no list at all, as another user's task does.
            raise ToolError(
                f"No list {list_id} among this user's lists; nothing was changed. "
                "Use find_lists to get the ids."
            ) from None
    lists = await _all_lists(who)
    named = [list_ for list_ in lists if _key(list_["name"]) == _key(ref)]
    if len(named) == 1:
        return named[0]["id"]
    if named:
        raise ToolError(
            f"Several lists are named {_quoted(ref)}; nothing was changed. They are: "
            f"{_listed(named)}. Call again with the id of the one the user means (ask if unsure)."
        )
    near = [list_ for list_ in lists if _near(ref, list_["name"])]
    if near:
        raise ToolError(
            f"No list is named {_quoted(ref)}; nothing was changed. Lists with a close name: "
            f"{_listed(near)}. Call again with the id of the one the user means (ask if unsure)."
        )
    raise ToolError(
        f"No list is named {_quoted(ref)}; nothing was changed. The user's lists: "
        f"{_listed(lists)}. Call again with one of these ids, or ask the user."
    )


async def _all_lists(who: Caller) -> list[ListRecord]:
    # A user has at most MAX_LISTS_PER_USER lists: one page holds them all.
    everything = PageParams(who.settings.max_lists_per_user, 0)
    return list((await list_service.list_lists(who.database, who.owner, everything)).items)


def _key(name: str) -> str:
    return " ".join(fold(name).split())


def _near(ref: str, name: str) -> bool:
    """One name holds the other: "shopping" and "Shopping list" alike."""
    said, known = _key(ref), _key(name)
    return said in known or known in said


def _as_uuid(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def _summaries(lists: Iterable[ListRecord]) -> list[ListSummary]:
    return [ListSummary.model_validate(list_) for list_ in lists]


def _listed(lists: list[ListRecord]) -> str:
    """Candidates as JSON: list names are the user's data, quoted, never prose to follow."""
    shown = [summary.model_dump(mode="json") for summary in _summaries(lists[:MAX_CANDIDATES])]
    more = len(lists) - len(shown)
    text = orjson.dumps(shown).decode() if shown else "none"
    return f"{text} (and {more} more: narrow with find_lists)" if more > 0 else text


def _quoted(text: str) -> str:
    return orjson.dumps(text).decode()
