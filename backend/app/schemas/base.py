"""The base of every request body: strict types, no unknown fields, no unstorable text."""

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

# NUL is rejected by PostgreSQL text columns; lone surrogates cannot be encoded as UTF-8.
# Either would otherwise fail inside the driver as a 500.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_storable_text(value: str) -> str:
    if _UNSTORABLE.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_unstorable_text(cls, value: Any) -> Any:
        return check_storable_text(value) if isinstance(value, str) else value
