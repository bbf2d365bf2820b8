#!/usr/bin/python3
"""Test-only HTTP server on a free loopback port (Python standard library only).

Used by tests that need a real HTTP endpoint to talk to: SMS gateways, webhook receivers.

Protocol
--------
Start:   /usr/bin/python3 sink.py [--out FILE] [--stdout] [--status N] [--host 127.0.0.1]
         Prints "READY <port>" on stdout (flushed) once it accepts connections; with --stdout
         each record then follows on stdout as one JSON line, else nothing more. Runs until
         killed (SIGTERM/SIGINT). Its own log goes to stderr.
Env:     HTTP_SINK_OUT, HTTP_SINK_STATUS: defaults for --out and --status.

Every request whose path does not start with "/_" is recorded as one JSON object:
    {"n": 1, "method": "POST", "path": "/v1/sms", "query": "a=1",
     "headers": {"content-type": "application/json", ...},   # names lower-cased; repeated
                                                              # headers joined with ", "
     "body": "<body as UTF-8 text, undecodable bytes as U+FFFD>",
     "body_base64": "<the exact body bytes>",
     "status": 200}                                           # what the sink answered
appended as one line to FILE (--out; flushed before the response is sent, so a client that
got its answer can read its record) and kept in memory for GET /_requests. Chunked request
bodies are decoded.

Answer:  by default `status` (200) with the body {"ok": true, "n": <record number>}.
         Rules pushed with POST /_control change the next answers, first pushed first used:
             {"status": 500, "times": 1,               # times: how many requests (default 1;
                                                       #        -1 = until reset)
              "body": "text", "headers": {"Location": "http://..."},
              "delay_ms": 0}                           # sleep before answering
         POST /_control {"reset": true}  forgets rules and records.
         GET  /_requests                 all records so far, as a JSON array.
Control answers are 200 {"ok": true}, or 400 with a reason.
"""
import argparse
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class State:
    def __init__(self, out_path, default_status, echo):
        self.lock = threading.Lock()
        self.out_path = out_path
        self.echo = echo
        self.default_status = default_status
        self.rules = []  # [{"status", "times", "body", "headers", "delay_ms"}]
        self.records = []

    def next_answer(self):
        with self.lock:
            if not self.rules:
                return {"status": self.default_status}
            rule = self.rules[0]
            if rule["times"] > 0:
                rule["times"] -= 1
                if rule["times"] == 0:
                    self.rules.pop(0)
            return rule

    def record(self, entry):
        with self.lock:
            entry["n"] = len(self.records) + 1
            self.records.append(entry)
            line = json.dumps(entry, ensure_ascii=False)
            if self.out_path:
                with open(self.out_path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
            if self.echo:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            return entry["n"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FirmoHttpSink/1"

    def log_message(self, fmt, *args):
        sys.stderr.write("http_sink: " + (fmt % args) + "\n")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def reply(self, status, body, headers=None):
        payload = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        sent = {k.lower() for k in (headers or {})}
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "content-type" not in sent:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def control(self, body):
        state = self.server.state
        if self.command == "GET" and self.path == "/_requests":
            with state.lock:
                return self.reply(200, json.dumps(state.records, ensure_ascii=False))
        if self.command == "POST" and self.path == "/_control":
            try:
                rule = json.loads(body or b"{}")
                if not isinstance(rule, dict):
                    raise ValueError("an object is expected")
                if rule.get("reset"):
                    with state.lock:
                        state.rules.clear()
                        state.records.clear()
                    return self.reply(200, '{"ok": true}')
                entry = {
                    "status": int(rule["status"]),
                    "times": int(rule.get("times", 1)),
                    "body": rule.get("body"),
                    "headers": dict(rule.get("headers") or {}),
                    "delay_ms": int(rule.get("delay_ms", 0)),
                }
                if not 100 <= entry["status"] <= 599 or entry["times"] == 0:
                    raise ValueError("status 100-599 and times != 0")
            except (ValueError, KeyError, TypeError) as e:
                return self.reply(400, json.dumps({"error": str(e)}))
            with state.lock:
                state.rules.append(entry)
            return self.reply(200, '{"ok": true}')
        return self.reply(404, '{"error": "unknown control path"}')

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith("/_"):
            return self.control(body)
        answer = self.server.state.next_answer()
        parts = urlsplit(self.path)
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        n = self.server.state.record({
            "method": self.command,
            "path": parts.path,
            "query": parts.query,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "body_base64": base64.b64encode(body).decode("ascii"),
            "status": answer["status"],
        })
        if answer.get("delay_ms"):
            time.sleep(answer["delay_ms"] / 1000.0)
        reply_body = answer.get("body")
        if reply_body is None:
            reply_body = json.dumps({"ok": 200 <= answer["status"] < 300, "n": n})
        self.reply(answer["status"], reply_body, answer.get("headers"))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.environ.get("HTTP_SINK_OUT"))
    p.add_argument("--status", type=int, default=int(os.environ.get("HTTP_SINK_STATUS", "200")))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--stdout", action="store_true", help="also print each record on stdout")
    args = p.parse_args()
    server = ThreadingHTTPServer((args.host, 0), Handler)
    server.daemon_threads = True
    server.state = State(args.out, args.status, args.stdout)
    print("READY %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
