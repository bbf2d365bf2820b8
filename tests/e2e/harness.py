"""Test harness for Firmo's end-to-end tests: starts the real `firmo` binary on a free
loopback port with its own data dir, talks HTTP to it like a client would, and makes real PDFs.

Standard library only. FIRMO_BIN names the binary (set by ctest)."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse

FIRMO_BIN = os.environ.get("FIRMO_BIN", os.path.join(os.path.dirname(__file__), "../../build/release/firmo"))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<{self.status} {self.body[:400]!r}>"


# With FIRMO_TEST_POSTGRES_URL (scripts/with-postgres.sh), every server gets its own fresh
# PostgreSQL database instead of the SQLite file; a restart on the same data dir reuses it.
POSTGRES_URL = os.environ.get("FIRMO_TEST_POSTGRES_URL")


def database_args(data_dir):
    if not POSTGRES_URL:
        return []
    marker = os.path.join(data_dir, "database-url")
    if os.path.exists(marker):
        with open(marker) as f:
            url = f.read().strip()
    else:
        name = "firmo_e2e_" + os.urandom(5).hex()
        subprocess.run(["psql", POSTGRES_URL, "-q", "-c", f"CREATE DATABASE {name}"],
                       check=True, capture_output=True)
        url = urllib.parse.urlparse(POSTGRES_URL)._replace(path="/" + name).geturl()
        with open(marker, "w") as f:
            f.write(url)
    return ["--database-url", url]


class Firmo:
    """One firmo server process."""

    def __init__(self, data_dir=None, extra_args=(), ssl_context=None, env=None):
        """`ssl_context`: how to verify the server when it serves HTTPS (--tls-cert-file);
        `env`: variables added to the server's environment (e.g. FIRMO_FAULT)."""
        self.owns_dir = data_dir is None
        self.env = dict(env or {})
        self.ssl_context = ssl_context
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="firmo-e2e-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.url = None
        self.api_key = None
        self.stdout_lines = []
        self.command_prefix = []  # e.g. ["prlimit", "--nofile=256"]: runs firmo through it

    def start(self, timeout=20):
        return self.spawn().wait_ready(timeout)

    def spawn(self):
        """Starts the process without waiting for it (see wait_ready)."""
        self.stderr = open(os.path.join(self.data_dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [*self.command_prefix, FIRMO_BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
             *database_args(self.data_dir), *self.extra_args],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env={**os.environ, **self.env} if self.env else None)
        return self

    def wait_ready(self, timeout=20):
        """Reads the spawned server's output up to its "listening" line."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"firmo exited early (code {self.proc.poll()}); log: {self.log()}")
            self.stdout_lines.append(line)
            if line.startswith("API key: "):
                self.api_key = line.split()[-1]
            if line.startswith("Firmo is listening on "):
                self.url = line.split()[-1]
                break
        if not self.url:
            raise RuntimeError("firmo did not report its URL; log: " + self.log())
        parsed = urllib.parse.urlparse(self.url)
        self.host, self.port = parsed.hostname, parsed.port
        return self

    def log(self):
        try:
            with open(os.path.join(self.data_dir, "server.log"), "r", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def wait_for_log(self, *needles, timeout=5):
        """The whole log once every needle is in it. Access lines reach the log up to 50 ms
        after their request (they are written in batches); fails after `timeout`."""
        deadline = time.time() + timeout
        while True:
            try:
                with open(os.path.join(self.data_dir, "server.log"), "r", errors="replace") as f:
                    text = f.read()
            except OSError:
                text = ""
            if all(n in text for n in needles):
                return text
            if time.time() > deadline:
                missing = [n for n in needles if n not in text]
                raise AssertionError(f"not in the log after {timeout} s: {missing}; log: {text[-2000:]}")
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode if self.proc else None
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "stderr", None):
            self.stderr.close()
        self.proc = None
        return code

    def cleanup(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            # The CA key's secret, kept beside the data folder (OPERATIONS.md).
            try:
                os.remove(self.data_dir.rstrip("/") + ".ca-key-secret")
            except OSError:
                pass

    def cli(self, *args, check=True):
        """Runs a firmo subcommand against this server's data dir."""
        # The PDF engine's commands (ca, sign, verify) use no database; `ca revoke` does.
        uses_db = args[0] in ("apikey", "issuer", "migrate", "user") or tuple(args[:2]) == ("ca", "revoke")
        db = database_args(self.data_dir) if uses_db else []
        result = subprocess.run([FIRMO_BIN, *args, "--data-dir", self.data_dir, *db],
                                capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise RuntimeError(f"firmo {' '.join(args)} failed: {result.stderr}")
        return result

    def query(self, sql):
        """Rows of one SELECT on the server's database (SQLite file or PostgreSQL)."""
        if POSTGRES_URL:
            url = database_args(self.data_dir)[1]
            out = subprocess.run(["psql", url, "-At", "-F", "\t", "-c", sql], check=True,
                                 capture_output=True, text=True).stdout
            return [tuple(line.split("\t")) for line in out.splitlines() if line]
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data_dir, "firmo.db"))
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def new_issuer(self, name="Second issuer", email="second@example.org"):
        issuer_id = self.cli("issuer", "create", "--name", name, "--email", email).stdout.strip().splitlines()[-1]
        key = self.cli("apikey", "create", "--issuer", issuer_id).stdout.strip().splitlines()[-1]
        return issuer_id, key

    def request(self, method, path, body=None, key=None, headers=None, raw=None,
                content_type="application/json"):
        """One HTTP call on a fresh connection. `body` is sent as JSON; `raw` as bytes."""
        if self.url.startswith("https://"):
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=30,
                                               context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        hdrs = dict(headers or {})
        payload = None
        if raw is not None:
            payload = raw
            if content_type:
                hdrs.setdefault("Content-Type", content_type)
        elif body is not None:
            payload = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", content_type)
        if key is not False:
            k = key or self.api_key
            if k:
                hdrs.setdefault("X-Api-Key", k)
        if path.startswith(("http://", "https://")):
            path = urllib.parse.urlparse(path)._replace(scheme="", netloc="").geturl()
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return Response(resp.status, resp.getheaders(), data.decode("utf-8", errors="replace"))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body=body, **kw)


