"""The sender portal's administration pages (issue 17): an admin invites people (the setup link
of `firmo user create`), changes their role and disables them, adds and deletes webhooks and
sees their deliveries, creates API keys with a label and an expiry (the secret shown once) and
revokes them; a sender or viewer gets 403 and changes nothing; each action is in the staff audit
log; nobody sees or touches another issuer's accounts, webhooks or keys."""

import os
import re
import sqlite3
import time
import urllib.parse

from harness import POSTGRES_URL, FirmoTestCase
from test_staff_portal import PASSWORD, Browser, csrf_of


def once_value(r):
    m = re.search(r'id="secret"[^>]*value="([^"]+)"', r.body)
    return m.group(1) if m else None


class StaffAdmin(FirmoTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rows = cls.firmo.query("SELECT id FROM issuers ORDER BY created_at LIMIT 1")
        cls.issuer = rows[0][0]
        cls.other_issuer, cls.other_key = cls.firmo.new_issuer("Oslo kommune", "it@oslo.no")

    def browser(self, email, role, issuer=None):
        url = self.firmo.cli("user", "create", "--issuer", issuer or self.issuer, "--email",
                             email, "--role", role).stdout.strip().splitlines()[-1]
        return self.set_password(url)

    def set_password(self, url):
        path = urllib.parse.urlparse(url).path
        b = Browser(self.firmo)
        page = b.get(path)
        r = b.post(path, {"csrf": csrf_of(page), "password": PASSWORD,
                          "password_again": PASSWORD})
        self.assertEqual(r.status, 303, r)
        return b

    def audit_actions(self, issuer=None):
        rows = self.firmo.query(
            f"SELECT action, subject FROM staff_audit WHERE issuer_id = '{issuer or self.issuer}' "
            "ORDER BY seq")
        return [tuple(r) for r in rows]

    def user_id(self, email):
        return self.firmo.query(f"SELECT id FROM staff_users WHERE email = '{email}'")[0][0]

    def test_an_admin_manages_people_and_roles(self):
        admin = self.browser("ada@example.org", "admin")
        home = admin.get("/app")
        self.assertIn('href="/app/admin/users"', home.body)  # the way in, for admins
        page = admin.get("/app/admin/users")
        self.assertEqual(page.status, 200, page)
        self.assertIn("ada@example.org", page.body)
        # Invite: the setup link is shown once and works.
        r = admin.post("/app/admin/users", {"csrf": csrf_of(page), "email": "Bea@Example.org",
                                            "role": "viewer"})
        self.assertEqual(r.status, 201, r)
        link = once_value(r)
        self.assertTrue(link and "/app/setup/" in link, r.body)
        bea = self.set_password(link)
        self.assertEqual(bea.get("/app").status, 200)
        # A viewer cannot administer.
        self.assertEqual(bea.get("/app/admin/users").status, 403)
        self.assertNotIn('href="/app/admin/users"', bea.get("/app").body)
        bea_id = self.user_id("bea@example.org")
        r = bea.post(f"/app/admin/users/{bea_id}/role", {"csrf": csrf_of(bea.get("/app")),
                                                         "role": "admin"})
        self.assertEqual(r.status, 403, r)
        # The admin makes her a sender, then disables her: her session ends.
        page = admin.get("/app/admin/users")
        r = admin.post(f"/app/admin/users/{bea_id}/role", {"csrf": csrf_of(page),
                                                           "role": "sender"})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.firmo.query(
            f"SELECT role FROM staff_users WHERE id = '{bea_id}'")[0][0], "sender")
        # Without the session's CSRF token nothing happens.
        self.assertEqual(admin.post(f"/app/admin/users/{bea_id}/disable", {}).status, 403)
        r = admin.post(f"/app/admin/users/{bea_id}/disable", {"csrf": csrf_of(page)})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(bea.get("/app").status, 303)  # logged out: to the login page
        # An admin cannot demote or disable themselves.
        ada_id = self.user_id("ada@example.org")
        r = admin.post(f"/app/admin/users/{ada_id}/role", {"csrf": csrf_of(page),
                                                           "role": "viewer"})
        self.assertIn("?error=1", r.header("Location"))
        # Another issuer's account is not found.
        ola = self.browser("ola@oslo.no", "admin", issuer=self.other_issuer)
        r = ola.post(f"/app/admin/users/{ada_id}/disable", {"csrf": csrf_of(ola.get("/app"))})
        self.assertEqual(r.status, 404, r)
        self.assertNotIn("ada@example.org", ola.get("/app/admin/users").body)
        actions = self.audit_actions()
        for expected in (("staff_user.created", bea_id), ("staff_user.role_changed", bea_id),
                         ("staff_user.disabled", bea_id)):
            self.assertIn(expected, actions)
        audit = admin.get("/app/admin/audit")
        self.assertEqual(audit.status, 200, audit)
        self.assertIn("staff_user.disabled", audit.body)

    def test_an_admin_manages_webhooks_and_sees_their_deliveries(self):
        admin = self.browser("wanda@example.org", "admin")
        page = admin.get("/app/admin/webhooks")
        self.assertEqual(page.status, 200, page)
        r = admin.post("/app/admin/webhooks", {"csrf": csrf_of(page),
                                               "url": "https://hooks.example.org/firmo",
                                               "events": "signature_request.cancelled"})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(once_value(r))  # the signing secret, once
        hooks = self.firmo.get("/api/v1/webhooks").json
        items = hooks["items"] if isinstance(hooks, dict) else hooks
        hook = next(h for h in items if h["url"] == "https://hooks.example.org/firmo")
        self.assertEqual(hook["events"], ["signature_request.cancelled"])
        page = admin.get("/app/admin/webhooks")
        self.assertIn("https://hooks.example.org/firmo", page.body)
        # A bad URL is refused with a message.
        r = admin.post("/app/admin/webhooks", {"csrf": csrf_of(page), "url": "not a url"})
        self.assertIn("?error=1", r.header("Location"))
        # A sender cannot.
        sender = self.browser("sam@example.org", "sender")
        self.assertEqual(sender.get("/app/admin/webhooks").status, 403)
        r = sender.post(f"/app/admin/webhooks/{hook['id']}/delete",
                        {"csrf": csrf_of(sender.get("/app"))})
        self.assertEqual(r.status, 403, r)
        # A cancelled request makes a delivery, which the page lists.
        created = self.create_request()
        self.firmo.put(f"/api/v1/signature-requests/{created['id']}/status", "CANCELLED")
        deadline = time.time() + 20
        while time.time() < deadline:
            if "signature_request.cancelled" in admin.get("/app/admin/webhooks").body.split(
                    'id="deliveries"')[-1]:
                break
            time.sleep(0.3)
        else:
            self.fail("the delivery was not listed")
        r = admin.post(f"/app/admin/webhooks/{hook['id']}/delete", {"csrf": csrf_of(page)})
        self.assertEqual(r.status, 303, r)
        hooks = self.firmo.get("/api/v1/webhooks").json
        items = hooks["items"] if isinstance(hooks, dict) else hooks
        self.assertFalse(any(h["id"] == hook["id"] for h in items))
        actions = self.audit_actions()
        self.assertIn(("webhook.created", hook["id"]), actions)
        self.assertIn(("webhook.deleted", hook["id"]), actions)

    def test_an_admin_creates_and_revokes_api_keys(self):
        admin = self.browser("kim@example.org", "admin")
        page = admin.get("/app/admin/keys")
        self.assertEqual(page.status, 200, page)
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))
        r = admin.post("/app/admin/keys", {"csrf": csrf_of(page), "label": "Protocol system",
                                           "expires_on": day})
        self.assertEqual(r.status, 201, r)
        secret = once_value(r)
        self.assertTrue(secret)
        # The new key works on the API, for this issuer.
        self.assertEqual(self.firmo.get("/api/v1/webhooks", key=secret).status, 200)
        page = admin.get("/app/admin/keys")
        self.assertIn("Protocol system", page.body)
        self.assertNotIn(secret, page.body)  # shown once only
        key_id = self.firmo.query(
            "SELECT id FROM api_keys WHERE label = 'Protocol system'")[0][0]
        expires = self.firmo.query(f"SELECT expires_at FROM api_keys WHERE id = '{key_id}'")[0][0]
        self.assertIsNotNone(expires)
        # Refused: an expiry in the past; a viewer; another issuer's admin.
        r = admin.post("/app/admin/keys", {"csrf": csrf_of(page), "label": "old",
                                           "expires_on": "2001-01-01"})
        self.assertIn("?error=1", r.header("Location"))
        viewer = self.browser("vic@example.org", "viewer")
        self.assertEqual(viewer.get("/app/admin/keys").status, 403)
        ola = self.browser("olga@oslo.no", "admin", issuer=self.other_issuer)
        self.assertNotIn("Protocol system", ola.get("/app/admin/keys").body)
        r = ola.post(f"/app/admin/keys/{key_id}/revoke", {"csrf": csrf_of(ola.get("/app"))})
        self.assertEqual(r.status, 404, r)
        self.assertEqual(self.firmo.get("/api/v1/webhooks", key=secret).status, 200)
        # Revoked by the admin: refused from then on.
        r = admin.post(f"/app/admin/keys/{key_id}/revoke", {"csrf": csrf_of(page)})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.firmo.get("/api/v1/webhooks", key=secret).status, 401)
        actions = self.audit_actions()
        self.assertIn(("api_key.created", key_id), actions)
        self.assertIn(("api_key.revoked", key_id), actions)

    def test_an_expired_api_key_is_refused(self):
        admin = self.browser("exp@example.org", "admin")
        page = admin.get("/app/admin/keys")
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
        r = admin.post("/app/admin/keys", {"csrf": csrf_of(page), "label": "short",
                                           "expires_on": day})
        secret = once_value(r)
        # Its expiry moved into the past behind the server's back, before its first use (so
        # no node has it in its key cache): refused.
        self.execute("UPDATE api_keys SET expires_at = 1000 WHERE label = 'short'")
        r = self.firmo.get("/api/v1/webhooks", key=secret)
        self.assertEqual(r.status, 401, r)
        self.assertIn("Expired", admin.get("/app/admin/keys").body)

    def test_an_allow_list_refuses_other_addresses_and_last_use_is_shown(self):
        admin = self.browser("lu@example.org", "admin")
        page = admin.get("/app/admin/keys")
        self.assertIn('name="allowed_ips"', page.body)
        # Not an address: refused, nothing created.
        r = admin.post("/app/admin/keys", {"csrf": csrf_of(page), "label": "bad list",
                                           "allowed_ips": "10.0.0.0/33"})
        self.assertIn("?error=1", r.header("Location"))
        r = admin.post("/app/admin/keys", {"csrf": csrf_of(page), "label": "office only",
                                           "allowed_ips": "10.0.0.0/8 2001:db8::/32"})
        self.assertEqual(r.status, 201, r)
        office = once_value(r)
        r = admin.post("/app/admin/keys", {"csrf": csrf_of(page), "label": "this host",
                                           "allowed_ips": "127.0.0.0/8, ::1"})
        local = once_value(r)
        # The tests call from 127.0.0.1: outside the office's list.
        r = self.firmo.get("/api/v1/webhooks", key=office)
        self.assertProblem(r, 403, "address-not-allowed")
        self.assertEqual(self.firmo.get("/api/v1/webhooks", key=local).status, 200)
        # A refused call is not a use; the other one shows within the flusher's tick.
        def row_of(label, body):
            return re.search(rf"<tr><td>{label}</td>.*?</tr>", body, re.S).group(0)
        deadline = time.time() + 10
        while time.time() < deadline:
            body = admin.get("/app/admin/keys").body
            if "from 127.0.0.1" in row_of("this host", body):
                break
            time.sleep(0.3)
        self.assertIn("10.0.0.0/8, 2001:db8::/32", body)
        self.assertIn("127.0.0.0/8, ::1", body)
        self.assertIn("from 127.0.0.1", row_of("this host", body))
        self.assertNotIn("from ", row_of("office only", body))
        # The CLI lists the same.
        listing = self.firmo.cli("apikey", "list", "--issuer", self.issuer).stdout
        line = next(l for l in listing.splitlines() if "\tthis host\t" in l)
        self.assertTrue(line.endswith("\t127.0.0.1\tlive"), line)  # last IP, then the mode
        line = next(l for l in listing.splitlines() if "\toffice only\t" in l)
        self.assertIn("\t10.0.0.0/8, 2001:db8::/32\t-\t-", line)

    def test_the_cli_creates_a_key_with_a_label_and_an_allow_list(self):
        r = self.firmo.cli("apikey", "create", "--issuer", self.issuer, "--label", "batch",
                           "--allowed-ips", "192.0.2.0/24")
        secret = r.stdout.strip().splitlines()[-1]
        self.assertProblem(self.firmo.get("/api/v1/webhooks", key=secret), 403,
                           "address-not-allowed")
        r = self.firmo.cli("apikey", "create", "--issuer", self.issuer, "--allowed-ips",
                           "192.0.2.0/99", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("192.0.2.0/99", r.stderr)

    def execute(self, sql):
        if POSTGRES_URL:
            self.firmo.query(sql)
            return
        db = sqlite3.connect(os.path.join(self.firmo.data_dir, "firmo.db"), timeout=10)
        try:
            db.execute(sql)
            db.commit()
        finally:
            db.close()
