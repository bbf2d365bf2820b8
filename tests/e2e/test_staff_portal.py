"""The sender portal's first slice (issue 17): staff accounts per issuer created by
`firmo user create`, the one-time setup link where the person sets a password, login (throttled)
and logout, with the signer portal's cookie and CSRF rules, and every step in the issuer's staff
audit log."""

import http.client
import re
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import FISCAL_CODE, Firmo, FirmoTestCase

PASSWORD = "correct horse battery staple"


def cookies_of(r):
    return [v for k, v in r.headers if k.lower() == "set-cookie"]


def cookie_value(r, name):
    for c in cookies_of(r):
        if c.startswith(name + "="):
            return c.split(";", 1)[0].split("=", 1)[1]
    return None


def csrf_of(r):
    m = re.search(r'name="csrf" value="([^"]+)"', r.body)
    return m.group(1) if m else None


def form(fields):
    return urllib.parse.urlencode(fields).encode()


class Browser:
    """Just enough of a browser: keeps the cookies the server sets."""

    def __init__(self, firmo):
        self.firmo = firmo
        self.jar = {}

    def header(self):
        return "; ".join(f"{k}={v}" for k, v in self.jar.items() if v)

    def remember(self, r):
        for c in cookies_of(r):
            name, value = c.split(";", 1)[0].split("=", 1)
            self.jar[name] = value

    def get(self, path):
        r = self.firmo.get(path, key=False, headers={"Cookie": self.header()})
        self.remember(r)
        return r

    def post(self, path, fields):
        r = self.firmo.request("POST", path, raw=form(fields), key=False,
                               content_type="application/x-www-form-urlencoded",
                               headers={"Cookie": self.header()})
        self.remember(r)
        return r


