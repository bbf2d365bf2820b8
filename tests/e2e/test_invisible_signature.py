"""A document without a field for the signer gets an invisible signature: the signer's consent
covers every document of the request (CeremonyService::SignFor). The real PDF signer must accept
that invisible field; pdfsig then counts one valid signature in it."""

import http.client
import re
import subprocess
import tempfile
import time
import urllib.parse

from harness import FISCAL_CODE, FIELD_BY_NAME, FirmoTestCase, make_pdf
from test_staff_portal import REDIRECT


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
        r = self.firmo.put(f"/api/v1/signature-requests/{rid}/status", "READY")
        self.assertIn(r.status, (200, 204), r)

        token = created["signers"][0]["redirect_url"].rsplit("/", 1)[-1]
        s = self.firmo.post("/api/v1/signer/sessions", {"redirect_token": token}, key=False)
        self.assertEqual(s.status, 201, s)
        auth = {"Authorization": "Bearer " + s.json["session_token"]}
        base = f"/api/v1/signer/signature-requests/{rid}"
        a = self.firmo.post(base + "/acceptance",
                            {"accepted": [{"document_index": 0, "field_index": 0}]},
                            key=False, headers=auth)
        self.assertEqual(a.status, 200, a)
        log = self.firmo.wait_for_log("purpose=confirm")
        code = re.findall(r"purpose=confirm code=(\d{6})", log)[-1]
        c = self.firmo.post(base + "/confirmation", {"code": code}, key=False, headers=auth)
        self.assertIn(c.status, (200, 202), c)
        status = None
        deadline = time.time() + 30
        while time.time() < deadline:
            status = self.firmo.get(f"/api/v1/signature-requests/{rid}").json["status"]
            if status in ("SIGNED", "FAILED"):
                break
            time.sleep(0.2)
        self.assertEqual(status, "SIGNED", [
            (e["type"], e.get("detail", "")) for e in
            self.firmo.get(f"/api/v1/signature-requests/{rid}/events").json["items"]][-4:])

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
