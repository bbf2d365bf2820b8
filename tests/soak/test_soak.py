"""Soak (issue 12): a default node under mixed traffic and a few hostile clients at once.

For LOAD_SECONDS, on one SQLite node with its default limits:
- well-behaved traffic: an issuer creating requests, uploading PDFs and making them READY; signers
  opening their links in the portal; a second issuer whose calls are measured (the probe) and
  whose webhook endpoint answers at once; /healthz polled every 10 ms;
- hostile clients: idle connections that never finish their headers, bodies far beyond the limits
  (with and without a key), an issuer whose webhook endpoint never answers, and an issuer posting
  PDF bombs (1 MB files that inflate to about 1 GiB) to validate-document four at a time.

It asserts what the issue asks: /healthz and the probe issuer's calls keep p99 under 100 ms, every
probe call succeeds, the probe issuer's webhooks arrive although the other endpoint hangs, and the
node's memory stays under RSS_BOUND_MIB. Hostile clients come from other loopback addresses
(127.0.0.2-5), as they would from other hosts: per-address limits apply to them, not to the
well-behaved clients. One summary line is printed; the method is in docs/SECURITY.md."""

import http.client
import os
import socket
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

from harness import Firmo, dossier_body, make_pdf  # noqa: E402
from test_limits import rss_mib  # noqa: E402
from test_webhook_delivery import BlackHole, Sink  # noqa: E402

LOAD_SECONDS = float(os.environ.get("FIRMO_SOAK_SECONDS", "45"))
# "assert" (release builds), or "report": a sanitizer build prints the numbers without the bounds.
ASSERT_BOUNDS = os.environ.get("FIRMO_SOAK_BOUNDS", "assert") != "report"
P99_BOUND_MS = 100.0
# Heavy lane: 2 threads scanning a bomb (streams are counted, not held) + 16 queued bodies of at
# most 11 MiB + the process itself (about 30 MiB): about 220 MiB at worst; measured about 35.
RSS_BOUND_MIB = 256.0

IDLE_ADDRESS, OVERSIZED_ADDRESS, BOMB_ADDRESS, PORTAL_ADDRESS = (
    "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")


def bomb_pdf():
    """A one-page PDF carrying four Flate streams of 250 MiB of zeros each (about 1 MiB)."""
    zeros = zlib.compress(b"\0" * (250 << 20), 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R /Extra [5 0 R 6 0 R 7 0 R 8 0 R] >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length 0 >>\nstream\n\nendstream"]
    for _ in range(4):
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(zeros) + zeros +
                       b"\nendstream")
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Client:
    """One keep-alive connection from a given source address; reconnects when closed."""
    opened = []  # every client, closed when the test ends

    def __init__(self, firmo, source="127.0.0.1", timeout=30):
        self.firmo, self.source, self.timeout = firmo, source, timeout
        self.conn = None
        Client.opened.append(self)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, method, path, body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.firmo.host, self.firmo.port,
                                                       timeout=self.timeout,
                                                       source_address=(self.source, 0))
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, data
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


