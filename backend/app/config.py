"""Settings: every knob in one class, read from the environment and `.env`."""

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

HmacAlgorithm = Literal["HS256", "HS384", "HS512"]
MIN_SECRET_LENGTH = 32  # Better Auth itself refuses shorter secrets; so does RFC 7518 for HS256.


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
    max_token_bytes: int = Field(default=8192, ge=256, le=65536)

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    cors_allow_origins: Annotated[list[str], NoDecode] = []

    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_seconds: float = Field(default=10, gt=0)
    # Neon suspends idle computes after 5 minutes; recycling sooner than that means a
    # pooled connection rarely outlives its server, and pre-ping catches the rest.
    db_pool_recycle_seconds: int = Field(default=300, ge=1)
    # "auto" turns on PgBouncer-safe settings when the host name contains "-pooler" (Neon).
    db_pooler: Literal["auto", "pgbouncer", "none"] = "auto"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("better_auth_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @model_validator(mode="after")
    def _can_verify_tokens_in_production(self) -> "Settings":
        if self.environment == "production" and self.better_auth_secret is None:
            raise ValueError(
                "BETTER_AUTH_SECRET is required in production "
                "(for local use run `taskapi serve --dev`)"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def migrate_on_start(self) -> bool:
        return self.is_development if self.auto_migrate is None else self.auto_migrate


def settings_for_migrations() -> Settings:
    """Migrating needs DATABASE_URL and nothing else, not even the token secret."""
    return Settings(environment="development", better_auth_secret=None)
