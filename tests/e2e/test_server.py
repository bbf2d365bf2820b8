"""Server behaviour: health, readiness, the OpenAPI document, keep-alive, rate limits,
100-continue, security headers, graceful shutdown."""

import http.client
import signal
import socket
import threading
import time
import unittest

from harness import Firmo, FirmoTestCase, make_pdf


class ServerBasics(FirmoTestCase):

    def test_health_readiness_and_openapi(self):
        self.assertEqual(self.firmo.get("/healthz", key=False).json, {"status": "ok"})
        self.assertEqual(self.firmo.get("/readyz", key=False).json, {"status": "ready"})
        r = self.firmo.get("/api/v1/openapi.yaml", key=False)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/yaml")
        self.assertIn("openapi:", r.body)
        for path in ["/api/v1/dossiers", "/api/v1/signature-requests/{id}/status", "/api/v1/uploads/{token}"]:
            self.assertIn(path, r.body)

    def test_security_headers(self):
        r = self.firmo.get("/api/v1/dossiers")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.header("Cache-Control"), "no-store")

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection(self.firmo.host, self.firmo.port, timeout=10)
        for _ in range(50):
            conn.request("GET", "/api/v1/dossiers", headers={"X-Api-Key": self.firmo.api_key})
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        conn.close()

    def test_expect_100_continue(self):
        d = self.create_dossier()
        request = self.create_request(d["id"])
        doc_id = request["documents"][0]["id"]
        url = self.firmo.get(f"/api/v1/signature-requests/{request['id']}/documents/{doc_id}/upload_url").json
        path = url.split(str(self.firmo.port), 1)[1]
        pdf = make_pdf(signature_field="Signature1")
        with socket.create_connection((self.firmo.host, self.firmo.port), timeout=5) as s:
            s.sendall((f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n"
                       f"Content-Length: {len(pdf)}\r\nExpect: 100-continue\r\n\r\n").encode())
            interim = s.recv(100)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
            s.sendall(pdf)
            final = s.recv(4096)
            self.assertTrue(final.startswith(b"HTTP/1.1 202"), final[:200])
        # Too large: refused before the body is sent.
        with socket.create_connection((self.firmo.host, self.firmo.port), timeout=5) as s:
            s.sendall((f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n"
                       f"Content-Length: {100 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n").encode())
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 413"))


class Timeouts(FirmoTestCase):
    server_args = ("--rate-limit-burst", "0", "--read-timeout", "1", "--idle-timeout", "1")

    def closed_within(self, sock, seconds):
        sock.settimeout(seconds)
        try:
            return sock.recv(100) == b""  # orderly close
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def test_slow_and_idle_clients_are_disconnected(self):
        # A client that stalls halfway through its headers (slowloris).
        slow = socket.create_connection((self.firmo.host, self.firmo.port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        self.assertTrue(self.closed_within(slow, 4))
        slow.close()
        # A keep-alive client that goes quiet after a request.
        idle = socket.create_connection((self.firmo.host, self.firmo.port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.settimeout(4)
        self.assertTrue(idle.recv(4096).startswith(b"HTTP/1.1 200"))
        self.assertTrue(self.closed_within(idle, 4))
        idle.close()
        self.assertEqual(self.firmo.get("/healthz").status, 200)


class RateLimits(FirmoTestCase):
    server_args = ("--rate-limit-burst", "5", "--rate-limit-window-ms", "60000")

    def test_calls_over_the_limit_get_429_with_retry_after(self):
        statuses = [self.firmo.get("/api/v1/dossiers").status for _ in range(7)]
        self.assertEqual(statuses[:5], [200] * 5)
        r = self.firmo.get("/api/v1/dossiers")
        self.assertProblem(r, 429, "rate-limited")
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        # Failed authentication spends the caller's address budget.
        statuses = [self.firmo.get("/api/v1/dossiers", key="firmo_wrong_key_000000000").status for _ in range(7)]
        self.assertEqual(statuses[:5], [401] * 5)
        self.assertEqual(statuses[-1], 429)
        # Another key has its own budget.
        _, other = self.firmo.new_issuer()
        self.assertEqual(self.firmo.get("/api/v1/dossiers", key=other).status, 200)

    def test_nodes_on_one_database_share_the_limit(self):
        # A second node on the same database (the same SQLite file, or PostgreSQL under
        # with-postgres.sh): the key gets 5 calls in all, not 5 on each node.
        _, key = self.firmo.new_issuer("Shared limit", "shared@example.org")
        node_b = Firmo(data_dir=self.firmo.data_dir, extra_args=self.server_args).start()
        try:
            nodes = [self.firmo, node_b]
            statuses = [nodes[i % 2].get("/api/v1/dossiers", key=key).status for i in range(10)]
            self.assertEqual(statuses, [200] * 5 + [429] * 5)
            r = node_b.get("/api/v1/dossiers", key=key)
            self.assertProblem(r, 429, "rate-limited")
            self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        finally:
            node_b.cleanup()  # stops it; the data dir is the first node's


class BehindAProxy(FirmoTestCase):
    # The test client is the "proxy" on 127.0.0.1; X-Forwarded-For names the real clients.
    server_args = ("--rate-limit-burst", "3", "--rate-limit-window-ms", "60000",
                   "--trusted-proxies", "127.0.0.1, 10.0.0.0/8")

    def test_forwarded_client_address_is_used_from_a_trusted_proxy(self):
        wrong = "firmo_wrong_key_000000000"

        def call(forwarded):
            return self.firmo.get("/api/v1/dossiers", key=wrong,
                                  headers={"X-Forwarded-For": forwarded}).status

        # The address budget is the forwarded client's, not the proxy's.
        self.assertEqual([call("198.51.100.1") for _ in range(4)], [401, 401, 401, 429])
        self.assertEqual(call("198.51.100.2"), 401)
        # A client's own entry on the left is not believed; the proxy's (rightmost) is.
        self.assertEqual(call("198.51.100.2, 198.51.100.1"), 429)
        self.firmo.wait_for_log("ip=198.51.100.1", "ip=198.51.100.2")


class Shutdown(unittest.TestCase):

    def test_sigterm_finishes_the_request_in_flight_and_exits_zero(self):
        server = Firmo(extra_args=("--rate-limit-burst", "0")).start()
        try:
            body = (b'{"title": "Sent slowly", "documents_metadata": '
                    b'[{"title": "Contract", "signature_fields": []}]}')
            slow = socket.create_connection((server.host, server.port), timeout=10)
            slow.sendall((f"POST /api/v1/dossiers HTTP/1.1\r\nHost: x\r\nX-Api-Key: {server.api_key}\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                         + body[:20])
            idle = socket.create_connection((server.host, server.port))  # an idle keep-alive client
            time.sleep(0.2)
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            self.assertIsNone(server.proc.poll())  # still serving the request in flight
            slow.sendall(body[20:])
            answer = slow.recv(4096)
            self.assertTrue(answer.startswith(b"HTTP/1.1 201"), answer[:200])
            self.assertIn(b"Connection: close", answer)
            start = time.time()
            self.assertEqual(server.stop(signal.SIGTERM, timeout=20), 0)
            self.assertLess(time.time() - start, 5)  # the idle connection does not hold it up
            slow.close()
            idle.close()
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