class StaffPortal(FirmoTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.issuer_a, _ = cls.firmo.new_issuer("Comune di Roma", "ict@roma.example.org")
        cls.issuer_b, _ = cls.firmo.new_issuer("Oslo kommune", "it@oslo.example.no")

    def create_user(self, email, role="sender", issuer=None, *extra):
        r = self.firmo.cli("user", "create", "--issuer", issuer or self.issuer_a, "--email",
                           email, "--role", role, *extra)
        return r.stdout.strip().splitlines()[-1]

    def setup(self, email, role="sender", issuer=None):
        """A browser logged in through the setup link."""
        url = self.create_user(email, role, issuer)
        path = urllib.parse.urlparse(url).path
        b = Browser(self.firmo)
        page = b.get(path)
        self.assertEqual(page.status, 200, page)
        r = b.post(path, {"csrf": csrf_of(page), "password": PASSWORD,
                          "password_again": PASSWORD})
        self.assertEqual(r.status, 303, r)
        return b

    def test_user_create_prints_a_one_time_setup_url_last(self):
        url = self.create_user("printed@example.org", "viewer")
        self.assertRegex(url, r"^http://127\.0\.0\.1:\d+/app/setup/[A-Za-z0-9_-]{43}$")
        r = self.firmo.cli("user", "create", "--issuer", self.issuer_a, "--email",
                           "public@example.org", "--role", "admin", "--public-url",
                           "https://sign.example.org")
        self.assertRegex(r.stdout.strip().splitlines()[-1],
                         r"^https://sign\.example\.org/app/setup/[A-Za-z0-9_-]{43}$")
        # Only its hash is stored.
        token = url.rsplit("/", 1)[1]
        rows = self.firmo.query("SELECT setup_token_hash, password_hash FROM staff_users "
                                "WHERE email = 'printed@example.org'")
        self.assertEqual(len(rows), 1)
        self.assertNotEqual(rows[0][0], token)
        self.assertEqual(len(rows[0][0]), 64)
        self.assertEqual(rows[0][1], "")
        r = self.firmo.cli("user", "create", "--issuer", self.issuer_a, "--email",
                           "x@example.org", "--role", "owner", check=False)
        self.assertEqual(r.returncode, 2, r)  # a usage error
        r = self.firmo.cli("user", "create", "--issuer", self.issuer_a, "--email",
                           "not-an-address", "--role", "viewer", check=False)
        self.assertEqual(r.returncode, 1, r)
        r = self.firmo.cli("user", "create", "--issuer", "NO-SUCH-ISSUER", "--email",
                           "y@example.org", "--role", "viewer", check=False)
        self.assertEqual(r.returncode, 1, r)
        r = self.firmo.cli("user", "create", "--issuer", self.issuer_b, "--email",
                           "PRINTED@example.org", "--role", "viewer", check=False)
        self.assertEqual(r.returncode, 1, r)  # the address is the login: one account each

    def test_the_setup_link_sets_a_password_once_and_logs_in(self):
        url = self.create_user("anna@example.org", "admin")
        path = urllib.parse.urlparse(url).path
        b = Browser(self.firmo)
        page = b.get(path)
        self.assertEqual(page.status, 200, page)
        self.assertIn("anna@example.org", page.body)
        self.assertIn("default-src 'none'", page.header("Content-Security-Policy"))
        self.assertIn("firmo_staff_pre", b.jar)
        self.assertNotIn("<script", page.body)
        mismatch = b.post(path, {"csrf": csrf_of(page), "password": PASSWORD,
                                 "password_again": PASSWORD + "!"})
        self.assertEqual(mismatch.status, 422, mismatch)
        short = b.post(path, {"csrf": csrf_of(page), "password": "short",
                              "password_again": "short"})
        self.assertEqual(short.status, 422, short)
        no_csrf = b.post(path, {"password": PASSWORD, "password_again": PASSWORD})
        self.assertEqual(no_csrf.status, 403, no_csrf)
        done = b.post(path, {"csrf": csrf_of(page), "password": PASSWORD,
                             "password_again": PASSWORD})
        self.assertEqual(done.status, 303, done)
        self.assertEqual(done.header("Location"), "/app")
        session = [c for c in cookies_of(done) if c.startswith("firmo_staff=")][0]
        for attribute in ("Path=/app", "HttpOnly", "SameSite=Lax", "Max-Age=28800"):
            self.assertIn(attribute, session)
        home = b.get("/app")
        self.assertEqual(home.status, 200, home)
        self.assertIn("anna@example.org", home.body)
        self.assertIn('action="/app/logout"', home.body)
        # The link worked once.
        again = Browser(self.firmo).get(path)
        self.assertEqual(again.status, 404, again)
        # The setup token is a credential: the access log names the route, never the token.
        token = path.rsplit("/", 1)[1]
        log = self.firmo.wait_for_log("path=/app/setup/<token>")
        self.assertNotIn(token, log)
        rows = self.firmo.query("SELECT password_hash, setup_token_hash FROM staff_users "
                                "WHERE email = 'anna@example.org'")
        self.assertTrue(rows[0][0].startswith("$argon2id$v=19$m=19456,t=2,p=1$"), rows)
        self.assertIn(rows[0][1], (None, ""))

    def test_login_logout_and_their_csrf_rules(self):
        self.setup("bruno@example.org", "viewer")
        b = Browser(self.firmo)
        self.assertEqual(b.get("/app").status, 303)  # not logged in: to the login page
        page = b.get("/app/login")
        self.assertEqual(page.status, 200, page)
        csrf = csrf_of(page)
        # A token minted for another visitor's cookie is refused, as is none.
        other = Browser(self.firmo)
        other_csrf = csrf_of(other.get("/app/login"))
        for token in (None, other_csrf, "forged"):
            fields = {"email": "bruno@example.org", "password": PASSWORD}
            if token:
                fields["csrf"] = token
            r = b.post("/app/login", fields)
            self.assertEqual(r.status, 403, (token, r))
        wrong = b.post("/app/login", {"csrf": csrf, "email": "bruno@example.org",
                                      "password": "a wrong long password"})
        self.assertEqual(wrong.status, 401, wrong)
        unknown = b.post("/app/login", {"csrf": csrf, "email": "nobody@example.org",
                                        "password": PASSWORD})
        self.assertEqual(unknown.status, 401, unknown)
        # The same words either way: nothing tells which addresses have an account.
        self.assertIn("Wrong e-mail address or password.", wrong.body)
        self.assertIn("Wrong e-mail address or password.", unknown.body)
        ok = b.post("/app/login", {"csrf": csrf, "email": "Bruno@Example.org",
                                   "password": PASSWORD})
        self.assertEqual(ok.status, 303, ok)
        token = cookie_value(ok, "firmo_staff")
        home = b.get("/app")
        self.assertEqual(home.status, 200, home)
        self.assertIn("bruno@example.org", home.body)
        # Logging out needs the session's own CSRF token, not the pre-session one.
        refused = b.post("/app/logout", {"csrf": csrf})
        self.assertEqual(refused.status, 403, refused)
        self.assertEqual(b.get("/app").status, 200)
        out = b.post("/app/logout", {"csrf": csrf_of(home)})
        self.assertEqual(out.status, 303, out)
        self.assertIn("firmo_staff=; Max-Age=0", "; ".join(cookies_of(out)))
        # The old token is dead on the server, not only in this browser.
        r = self.firmo.get("/app", key=False, headers={"Cookie": f"firmo_staff={token}"})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), "/app/login")
        # The signer portal's session cookie opens nothing here.
        r = self.firmo.get("/app", key=False, headers={"Cookie": f"firmo_session={token}"})
        self.assertEqual(r.status, 303, r)

    def test_every_step_is_in_the_issuers_staff_audit_log(self):
        b = self.setup("carla@example.org", "sender", issuer=self.issuer_b)
        home = b.get("/app")
        b.post("/app/logout", {"csrf": csrf_of(home)})
        rows = self.firmo.query(
            "SELECT action, actor FROM staff_audit WHERE issuer_id = '%s' ORDER BY seq"
            % self.issuer_b)
        actions = [r[0] for r in rows]
        self.assertEqual(actions, ["staff_user.created", "staff_user.password_set",
                                   "staff.login", "staff.logout"])
        self.assertEqual(rows[0][1], "cli")
        self.assertTrue(all(r[1].startswith("staff:") for r in rows[1:]), rows)
        other = self.firmo.query(
            "SELECT count(*) FROM staff_audit WHERE issuer_id = '%s' AND subject IN "
            "(SELECT id FROM staff_users WHERE email = 'carla@example.org')" % self.issuer_a)
        self.assertEqual(int(other[0][0]), 0)

    def test_pages_speak_the_visitors_language(self):
        it = self.firmo.get("/app/login", key=False, headers={"Accept-Language": "it-IT"})
        self.assertIn('<html lang="it"', it.body)
        self.assertIn("Accedi al portale del mittente", it.body)
        nb = self.firmo.get("/app/login?lang=nb", key=False)
        self.assertIn('<html lang="nb"', nb.body)
        self.assertIn("Logg inn i avsenderportalen", nb.body)





