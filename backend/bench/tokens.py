"""Token verification cost per algorithm: microseconds per `TokenVerifier.verify` call, keys
already cached (the steady state), through the same code the API runs.

    python -m bench.tokens [--calls 3000]
"""

import argparse
import asyncio
import time

from app.auth.jwks import open_key_set
from app.auth.tokens import mint_token
from app.auth.verifier import TokenVerifier
from tests.support.helpers import SECRET, make_settings
from tests.support.jwks_server import BASE_URL, JwksServer, better_auth_token, generate_key

ASYMMETRIC = ["EdDSA", "ES256", "ES512", "RS256", "PS256"]


async def per_call_microseconds(verifier: TokenVerifier, token: str, calls: int) -> float:
    await verifier.verify(token)  # warm up
    started = time.perf_counter()
    for _ in range(calls):
        await verifier.verify(token)
    return (time.perf_counter() - started) / calls * 1e6


async def run(calls: int) -> None:
    keys = {algorithm: generate_key(algorithm) for algorithm in ASYMMETRIC}
    server = JwksServer([key.jwk() for key in keys.values()]).start()
    settings = make_settings(
        better_auth_secret=SECRET,
        auth_jwks_url=server.url,
        auth_issuer=BASE_URL,
        auth_audience=BASE_URL,
    )
    try:
        async with open_key_set(settings) as jwks:
            verifier = TokenVerifier(settings, jwks)
            hs256 = mint_token(SECRET, "alice", issuer=BASE_URL, audience=BASE_URL)
            print(f"{'algorithm':<10}{'us/verify':>10}")
            print(f"{'HS256':<10}{await per_call_microseconds(verifier, hs256, calls):>10.0f}")
            for algorithm, key in keys.items():
                token = better_auth_token(key, "alice")
                cost = await per_call_microseconds(verifier, token, calls)
                print(f"{algorithm:<10}{cost:>10.0f}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3000)
    asyncio.run(run(parser.parse_args().calls))


if __name__ == "__main__":
    main()
