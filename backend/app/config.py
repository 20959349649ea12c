"""Settings: every knob in one class, read from the environment and `.env`."""

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

HmacAlgorithm = Literal["HS256", "HS384", "HS512"]
AsymmetricAlgorithm = Literal[
    "EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"
]
# What Better Auth's jwt plugin can sign with (its keyPairConfig.alg choices).
BETTER_AUTH_ALGORITHMS: list[AsymmetricAlgorithm] = ["EdDSA", "ES256", "ES512", "RS256", "PS256"]
MIN_SECRET_LENGTH = 32  # Better Auth itself refuses shorter secrets; so does RFC 7518 for HS256.
# "600/minute": a number of requests per second, minute, hour or day; or "off".
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
RateLimitSpec = Annotated[str, Field(pattern=r"^(off|[1-9][0-9]{0,8}/(second|minute|hour|day))$")]


def _valid_cron(value: str) -> str:
    from croniter import croniter

    if not croniter.is_valid(value):
        raise ValueError(f"{value!r} is not a cron schedule (e.g. '0 * * * *'; seconds last)")
    return value


# A cron schedule: five fields, or six with seconds last ("*/5 * * * * *": every 5 s).
CronSpec = Annotated[str, AfterValidator(_valid_cron)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Literal["development", "production"] = "production"
    database_url: str = "sqlite+aiosqlite:///./taskapi.db"
    # None means: apply migrations on start in development, refuse to start in production.
    auto_migrate: bool | None = None

    better_auth_secret: SecretStr | None = None
    jwt_algorithm: HmacAlgorithm = "HS256"
    jwt_user_id_claim: str = Field(default="sub", min_length=1)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    auth_issuer: str | None = None
    auth_audience: str | None = None
    # Better Auth's public keys, e.g. https://app.example.com/api/auth/jwks. Only this URL is
    # ever fetched: a token's own jku / x5u / kid never names where keys come from.
    auth_jwks_url: AnyHttpUrl | None = None
    auth_jwks_algorithms: Annotated[list[AsymmetricAlgorithm], NoDecode] = Field(
        default_factory=lambda: list(BETTER_AUTH_ALGORITHMS), min_length=1
    )
    # Keys are re-read this often in the background, so rotation and revocation show up
    # without a restart and without a request waiting for the fetch.
    auth_jwks_refresh_seconds: float = Field(default=300, gt=0)
    # At most one fetch per this interval (per worker), however many unknown kids arrive.
    auth_jwks_cooldown_seconds: float = Field(default=10, ge=0)
    auth_jwks_timeout_seconds: float = Field(default=5, gt=0, le=60)
    # Signs list cursors; set the same value on every replica. Unset: BETTER_AUTH_SECRET, else
    # a random key per process (a cursor then fails with INVALID_CURSOR on another replica).
    cursor_secret: SecretStr | None = None
    max_token_bytes: int = Field(default=8192, ge=256, le=65536)

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # What one connection may cost before its request reaches the app (see app/http/server.py).
    max_request_head_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_url_bytes: int = Field(default=8 * 1024, ge=256, le=1024 * 1024)
    header_timeout_seconds: float = Field(default=10, gt=0)
    body_timeout_seconds: float = Field(default=30, gt=0)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    # Every open socket, event streams included; streams may take at most STREAM_SHARE of them,
    # so ordinary requests always have room (see README "How the limits fit together").
    max_connections: int = Field(default=1500, ge=2)
    # A response the client takes no bytes of for this long is aborted (its buffer dropped).
    send_timeout_seconds: float = Field(default=30, gt=0)
    # On SIGTERM: event streams end at once; other requests get this long to finish.
    shutdown_grace_seconds: int = Field(default=10, ge=1)
    # Browser origins (scheme://host[:port]) allowed to call the API; normalised at start-up
    # to what a browser sends in `Origin`, so `https://App.example.com/` still matches.
    cors_allow_origins: Annotated[list[str], NoDecode] = []
    # This API's public origin, e.g. https://api.example.com: with it, `Link` headers are
    # absolute. Never taken from the request's Host header, which a client chooses.
    public_base_url: str | None = None
    # /docs, /redoc and /openapi.json; false: all three are 404s (the API itself is unchanged).
    api_docs: bool = True

    # PostgreSQL, per worker. A fixed pool: overflow connections are closed and reopened under
    # load. (SQLite uses a fixed pool of 4.)
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    # How long a request may wait for a free connection before 503 DATABASE_BUSY.
    db_pool_timeout_seconds: float = Field(default=5, gt=0)
    # How long one statement may take (PostgreSQL) or wait for SQLite's write lock, before the
    # request fails with 503 DATABASE_UNAVAILABLE.
    db_statement_timeout_seconds: float = Field(default=5, gt=0)
    # How long opening a PostgreSQL connection (TCP, TLS, authentication) may take; a
    # `connect_timeout` in DATABASE_URL wins. asyncpg's own default is 60 s.
    db_connect_timeout_seconds: float = Field(default=5, gt=0)
    # A connection idle this long is pinged before use (and replaced if dead); busy ones are not.
    db_ping_after_idle_seconds: float = Field(default=5, ge=0)
    # Neon suspends idle computes after 5 minutes; recycling sooner than that means a
    # pooled connection rarely outlives its server, and pre-ping catches the rest.
    db_pool_recycle_seconds: int = Field(default=300, ge=1)
    # "auto" turns on PgBouncer-safe settings when the host name contains "-pooler" (Neon).
    db_pooler: Literal["auto", "pgbouncer", "none"] = "auto"

    # Tasks one user may hold: a create past it is a 409 TASK_QUOTA_EXCEEDED.
    max_tasks_per_user: int = Field(default=100_000, ge=1)
    # Lists one user may hold (409 LIST_QUOTA_EXCEEDED past it), and tasks one list may hold
    # (409 LIST_FULL for a create, update or move that would put more in it).
    max_lists_per_user: int = Field(default=1_000, ge=1)
    max_tasks_per_list: int = Field(default=10_000, ge=1)
    # Subtasks (README "Subtasks and a manual order"): levels of nesting (a top-level task is
    # level 1), direct children of one task, operations in one POST /api/tasks/batch, and the
    # length of a position key a move may write (app.kit.positions; the column holds 255).
    max_task_depth: int = Field(default=4, ge=1, le=32)
    max_subtasks_per_parent: int = Field(default=500, ge=1)
    max_batch_operations: int = Field(default=100, ge=1, le=1000)
    position_key_max_length: int = Field(default=128, ge=16, le=255)

    # Sync (README "Building an offline-first client"). A repeated Idempotency-Key replays the
    # first response for this long; deleted tasks are reported to delta sync for this long (an
    # older token answers 410). Both are purged by a background job (app.jobs), on this schedule.
    idempotency_key_retention_seconds: int = Field(default=24 * 3600, ge=60)
    tombstone_retention_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    sync_purge_schedule: CronSpec = "0 * * * *"
    # Event streams (GET /api/tasks/events), per server process.
    sse_heartbeat_seconds: float = Field(default=15, gt=0)
    sse_max_streams_per_user: int = Field(default=5, ge=1)
    # Default: STREAM_SHARE of MAX_CONNECTIONS (1000 of 1500).
    sse_max_streams: int | None = Field(default=None, ge=1)
    # A client that takes no bytes for this long loses its stream (it resumes with Last-Event-ID).
    sse_send_timeout_seconds: float = Field(default=30, gt=0)
    # PostgreSQL: where the LISTEN connection goes. PgBouncer in transaction mode cannot LISTEN:
    # point this at the direct (non-pooler) host. Default: DATABASE_URL.
    database_listen_url: str | None = None

    # Background jobs (README "Background jobs"). `taskapi serve` runs the worker in each server
    # process unless this is off (when `taskapi worker` runs separately).
    jobs_in_process: bool = True
    # PostgreSQL: how often an idle worker looks for due jobs when it cannot LISTEN (PgBouncer),
    # and as a safety net when it can.
    jobs_poll_seconds: float = Field(default=5, gt=0)
    jobs_concurrency: int = Field(default=4, ge=1, le=100)
    # A worker silent this long is dead: the jobs it was running are retried, checked on this
    # schedule (by one worker at a time).
    jobs_heartbeat_seconds: float = Field(default=10, gt=0)
    jobs_stalled_after_seconds: float = Field(default=60, gt=0)
    jobs_stalled_check_schedule: CronSpec = "* * * * *"
    # When the reminders job looks for due reminders (README "Reminders"): every minute, so a
    # reminder fires within a minute of its time.
    reminders_schedule: CronSpec = "* * * * *"
    # How long stopping waits for running jobs before abandoning them (they are retried).
    jobs_shutdown_seconds: float = Field(default=5, ge=0)

    # Webhooks (README "Webhooks"). Per user: endpoints, and event types one endpoint may
    # subscribe to. A rotated secret still signs (beside the new one) for this long.
    max_webhooks_per_user: int = Field(default=20, ge=1)
    max_webhook_event_types: int = Field(default=16, ge=1)
    webhook_secret_overlap_seconds: int = Field(default=24 * 3600, ge=0)
    # Loopback, private and link-local targets are refused unless this is on (a trusted
    # network's own receivers; the tests' local receiver).
    webhook_allow_private_targets: bool = False
    # The wait before each retry (Standard Webhooks' schedule), with up to 10% jitter; a
    # delivery that failed them all is given up. Retry-After wins when longer (capped at 1 day).
    webhook_retry_schedule_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        min_length=1,
    )
    # An endpoint whose every attempt failed for this long is disabled (a `webhook.disabled`
    # event says so); a 410 Gone disables it at once.
    webhook_disable_after_seconds: int = Field(default=5 * 24 * 3600, ge=1)
    webhook_connect_timeout_seconds: float = Field(default=5, gt=0)
    webhook_timeout_seconds: float = Field(default=15, gt=0)  # the whole attempt
    webhook_max_response_bytes: int = Field(default=64 * 1024, ge=0)
    # Attempts at once per worker process, and per endpoint within it.
    webhook_concurrency: int = Field(default=64, ge=1, le=1000)
    webhook_concurrency_per_endpoint: int = Field(default=4, ge=1, le=100)
    # How often an idle webhook worker looks for new events and due retries.
    webhook_poll_seconds: float = Field(default=0.2, gt=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # One JSON line per request (app.http.request_log); off by default: writing it costs throughput.
    access_log: bool = False

    # Requests per caller (the verified token's subject) and per client address (requests
    # without a valid token), as "<count>/<second|minute|hour>", or "off".
    rate_limit: RateLimitSpec = "3000/minute"
    rate_limit_anonymous: RateLimitSpec = "300/minute"
    # Shares the counters between workers and replicas; unset: each worker counts in memory.
    redis_url: SecretStr | None = None
    rate_limit_key_prefix: str = Field(default="taskapi", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")

    # The MCP endpoint (README "Use it from an AI assistant"). MCP_RESOURCE_URL is its public
    # URL (https://api.example.com/mcp): a token for it must name exactly that in `aud`, and the
    # metadata (RFC 9728) names it. Unset: no /mcp at all (404).
    mcp_resource_url: str | None = None
    # Who issues tokens for it (`iss`, and the metadata's authorization server); default
    # AUTH_ISSUER. Better Auth's OAuth provider issues as https://app.example.com/api/auth.
    mcp_auth_issuer: str | None = None
    # When set, a read tool needs this scope in the token's `scope` (or `scp`), a write tool
    # the write one; unset: no scope is needed.
    mcp_read_scope: str | None = Field(default=None, pattern=r"^[!#-\[\]-~]+$")
    mcp_write_scope: str | None = Field(default=None, pattern=r"^[!#-\[\]-~]+$")
    # DNS-rebinding protection: the Host values /mcp answers besides MCP_RESOURCE_URL's own
    # (e.g. an internal name a proxy uses), and the browser origins besides CORS_ALLOW_ORIGINS.
    mcp_allowed_hosts: Annotated[list[str], NoDecode] = []
    mcp_allowed_origins: Annotated[list[str], NoDecode] = []

    # Prometheus metrics at /metrics, for `Authorization: Bearer <METRICS_TOKEN>` only; unset:
    # no metrics are collected and /metrics is a 404.
    metrics_token: SecretStr | None = None

    @field_validator(
        "cors_allow_origins",
        "auth_jwks_algorithms",
        "mcp_allowed_hosts",
        "mcp_allowed_origins",
        "webhook_retry_schedule_seconds",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("cors_allow_origins", "mcp_allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(normalise_origin(value) for value in values))

    @field_validator("public_base_url")
    @classmethod
    def _public_origin(cls, value: str | None) -> str | None:
        return normalise_origin(value) if value else None

    @field_validator("mcp_resource_url")
    @classmethod
    def _resource_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if (
            parts.scheme not in _DEFAULT_PORTS
            or not parts.hostname
            or parts.query
            or parts.fragment
        ):
            raise ValueError(
                f"{value!r} is not an http(s) URL without a query (https://api.example.com/mcp)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(_REDIS_SCHEMES):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("better_auth_secret", "metrics_token", "cursor_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @model_validator(mode="after")
    def _can_verify_tokens_in_production(self) -> "Settings":
        if (
            self.environment == "production"
            and self.better_auth_secret is None
            and self.auth_jwks_url is None
        ):
            raise ValueError(
                "BETTER_AUTH_SECRET or AUTH_JWKS_URL is required in production "
                "(for local use run `taskapi serve --dev`)"
            )
        return self

    @model_validator(mode="after")
    def _jwks_tokens_are_bound_to_this_app(self) -> "Settings":
        # A JWKS often serves many apps (or is public): without iss and aud, a token the
        # same auth server issued for another audience would be accepted here.
        if self.auth_jwks_url is not None and not (self.auth_issuer and self.auth_audience):
            raise ValueError(
                "AUTH_ISSUER and AUTH_AUDIENCE are required with AUTH_JWKS_URL "
                "(Better Auth's default for both is your app's base URL)"
            )
        return self

    @model_validator(mode="after")
    def _streams_leave_room_for_requests(self) -> "Settings":
        if self.sse_max_streams is not None and self.sse_max_streams > max_streams_for(
            self.max_connections
        ):
            raise ValueError(
                f"SSE_MAX_STREAMS ({self.sse_max_streams}) must leave a third of MAX_CONNECTIONS "
                f"({self.max_connections}) to ordinary requests: at most "
                f"{max_streams_for(self.max_connections)}"
            )
        return self

    @property
    def stream_limit(self) -> int:
        """SSE_MAX_STREAMS, or its share of MAX_CONNECTIONS when unset."""
        return self.sse_max_streams or max_streams_for(self.max_connections)

    @model_validator(mode="after")
    def _development_only_without_jwks(self) -> "Settings":
        # Development signs tokens with a secret kept on disk: beside Better Auth's keys, that
        # would be a second way in for anyone who can read the secret, the logs or one stray
        # ENVIRONMENT line in `.env`.
        if self.environment == "development" and self.auth_jwks_url is not None:
            raise ValueError(
                "ENVIRONMENT=development (what `--dev` and `taskapi token` use) cannot be "
                "combined with AUTH_JWKS_URL: remove one of them"
            )
        return self

    @model_validator(mode="after")
    def _heartbeats_come_before_a_worker_counts_as_dead(self) -> "Settings":
        # Else a live worker would be declared dead between two heartbeats, its jobs run twice.
        if self.jobs_stalled_after_seconds <= 2 * self.jobs_heartbeat_seconds:
            raise ValueError("JOBS_STALLED_AFTER_SECONDS must exceed twice JOBS_HEARTBEAT_SECONDS")
        return self

    @property
    def mcp_issuer(self) -> str | None:
        return self.mcp_auth_issuer or self.auth_issuer

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def migrate_on_start(self) -> bool:
        return self.is_development if self.auto_migrate is None else self.auto_migrate


def max_streams_for(max_connections: int) -> int:
    """Event streams hold their connection for hours: two thirds of the connections at most,
    so a full house of streams never starves ordinary requests of a socket."""
    return max(1, max_connections * 2 // 3)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(value: str) -> str:
    """`scheme://host[:port]` as a browser writes it in `Origin`: lower case, no default port,
    no trailing slash. Anything else (a path, a wildcard, no scheme) is refused: it could never
    match, and every browser call would fail without a word."""
    example = "e.g. http://localhost:3000"
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} is not an origin ({example})") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or parts.username:
        raise ValueError(f"{value!r} is not an origin: use scheme://host[:port] ({example})")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "*" in parts.netloc:
        raise ValueError(f"{value!r} is not an origin: no path, query or wildcard ({example})")
    scheme = parts.scheme.lower()
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    suffix = "" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}"
    return f"{scheme}://{host}{suffix}"


def settings_for_migrations() -> Settings:
    """Migrating needs DATABASE_URL and nothing else, not even the token secret."""
    return Settings(environment="development", better_auth_secret=None, auth_jwks_url=None)
