"""Sync tokens: what a client passes back as `since` (or `Last-Event-ID`). Opaque to clients;
inside, the user's change seq up to which the client has everything."""

import base64
import binascii
import re

from app.errors import InvalidSyncToken

_PREFIX = "v1."
_SEQ = re.compile(r"[0-9]{1,18}")  # fits a signed 64-bit integer
MAX_TOKEN_LENGTH = 64


def token_of(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{seq}".encode()).rstrip(b"=").decode()


def seq_of(token: str) -> int:
    """The seq inside a token; 400 INVALID_SYNC_TOKEN for anything this API did not write."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidSyncToken()
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise InvalidSyncToken() from None
    seq = text.removeprefix(_PREFIX)
    if seq == text or _SEQ.fullmatch(seq) is None or token_of(int(seq)) != token:
        raise InvalidSyncToken()
    return int(seq)
