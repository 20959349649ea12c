"""Request headers of sync-grade writes: `If-Match`, `If-None-Match` and `Idempotency-Key`.

Read straight from the request rather than as FastAPI dependencies (each dependency costs
every request a solve, and these are on the hot path); `openapi_extra` documents them."""

import re
from typing import Any

from starlette.requests import Request

from app.errors import InvalidIdempotencyKey, InvalidIfMatch
from app.kit.etags import Precondition
from app.models.sync import IDEMPOTENCY_KEY_MAX_LENGTH

# Visible ASCII except the quote and backslash, so a key survives as a Structured Field string.
_KEY = re.compile(rf'"?([\x21\x23-\x5b\x5d-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}})"?')


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }


IF_MATCH = _header(
    "If-Match",
    'Write only if the task\'s ETag is one of these (`"12"`, strong and quoted, as sent), or it '
    "exists (`*`); otherwise 412 and nothing is written. Unquoted (`12`) is a 400 "
    '`INVALID_IF_MATCH`; a weak tag (`W/"12"`) never matches (412).',
)
IF_NONE_MATCH = _header(
    "If-None-Match", "The ETag(s) the client holds: 304 with no body if one is current."
)
IDEMPOTENCY_KEY = _header(
    "Idempotency-Key",
    "A unique key (a UUID) for this request: a retry with the same key and body gets the first "
    "response again (`Idempotency-Replayed: true`), not a second task.",
)


def if_match(request: Request) -> Precondition | None:
    """400 INVALID_IF_MATCH when malformed (`6` for `"6"`): a 412 would blame a change that
    never happened."""
    precondition = Precondition.parse(request.headers.get("if-match"), weak_matches=False)
    if precondition is not None and precondition.malformed:
        raise InvalidIfMatch()
    return precondition


def if_none_match(request: Request) -> Precondition | None:
    return Precondition.parse(request.headers.get("if-none-match"), weak_matches=True)


def idempotency_key(request: Request) -> str | None:
    """The key, unquoted; 400 INVALID_IDEMPOTENCY_KEY if malformed or sent twice."""
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    value = value.strip()
    match = _KEY.fullmatch(value)
    quoted = value.startswith('"')
    sent_twice = len(request.headers.getlist("idempotency-key")) > 1
    if match is None or quoted != value.endswith('"') or sent_twice:
        raise InvalidIdempotencyKey()
    return match.group(1)
