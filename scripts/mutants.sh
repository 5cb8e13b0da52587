#!/usr/bin/env bash
# mutants.sh: mutation testing (cargo-mutants) of goshi's safety-critical modules: the path
# guard, permissions, proposals and their apply/store, the audit writer's redaction, retry and
# backoff, and the SSE and NDJSON decoders. See docs/testing.md. Not in CI: it is slow.
#
# Usage: bash scripts/mutants.sh [EXTRA cargo-mutants ARGS...]
#   e.g. bash scripts/mutants.sh -f src/llm/retry.rs     (narrow further; -f adds to the list)
# Env:   MUTANTS_JOBS (default 1: the machine is shared), MUTANTS_TIMEOUT (seconds per test
#        run, default 300).
# Needs: cargo install --locked cargo-mutants   (flags checked against mutants.rs, 2026-11-30)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "mutants.sh: cargo-mutants is not installed; run: cargo install --locked cargo-mutants" >&2
  exit 2
fi

FILES=(
  src/safety/path_guard.rs
  src/safety/permissions.rs
  src/safety/proposals.rs
  src/safety/proposals_apply.rs
  src/safety/proposals_store.rs
  src/text/redact.rs
  src/audit/writer.rs
  src/llm/retry.rs
  src/llm/sse.rs
  src/llm/ndjson.rs
)
ARGS=()
for f in "${FILES[@]}"; do
  [ -f "$f" ] || { echo "mutants.sh: $f is missing; update FILES in $0" >&2; exit 2; }
  ARGS+=(-f "$f")
done

T0=$(date +%s)
set +e
cargo mutants -j "${MUTANTS_JOBS:-1}" --timeout "${MUTANTS_TIMEOUT:-300}" "${ARGS[@]}" "$@"
rc=$?
set -e
echo "mutants.sh: finished in $(($(date +%s) - T0)) s (exit $rc); details in mutants.out/" >&2
exit $rc
