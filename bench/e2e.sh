#!/usr/bin/env bash
# End-to-end streaming benchmark: `goshi chat` against curl, both reading the same
# 10,000-chunk OpenAI stream from the in-repo loopback server (examples/stream_server.rs).
#
#   bench/e2e.sh [RUNS]
#
# Environment:
#   RUNS=15           chat runs per client (alternating curl, goshi); also the first argument
#   VERSION_RUNS=50   runs of `goshi --version`
#   CHUNKS=10000      chunks in the stream
#   SKIP_BUILD=1      use the existing release build
#   CURL_ONLY=1       measure curl only (while `goshi chat` is not available)
#   NO_PTY=1          skip the pseudo-terminal case (live markdown against --raw)
#   CARGO_TARGET_DIR  where the release build is (default: target/ in the repository)
#
# Wall time and peak RSS of each run come from bench/measure.c (fork, exec, wait4). Prints medians,
# peak RSS and the goshi/curl ratio, and checks them against the targets (goshi median wall
# <= 2x curl, goshi peak RSS <= 12 MiB, `goshi --version` median < 5 ms). Exits 1 when a
# target is missed. Then, with stdout on a pseudo-terminal (`script -qfec`, 100x40), goshi
# rendering a markdown answer live against `goshi chat --raw` on the same terminal and the same
# stream: the render bench's answer (benches/fixture/markdown.rs: headings, lists, tables, Rust
# and Python code; 10,000 chunks) from a second server started with `--markdown` (reported as
# a ratio; no target). See docs/performance.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-${RUNS:-15}}
VERSION_RUNS=${VERSION_RUNS:-50}
CHUNKS=${CHUNKS:-10000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ "$TARGET" = /* ]] || TARGET="$ROOT/$TARGET"
GOSHI="$TARGET/release/goshi"
SERVER="$TARGET/release/examples/stream_server"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    (cd "$ROOT" && cargo build --release --bin goshi --example stream_server)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/goshi-e2e.XXXXXX")
MEASURE="$WORK/measure"
SERVER_PID=
MD_SERVER_PID=
cleanup() {
    for pid in $SERVER_PID $MD_SERVER_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
${CC:-cc} -O2 -o "$MEASURE" "$ROOT/bench/measure.c"

# wait_port NAME: the port the server writing $WORK/NAME.port listens on.
wait_port() {
    for _ in $(seq 100); do
        [[ -s "$WORK/$1.port" ]] && break
        sleep 0.05
    done
    local port
    port=$(head -n1 "$WORK/$1.port")
    [[ -n "$port" ]] || { echo "e2e: the $1 server did not start" >&2; cat "$WORK/$1.log" >&2; exit 1; }
    echo "$port"
}
"$SERVER" --port 0 --chunks "$CHUNKS" --write-answer "$WORK/answer.txt" \
    >"$WORK/stream.port" 2>"$WORK/stream.log" &
SERVER_PID=$!
PORT=$(wait_port stream)
URL="http://127.0.0.1:$PORT/v1/chat/completions"

# goshi runs in an empty directory with its own HOME, so no goshi.yaml, history or audit
# outside it is read or written.
RUN_DIR="$WORK/run"
mkdir -p "$RUN_DIR/home"
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^GOSHI_' || true)
export HOME="$RUN_DIR/home" XDG_CONFIG_HOME="$RUN_DIR/home/.config" \
    XDG_DATA_HOME="$RUN_DIR/home/.local/share" XDG_STATE_HOME="$RUN_DIR/home/.local/state" \
    OPENAI_API_KEY=sk-bench NO_COLOR=1
cd "$RUN_DIR"

curl_cmd=(curl -sN -X POST -H 'content-type: application/json' -d '{}' "$URL")
goshi_cmd=("$GOSHI" chat --provider openai --base-url "http://127.0.0.1:$PORT/v1" --model gpt-4o "hi")

# One checked run of each: both must deliver the whole answer.
"$MEASURE" -o "$WORK/curl.out" "${curl_cmd[@]}" >/dev/null
python3 - "$WORK/curl.out" "$WORK/answer.txt" <<'EOF'
import sys
body, answer = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
if not body.rstrip().endswith(b"data: [DONE]"):
    sys.exit("e2e: curl did not receive the whole stream")
EOF
if [[ -z "${CURL_ONLY:-}" ]]; then
    read -r _ _ status < <("$MEASURE" -o "$WORK/goshi.out" "${goshi_cmd[@]}" 2>"$WORK/goshi.err")
    if [[ "$status" != 0 ]] || ! python3 - "$WORK/goshi.out" "$WORK/answer.txt" <<'EOF'
import sys
out, answer = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
sys.exit(0 if answer in out else 1)
EOF
    then
        echo "e2e: goshi chat did not print the whole answer (exit $status); stderr:" >&2
        head -c 2000 "$WORK/goshi.err" >&2
        exit 1
    fi
fi

: >"$WORK/curl.txt"
: >"$WORK/goshi.txt"
for _ in $(seq "$RUNS"); do
    "$MEASURE" "${curl_cmd[@]}" >>"$WORK/curl.txt"
    if [[ -z "${CURL_ONLY:-}" ]]; then
        "$MEASURE" "${goshi_cmd[@]}" 2>/dev/null >>"$WORK/goshi.txt"
    fi
done
: >"$WORK/pty_raw.txt"
: >"$WORK/pty_md.txt"
if [[ -z "${CURL_ONLY:-}" && -z "${NO_PTY:-}" ]] && command -v script >/dev/null; then
    "$SERVER" --port 0 --markdown --write-answer "$WORK/md_answer.txt" \
        >"$WORK/markdown.port" 2>"$WORK/markdown.log" &
    MD_SERVER_PID=$!
    MD_PORT=$(wait_port markdown)
    md_cmd=("$GOSHI" chat --provider openai --base-url "http://127.0.0.1:$MD_PORT/v1" --model gpt-4o "hi")
    # NO_COLOR would turn rendering off; the terminal is 100x40 as in the render bench.
    pty_cmd="stty cols 100 rows 40; $(printf '%q ' "${md_cmd[@]}")"
    pty() {
        env -u NO_COLOR TERM=xterm-256color "$MEASURE" "$@" script -qfec "$pty_cmd$PTY_ARGS" \
            /dev/null </dev/null 2>/dev/null
    }
    # One checked run of each: --raw shows the answer's text, the rendered run its table rules
    # (which --raw never prints) and the answer's last heading.
    PTY_ARGS=" --raw" pty -o "$WORK/pty_raw.out" >/dev/null
    PTY_ARGS="" pty -o "$WORK/pty_md.out" >/dev/null
    if ! python3 - "$WORK/pty_raw.out" "$WORK/pty_md.out" "$WORK/md_answer.txt" <<'EOF'
import sys
raw, md, answer = (open(p, "rb").read() for p in sys.argv[1:])
raw = raw.replace(b"\r\n", b"\n")
last = answer.rstrip().rsplit(b"## Step ", 1)[1].split(b"\n", 1)[0]
rule = "─┼".encode()
ok = answer in raw and rule not in raw and rule in md and b"Step " + last in md
sys.exit(0 if ok else 1)
EOF
    then
        echo "e2e: on the pseudo-terminal, goshi did not show the whole markdown answer" >&2
        exit 1
    fi
    for _ in $(seq "$RUNS"); do
        PTY_ARGS=" --raw" pty >>"$WORK/pty_raw.txt"
        PTY_ARGS="" pty >>"$WORK/pty_md.txt"
    done
    PTY_BYTES=$(wc -c <"$WORK/md_answer.txt")
fi
: >"$WORK/version.txt"
for _ in $(seq "$VERSION_RUNS"); do
    "$MEASURE" "$GOSHI" --version >>"$WORK/version.txt"
done

python3 - "$WORK" "$RUNS" "$VERSION_RUNS" "$(wc -c <"$WORK/curl.out")" "$CHUNKS" "${PTY_BYTES:-0}" <<'EOF'
import statistics
import sys

work, runs, version_runs, stream_bytes, chunks, pty_bytes = sys.argv[1:]


def load(name):
    rows = [line.split() for line in open(f"{work}/{name}.txt") if line.strip()]
    bad = [r for r in rows if r[2] != "0"]
    if bad:
        sys.exit(f"e2e: {len(bad)} {name} run(s) failed (exit {bad[0][2]})")
    return [float(r[0]) for r in rows], [int(r[1]) for r in rows]


def line(label, wall, rss):
    print(
        f"{label:<15} median {statistics.median(wall) * 1000:8.1f} ms"
        f"  (min {min(wall) * 1000:.1f}, max {max(wall) * 1000:.1f})"
        f"  peak RSS {max(rss) / 1024:6.1f} MiB (median {statistics.median(rss) / 1024:.1f})"
    )


print(f"stream: {chunks} chunks, {int(stream_bytes):,} bytes; {runs} runs each, alternating")
curl_wall, curl_rss = load("curl")
line("curl", curl_wall, curl_rss)
failed = []
goshi_wall, goshi_rss = load("goshi")
if goshi_wall:
    line("goshi chat", goshi_wall, goshi_rss)
    ratio = statistics.median(goshi_wall) / statistics.median(curl_wall)
    peak = max(goshi_rss) / 1024
    mbps = int(stream_bytes) / statistics.median(goshi_wall) / 1e6
    print(f"goshi/curl wall ratio {ratio:.2f} (target <= 2.00); goshi {mbps:.0f} MB/s end to end")
    print(f"goshi peak RSS {peak:.1f} MiB (target <= 12)")
    if ratio > 2:
        failed.append("wall ratio")
    if peak > 12:
        failed.append("peak RSS")
pty_raw_wall, pty_raw_rss = load("pty_raw")
pty_md_wall, pty_md_rss = load("pty_md")
if pty_raw_wall and pty_md_wall:
    line("pty --raw", pty_raw_wall, pty_raw_rss)
    line("pty markdown", pty_md_wall, pty_md_rss)
    ratio = statistics.median(pty_md_wall) / statistics.median(pty_raw_wall)
    extra = (statistics.median(pty_md_wall) - statistics.median(pty_raw_wall)) * 1000
    print(
        f"on a terminal ({int(pty_bytes):,}-byte markdown answer, 10,000 chunks): live markdown"
        f" / --raw wall ratio {ratio:.2f}, {extra:+.1f} ms (same stream, same pty)"
    )
version_wall, version_rss = load("version")
line("goshi --version", version_wall, version_rss)
vmed = statistics.median(version_wall) * 1000
print(f"goshi --version median {vmed:.2f} ms over {version_runs} runs (target < 5)")
if vmed >= 5:
    failed.append("--version time")
if failed:
    print("MISSED: " + ", ".join(failed))
    sys.exit(1)
EOF
