"""MAX_LISTS_PER_USER: a create past it is a 409 that writes nothing; per user."""

import httpx
import pytest
from fastapi import FastAPI

from tests.lists.helpers import create_list, events, list_rows
from tests.support.helpers import ALICE, BOB, assert_error, auth


@pytest.mark.parametrize("settings_overrides", [{"max_lists_per_user": 2}])
async def test_lists_per_user(client: httpx.AsyncClient, app: FastAPI) -> None:
    await create_list(client)
    second = await create_list(client)
    before = await list_rows(app), await events(app)

    refused = await client.post("/api/lists", json={"name": "third"}, headers=auth(ALICE))

    assert_error(refused, 409, "LIST_QUOTA_EXCEEDED")
    assert (await list_rows(app), await events(app)) == before
    await create_list(client, BOB)  # another user's quota is their own
    await client.delete(f"/api/lists/{second['id']}", headers=auth(ALICE))
    await create_list(client)  # room again
