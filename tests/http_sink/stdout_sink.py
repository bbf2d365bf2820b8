#!/usr/bin/python3
"""Test-only generic HTTP sink (Python standard library only) on a free loopback port.

Protocol, shared by every test that uses it:
- prints "READY <port>" on stdout once it accepts connections;
- records every request as one JSON line on stdout:
  {"method", "path", "headers": {name: value}, "body": text}
  (the body is decoded as UTF-8, invalid bytes replaced; the path includes the query);
- answers 200 with the body `{"ok": true}` by default;
- `POST /_control` with a JSON body {"status": 500, "times": 1} makes the next `times`
  requests (default 1) answer `status`; optional keys: "body" (text to answer with),
  "headers" (extra response headers, e.g. {"Location": "/elsewhere"}) and "delay" (seconds to
  wait before answering). Control requests are not recorded and answer 200 {"ok": true}.
Runs until killed. Usage: sink.py [--port N] (default: a free port).
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_plans = []  # one entry per upcoming answer: {"status", "body", "headers", "delay"}


def _emit(record):
    line = json.dumps(record, ensure_ascii=False)
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FirmoHttpSink/1"

    def log_message(self, fmt, *args):  # keep stdout for the protocol, stderr quiet
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _answer(self, status, body, headers=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if not any(k.lower() == "content-type" for k in (headers or {})):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self):
        raw = self._body()
        if self.command == "POST" and self.path == "/_control":
            try:
                spec = json.loads(raw or b"{}")
                plan = {"status": int(spec.get("status", 200)), "body": spec.get("body"),
                        "headers": spec.get("headers") or {},
                        "delay": float(spec.get("delay", 0))}
                times = int(spec.get("times", 1))
            except (ValueError, TypeError, AttributeError) as e:
                self._answer(400, json.dumps({"error": str(e)}))
                return
            with _lock:
                _plans.extend([plan] * times)
            self._answer(200, '{"ok": true}')
            return
        _emit({"method": self.command, "path": self.path,
               "headers": {k: v for k, v in self.headers.items()},
               "body": raw.decode("utf-8", "replace")})
        with _lock:
            plan = _plans.pop(0) if _plans else None
        if plan is None:
            self._answer(200, '{"ok": true}')
            return
        if plan["delay"] > 0:
            time.sleep(plan["delay"])
        body = plan["body"] if plan["body"] is not None else json.dumps({"status": plan["status"]})
        self._answer(plan["status"], body, plan["headers"])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer (a timeout, a capped body) is normal here.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    sys.stdout.write("READY %d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
