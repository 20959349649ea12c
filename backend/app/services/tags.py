"""The caller's tags, with how many of their tasks carry each."""

from app.database import Database
from app.pagination import Page, PageParams
from app.repository import tags as repository
from app.repository.tags import TagCount


async def list_tags(database: Database, owner: str, page: PageParams) -> Page[TagCount]:
    async with database.connect() as connection:
        rows = await repository.count_tags(
            connection, owner, limit=page.limit + 1, offset=page.offset
        )
    return Page.from_overfetch(rows, page)
