"""`GET /api/tasks` as a query: each filter and sort alone and combined, due dates across time
zones, cursor paging, and every bad parameter. Both databases; Bob's look-alike tasks are in
every table so a filter that leaked across users would show."""

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from app.tasks.query import TaskFilter, TaskQuery
from tests.support.helpers import ALICE, BOB, SECRET, all_rows, assert_error, auth, create_task

TASKS: list[dict[str, Any]] = [
    # title, and the new fields; created in this order (so newest first is the reverse)
    {"title": "Pay rent", "priority": "high", "tags": ["Home", "money"], "due_date": "2026-12-01"},
    {"title": "apple pie", "priority": "low", "tags": ["home"], "due_at": "2026-12-01T12:00:00Z"},
    {"title": "Straße fegen", "priority": "medium", "tags": ["WORK"], "is_completed": True},
    {"title": "Café 😀 meeting", "description": "100% sure_thing", "tags": ["work", "Money"]},
    {"title": "Zebra", "priority": "high", "due_at": "2026-11-30T23:30:00-05:00"},
    {"title": "overdue report", "priority": "high", "tags": ["work"], "due_date": "2020-01-01"},
    {"title": "done long ago", "due_date": "2020-01-02", "is_completed": True},
]


@pytest.fixture
async def titles(app: FastAPI, client: httpx.AsyncClient) -> list[str]:
    """Alice's tasks above, and for each a copy owned by Bob: same fields, "bob " in front."""
    for fields in TASKS:
        await create_task(client, ALICE, **fields)
        await create_task(client, BOB, **{**fields, "title": "bob " + fields["title"]})
    return [fields["title"] for fields in TASKS]


async def listed(client: httpx.AsyncClient, query: str, user: str = ALICE) -> list[str]:
    response = await client.get(f"/api/tasks?{query}", headers=auth(user))
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


# --- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("completed=true", ["Straße fegen", "done long ago"]),
        (
            "completed=false",
            ["Pay rent", "apple pie", "Café 😀 meeting", "Zebra", "overdue report"],
        ),
        ("priority=high", ["Pay rent", "Zebra", "overdue report"]),
        ("priority=low&priority=medium", ["apple pie", "Straße fegen"]),
        ("priority=none", ["Café 😀 meeting", "done long ago"]),
        ("tag=home", ["Pay rent", "apple pie"]),
        ("tag=HOME&tag=Money", ["Pay rent"]),
        ("tag=work", ["Straße fegen", "Café 😀 meeting", "overdue report"]),
        ("tag=work&tag=money", ["Café 😀 meeting"]),
        ("tag=nothing", []),
        ("q=straße", ["Straße fegen"]),
        ("q=STRASSE", ["Straße fegen"]),
        ("q=café", ["Café 😀 meeting"]),
        ("q=😀", ["Café 😀 meeting"]),
        ("q=" + quote("100%"), ["Café 😀 meeting"]),
        ("q=" + quote("%"), ["Café 😀 meeting"]),
        ("q=_", ["Café 😀 meeting"]),
        ("q=s_r", []),  # "_" is a character, not a wildcard ("sure" does not match)
        ("q=sure", ["Café 😀 meeting"]),
        ("q=PIE", ["apple pie"]),
        ("q=bob", []),  # Bob's titles never match for Alice
        ("q=%20%20", [t["title"] for t in TASKS]),  # an empty search box searches for nothing
        ("overdue=true", ["overdue report"]),
        ("due_before=2026-01-01", ["overdue report", "done long ago"]),
        ("due_after=2026-01-01", ["Pay rent", "apple pie", "Zebra"]),
        ("due_after=2026-12-01", []),
        ("due_after=2026-11-30", ["Pay rent", "apple pie", "Zebra"]),
        ("due_before=2026-12-01", ["overdue report", "done long ago"]),
        (
            "due_before=2026-12-02",
            ["Pay rent", "apple pie", "Zebra", "overdue report", "done long ago"],
        ),
    ],
)
async def test_each_filter_alone(
    client: httpx.AsyncClient, titles: list[str], query: str, expected: list[str]
) -> None:
    # created_at ascending: the creation order above
    assert await listed(client, query + "&sort=created_at") == expected


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        # Alice's due tasks: all-day 2026-12-01 "Pay rent"; timed 2026-12-01T12:00Z "apple pie";
        # timed 2026-11-30T23:30-05:00 = 2026-12-01T04:30Z "Zebra".
        # 10:00 on Dec 1 at +14:00 is Nov 30 20:00Z: nothing timed before it; the all-day
        # task is on Dec 1, not before Dec 1.
        ("2026-12-01T10:00:00+14:00", []),
        # 00:30 on Dec 2 at +14:00 is Dec 1 10:30Z: Zebra (04:30Z) is before; apple pie (12:00Z)
        # is not; the all-day Dec 1 is before Dec 2 (the bound's own date).
        ("2026-12-02T00:30:00+14:00", ["Pay rent", "Zebra"]),
        # 23:00 on Nov 30 at -11:00 is Dec 1 10:00Z: Zebra is before; the all-day Dec 1 is not
        # before Nov 30.
        ("2026-11-30T23:00:00-11:00", ["Zebra"]),
        ("2026-12-01T12:00:00Z", ["Zebra"]),  # strictly before
        ("2026-12-01T12:00:01Z", ["Zebra", "apple pie"]),
    ],
)
async def test_due_before_compares_all_day_tasks_by_date_and_timed_ones_by_instant(
    client: httpx.AsyncClient, titles: list[str], bound: str, expected: list[str]
) -> None:
    query = f"due_after=2026-06-01&due_before={quote(bound)}&sort=due"
    assert sorted(await listed(client, query)) == sorted(expected)


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        # Dec 1 00:00Z, local date Nov 30: the all-day Dec 1 is after Nov 30
        ("2026-11-30T10:00:00-14:00", ["Pay rent", "Zebra", "apple pie"]),
        ("2026-12-01T04:30:00Z", ["apple pie"]),  # Zebra is exactly then: not after
        ("2026-12-01T01:00:00Z", ["Zebra", "apple pie"]),  # all-day Dec 1 is not after Dec 1
        ("2026-11-30T23:00:00+14:00", ["Pay rent", "Zebra", "apple pie"]),  # Nov 30 09:00Z
        ("2026-12-01", []),  # after the whole day: nothing
    ],
)
async def test_due_after_compares_all_day_tasks_by_date_and_timed_ones_by_instant(
    client: httpx.AsyncClient, titles: list[str], bound: str, expected: list[str]
) -> None:
    assert sorted(await listed(client, f"due_after={quote(bound)}")) == sorted(expected)


