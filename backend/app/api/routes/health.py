from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import SessionDep
from app.errors import ErrorResponse

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/health", responses={503: {"model": ErrorResponse}})
async def health(session: SessionDep) -> Health:
    """Liveness and database reachability; needs no token."""
    await session.execute(text("SELECT 1"))
    return Health(status="ok")
