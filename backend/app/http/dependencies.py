"""What routes take besides the caller: a page, and the database and settings the lifespan set.

The database and the settings are read from the app state in the route (`database_of(request)`),
not declared as dependencies: FastAPI solves each dependency on every request, and one costs
about 60,000 instructions, 4% of a GET (`python -m bench.instructions`). A `Request` parameter
costs nothing."""

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.db.database import Database
from app.kit.pagination import PageParams, page_params
from app.state import app_state


def database_of(request: Request) -> Database:
    return app_state(request.app).database


def settings_of(request: Request) -> Settings:
    return app_state(request.app).settings


Pagination = Annotated[PageParams, Depends(page_params)]
