"""The portal speaks the signer's language: their own choice on the page (a switch on every page,
remembered in a cookie) > the `language` the issuer gave > the identifier's country (fiscal code
or +39 -> it, national identity number or +47 -> nb) > the browser's Accept-Language > English.
<html lang> says which."""

import re
import unittest
import urllib.parse

from harness import FISCAL_CODE, FISCAL_CODE_2, NIN, FirmoTestCase


def html_lang(r):
    m = re.search(r'<html lang="([^"]+)"', r.body)
    return m.group(1) if m else None


def set_cookies(r):
    return [v for k, v in r.headers if k.lower() == "set-cookie"]


class PortalLanguage(FirmoTestCase):
    def link_for(self, signer):
        r = self.firmo.post("/api/v1/signers", signer)
        self.assertIn(r.status, (200, 201), r)
        request = self.create_request(signer_id=r.json["id"])
        return urllib.parse.urlparse(request["signers"][0]["portal_url"]).path

    def page(self, path, accept=None, cookie=None):
        headers = {}
        if accept:
            headers["Accept-Language"] = accept
        if cookie:
            headers["Cookie"] = cookie
        r = self.firmo.get(path, key=False, headers=headers)
        self.assertEqual(r.status, 200, r)
        return r

    def test_the_identifiers_country_decides_before_the_browser(self):
        italian = self.link_for({"fiscal_code": FISCAL_CODE, "email": "mario@example.org"})
        r = self.page(italian, accept="nb-NO,nb;q=0.9")
        self.assertEqual(html_lang(r), "it")
        self.assertIn("ti chiede di firmare", r.body)
        self.assertIn("Inviami un codice", r.body)
        norwegian = self.link_for({"national_identity_number": NIN, "country": "NO",
                                   "email": "kari@example.no"})
        r = self.page(norwegian, accept="it")
        self.assertEqual(html_lang(r), "nb")
        self.assertIn("ber deg signere", r.body)
        by_phone = self.link_for({"phone": "+393331234567"})
        self.assertEqual(html_lang(self.page(by_phone, accept="en")), "it")

    def test_the_issuers_language_decides_before_the_identifier(self):
        r = self.firmo.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE_2, "language": "en"})
        self.assertIn(r.status, (200, 201), r)
        self.assertEqual(self.firmo.get(f"/api/v1/signers/{r.json['id']}").json["language"], "en")
        link = self.link_for({"fiscal_code": FISCAL_CODE_2, "email": "g@example.it"})
        r = self.page(link, accept="it-IT")
        self.assertEqual(html_lang(r), "en")
        self.assertIn("asks you to sign", r.body)
        # Posting the signer again with another language replaces it.
        self.firmo.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE_2, "language": "nb"})
        self.assertEqual(html_lang(self.page(link)), "nb")

    def test_without_either_the_browser_decides_then_english(self):
        link = self.link_for({"email": "anna@example.org"})
        self.assertEqual(html_lang(self.page(link, accept="it-IT,it;q=0.9,en;q=0.8")), "it")
        self.assertEqual(html_lang(self.page(link, accept="fr-FR, no;q=0.5")), "nb")
        self.assertEqual(html_lang(self.page(link, accept="fr-FR, de")), "en")
        self.assertEqual(html_lang(self.page(link)), "en")
        self.assertEqual(html_lang(self.page("/login", accept="nb")), "nb")

    def test_the_switch_is_on_every_page_remembered_and_wins(self):
        link = self.link_for({"fiscal_code": FISCAL_CODE, "email": "mario@example.org"})
        r = self.page(link)
        # One link per language, named in that language; the current one marked.
        for code, name in (("en", "English"), ("it", "Italiano"), ("nb", "Norsk bokmål")):
            self.assertIn(f'href="{link}?lang={code}" lang="{code}" hreflang="{code}"', r.body)
            self.assertIn(f">{name}</a>", r.body)
        self.assertIn('hreflang="it" aria-current="true"', r.body)
        self.assertFalse(any(c.startswith("firmo_lang=") for c in set_cookies(r)))

        chosen = self.page(link + "?lang=en", accept="it")
        self.assertEqual(html_lang(chosen), "en")
        cookie = [c for c in set_cookies(chosen) if c.startswith("firmo_lang=")]
        self.assertEqual(len(cookie), 1, set_cookies(chosen))
        self.assertTrue(cookie[0].startswith("firmo_lang=en;"), cookie)
        self.assertIn("Max-Age=31536000", cookie[0])
        self.assertIn("SameSite=Lax", cookie[0])
        # The cookie wins over the signer's record and the browser, on every page.
        self.assertEqual(html_lang(self.page(link, accept="it", cookie="firmo_lang=en")), "en")
        self.assertEqual(html_lang(self.page("/login", accept="it", cookie="firmo_lang=nb")), "nb")
        # An unknown choice is ignored.
        self.assertEqual(html_lang(self.page(link + "?lang=xx", cookie="firmo_lang=zz")), "it")
        # The switch keeps the page's other query parameters.
        r = self.page("/login?return_to=/inbox&lang=it")
        self.assertIn('href="/login?return_to=/inbox&amp;lang=nb"', r.body)

    def test_error_pages_follow_the_language(self):
        r = self.firmo.get("/l/forged.token", key=False, headers={"Accept-Language": "it"})
        self.assertEqual(html_lang(r), "it")
        self.assertNotIn("Not possible", r.body)
        r = self.firmo.get("/l/forged.token", key=False, headers={"Cookie": "firmo_lang=nb"})
        self.assertEqual(html_lang(r), "nb")

    def test_the_link_of_a_final_request_says_why_in_the_signers_language(self):
        r = self.firmo.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE, "email": "m@example.org"})
        request = self.create_request(signer_id=r.json["id"])
        link = urllib.parse.urlparse(request["signers"][0]["portal_url"]).path
        cancelled = self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "CANCELLED")
        self.assertEqual(cancelled.status, 204, cancelled)
        r = self.firmo.get(link, key=False)
        self.assertEqual(r.status, 410, r)
        self.assertEqual(html_lang(r), "it")
        self.assertIn("Non più aperta alla firma", r.body)
        self.assertIn("ha annullato questa richiesta", r.body)

    def test_only_known_languages_are_accepted(self):
        r = self.firmo.post("/api/v1/signers", {"email": "x@example.org", "language": "fr"})
        problem = self.assertProblem(r, 422, "validation-error")
        self.assertEqual(problem["violations"][0]["field"], "language", problem)


if __name__ == "__main__":
    unittest.main()