async def test_an_unencoded_plus_in_an_offset_still_means_plus(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    # "+14:00" sent raw arrives as " 14:00"
    assert await listed(client, "due_before=2026-12-02T00:30:00+14:00&sort=due") == [
        "overdue report",
        "done long ago",
        "Pay rent",
        "Zebra",
    ]


async def test_filters_combine(client: httpx.AsyncClient, titles: list[str]) -> None:
    query = "completed=false&priority=high&priority=medium&tag=work&due_before=2026-12-31&sort=due"
    assert await listed(client, query) == ["overdue report"]
    assert await listed(client, "tag=home&priority=high&q=rent") == ["Pay rent"]
    assert await listed(client, "tag=money&completed=false&sort=title") == [
        "Café 😀 meeting",
        "Pay rent",
    ]


# --- sort ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created_at", [t["title"] for t in TASKS]),
        ("-created_at", [t["title"] for t in reversed(TASKS)]),
        # no due date last in both directions; all-day sorts at the start of its day (UTC)
        ("due", ["overdue report", "done long ago", "Pay rent", "Zebra", "apple pie"]),
        ("-due", ["apple pie", "Zebra", "Pay rent", "done long ago", "overdue report"]),
        (
            "title",
            [
                "apple pie",
                "Café 😀 meeting",
                "done long ago",
                "overdue report",
                "Pay rent",
                "Straße fegen",
                "Zebra",
            ],
        ),
        (
            "-title",
            [
                "Zebra",
                "Straße fegen",
                "Pay rent",
                "overdue report",
                "done long ago",
                "Café 😀 meeting",
                "apple pie",
            ],
        ),
    ],
)
async def test_each_sort(
    client: httpx.AsyncClient, titles: list[str], sort: str, expected: list[str]
) -> None:
    got = await listed(client, f"sort={sort}")
    assert got[: len(expected)] == expected
    if sort.endswith("due"):
        assert set(got[len(expected) :]) == {"Straße fegen", "Café 😀 meeting"}