# --- PDFs made by the tests --------------------------------------------------------------------

def _objects_to_pdf(objects):
    """Serialises numbered objects into a PDF; the xref is rebuilt by qpdf afterwards."""
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def make_pdf(pages=1, signature_field=None, size=(595, 842), filler_bytes=0):
    """A real PDF with `pages` A4 pages and, optionally, an empty signature field on page 0
    named `signature_field`; `filler_bytes` of comments in page 1's content make it larger.
    Checked by `qpdf --check`."""
    w, h = size
    objects = []
    # 1 catalog, 2 pages, then per page: page + content
    kids = []
    page_objs = []
    first_page = 3
    n_fixed = 2
    field_obj = n_fixed + 2 * pages + 1 if signature_field else None
    for p in range(pages):
        page_no = first_page + 2 * p
        kids.append(f"{page_no} 0 R")
        annots = f" /Annots [{field_obj} 0 R]" if signature_field and p == 0 else ""
        page_objs.append((
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Contents {page_no + 1} 0 R"
            f" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>{annots} >>").encode())
        text = f"BT /F1 24 Tf 72 {h - 100} Td (Firmo test page {p + 1}) Tj ET".encode()
        if p == 0 and filler_bytes:
            text += b"\n" + (b"% filler " + b"x" * 90 + b"\n") * (filler_bytes // 100)
        page_objs.append(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
    acro = f" /AcroForm << /Fields [{field_obj} 0 R] /SigFlags 0 >>" if signature_field else ""
    objects.append(f"<< /Type /Catalog /Pages 2 0 R{acro} >>".encode())
    objects.append(f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>".encode())
    objects.extend(page_objs)
    if signature_field:
        objects.append((f"<< /Type /Annot /Subtype /Widget /FT /Sig /T ({signature_field})"
                        f" /Rect [72 72 272 132] /F 4 /P {first_page} 0 R >>").encode())
    raw = _objects_to_pdf(objects)
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.pdf"), os.path.join(d, "out.pdf")
        with open(src, "wb") as f:
            f.write(raw)
        subprocess.run(["qpdf", "--stream-data=uncompress", src, dst], check=True, capture_output=True)
        subprocess.run(["qpdf", "--check", dst], check=True, capture_output=True)
        with open(dst, "rb") as f:
            return f.read()


def encrypt_pdf(pdf):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.pdf"), os.path.join(d, "out.pdf")
        with open(src, "wb") as f:
            f.write(pdf)
        subprocess.run(["qpdf", "--encrypt", "user", "owner", "256", "--", src, dst],
                       check=True, capture_output=True)
        with open(dst, "rb") as f:
            return f.read()


FISCAL_CODE = "RSSMRA80A01H501U"
FISCAL_CODE_2 = "RSSMRA85T10A562S"
NIN = "15076500565"

FIELD_BY_NAME = {"attrs": {"unique_name": "Signature1"},
                 "clause": {"title": "I accept the contract", "type": "REQUIRED"}}
FIELD_AT = {"attrs": {"page": 0, "coordinates": {"x": 300, "y": 600}, "size": {"w": 200, "h": 60}},
            "clause": {"title": "I consent to marketing", "type": "OPTIONAL"}}


# Where a signer of the direct flow (redirect_url) is sent back to.
REDIRECT = {"completion_url": "https://hr.example.org/done",
            "rejection_url": "https://hr.example.org/rejected",
            "error_url": "https://hr.example.org/error"}


def dossier_body(fields=(FIELD_BY_NAME, FIELD_AT), title="Employment contract"):
    return {"title": title,
            "documents_metadata": [{"title": "Contract", "signature_fields": list(fields)}]}


class FirmoTestCase(unittest.TestCase):
    """A fresh server per test class. Rate limiting is off unless a test turns it on."""

    server_args = ("--rate-limit-burst", "0", "--signer-calls-per-ip", "0",
                   "--signer-calls-per-request", "0", "--signer-sessions-per-ip", "0")

    @classmethod
    def setUpClass(cls):
        cls.firmo = Firmo(extra_args=cls.server_args).start()

    @classmethod
    def tearDownClass(cls):
        cls.firmo.cleanup()

    # Helpers that walk the common steps and assert each one.
    def create_dossier(self, body=None, key=None):
        r = self.firmo.post("/api/v1/dossiers", body or dossier_body(), key=key)
        self.assertEqual(r.status, 201, r)
        return r.json

    def create_signer(self, fiscal_code=FISCAL_CODE, key=None):
        r = self.firmo.post("/api/v1/signers", {"fiscal_code": fiscal_code}, key=key)
        self.assertIn(r.status, (200, 201), r)
        return r.json["id"]

    def create_request(self, dossier_id=None, signer_id=None, key=None, **extra):
        dossier_id = dossier_id or self.create_dossier(key=key)["id"]
        signer_id = signer_id or self.create_signer(key=key)
        r = self.firmo.post("/api/v1/signature-requests",
                            {"dossier_id": dossier_id, "signer_id": signer_id, **extra}, key=key)
        self.assertEqual(r.status, 201, r)
        return r.json

    def upload(self, request, pdf, doc_index=0, key=None):
        doc_id = request["documents"][doc_index]["id"]
        r = self.firmo.get(f"/api/v1/signature-requests/{request['id']}/documents/{doc_id}/upload_url", key=key)
        self.assertEqual(r.status, 200, r)
        url = r.json
        self.assertIsInstance(url, str)
        return self.firmo.request("PUT", url, raw=pdf, content_type="application/pdf", key=False)

    def wait_document(self, request_id, doc_index=0, key=None, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.firmo.get(f"/api/v1/signature-requests/{request_id}", key=key)
            self.assertEqual(r.status, 200, r)
            doc = r.json["documents"][doc_index]
            if doc["status"] in ("READY", "REJECTED"):
                return doc
            time.sleep(0.05)
        self.fail("document validation did not finish")

    def ready_request(self, reference, email="mario@example.org"):
        """A READY request of one document with one named field, for one signer (the direct
        flow: its redirect_url)."""
        dossier = self.create_dossier(dossier_body(fields=[FIELD_BY_NAME],
                                                   title="Contratto " + reference))["id"]
        r = self.firmo.post("/api/v1/signers", {"fiscal_code": FISCAL_CODE, "email": email})
        self.assertIn(r.status, (200, 201), r)
        created = self.create_request(dossier, r.json["id"], reference=reference,
                                      redirect=REDIRECT)
        self.assertEqual(self.upload(created, make_pdf(signature_field="Signature1")).status, 202)
        self.assertEqual(self.wait_document(created["id"])["status"], "READY")
        self.make_ready(created["id"])
        return created

    def make_ready(self, request_id):
        r = self.firmo.put(f"/api/v1/signature-requests/{request_id}/status", "READY")
        self.assertIn(r.status, (200, 204), r)

    def sign_through_signer_api(self, created, accepted=((0, 0),), timeout=30):
        """The first signer signs through the JSON signer API: a session from the redirect
        token, the acceptance of `accepted` (document, field) pairs, the confirmation code from
        the server's log; then waits for SIGNED (a FAILED request fails the test with its last
        events)."""
        rid = created["id"]
        token = created["signers"][0]["redirect_url"].rsplit("/", 1)[-1]
        s = self.firmo.post("/api/v1/signer/sessions", {"redirect_token": token}, key=False)
        self.assertEqual(s.status, 201, s)
        auth = {"Authorization": "Bearer " + s.json["session_token"]}
        base = f"/api/v1/signer/signature-requests/{rid}"
        a = self.firmo.post(base + "/acceptance",
                            {"accepted": [{"document_index": d, "field_index": f}
                                          for d, f in accepted]},
                            key=False, headers=auth)
        self.assertEqual(a.status, 200, a)
        log = self.firmo.wait_for_log("purpose=confirm")
        code = re.findall(r"purpose=confirm code=(\d{6})", log)[-1]
        c = self.firmo.post(base + "/confirmation", {"code": code}, key=False, headers=auth)
        self.assertIn(c.status, (200, 202), c)
        status = None
        deadline = time.time() + timeout
        while time.time() < deadline:
            status = self.firmo.get(f"/api/v1/signature-requests/{rid}").json["status"]
            if status in ("SIGNED", "FAILED"):
                break
            time.sleep(0.2)
        self.assertEqual(status, "SIGNED", [
            (e["type"], e.get("detail", "")) for e in
            self.firmo.get(f"/api/v1/signature-requests/{rid}/events").json["items"]][-4:])

    def assertProblem(self, r, status, type_slug):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("Content-Type"), "application/problem+json", r)
        self.assertEqual(r.json["type"], "urn:firmo:problem:" + type_slug, r)
        self.assertEqual(r.json["status"], status)
        self.assertTrue(r.json.get("detail"), r)
        return r.json
