"""Opaque keyset cursors: where the next page starts, bound to one user and one query.

A cursor holds the last row's sort key and id, and the walk's start time, as base64url JSON,
followed by an HMAC over that text, the user's id and the query's fingerprint. Reused by
another user, with another filter or sort, or altered in any byte, it fails the check: 400
`INVALID_CURSOR`, never a page of anything. (Every query also filters by owner in SQL, so even
a forged cursor could only reposition the forger in their own tasks.)
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.errors import InvalidCursor
from app.kit.schemas import check_storable_text

# A title sort's key is up to 200 characters casefolded (up to 600 code points, 2,400 bytes of
# UTF-8): its cursor must still fit.
MAX_CURSOR_LENGTH = 4096
_MAC_BYTES = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEY_LIMIT = 2**62  # every sort key: ranks, microseconds since the epoch, NO_DUE


def _storable(text: str) -> bool:
    try:
        check_storable_text(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Position:
    """The last row of a page: its sort key (an int, or text for titles) and id, and when the
    walk started (rows changed after that are left out of later pages: see the service)."""

    key: int | str
    id: uuid.UUID
    walk_started: datetime


# Without a configured secret: a key of this process's own, never known to a client. Cursors
# then last as long as the process (another replica or a restart answers INVALID_CURSOR).
_PROCESS_SECRET = secrets.token_hex(32)


def cursor_key(secret: str | None) -> bytes:
    """The HMAC key, derived from a server-private secret (CURSOR_SECRET, else the token
    secret, else this process's random one), so a client can never sign a cursor itself."""
    private = secret or _PROCESS_SECRET
    return hmac.new(private.encode(), b"taskapi cursor v1", hashlib.sha256).digest()


def _mac(key: bytes, body: bytes, user_id: str, fingerprint: bytes) -> bytes:
    message = body + b"\0" + user_id.encode() + b"\0" + fingerprint
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(position: Position, key: bytes, user_id: str, fingerprint: bytes) -> str:
    started = (position.walk_started - _EPOCH) // timedelta(microseconds=1)
    payload = {"k": position.key, "i": position.id.hex, "t": started}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    body = _b64(text.encode()).encode()
    return f"{body.decode()}.{_b64(_mac(key, body, user_id, fingerprint))}"


def decode_cursor(cursor: str, key: bytes, user_id: str, fingerprint: bytes) -> Position:
    """The position a cursor names, or InvalidCursor for anything this server did not issue
    for this user and this query."""
    if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise InvalidCursor()
    body, _, mac = cursor.partition(".")
    try:
        # Compared as text: two spellings of one base64 value (the unused low bits of the
        # last character) must not both pass.
        expected = _b64(_mac(key, body.encode(), user_id, fingerprint))
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            raise InvalidCursor()
        payload = json.loads(_unb64(body))
        return _position(payload)
    # RecursionError: JSON nested thousands deep (only a forger can send it, but never a 500).
    except (binascii.Error, ValueError, TypeError, KeyError, OverflowError, RecursionError):
        raise InvalidCursor() from None


def _position(payload: dict[str, object]) -> Position:
    key, id_, started = payload["k"], payload["i"], payload["t"]
    if not isinstance(key, int | str) or isinstance(key, bool):
        raise TypeError("sort key")
    # What a database column could hold: without the secret a cursor can be forged (see
    # `cursor_key`), and an out-of-range number or a NUL would otherwise fail in the driver.
    if isinstance(key, int) and not -_KEY_LIMIT <= key <= _KEY_LIMIT:
        raise ValueError("sort key out of range")
    if isinstance(key, str) and (len(key) > MAX_CURSOR_LENGTH or not _storable(key)):
        raise ValueError("sort key not storable")
    if not isinstance(id_, str) or not isinstance(started, int) or isinstance(started, bool):
        raise TypeError("id or start")
    return Position(key, uuid.UUID(hex=id_), _EPOCH + timedelta(microseconds=started))
