"""Probes for operators, needing no token: `/health/live` (the process answers),
`/health/ready` (it can serve: database reachable, signing keys loaded), and `/health`, the
original check of the database that existing clients use."""

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from app.db.database import Database
from app.errors import AuthUnavailable, DatabaseUnavailable, ServiceUnavailable
from app.http.dependencies import database_of
from app.http.openapi import error_responses
from app.state import app_state

router = APIRouter(tags=["health"])
PROBE_PATHS = frozenset({"/health", "/health/live", "/health/ready"})


class Health(BaseModel):
    status: str


async def _check_database(database: Database) -> None:
    async with database.connect() as connection:
        await connection.execute(text("SELECT 1"))


@router.get(
    "/health",
    response_description="The API and its database are up.",
    responses=error_responses(DatabaseUnavailable),
)
async def health(request: Request) -> Health:
    """Liveness and database reachability; needs no token."""
    database = database_of(request)
    await _check_database(database)
    return Health(status="ok")


@router.get("/health/live", response_description="The process is up and serving requests.")
async def liveness() -> Health:
    """Liveness: answers while the process can serve HTTP; touches nothing else, so a database
    outage never gets the process restarted."""
    return Health(status="ok")


@router.get(
    "/health/ready",
    response_description="The database answers and, with AUTH_JWKS_URL, signing keys are loaded.",
    responses=error_responses(ServiceUnavailable),
)
async def readiness(request: Request) -> Health:
    """Readiness: the database answers and (with AUTH_JWKS_URL) the signing keys are loaded,
    so tokens can be verified; 503 otherwise."""
    database = database_of(request)
    await _check_database(database)
    key_set = app_state(request.app).token_verifier.key_set
    if key_set is not None and not key_set.has_keys:
        raise AuthUnavailable("Not ready: the token signing keys have not been fetched yet")
    return Health(status="ok")
