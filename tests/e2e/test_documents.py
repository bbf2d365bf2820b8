"""validate-document and verify: stateless checks of PDFs over HTTP, on real PDFs and real
signatures made by `firmo sign` with the built-in CA."""

import datetime
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest

from harness import FIELD_AT, FIELD_BY_NAME, FISCAL_CODE, FirmoTestCase, dossier_body, make_pdf


def multipart(parts, boundary="firmo-test-boundary"):
    body = b""
    for name, value, ctype in parts:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"".encode()
        if ctype == "application/pdf":
            body += b'; filename="document.pdf"'
        body += b"\r\n"
        if ctype:
            body += f"Content-Type: {ctype}\r\n".encode()
        body += b"\r\n" + (value if isinstance(value, bytes) else value.encode()) + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class ValidateDocument(FirmoTestCase):

    def validate(self, parts=None, raw=None, content_type=None, query="", key=None):
        if parts is not None:
            raw, content_type = multipart(parts)
        return self.firmo.request("POST", "/api/v1/validate-document" + query, raw=raw,
                                  content_type=content_type, key=key)

    def test_fields_given_as_json(self):
        pdf = make_pdf(pages=2, signature_field="Signature1")
        before = self.firmo.get("/api/v1/dossiers?limit=100").json["items"]
        r = self.validate([("file", pdf, "application/pdf"),
                           ("signature_fields", json.dumps([FIELD_BY_NAME, FIELD_AT]), "application/json")])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"is_valid": True, "page_count": 2, "violations": []})
        wrong = dict(FIELD_AT, attrs={"page": 5, "coordinates": {"x": 0, "y": 0}, "size": {"w": 10, "h": 10}})
        r = self.validate([("file", pdf, "application/pdf"),
                           ("signature_fields", json.dumps([{"attrs": {"unique_name": "Nope"},
                                                             "clause": FIELD_BY_NAME["clause"]}, wrong]), None)])
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["is_valid"])
        self.assertEqual([v["field"] for v in r.json["violations"]], ["signature_fields[0]", "signature_fields[1]"])
        # Nothing is stored.
        self.assertEqual(self.firmo.get("/api/v1/dossiers?limit=100").json["items"], before)

    def test_fields_from_a_dossier_and_a_raw_body(self):
        dossier = self.create_dossier(dossier_body(fields=[FIELD_BY_NAME]))
        good, bad = make_pdf(signature_field="Signature1"), make_pdf()
        r = self.validate([("file", good, "application/pdf"), ("dossier_id", dossier["id"], None),
                           ("document_index", "0", None)])
        self.assertTrue(r.json["is_valid"], r)
        r = self.validate(raw=bad, content_type="application/pdf", query=f"?dossier_id={dossier['id']}")
        self.assertFalse(r.json["is_valid"], r)
        r = self.validate([("file", good, "application/pdf"), ("dossier_id", dossier["id"], None),
                           ("document_index", "3", None)])
        self.assertProblem(r, 422, "validation-error")
        for index in ["+0", " 0", "-1", "x"]:
            r = self.validate([("file", good, "application/pdf"), ("dossier_id", dossier["id"], None),
                               ("document_index", index, None)])
            self.assertProblem(r, 422, "validation-error")
        _, other_key = self.firmo.new_issuer()
        r = self.validate([("file", good, "application/pdf"), ("dossier_id", dossier["id"], None)], key=other_key)
        self.assertProblem(r, 404, "not-found")

    def test_the_field_rules_of_dossiers_apply(self):
        pdf = make_pdf(signature_field="Signature1")

        def fields(*items):
            return self.validate([("file", pdf, "application/pdf"),
                                  ("signature_fields", json.dumps(list(items)), "application/json")])

        r = fields(*([FIELD_AT] * 50 + [FIELD_BY_NAME]))  # 51: one too many
        self.assertProblem(r, 422, "validation-error")
        self.assertEqual(r.json["violations"], [{"field": "signature_fields", "reason": "at most 50 fields"}])
        r = fields(FIELD_AT)  # only an OPTIONAL clause
        self.assertProblem(r, 422, "validation-error")
        self.assertEqual(r.json["violations"][0]["field"], "signature_fields")
        r = fields(dict(FIELD_BY_NAME, clause={"title": "Ok", "type": "REQUIRED"}))
        self.assertProblem(r, 422, "validation-error")
        self.assertEqual(r.json["violations"][0]["field"], "signature_fields[0].clause.title")
        self.assertEqual(fields(*([FIELD_BY_NAME] * 50)).status, 200)

    def test_bad_pdfs_are_violations_not_errors(self):
        for data in [b"not a pdf at all", b"%PDF-1.7\n" + os.urandom(3000), make_pdf()[:200]]:
            r = self.validate([("file", data, "application/pdf")])
            self.assertEqual(r.status, 200, r)
            self.assertFalse(r.json["is_valid"])
            self.assertEqual(r.json["violations"][0]["field"], "file")

    def test_bad_requests(self):
        self.assertProblem(self.validate(raw=b"{}", content_type="application/json"), 415, "unsupported-media-type")
        self.assertProblem(self.validate([("other", "x", None)]), 422, "validation-error")
        self.assertProblem(self.validate(raw=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"),
                           400, "malformed-request")
        # One byte before the first boundary (this once escaped as a 500).
        self.assertProblem(self.validate(raw=b"x--b\r\n\r\nx\r\n--b--", content_type="multipart/form-data; boundary=b"),
                           400, "malformed-request")
        self.assertProblem(self.validate([("file", make_pdf(), "application/pdf"), ("signature_fields", "[", None)]),
                           400, "malformed-request")
        self.assertProblem(self.validate([("file", make_pdf(), "application/pdf"),
                                          ("signature_fields", '[{"attrs": {}}]', None)]), 422, "validation-error")
        self.assertProblem(self.validate([("file", b"%PDF" + b"0" * (11 * 1024 * 1024 + 10), "application/pdf")]),
                           413, "payload-too-large")
        self.assertProblem(self.firmo.request("POST", "/api/v1/validate-document", raw=make_pdf(),
                                              content_type="application/pdf", key=False), 401, "unauthenticated")


class Verify(FirmoTestCase):

    def sign(self, pdf, *extra):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "in.pdf"), os.path.join(d, "out.pdf")
            with open(src, "wb") as f:
                f.write(pdf)
            self.firmo.cli("sign", "--in", src, "--out", dst, "--name", "Mario Rossi",
                           "--fiscal-code", FISCAL_CODE, *extra)
            with open(dst, "rb") as f:
                return f.read()

    def verify(self, pdf):
        return self.firmo.request("POST", "/api/v1/verify", raw=pdf, content_type="application/pdf")

    def test_a_signed_pdf_verifies_and_a_tampered_one_does_not(self):
        signed = self.sign(make_pdf(signature_field="Signature1"), "--field", "Signature1")
        r = self.verify(signed)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["is_valid"], r.json)
        sig = r.json["signatures"][0]
        self.assertEqual(sig["signer"], "Mario Rossi")
        self.assertEqual(sig["signer_serial_number"], "TINIT-" + FISCAL_CODE)
        self.assertTrue(sig["chain_trusted"])
        # pdfsig, an independent verifier, agrees the signature is valid.
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(signed)
            f.flush()
            out = subprocess.run(["pdfsig", f.name], capture_output=True, text=True).stdout
        self.assertIn("Signature is Valid", out)
        # One flipped byte inside the signed range.
        tampered = bytearray(signed)
        pos = signed.index(b"Firmo test page 1")
        tampered[pos] ^= 0x01
        r = self.verify(bytes(tampered))
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["is_valid"])
        self.assertFalse(r.json["signatures"][0]["digest_matches"])
        # Multipart works too.
        body, ctype = multipart([("file", signed, "application/pdf")])
        r = self.firmo.request("POST", "/api/v1/verify", raw=body, content_type=ctype)
        self.assertTrue(r.json["is_valid"], r)

    def test_validation_at_a_time(self):
        """A plain (B-B) signature is checked at the validation time: valid now, not once its
        short-lived certificate has expired; `at` is RFC 3339, as a query parameter or a part."""
        signed = self.sign(make_pdf(signature_field="Signature1"), "--field", "Signature1")
        r = self.verify(signed)
        self.assertTrue(r.json["is_valid"], r.json)
        self.assertEqual(r.json["level"], "B-B")
        self.assertEqual(r.json["signatures"][0]["level"], "B-B")
        self.assertIsNone(r.json["signatures"][0]["proven_time"])
        self.assertIsNotNone(r.json["proof_until"])
        later = "2040-01-01T00:00:00Z"
        r = self.firmo.request("POST", "/api/v1/verify?at=" + later, raw=signed,
                               content_type="application/pdf")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["validation_time"], later)
        self.assertFalse(r.json["is_valid"], r.json)
        self.assertIsNone(r.json["level"])
        self.assertIn("expired", " ".join(r.json["signatures"][0]["problems"]))
        # A part wins over the query parameter.
        body, ctype = multipart([("file", signed, "application/pdf"), ("at", later, None)])
        r = self.firmo.request("POST", "/api/v1/verify?at=2000-01-01T00:00:00Z", raw=body,
                               content_type=ctype)
        self.assertEqual(r.json["validation_time"], later, r.json)
        problem = self.assertProblem(
            self.firmo.request("POST", "/api/v1/verify?at=tomorrow", raw=signed,
                               content_type="application/pdf"), 422, "validation-error")
        self.assertEqual(problem["violations"][0]["field"], "at")

    def test_unsigned_and_unreadable(self):
        r = self.verify(make_pdf())
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["is_valid"])
        self.assertEqual(r.json["signatures"], [])
        self.assertProblem(self.verify(b"hello"), 422, "validation-error")


