"""A document without a field for the signer gets an invisible signature: the signer's consent
covers every document of the request (CeremonyService::SignFor). The real PDF signer must accept
that invisible field; pdfsig then counts one valid signature in it."""

import http.client
import subprocess
import tempfile
import urllib.parse

from harness import FISCAL_CODE, FIELD_BY_NAME, REDIRECT, FirmoTestCase, make_pdf


class InvisibleSignature(FirmoTestCase):

    def test_a_document_without_fields_is_signed_invisibly(self):
        dossier = self.create_dossier({"title": "Contratto e allegato", "documents_metadata": [
            {"title": "Contratto", "signature_fields": [FIELD_BY_NAME]},
            {"title": "Allegato", "signature_fields": []}]})["id"]
        r = self.firmo.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE,
                                                "email": "mario@example.org"})
        self.assertIn(r.status, (200, 201), r)
        created = self.create_request(dossier, r.json["id"], redirect=REDIRECT)
        rid = created["id"]
        self.assertEqual(self.upload(created, make_pdf(signature_field="Signature1"), 0).status, 202)
        self.assertEqual(self.upload(created, make_pdf(pages=2), 1).status, 202)
        for index in (0, 1):
            self.assertEqual(self.wait_document(rid, index)["status"], "READY")
        self.make_ready(rid)
        self.sign_through_signer_api(created)

        docs = self.firmo.get(f"/api/v1/signature-requests/{rid}").json["documents"]
        conn = http.client.HTTPConnection(self.firmo.host, self.firmo.port, timeout=60)
        conn.request("GET", urllib.parse.urlsplit(docs[1]["url"]).path)
        resp = conn.getresponse()
        annex = resp.read()
        conn.close()
        self.assertEqual(resp.status, 200, annex[:200])
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(annex)
            f.flush()
            out = subprocess.run(["pdfsig", f.name], capture_output=True, text=True).stdout
        self.assertIn("Signature #1", out)
        self.assertIn("Signature Validation: Signature is Valid.", out)
