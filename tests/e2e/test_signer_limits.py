"""The signer side without an API key: anonymous visitors write nothing, and calls, calls per
request and logins per client address are limited (429 with Retry-After, in /metrics, one log
line per interval)."""

import re
import unittest

from harness import FirmoTestCase


def session_rows(firmo):
    return int(firmo.query("SELECT COUNT(*) FROM portal_sessions")[0][0])


def metric(firmo, limit):
    text = firmo.get("/metrics", key=False).body
    m = re.search(r'^firmo_signer_limited_total\{limit="%s"\} (\d+)' % limit, text, re.M)
    return int(m.group(1)) if m else None


class AnonymousVisitorsWriteNothing(FirmoTestCase):
    def test_pages_without_a_cookie_store_no_session(self):
        before = session_rows(self.firmo)
        for path in ("/", "/login", "/inbox", "/login?return_to=/s/x", "/s/01ARZ3NDEKTSV4RRFFQ69G5FAV",
                     "/s/01ARZ3NDEKTSV4RRFFQ69G5FAV/done", "/l/forged.token") * 10:
            r = self.firmo.get(path, key=False)
            self.assertIn(r.status, (200, 303, 403), r)
            cookies = [v for k, v in r.headers if k.lower() == "set-cookie"]
            self.assertFalse(any(c.startswith("firmo_session=") and "Max-Age=0" not in c
                                 for c in cookies), cookies)
        self.assertEqual(session_rows(self.firmo), before)

    def test_a_form_before_login_needs_the_pre_cookie_it_was_made_for(self):
        # The logout form is the one form any visitor can post; without a session its CSRF
        # token is a signed value bound to the firmo_pre cookie.
        r = self.firmo.get("/login", key=False)
        pre = [v for k, v in r.headers if k.lower() == "set-cookie" and v.startswith("firmo_pre=")]
        self.assertEqual(len(pre), 1, r.headers)
        self.assertIn("HttpOnly", pre[0])
        self.assertIn("SameSite=Lax", pre[0])
        self.assertEqual(session_rows(self.firmo), 0)


class SignerCallsPerAddress(FirmoTestCase):
    server_args = ("--rate-limit-burst", "0", "--signer-calls-per-ip", "5",
                   "--signer-limit-window", "60")

    def test_the_sixth_call_in_a_minute_is_refused_with_retry_after(self):
        for _ in range(5):
            self.assertEqual(self.firmo.get("/login", key=False).status, 200)
        r = self.firmo.get("/login", key=False)
        self.assertEqual(r.status, 429, r)
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        api = self.firmo.post("/api/v1/signer/codes", {"link_token": "x.y"}, key=False)
        self.assertEqual(api.status, 429, api)
        self.assertEqual(api.header("Content-Type"), "application/problem+json")
        self.assertIsNotNone(api.header("Retry-After"))
        # Static files are not counted: a viewer loads dozens.
        self.assertEqual(self.firmo.get("/static/firmo/portal.css", key=False).status, 200)
        self.assertGreaterEqual(metric(self.firmo, "ip"), 2)
        self.assertEqual(metric(self.firmo, "sessions"), 0)
        # One line per interval, not one per refusal.
        log = self.firmo.wait_for_log("signer_limited")
        self.assertEqual(log.count("signer_limited"), 1, log[-2000:])


class SignerCallsPerRequest(FirmoTestCase):
    server_args = ("--rate-limit-burst", "0", "--signer-calls-per-request", "3",
                   "--signer-limit-window", "60")

    def test_one_request_is_limited_whatever_the_address(self):
        path = "/s/01ARZ3NDEKTSV4RRFFQ69G5FAV"
        for _ in range(3):
            self.assertEqual(self.firmo.get(path, key=False).status, 303)
        self.assertEqual(self.firmo.get(path, key=False).status, 429)
        # Another request is not affected.
        self.assertEqual(self.firmo.get("/s/01ARZ3NDEKTSV4RRFFQ69G5FAW", key=False).status, 303)
        self.assertEqual(metric(self.firmo, "request"), 1)


class LoginsPerAddress(FirmoTestCase):
    server_args = ("--rate-limit-burst", "0", "--signer-sessions-per-ip", "2",
                   "--signer-limit-window", "60")

    def test_the_third_login_in_a_minute_is_refused(self):
        r = self.firmo.post("/api/v1/signer/sessions", {"redirect_token": "not-a-token"},
                            key=False)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.firmo.get("/d/not-a-token", key=False).status, 403)
        r = self.firmo.post("/api/v1/signer/sessions", {"redirect_token": "not-a-token"}, key=False)
        self.assertEqual(r.status, 429, r)
        self.assertIsNotNone(r.header("Retry-After"))
        self.assertEqual(metric(self.firmo, "sessions"), 1)


if __name__ == "__main__":
    unittest.main()
