"""Slow and oversized connections against a running server, and what normal clients see.

    scripts/attack --url http://127.0.0.1:8000 --attack slowloris --connections 1000

Holds N hostile connections open for --seconds (reconnecting, as an attacker would, whenever
the server closes one), while --clients normal clients send GET /health back to back. Prints
how many hostile connections the server closed, and the normal clients' success and latency.
Every attack stays on 127.0.0.1 and ends after --seconds.

Attacks:
  slowloris   a request head that never ends: one more header line every --drip seconds
  idle        connect, send nothing
  slow-body   a POST whose Content-Length promises more than is ever sent
  big-header  a header that grows without end (64 KiB per --drip)
"""

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

CHUNK = b"a" * 64 * 1024


@dataclass
class Tally:
    opened: int = 0
    closed_by_server: int = 0
    refused_to_connect: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


async def hostile(host: str, port: int, kind: str, drip: float, until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            tally.refused_to_connect += 1
            await asyncio.sleep(drip)
            continue
        tally.opened += 1
        try:
            if kind == "slow-body":
                writer.write(
                    b"POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n{"
                )
            elif kind != "idle":
                writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            line = 0
            while time.monotonic() < until:
                if kind == "slowloris":
                    writer.write(b"X-%d: y\r\n" % line)
                    line += 1
                elif kind == "big-header":
                    writer.write(b"X-Big: " + CHUNK if line == 0 else CHUNK)
                    line += 1
                await writer.drain()
                try:
                    answer = await asyncio.wait_for(reader.read(4096), drip)
                except TimeoutError:
                    continue
                if not answer:  # closed without a word
                    tally.statuses["closed"] = tally.statuses.get("closed", 0) + 1
                else:
                    status = answer.split(b" ", 2)[1].decode() if b" " in answer else "?"
                    tally.statuses[status] = tally.statuses.get(status, 0) + 1
                tally.closed_by_server += 1
                break
        except OSError:
            tally.closed_by_server += 1
            tally.statuses["reset"] = tally.statuses.get("reset", 0) + 1
        finally:
            writer.close()


async def normal(url: str, until: float, latencies: list[float], failures: list[str]) -> None:
    # A fresh connection per request, as a new visitor would: the one that must get in.
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(f"{url}/health")
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                failures.append(str(response.status_code))
        except httpx.HTTPError as error:
            failures.append(type(error).__name__)
        await asyncio.sleep(0.05)


async def main(args: argparse.Namespace) -> None:
    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("attack only servers on this machine")
    until = time.monotonic() + args.seconds
    tally = Tally()
    latencies: list[float] = []
    failures: list[str] = []
    attackers = [
        asyncio.create_task(hostile(host, port, args.attack, args.drip, until, tally))
        for _ in range(args.connections)
    ]
    await asyncio.sleep(min(2, args.seconds / 4))  # let the attack build up first
    clients = [
        asyncio.create_task(normal(args.url, until, latencies, failures))
        for _ in range(args.clients)
    ]
    await asyncio.gather(*attackers, *clients)

    total = len(latencies) + len(failures)
    print(f"attack: {args.attack}, {args.connections} connections for {args.seconds:.0f} s")
    print(
        f"  hostile connections opened {tally.opened}, closed by the server "
        f"{tally.closed_by_server} {dict(sorted(tally.statuses.items()))}, "
        f"could not connect {tally.refused_to_connect}"
    )
    if latencies:
        ms = sorted(1000 * x for x in latencies)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(
            f"  normal clients: {len(latencies)}/{total} ok, latency p50 "
            f"{statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms"
        )
    else:
        print(f"  normal clients: 0/{total} ok")
    if failures:
        counts = {failure: failures.count(failure) for failure in sorted(set(failures))}
        print(f"  failures: {counts}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--attack", choices=["slowloris", "idle", "slow-body", "big-header"], default="slowloris"
    )
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--drip", type=float, default=2, help="seconds between hostile sends")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
