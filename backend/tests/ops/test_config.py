"""Settings rules (environment variables, `.env`, production safety) and CORS once configured."""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from app.config import MIN_SECRET_LENGTH, Settings
from tests.support.helpers import ALICE, SECRET, all_tasks, auth

ALLOWED_ORIGIN = "https://app.example.com"
OTHER_ORIGIN = "https://evil.example.net"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shell running the tests must not leak its own DATABASE_URL or secret in."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def settings_from_environment() -> Settings:
    return Settings(_env_file=None)


def test_production_without_secret_fails_naming_the_variable() -> None:
    with pytest.raises(
        ValidationError, match="BETTER_AUTH_SECRET or AUTH_JWKS_URL is required in production"
    ):
        Settings(_env_file=None, environment="production")


def test_production_is_the_default_environment() -> None:
    with pytest.raises(ValidationError, match="BETTER_AUTH_SECRET"):
        settings_from_environment()


def test_secret_shorter_than_32_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters") as error:
        Settings(_env_file=None, better_auth_secret="s" * (MIN_SECRET_LENGTH - 1))
    assert error.value.errors()[0]["loc"] == ("better_auth_secret",)


def test_secret_of_32_characters_is_accepted() -> None:
    settings = Settings(_env_file=None, better_auth_secret="s" * MIN_SECRET_LENGTH)

    assert settings.better_auth_secret is not None
    assert settings.better_auth_secret.get_secret_value() == "s" * MIN_SECRET_LENGTH


def test_secret_is_not_shown_in_repr() -> None:
    settings = Settings(_env_file=None, better_auth_secret=SECRET)

    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())


def test_development_without_secret_is_allowed() -> None:
    settings = Settings(_env_file=None, environment="development")

    assert settings.is_development
    assert settings.better_auth_secret is None


JWKS_URL = "https://app.example.com/api/auth/jwks"


def test_production_with_only_a_jwks_url_is_allowed() -> None:
    settings = Settings(
        _env_file=None,
        auth_jwks_url=JWKS_URL,
        auth_issuer=ALLOWED_ORIGIN,
        auth_audience=ALLOWED_ORIGIN,
    )

    assert settings.better_auth_secret is None
    assert settings.auth_jwks_algorithms == ["EdDSA", "ES256", "ES512", "RS256", "PS256"]


@pytest.mark.parametrize("missing", ["auth_issuer", "auth_audience"])
def test_jwks_url_requires_issuer_and_audience(missing: str) -> None:
    values: dict[str, Any] = {
        "auth_issuer": ALLOWED_ORIGIN,
        "auth_audience": ALLOWED_ORIGIN,
        missing: None,
    }
    with pytest.raises(ValidationError, match="AUTH_ISSUER and AUTH_AUDIENCE are required"):
        Settings(_env_file=None, auth_jwks_url=JWKS_URL, **values)


@pytest.mark.parametrize("url", ["ftp://keys.example.com/jwks", "not a url", "/api/auth/jwks"])
def test_jwks_url_must_be_http_or_https(url: str) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None, better_auth_secret=SECRET, auth_jwks_url=url)
    assert ("auth_jwks_url",) in [e["loc"] for e in error.value.errors()]


def test_jwks_algorithms_come_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    monkeypatch.setenv("AUTH_JWKS_ALGORITHMS", "EdDSA, RS256")

    assert settings_from_environment().auth_jwks_algorithms == ["EdDSA", "RS256"]


@pytest.mark.parametrize("algorithms", ["HS256", "EdDSA,none", "RS256,HS512", "ed25519", ""])
def test_jwks_algorithms_are_asymmetric_only(
    monkeypatch: pytest.MonkeyPatch, algorithms: str
) -> None:
    """An HMAC algorithm there would let a public key act as a shared secret."""
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    monkeypatch.setenv("AUTH_JWKS_ALGORITHMS", algorithms)
    with pytest.raises(ValidationError, match="auth_jwks_algorithms"):
        settings_from_environment()


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_hmac_algorithms_are_accepted(algorithm: str) -> None:
    settings = Settings(_env_file=None, better_auth_secret=SECRET, jwt_algorithm=algorithm)

    assert settings.jwt_algorithm == algorithm


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA", "none", "None", "hs256", ""])
def test_other_jwt_algorithms_are_refused(algorithm: str) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None, better_auth_secret=SECRET, jwt_algorithm=algorithm)
    assert [e["loc"] for e in error.value.errors()] == [("jwt_algorithm",)]


def test_jwt_algorithm_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    monkeypatch.setenv("JWT_ALGORITHM", "none")

    with pytest.raises(ValidationError, match="jwt_algorithm"):
        settings_from_environment()


def test_cors_origins_come_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", f" {ALLOWED_ORIGIN}, http://localhost:3000 ,,")

    settings = settings_from_environment()

    assert settings.cors_allow_origins == [ALLOWED_ORIGIN, "http://localhost:3000"]


