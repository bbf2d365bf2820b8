"""Webhook delivery on the real binary (issue 12): private addresses refused by default, and one
issuer's unresponsive endpoint does not hold up another issuer's webhooks."""

import http.server
import socket
import threading
import time
import unittest

from harness import Firmo, FirmoTestCase, make_pdf


class Sink:
    """A loopback HTTP receiver that answers 200 and remembers when each call came."""

    def __init__(self):
        calls = self.calls = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                calls.append((time.monotonic(), self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class BlackHole:
    """Listens and never answers: every call to it lasts the whole webhook timeout."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


class Delivery(FirmoTestCase):

    def make_ready(self, key=None):
        request = self.create_request(key=key)
        self.assertEqual(self.upload(request, make_pdf(signature_field="Signature1"), key=key).status, 202)
        self.assertEqual(self.wait_document(request["id"], key=key)["status"], "READY")
        r = self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "READY", key=key)
        self.assertEqual(r.status, 204, r)
        return request

    def deliveries(self, key=None):
        r = self.firmo.get("/api/v1/webhooks/deliveries", key=key)
        self.assertEqual(r.status, 200, r)
        return r.json["items"]

    def test_private_addresses_are_refused_by_default(self):
        sink = Sink()
        try:
            # Credentials in the URL: refused at registration.
            for url in (f"http://user:pass@127.0.0.1:{sink.port}/", "http://u@example.org/"):
                r = self.firmo.post("/api/v1/webhooks", {"url": url})
                self.assertProblem(r, 422, "validation-error")
            # Other spellings of loopback are registered, and never called.
            urls = [f"http://{host}:{sink.port}/hook"
                    for host in ("127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1",
                                 "[::ffff:127.0.0.1]", "0.0.0.0", "localhost")]
            for url in urls:
                self.assertEqual(self.firmo.post("/api/v1/webhooks", {"url": url}).status, 201)
            self.make_ready()
            deadline = time.time() + 20
            while time.time() < deadline:
                done = [d for d in self.deliveries() if d["status"] != "pending"]
                if len(done) == len(urls):
                    break
                time.sleep(0.1)
            self.assertEqual(sorted(d["destination"] for d in done), sorted(urls))
            for d in done:
                self.assertEqual(d["status"], "abandoned", d)
                self.assertIn("private or reserved address", d["last_error"], d)
                self.assertNotIn("127.0.0.1", d["last_error"], d)
            self.assertEqual(sink.calls, [])
        finally:
            sink.close()
            for w in self.firmo.get("/api/v1/webhooks").json["items"]:
                self.firmo.request("DELETE", f"/api/v1/webhooks/{w['id']}")


class Fairness(FirmoTestCase):
    # One delivery thread, 1 s per call to the black hole, no circuit breaker (every one of the
    # 60 calls is made); private addresses allowed because both receivers are on loopback.
    server_args = ("--rate-limit-burst", "0", "--webhook-allow-private", "true",
                   "--webhook-timeout-ms", "1000", "--delivery-threads", "1",
                   "--webhook-breaker-failures", "0")

    make_ready = Delivery.make_ready

    def test_an_unresponsive_endpoint_does_not_hold_up_another_issuer(self):
        hole, sink = BlackHole(), Sink()
        try:
            # Issuer A: 10 endpoints on the black hole and 6 events: 60 calls of 1 s each.
            for i in range(10):
                r = self.firmo.post("/api/v1/webhooks", {"url": f"http://127.0.0.1:{hole.port}/{i}"})
                self.assertEqual(r.status, 201, r)
            for _ in range(6):
                self.make_ready()
            # Issuer B: one endpoint that answers at once, one event.
            _, key_b = self.firmo.new_issuer("Oslo kommune", "b@example.org")
            r = self.firmo.post("/api/v1/webhooks", {"url": f"http://127.0.0.1:{sink.port}/b"}, key=key_b)
            self.assertEqual(r.status, 201, r)
            request = self.make_ready(key=key_b)
            ready_at = time.monotonic()
            deadline = ready_at + 30
            while not sink.calls and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(sink.calls, "issuer B's webhook never came (FIFO: after A's 60 s)")
            waited = sink.calls[0][0] - ready_at
            self.assertIn(request["id"].encode(), sink.calls[0][2])
            # At most one of A's calls (1 s) ahead of it, plus slack for a busy machine.
            print(f"issuer B waited {waited:.2f} s", flush=True)
            self.assertLess(waited, 4.0, f"issuer B waited {waited:.1f} s")
        finally:
            hole.close()
            sink.close()


class CircuitBreaker(FirmoTestCase):
    server_args = ("--rate-limit-burst", "0", "--webhook-allow-private", "true",
                   "--webhook-timeout-ms", "300", "--webhook-breaker-failures", "2",
                   "--retry-base-ms", "10")

    make_ready = Delivery.make_ready
    deliveries = Delivery.deliveries

    def test_an_endpoint_that_keeps_failing_is_held_visibly(self):
        hole = BlackHole()
        try:
            r = self.firmo.post("/api/v1/webhooks", {"url": f"http://127.0.0.1:{hole.port}/"})
            self.assertEqual(r.status, 201, r)
            for _ in range(3):
                self.make_ready()
            deadline = time.time() + 30
            held = []
            while time.time() < deadline:
                held = [d for d in self.deliveries()
                        if d.get("last_error", "").startswith("not attempted")]
                if held:
                    break
                time.sleep(0.1)
            self.assertTrue(held, "no circuit opened")
            self.assertIn("failed 2 times in a row", held[0]["last_error"])
            self.assertEqual(held[0]["status"], "pending")
            metrics = self.firmo.get("/metrics", key=False).body
            self.assertIn("firmo_webhook_circuits_open 1", metrics)
            self.assertIn('firmo_webhook_circuit_transitions_total{to="open"} 1', metrics)
            self.assertRegex(metrics, r"firmo_webhook_calls_held_total [1-9]")
        finally:
            hole.close()


if __name__ == "__main__":
    unittest.main()
