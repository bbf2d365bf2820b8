"""Test and live API keys (issue 17): a key made with `firmo apikey create --mode test` makes test
requests ("test": true) that a live key cannot see (404, as another issuer's), whose messages to
signers (the invitation e-mail, the one-time codes) are recorded in the delivery log and never
reach the SMTP server, which the integrator signs through from start to end with what that log
shows, and whose signature's certificate says TEST (read by pdfsig, an independent verifier)."""

import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.parse

from harness import FIELD_BY_NAME, FISCAL_CODE, Firmo, FirmoTestCase, dossier_body, make_pdf

SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser", "smtp_sink.py")


class SmtpSink:
    """tests/browser/smtp_sink.py: every message it receives, as parsed JSON."""

    def __init__(self):
        self.proc = subprocess.Popen(["/usr/bin/python3", SINK], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True,
                                     env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        first = self.proc.stdout.readline()
        if "listening on" not in first:
            raise RuntimeError(f"SMTP sink did not start: {first!r}")
        self.port = int(first.strip().rsplit(":", 1)[1])
        self.messages = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.messages.append(json.loads(line))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class TestKeys(FirmoTestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpSink()
        cls.firmo = Firmo(extra_args=(*cls.server_args, "--smtp-url",
                                      f"smtp://127.0.0.1:{cls.smtp.port}",
                                      "--smtp-starttls", "none")).start()
        issuer_id = cls.firmo.query("SELECT id FROM issuers")[0][0]
        created = cls.firmo.cli("apikey", "create", "--issuer", issuer_id, "--label", "CI",
                                "--mode", "test")
        cls.test_key = created.stdout.strip().splitlines()[-1]
        cls.live_key = cls.firmo.cli("apikey", "create", "--issuer", issuer_id).stdout.strip() \
            .splitlines()[-1]
        cls.listing = cls.firmo.cli("apikey", "list", "--issuer", issuer_id).stdout

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.smtp.stop()

    def deliveries(self, predicate, timeout=20):
        """The first notification delivery (seen with the test key) matching `predicate`, once
        the delivery thread has dealt with it."""
        deadline = time.time() + timeout
        items = []
        while time.time() < deadline:
            r = self.firmo.get("/api/v1/notifications/deliveries?limit=100", key=self.test_key)
            self.assertEqual(r.status, 200, r)
            items = r.json["items"]
            found = [m for m in items if predicate(m) and m["status"] != "pending"]
            if found:
                return found[0]
            time.sleep(0.1)
        self.fail(f"no matching delivery; got {items}")

    def test_keys_say_their_mode(self):
        self.assertTrue(self.test_key.startswith("firmo_test_"), self.test_key)
        self.assertTrue(self.live_key.startswith("firmo_live_"), self.live_key)
        self.assertTrue(self.firmo.api_key.startswith("firmo_live_"), self.firmo.api_key)
        header, *rows = self.listing.strip().splitlines()
        self.assertEqual(header.split("\t")[-1], "mode")
        modes = {row.split("\t")[1]: row.split("\t")[-1] for row in rows}
        self.assertEqual(modes[self.test_key[:17]], "test")
        self.assertEqual(modes[self.live_key[:17]], "live")

    def test_a_test_request_runs_the_whole_flow_without_reaching_anyone(self):
        key = self.test_key
        dossier = self.create_dossier(dossier_body(fields=[FIELD_BY_NAME]), key=key)["id"]
        r = self.firmo.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE,
                                                "email": "mario@example.org"}, key=key)
        self.assertIn(r.status, (200, 201), r)
        created = self.create_request(dossier, r.json["id"], key=key, reference="TEST-1")
        self.assertIs(created["test"], True)
        rid = created["id"]
        self.assertEqual(self.upload(created, make_pdf(signature_field="Signature1"),
                                     key=key).status, 202)
        self.assertEqual(self.wait_document(rid, key=key)["status"], "READY")
        self.assertIn(self.firmo.put(f"/api/v1/signature-requests/{rid}/status", "READY",
                                     key=key).status, (200, 204))
        r = self.firmo.put(f"/api/v1/signature-requests/{rid}/notification", None, key=key)
        self.assertIn(r.status, (200, 201, 202), r)

        # A live key does not see it: 404 as for another issuer's, and not in its lists.
        for path in (f"/api/v1/signature-requests/{rid}",
                     f"/api/v1/signature-requests/{rid}/events"):
            self.assertProblem(self.firmo.get(path, key=self.live_key), 404, "not-found")
        self.assertProblem(self.firmo.put(f"/api/v1/signature-requests/{rid}/status",
                                          "CANCELLED", key=self.live_key), 404, "not-found")
        live_list = self.firmo.get("/api/v1/signature-requests", key=self.live_key)
        self.assertNotIn(rid, [x["id"] for x in live_list.json["items"]])
        test_list = self.firmo.get("/api/v1/signature-requests", key=key)
        self.assertEqual([x["test"] for x in test_list.json["items"]],
                         [True] * len(test_list.json["items"]))
        self.assertIn(rid, [x["id"] for x in test_list.json["items"]])
        # And a live request is live, and out of the test key's reach.
        live = self.create_request(key=self.live_key)
        self.assertIs(live["test"], False)
        self.assertProblem(self.firmo.get(f"/api/v1/signature-requests/{live['id']}", key=key),
                           404, "not-found")

        # The invitation is recorded, not sent, and carries the signer's link.
        invitation = self.deliveries(lambda m: m["signature_request_id"] == rid
                                     and m["type"] == "sign_request")
        self.assertEqual(invitation["status"], "not_sent_test", invitation)
        self.assertEqual(invitation["destination"], "mario@example.org")
        link_token = urllib.parse.urlsplit(invitation["link"]).path.rsplit("/", 1)[-1]
        self.firmo.wait_for_log("delivery_test_not_sent")

        # The signer signs through the JSON signer API with the recorded codes.
        r = self.firmo.post("/api/v1/signer/codes", {"link_token": link_token}, key=False)
        self.assertEqual(r.status, 202, r)
        login = self.deliveries(lambda m: m["type"] == "login_code"
                                and m["signature_request_id"] == rid)
        self.assertEqual(login["status"], "not_sent_test")
        s = self.firmo.post("/api/v1/signer/sessions",
                            {"link_token": link_token, "code": login["code"]}, key=False)
        self.assertEqual(s.status, 201, s)
        auth = {"Authorization": "Bearer " + s.json["session_token"]}
        base = f"/api/v1/signer/signature-requests/{rid}"
        a = self.firmo.post(base + "/acceptance",
                            {"accepted": [{"document_index": 0, "field_index": 0}]},
                            key=False, headers=auth)
        self.assertEqual(a.status, 200, a)
        confirm = self.deliveries(lambda m: m["type"] == "confirm_code"
                                  and m["signature_request_id"] == rid)
        c = self.firmo.post(base + "/confirmation", {"code": confirm["code"]}, key=False,
                            headers=auth)
        self.assertIn(c.status, (200, 202), c)
        deadline = time.time() + 30
        status = None
        while time.time() < deadline:
            got = self.firmo.get(f"/api/v1/signature-requests/{rid}", key=key)
            status = got.json["status"]
            if status in ("SIGNED", "FAILED"):
                break
            time.sleep(0.2)
        self.assertEqual(status, "SIGNED")

        # The signed PDF's certificate says TEST.
        url = got.json["documents"][0]["url"]
        conn_bytes = self.download(url)
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(conn_bytes)
            f.flush()
            out = subprocess.run(["pdfsig", f.name], capture_output=True, text=True).stdout
        self.assertIn("Signer Certificate Common Name: TEST - ", out)
        self.assertIn("Signature is Valid", out)

        # Nothing reached the SMTP server: not the invitation, not a code.
        time.sleep(0.5)
        self.assertEqual(self.smtp.messages, [])
        # The live request's invitation still would go out (the server's mail works).
        self.make_live_request_notified(live)
        deadline = time.time() + 20
        while time.time() < deadline and not self.smtp.messages:
            time.sleep(0.1)
        self.assertTrue(self.smtp.messages, "a live request's e-mail was not sent")

    def download(self, url):
        import http.client
        conn = http.client.HTTPConnection(self.firmo.host, self.firmo.port, timeout=30)
        conn.request("GET", urllib.parse.urlsplit(url).path)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.assertEqual(resp.status, 200)
        return data

    def make_live_request_notified(self, live):
        key = self.live_key  # its signer is the test request's (signers are shared): an e-mail
        self.assertEqual(self.upload(live, make_pdf(signature_field="Signature1"),
                                     key=key).status, 202)
        self.assertEqual(self.wait_document(live["id"], key=key)["status"], "READY")
        self.assertIn(self.firmo.put(f"/api/v1/signature-requests/{live['id']}/status", "READY",
                                     key=key).status, (200, 204))
        r = self.firmo.put(f"/api/v1/signature-requests/{live['id']}/notification", None, key=key)
        self.assertIn(r.status, (200, 201, 202), r)


if __name__ == "__main__":
    import unittest
    unittest.main()
