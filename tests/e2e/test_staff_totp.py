"""The sender portal's optional TOTP second factor (issue 17): a person turns it on from the
account page (a secret shown once, on only after one right code), then logging in asks for a code
after the password; a wrong code is refused, and so is a code used before (replay). The codes are
computed here from the secret the page shows, as an authenticator app would (RFC 6238, SHA-1,
30 s, 6 digits). An admin resets another person's factor; with `staff.require_totp` a person
without one sets it up at the next login before getting a session."""

import base64
import hashlib
import hmac
import re
import struct
import time
import urllib.parse

from harness import FirmoTestCase
from test_staff_portal import PASSWORD, Browser, csrf_of
import test_staff_admin  # its helpers; a module, so its tests are not collected again here


def totp(secret_b32, at=None, step=30):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def secret_of(r):
    m = re.search(r'id="totp-secret">([A-Z2-7]+)<', r.body)
    return m.group(1) if m else None


class TotpCase(FirmoTestCase):
    """StaffAdmin's helpers (its tests are not inherited)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.issuer = cls.firmo.query("SELECT id FROM issuers ORDER BY created_at LIMIT 1")[0][0]

    browser = test_staff_admin.StaffAdmin.browser
    set_password = test_staff_admin.StaffAdmin.set_password
    audit_actions = test_staff_admin.StaffAdmin.audit_actions
    user_id = test_staff_admin.StaffAdmin.user_id


class StaffTotp(TotpCase):
    server_args = FirmoTestCase.server_args + ("--staff-login-attempts", "1000")

    def login(self, email):
        b = Browser(self.firmo)
        page = b.get("/app/login")
        r = b.post("/app/login", {"csrf": csrf_of(page), "email": email, "password": PASSWORD})
        self.assertEqual(r.status, 303, r)
        return b, r

    def enrol(self, b):
        """Turns the second factor on from the account page; returns the secret."""
        page = b.get("/app/account")
        self.assertEqual(page.status, 200, page)
        self.assertIn('action="/app/account/totp"', page.body)
        r = b.post("/app/account/totp", {"csrf": csrf_of(page)})
        self.assertEqual(r.status, 200, r)
        secret = secret_of(r)
        self.assertTrue(secret and len(secret) == 32, r.body)
        self.assertIn("<svg", r.body)  # the otpauth:// QR code, inline
        r = b.post("/app/account/totp/confirm", {"csrf": csrf_of(r), "code": totp(secret)})
        self.assertEqual(r.status, 303, r)
        self.assertIn("done=on", r.header("Location"))
        return secret

    def test_enrol_then_log_in_with_password_and_code_wrong_and_replayed_codes_refused(self):
        b = self.browser("tess@example.org", "sender")
        page = b.get("/app/account")
        # A wrong first code leaves the factor off; the secret is not shown again.
        r = b.post("/app/account/totp", {"csrf": csrf_of(page)})
        first = secret_of(r)
        r = b.post("/app/account/totp/confirm", {"csrf": csrf_of(r), "code": "000000"
                                                 if totp(first) != "000000" else "111111"})
        self.assertEqual(r.status, 422, r)
        self.assertIsNone(secret_of(r))
        self.assertIn('action="/app/account/totp"', r.body)  # start again
        secret = self.enrol(b)
        user_id = self.user_id("tess@example.org")
        stored, enabled = self.firmo.query(
            f"SELECT totp_secret, totp_enabled_at FROM staff_users WHERE id = '{user_id}'")[0]
        self.assertIsNotNone(enabled)
        self.assertNotIn(secret, stored)  # sealed, never in clear
        self.assertNotIn(base64.b32decode(secret).hex(), stored)
        page = b.get("/app/account")
        self.assertIsNone(secret_of(page))  # never shown again
        self.assertIn('id="totp-disable"', page.body)
        r = b.post("/app/logout", {"csrf": csrf_of(page)})
        self.assertEqual(r.status, 303, r)

        # The password alone opens only the second step.
        b, r = self.login("tess@example.org")
        self.assertEqual(r.header("Location"), "/app/login/code")
        self.assertEqual(b.get("/app").status, 303)  # no session yet
        step = b.get("/app/login/code")
        self.assertEqual(step.status, 200, step)
        self.assertIn('autocomplete="one-time-code"', step.body)
        # A wrong code is refused.
        wrong = "123456" if totp(secret) != "123456" else "654321"
        r = b.post("/app/login/code", {"csrf": csrf_of(step), "code": wrong})
        self.assertEqual(r.status, 401, r)
        # The enrolment's code, already used, is refused too (replay).
        used = int(self.firmo.query(  # PostgreSQL's harness answers text
            f"SELECT totp_last_step FROM staff_users WHERE id = '{user_id}'")[0][0])
        r = b.post("/app/login/code", {"csrf": csrf_of(step), "code": totp(secret, used * 30)})
        self.assertEqual(r.status, 401, r)
        # The next step's code (inside the window of one step either side) logs in.
        code = totp(secret, (used + 1) * 30)
        r = b.post("/app/login/code", {"csrf": csrf_of(step), "code": code})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), "/app")
        home = b.get("/app")
        self.assertEqual(home.status, 200, home)
        self.assertIn("tess@example.org", home.body)

        # The same code again, from another login with the right password: refused.
        b2, _ = self.login("tess@example.org")
        step = b2.get("/app/login/code")
        r = b2.post("/app/login/code", {"csrf": csrf_of(step), "code": code})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(b2.get("/app").status, 303)
        # Without the second step's cookie the code page leads back to the password.
        stranger = Browser(self.firmo)
        self.assertEqual(stranger.get("/app/login/code").status, 303)
        actions = [a for a, _ in self.audit_actions()]
        self.assertIn("staff_user.totp_enabled", actions)
        self.assertGreaterEqual(actions.count("staff.totp_refused"), 4)

    def test_an_admin_resets_another_persons_second_factor(self):
        admin = self.browser("root@example.org", "admin")
        ugo = self.browser("ugo@example.org", "viewer")
        self.enrol(ugo)
        ugo_id = self.user_id("ugo@example.org")
        page = admin.get("/app/admin/users")
        self.assertIn(f'action="/app/admin/users/{ugo_id}/totp/reset"', page.body)
        # Not the viewer's to do.
        r = ugo.post(f"/app/admin/users/{ugo_id}/totp/reset", {"csrf": csrf_of(ugo.get("/app"))})
        self.assertEqual(r.status, 403, r)
        r = admin.post(f"/app/admin/users/{ugo_id}/totp/reset", {"csrf": csrf_of(page)})
        self.assertEqual(r.status, 303, r)
        _, r = self.login("ugo@example.org")
        self.assertEqual(r.header("Location"), "/app")  # the password alone again
        self.assertIn(("staff_user.totp_reset", ugo_id), self.audit_actions())


class StaffRequireTotp(TotpCase):
    server_args = FirmoTestCase.server_args + ("--staff-login-attempts", "1000",
                                               "--staff-require-totp", "true")

    def test_a_person_without_a_second_factor_sets_it_up_at_login(self):
        url = self.firmo.cli("user", "create", "--issuer", self.issuer, "--email",
                             "vera@example.org", "--role", "sender").stdout.strip().splitlines()[-1]
        # The setup link sets the password, then asks for the factor before any session.
        path = urllib.parse.urlparse(url).path
        b = Browser(self.firmo)
        page = b.get(path)
        r = b.post(path, {"csrf": csrf_of(page), "password": PASSWORD,
                          "password_again": PASSWORD})
        self.assertEqual(r.header("Location"), "/app/login/code")
        self.assertEqual(b.get("/app").status, 303)
        self.assertTrue(secret_of(b.get("/app/login/code")))
        b = Browser(self.firmo)
        page = b.get("/app/login")
        r = b.post("/app/login", {"csrf": csrf_of(page), "email": "vera@example.org",
                                  "password": PASSWORD})
        self.assertEqual(r.header("Location"), "/app/login/code")
        step = b.get("/app/login/code")
        self.assertEqual(step.status, 200, step)
        secret = secret_of(step)
        self.assertTrue(secret, step.body)
        self.assertEqual(b.get("/app").status, 303)
        r = b.post("/app/login/code", {"csrf": csrf_of(step), "code": totp(secret)})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(b.get("/app").status, 200)
        account = b.get("/app/account")
        self.assertNotIn('id="totp-disable"', account.body)  # required: cannot be turned off
