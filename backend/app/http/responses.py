"""JSON responses written once, straight from the data: the routes declare `response_model` for
the OpenAPI document, and return these so FastAPI does not validate and encode a second time."""

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response

# UTC datetimes end in "Z", as Pydantic writes them; UUIDs are strings.
_OPTIONS = orjson.OPT_UTC_Z


class JsonBody(Response):
    """Serialises with orjson: the bytes FastAPI's response models would give, from plain dicts
    of rows, without building models first."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def json_bytes(content: Any) -> bytes:
    # `default=str` for what orjson does not know by exact type: asyncpg's UUID subclass.
    return orjson.dumps(content, default=str, option=_OPTIONS)


def json_text(text: str, headers: Mapping[str, str] | None = None) -> Response:
    """A body that is JSON text already (rendered by the database)."""
    return Response(text.encode(), media_type="application/json", headers=headers)


def json_array(items: Sequence[str], headers: Mapping[str, str] | None = None) -> Response:
    """A JSON array of items that are JSON texts already (rendered by the database)."""
    body = ("[" + ",".join(items) + "]").encode()
    return Response(body, media_type="application/json", headers=headers)
