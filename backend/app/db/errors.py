"""Which database errors mean "the database cannot serve us now" (a 503 the client may retry)
rather than a bug (a 500): classified by cause, SQLSTATE and connection errors alike."""

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes and codes that mean "the server cannot serve us now", not "bad statement":
# 08 connection exception; 57P01-57P03 admin/crash shutdown, cannot connect now (starting up).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_database_unavailable(exc: BaseException) -> bool:
    """Classify by cause, whatever the wrapper: a dropped or refused connection, a server that
    is starting or shutting down, a pool with no connection to give. A bad statement or a
    constraint violation is a bug and stays a 500."""
    return unavailability_cause(exc) is not None


def unavailability_cause(exc: BaseException) -> str | None:
    """Why the database is unavailable, as a short label for the log (the innermost error's
    type, and its SQLSTATE if any); None when `exc` is not about availability."""
    chain = _cause_chain(exc)
    if not (
        (isinstance(exc, DBAPIError) and exc.connection_invalidated)
        or any(_means_unavailable(link) for link in chain)
    ):
        return None
    root = chain[-1]
    sqlstate = getattr(root, "sqlstate", None)
    return type(root).__name__ + (f" ({sqlstate})" if isinstance(sqlstate, str) else "")


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _means_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OSError | PoolTimeout | OperationalError | InterfaceError):
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
