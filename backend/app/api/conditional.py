"""Request headers of sync-grade writes, as dependencies: `If-Match`, `If-None-Match` and
`Idempotency-Key`, parsed once and documented in OpenAPI."""

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from app.errors import InvalidIdempotencyKey
from app.models.sync import IDEMPOTENCY_KEY_MAX_LENGTH
from app.sync.etags import Precondition

# Visible ASCII except the quote and backslash, so a key survives as a Structured Field string.
_KEY = re.compile(rf'"?([\x21\x23-\x5b\x5d-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}})"?')


async def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='Write only if the task\'s ETag is one of these (`"12"`), or it exists '
            "(`*`); otherwise 412 and nothing is written.",
        ),
    ] = None,
) -> Precondition | None:
    return Precondition.parse(value, weak_matches=False)


async def if_none_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            description="The ETag(s) the client holds: 304 with no body if one is current.",
        ),
    ] = None,
) -> Precondition | None:
    return Precondition.parse(value, weak_matches=True)


async def idempotency_key(
    request: Request,
    value: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="A unique key (a UUID) for this request: a retry with the same key and "
            "body gets the first response again (`Idempotency-Replayed: true`), not a second task.",
        ),
    ] = None,
) -> str | None:
    if value is None:
        return None
    match = _KEY.fullmatch(value.strip())
    quoted = value.strip().startswith('"')
    if match is None or quoted != value.strip().endswith('"') or _sent_twice(request):
        raise InvalidIdempotencyKey()
    return match.group(1)


def _sent_twice(request: Request) -> bool:
    return len(request.headers.getlist("idempotency-key")) > 1


IfMatch = Annotated[Precondition | None, Depends(if_match)]
IfNoneMatch = Annotated[Precondition | None, Depends(if_none_match)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