class Soak(unittest.TestCase):

    def setUp(self):
        self.sink, self.hole = Sink(), BlackHole()
        self.addCleanup(self.sink.close)
        self.addCleanup(self.hole.close)
        self.firmo = Firmo(extra_args=("--webhook-allow-private", "true")).start()
        self.addCleanup(self.firmo.cleanup)
        self.stop = threading.Event()
        self.failures = []
        self.counts = {}
        self.lock = threading.Lock()

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def run_thread(self, fn, *args):
        def guarded():
            try:
                fn(*args)
            except Exception as e:  # a thread's failure fails the test, with its reason
                self.failures.append(f"{fn.__name__}: {e!r}")
        t = threading.Thread(target=guarded, daemon=True)
        t.start()
        return t

    # --- well-behaved ----------------------------------------------------------------------

    def probe_healthz(self, latencies):
        c = Client(self.firmo)
        while not self.stop.is_set():
            started = time.monotonic()
            status, _ = c.call("GET", "/healthz")
            latencies.append((time.monotonic() - started) * 1000)
            if status != 200:
                self.failures.append(f"/healthz answered {status}")
            time.sleep(0.01)

    def probe_issuer(self, key, latencies, request_ids):
        c = Client(self.firmo)
        h = {"X-Api-Key": key, "Content-Type": "application/json"}
        i = 0
        while not self.stop.is_set():
            i += 1
            calls = [("GET", "/api/v1/signature-requests?limit=20", None)]
            if request_ids:
                calls.append(("GET", f"/api/v1/signature-requests/{request_ids[-1]}", None))
            if i % 5 == 0:
                calls.append(("POST", "/api/v1/signers", b'{"email": "probe@example.org"}'))
            if i % 10 == 0:
                calls.append(("POST", "/api/v1/dossiers", _json(dossier_body())))
            for method, path, body in calls:
                started = time.monotonic()
                status, data = c.call(method, path, body, h)
                latencies.append((time.monotonic() - started) * 1000)
                if status >= 300:
                    self.failures.append(f"probe {method} {path}: {status} {data[:200]!r}")
            time.sleep(0.15)  # about 20 calls/s with the events: within the default rate limit

    def probe_events(self, key, request_ids):
        """The probe issuer creates and cancels a request every second; its webhooks must come."""
        c = Client(self.firmo)
        h = {"X-Api-Key": key, "Content-Type": "application/json"}
        _, d = c.call("POST", "/api/v1/dossiers", _json(dossier_body()), h)
        dossier = _loads(d)["id"]
        _, s = c.call("POST", "/api/v1/signers", b'{"email": "probe@example.org"}', h)
        signer = _loads(s)["id"]
        while not self.stop.is_set():
            status, r = c.call("POST", "/api/v1/signature-requests",
                               _json({"dossier_id": dossier, "signer_id": signer}), h)
            if status != 201:
                self.failures.append(f"probe create: {status} {r[:200]!r}")
                continue
            request_ids.append(_loads(r)["id"])
            status, r = c.call("PUT", f"/api/v1/signature-requests/{request_ids[-1]}/status",
                               b'"CANCELLED"', h)
            if status != 204:
                self.failures.append(f"probe cancel: {status} {r[:200]!r}")
            self.count("probe cancelled")
            self.stop.wait(1.0)

    def traffic_issuer(self, key, pdf, links):
        """Creates, uploads and readies requests with an e-mail signer; shares their links."""
        c = Client(self.firmo)
        h = {"X-Api-Key": key, "Content-Type": "application/json"}
        _, d = c.call("POST", "/api/v1/dossiers", _json(dossier_body()), h)
        dossier = _loads(d)["id"]
        n = 0
        while not self.stop.is_set():
            n += 1
            _, s = c.call("POST", "/api/v1/signers", _json({"email": f"s{n}@example.org"}), h)
            status, r = c.call("POST", "/api/v1/signature-requests",
                               _json({"dossier_id": dossier, "signer_id": _loads(s)["id"]}), h)
            if status != 201:
                self.count(f"traffic create {status}")
                self.stop.wait(1)
                continue
            request = _loads(r)
            doc = request["documents"][0]["id"]
            _, u = c.call("GET", f"/api/v1/signature-requests/{request['id']}/documents/{doc}/upload_url",
                          None, h)
            url = _loads(u)
            path = url[url.index("/", len("http://")):]
            while not self.stop.is_set():  # the heavy lane may be full: retry as told
                status, _ = Client(self.firmo).call("PUT", path, pdf, {"Content-Type": "application/pdf"})
                self.count(f"upload {status}")
                if status != 503:
                    break
                self.stop.wait(2)
            deadline = time.monotonic() + 30
            while not self.stop.is_set() and time.monotonic() < deadline:
                _, g = c.call("GET", f"/api/v1/signature-requests/{request['id']}", None, h)
                if _loads(g)["documents"][0]["status"] in ("READY", "REJECTED"):
                    break
                self.stop.wait(0.2)
            status, _ = c.call("PUT", f"/api/v1/signature-requests/{request['id']}/status", b'"READY"', h)
            self.count(f"ready {status}")
            _, g = c.call("GET", f"/api/v1/signature-requests/{request['id']}", None, h)
            url = _loads(g)["signers"][0].get("portal_url")
            if url:
                links.append(url[url.index("/l/"):])

    def portal_visitor(self, links):
        c = Client(self.firmo, PORTAL_ADDRESS)
        while not self.stop.is_set():
            if links:
                status, _ = c.call("GET", links[-1])
                self.count(f"portal {status}")
            c.call("GET", "/static/firmo/portal.css")
            self.stop.wait(0.2)

    # --- hostile ---------------------------------------------------------------------------

    def idle_connections(self, how_many):
        held = []
        while not self.stop.is_set():
            while len(held) < how_many and not self.stop.is_set():
                try:
                    s = socket.create_connection((self.firmo.host, self.firmo.port), timeout=2,
                                                 source_address=(IDLE_ADDRESS, 0))
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never more
                    held.append(s)
                except OSError:
                    self.count("idle refused")
                    break
            with self.lock:
                self.counts["idle max"] = max(self.counts.get("idle max", 0), len(held))
            self.stop.wait(1)
            alive = []
            for s in held:  # answered (refused) or closed by the server: reconnect
                s.setblocking(False)
                try:
                    s.recv(1, socket.MSG_PEEK)
                    gone = True
                except BlockingIOError:
                    gone = False
                except OSError:
                    gone = True
                if gone:
                    s.close()
                else:
                    alive.append(s)
            held = alive
        for s in held:
            s.close()

    def oversized_bodies(self, key):
        heads = [b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n"
                 b"Content-Length: 52428800\r\n\r\n",
                 b"POST /api/v1/validate-document HTTP/1.1\r\nHost: x\r\nX-Api-Key: " +
                 key.encode() + b"\r\nContent-Type: application/pdf\r\nContent-Length: 52428800\r\n\r\n",
                 b"POST /api/v1/dossiers HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + key.encode() +
                 b"\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"]
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                with socket.create_connection((self.firmo.host, self.firmo.port), timeout=5,
                                              source_address=(OVERSIZED_ADDRESS, 0)) as s:
                    s.sendall(heads[i % len(heads)])
                    s.sendall(b"x" * 65536)
                    answer = s.recv(64)
                    s.shutdown(socket.SHUT_RDWR)
                    self.count(f"oversized {answer[9:12].decode('latin-1')}")
            except OSError:
                self.count("oversized reset")
            self.stop.wait(0.05)

    def bomb_thrower(self, key, bomb):
        c = Client(self.firmo, BOMB_ADDRESS, timeout=60)
        h = {"X-Api-Key": key, "Content-Type": "application/pdf"}
        while not self.stop.is_set():
            status, _ = c.call("POST", "/api/v1/validate-document", bomb, h)
            self.count(f"bomb {status}")
            if status >= 500 and status != 503:
                self.failures.append(f"bomb answered {status}")

    def slow_webhook_issuer(self, key):
        c = Client(self.firmo)
        h = {"X-Api-Key": key, "Content-Type": "application/json"}
        _, d = c.call("POST", "/api/v1/dossiers", _json(dossier_body()), h)
        _, s = c.call("POST", "/api/v1/signers", b'{"email": "slow@example.org"}', h)
        body = _json({"dossier_id": _loads(d)["id"], "signer_id": _loads(s)["id"]})
        while not self.stop.is_set():
            status, r = c.call("POST", "/api/v1/signature-requests", body, h)
            if status == 201:
                c.call("PUT", f"/api/v1/signature-requests/{_loads(r)['id']}/status",
                       b'"CANCELLED"', h)
            self.count(f"slow issuer {status}")
            self.stop.wait(0.5)

    # --- the test --------------------------------------------------------------------------

    def test_health_and_a_good_issuer_stay_fast_under_hostile_traffic(self):
        _, probe_key = self.firmo.new_issuer("Probe issuer", "probe@example.org")
        _, slow_key = self.firmo.new_issuer("Slow webhooks", "slow@example.org")
        _, bomb_key = self.firmo.new_issuer("Bombs", "bombs@example.org")
        traffic_key = self.firmo.api_key
        r = self.firmo.post("/api/v1/webhooks", {"url": f"http://127.0.0.1:{self.sink.port}/probe"},
                            key=probe_key)
        self.assertEqual(r.status, 201, r)
        r = self.firmo.post("/api/v1/webhooks", {"url": f"http://127.0.0.1:{self.hole.port}/"},
                            key=slow_key)
        self.assertEqual(r.status, 201, r)
        bomb, pdf = bomb_pdf(), make_pdf(pages=2, signature_field="Signature1")
        self.assertLess(len(bomb), 2 << 20)

        healthz, issuer, probe_requests, links = [], [], [], []
        pid = self.firmo.proc.pid
        rss_before = rss_mib(pid)
        threads = [self.run_thread(self.idle_connections, 300),
                   self.run_thread(self.oversized_bodies, bomb_key),
                   self.run_thread(self.slow_webhook_issuer, slow_key),
                   *[self.run_thread(self.bomb_thrower, bomb_key, bomb) for _ in range(4)],
                   self.run_thread(self.traffic_issuer, traffic_key, pdf, links),
                   self.run_thread(self.portal_visitor, links),
                   self.run_thread(self.probe_events, probe_key, probe_requests)]
        time.sleep(2)  # the hostile clients are at it before the measured ones start
        threads += [self.run_thread(self.probe_healthz, healthz),
                    self.run_thread(self.probe_issuer, probe_key, issuer, probe_requests)]
        rss_peak, ended = rss_before, time.monotonic() + LOAD_SECONDS
        while time.monotonic() < ended and not self.failures:
            rss_peak = max(rss_peak, rss_mib(pid))
            time.sleep(0.25)
        self.stop.set()
        for t in threads:
            t.join(timeout=70)
        for c in Client.opened:
            c.close()

        # The probe issuer's webhooks (signature_request.cancelled, one per request) arrive,
        # none stuck behind the endpoint that hangs.
        cancelled = self.counts.get("probe cancelled", 0)
        deadline = time.monotonic() + 15
        while len(self.sink.calls) < cancelled and time.monotonic() < deadline:
            time.sleep(0.2)

        summary = (
            f"soak: {LOAD_SECONDS:.0f} s; /healthz n={len(healthz)} p50={percentile(healthz, .5):.1f}"
            f" p99={percentile(healthz, .99):.1f} max={max(healthz or [0]):.0f} ms; issuer"
            f" n={len(issuer)} p50={percentile(issuer, .5):.1f} p99={percentile(issuer, .99):.1f}"
            f" max={max(issuer or [0]):.0f} ms; webhooks {len(self.sink.calls)} for"
            f" {cancelled} cancels; rss {rss_before:.0f} -> peak {rss_peak:.0f} MiB"
            f" (bound {RSS_BOUND_MIB:.0f}); {dict(sorted(self.counts.items()))}")
        print(summary, flush=True)
        self.assertEqual(self.failures, [], summary)
        self.assertIsNone(self.firmo.proc.poll(), "the node died")
        self.assertGreater(len(healthz), 100, summary)
        self.assertGreater(len(issuer), 100, summary)
        if ASSERT_BOUNDS:
            self.assertLess(percentile(healthz, .99), P99_BOUND_MS, summary)
            self.assertLess(percentile(issuer, .99), P99_BOUND_MS, summary)
            self.assertLess(rss_peak, RSS_BOUND_MIB, summary)
        else:
            print("bounds not asserted: sanitizer or debug build", flush=True)
        self.assertGreaterEqual(len(self.sink.calls), cancelled, summary)
        # The hostile clients did meet the limits (otherwise the soak proved nothing).
        self.assertGreater(sum(v for k, v in self.counts.items() if k.startswith("bomb 200")), 0, summary)
        self.assertGreater(self.counts.get("idle max", 0), 100, summary)


def _json(value):
    import json
    return json.dumps(value).encode()


def _loads(data):
    import json
    return json.loads(data)


if __name__ == "__main__":
    unittest.main()
