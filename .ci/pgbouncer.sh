#!/usr/bin/env bash
# PgBouncer in transaction mode on 127.0.0.1:6432 in front of the local PostgreSQL: the pooling
# Neon's "-pooler" hosts use, for tests/db/test_pgbouncer.py. Safe to run again: it rewrites the
# config and reloads a running daemon instead of starting a second one.
set -euo pipefail

DIR=/tmp/taskapi-pgbouncer
PORT=6432
PIDFILE="$DIR/pgbouncer.pid"
export PATH="$PATH:/usr/sbin:/usr/local/sbin"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

if ! command -v pgbouncer >/dev/null 2>&1; then
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq pgbouncer
  # Where the package starts its own instance it would hold our port.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet pgbouncer 2>/dev/null; then
    $SUDO systemctl stop pgbouncer
  fi
fi

# Classic transaction pooling: PgBouncer 1.21+ can track named prepared statements itself; we
# turn that off so the tests prove the app needs no help from the pooler.
extra=""
version="$(pgbouncer --version | awk 'NR == 1 {print $2}')"
if [ "$(printf '%s\n' 1.21 "$version" | sort -V | head -1)" = 1.21 ]; then
  extra="max_prepared_statements = 0"
fi

mkdir -p "$DIR"
cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
logfile = $DIR/pgbouncer.log
pidfile = $PIDFILE
$extra
EOF
printf '"postgres" ""\n' >"$DIR/userlist.txt"

# PgBouncer refuses to run as root: as root, hand it (and its files) to the postgres user.
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres: "$DIR"
  run_as=(-u postgres)
fi
chmod 0644 "$DIR/pgbouncer.ini" "$DIR/userlist.txt"

running() {  # a live process, not a zombie left by a kill
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)" && [ -n "$pid" ] &&
    ps -o stat= -p "$pid" 2>/dev/null | grep -qv '^Z'
}

if running; then
  kill -HUP "$(cat "$PIDFILE")"
  echo "PgBouncer already running (pid $(cat "$PIDFILE")); config reloaded"
else
  rm -f "$PIDFILE"  # stale: its process is gone, or a zombie nobody reaped
  if ! pgbouncer -d "${run_as[@]}" "$DIR/pgbouncer.ini"; then
    echo "PgBouncer did not start; see $DIR/pgbouncer.log" >&2
    exit 1
  fi
fi

for _ in $(seq 30); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres && break
  sleep 0.5
done
if ! psql -q -At -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'SELECT 1' >/dev/null; then
  echo "PgBouncer is not answering on 127.0.0.1:$PORT; see $DIR/pgbouncer.log" >&2
  exit 1
fi
echo "PgBouncer (transaction pooling) on 127.0.0.1:$PORT -> 127.0.0.1:5432"
