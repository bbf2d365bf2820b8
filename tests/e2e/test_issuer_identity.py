"""Issue 16: the institution as signers see it. The first issuer is named at the first start
(--issuer-name, asks nothing); the issuer reads and changes its identity (GET/PATCH
/api/v1/issuer) and logo (PUT /api/v1/issuer/logo); the logo's public URL is answered as an image
that cannot run script (an SVG may hold some); the portal shows the name, logo and contact;
`firmo issuer update` changes the same from the command line."""

import struct
import unittest
import urllib.parse
import zlib

from harness import FirmoTestCase

# A 1x1 PNG, made here (signature, IHDR, IDAT, IEND).
def tiny_png():
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00\x0b\x5c\xad")) + chunk(b"IEND", b""))


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script><rect width="10" height="10" fill="#0b5cad"/></svg>')


class IssuerIdentity(FirmoTestCase):
    server_args = FirmoTestCase.server_args + ("--issuer-name", "Comune di Bologna")

    def test_a_first_issuer_has_the_name_given_at_the_first_start(self):
        self.assertTrue(any('"Comune di Bologna"' in line for line in self.firmo.stdout_lines),
                        self.firmo.stdout_lines)
        r = self.firmo.get("/api/v1/issuer")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["display_name"], "Comune di Bologna")
        self.assertIsNone(r.json["logo_url"])
        self.assertIsNone(r.json["support_url"])

    def test_patch_changes_what_is_given_and_checks_every_member(self):
        r = self.firmo.request("PATCH", "/api/v1/issuer",
                               body={"display_name": "Città di Bologna",
                                     "support_email": "Aiuto@Comune.Bologna.it",
                                     "support_url": "https://comune.bologna.it/aiuto",
                                     "brand_color": "#A0B1C2"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["display_name"], "Città di Bologna")
        self.assertEqual(r.json["support_email"], "Aiuto@comune.bologna.it")
        self.assertEqual(r.json["support_url"], "https://comune.bologna.it/aiuto")
        self.assertEqual(r.json["brand_color"], "#a0b1c2")
        # Left out: unchanged; "" removes the help page.
        r = self.firmo.request("PATCH", "/api/v1/issuer", body={"support_url": ""})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["display_name"], "Città di Bologna")
        self.assertIsNone(r.json["support_url"])
        bad = self.assertProblem(
            self.firmo.request("PATCH", "/api/v1/issuer",
                               body={"display_name": "", "support_email": "nope",
                                     "support_url": "javascript:alert(1)",
                                     "brand_color": "blue"}),
            422, "validation-error")
        fields = sorted({v["field"] for v in bad["violations"]})
        self.assertEqual(fields, ["brand_color", "display_name", "support_email", "support_url"],
                         bad)
        self.assertProblem(self.firmo.request("PATCH", "/api/v1/issuer", body={"name": "x"}),
                           422, "validation-error")
        self.assertProblem(self.firmo.request("GET", "/api/v1/issuer", key=False), 401,
                           "unauthenticated")

    def test_a_png_logo_is_checked_stored_and_served_at_its_public_url(self):
        png = tiny_png()
        r = self.firmo.request("PUT", "/api/v1/issuer/logo", raw=png, content_type="image/png")
        self.assertEqual(r.status, 200, r)
        url = r.json["logo_url"]
        self.assertTrue(url.startswith(self.firmo.url + "/issuers/"), url)
        logo = self.firmo.get(url, key=False)
        self.assertEqual(logo.status, 200)
        self.assertEqual(logo.header("Content-Type"), "image/png")
        self.assertEqual(logo.header("X-Content-Type-Options"), "nosniff")
        self.assertIn("sandbox", logo.header("Content-Security-Policy"))
        self.assertEqual(self.firmo.get("/api/v1/issuer").json["logo_url"], url)
        # Not a PNG, too big, another type.
        self.assertProblem(self.firmo.request("PUT", "/api/v1/issuer/logo", raw=b"GIF89a....",
                                              content_type="image/png"),
                           422, "validation-error")
        self.assertProblem(self.firmo.request("PUT", "/api/v1/issuer/logo",
                                              raw=png + b"\0" * (256 * 1024),
                                              content_type="image/png"),
                           413, "payload-too-large")
        self.assertProblem(self.firmo.request("PUT", "/api/v1/issuer/logo", raw=b"GIF89a",
                                              content_type="image/gif"),
                           415, "unsupported-media-type")

    def test_an_svg_logo_is_only_ever_an_image(self):
        r = self.firmo.request("PUT", "/api/v1/issuer/logo", raw=SVG,
                               content_type="image/svg+xml")
        self.assertEqual(r.status, 200, r)
        logo = self.firmo.get(r.json["logo_url"], key=False)
        self.assertEqual(logo.header("Content-Type"), "image/svg+xml")
        csp = logo.header("Content-Security-Policy")
        self.assertIn("sandbox", csp)
        self.assertIn("default-src 'none'", csp)
        self.assertEqual(logo.header("X-Content-Type-Options"), "nosniff")
        dtd = b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
        self.assertProblem(self.firmo.request("PUT", "/api/v1/issuer/logo", raw=dtd,
                                              content_type="image/svg+xml"),
                           422, "validation-error")
        self.assertProblem(self.firmo.request("PUT", "/api/v1/issuer/logo", raw=b"<html></html>",
                                              content_type="image/svg+xml"),
                           422, "validation-error")

    def test_the_portal_shows_the_institution_and_its_contact(self):
        self.firmo.request("PATCH", "/api/v1/issuer",
                           body={"display_name": "Comune di Bologna",
                                 "support_email": "urp@comune.bologna.it",
                                 "support_url": "https://comune.bologna.it/urp"})
        logo = self.firmo.request("PUT", "/api/v1/issuer/logo", raw=tiny_png(),
                                  content_type="image/png").json["logo_url"]
        r = self.firmo.post("/api/v1/signers", {"email": "anna@example.org"})
        request = self.create_request(signer_id=r.json["id"])
        link = urllib.parse.urlparse(request["signers"][0]["portal_url"]).path
        page = self.firmo.get(link, key=False)
        self.assertEqual(page.status, 200, page)
        self.assertIn('<p class="institution"><img class="logo" src="' +
                      urllib.parse.urlparse(logo).path + "?" + urllib.parse.urlparse(logo).query,
                      page.body)
        self.assertIn("<span>Comune di Bologna</span>", page.body)
        self.assertIn('href="mailto:urp@comune.bologna.it"', page.body)
        self.assertIn('href="https://comune.bologna.it/urp"', page.body)

    def test_the_cli_updates_the_identity(self):
        issuer_id, key = self.firmo.new_issuer("Oslo kommune", "post@oslo.example.no")
        r = self.firmo.cli("issuer", "update", "--issuer", issuer_id,
                           "--display-name", "Oslo kommune, Bymiljøetaten",
                           "--support-email", "bym@oslo.example.no",
                           "--support-url", "https://oslo.example.no/hjelp",
                           "--brand-color", "#003366")
        self.assertEqual(r.stdout.strip().splitlines()[-1], issuer_id)
        view = self.firmo.get("/api/v1/issuer", key=key).json
        self.assertEqual(view["display_name"], "Oslo kommune, Bymiljøetaten")
        self.assertEqual(view["support_email"], "bym@oslo.example.no")
        self.assertEqual(view["brand_color"], "#003366")
        bad = self.firmo.cli("issuer", "update", "--issuer", issuer_id, "--brand-color", "red",
                             check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("brand_color", bad.stderr)
        missing = self.firmo.cli("issuer", "update", "--issuer", "01NOSUCHISSUER0000000000000",
                                 "--display-name", "X", check=False)
        self.assertEqual(missing.returncode, 1)


if __name__ == "__main__":
    unittest.main()
