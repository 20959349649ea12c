"""Response bodies for /api/tags."""

from pydantic import BaseModel, Field


class TagRead(BaseModel):
    name: str = Field(
        description="As written (of several spellings, the first in code-point order)."
    )
    count: int = Field(description="How many of the caller's tasks carry this tag.")
