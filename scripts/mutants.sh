#!/usr/bin/env bash
# mutants.sh: mutation testing (cargo-mutants) of goshi's safety-critical modules: the path
# guard, permissions, proposals and their apply/store, the audit writer's redaction, terminal
# escaping, retry and backoff, and the SSE and NDJSON decoders. See docs/testing.md. Not in CI: it is slow.
#
# Usage: bash scripts/mutants.sh [EXTRA cargo-mutants ARGS...]
#   bash scripts/mutants.sh -- --lib     pass 1: only the unit tests (fast)
#   bash scripts/mutants.sh --iterate    pass 2: the whole suite, only on what pass 1 did not
#                                        catch (reads and extends mutants.out/)
# Env:   MUTANTS_FILES (space-separated files instead of the list below, e.g.
#        MUTANTS_FILES="src/llm/retry.rs src/llm/sse.rs"), MUTANTS_JOBS (default 1: the
#        machine is shared), MUTANTS_TIMEOUT (seconds per test run; default: cargo-mutants
#        sets it from the baseline run), MUTANTS_NICE (default 15).
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
  src/text/sanitize.rs
  src/audit/writer.rs
  src/llm/retry.rs
  src/llm/sse.rs
  src/llm/ndjson.rs
)
if [ -n "${MUTANTS_FILES:-}" ]; then
  read -r -a FILES <<<"$MUTANTS_FILES"
fi
ARGS=()
if [ -n "${MUTANTS_TIMEOUT:-}" ]; then
  ARGS+=(--timeout "$MUTANTS_TIMEOUT")
fi
for f in "${FILES[@]}"; do
  [ -f "$f" ] || { echo "mutants.sh: $f is missing; update FILES in $0" >&2; exit 2; }
  ARGS+=(-f "$f")
done

# The copy cargo-mutants tests in lives in a temporary directory, where the conformance
# tests' default `../shared/...` would not resolve: give them the absolute path.
export GOSHI_OPENAPI_JSON="${GOSHI_OPENAPI_JSON:-$ROOT/../shared/openai-openapi/openapi.json}"

T0=$(date +%s)
set +e
nice -n "${MUTANTS_NICE:-15}" cargo mutants -j "${MUTANTS_JOBS:-1}" "${ARGS[@]}" "$@"
rc=$?
set -e
echo "mutants.sh: finished in $(($(date +%s) - T0)) s (exit $rc); details in mutants.out/" >&2
exit $rc
