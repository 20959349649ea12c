"""The one parser of `Authorization: Bearer <token>`, for the API's tokens and the metrics one."""

from starlette.types import Scope

from app.errors import InvalidToken, NotAuthenticated


def bearer_token(scope: Scope) -> str:
    """The token of the request's only Authorization header, whose scheme must be Bearer.

    Raises NotAuthenticated without such a header and InvalidToken for more than one: RFC 9110
    allows one, and with two a proxy and the app may disagree about the caller."""
    values: list[bytes] = [value for name, value in scope["headers"] if name == b"authorization"]
    if not values:
        raise NotAuthenticated(reason="no 'Authorization: Bearer' header")
    scheme, _, token = values[0].decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated(reason="no 'Authorization: Bearer' header")
    if len(values) > 1:
        raise InvalidToken(reason="more than one Authorization header")
    return token
