"""The evidence report (issue 17): GET /api/v1/signature-requests/{id}/evidence gives a final
request's signature report as a PDF sealed by the server (pdfsig accepts the seal), with what
was signed, by whom, how they authenticated, the audit trail with times and addresses and the
verification of each signed PDF; 409 request-not-final before, 404 for another issuer; and the
sender portal's request page links to it for every role."""

import http.client
import subprocess
import tempfile
import urllib.parse

from harness import FISCAL_CODE, FirmoTestCase
from test_staff_portal import PASSWORD, Browser, csrf_of


class Evidence(FirmoTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rows = cls.firmo.query("SELECT id FROM issuers ORDER BY created_at LIMIT 1")
        cls.issuer = rows[0][0]
        cls.other_issuer, cls.other_key = cls.firmo.new_issuer("Oslo kommune", "it@oslo.no")

    def raw_get(self, path, headers):
        conn = http.client.HTTPConnection(self.firmo.host, self.firmo.port, timeout=60)
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp, body

    def text_of(self, pdf):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            check = subprocess.run(["qpdf", "--check", f.name], capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            sig = subprocess.run(["pdfsig", f.name], capture_output=True, text=True).stdout
            text = subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True,
                                  text=True).stdout
        return sig, text

    def test_a_signed_requests_report_is_sealed_and_says_everything(self):
        created = self.ready_request("PRATICA-EVID-1")
        rid = created["id"]
        # Not final yet: a stable problem type.
        r = self.firmo.get(f"/api/v1/signature-requests/{rid}/evidence")
        self.assertProblem(r, 409, "request-not-final")
        self.sign_through_signer_api(created)
        resp, pdf = self.raw_get(f"/api/v1/signature-requests/{rid}/evidence",
                                 {"X-Api-Key": self.firmo.api_key})
        self.assertEqual(resp.status, 200, pdf[:400])
        self.assertEqual(resp.getheader("Content-Type"), "application/pdf")
        self.assertIn("attachment", resp.getheader("Content-Disposition"))
        self.assertTrue(pdf.startswith(b"%PDF-"))
        sig, text = self.text_of(pdf)
        # The seal: pdfsig, an independent verifier, accepts it.
        self.assertIn("Signature is Valid", sig)
        self.assertIn("Firmo signature report seal", sig)
        # Firmo's own verifier agrees, and trusts the chain (its built-in CA).
        v = self.firmo.request("POST", "/api/v1/verify", raw=pdf, content_type="application/pdf")
        self.assertEqual(v.status, 200, v)
        self.assertTrue(v.json["is_valid"], v.json)
        self.assertTrue(v.json["signatures"][0]["chain_trusted"], v.json)
        got = self.firmo.get(f"/api/v1/signature-requests/{rid}").json
        doc = got["documents"][0]
        flat = " ".join(text.split())
        self.assertIn("Signature report", flat)
        self.assertIn(rid, flat)
        self.assertIn("Contratto PRATICA-EVID-1", flat)
        self.assertIn("Status: SIGNED", flat)
        self.assertIn(doc["sha256"], flat)                   # the original's hash
        self.assertIn("fiscal_code " + FISCAL_CODE, flat)    # who, as the API shows it
        self.assertIn("on behalf of: self", flat)
        self.assertIn("authenticated with: code", flat)      # how
        self.assertIn("IP 127.0.0.1", flat)                   # where (the client's address)
        for step in ("signature_request.created", "signature_request.signed"):
            self.assertIn(step, flat)
        self.assertRegex(flat, r"VALID \(PAdES B-LTA?\)")    # the signed PDF's verification
        self.assertIn("certificate chain trusted", flat)

    def test_a_cancelled_request_has_a_report_and_other_issuers_get_404(self):
        created = self.ready_request("PRATICA-EVID-2")
        rid = created["id"]
        r = self.firmo.put(f"/api/v1/signature-requests/{rid}/status", "CANCELLED")
        self.assertIn(r.status, (200, 204), r)
        other = self.firmo.get(f"/api/v1/signature-requests/{rid}/evidence",
                               key=self.other_key)
        self.assertProblem(other, 404, "not-found")
        resp, pdf = self.raw_get(f"/api/v1/signature-requests/{rid}/evidence",
                                 {"X-Api-Key": self.firmo.api_key})
        self.assertEqual(resp.status, 200, pdf[:400])
        sig, text = self.text_of(pdf)
        self.assertIn("Signature is Valid", sig)
        flat = " ".join(text.split())
        self.assertIn("Status: CANCELLED", flat)
        self.assertIn("signature_request.cancelled", flat)
        self.assertIn("never signed", flat)

    def test_the_portal_links_the_report_for_a_viewer(self):
        created = self.ready_request("PRATICA-EVID-3")
        rid = created["id"]
        url = self.firmo.cli("user", "create", "--issuer", self.issuer, "--email",
                             "evi@example.org", "--role", "viewer").stdout.strip().splitlines()[-1]
        path = urllib.parse.urlparse(url).path
        b = Browser(self.firmo)
        page = b.get(path)
        r = b.post(path, {"csrf": csrf_of(page), "password": PASSWORD,
                          "password_again": PASSWORD})
        self.assertEqual(r.status, 303, r)
        page = b.get(f"/app/requests/{rid}")
        self.assertNotIn(f"/app/requests/{rid}/evidence", page.body)  # not final: no link
        self.assertEqual(b.get(f"/app/requests/{rid}/evidence").status, 409)
        self.firmo.put(f"/api/v1/signature-requests/{rid}/status", "CANCELLED")
        page = b.get(f"/app/requests/{rid}")
        self.assertIn(f'href="/app/requests/{rid}/evidence"', page.body)
        resp, pdf = self.raw_get(f"/app/requests/{rid}/evidence", {"Cookie": b.header()})
        self.assertEqual(resp.status, 200, pdf[:400])
        self.assertEqual(resp.getheader("Content-Type"), "application/pdf")
        self.assertTrue(pdf.startswith(b"%PDF-"))
