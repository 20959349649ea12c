"""Sync tokens: what a client passes back as `since` (or `Last-Event-ID`). Opaque to clients;
inside, the user's change seq up to which the client has everything, and a short hash of the
user id: a token handed to another user's session is refused instead of skipping changes
(not a secret: it binds a token to its user, against client mix-ups)."""

import base64
import binascii
import hashlib
import re

from app.errors import InvalidSyncToken

_TOKEN = re.compile(r"v1\.([0-9]{1,18})\.([0-9a-f]{8})")  # the seq fits a signed 64-bit integer
MAX_TOKEN_LENGTH = 64


def token_of(seq: int, user_id: str) -> str:
    text = f"v1.{seq}.{_user_hash(user_id)}"
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def seq_of(token: str, user_id: str) -> int:
    """The seq inside a token of this user; 400 INVALID_SYNC_TOKEN for anything else."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidSyncToken()
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise InvalidSyncToken() from None
    match = _TOKEN.fullmatch(text)
    if match is None or match.group(2) != _user_hash(user_id):
        raise InvalidSyncToken()
    seq = int(match.group(1))
    if token_of(seq, user_id) != token:  # one spelling per token (no padding, no leading zeros)
        raise InvalidSyncToken()
    return seq


def _user_hash(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()[:8]