class StaffFollowing(FirmoTestCase):
    """The lists, the request page and its actions, by role and by issuer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Staff of the bootstrap issuer (whose API key the harness uses) and of another one.
        rows = cls.firmo.query("SELECT id FROM issuers ORDER BY created_at LIMIT 1")
        cls.issuer = rows[0][0]
        cls.other_issuer, cls.other_key = cls.firmo.new_issuer("Oslo kommune", "it@oslo.no")

    def browser(self, email, role, issuer=None):
        url = self.firmo.cli("user", "create", "--issuer", issuer or self.issuer, "--email",
                             email, "--role", role).stdout.strip().splitlines()[-1]
        path = urllib.parse.urlparse(url).path
        b = Browser(self.firmo)
        page = b.get(path)
        r = b.post(path, {"csrf": csrf_of(page), "password": PASSWORD,
                          "password_again": PASSWORD})
        self.assertEqual(r.status, 303, r)
        return b

    def test_lists_search_and_the_request_page(self):
        created = self.ready_request("PRATICA-LIST-1")
        self.ready_request("PRATICA-LIST-2")
        b = self.browser("lina@example.org", "viewer")
        home = b.get("/app")
        self.assertEqual(home.status, 200, home)
        self.assertIn("Contratto PRATICA-LIST-1", home.body)
        self.assertIn("PRATICA-LIST-2", home.body)
        found = b.get("/app?tab=progress&q=list-1")
        self.assertIn("PRATICA-LIST-1", found.body)
        self.assertNotIn("PRATICA-LIST-2", found.body)
        by_signer = b.get("/app?q=" + FISCAL_CODE.lower())
        self.assertIn("PRATICA-LIST-1", by_signer.body)
        self.assertNotIn("PRATICA-LIST-1", b.get("/app?tab=signed").body)
        page = b.get(f"/app/requests/{created['id']}")
        self.assertEqual(page.status, 200, page)
        self.assertIn("Request created", page.body)
        self.assertIn(FISCAL_CODE, page.body)
        # A viewer sees no actions and cannot act.
        self.assertNotIn("/cancel", page.body)
        r = b.post(f"/app/requests/{created['id']}/cancel", {"csrf": csrf_of(page)})
        self.assertEqual(r.status, 403, r)
        status = self.firmo.get(f"/api/v1/signature-requests/{created['id']}").json["status"]
        self.assertEqual(status, "READY")

    def test_a_sender_cancels_and_moves_the_deadline(self):
        created = self.ready_request("PRATICA-ACT-1")
        rid = created["id"]
        b = self.browser("sara@example.org", "sender")
        page = b.get(f"/app/requests/{rid}")
        self.assertIn(f'action="/app/requests/{rid}/cancel"', page.body)
        # Without the session's CSRF token nothing happens.
        r = b.post(f"/app/requests/{rid}/cancel", {})
        self.assertEqual(r.status, 403, r)
        r = b.post(f"/app/requests/{rid}/deadline",
                   {"csrf": csrf_of(page), "expires_on": "2099-01-01"})
        self.assertEqual(r.status, 303, r)
        self.assertIn("?error=1", r.header("Location"))  # beyond the maximum expiry
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 5 * 86400))
        r = b.post(f"/app/requests/{rid}/deadline", {"csrf": csrf_of(page), "expires_on": day})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), f"/app/requests/{rid}")
        got = self.firmo.get(f"/api/v1/signature-requests/{rid}").json
        self.assertTrue(got["expires_at"].startswith(day + "T23:59:59"), got)
        r = b.post(f"/app/requests/{rid}/cancel", {"csrf": csrf_of(page)})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.firmo.get(f"/api/v1/signature-requests/{rid}").json["status"],
                         "CANCELLED")
        page = b.get(f"/app/requests/{rid}")
        self.assertIn("Deadline changed", page.body)
        self.assertIn("Cancelled", page.body)
        self.assertNotIn(f'action="/app/requests/{rid}/cancel"', page.body)  # final: no actions
        self.assertIn("PRATICA-ACT-1", b.get("/app?tab=stopped").body)
        events = self.firmo.get(f"/api/v1/signature-requests/{rid}/events").json["items"]
        # The API's events say who: the staff member.
        self.assertTrue(any(e["type"] == "signature_request.cancelled" for e in events), events)

    def test_the_timeline_moves_and_the_signed_pdf_downloads(self):
        created = self.ready_request("PRATICA-SIGN-1", email="giulia@example.org")
        rid = created["id"]
        b = self.browser("vera@example.org", "viewer")
        before = b.get(f"/app/requests/{rid}")
        self.assertNotIn("Signed by everyone", before.body)
        self.sign_through_signer_api(created)
        after = b.get(f"/app/requests/{rid}")
        self.assertIn("Signed by everyone", after.body)
        self.assertIn("Signature confirmed", after.body)
        link = re.search(r'href="(/app/requests/[^"]+/signed)"', after.body)
        self.assertTrue(link, after.body)
        conn = http.client.HTTPConnection(self.firmo.host, self.firmo.port, timeout=30)
        conn.request("GET", link.group(1), headers={"Cookie": b.header()})
        resp = conn.getresponse()
        signed = resp.read()
        conn.close()
        self.assertEqual(resp.status, 200, signed[:300])
        self.assertEqual(resp.getheader("Content-Type"), "application/pdf")
        self.assertIn("attachment", resp.getheader("Content-Disposition"))
        self.assertTrue(signed.startswith(b"%PDF-"))
        # pdfsig, an independent verifier, agrees the signature is valid.
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(signed)
            f.flush()
            out = subprocess.run(["pdfsig", f.name], capture_output=True, text=True).stdout
        self.assertIn("Signature is Valid", out)
        self.assertIn("PRATICA-SIGN-1", b.get("/app?tab=signed").body)

    def test_another_issuers_staff_sees_nothing(self):
        created = self.ready_request("PRATICA-MINE-1")
        b = self.browser("ola@oslo.no", "admin", issuer=self.other_issuer)
        self.assertNotIn("PRATICA-MINE-1", b.get("/app").body)
        self.assertNotIn("PRATICA-MINE-1", b.get("/app?q=PRATICA").body)
        page = b.get(f"/app/requests/{created['id']}")
        self.assertEqual(page.status, 404, page)
        home = b.get("/app")
        r = b.post(f"/app/requests/{created['id']}/cancel", {"csrf": csrf_of(home)})
        self.assertEqual(r.status, 404, r)
        doc = created["documents"][0]["id"] if created.get("documents") else "x"
        r = b.get(f"/app/requests/{created['id']}/documents/{doc}/signed")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(self.firmo.get(f"/api/v1/signature-requests/{created['id']}")
                         .json["status"], "READY")


class SendBodyGate(FirmoTestCase):
    """POST /app/send carries up to ~41 MiB of PDFs: its body is read only for a session that may
    send. Anonymous and viewer requests are answered from the headers alone, and closed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.issuer = cls.firmo.query("SELECT id FROM issuers ORDER BY created_at LIMIT 1")[0][0]

    def browser(self, email, role):
        return StaffFollowing.browser(self, email, role)

    def headers_only(self, cookie=None, expect=False):
        """Sends only the headers of a 30 MiB multipart POST; what arrives within 5 s."""
        s = socket.create_connection((self.firmo.host, self.firmo.port), timeout=5)
        try:
            head = ("POST /app/send HTTP/1.1\r\nHost: x\r\n"
                    "Content-Type: multipart/form-data; boundary=b\r\n"
                    f"Content-Length: {30 * 1024 * 1024}\r\n")
            if cookie:
                head += f"Cookie: {cookie}\r\n"
            if expect:
                head += "Expect: 100-continue\r\n"
            s.sendall((head + "\r\n").encode())
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
            return data.decode("latin-1")
        finally:
            s.close()

    def test_anonymous_and_viewer_bodies_are_refused_before_they_are_sent(self):
        anonymous = self.headers_only()
        self.assertTrue(anonymous.startswith("HTTP/1.1 401 "), anonymous)
        self.assertIn("Connection: close", anonymous)
        self.assertIn("application/problem+json", anonymous)
        # A cookie that names no session is no better.
        self.assertTrue(self.headers_only("firmo_staff=" + "x" * 43).startswith("HTTP/1.1 401 "))
        viewer = self.browser("gate-viewer@example.org", "viewer")
        refused = self.headers_only(viewer.header())
        self.assertTrue(refused.startswith("HTTP/1.1 403 "), refused)
        # A sender's headers are admitted: the server asks for the body.
        sender = self.browser("gate-sender@example.org", "sender")
        admitted = self.headers_only(sender.header(), expect=True)
        self.assertTrue(admitted.startswith("HTTP/1.1 100 Continue"), admitted)


