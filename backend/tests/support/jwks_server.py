"""Real signing keys and a real JWKS endpoint on 127.0.0.1, standing in for Better Auth's
`jwt` plugin: its key set (`/api/auth/jwks`) and the tokens it mints."""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

BASE_URL = "http://127.0.0.1:3000"  # Better Auth's default iss and aud: the app's base URL

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class SigningKey:
    algorithm: str
    private_key: PrivateKey
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)

    def jwk(self, *, with_alg: bool = True) -> dict[str, Any]:
        """The public half, as Better Auth's JWKS endpoint lists it."""
        public = self.private_key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            data = OKPAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            data = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            assert isinstance(public, rsa.RSAPublicKey)
            data = RSAAlgorithm.to_jwk(public, as_dict=True)
        data["kid"] = self.kid
        if with_alg:
            data["alg"] = self.algorithm
        return data

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def generate_key(algorithm: str) -> SigningKey:
    private_key: PrivateKey
    if algorithm == "EdDSA":
        private_key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm.startswith("ES"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
        private_key = ec.generate_private_key(curve[algorithm])
    else:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(algorithm, private_key)


def better_auth_claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    """What the jwt plugin puts in a token by default: the user record, sub, iss, aud, iat and
    an exp 15 minutes on (and no nbf)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "id": user_id,
        "name": "Alice Example",
        "email": "alice@example.com",
        "emailVerified": True,
        "image": None,
        "createdAt": "2026-11-01T09:00:00.000Z",
        "updatedAt": "2026-11-01T09:00:00.000Z",
        "iat": now,
        "exp": now + 15 * 60,
        "iss": BASE_URL,
        "aud": BASE_URL,
        "sub": user_id,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not ...}


def better_auth_token(
    key: SigningKey, user_id: str, *, header: dict[str, Any] | None = None, **claims: Any
) -> str:
    """A token as the jwt plugin signs it: header {alg, kid}, no typ. `header` and `claims`
    add or override; a header field given as None, or a claim given as `...`, is left out."""
    fields = {"kid": key.kid, **(header or {})}
    headers = {"typ": None, **{name: value for name, value in fields.items() if value is not None}}
    return jwt.encode(
        better_auth_claims(user_id, **claims),
        key.private_key,
        algorithm=key.algorithm,
        headers=headers,
    )


class JwksServer:
    """Serves `keys` at /api/auth/jwks; `status` other than 200 makes it fail, `body` replaces
    the document. Counts the requests it gets."""

    def __init__(
        self, keys: list[dict[str, Any]], port: int = 0, poll_interval: float = 0.02
    ) -> None:
        """`poll_interval`: how soon stop() returns; short for tests, long where the wake-ups
        would compete with a busy process (the benchmark)."""
        self.keys = keys
        self.status = 200
        self.body: bytes | None = None
        self.redirect_to: str | None = None
        self.delay = 0.0  # seconds before answering, to keep a fetch in flight
        self.requests = 0
        self.answered = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/auth/jwks"

    def start(self) -> "JwksServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                with server._lock:
                    server.requests += 1
                time.sleep(server.delay)
                if server.redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.end_headers()
                    return
                body = server.body or json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with server._lock:
                    server.answered += 1

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler
