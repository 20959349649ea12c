from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import DatabaseDep
from app.errors import DatabaseUnavailable
from app.openapi import error_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get(
    "/health",
    response_description="The API and its database are up.",
    responses=error_responses(DatabaseUnavailable),
)
async def health(database: DatabaseDep) -> Health:
    """Liveness and database reachability; needs no token."""
    async with database.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return Health(status="ok")