class OpensslTsa:
    """An RFC 3161 time-stamp authority over HTTP on loopback, answered by `openssl ts -reply`
    with a certificate of its own: independent of Firmo's code."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="firmo-tsa-")
        self.cert = os.path.join(self.dir, "tsa.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                        os.path.join(self.dir, "tsa.key"), "-out", self.cert, "-days", "2",
                        "-subj", "/CN=E2E TSA", "-addext", "extendedKeyUsage=critical,timeStamping",
                        "-addext", "keyUsage=critical,digitalSignature"],
                       check=True, capture_output=True)
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("01\n")
        self.config = os.path.join(self.dir, "ts.cnf")
        with open(self.config, "w") as f:
            f.write(f"[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {self.dir}/serial\n"
                    f"signer_cert = {self.cert}\nsigner_key = {self.dir}/tsa.key\n"
                    "signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\n"
                    "accuracy = secs:1\ness_cert_id_alg = sha256\n")
        tsa = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                query = self.rfile.read(int(self.headers["Content-Length"]))
                q, r = os.path.join(tsa.dir, "q.tsq"), os.path.join(tsa.dir, "r.tsr")
                with open(q, "wb") as f:
                    f.write(query)
                subprocess.run(["openssl", "ts", "-reply", "-config", tsa.config, "-queryfile", q,
                                "-out", r], check=True, capture_output=True)
                with open(r, "rb") as f:
                    reply = f.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)


class TimestampedSignatures(FirmoTestCase):
    """verify.trust_anchors: with the TSA's certificate listed beside the built-in CA, a
    time-stamped (PAdES B-T) signature verifies over HTTP."""

    @classmethod
    def setUpClass(cls):
        cls.tsa = OpensslTsa()
        cls.server_args = FirmoTestCase.server_args + (
            "--verify-trust-anchors", "builtin, " + cls.tsa.cert)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.tsa.close()

    def test_a_time_stamped_signature_verifies(self):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "in.pdf"), os.path.join(d, "out.pdf")
            with open(src, "wb") as f:
                f.write(make_pdf(signature_field="Signature1"))
            self.firmo.cli("sign", "--in", src, "--out", dst, "--name", "Mario Rossi",
                           "--fiscal-code", FISCAL_CODE, "--field", "Signature1",
                           "--tsa-url", self.tsa.url)
            with open(dst, "rb") as f:
                signed = f.read()
        r = self.firmo.request("POST", "/api/v1/verify", raw=signed, content_type="application/pdf")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["is_valid"], r.json)
        sig = r.json["signatures"][0]
        self.assertTrue(sig["timestamped"] and sig["timestamp_valid"], sig)
        self.assertIn("E2E TSA", sig["timestamp_authority"])
        self.assertEqual(sig["modification_level"], "NONE")
        self.assertEqual(sig["differences"], [])
        self.assertEqual(r.json["level"], "B-T")
        self.assertEqual(sig["chain_checked_at"], sig["timestamp_time"])
        # The proof holds until the TSA's certificate (two days) expires, not the signer's.
        until = datetime.datetime.fromisoformat(r.json["proof_until"].replace("Z", "+00:00"))
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertGreater(until, now + datetime.timedelta(days=1))
        # A day on, the signer's one-hour certificate has long expired: still valid, over HTTP
        # and on the command line; after the TSA's certificate, nothing proves the time.
        day = (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = self.firmo.request("POST", "/api/v1/verify?at=" + day, raw=signed,
                               content_type="application/pdf")
        self.assertTrue(r.json["is_valid"], r.json)
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(signed)
            f.flush()
            ok = self.firmo.cli("verify", "--trust", self.tsa.cert, "--at", day, f.name,
                                check=False)
            self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
            self.assertIn("level B-T", ok.stdout)
            after = (until + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            gone = self.firmo.cli("verify", "--trust", self.tsa.cert, "--at", after, f.name,
                                  check=False)
            self.assertEqual(gone.returncode, 1, gone.stdout + gone.stderr)


class SignLevels(FirmoTestCase):
    """`firmo sign --level`: the server's own TSA (POST /pki/tsa) and OCSP responder make the
    CLI's signatures B-LT/B-LTA; bad combinations are usage errors that say what to do."""

    def sign(self, *extra, check=True):
        d = tempfile.mkdtemp()
        src, dst = os.path.join(d, "in.pdf"), os.path.join(d, "out.pdf")
        with open(src, "wb") as f:
            f.write(make_pdf(signature_field="Signature1"))
        r = self.firmo.cli("sign", "--in", src, "--out", dst, "--name", "Mario Rossi",
                           "--fiscal-code", FISCAL_CODE, "--field", "Signature1", *extra,
                           check=check)
        if r.returncode != 0:
            return r, None
        with open(dst, "rb") as f:
            return r, f.read()

    def test_b_lta_adds_a_dss_and_a_document_timestamp(self):
        r, signed = self.sign("--level", "b-lta", "--tsa-url", self.firmo.url + "/pki/tsa")
        self.assertIn("PAdES b-lta", r.stdout)
        self.assertIn(b"/DSS", signed)
        self.assertIn(b"/OCSPs", signed)
        self.assertIn(b"/DocTimeStamp", signed)
        v = self.firmo.request("POST", "/api/v1/verify", raw=signed, content_type="application/pdf")
        self.assertEqual(v.status, 200, v)
        self.assertTrue(v.json["is_valid"], v.json)
        sigs = v.json["signatures"]
        self.assertEqual(len(sigs), 2, sigs)
        self.assertTrue(sigs[0]["timestamped"] and sigs[0]["timestamp_valid"], sigs[0])
        self.assertEqual(sigs[0]["modification_level"], "LTA_UPDATES")
        self.assertTrue(sigs[1]["document_timestamp"], sigs[1])

    def test_b_lt_has_no_document_timestamp(self):
        _, signed = self.sign("--level", "b-lt", "--tsa-url", self.firmo.url + "/pki/tsa")
        self.assertIn(b"/OCSPs", signed)
        self.assertNotIn(b"/DocTimeStamp", signed)

    def test_levels_that_cannot_be_made_are_usage_errors(self):
        for extra, says in [(("--level", "b-t"), "needs a time-stamp authority"),
                            (("--level", "b-lta"), "needs a time-stamp authority"),
                            (("--level", "lta"), "--level is one of b-b, b-t, b-lt, b-lta"),
                            (("--level", "b-b", "--tsa-url", self.firmo.url + "/pki/tsa"),
                             "leave out --tsa-url")]:
            r, _ = self.sign(*extra, check=False)
            self.assertEqual(r.returncode, 2, (extra, r.stderr))
            self.assertIn(says, r.stderr)


class BrokenTrustAnchors(FirmoTestCase):

    def test_a_corrupt_ca_file_is_a_server_error_not_the_clients(self):
        # `firmo serve` created the built-in CA on its first start.
        with open(os.path.join(self.firmo.data_dir, "ca", "ca-cert.pem"), "w") as f:
            f.write("not a certificate")
        r = self.firmo.request("POST", "/api/v1/verify", raw=make_pdf(), content_type="application/pdf")
        problem = self.assertProblem(r, 500, "internal-error")
        self.assertNotIn(self.firmo.data_dir, r.body)
        self.assertIn("trust_anchors_unreadable", self.firmo.log())


if __name__ == "__main__":
    unittest.main()
