"""The base of every request body: strict types, no unknown fields, no unstorable text."""

import re
import unicodedata
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

# NUL is rejected by PostgreSQL text columns; lone surrogates cannot be encoded as UTF-8.
# Either would otherwise fail inside the driver as a 500.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Bidirectional embeddings, overrides and isolates reorder the text around them when a UI shows
# it ("Trojan Source"). Right-to-left text needs none of them; the marks U+200E/U+200F stay.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def check_storable_text(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    if _BIDI_CONTROLS.search(value):
        raise ValueError(
            "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069)"
        )
    return value


def has_visible_character(value: str) -> bool:
    """False for text made only of spaces and invisible format characters (zero-width space,
    joiners, word joiner, BOM...): a title a person could not see."""
    return any(
        not character.isspace() and unicodedata.category(character) != "Cf" for character in value
    )


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_unstorable_text(cls, value: Any) -> Any:
        return check_storable_text(value) if isinstance(value, str) else value


CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _canonical_uuid(value: Any) -> Any:
    # Only 8-4-4-4-12 hex digits: `uuid.UUID` would also take `{...}`, `urn:uuid:...` and 32
    # bare digits, giving one resource several spellings.
    if not isinstance(value, str) or CANONICAL_UUID.fullmatch(value) is None:
        raise ValueError("must be a UUID (8-4-4-4-12 hex digits)")
    return value


# An id in a body: a JSON string in the canonical spelling.
ResourceId = Annotated[uuid.UUID, BeforeValidator(_canonical_uuid), Field(strict=False)]