def test_cors_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)

    assert settings_from_environment().cors_allow_origins == []


def test_env_example_documents_every_setting() -> None:
    example = (Path(__file__).resolve().parents[3] / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))

    assert documented == {name.upper() for name in Settings.model_fields}


def test_settings_are_read_from_an_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"BETTER_AUTH_SECRET={SECRET}\n"
        "DATABASE_URL=postgresql://app:pw@db.example.com/tasks?sslmode=require\n"
        f"CORS_ALLOW_ORIGINS={ALLOWED_ORIGIN}\n"
        "JWT_ALGORITHM=HS512\n"
    )

    settings = Settings(_env_file=env_file)

    assert settings.better_auth_secret is not None
    assert settings.better_auth_secret.get_secret_value() == SECRET
    assert settings.database_url == "postgresql://app:pw@db.example.com/tasks?sslmode=require"
    assert settings.cors_allow_origins == [ALLOWED_ORIGIN]
    assert settings.jwt_algorithm == "HS512"


def test_environment_variables_win_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"BETTER_AUTH_SECRET={SECRET}\nDATABASE_URL=sqlite:///from-file.db\n")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-environment.db")

    assert Settings(_env_file=env_file).database_url == "sqlite:///from-environment.db"


@pytest.mark.parametrize(
    ("environment", "auto_migrate", "migrate_on_start"),
    [
        ("development", None, True),
        ("production", None, False),
        ("development", False, False),
        ("production", True, True),
    ],
)
def test_migrate_on_start_follows_environment_unless_overridden(
    environment: str, auto_migrate: bool | None, migrate_on_start: bool
) -> None:
    settings = Settings(
        _env_file=None,
        environment=environment,
        auto_migrate=auto_migrate,
        better_auth_secret=SECRET,
    )

    assert settings.migrate_on_start is migrate_on_start


def test_auto_migrate_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("AUTO_MIGRATE", "false")

    assert settings_from_environment().migrate_on_start is False


CORS_ON = {"cors_allow_origins": [ALLOWED_ORIGIN]}


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
async def test_preflight_from_allowed_origin_is_allowed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.options("/api/tasks", headers=preflight(ALLOWED_ORIGIN))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type"} <= set(allowed_headers.replace(" ", "").split(","))
    assert await all_tasks(app) == []


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
async def test_preflight_from_other_origin_gets_no_allow_origin(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.options("/api/tasks", headers=preflight(OTHER_ORIGIN))

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert await all_tasks(app) == []


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
async def test_request_from_allowed_origin_can_read_the_response(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = {"Origin": ALLOWED_ORIGIN, **auth(ALICE)}

    response = await client.post("/api/tasks", json={"title": "from the browser"}, headers=headers)

    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    exposed = response.headers["access-control-expose-headers"].lower().replace(" ", "")
    assert {"link", "etag", "idempotency-replayed"} <= set(exposed.split(","))
    assert [task.title for task in await all_tasks(app)] == ["from the browser"]


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
async def test_preflight_allows_the_sync_headers(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = {
        **preflight(ALLOWED_ORIGIN),
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, if-match, idempotency-key, last-event-id",
    }

    response = await client.options(
        "/api/tasks/00000000-0000-4000-8000-000000000000", headers=headers
    )

    assert response.status_code == 200, response.text
    allowed = response.headers["access-control-allow-headers"].lower().replace(" ", "")
    assert {"if-match", "if-none-match", "idempotency-key", "last-event-id"} <= set(
        allowed.split(",")
    )


@pytest.mark.parametrize("settings_overrides", [CORS_ON])
async def test_request_from_other_origin_gets_no_allow_origin(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/tasks", headers={"Origin": OTHER_ORIGIN, **auth(ALICE)})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_without_cors_setting_no_origin_is_allowed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.options("/api/tasks", headers=preflight(ALLOWED_ORIGIN))

    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 405
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"
    assert await all_tasks(app) == []


def test_streams_may_take_two_thirds_of_the_connections_and_no_more() -> None:
    at_the_share = Settings(
        _env_file=None, better_auth_secret=SECRET, max_connections=30, sse_max_streams=20
    )
    assert at_the_share.stream_limit == 20
    with pytest.raises(ValidationError, match=r"SSE_MAX_STREAMS \(21\) .* at most 20"):
        Settings(_env_file=None, better_auth_secret=SECRET, max_connections=30, sse_max_streams=21)


def test_the_stream_limit_defaults_to_its_share_of_the_connections() -> None:
    assert Settings(_env_file=None, better_auth_secret=SECRET).stream_limit == 1000
    lowered = Settings(_env_file=None, better_auth_secret=SECRET, max_connections=200)
    assert lowered.stream_limit == 133
