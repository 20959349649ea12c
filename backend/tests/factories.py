"""Plain helpers for tests: settings, tokens, and direct database access (no owner filter),
so tests can check what really was (or was not) written."""

import base64
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, select

from app.state import app_state
from app.config import Settings
from app.core.tokens import mint_token
from app.models import Task

SECRET = "test-secret-that-is-long-enough-0123456789abcdef"
ALICE = "aliceAliceAliceAliceAliceAlice01"  # Better Auth ids: 32 alphanumerics
BOB = "bobBobBobBobBobBobBobBobBobBob02"


def make_settings(**overrides: Any) -> Settings:
    """Settings from arguments only: no .env file, production rules on."""
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": "sqlite+aiosqlite:///:memory:",
        "better_auth_secret": SECRET,
        "auto_migrate": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: object) -> str:
    return b64url(json.dumps(value).encode())


def hand_signed(
    header: str, payload: str, key: bytes = SECRET.encode(), digest: str = "sha256"
) -> str:
    """Raw segments signed with HMAC, for tokens PyJWT refuses to build (an unusual header, or
    a public key as the secret)."""
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{b64url(hmac.new(key, signing_input.encode(), digest).digest())}"


def token_for(user_id: str, **kwargs: Any) -> str:
    return mint_token(SECRET, user_id, **kwargs)


def auth(user_id: str, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user_id, **kwargs)}"}


async def make_task(app: FastAPI, user_id: str, **fields: Any) -> Task:
    now = fields.pop("created_at", datetime.now(UTC))
    task = Task(
        id=fields.pop("id", uuid.uuid4()),
        user_id=user_id,
        title=fields.pop("title", "a task"),
        created_at=now,
        updated_at=fields.pop("updated_at", now),
        **fields,
    )
    async with app_state(app).database.sessionmaker() as session:
        session.add(task)
        await session.commit()
    return task


async def delete_all_tasks(app: FastAPI) -> None:
    """The PostgreSQL test database is shared by the whole run: tests start from an empty table."""
    async with app_state(app).database.sessionmaker() as session:
        await session.execute(delete(Task))
        await session.commit()


async def all_tasks(app: FastAPI) -> list[Task]:
    """Every row in the table, whoever owns it, oldest first."""
    async with app_state(app).database.sessionmaker() as session:
        rows = await session.scalars(select(Task).order_by(Task.created_at, Task.id))  # type: ignore[arg-type]
        return list(rows.all())


async def stored_task(app: FastAPI, task_id: uuid.UUID | str) -> Task | None:
    async with app_state(app).database.sessionmaker() as session:
        task: Task | None = await session.get(Task, uuid.UUID(str(task_id)))
        return task


async def list_pages(client: httpx.AsyncClient, user: str, limit: int) -> list[list[str]]:
    """The ids on every page of the caller's list, following the Link header as a client would."""
    url: str | None = f"/api/tasks?limit={limit}"
    pages: list[list[str]] = []
    while url is not None:
        response = await client.get(url, headers=auth(user))
        assert response.status_code == 200, response.text
        pages.append([task["id"] for task in response.json()])
        url = response.links.get("next", {}).get("url")
    return pages


def seconds_ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)
