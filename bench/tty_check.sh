#!/usr/bin/env bash
# A look at the live markdown renderer in a real terminal: a release goshi in a detached tmux
# session (100x40) streams a markdown answer (headings, a table, code, nested lists, a quote,
# a paragraph longer than a row) from bench/slow_server.py, a few characters every 10 ms. The
# pane is captured while the answer streams and once it is done, with its escape sequences
# (`tmux capture-pane -p -e`) and as text, into DIR (default: a temporary directory, printed).
#
#   bench/tty_check.sh [DIR]
#
# Needs tmux, python3 and a release build (`cargo build --release`; CARGO_TARGET_DIR is
# honoured). Checks: the final screen holds the rendered blocks and no raw markdown syntax, no
# stray escape sequence text (`\x1b` shown escaped, `[0m` without its ESC), and the table's
# rows line up. A manual check, not part of the tests (it needs tmux and takes a few seconds).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ "$TARGET" = /* ]] || TARGET="$ROOT/$TARGET"
GOSHI="$TARGET/release/goshi"
[[ -x "$GOSHI" ]] || { echo "tty_check: no release build at $GOSHI" >&2; exit 1; }
OUT=${1:-$(mktemp -d "${TMPDIR:-/tmp}/goshi-tty.XXXXXX")}
mkdir -p "$OUT/home"
SESSION="goshi-tty-$$"
SERVER_PID=
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    [[ -z "$SERVER_PID" ]] || kill "$SERVER_PID" 2>/dev/null || true
}
trap cleanup EXIT

cat >"$OUT/answer.md" <<'EOF'
# Streaming decoder

The **decoder** reads `bytes` as they arrive and returns *events*; see the
[docs](https://example.com/docs) for details. Accents and wide text: café, 日本語 🦀.

## Fields

| Field | Type | Default |
|:------|-----:|:-------:|
| size | `usize` | 16 |
| name | `String` | none |
| 名前 | 文字列 | — |
| note | `str` | a cell long enough that the table is wider than the terminal's hundred columns, so it must be fitted |

## Code

```rust
fn decode(buf: &mut Vec<u8>) -> Option<Event> {
    let i = memchr(b'\n', buf)?; // the end of a line
    Some(Event::parse(&buf.drain(..=i).collect::<Vec<_>>()))
}
```

- parse the `data:` lines
- keep the partial line; this item is long enough to wrap past the hundredth column of the terminal, so it must go on under its bullet
  - nested: a second level
- emit one event per frame

1. first
2. second

> A quote with `code` and **bold**, long enough to wrap past the hundredth column of the terminal so that the preview has to count the rows it takes.

A last paragraph, also long enough to wrap: the renderer shows it as plain text while it is being written, then replaces it by its rendered form once the blank line after it or the end of the answer arrives.
EOF

PORT_FILE="$OUT/port"
python3 "$ROOT/bench/slow_server.py" "$OUT/answer.md" 0.01 4 >"$PORT_FILE" &
SERVER_PID=$!
for _ in $(seq 100); do
    [[ -s "$PORT_FILE" ]] && break
    sleep 0.05
done
PORT=$(head -n1 "$PORT_FILE")

cmd="env -u NO_COLOR HOME='$OUT/home' XDG_CONFIG_HOME='$OUT/home/.config' \
XDG_DATA_HOME='$OUT/home/.local/share' XDG_STATE_HOME='$OUT/home/.local/state' \
OPENAI_API_KEY=sk-tty TERM=xterm-256color '$GOSHI' chat --provider openai \
--base-url http://127.0.0.1:$PORT/v1 --model gpt-4o hi; echo __GOSHI_DONE__ \$?; sleep 600"
tmux new-session -d -s "$SESSION" -x 100 -y 40 "cd '$OUT' && $cmd"

# Frames while the answer streams, then the final screen.
n=0
while ! tmux capture-pane -t "$SESSION" -p | grep -q __GOSHI_DONE__; do
    n=$((n + 1))
    tmux capture-pane -t "$SESSION" -p -e >"$OUT/frame-$(printf %03d $n).ansi"
    ((n < 600)) || { echo "tty_check: goshi did not finish" >&2; exit 1; }
    sleep 0.1
done
tmux capture-pane -t "$SESSION" -p -e -S - >"$OUT/final.ansi"
tmux capture-pane -t "$SESSION" -p -S - >"$OUT/final.txt"
echo "tty_check: $n frames and the final screen in $OUT"

python3 - "$OUT/final.txt" "$OUT/final.ansi" <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
ansi = open(sys.argv[2], encoding="utf-8").read()
problems = []
status = text.split("__GOSHI_DONE__", 1)[1].split()[0] if "__GOSHI_DONE__" in text else "?"
if status != "0":
    problems.append(f"goshi exited with {status}")
for want in ["Streaming decoder", "Fields", "fn decode", "• parse the", "◦ nested", "1. first",
             "│ A quote", "─┼─", "A last paragraph"]:
    if want not in text:
        problems.append(f"missing on screen: {want!r}")
for raw in ["**decoder**", "|:------|", "# Streaming", "\\x1b", "\\u{1b}"]:
    if raw in text:
        problems.append(f"raw markdown or escaped control on screen: {raw!r}")
for line in text.splitlines():
    if "[0m" in line or "[1m" in line:
        problems.append(f"escape sequence text without its ESC: {line!r}")
# The table: every row's bars at the same display columns.
import unicodedata
def cols(line):
    out, col = [], 0
    for c in line:
        if c in "│┼":
            out.append(col)
        col += 2 if unicodedata.east_asian_width(c) in "WF" else 1
    return out
# Wrapped list and quote text goes on under its indent or bar, never at the left margin.
lines = text.splitlines()
for i, l in enumerate(lines):
    if l.startswith("• keep the partial line") and not lines[i + 1].startswith("  so it must go on"):
        problems.append(f"list item not wrapped under its bullet: {lines[i + 1]!r}")
    if l.startswith("│ A quote") and not lines[i + 1].startswith("│ "):
        problems.append(f"quote not wrapped under its bar: {lines[i + 1]!r}")
    if l.startswith("A last paragraph") and not lines[i + 1].startswith("written, then"):
        problems.append(f"paragraph not wrapped at a word boundary: {lines[i + 1]!r}")
    if len(l) > 100:
        problems.append(f"a line wider than the terminal: {l!r}")
rows = [l for l in text.splitlines() if l.count("│") == 2 or "─┼─" in l]
if len({tuple(cols(r)) for r in rows}) > 1:
    problems.append("table columns not aligned: " + " / ".join(rows))
for p in problems:
    print("PROBLEM:", p)
print("tty_check:", "ok" if not problems else f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)
EOF
