"""Instructions per request: `taskapi serve` under Valgrind's callgrind, each scenario's
requests sent one after another, and only those requests counted (start-up, seeding and
warm-up are not). Requests per second on a shared machine move by 10-50% between runs; this
count moves by 1-4%, so it can tell whether a change made a request cheaper. It counts the
server process only: on SQLite that includes the database's work, on PostgreSQL not.

    cd backend && ../.venv/bin/python -m bench.instructions                  # SQLite
    cd backend && ../.venv/bin/python -m bench.instructions --database postgres
    # another checkout on the same data: its own install's `taskapi`
    ../.venv/bin/python -m bench.instructions --taskapi /path/to/venv/bin/taskapi
    # the benchmark's floor on the same data: floor / taskapi estimates run.sh's ratio
    ../.venv/bin/python -m bench.instructions --floor ../../shared/bench/floor
    # where they go: keep the callgrind files, then callgrind_annotate one
    ../.venv/bin/python -m bench.instructions --scenarios create --keep /tmp/callgrind

Needs valgrind (`apt-get install valgrind`). Seeds 200 users x 100 tasks (the seven columns
every schema version has), as the side-by-side benchmark does; jobs run elsewhere
(JOBS_IN_PROCESS=false), so no background loop is counted.
"""

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from sqlalchemy import Column, MetaData, Table, insert
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import metadata
from bench.load import free_port, scratch_postgres

SECRET = "instructions-secret-0123456789abcdef0123456789"
SCENARIOS = ("get", "list", "create", "toggle")
# Only the columns every schema version has, through the app's column types (ids, times and
# flags stored as the app stores them); the table's own defaults fill the rest.
_SEEDED = ("id", "user_id", "title", "description", "is_completed", "created_at", "updated_at")
_SEED = insert(
    Table(
        "tasks",
        MetaData(),
        *(Column(name, metadata.tables["tasks"].c[name].type) for name in _SEEDED),
    )
)


def seed_rows(users: int, tasks: int) -> dict[str, list[uuid.UUID]]:
    rng = random.Random(20261206)
    return {
        f"instr-user-{u:04d}": [
            uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(tasks)
        ]
        for u in range(users)
    }


