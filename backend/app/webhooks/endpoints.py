"""/api/webhooks: HTTP in, service call, HTTP out."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel

from app.auth.dependencies import CurrentUserId
from app.errors import (
    AuthError,
    DeliveryNotFound,
    InvalidInput,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    WebhookForbidden,
    WebhookNotFound,
    WebhookQuotaExceeded,
)
from app.http.dependencies import Pagination, database_of, settings_of
from app.http.openapi import error_responses
from app.http.responses import JsonBody
from app.kit.schemas import CANONICAL_UUID
from app.webhooks import service
from app.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)
from app.webhooks.ssrf import Resolver, SystemResolver

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
WEBHOOK_PATH = "/{webhook_id}"
_SYSTEM_RESOLVER = SystemResolver()
_COMMON = (AuthError, RateLimited, ServiceUnavailable)
_OWNED = (WebhookForbidden, WebhookNotFound, *_COMMON)


def _parse_id(value: str, error: type[WebhookNotFound] | type[DeliveryNotFound]) -> uuid.UUID:
    if CANONICAL_UUID.fullmatch(value) is None:
        raise error(error.NOT_A_UUID)
    return uuid.UUID(value)


async def webhook_id_from_path(
    webhook_id: Annotated[
        str, Path(description="The webhook's UUID.", json_schema_extra={"format": "uuid"})
    ],
) -> uuid.UUID:
    """A malformed id names no webhook: 404, like a missing one."""
    return _parse_id(webhook_id, WebhookNotFound)


async def delivery_id_from_path(
    delivery_id: Annotated[
        str, Path(description="The delivery's UUID.", json_schema_extra={"format": "uuid"})
    ],
) -> uuid.UUID:
    return _parse_id(delivery_id, DeliveryNotFound)


WebhookId = Annotated[uuid.UUID, Depends(webhook_id_from_path)]
DeliveryId = Annotated[uuid.UUID, Depends(delivery_id_from_path)]


def resolver_of(request: Request) -> Resolver:
    """DNS, unless the app was given another resolver (`app.state.webhook_resolver`: tests)."""
    resolver: Resolver = getattr(request.app.state, "webhook_resolver", None) or _SYSTEM_RESOLVER
    return resolver


ResolverDep = Annotated[Resolver, Depends(resolver_of)]


def _shaped(model: type[BaseModel], row: dict[str, Any], code: int = 200) -> JsonBody:
    return JsonBody(model.model_validate(row).model_dump(), status_code=code)


@router.get("", response_model=list[WebhookRead], responses=error_responses(*_COMMON))
async def list_webhooks(request: Request, user_id: CurrentUserId) -> Response:
    """List the caller's webhooks, oldest first (secrets are never shown again)."""
    database = database_of(request)
    rows = await service.list_webhooks(database, user_id)
    return JsonBody([WebhookRead.model_validate(row).model_dump() for row in rows])


@router.post(
    "",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    response_description="The webhook, with its signing secret: the only time it is shown.",
    responses=error_responses(InvalidInput, PayloadTooLarge, WebhookQuotaExceeded, *_COMMON),
)
async def create_webhook(
    request: Request,
    body: WebhookCreate,
    user_id: CurrentUserId,
    resolver: ResolverDep,
) -> Response:
    """Create a webhook: the caller's changes of these types are delivered to `url` from now
    on, signed as Standard Webhooks specifies."""
    database = database_of(request)
    settings = settings_of(request)
    created = await service.create_webhook(database, user_id, body, settings, resolver)
    return _shaped(WebhookWithSecret, created, status.HTTP_201_CREATED)


@router.get(WEBHOOK_PATH, response_model=WebhookRead, responses=error_responses(*_OWNED))
async def get_webhook(request: Request, user_id: CurrentUserId, webhook_id: WebhookId) -> Response:
    """Read one of the caller's webhooks."""
    database = database_of(request)
    return _shaped(WebhookRead, await service.get_webhook(database, user_id, webhook_id))


@router.put(
    WEBHOOK_PATH,
    response_model=WebhookRead,
    responses=error_responses(InvalidInput, PayloadTooLarge, *_OWNED),
)
async def update_webhook(
    request: Request,
    body: WebhookUpdate,
    user_id: CurrentUserId,
    webhook_id: WebhookId,
    resolver: ResolverDep,
) -> Response:
    """Change some fields of one of the caller's webhooks; omitted fields are kept."""
    database = database_of(request)
    settings = settings_of(request)
    updated = await service.update_webhook(database, user_id, webhook_id, body, settings, resolver)
    return _shaped(WebhookRead, updated)


@router.delete(
    WEBHOOK_PATH, status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(*_OWNED)
)
async def delete_webhook(
    request: Request, user_id: CurrentUserId, webhook_id: WebhookId
) -> Response:
    """Delete one of the caller's webhooks and its deliveries; nothing more is sent to it."""
    database = database_of(request)
    await service.delete_webhook(database, user_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    WEBHOOK_PATH + "/rotate-secret",
    response_model=WebhookWithSecret,
    responses=error_responses(*_OWNED),
)
async def rotate_webhook_secret(
    request: Request, user_id: CurrentUserId, webhook_id: WebhookId
) -> Response:
    """A new signing secret, shown once. Until `previous_secret_until` every delivery carries
    two signatures, one with each secret."""
    database = database_of(request)
    settings = settings_of(request)
    rotated = await service.rotate_secret(database, user_id, webhook_id, settings)
    return _shaped(WebhookWithSecret, rotated)


@router.post(
    WEBHOOK_PATH + "/ping",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(*_OWNED),
)
async def ping_webhook(request: Request, user_id: CurrentUserId, webhook_id: WebhookId) -> Response:
    """Send a `webhook.ping` now (to a disabled webhook too): its fate shows in `deliveries`."""
    database = database_of(request)
    delivery = await service.ping(database, user_id, webhook_id)
    return _shaped(DeliveryRead, delivery, status.HTTP_202_ACCEPTED)


@router.get(
    WEBHOOK_PATH + "/deliveries",
    response_model=list[DeliveryRead],
    responses=error_responses(InvalidInput, *_OWNED),
)
async def list_deliveries(
    request: Request, user_id: CurrentUserId, webhook_id: WebhookId, page: Pagination
) -> Response:
    """The webhook's deliveries, newest first, each with its attempts (status code,
    duration) and its next retry."""
    database = database_of(request)
    rows = await service.list_deliveries(database, user_id, webhook_id, page.limit, page.offset)
    return JsonBody([DeliveryRead.model_validate(row).model_dump() for row in rows])


@router.post(
    WEBHOOK_PATH + "/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(DeliveryNotFound, *_OWNED),
)
async def retry_delivery(
    request: Request, user_id: CurrentUserId, webhook_id: WebhookId, delivery_id: DeliveryId
) -> Response:
    """Send a delivery again now, with the same `webhook-id` and body."""
    database = database_of(request)
    delivery = await service.retry_delivery(database, user_id, webhook_id, delivery_id)
    return _shaped(DeliveryRead, delivery, status.HTTP_202_ACCEPTED)
