# Shared by scripts/*: find Python 3.11+, create .venv, install taskapi when its inputs change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
  for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "taskapi needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

# ensure_venv EXTRAS: "" for the app alone, "dev" for tests and linters. The stamp records
# what was installed: an environment with "dev" also serves "", so scripts/run and
# scripts/test share one .venv without reinstalling it each time you switch.
ensure_venv() {
  local extras="$1" spec="$ROOT/backend" inputs installed
  [ -n "$extras" ] && spec="$ROOT/backend[$extras]"
  if [ ! -x "$VENV/bin/python" ]; then
    "$(find_python)" -m venv "$VENV"
  fi
  inputs="$(cat "$ROOT/backend/pyproject.toml" "$ROOT/backend/constraints.txt" | cksum | cut -d' ' -f1)"
  installed="$(cat "$VENV/.installed" 2>/dev/null || true)"
  if [ "$installed" != "$inputs-$extras" ] && [ "$installed" != "$inputs-dev" ]; then
    echo "Installing taskapi into .venv ..." >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -c "$ROOT/backend/constraints.txt" -e "$spec" >&2
    echo "$inputs-$extras" > "$VENV/.installed"
  fi
  export PATH="$VENV/bin:$PATH"
}

# The real Better Auth server that tests/auth/test_better_auth.py starts (Node.js): installed when
# npm is there and its lock file changed; without npm that test is skipped (CI requires it).
ensure_better_auth() {
  local dir="$ROOT/e2e/better-auth" stamp
  command -v npm >/dev/null 2>&1 || return 0
  stamp="$(cksum < "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$dir/node_modules/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "Installing Better Auth (e2e/better-auth) ..." >&2
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2); then
      echo "npm ci failed in e2e/better-auth: tests/auth/test_better_auth.py will not run" >&2
      return 0
    fi
    echo "$stamp" > "$dir/node_modules/.installed"
  fi
}

# The TypeScript client's tools (clients/typescript: openapi-typescript, tsc, Redocly CLI):
# installed when npm is there and its lock file changed; without npm,
# tests/ops/test_typescript_client.py is skipped (CI requires it).
ensure_typescript_client() {
  local dir="$ROOT/clients/typescript" stamp
  command -v npm >/dev/null 2>&1 || return 0
  stamp="$(cksum < "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$dir/node_modules/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "Installing the TypeScript client's tools (clients/typescript) ..." >&2
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2); then
      echo "npm ci failed in clients/typescript: tests/ops/test_typescript_client.py will not run" >&2
      return 0
    fi
    echo "$stamp" > "$dir/node_modules/.installed"
  fi
}

# The Next.js example (examples/web): installed when npm is there and its lock file changed,
# after the SDK it depends on is built (npm installs clients/typescript as a packed copy:
# `install-links` in examples/web/.npmrc). Without npm, tests/web is skipped (CI requires it).
ensure_web_example() {
  local dir="$ROOT/examples/web" client="$ROOT/clients/typescript" stamp
  command -v npm >/dev/null 2>&1 || return 0
  ensure_typescript_client
  [ -x "$client/node_modules/.bin/tsc" ] || return 0
  (cd "$client" && npm run --silent build >&2) || return 0
  stamp="$( (cat "$dir/package-lock.json"; find "$client/dist" -name '*.js' -type f | sort | xargs cat) | cksum | cut -d' ' -f1)"
  if [ "$(cat "$dir/node_modules/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "Installing the Next.js example (examples/web; better-sqlite3 compiles: ~80 s) ..." >&2
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2); then
      echo "npm ci failed in examples/web: tests/web will not run" >&2
      return 0
    fi
    echo "$stamp" > "$dir/node_modules/.installed"
  fi
}
