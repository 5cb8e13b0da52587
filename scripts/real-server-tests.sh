#!/usr/bin/env bash
# real-server-tests.sh: runs the real-server tests (tests/it/real_server*.rs) against REAL
# llama.cpp llama-servers.
#
# Builds (or reuses) llama-server and its tiny model with ../shared/real-server/setup.sh,
# starts one plain server and one with --api-key on free ports, runs
#   cargo test --test it real_server -- --ignored --test-threads=1
# with GOSHI_REAL_SERVER_URL, GOSHI_REAL_SERVER_KEYED_URL and GOSHI_REAL_SERVER_KEY set,
# and stops both servers whatever happens. The exit code is cargo test's.
#
# Run from anywhere in the repository: bash scripts/real-server-tests.sh [TEST NAME FILTER]
# Env: GOSHI_REAL_SERVER_DIR (default: ../shared/real-server beside the repository),
#      GOSHI_REAL_SERVER_CACHE (where setup.sh builds; default ~/.cache/goshi-real-server).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RS=${GOSHI_REAL_SERVER_DIR:-$ROOT/../shared/real-server}
T0=$(date +%s)
say() { echo "[real-server-tests $(($(date +%s) - T0))s] $*" >&2; }

if [ ! -x "$RS/setup.sh" ] || [ ! -x "$RS/start.sh" ]; then
  say "no real-server kit at $RS (expected ../shared/real-server beside the repository;"
  say "set GOSHI_REAL_SERVER_DIR to point elsewhere)"
  exit 2
fi
RS=$(cd "$RS" && pwd)
CACHE=${GOSHI_REAL_SERVER_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/goshi-real-server}

# The real-server suite: the ignored tests of tests/it/real_server*.rs (module names real_server*).
TARGETS=(--test it)

PIDS=()
TEST_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Interrupted while the tests run: stop them (cargo and the test binary it started) too.
  if [ -n "$TEST_PID" ] && kill -0 "$TEST_PID" 2>/dev/null; then
    local kids
    kids=$(pgrep -P "$TEST_PID" || true)
    # shellcheck disable=SC2086 # one word per PID
    kill "$TEST_PID" $kids 2>/dev/null || true
    wait "$TEST_PID" 2>/dev/null || true
  fi
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ "${#PIDS[@]}" -eq 0 ] || say "stopped the servers (${PIDS[*]})"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "setting up llama-server ($RS/setup.sh; a first run compiles for minutes)"
"$RS/setup.sh" >&2 </dev/null

# Compile first, so the build does not compete with the servers for the CPUs.
say "building the tests"
(cd "$ROOT" && cargo test "${TARGETS[@]}" --no-run) </dev/null

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server VAR [args...]: starts a server on a free port (a few tries, in case another
# process takes the port first), records its PID, and sets VAR to its URL.
start_server() {
  local var=$1 port pid try
  shift
  for try in 1 2 3 4 5; do
    port=$(free_port)
    if pid=$(THREADS=${THREADS:-1} "$RS/start.sh" "$port" "$@" </dev/null); then
      PIDS+=("$pid")
      printf -v "$var" 'http://127.0.0.1:%s' "$port"
      say "llama-server pid $pid on port $port${1:+ with $1}"
      return 0
    fi
    say "start on port $port failed (try $try of 5); see $CACHE/logs/server-$port.log"
  done
  return 1
}

KEY="goshi-real-server-key-$RANDOM$RANDOM"
start_server PLAIN_URL
start_server KEYED_URL --api-key "$KEY"

export GOSHI_REAL_SERVER_URL=$PLAIN_URL
export GOSHI_REAL_SERVER_KEYED_URL=$KEYED_URL
export GOSHI_REAL_SERVER_KEY=$KEY

say "running the real-server tests"
# In the background and waited for, so that a signal reaches the trap at once.
cd "$ROOT"
cargo test "${TARGETS[@]}" -- --ignored --test-threads=1 "${@:-real_server}" </dev/null &
TEST_PID=$!
rc=0
wait "$TEST_PID" || rc=$?
TEST_PID=
say "cargo test exited with $rc"
exit "$rc"
