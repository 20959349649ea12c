"""What the lifespan builds once and every request reads: typed, set in one place."""

from dataclasses import dataclass

from starlette.applications import Starlette

from app.auth.verifier import TokenVerifier
from app.config import Settings
from app.db.database import Database
from app.db.feed import ChangeFeed
from app.http.rate_limiter import RateLimiter
from app.jobs.base import JobRunner


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    database: Database
    token_verifier: TokenVerifier
    feed: ChangeFeed
    rate_limiter: RateLimiter | None = None
    jobs: JobRunner | None = None  # defers background work (app.jobs)
    # Verifies tokens for /mcp: bound to MCP_RESOURCE_URL (app.mcp); None without it.
    mcp_verifier: TokenVerifier | None = None


def set_app_state(app: Starlette, state: AppState) -> None:
    app.state.taskapi = state


def app_state(app: Starlette) -> AppState:
    state = app.state.taskapi
    if not isinstance(state, AppState):  # pragma: no cover - only if the lifespan never ran
        raise RuntimeError("taskapi's lifespan has not run: no application state")
    return state
