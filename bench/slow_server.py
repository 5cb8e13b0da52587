#!/usr/bin/env python3
"""A loopback OpenAI-compatible server that streams one markdown answer slowly, a few
characters per chunk with a pause between chunks, the way a model does. For looking at the
live markdown renderer in a real terminal (bench/tty_check.sh); not used by the tests.

    slow_server.py ANSWER_FILE [DELAY_SECONDS] [CHARS_PER_CHUNK]

Prints its port on stdout once it listens; serves until killed. Every POST gets the answer
as a Chat Completions stream (`text/event-stream`, one `data:` event per chunk, then usage and
`[DONE]`).
"""

import http.server
import json
import sys
import time


ANSWER = open(sys.argv[1], encoding="utf-8").read()
DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
PER = int(sys.argv[3]) if len(sys.argv) > 3 else 4


def event(delta, finish=None, usage=None):
    chunk = {
        "id": "chatcmpl-tty",
        "object": "chat.completion.chunk",
        "created": 1764201600,
        "model": "gpt-4o",
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": usage,
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(event({"role": "assistant", "content": ""}))
        for i in range(0, len(ANSWER), PER):
            self.wfile.write(event({"content": ANSWER[i : i + PER]}))
            self.wfile.flush()
            time.sleep(DELAY)
        self.wfile.write(event({}, finish="stop"))
        usage = {"prompt_tokens": 10, "completion_tokens": len(ANSWER) // PER, "total_tokens": 0}
        self.wfile.write(event(None, usage=usage))
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
