"""Who may reach which rows: the one place every statement of a caller's rows gets its scope.

Today a row is the caller's when its `user_id` is the caller's (token's) id. Shared lists will
widen `owned_by` (a row of a list the caller is a member of) and key the change counter by
the list instead of the user (`sync_scope`): the statements that use these do not change.
"""

from typing import Any

from sqlalchemy import ColumnElement, FromClause, String, bindparam

# The statements' parameter that carries the caller's id (from a verified token only).
OWNER = "owner"


def caller() -> Any:
    """The caller's id, as the named parameter every prebuilt statement binds."""
    return bindparam(OWNER, type_=String())


def owned_by(table: FromClause, owner: Any = None) -> ColumnElement[bool]:
    """The rows of `table` the caller may read and write: `owner` is a value for statements
    built per request, or (default) the prebuilt statements' `owner` parameter."""
    who = caller() if owner is None else owner
    condition: ColumnElement[bool] = table.c.user_id == who
    return condition


def scope_key() -> Any:
    """The sync scope of a statement's write or read, as a parameter: the change counter's key
    (`user_sync.user_id`, the events' `scope_id`). The caller's own id today."""
    return caller()


def in_sync_scope(column: Any) -> ColumnElement[bool]:
    """Rows keyed by the statement's sync scope (`column`: their scope key)."""
    condition: ColumnElement[bool] = column == scope_key()
    return condition


def sync_scope(owner: str) -> str:
    """The key of the change counter (`user_sync`), its events and sync tokens, for a caller
    writing or reading their own tasks: the user today, a list later."""
    return owner
