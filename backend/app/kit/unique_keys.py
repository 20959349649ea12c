"""JSON with no repeated key in any object. Parsers keep the last value silently, so what a
proxy, a log or a signer saw could differ from what is used (RFC 7493, RFC 8259 section 4):
request bodies and token headers and payloads are refused instead."""

import json
from typing import Any


class RepeatedKey(ValueError):
    """A JSON object names this key more than once."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:  # linear: a hostile document may hold thousands of keys
        if key in seen:
            raise RepeatedKey(key)
        seen.add(key)
    return dict(pairs)


def loads_unique(document: str | bytes) -> Any:
    """`json.loads`, raising RepeatedKey (a ValueError) for a key repeated within an object."""
    return json.loads(document, object_pairs_hook=_unique_keys)
