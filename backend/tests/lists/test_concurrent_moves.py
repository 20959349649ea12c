"""Moves racing each other: every list present once, no two equal positions, and the full
changes feed replays to the order the API lists."""

import asyncio
import random

import httpx
from fastapi import FastAPI

from tests.lists.helpers import create_list, list_rows
from tests.support.helpers import ALICE, auth


async def test_racing_moves_keep_a_strict_order_that_the_feed_replays(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    lists = [await create_list(client, name=str(n)) for n in range(8)]
    ids = [item["id"] for item in lists]
    chance = random.Random(17)

    async def move_at_random() -> None:
        for _ in range(5):
            moving, other = chance.sample(ids, 2)
            where = chance.choice(["before", "after", "first", "last"])
            body = {where: other} if where in ("before", "after") else {"place": where}
            response = await client.post(
                f"/api/lists/{moving}/move", json=body, headers=auth(ALICE)
            )
            assert response.status_code == 200, response.text

    await asyncio.gather(*(move_at_random() for _ in range(6)))

    rows = await list_rows(app)
    positions = [row["position"] for row in rows]
    assert sorted(str(row["id"]) for row in rows) == sorted(ids)
    assert len(set(positions)) == len(positions)
    listed = [item["id"] for item in (await client.get("/api/lists", headers=auth(ALICE))).json()]
    replayed: dict[str, str] = {}
    body = (await client.get("/api/changes?limit=3", headers=auth(ALICE))).json()
    while True:
        replayed |= {item["id"]: item["position"] for item in body["lists"]}
        if not body["has_more"]:
            break
        next_url = f"/api/changes?since={body['next_token']}&limit=3"
        body = (await client.get(next_url, headers=auth(ALICE))).json()
    assert sorted(replayed, key=lambda id_: (replayed[id_], id_)) == listed
