"""Observability: GET /metrics (Prometheus text format 0.0.4, loopback only by default),
request ids (X-Request-Id kept or generated, echoed, in the access line), JSON log lines,
and the lane each route runs on."""

import json
import re
import time

from harness import Firmo, FirmoTestCase, make_pdf


def sample(text, name, **labels):
    """The value of one sample in a metrics text, or None."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = r"(?m)^" + re.escape(name + ("{" + want + "}" if want else "")) + r" (\S+)\n"
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None


class Metrics(FirmoTestCase):

    def test_metrics_in_the_text_format_with_counters_moving_by_route_pattern(self):
        r = self.firmo.get("/metrics", key=False)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        for family in ("firmo_http_requests_total counter",
                       "firmo_http_request_duration_seconds histogram",
                       "firmo_lane_queued gauge", "firmo_jobs_total counter",
                       "firmo_deliveries_total counter"):
            self.assertIn("# TYPE " + family + "\n", r.body)
        before = sample(r.body, "firmo_http_requests_total",
                        route="/healthz", method="GET", status="200") or 0
        for _ in range(3):
            self.assertEqual(self.firmo.get("/healthz", key=False).status, 200)
        missing = "01J0000000000000000000NONE"
        self.assertEqual(self.firmo.get(f"/api/v1/signature-requests/{missing}").status, 404)
        after = self.firmo.get("/metrics", key=False).body
        self.assertEqual(sample(after, "firmo_http_requests_total",
                                route="/healthz", method="GET", status="200"), before + 3)
        self.assertEqual(sample(after, "firmo_http_requests_total",
                                route="/api/v1/signature-requests/{id}", method="GET",
                                status="404"), 1)
        self.assertNotIn(missing, after)  # the pattern, never the raw path
        buckets = re.findall(r'firmo_http_request_duration_seconds_bucket\{route="/healthz",'
                             r'method="GET",le="([^"]+)"\} (\d+)', after)
        self.assertEqual(buckets[-1][0], "+Inf")
        counts = [int(c) for _, c in buckets]
        self.assertEqual(counts, sorted(counts))  # cumulative
        self.assertGreaterEqual(counts[-1], 3)


class QueueAndPoolMetrics(FirmoTestCase):
    """The queues are read from the database at each scrape: with no job or delivery thread,
    what is enqueued stays pending and shows."""
    server_args = ("--rate-limit-burst", "0", "--job-threads", "0", "--delivery-threads", "0",
                   "--db-pool", "5")

    def test_pending_jobs_and_outbox_messages_their_age_and_the_pool(self):
        before = self.firmo.get("/metrics", key=False).body
        for family in ("firmo_jobs_pending gauge", "firmo_jobs_oldest_pending_age_seconds gauge",
                       "firmo_outbox_pending gauge",
                       "firmo_outbox_oldest_pending_age_seconds gauge",
                       "firmo_metrics_collect_errors_total counter",
                       "firmo_db_pool_in_use gauge", "firmo_db_pool_size gauge",
                       "firmo_db_pool_waiting gauge",
                       "firmo_signing_duration_seconds histogram"):
            self.assertIn("# TYPE " + family + "\n", before)
        self.assertEqual(sample(before, "firmo_jobs_pending", kind="validate_document"), 0)
        self.assertEqual(sample(before, "firmo_outbox_pending", channel="webhook"), 0)
        self.assertEqual(sample(before, "firmo_jobs_oldest_pending_age_seconds"), 0)

        # One validation job: an upload nobody validates.
        request = self.create_request()
        self.assertEqual(self.upload(request, make_pdf(signature_field="Signature1")).status, 202)
        # One webhook call: a cancelled request, with an endpoint nobody delivers to.
        r = self.firmo.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook"})
        self.assertEqual(r.status, 201, r)
        cancelled = self.create_request()
        r = self.firmo.put(f"/api/v1/signature-requests/{cancelled['id']}/status", "CANCELLED")
        self.assertEqual(r.status, 204, r)
        time.sleep(0.3)

        after = self.firmo.get("/metrics", key=False).body
        self.assertEqual(sample(after, "firmo_jobs_pending", kind="validate_document"), 1)
        self.assertEqual(sample(after, "firmo_jobs_pending", kind="sign_documents"), 0)
        self.assertEqual(sample(after, "firmo_outbox_pending", channel="webhook"), 1)
        self.assertEqual(sample(after, "firmo_outbox_pending", channel="email"), 0)
        jobs_late = sample(after, "firmo_jobs_oldest_pending_age_seconds")
        outbox_late = sample(after, "firmo_outbox_oldest_pending_age_seconds")
        self.assertGreaterEqual(jobs_late, 0.3)  # due since the upload
        self.assertLess(jobs_late, 60)
        self.assertGreaterEqual(outbox_late, 0.2)
        self.assertLess(outbox_late, 60)
        self.assertEqual(sample(after, "firmo_metrics_collect_errors_total", source="jobs"), 0)
        self.assertEqual(sample(after, "firmo_db_pool_size"), 5)
        in_use = sample(after, "firmo_db_pool_in_use")
        self.assertTrue(0 <= in_use <= 5, in_use)
        self.assertEqual(sample(after, "firmo_db_pool_waiting"), 0)
        self.assertEqual(sample(after, "firmo_signing_duration_seconds_count", outcome="signed"),
                         0)


class MetricsBehindAProxy(FirmoTestCase):
    server_args = ("--rate-limit-burst", "0", "--trusted-proxies", "127.0.0.1")

    def test_clients_outside_metrics_allow_are_refused(self):
        self.assertEqual(self.firmo.get("/metrics", key=False).status, 200)  # the proxy itself
        r = self.firmo.get("/metrics", key=False, headers={"X-Forwarded-For": "198.51.100.7"})
        self.assertProblem(r, 403, "forbidden")


class MetricsAllowList(FirmoTestCase):
    server_args = ("--rate-limit-burst", "0", "--metrics-allow", "10.0.0.0/8")

    def test_loopback_is_refused_when_not_listed(self):
        self.assertProblem(self.firmo.get("/metrics", key=False), 403, "forbidden")


class RequestIds(FirmoTestCase):

    def test_request_id_is_kept_or_generated_and_echoed_and_logged(self):
        r = self.firmo.get("/api/v1/dossiers", headers={"X-Request-Id": "client-req-42"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("X-Request-Id"), "client-req-42")
        generated = self.firmo.get("/healthz", key=False).header("X-Request-Id")
        self.assertRegex(generated, r"^[0-9a-f]{32}$")
        forged = self.firmo.get("/healthz", key=False,
                                headers={"X-Request-Id": "evil id=1 ip=6.6.6.6"})
        self.assertRegex(forged.header("X-Request-Id"), r"^[0-9a-f]{32}$")
        self.assertRegex(self.firmo.get("/healthz", key=False,
                                        headers={"X-Request-Id": "x" * 129}).header("X-Request-Id"),
                         r"^[0-9a-f]{32}$")
        # Errors the server answers itself carry one too.
        big = self.firmo.request("POST", "/api/v1/dossiers", raw=b"x" * (2 * 1024 * 1024),
                                 headers={"X-Request-Id": "too-big-1"})
        self.assertEqual(big.status, 413)
        self.assertEqual(big.header("X-Request-Id"), "too-big-1")
        log = self.firmo.wait_for_log("request_id=client-req-42", f"request_id={generated}")
        line = next(l for l in log.splitlines() if "request_id=client-req-42" in l)
        self.assertIn("event=http_request", line)
        self.assertIn("path=/api/v1/dossiers", line)
        self.assertIn("lane=database", line)
        self.assertNotIn("evil", log)


class JsonLogs(FirmoTestCase):
    server_args = ("--rate-limit-burst", "0", "--log-format", "json", "--node-id", "e2e-node-1")

    def test_every_line_is_a_json_object_with_node_and_request_lines_with_their_id(self):
        self.assertEqual(self.firmo.get("/api/v1/dossiers",
                                        headers={"X-Request-Id": "json-req-1"}).status, 200)
        pdf = make_pdf(signature_field="Signature1")
        r = self.firmo.request("POST", "/api/v1/verify", raw=pdf, content_type="application/pdf",
                               headers={"X-Request-Id": "json-req-2"})
        self.assertIn(r.status, (200, 422), r)
        text = self.firmo.wait_for_log('"request_id":"json-req-1"', '"request_id":"json-req-2"')
        lines = [json.loads(l) for l in text.splitlines() if l.strip()]
        self.assertGreater(len(lines), 3)
        for entry in lines:
            self.assertEqual(list(entry)[:3], ["ts", "level", "event"], entry)
            self.assertRegex(entry["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertEqual(entry["node"], "e2e-node-1")
        started = next(e for e in lines if e["event"] == "server_started")
        self.assertEqual(started["worker_id"], "e2e-node-1")  # one id for the node
        access = next(e for e in lines if e.get("request_id") == "json-req-1")
        self.assertEqual(access["event"], "http_request")
        self.assertEqual(access["method"], "GET")
        self.assertEqual(access["status"], 200)  # a number, not a string
        self.assertIsInstance(access["us"], int)
        self.assertEqual(access["lane"], "database")
        verify = next(e for e in lines if e.get("request_id") == "json-req-2")
        self.assertEqual(verify["lane"], "heavy")  # PDF work runs on the heavy lane


class Lanes(FirmoTestCase):

    def test_document_routes_run_on_the_heavy_lane(self):
        pdf = make_pdf(signature_field="Signature1")
        self.firmo.request("POST", "/api/v1/verify", raw=pdf, content_type="application/pdf",
                           headers={"X-Request-Id": "lane-verify"})
        self.firmo.request("PUT", "/api/v1/uploads/not-a-token", raw=pdf,
                           content_type="application/pdf", key=False,
                           headers={"X-Request-Id": "lane-upload"})
        self.firmo.get("/healthz", key=False, headers={"X-Request-Id": "lane-health"})
        log = self.firmo.wait_for_log("request_id=lane-verify", "request_id=lane-upload",
                                      "request_id=lane-health")
        lanes = {m.group(1): m.group(2) for m in
                 re.finditer(r"request_id=(lane-\w+) .*?lane=(\w+)", log)}
        self.assertEqual(lanes, {"lane-verify": "heavy", "lane-upload": "heavy",
                                 "lane-health": "inline"})


if __name__ == "__main__":
    import unittest
    unittest.main()
