"""JSON responses written once, straight from the data: the routes declare `response_model` for
the OpenAPI document, and return these so FastAPI does not validate and encode a second time."""

from typing import Any

from pydantic_core import to_json
from starlette.responses import Response


class JsonBody(Response):
    """Serialises with pydantic-core: the same bytes FastAPI's response models would give
    (UUIDs as strings, UTC datetimes ending in `Z`), without building models first."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return to_json(content)
