"""Authentication levels (issue 14) on the real binary: the levels a request stores and returns,
precise 422s, and a signer who must sign with eID but came in without it (here by the direct
flow's redirect URL) cannot confirm: 403 authentication-required, and nothing changes."""

import unittest

from harness import (FISCAL_CODE, FirmoTestCase, dossier_body, make_pdf)

REDIRECT = {"completion_url": "https://hr.example.org/done",
            "rejection_url": "https://hr.example.org/rejected",
            "error_url": "https://hr.example.org/error"}


class WithoutEid(FirmoTestCase):
    def test_the_default_is_code_and_eid_levels_are_refused(self):
        dossier = self.create_dossier()["id"]
        nin = self.create_signer()
        r = self.firmo.post("/api/v1/signature-requests",
                            {"dossier_id": dossier, "signer_id": nin})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["signers"][0]["authentication"], "code")
        self.assertEqual(r.json["identifier_in_signed_documents"], "identifier_and_name")
        self.assertNotIn("authenticated_with", r.json["signers"][0])
        r = self.firmo.post("/api/v1/signature-requests", {
            "dossier_id": dossier, "signers": [{"signer_id": nin, "authentication": "eid_high"}]})
        problem = self.assertProblem(r, 422, "validation-error")
        self.assertEqual(problem["violations"][0]["field"], "signers[0].authentication")
        self.assertIn("no eID login", problem["violations"][0]["reason"])


class WithEid(FirmoTestCase):
    # eID login on (the provider is contacted only when someone logs in, which nobody does here).
    server_args = FirmoTestCase.server_args + ("--oidc-issuer", "http://127.0.0.1:9",
                                               "--oidc-client-id", "firmo")

    def test_levels_are_validated_stored_and_returned(self):
        dossier = self.create_dossier()["id"]
        nin = self.create_signer()
        mail = self.firmo.post("/api/v1/signers", {"email": "luisa@example.org"}).json["id"]
        r = self.firmo.post("/api/v1/signature-requests", {
            "dossier_id": dossier, "identifier_in_signed_documents": "name",
            "signers": [{"signer_id": nin}, {"signer_id": mail, "order": 1}]})
        self.assertEqual(r.status, 201, r)
        self.assertEqual([s["authentication"] for s in r.json["signers"]],
                         ["eid_substantial", "code"])
        self.assertEqual(r.json["identifier_in_signed_documents"], "name")
        got = self.firmo.get(f"/api/v1/signature-requests/{r.json['id']}").json
        self.assertEqual([s["authentication"] for s in got["signers"]], ["eid_substantial", "code"])
        self.assertEqual(got["identifier_in_signed_documents"], "name")

        for body, field, words in [
            ({"signers": [{"signer_id": nin, "authentication": "eid_low"}]},
             "signers[0].authentication", "must be eid_high, eid_substantial or code"),
            ({"signers": [{"signer_id": mail, "authentication": "eid_high"}]},
             "signers[0].authentication", "national identifier"),
            ({"signer_id": nin, "identifier_in_signed_documents": "identifier"},
             "identifier_in_signed_documents", "must be identifier_and_name or name"),
        ]:
            r = self.firmo.post("/api/v1/signature-requests", {"dossier_id": dossier, **body})
            problem = self.assertProblem(r, 422, "validation-error")
            self.assertEqual(problem["violations"][0]["field"], field, problem)
            self.assertIn(words, problem["violations"][0]["reason"], problem)

    def test_a_nin_signer_without_eid_cannot_confirm_and_nothing_changes(self):
        dossier = self.create_dossier(dossier_body(fields=[
            {"attrs": {"unique_name": "Signature1"},
             "clause": {"title": "I accept the contract", "type": "REQUIRED"}}]))["id"]
        signer = self.create_signer(FISCAL_CODE)
        created = self.create_request(dossier, signer, redirect=REDIRECT)
        self.assertEqual(created["signers"][0]["authentication"], "eid_substantial")
        rid = created["id"]
        self.assertEqual(self.upload(created, make_pdf(signature_field="Signature1")).status, 202)
        self.assertEqual(self.wait_document(rid)["status"], "READY")
        r = self.firmo.put(f"/api/v1/signature-requests/{rid}/status", "READY")
        self.assertIn(r.status, (200, 204), r)

        token = created["signers"][0]["redirect_url"].rsplit("/", 1)[-1]
        s = self.firmo.post("/api/v1/signer/sessions", {"redirect_token": token}, key=False)
        self.assertEqual(s.status, 201, s)
        auth = {"Authorization": "Bearer " + s.json["session_token"]}
        base = f"/api/v1/signer/signature-requests/{rid}"
        view = self.firmo.get(base, key=False, headers=auth)
        self.assertEqual(view.status, 200, view)
        self.assertEqual(view.json["authentication"], "eid_substantial")
        self.assertTrue(view.json["eid_required"])
        self.assertEqual(view.json["second_factor"], "reauthentication")
        a = self.firmo.post(base + "/acceptance",
                            {"accepted": [{"document_index": 0, "field_index": 0}]},
                            key=False, headers=auth)
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json, {"second_factor": "reauthentication"})  # no code sent

        before = self.firmo.get(f"/api/v1/signature-requests/{rid}").json
        events_before = self.firmo.get(f"/api/v1/signature-requests/{rid}/events").json["items"]
        for code in ("123456", "000000"):
            c = self.firmo.post(base + "/confirmation", {"code": code}, key=False, headers=auth)
            problem = self.assertProblem(c, 403, "authentication-required")
            self.assertIn("eID", problem["detail"])
        after = self.firmo.get(f"/api/v1/signature-requests/{rid}").json
        self.assertEqual(after, before)
        self.assertEqual(after["signers"][0]["status"], "WAITING")
        self.assertNotIn("authenticated_with", after["signers"][0])
        events = self.firmo.get(f"/api/v1/signature-requests/{rid}/events").json["items"]
        self.assertEqual(events, events_before)
        self.assertFalse(any(e["type"] in ("signer.confirmed", "signer.code_rejected")
                             for e in events))


if __name__ == "__main__":
    unittest.main()