@pytest.mark.parametrize("descending", [False, True])
async def test_sort_by_priority_uses_the_rank_with_a_total_tie_break(
    client: httpx.AsyncClient, titles: list[str], descending: bool
) -> None:
    response = await client.get(
        f"/api/tasks?sort={'-' if descending else ''}priority", headers=auth(ALICE)
    )
    tasks = response.json()
    ranks = ["none", "low", "medium", "high"]
    keys = [(ranks.index(task["priority"]), task["id"]) for task in tasks]
    assert keys == sorted(keys, reverse=descending)
    assert len(keys) == len(TASKS)


@pytest.mark.parametrize("sort", ["updated_at", "-updated_at"])
async def test_sort_by_updated_at(client: httpx.AsyncClient, titles: list[str], sort: str) -> None:
    tasks = (await client.get(f"/api/tasks?sort={sort}", headers=auth(ALICE))).json()
    first = tasks[0] if sort == "updated_at" else tasks[-1]
    await client.put(f"/api/tasks/{first['id']}", json={"title": "touched"}, headers=auth(ALICE))

    again = await listed(client, f"sort={sort}")

    assert again[-1 if sort == "updated_at" else 0] == "touched"


async def test_default_order_is_still_newest_first(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    assert await listed(client, "") == [t["title"] for t in reversed(TASKS)]


# --- paging -------------------------------------------------------------------------------


async def walk(client: httpx.AsyncClient, url: str, user: str = ALICE) -> list[list[str]]:
    pages = []
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url, headers=auth(user))
        assert response.status_code == 200, response.text
        pages.append([task["title"] for task in response.json()])
        next_url = response.links.get("next", {}).get("url")
        if next_url is not None:
            assert "offset=" not in next_url
            assert "cursor=" in next_url
    return pages


@pytest.mark.parametrize(
    "query",
    [
        "sort=title",
        "sort=-due",
        "sort=due&completed=false",
        "sort=-priority",
        "tag=work",
        "sort=updated_at",
        "sort=-title&q=e",
        "cursor=",
    ],
)
async def test_cursor_pages_cover_the_whole_result_once(
    client: httpx.AsyncClient, titles: list[str], query: str
) -> None:
    everything = await listed(client, query)

    pages = await walk(client, f"/api/tasks?limit=2&{query}")

    assert [title for page in pages for title in page] == everything
    assert all(len(page) == 2 for page in pages[:-1])
    assert pages[-1]


@pytest.mark.parametrize(
    "title", ["😀" * 200, "ΐ" * 200, "ß" * 200], ids=["emoji", "iota", "eszett"]
)
async def test_cursors_of_the_longest_titles_still_fit(
    app: FastAPI, client: httpx.AsyncClient, title: str
) -> None:
    """Casefolding can triple a title ("ΐ" is three code points folded): its cursor too."""
    for suffix in ("", "a", "b"):
        await create_task(client, ALICE, title=title[: 200 - len(suffix)] + suffix)

    pages = await walk(client, "/api/tasks?sort=-title&limit=1")

    assert [len(page) for page in pages] == [1, 1, 1]


