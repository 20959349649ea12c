"""One authentication per request: whoever asks first (the rate limit when it is on, else the
route's dependency) verifies the bearer token and keeps the outcome in the ASGI scope; whoever
asks next reads it there. A refusal is kept too, so it is raised again, never re-verified."""

from starlette.types import Scope

from app.auth.bearer import bearer_token
from app.auth.principal import Principal
from app.auth.verifier import TokenVerifier
from app.errors import ApiError

_OUTCOME = "taskapi.principal"  # the scope key: a Principal, or the ApiError that refused it


async def authenticate(scope: Scope, verifier: TokenVerifier) -> Principal:
    """The request's principal, verified at most once; raises why it has none."""
    outcome = scope.get(_OUTCOME)
    if outcome is None:
        try:
            outcome = await verifier.verify(bearer_token(scope))
        except ApiError as error:
            scope[_OUTCOME] = error
            raise
        scope[_OUTCOME] = outcome
    if isinstance(outcome, Principal):
        return outcome
    raise outcome


def principal_of(scope: Scope) -> Principal | None:
    """The request's principal if it was authenticated (for the request log)."""
    outcome = scope.get(_OUTCOME)
    return outcome if isinstance(outcome, Principal) else None
