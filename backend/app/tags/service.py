"""The caller's tags, with how many of their tasks carry each."""

from app.db.database import Database
from app.kit.pagination import Page, PageParams
from app.tags import repository
from app.tags.repository import TagCount


async def list_tags(database: Database, owner: str, page: PageParams) -> Page[TagCount]:
    async with database.connect() as connection:
        rows = await repository.count_tags(
            connection, owner, limit=page.limit + 1, offset=page.offset
        )
    return Page.from_overfetch(rows, page)