async def test_filtered_offset_paging_still_works_with_offset_links(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    response = await client.get("/api/tasks?sort=title&limit=2&offset=2", headers=auth(ALICE))

    assert [task["title"] for task in response.json()] == ["done long ago", "overdue report"]
    assert response.links["next"]["url"] == "/api/tasks?sort=title&limit=2&offset=4"


async def first_cursor(client: httpx.AsyncClient, query: str, user: str = ALICE) -> str:
    response = await client.get(f"/api/tasks?limit=1&{query}", headers=auth(user))
    url = response.links["next"]["url"]
    return str(httpx.URL(url).params["cursor"])


@pytest.mark.parametrize(
    "other_query",
    ["sort=-title", "sort=title&completed=true", "sort=title&q=a", "sort=title&tag=home"],
)
async def test_a_cursor_from_another_query_is_invalid_cursor(
    client: httpx.AsyncClient, titles: list[str], other_query: str
) -> None:
    cursor = await first_cursor(client, "sort=title")

    response = await client.get(f"/api/tasks?{other_query}&cursor={cursor}", headers=auth(ALICE))

    assert_error(response, 400, "INVALID_CURSOR")


async def test_another_users_cursor_is_invalid_cursor(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    cursor = await first_cursor(client, "sort=title", user=BOB)

    response = await client.get(f"/api/tasks?sort=title&cursor={cursor}", headers=auth(ALICE))

    assert_error(response, 400, "INVALID_CURSOR")


def altered(cursor: str) -> list[str]:
    body, _, mac = cursor.partition(".")
    flip = {"A": "B", "B": "A"}
    return [
        body[:-1] + flip.get(body[-1], "A") + "." + mac,
        body + "." + mac[:-1] + flip.get(mac[-1], "A"),
        body,
        "." + mac,
        cursor + ".",
        cursor[1:],
    ]


async def test_an_altered_cursor_is_invalid_cursor(
    app: FastAPI, client: httpx.AsyncClient, titles: list[str]
) -> None:
    cursor = await first_cursor(client, "sort=title")
    for bad in altered(cursor):
        response = await client.get(
            f"/api/tasks?sort=title&cursor={quote(bad)}", headers=auth(ALICE)
        )
        assert_error(response, 400, "INVALID_CURSOR")


@pytest.mark.parametrize(
    "cursor",
    ["x", "....", "%00", "eyJrIjoxfQ.AAAA", "%F0%9F%98%80", "a" * 4096, "e30.e30", "null"],
)
async def test_a_cursor_that_does_not_parse_is_invalid_cursor(
    client: httpx.AsyncClient, titles: list[str], cursor: str
) -> None:
    response = await client.get(f"/api/tasks?cursor={cursor}", headers=auth(ALICE))
    assert_error(response, 400, "INVALID_CURSOR")


# --- bad parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "mention"),
    [
        ("completed=maybe", "completed"),
        ("priority=urgent", "priority"),
        ("priority=high&priority=3", "priority"),
        ("sort=due_date", "sort"),
        ("sort=%2Btitle", "sort"),
        ("sort=title&sort=due", "sort"),
        ("q=a&q=b", "q"),
        ("due_before=tomorrow", "due_before"),
        ("due_before=2026-12-01T17:00:00", "due_before"),  # no offset
        ("due_before=2026-02-30", "due_before"),
        ("due_after=9999-12-31", "due_after"),
        ("due_before=0001-01-01T00:00:00%2B01:00", "due_before"),
        ("overdue=yes", "overdue"),
        ("overdue=1", "overdue"),
        ("completed=yes", "completed"),
        ("completed=1", "completed"),
        ("completed=on", "completed"),
        ("completed=no", "completed"),
        ("completed=True", "completed"),
        ("completed=0", "completed"),
        ("q=" + "a" * 101, "q"),
        ("q=a%00b", "q"),
        ("tag=" + "t" * 51, "tag"),
        ("tag=a%00", "tag"),
        ("&".join(f"tag=t{n}" for n in range(21)), "tag"),
        ("cursor=abc&offset=1", "cursor"),
        ("cursor=" + "a" * 4097, "cursor"),
        ("limit=0&sort=title", "limit"),
    ],
)
async def test_bad_list_parameters_are_400_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient, titles: list[str], query: str, mention: str
) -> None:
    before = await all_rows(app)

    response = await client.get(f"/api/tasks?{query}", headers=auth(ALICE))

    assert_error(response, 400, "VALIDATION_ERROR", mentions=(mention,))
    assert await all_rows(app) == before


