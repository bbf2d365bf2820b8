"""The built-in PKI's public endpoints (issue 14): the CA certificate, the CRL, OCSP and the
RFC 3161 time-stamp authority, each checked by OpenSSL's own command-line tools, and
`firmo ca revoke` / `firmo ca tsa-cert`."""

import base64
import os
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import FirmoTestCase


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, timeout=60)


def der_prefix(padded):
    """The DER value at the start of `padded` (a signature's /Contents ends in zero padding)."""
    length = padded[1]
    if length < 0x80:
        return padded[:2 + length]
    n = length & 0x7F
    return padded[:2 + n + int.from_bytes(padded[2:2 + n], "big")]


class Pki(FirmoTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="firmo-pki-")
        cls.ca_pem = cls.path("ca.pem")
        status, _, der = cls.fetch("/pki/ca.crt")
        assert status == 200
        with open(cls.ca_pem, "wb") as f:
            f.write(openssl("x509", "-inform", "der", stdin=der).stdout)
        chain = cls.firmo.cli("ca", "tsa-cert").stdout
        cls.tsa_pem = cls.path("tsa.pem")
        with open(cls.tsa_pem, "w") as f:
            f.write(chain)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp, name)

    @classmethod
    def fetch(cls, path, data=None, content_type=None):
        request = urllib.request.Request(cls.firmo.url + path, data=data)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read()

    def ocsp(self, cert):
        """`openssl ocsp` against the server; its output, and whether the response verified."""
        r = openssl("ocsp", "-issuer", self.ca_pem, "-cert", cert, "-CAfile", self.ca_pem,
                    "-url", self.firmo.url + "/pki/ocsp")
        out = (r.stdout + r.stderr).decode()
        self.assertEqual(r.returncode, 0, out)
        self.assertIn("Response verify OK", out)
        return out

    def test_tsa_chain_is_under_the_ca_with_critical_time_stamping(self):
        with open(self.tsa_pem) as f:
            chain = f.read()
        self.assertEqual(chain.count("BEGIN CERTIFICATE"), 2)
        text = openssl("x509", "-noout", "-text", "-in", self.tsa_pem).stdout.decode()
        self.assertIn("X509v3 Extended Key Usage: critical", text)
        self.assertIn("Time Stamping", text)
        self.assertIn(self.firmo.url + "/pki/ocsp", text)  # AIA from the public URL
        self.assertIn(self.firmo.url + "/pki/ca.crl", text)  # CRL distribution point
        r = openssl("verify", "-CAfile", self.ca_pem, "-purpose", "timestampsign", self.tsa_pem)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Asking again prints the same certificate: it is kept, not made anew.
        self.assertEqual(self.firmo.cli("ca", "tsa-cert").stdout, chain)

    def test_time_stamp_verifies_with_openssl_ts(self):
        data = self.path("data.txt")
        with open(data, "w") as f:
            f.write("a document\n")
        query = self.path("q.tsq")
        subprocess.run(["openssl", "ts", "-query", "-data", data, "-sha256", "-cert",
                        "-out", query], check=True, capture_output=True)
        with open(query, "rb") as f:
            status, media, reply = self.fetch("/pki/tsa", f.read(), "application/timestamp-query")
        self.assertEqual(status, 200)
        self.assertEqual(media, "application/timestamp-reply")
        tsr = self.path("r.tsr")
        with open(tsr, "wb") as f:
            f.write(reply)
        r = openssl("ts", "-verify", "-in", tsr, "-queryfile", query, "-CAfile", self.ca_pem,
                    "-untrusted", self.tsa_pem)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"Verification: OK", r.stdout)
        r = openssl("ts", "-verify", "-in", tsr, "-data", data, "-CAfile", self.ca_pem)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        status, _, metrics = self.fetch("/metrics")
        self.assertEqual(status, 200)
        self.assertRegex(metrics.decode(),
                         r'firmo_pki_responses_total\{service="tsa",outcome="ok"\} [1-9]')

    def test_bad_input_gets_problem_json(self):
        status, media, body = self.fetch("/pki/tsa", b"not a query", "application/timestamp-query")
        self.assertEqual(status, 400)
        self.assertEqual(media, "application/problem+json")
        self.assertIn(b"urn:firmo:problem:malformed-request", body)
        status, media, _ = self.fetch("/pki/tsa", b"x", "application/json")
        self.assertEqual(status, 415)
        self.assertEqual(media, "application/problem+json")
        status, media, _ = self.fetch("/pki/ocsp", b"\x30\x00", "application/ocsp-request")
        self.assertEqual(status, 400)
        self.assertEqual(media, "application/problem+json")
        status, _, _ = self.fetch("/pki/ocsp/%25%25%25")
        self.assertEqual(status, 400)
        # The body limit of anonymous PKI calls is small.
        status, media, _ = self.fetch("/pki/tsa", b"x" * (128 * 1024),
                                      "application/timestamp-query")
        self.assertEqual(status, 413)

    def test_ocsp_and_crl_follow_a_revocation(self):
        # A certificate of this CA to revoke: a fresh signer's, from `firmo sign`.
        cert = self.path("signer.pem")
        issued = self.issue_signer_certificate(cert)
        serial = issued.split("=", 1)[1].strip()
        out = self.ocsp(cert)
        self.assertIn(f"{cert}: good", out)
        # The same question by GET (RFC 6960 appendix A.1).
        request = openssl("ocsp", "-issuer", self.ca_pem, "-cert", cert, "-no_nonce",
                          "-reqout", "/dev/stdout").stdout
        status, media, der = self.fetch(
            "/pki/ocsp/" + urllib.parse.quote(base64.b64encode(request).decode(), safe=""))
        self.assertEqual((status, media), (200, "application/ocsp-response"))
        resp = self.path("get.der")
        with open(resp, "wb") as f:
            f.write(der)
        r = openssl("ocsp", "-respin", resp, "-issuer", self.ca_pem, "-cert", cert,
                    "-CAfile", self.ca_pem, "-no_nonce")
        self.assertIn(f"{cert}: good", (r.stdout + r.stderr).decode())

        crl = self.crl_text()
        self.assertNotIn(serial, crl)

        r = self.firmo.cli("ca", "revoke", serial.lower(), "--reason", "keyCompromise")
        self.assertIn(f"revoked {serial}", r.stdout)
        out = self.ocsp(cert)
        self.assertIn(f"{cert}: revoked", out)
        self.assertIn("Reason: keyCompromise", out)
        crl = self.crl_text()
        self.assertIn(f"Serial Number: {serial}", crl)
        self.assertIn("Key Compromise", crl)
        # Revoking again keeps the first revocation.
        self.firmo.cli("ca", "revoke", serial, "--reason", "superseded")
        self.assertIn("Reason: keyCompromise", self.ocsp(cert))
        # A bad serial or reason is a usage error.
        self.assertNotEqual(self.firmo.cli("ca", "revoke", "xyz", check=False).returncode, 0)
        self.assertNotEqual(
            self.firmo.cli("ca", "revoke", serial, "--reason", "tired", check=False).returncode, 0)

    def crl_text(self):
        status, media, der = self.fetch("/pki/ca.crl")
        self.assertEqual((status, media), (200, "application/pkix-crl"))
        r = openssl("crl", "-inform", "der", "-noout", "-text", "-CAfile", self.ca_pem, stdin=der)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"verify OK", r.stderr + r.stdout)
        return r.stdout.decode()

    def issue_signer_certificate(self, out_pem):
        """Signs a small PDF with `firmo sign` and extracts the signer's certificate."""
        from harness import make_pdf
        src, signed = self.path("in.pdf"), self.path("signed.pdf")
        with open(src, "wb") as f:
            f.write(make_pdf())
        self.firmo.cli("sign", "--in", src, "--out", signed, "--name", "Mario Rossi",
                       "--fiscal-code", "RSSMRA80A01H501U", "--page", "0", "--x", "10",
                       "--y", "10", "--w", "100", "--h", "40")
        with open(signed, "rb") as f:
            pdf = f.read()
        start = pdf.rindex(b"/Contents <") + len(b"/Contents <")
        cms = bytes.fromhex(pdf[start:pdf.index(b">", start)].decode())
        certs = openssl("pkcs7", "-inform", "der", "-print_certs", stdin=der_prefix(cms)).stdout
        first = certs[:certs.index(b"-----END CERTIFICATE-----") + 25] + b"\n"
        with open(out_pem, "wb") as f:
            f.write(first)
        return openssl("x509", "-noout", "-serial", "-in", out_pem).stdout.decode()


if __name__ == "__main__":
    unittest.main()
