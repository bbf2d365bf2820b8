"""The issuer's whole flow on the real binary: dossier, signer, request, upload, validation,
READY, cancel, audit log; plus re-upload after rejection, multi-signer requests and expiry."""

import time
import unittest

from harness import (FIELD_AT, FIELD_BY_NAME, FISCAL_CODE, FISCAL_CODE_2, FirmoTestCase,
                     dossier_body, encrypt_pdf, make_pdf)


class IssuerFlow(FirmoTestCase):

    def test_whole_flow_to_ready_and_cancel(self):
        dossier = self.create_dossier()
        self.assertEqual(dossier["title"], "Employment contract")
        self.assertEqual(dossier["support_email"], "admin@localhost.localdomain")  # issuer default
        self.assertEqual(self.firmo.get(f"/api/v1/dossiers/{dossier['id']}").json, dossier)

        signer_id = self.create_signer()
        request = self.create_request(dossier["id"], signer_id, reference="contract-42")
        self.assertEqual(request["status"], "DRAFT")
        self.assertEqual(request["signer_id"], signer_id)
        self.assertEqual(request["reference"], "contract-42")
        self.assertEqual([d["status"] for d in request["documents"]], ["WAIT_FOR_UPLOAD"])
        self.assertEqual(request["documents"][0]["metadata"], dossier["documents_metadata"][0])

        # READY before the upload: 409 naming the document that is not ready.
        r = self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "READY")
        problem = self.assertProblem(r, 409, "conflict")
        self.assertIn("WAIT_FOR_UPLOAD", problem["detail"])
        self.assertEqual(problem["violations"][0]["field"], "documents[0]")

        pdf = make_pdf(pages=2, signature_field="Signature1")
        up = self.upload(request, pdf)
        self.assertEqual(up.status, 202, up)
        self.assertIn(up.json["status"], ("WAIT_FOR_VALIDATION", "READY"))
        self.assertEqual(up.json["size"], len(pdf))

        doc = self.wait_document(request["id"])
        self.assertEqual(doc["status"], "READY", doc)
        self.assertEqual(doc["page_count"], 2)

        r = self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "READY")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, "")
        got = self.firmo.get(f"/api/v1/signature-requests/{request['id']}").json
        self.assertEqual(got["status"], "READY")

        # No uploads once READY.
        doc_id = request["documents"][0]["id"]
        r = self.firmo.get(f"/api/v1/signature-requests/{request['id']}/documents/{doc_id}/upload_url")
        self.assertProblem(r, 409, "conflict")
        # READY twice is a conflict too.
        self.assertProblem(self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "READY"),
                           409, "conflict")

        r = self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "CANCELLED")
        self.assertEqual(r.status, 204, r)
        got = self.firmo.get(f"/api/v1/signature-requests/{request['id']}").json
        self.assertEqual(got["status"], "CANCELLED")
        self.assertIn("cancelled_at", got)
        self.assertEqual(got["signers"][0]["status"], "CANCELLED")
        self.assertProblem(self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status",
                                          "CANCELLED"), 409, "conflict")

        events = self.firmo.get(f"/api/v1/signature-requests/{request['id']}/events").json["items"]
        types = [e["type"] for e in events]
        self.assertEqual(types, ["signature_request.created", "document.uploaded", "document.ready",
                                 "signature_request.ready", "signature_request.cancelled",
                                 "signer.cancelled"])
        self.assertEqual(events[1]["document_id"], doc_id)
        self.assertEqual((events[3]["from"], events[3]["to"]), ("DRAFT", "READY"))
        self.assertTrue(events[0]["actor"].startswith("issuer:firmo_"))
        self.assertEqual(events[2]["actor"], "worker")
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(seqs))

    def test_rejected_document_says_why_and_can_be_uploaded_again(self):
        request = self.create_request()
        # The named field is missing and the coordinates field lies outside a small page.
        bad = make_pdf(pages=1, size=(200, 200))
        self.assertEqual(self.upload(request, bad).status, 202)
        doc = self.wait_document(request["id"])
        self.assertEqual(doc["status"], "REJECTED", doc)
        fields = {v["field"] for v in doc["violations"]}
        self.assertEqual(fields, {"signature_fields[0]", "signature_fields[1]"}, doc)
        self.assertIn("Signature1", doc["reject_reason"])

        good = make_pdf(pages=1, signature_field="Signature1")
        self.assertEqual(self.upload(request, good).status, 202)
        doc = self.wait_document(request["id"])
        self.assertEqual(doc["status"], "READY", doc)
        self.assertNotIn("violations", doc)

    def test_large_documents_up_to_the_limit(self):
        request = self.create_request()
        pdf = make_pdf(pages=1, signature_field="Signature1", filler_bytes=9 * 1024 * 1024)
        self.assertGreater(len(pdf), 9 * 1024 * 1024)
        r = self.upload(request, pdf)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.wait_document(request["id"])["status"], "READY")

    def test_broken_pdfs_are_rejected_not_crashing(self):
        pdf = make_pdf(pages=1, signature_field="Signature1")
        cases = {
            "not a pdf": b"hello, this is plain text and no PDF at all\n" * 10,
            "truncated": pdf[: len(pdf) // 3],
            "encrypted": encrypt_pdf(pdf),
            "garbage after header": b"%PDF-1.7\n" + bytes(range(256)) * 40,
        }
        for name, data in cases.items():
            with self.subTest(name):
                request = self.create_request()
                self.assertEqual(self.upload(request, data).status, 202)
                doc = self.wait_document(request["id"])
                self.assertEqual(doc["status"], "REJECTED", (name, doc))
                self.assertEqual(doc["violations"][0]["field"], "file", (name, doc))
                self.assertTrue(doc["reject_reason"])
        self.assertEqual(self.firmo.get("/healthz").status, 200)

    def test_several_signers_with_order(self):
        a = self.create_signer(FISCAL_CODE)
        b = self.create_signer(FISCAL_CODE_2)
        dossier = self.create_dossier()
        r = self.firmo.post("/api/v1/signature-requests", {
            "dossier_id": dossier["id"],
            "signers": [{"signer_id": a, "order": 0}, {"signer_id": b, "order": 1}]})
        self.assertEqual(r.status, 201, r)
        self.assertEqual([(s["signer_id"], s["order"], s["status"]) for s in r.json["signers"]],
                         [(a, 0, "WAITING"), (b, 1, "WAITING")])
        # Duplicates, bad orders, too many, both forms at once: 422 with the field named.
        cases = [
            ({"signers": [{"signer_id": a}, {"signer_id": a}]}, "signers[1].signer_id"),
            ({"signers": [{"signer_id": a, "order": 10}]}, "signers[0].order"),
            ({"signers": [{"signer_id": a}] * 11}, "signers"),
            ({"signers": []}, "signers"),
            ({"signer_id": a, "signers": [{"signer_id": b}]}, "signers"),
        ]
        for extra, field in cases:
            with self.subTest(field=field):
                r = self.firmo.post("/api/v1/signature-requests", {"dossier_id": dossier["id"], **extra})
                problem = self.assertProblem(r, 422, "validation-error")
                self.assertIn(field, [v["field"] for v in problem["violations"]])

    def test_per_request_documents_override_the_dossier(self):
        dossier = self.create_dossier()
        override = [{"title": "Annex A", "signature_fields": []},
                    {"title": "Annex B", "signature_fields": [FIELD_BY_NAME]}]
        request = self.create_request(dossier["id"], documents_metadata=override)
        self.assertEqual([d["metadata"]["title"] for d in request["documents"]], ["Annex A", "Annex B"])

    def test_expiry_is_enforced_by_the_server(self):
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        request = self.create_request(expires_at=soon)
        self.assertEqual(request["status"], "DRAFT")
        time.sleep(2.5)
        got = self.firmo.get(f"/api/v1/signature-requests/{request['id']}").json
        self.assertEqual(got["status"], "EXPIRED")
        self.assertEqual(got["signers"][0]["status"], "EXPIRED")
        self.assertIn("expired_at", got)
        self.assertProblem(self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "CANCELLED"),
                           409, "conflict")
        types = [e["type"] for e in self.firmo.get(f"/api/v1/signature-requests/{request['id']}/events").json["items"]]
        self.assertIn("signature_request.expired", types)

    def test_lists_apply_expiry_too(self):
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        request = self.create_request(expires_at=soon)
        time.sleep(2.5)
        drafts = self.firmo.get("/api/v1/signature-requests?status=DRAFT&limit=100").json["items"]
        self.assertNotIn(request["id"], [r["id"] for r in drafts])
        expired = self.firmo.get("/api/v1/signature-requests?status=EXPIRED&limit=100").json["items"]
        self.assertIn(request["id"], [r["id"] for r in expired])

    def test_idempotency_keys_replay_the_first_answer(self):
        dossier = self.create_dossier()
        signer = self.create_signer()
        body = {"dossier_id": dossier["id"], "signer_id": signer}
        first = self.firmo.post("/api/v1/signature-requests", body, headers={"Idempotency-Key": "order-1"})
        self.assertEqual(first.status, 201, first)
        again = self.firmo.post("/api/v1/signature-requests", body, headers={"Idempotency-Key": "order-1"})
        self.assertEqual(again.status, 201, again)
        self.assertEqual(again.json["id"], first.json["id"])
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        self.assertEqual(again.header("Location"), first.header("Location"))
        other = dict(body, reference="another")
        r = self.firmo.post("/api/v1/signature-requests", other, headers={"Idempotency-Key": "order-1"})
        self.assertProblem(r, 422, "validation-error")
        # Errors are remembered too: the retry of a bad call gets the same answer.
        bad = {"dossier_id": dossier["id"]}
        r1 = self.firmo.post("/api/v1/signature-requests", bad, headers={"Idempotency-Key": "bad-1"})
        r2 = self.firmo.post("/api/v1/signature-requests", bad, headers={"Idempotency-Key": "bad-1"})
        self.assertProblem(r2, 422, "validation-error")
        self.assertEqual(r1.body, r2.body)
        # Without a key, two calls make two requests.
        a = self.firmo.post("/api/v1/signature-requests", body).json["id"]
        b = self.firmo.post("/api/v1/signature-requests", body).json["id"]
        self.assertNotEqual(a, b)
        r = self.firmo.post("/api/v1/signature-requests", body, headers={"Idempotency-Key": "x" * 300})
        self.assertProblem(r, 422, "validation-error")

    def test_expiry_limits(self):
        dossier = self.create_dossier()
        signer = self.create_signer()
        for value, reason in [("2020-01-01T00:00:00Z", "future"),
                              (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 91 * 86400)), "90 days"),
                              ("tomorrow", "RFC 3339")]:
            with self.subTest(value):
                r = self.firmo.post("/api/v1/signature-requests",
                                    {"dossier_id": dossier["id"], "signer_id": signer, "expires_at": value})
                problem = self.assertProblem(r, 422, "validation-error")
                self.assertEqual(problem["violations"][0]["field"], "expires_at")
                self.assertIn(reason, problem["violations"][0]["reason"])
        # Default: 90 days ahead.
        request = self.create_request(dossier["id"], signer)
        expires = time.mktime(time.strptime(request["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
        created = time.mktime(time.strptime(request["created_at"][:19], "%Y-%m-%dT%H:%M:%S"))
        self.assertAlmostEqual(expires - created, 90 * 86400, delta=2)

    def test_lists_filter_and_page(self):
        dossier = self.create_dossier()
        signer = self.create_signer()
        ids = [self.create_request(dossier["id"], signer)["id"] for _ in range(5)]
        self.firmo.put(f"/api/v1/signature-requests/{ids[0]}/status", "CANCELLED")
        page1 = self.firmo.get(f"/api/v1/dossiers/{dossier['id']}/signature-requests?limit=2").json
        self.assertEqual([i["id"] for i in page1["items"]], ids[::-1][:2])
        token = page1["continuation_token"]
        self.assertTrue(token)
        page2 = self.firmo.get(f"/api/v1/dossiers/{dossier['id']}/signature-requests?limit=2&continuationToken={token}").json
        self.assertEqual([i["id"] for i in page2["items"]], ids[::-1][2:4])
        page3 = self.firmo.get(f"/api/v1/dossiers/{dossier['id']}/signature-requests?limit=2&continuation_token={page2['continuation_token']}").json
        self.assertEqual([i["id"] for i in page3["items"]], [ids[0]])
        self.assertIsNone(page3["continuation_token"])
        cancelled = self.firmo.get("/api/v1/signature-requests?status=CANCELLED&limit=100").json
        self.assertIn(ids[0], [i["id"] for i in cancelled["items"]])
        self.assertTrue(all(i["status"] == "CANCELLED" for i in cancelled["items"]))
        dossiers = self.firmo.get("/api/v1/dossiers?limit=1").json
        self.assertEqual(len(dossiers["items"]), 1)
        self.assertProblem(self.firmo.get("/api/v1/signature-requests?status=NOPE"), 422, "validation-error")
        self.assertProblem(self.firmo.get("/api/v1/dossiers?limit=0"), 422, "validation-error")
        self.assertProblem(self.firmo.get("/api/v1/dossiers?limit=101"), 422, "validation-error")
        self.assertProblem(self.firmo.get("/api/v1/dossiers?continuation_token=%%%"), 422, "validation-error")

    def test_signers_resolve_to_stable_opaque_ids(self):
        r1 = self.firmo.post("/api/v1/signers", {"fiscal_code": "BNCGVN75L15F205G"})
        self.assertEqual(r1.status, 201, r1)
        r2 = self.firmo.post("/api/v1/signers", {"fiscal_code": "bncgvn75l15f205g", "email": "g@example.it"})
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r1.json["id"], r2.json["id"])
        self.assertNotIn("BNCGVN", r1.json["id"])
        got = self.firmo.get(f"/api/v1/signers/{r1.json['id']}").json
        self.assertEqual(got["fiscal_code"], "BNCGVN75L15F205G")
        self.assertEqual(got["email"], "g@example.it")
        r = self.firmo.post("/api/v1/signers", {"national_identity_number": "15076500565", "country": "NO",
                                                "phone": "+47 912 34 567"})
        self.assertEqual(r.status, 201, r)
        got = self.firmo.get(f"/api/v1/signers/{r.json['id']}").json
        self.assertEqual((got["national_identity_number"], got["phone"]), ("15076500565", "+4791234567"))
        for body, field in [({"fiscal_code": "RSSMRA80A01H501X"}, "fiscal_code"),
                            ({"national_identity_number": "15076500566", "country": "NO"}, "national_identity_number"),
                            ({"national_identity_number": "15076500565"}, "country"),
                            ({"fiscal_code": FISCAL_CODE, "email": "nope"}, "email"),
                            ({"fiscal_code": FISCAL_CODE, "phone": "333"}, "phone"),
                            ({}, "fiscal_code"),
                            ({"fiscal_code": 12}, "fiscal_code"),
                            ({"fiscal_code": FISCAL_CODE, "nickname": "x"}, "nickname")]:
            with self.subTest(body=body):
                problem = self.assertProblem(self.firmo.post("/api/v1/signers", body), 422, "validation-error")
                self.assertIn(field, [v["field"] for v in problem["violations"]])


if __name__ == "__main__":
    unittest.main()