async def test_unknown_parameters_are_ignored_as_before(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    assert await listed(client, "sort=title&tags=home&user_id=" + BOB) == await listed(
        client, "sort=title"
    )


@pytest.mark.parametrize(
    "key",
    [2**63, -(2**70), "a\x00b", "\ud800", 1.5, None, True, [1]],
    ids=["huge", "very-negative", "nul", "surrogate", "float", "null", "bool", "list"],
)
async def test_a_well_signed_cursor_with_an_impossible_key_is_invalid_cursor(
    client: httpx.AsyncClient, titles: list[str], key: object
) -> None:
    """Without BETTER_AUTH_SECRET (JWKS only) anyone can sign a cursor: what it holds must
    still never reach the database as something the driver refuses (a 500)."""
    from app.tasks.cursor import _b64, _mac, cursor_key

    for sort in ("title", "priority", "created_at"):
        query = TaskQuery(TaskFilter(), sort=sort, descending=False, uses_cursor=True)
        body = _b64(json.dumps({"k": key, "i": "0" * 32, "t": 0}).encode())
        mac = _b64(_mac(cursor_key(SECRET), body.encode(), ALICE, query.fingerprint()))
        response = await client.get(
            f"/api/tasks?sort={sort}&cursor={quote(body + '.' + mac)}", headers=auth(ALICE)
        )
        assert_error(response, 400, "INVALID_CURSOR")


@pytest.mark.parametrize(("sort", "key"), [("title", 5), ("priority", "b"), ("-updated_at", "x")])
async def test_a_well_signed_cursor_with_a_key_of_another_kind_is_invalid_cursor(
    client: httpx.AsyncClient, titles: list[str], sort: str, key: object
) -> None:
    from app.tasks.cursor import _b64, _mac, cursor_key

    name = sort.lstrip("-")
    query = TaskQuery(TaskFilter(), sort=name, descending=sort != name, uses_cursor=True)  # type: ignore[arg-type]
    body = _b64(json.dumps({"k": key, "i": "0" * 32, "t": 0}).encode())
    mac = _b64(_mac(cursor_key(SECRET), body.encode(), ALICE, query.fingerprint()))

    response = await client.get(f"/api/tasks?sort={sort}&cursor={body}.{mac}", headers=auth(ALICE))

    assert_error(response, 400, "INVALID_CURSOR")


async def test_a_cursor_signed_with_the_servers_key_works(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    """The counterpart of the test above: the same hand-made cursor, with a sane key, pages."""
    from app.tasks.cursor import _b64, _mac, cursor_key

    query = TaskQuery(TaskFilter(), sort="title", descending=False, uses_cursor=True)
    body = _b64(json.dumps({"k": "d", "i": "0" * 32, "t": 2**55}).encode())
    mac = _b64(_mac(cursor_key(SECRET), body.encode(), ALICE, query.fingerprint()))

    response = await client.get(f"/api/tasks?sort=title&cursor={body}.{mac}", headers=auth(ALICE))

    assert response.status_code == 200, response.text
    assert [task["title"] for task in response.json()][:2] == ["done long ago", "overdue report"]


# --- one rule for values: true|false, and empty means not given ----------------------------


async def test_overdue_false_is_the_same_as_no_overdue_filter(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    assert await listed(client, "overdue=false&sort=title") == await listed(client, "sort=title")


@pytest.mark.parametrize(
    "blank",
    ["tag=", "priority=", "completed=", "overdue=", "due_before=", "due_after=", "q=", "q=%20"]
    + ["sort=", "limit=", "offset=", "cursor=", "tag=%20%20"],
)
async def test_an_empty_parameter_is_the_same_as_leaving_it_out(
    client: httpx.AsyncClient, titles: list[str], blank: str
) -> None:
    everything = await listed(client, "")

    assert await listed(client, blank) == everything
    assert await listed(client, f"{blank}&tag=work") == await listed(client, "tag=work")


async def test_an_empty_value_among_repeated_ones_is_dropped(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    assert await listed(client, "tag=work&tag=&priority=&priority=high") == await listed(
        client, "tag=work&priority=high"
    )


# --- offset=0 is no offset ----------------------------------------------------------------


@pytest.mark.parametrize("offset", ["offset=0", "offset=", "offset=00"])
async def test_offset_zero_with_a_filter_still_gives_cursor_links(
    client: httpx.AsyncClient, titles: list[str], offset: str
) -> None:
    response = await client.get(f"/api/tasks?sort=title&limit=2&{offset}", headers=auth(ALICE))

    assert response.status_code == 200, response.text
    assert "cursor=" in response.links["next"]["url"]
    assert "offset=2" not in response.links["next"]["url"]


async def test_a_cursor_walk_with_offset_zero_on_every_page_is_the_walk_without_it(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    """What Swagger UI and openapi-python-client do: send the default `offset=0` each time."""
    without = await walk(client, "/api/tasks?limit=2&sort=title")
    cursor = await first_cursor(client, "sort=title&limit=2&offset=0")

    response = await client.get(
        f"/api/tasks?sort=title&limit=2&offset=0&cursor={cursor}", headers=auth(ALICE)
    )

    assert response.status_code == 200, response.text
    assert [task["title"] for task in response.json()] == without[1]


async def test_offset_zero_alone_keeps_the_old_offset_link(
    client: httpx.AsyncClient, titles: list[str]
) -> None:
    with_zero = await client.get("/api/tasks?limit=2&offset=0", headers=auth(ALICE))
    without = await client.get("/api/tasks?limit=2", headers=auth(ALICE))

    assert with_zero.json() == without.json()
    assert with_zero.links["next"]["url"] == "/api/tasks?limit=2&offset=2"
