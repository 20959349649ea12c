"""What the lifespan builds once and every request reads: typed, set in one place."""

from dataclasses import dataclass

from starlette.applications import Starlette

from app.config import Settings
from app.core.security import TokenVerifier
from app.database import Database


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    database: Database
    token_verifier: TokenVerifier


def set_app_state(app: Starlette, state: AppState) -> None:
    app.state.taskapi = state


def app_state(app: Starlette) -> AppState:
    state = app.state.taskapi
    if not isinstance(state, AppState):  # pragma: no cover - only if the lifespan never ran
        raise RuntimeError("taskapi's lifespan has not run: no application state")
    return state
