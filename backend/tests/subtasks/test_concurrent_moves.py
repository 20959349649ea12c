"""20 clients moving the same 50 tasks at random, 300 moves in all: every task present once,
a strict order among each set of siblings, no lost subtree, counts right, and the events
replaying to the same tree. Both databases. (`python -m bench.concurrent_moves`: a minute.)"""

import httpx
from fastapi import FastAPI

from tests.support.move_drill import check_tree, run_drill, seed


async def test_concurrent_random_moves_keep_one_strict_tree(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ids = await seed(client, 50)

    result = await run_drill(client, ids, clients=20, attempts=300)

    assert sum(result.moves.values()) == 300, result.moves
    assert result.moves[200] >= 100, result.moves  # most moves are possible ones
    assert set(result.moves) <= {200, 400}, result.moves  # refusals only for bad targets
    await check_tree(app, client, ids)
