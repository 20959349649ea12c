"""Dependencies every route may take: the database, the settings, a page."""

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.db.database import Database
from app.kit.pagination import PageParams, page_params
from app.state import app_state


async def database(request: Request) -> Database:
    return app_state(request.app).database


async def settings(request: Request) -> Settings:
    return app_state(request.app).settings


DatabaseDep = Annotated[Database, Depends(database)]
SettingsDep = Annotated[Settings, Depends(settings)]
Pagination = Annotated[PageParams, Depends(page_params)]
