"""Development mode: the secret and token files, kept in one folder per user so that `taskapi
serve --dev` and `taskapi token` agree from any working directory, and the rule that keeps
development mode a local tool."""

import ipaddress
import os
import secrets
from pathlib import Path

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def dev_dir() -> Path:
    """`$XDG_STATE_HOME/taskapi`, else `~/.local/state/taskapi` (the XDG default)."""
    state_home = os.environ.get("XDG_STATE_HOME", "")
    # The XDG spec ignores a relative path: it would change with the working directory.
    base = Path(state_home) if os.path.isabs(state_home) else Path.home() / ".local" / "state"
    return base / "taskapi"


def dev_secret_file() -> Path:
    return dev_dir() / "dev-secret"


def dev_token_file() -> Path:
    return dev_dir() / "dev-token"


def load_or_create_dev_secret() -> str:
    """The random secret in `dev_secret_file()`, created on first use."""
    secret_file = dev_secret_file()
    if not secret_file.exists():
        secret_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written whole to a private temp file, then linked into place: a crash never leaves
        # an empty secret, and of two racing processes the first wins and both read it.
        temp = _write_private_temp(secret_file, secrets.token_hex(32))
        try:
            os.link(temp, secret_file)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return secret_file.read_text().strip()


def write_dev_token(token: str) -> Path:
    """Replace `dev_token_file()` with `token` (mode 0600): read by a command, never logged."""
    token_file = dev_token_file()
    token_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.replace(_write_private_temp(token_file, token), token_file)
    return token_file


def _write_private_temp(target: Path, text: str) -> Path:
    temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(os.open(temp, flags, 0o600), "w") as file:
        file.write(text + "\n")
    return temp


def is_loopback(host: str) -> bool:
    """True for a host only this machine can reach: 127.0.0.0/8, ::1, `localhost`."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
