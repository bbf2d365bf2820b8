"""Issuers cannot see each other's objects; API keys are hashed and revocable at once; data
survives a restart."""

import os
import signal
import unittest

from harness import FISCAL_CODE, Firmo, FirmoTestCase, make_pdf


class TwoIssuers(FirmoTestCase):

    def test_another_issuers_objects_are_404(self):
        _, key_b = self.firmo.new_issuer()
        dossier = self.create_dossier()
        signer = self.create_signer()
        request = self.create_request(dossier["id"], signer)
        doc_id = request["documents"][0]["id"]
        for path in [f"/api/v1/dossiers/{dossier['id']}", f"/api/v1/signers/{signer}",
                     f"/api/v1/signature-requests/{request['id']}",
                     f"/api/v1/signature-requests/{request['id']}/events",
                     f"/api/v1/dossiers/{dossier['id']}/signature-requests",
                     f"/api/v1/signature-requests/{request['id']}/documents/{doc_id}/upload_url"]:
            with self.subTest(path=path):
                self.assertProblem(self.firmo.get(path, key=key_b), 404, "not-found")
        self.assertProblem(self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "CANCELLED",
                                          key=key_b), 404, "not-found")
        # B cannot build on A's dossier or signer either.
        signer_b = self.create_signer(key=key_b)
        self.assertNotEqual(signer_b, signer)  # the same person has another id at another issuer
        r = self.firmo.post("/api/v1/signature-requests", {"dossier_id": dossier["id"], "signer_id": signer_b},
                            key=key_b)
        self.assertProblem(r, 404, "not-found")
        dossier_b = self.create_dossier(key=key_b)
        r = self.firmo.post("/api/v1/signature-requests", {"dossier_id": dossier_b["id"], "signer_id": signer},
                            key=key_b)
        self.assertProblem(r, 404, "not-found")
        # Lists hold only one's own objects.
        self.assertEqual([d["id"] for d in self.firmo.get("/api/v1/dossiers", key=key_b).json["items"]],
                         [dossier_b["id"]])
        self.assertEqual(self.firmo.get("/api/v1/signature-requests", key=key_b).json["items"], [])
        # A's request is untouched.
        self.assertEqual(self.firmo.get(f"/api/v1/signature-requests/{request['id']}").json["status"], "DRAFT")

    def test_keys_are_stored_hashed_and_revocation_is_immediate(self):
        issuer, key = self.firmo.new_issuer("Revocable", "rev@example.org")
        self.assertEqual(self.firmo.get("/api/v1/dossiers", key=key).status, 200)
        self.assertRegex(issuer, r"^[0-9A-Z]+$")
        rows = self.firmo.query(f"SELECT key_hash, prefix FROM api_keys WHERE issuer_id = '{issuer}'")
        self.assertEqual(len(rows), 1)
        self.assertNotIn(key, rows[0][0])
        self.assertEqual(len(rows[0][0]), 64)
        self.assertTrue(key.startswith(rows[0][1]))
        revoked = self.firmo.cli("apikey", "revoke", "--key", key)
        self.assertIn("revoked", revoked.stdout)
        self.assertProblem(self.firmo.get("/api/v1/dossiers", key=key), 401, "unauthenticated")
        again = self.firmo.cli("apikey", "revoke", "--key", key, check=False)
        self.assertEqual(again.returncode, 1)

    def test_cli_conventions(self):
        r = self.firmo.cli("issuer", "create", "--name", "X", check=False)
        self.assertEqual(r.returncode, 2)
        r = self.firmo.cli("issuer", "create", "--name", "X", "--email", "bad", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("email", r.stderr)
        r = self.firmo.cli("apikey", "create", "--issuer", "01J00000000000000000000000", check=False)
        self.assertEqual(r.returncode, 1)
        for args in [("--help",), ("serve", "--help"), ("migrate", "--help"), ("issuer", "create", "--help"),
                     ("apikey", "create", "--help"), ("apikey", "revoke", "--help")]:
            with self.subTest(args=args):
                r = self.firmo.cli(*args, check=False)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("usage", r.stdout)
        r = self.firmo.cli("frobnicate", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command", r.stderr)
        self.assertIn("up to date", self.firmo.cli("migrate").stdout)


class Persistence(unittest.TestCase):

    def test_data_survives_a_restart(self):
        server = Firmo(extra_args=("--rate-limit-burst", "0")).start()
        try:
            key = server.api_key
            self.assertTrue(key)
            d = server.post("/api/v1/dossiers", {"title": "Kept dossier", "documents_metadata": [
                {"title": "Contract", "signature_fields": [
                    {"attrs": {"unique_name": "Signature1"}, "clause": {"title": "I accept it all", "type": "REQUIRED"}}]}]}).json
            s = server.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE}).json
            r = server.post("/api/v1/signature-requests", {"dossier_id": d["id"], "signer_id": s["id"]}).json
            url = server.get(f"/api/v1/signature-requests/{r['id']}/documents/{r['documents'][0]['id']}/upload_url").json
            self.assertEqual(server.request("PUT", url, raw=make_pdf(signature_field="Signature1"),
                                            content_type="application/pdf", key=False).status, 202)
            self.assertEqual(server.stop(signal.SIGTERM), 0)  # graceful: exit code 0

            server.start()
            self.assertIsNone(server.api_key and None)
            self.assertEqual(server.get(f"/api/v1/dossiers/{d['id']}", key=key).json["title"], "Kept dossier")
            self.assertEqual(server.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE}, key=key).json["id"], s["id"])
            got = server.get(f"/api/v1/signature-requests/{r['id']}", key=key).json
            self.assertEqual(got["id"], r["id"])
            # Validation enqueued before the stop finishes after the start, at the latest.
            for _ in range(200):
                got = server.get(f"/api/v1/signature-requests/{r['id']}", key=key).json
                if got["documents"][0]["status"] == "READY":
                    break
            self.assertEqual(got["documents"][0]["status"], "READY")
            self.assertEqual(server.stdout_lines.count("Data folder: " + server.data_dir + "\n"), 2)
            # No second bootstrap key on the second start.
            self.assertEqual(sum(1 for l in server.stdout_lines if l.startswith("API key: ")), 1)
        finally:
            server.cleanup()

    def test_a_killed_server_loses_nothing_committed(self):
        server = Firmo(extra_args=("--rate-limit-burst", "0")).start()
        try:
            key = server.api_key
            d = server.post("/api/v1/dossiers", {"title": "Crash dossier", "documents_metadata": [
                {"title": "Contract", "signature_fields": []}]}).json
            server.stop(signal.SIGKILL)
            server.start()
            self.assertEqual(server.get(f"/api/v1/dossiers/{d['id']}", key=key).status, 200)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
