from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import SessionDep
from app.openapi import DATABASE_DOWN, error_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get(
    "/health",
    response_description="The API and its database are up.",
    responses=error_responses(503, overrides={503: DATABASE_DOWN}),
)
async def health(session: SessionDep) -> Health:
    """Liveness and database reachability; needs no token."""
    await session.execute(text("SELECT 1"))
    return Health(status="ok")
