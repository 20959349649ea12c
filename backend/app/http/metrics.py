"""Prometheus metrics at /metrics, only when METRICS_TOKEN is set, and only for a scraper that
sends it as a bearer token. Off (the default), neither the middleware nor the route exists:
requests pay nothing.

Each app has its own registry; with several workers each keeps its own numbers, and a scrape
reaches one of them (run one worker per container, the usual layout, to see them all).
"""

import hmac
import time
from collections.abc import Iterator

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.bearer import bearer_token
from app.config import Settings
from app.errors import AuthError, InvalidToken, NotAuthenticated
from app.http.request_log import route_of

METRICS_PATH = "/metrics"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class RequestMetrics:
    """Request rate, errors (by status) and latency, per method and route template: labels a
    client cannot multiply (unknown methods are "other", unmatched paths have no route)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "taskapi_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "taskapi_http_request_duration_seconds",
            "Time from the request reaching the app to the app finishing with it.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "other"
        # No route: an unknown path, or a request refused before routing (429, 413).
        route = route_of(scope) or "unrouted"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class MeasureRequests:
    """Pure ASGI: times every HTTP request and counts it by its final status."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.observe(scope, status, time.perf_counter() - started)


class StateCollector:
    """What the app holds, read at scrape time: database connections, JWKS fetches."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        state = getattr(self.app.state, "taskapi", None)
        if state is None:  # not started yet, or stopped
            return
        database = state.database
        yield GaugeMetricFamily(
            "taskapi_db_connections_in_use",
            "Database connections held by requests now.",
            value=database.connections_in_use,
        )
        yield GaugeMetricFamily(
            "taskapi_db_connections_max",
            "The most connections requests may hold.",
            value=database.max_connections,
        )
        yield GaugeMetricFamily(
            "taskapi_db_connection_waiters",
            "Requests waiting for a database connection now.",
            value=database.connection_waiters,
        )
        overflows = CounterMetricFamily(
            "taskapi_feed_overflows",
            "Times the change feed's outbox was full and every event stream re-read instead.",
        )
        overflows.add_metric([], state.feed.overflows)
        yield overflows
        jwks = state.token_verifier.key_set
        if jwks is not None:
            fetches = CounterMetricFamily(
                "taskapi_jwks_fetches", "Fetches of the JWKS, by outcome.", labels=["outcome"]
            )
            fetches.add_metric(["ok"], jwks.fetches - jwks.failed_fetches)
            fetches.add_metric(["error"], jwks.failed_fetches)
            yield fetches


def install_metrics(app: FastAPI, settings: Settings) -> None:
    """The measuring middleware and the /metrics route, when METRICS_TOKEN is set."""
    if settings.metrics_token is None:
        return
    expected = settings.metrics_token.get_secret_value().encode()
    registry = CollectorRegistry()
    metrics = RequestMetrics(registry)
    registry.register(StateCollector(app))

    @app.get(METRICS_PATH, include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        try:
            sent = bearer_token(request.scope)
        except AuthError:
            # Any Authorization header that is not the metrics token is a wrong token.
            if "authorization" not in request.headers:
                raise NotAuthenticated() from None
            sent = ""
        if not hmac.compare_digest(sent.encode(), expected):
            raise InvalidToken(reason="wrong metrics token")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    app.add_middleware(MeasureRequests, metrics=metrics)
