#!/usr/bin/env bash
# Runs a command with REDIS_URL pointing at a Redis. When REDIS_URL is
# already set it is used as is; otherwise a private redis-server is started
# on a free loopback port for the command and stopped afterwards.
#   scripts/with-redis.sh ctest --test-dir build
set -euo pipefail

if [[ -n "${REDIS_URL:-}" ]]; then
  exec "$@"
fi

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

port=$(free_port)
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
  --daemonize no >"$dir/redis.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

for _ in $(seq 1 500); do
  if [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == "PONG" ]]; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    cat "$dir/redis.log" >&2
    exit 1
  fi
  sleep 0.01
done

export REDIS_URL="redis://127.0.0.1:$port"
set +e
"$@"
status=$?
set -e
exit "$status"
