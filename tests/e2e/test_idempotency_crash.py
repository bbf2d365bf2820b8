"""An idempotent create survives a crash at every step (issue 11).

The claim of the Idempotency-Key, the change and the recorded answer commit together. For each
fault point of IdempotencyService (core/fault.hpp: FIRMO_FAULT=<point> makes the process
_exit there, as a kill -9 would), the server is killed at that point of a POST, restarted, and
the client retries: there is exactly one object and one answer per key. The same file runs on
PostgreSQL (e2e_pg.test_idempotency_crash)."""

import http.client
import shutil
import tempfile
import unittest

from harness import Firmo, dossier_body, FISCAL_CODE

FAULT_POINTS = [
    "idempotency.after_claim",   # the key is claimed, nothing else yet
    "idempotency.after_change",  # the request is created, its answer not recorded
    "idempotency.after_record",  # the answer is recorded, nothing committed
    "idempotency.after_commit",  # everything committed, the answer not sent
]
FAULT_EXIT_CODE = 86


class IdempotentCreateCrashTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="firmo-e2e-crash-")
        self.server = Firmo(data_dir=self.data_dir, extra_args=("--rate-limit-burst", "0")).start()
        self.key = self.server.api_key
        r = self.server.post("/api/v1/dossiers", dossier_body())
        self.assertEqual(r.status, 201, r)
        self.dossier = r.json["id"]
        r = self.server.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE})
        self.assertIn(r.status, (200, 201), r)
        self.signer = r.json["id"]
        self.server.stop()

    def tearDown(self):
        self.server.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def restart(self, env=None):
        self.server.stop()
        self.server = Firmo(data_dir=self.data_dir, extra_args=("--rate-limit-burst", "0"),
                            env=env).start()
        self.server.api_key = self.key
        return self.server

    def requests_with(self, reference):
        rows = self.server.query(
            f"SELECT id FROM signature_requests WHERE reference = '{reference}'")
        return [row[0] for row in rows]

    def test_a_crash_at_each_step_leaves_one_object_and_one_answer(self):
        for point in FAULT_POINTS:
            with self.subTest(point=point):
                reference = "crash-" + point
                body = {"dossier_id": self.dossier, "signer_id": self.signer,
                        "reference": reference}
                headers = {"Idempotency-Key": "order-" + point}

                crashing = self.restart(env={"FIRMO_FAULT": point})
                with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
                    crashing.post("/api/v1/signature-requests", body, headers=headers)
                self.assertEqual(crashing.proc.wait(timeout=20), FAULT_EXIT_CODE)
                self.assertIn("fault injected at " + point, crashing.log())

                server = self.restart()
                first = server.post("/api/v1/signature-requests", body, headers=headers)
                self.assertEqual(first.status, 201, first)
                # Committed before the crash: the retry is the recorded answer; else it ran now.
                replayed = first.header("Idempotent-Replayed") == "true"
                self.assertEqual(replayed, point == "idempotency.after_commit", first)
                again = server.post("/api/v1/signature-requests", body, headers=headers)
                self.assertEqual(again.status, 201, again)
                self.assertEqual(again.header("Idempotent-Replayed"), "true")
                self.assertEqual(again.body, first.body)
                self.assertEqual(again.header("Location"), first.header("Location"))

                created = self.requests_with(reference)
                self.assertEqual(created, [first.json["id"]])
                events = server.query(
                    "SELECT count(*) FROM request_events WHERE type = 'signature_request.created'"
                    f" AND request_id = '{created[0]}'")
                self.assertEqual(int(events[0][0]), 1)

    def test_the_redirect_url_is_not_kept_in_clear(self):
        server = self.restart()
        body = {"dossier_id": self.dossier, "signer_id": self.signer, "reference": "direct",
                "redirect": {"completion_url": "https://shop.example/done",
                             "rejection_url": "https://shop.example/no",
                             "error_url": "https://shop.example/error"}}
        headers = {"Idempotency-Key": "direct-1"}
        first = server.post("/api/v1/signature-requests", body, headers=headers)
        self.assertEqual(first.status, 201, first)
        redirect_url = first.json["signers"][0]["redirect_url"]
        token = redirect_url.rsplit("/", 1)[-1]
        stored = server.query("SELECT body FROM idempotency_keys WHERE key = 'direct-1'")
        self.assertEqual(len(stored), 1)
        self.assertNotIn(token, stored[0][0])
        self.assertNotIn("redirect_url", stored[0][0])
        # The same API key gets the first answer, byte for byte.
        again = server.post("/api/v1/signature-requests", body, headers=headers)
        self.assertEqual(again.status, 201, again)
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        self.assertEqual(again.body, first.body)
        # Another key of the same issuer cannot open it.
        issuer = server.query("SELECT issuer_id FROM api_keys")[0][0]
        other = server.cli("apikey", "create", "--issuer", issuer).stdout.strip().splitlines()[-1]
        r = server.post("/api/v1/signature-requests", body, headers=headers, key=other)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["type"], "urn:firmo:problem:conflict")
        self.assertEqual(self.requests_with("direct"), [first.json["id"]])


if __name__ == "__main__":
    unittest.main()
