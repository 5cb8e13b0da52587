#!/usr/bin/env python3
"""Peak memory of `goshi chat` against a hostile server (issue 11, item 8).

    python3 bench/memory_caps.py [GOSHI_BINARY]

A loopback server streams OpenAI Chat Completions answers built on the fly:
  baseline   a 13-byte answer
  text       300 MB of answer text in 64 KiB deltas
  args       300 MB of tool-argument pieces for one call
  calls      1,024 fs.read calls of a 256 KiB file in one answer
goshi runs each with the default caps, and bench/measure.c (fork, exec, wait4) reports its
peak RSS. Prints each figure and its ratio to the baseline of the same run. The binary defaults
to $CARGO_TARGET_DIR/release/goshi, else .../debug/goshi.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1000 * 1000
PIECE = 64 * 1024


def sse(obj):
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def delta(d):
    return sse({"choices": [{"index": 0, "delta": d, "finish_reason": None}]})


def events(scenario):
    yield delta({"role": "assistant", "content": ""})
    if scenario == "baseline":
        yield delta({"content": "Hello, world!"})
    elif scenario == "text":
        piece = "x" * PIECE
        for _ in range(300 * MB // PIECE):
            yield delta({"content": piece})
    elif scenario == "args":
        yield delta({"tool_calls": [{"index": 0, "id": "c0", "type": "function",
                                     "function": {"name": "fs_read", "arguments": ""}}]})
        piece = "a" * PIECE
        for _ in range(300 * MB // PIECE):
            yield delta({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
    elif scenario == "calls":
        for i in range(1024):
            yield delta({"tool_calls": [{"index": i, "id": f"c{i}", "type": "function",
                                         "function": {"name": "fs_read",
                                                      "arguments": '{"path":"big.txt"}'}}]})
    yield sse({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    yield b"data: [DONE]\n\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    scenario = "baseline"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # goshi hung up at a cap: expected

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for ev in events(Handler.scenario):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # goshi stopped reading at a cap: expected


def main():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    goshi = sys.argv[1] if len(sys.argv) > 1 else next(
        (p for p in (os.path.join(target, "release", "goshi"),
                     os.path.join(target, "debug", "goshi")) if os.path.exists(p)), None)
    if not goshi:
        sys.exit("memory_caps: build goshi first (cargo build --release)")
    work = tempfile.mkdtemp(prefix="goshi-memcaps.")
    measure = os.path.join(work, "measure")
    subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", measure,
                    os.path.join(ROOT, "bench", "measure.c")], check=True)
    with open(os.path.join(work, "big.txt"), "w") as f:
        f.write("y" * 256 * 1024)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GOSHI_", "OPENAI_", "OLLAMA_")) and "proxy" not in k.lower()}
    env.update(HOME=work, XDG_CONFIG_HOME=work, XDG_CACHE_HOME=work, OPENAI_API_KEY="sk-bench")
    print(f"goshi: {goshi}")
    results = {}
    for scenario in ("baseline", "text", "args", "calls"):
        Handler.scenario = scenario
        cmd = [measure, goshi, "chat", "--provider", "openai", "--base-url", base,
               "--model", "m", "--allow", "fs.read", "go"]
        out = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
        secs, rss_kib, status = out.stdout.split()
        results[scenario] = int(rss_kib)
        last = (out.stderr.strip().splitlines() or [""])[-1][:110]
        ratio = int(rss_kib) / results["baseline"]
        print(f"{scenario:9} peak RSS {int(rss_kib) / 1024:7.1f} MiB  x{ratio:5.2f} of baseline  "
              f"{float(secs):6.2f} s  exit {status}  | {last}")
    server.shutdown()


if __name__ == "__main__":
    main()