class StaffLoginThrottling(unittest.TestCase):
    """Logins are limited per address and per account (web.staff_login_attempts per minute)."""

    @classmethod
    def setUpClass(cls):
        cls.firmo = Firmo(extra_args=("--staff-login-attempts", "3")).start()

    @classmethod
    def tearDownClass(cls):
        cls.firmo.cleanup()

    def test_too_many_attempts_get_429_with_retry_after(self):
        b = Browser(self.firmo)
        csrf = csrf_of(b.get("/app/login"))
        statuses = []
        for _ in range(4):
            r = b.post("/app/login", {"csrf": csrf, "email": "x@example.org",
                                      "password": "a wrong long password"})
            statuses.append(r.status)
        self.assertEqual(statuses, [401, 401, 401, 429])
        self.assertEqual(r.header("Retry-After"), "60")


class FirstAdminOnFirstStart(unittest.TestCase):
    """The first `firmo serve` of a data folder prints the setup link of the sender portal's
    first admin (bootstrap.email): "First signature in the browser" in the README starts there."""

    def test_the_first_start_prints_the_first_admins_setup_link_once(self):
        firmo = Firmo(extra_args=("--bootstrap-email", "boss@example.org")).start()
        try:
            lines = [l for l in firmo.stdout_lines if l.startswith("Sender portal: ")]
            self.assertEqual(len(lines), 1, firmo.stdout_lines)
            m = re.search(r"boss@example\.org \(admin\) chooses a password at "
                          r"(http://127\.0\.0\.1:\d+(/app/setup/[A-Za-z0-9_-]{43})) ", lines[0])
            self.assertTrue(m, lines[0])
            b = Browser(firmo)
            page = b.get(m.group(2))
            self.assertEqual(page.status, 200, page)
            r = b.post(m.group(2), {"csrf": csrf_of(page), "password": PASSWORD,
                                    "password_again": PASSWORD})
            self.assertEqual(r.status, 303, r)
            home = b.get("/app")
            self.assertEqual(home.status, 200, home)
            self.assertIn("administrator", home.body)
            self.assertIn('href="/app/send"', home.body)
            firmo.stop()
            # Started again: no new issuer, no new admin, no link.
            again = Firmo(data_dir=firmo.data_dir).start()
            try:
                self.assertFalse([l for l in again.stdout_lines if l.startswith("Sender portal")],
                                 again.stdout_lines)
                self.assertEqual(int(again.query("SELECT COUNT(*) FROM staff_users")[0][0]), 1)
            finally:
                again.stop()
        finally:
            firmo.cleanup()


if __name__ == "__main__":
    unittest.main()