async def seed(url: str, owned: dict[str, list[uuid.UUID]]) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows: list[dict[str, object]] = []
    for user, ids in owned.items():
        for n, task_id in enumerate(ids):
            stamp = start + timedelta(seconds=len(rows))  # one second apart, all distinct
            rows.append(
                {
                    "id": task_id,
                    "user_id": user,
                    "title": f"Task {n} of {user}",
                    "description": None if n % 4 == 0 else f"Seeded description {n}",
                    "is_completed": n % 3 == 0,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(_SEED, rows)
    finally:
        await engine.dispose()


def request(
    conn: http.client.HTTPConnection, scenario: str, token: str, ids: list[uuid.UUID]
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    task = str(random.choice(ids))
    if scenario == "get":
        conn.request("GET", f"/api/tasks/{task}", headers=headers)
    elif scenario == "list":
        conn.request("GET", "/api/tasks", headers=headers)
    elif scenario == "create":
        body = json.dumps({"title": "bench task", "description": "made by the bench"})
        conn.request("POST", "/api/tasks", body=body, headers=headers)
    else:
        body = json.dumps({"is_completed": random.random() < 0.5})
        conn.request("PUT", f"/api/tasks/{task}", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status >= 300:
        raise RuntimeError(f"{scenario}: {response.status}")


def self_cost_by_object(path: Path) -> dict[str, int]:
    """A callgrind file's exclusive instruction count per shared object."""
    names: dict[str, str] = {}
    cost: dict[str, int] = defaultdict(int)
    current, after_call = "?", False
    for line in path.read_text().splitlines():
        if line.startswith(("ob=", "cob=")):
            found = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line)
            if found is None:
                continue
            if found.group(2):
                names[found.group(1)] = found.group(2).rsplit("/", 1)[-1]
            if line.startswith("ob="):
                current = names.get(found.group(1), "?")
        elif line.startswith("calls="):
            after_call = True  # the next cost line is the call's inclusive cost
        elif line[:1].isdigit() or line[:1] in "+-*":
            if after_call:
                after_call = False
                continue
            parts = line.split()
            if len(parts) >= 2:
                cost[current] += int(parts[1])
    return cost


def kind_of(shared_object: str) -> str:
    if shared_object.startswith("libpython"):
        return "python"
    if shared_object.startswith("libsqlite3"):
        return "sqlite"
    return "other"


def measure(args: argparse.Namespace, url: str, workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_", "LOG_"))}
    env.update(
        DATABASE_URL=url,
        BETTER_AUTH_SECRET=SECRET,
        ENVIRONMENT="production",
        JOBS_IN_PROCESS="false",
        PYTHONUNBUFFERED="1",
    )
    subprocess.run([args.taskapi, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    owned = seed_rows(args.users, args.tasks)
    asyncio.run(seed(url, owned))
    port = free_port()
    out = workdir / "callgrind.out"
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
        *_server(args, port, env),
    ]  # fmt: skip
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    now = int(time.time())
    tokens = {
        user: jwt.encode({"sub": user, "iat": now, "exp": now + 6 * 3600}, SECRET, "HS256")
        for user in owned
    }
    users = list(owned)
    try:
        conn = _wait_ready(port, server, workdir)
        print(f"{args.database}, {args.requests} requests each, after {args.warmup} unmeasured")
        print(f"{'scenario':10} {'M instr/request':>16} {'python':>8} {'sqlite':>8} {'other':>8}")
        for scenario in args.scenarios.split(","):
            for n in range(args.warmup + args.requests):
                if n == args.warmup:
                    _control(server.pid, "-z")
                    _control(server.pid, "-i", "on")
                user = users[n % len(users)]
                request(conn, scenario, tokens[user], owned[user])
            _control(server.pid, "-i", "off")
            before = set(workdir.glob("callgrind.out.*"))
            _control(server.pid, "-d")
            dump = _new_file(workdir, before)
            if args.keep is not None:  # for callgrind_annotate: where the instructions go
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(dump, args.keep / f"callgrind.{args.database}.{scenario}.out")
            split: dict[str, int] = defaultdict(int)
            for shared_object, cost in self_cost_by_object(dump).items():
                split[kind_of(shared_object)] += cost
            per = {kind: cost / args.requests / 1e6 for kind, cost in split.items()}
            print(
                f"{scenario:10} {sum(per.values()):16.3f} {per.get('python', 0):8.3f}"
                f" {per.get('sqlite', 0):8.3f} {per.get('other', 0):8.3f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(60)


def _server(args: argparse.Namespace, port: int, env: dict[str, str]) -> list[str]:
    """`taskapi serve`; with `--floor`, the side-by-side benchmark's floor on the same data and
    port, started as that benchmark starts it (uvicorn, uvloop, httptools, no access log)."""
    if args.floor is None:
        return [args.taskapi, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("+asyncpg", "").replace("+aiosqlite", "")
    module = "pg:app" if args.database == "postgres" else "sqlite:app"
    return [
        sys.executable, "-m", "uvicorn", "--app-dir", str(args.floor), module,
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def _wait_ready(
    port: int, server: "subprocess.Popen[bytes]", workdir: Path
) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 300  # Python under callgrind starts ~50x slower
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited: see {workdir / 'server.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return conn
        except OSError:
            pass
        time.sleep(1)
    sys.exit(f"the server did not answer /health: see {workdir / 'server.log'}")


def _control(pid: int, *options: str) -> None:
    subprocess.run(["callgrind_control", *options, str(pid)], check=True, capture_output=True)


def _new_file(workdir: Path, before: set[Path]) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = set(workdir.glob("callgrind.out.*")) - before
        if new:
            time.sleep(0.5)  # let callgrind finish writing it
            return max(new, key=lambda path: path.stat().st_mtime)
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--requests", type=int, default=300, help="measured, per scenario")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured, per scenario")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=100, help="seeded tasks per user")
    parser.add_argument(
        "--taskapi",
        default=str(Path(sys.executable).parent / "taskapi"),
        help="the `taskapi` executable to measure (default: this environment's)",
    )
    parser.add_argument(
        "--floor",
        type=Path,
        help="measure the side-by-side benchmark's floor instead (its floor/ directory, e.g. "
        "../../shared/bench/floor), to estimate its taskapi/floor ratio without the noise",
    )
    parser.add_argument(
        "--keep", type=Path, help="copy each scenario's callgrind file into this directory"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("needs valgrind: apt-get install valgrind")
    with tempfile.TemporaryDirectory(prefix="taskapi-instructions-") as directory:
        workdir = Path(directory)
        if args.database == "postgres":
            url = asyncio.run(scratch_postgres())
        else:
            url = f"sqlite+aiosqlite:///{workdir / 'taskapi.db'}"
        measure(args, url, workdir)


if __name__ == "__main__":
    main()
