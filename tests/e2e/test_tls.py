"""HTTPS served by `firmo serve` itself (--tls-cert-file / --tls-key-file): curl with the test CA,
links and cookies that follow the https:// scheme, plain HTTP refused, certificate reload on
SIGHUP, clear startup errors. The certificates are made by the openssl command line; a missing
openssl or curl fails these tests (scripts/install-deps.sh installs both)."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import FIRMO_BIN, Firmo, FirmoTestCase


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


class TestCa:
    """A root CA in `folder` that issues server certificates for 127.0.0.1."""

    def __init__(self, folder):
        for tool in ("openssl", "curl"):
            if shutil.which(tool) is None:
                raise AssertionError(f"{tool} is not installed (scripts/install-deps.sh)")
        self.folder = folder
        self.cert = self.path("ca.pem")
        with open(self.path("ca.cnf"), "w") as f:
            f.write("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n"
                    "[ca_ext]\nbasicConstraints = critical,CA:TRUE\n"
                    "keyUsage = critical,keyCertSign,cRLSign\n")
        run("openssl", "req", "-x509", "-config", self.path("ca.cnf"), "-extensions", "ca_ext",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
            "-subj", "/CN=Firmo e2e CA", "-keyout", self.path("ca.key"), "-out", self.cert)

    def path(self, name):
        return os.path.join(self.folder, name)

    def issue(self, name, san="IP:127.0.0.1"):
        """(certificate file, key file) for CN=name."""
        with open(self.path(name + ".ext"), "w") as f:
            f.write("basicConstraints = critical,CA:FALSE\nextendedKeyUsage = serverAuth\n"
                    f"subjectAltName = {san}\n")
        run("openssl", "req", "-new", "-config", self.path("ca.cnf"), "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
            "-keyout", self.path(name + ".key"), "-out", self.path(name + ".csr"))
        run("openssl", "x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.cert,
            "-CAkey", self.path("ca.key"), "-CAcreateserial", "-days", "30",
            "-extfile", self.path(name + ".ext"), "-out", self.path(name + ".pem"))
        os.chmod(self.path(name + ".key"), 0o600)
        return self.path(name + ".pem"), self.path(name + ".key")

    def context(self):
        return ssl.create_default_context(cafile=self.cert)


def peer_common_name(port, context):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            subject = dict(pair[0] for pair in tls.getpeercert()["subject"])
            return subject["commonName"]


def closed_unanswered(sock, seconds=5):
    """True when the server closes (or resets) without sending an HTTP answer."""
    sock.settimeout(seconds)
    received = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        return False
    return b"HTTP/" not in received


class Https(FirmoTestCase):
    """One server with --tls-cert-file/--tls-key-file for the class; the files are copies that
    the reload test replaces."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="firmo-e2e-tls-")
        cls.ca = TestCa(cls.folder)
        cert, key = cls.ca.issue("firmo-a")
        cls.cert, cls.key = cls.ca.path("live.pem"), cls.ca.path("live.key")
        shutil.copy(cert, cls.cert)
        shutil.copy(key, cls.key)
        cls.firmo = Firmo(extra_args=("--rate-limit-burst", "0", "--read-timeout", "2",
                                      "--tls-cert-file", cls.cert, "--tls-key-file", cls.key),
                          ssl_context=cls.ca.context()).start()

    @classmethod
    def tearDownClass(cls):
        cls.firmo.cleanup()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_curl_gets_healthz_with_the_ca(self):
        self.assertTrue(self.firmo.url.startswith("https://127.0.0.1:"), self.firmo.url)
        out = subprocess.run(["curl", "--silent", "--show-error", "--fail", "--cacert",
                              self.ca.cert, self.firmo.url + "/healthz"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), '{"status":"ok"}')
        # Without the CA, curl does not trust the server.
        untrusted = subprocess.run(["curl", "--silent", self.firmo.url + "/healthz"],
                                   capture_output=True, timeout=30)
        self.assertEqual(untrusted.returncode, 60)

    def test_links_and_cookies_follow_https(self):
        request = self.create_request()
        doc_id = request["documents"][0]["id"]
        r = self.firmo.get(f"/api/v1/signature-requests/{request['id']}/documents/{doc_id}/upload_url")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json.startswith(self.firmo.url + "/api/v1/uploads/"), r.json)
        login = self.firmo.get("/login", key=False)
        cookie = login.header("Set-Cookie")
        self.assertIsNotNone(cookie, login)
        self.assertIn("; Secure", cookie)

    def test_plain_http_is_closed_unanswered(self):
        with socket.create_connection((self.firmo.host, self.firmo.port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            self.assertTrue(closed_unanswered(s))
        self.assertEqual(self.firmo.get("/healthz", key=False).json, {"status": "ok"})

    def test_silent_client_is_cut_off_after_the_read_timeout(self):
        with socket.create_connection((self.firmo.host, self.firmo.port), timeout=5) as s:
            self.assertTrue(closed_unanswered(s, seconds=6))

    def test_startup_log_names_the_certificate(self):
        log = self.firmo.log()
        self.assertIn("tls_enabled", log)
        self.assertIn("CN=firmo-a", log)
        self.assertIn("not_after", log)

    def test_sighup_reloads_the_certificate(self):
        self.assertIn(peer_common_name(self.firmo.port, self.ca.context()), ("firmo-a", "firmo-b"))
        cert, key = self.ca.issue("firmo-b")
        shutil.copy(cert, self.cert)
        shutil.copy(key, self.key)
        self.firmo.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        seen = None
        while time.time() < deadline and seen != "firmo-b":
            time.sleep(0.1)
            seen = peer_common_name(self.firmo.port, self.ca.context())
        self.assertEqual(seen, "firmo-b")
        self.assertIsNone(self.firmo.proc.poll())
        self.assertIn("tls_reloaded", self.firmo.log())
        self.assertEqual(self.firmo.get("/healthz", key=False).json, {"status": "ok"})


class HttpsStartup(unittest.TestCase):
    """Configurations that must stop `firmo serve` with a clear message, and a clean stop."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="firmo-e2e-tls-")
        cls.ca = TestCa(cls.folder)
        cls.a = cls.ca.issue("firmo-a")
        cls.b = cls.ca.issue("firmo-b")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def serve(self, *args):
        data = tempfile.mkdtemp(prefix="firmo-e2e-tls-data-", dir=self.folder)
        return subprocess.run([FIRMO_BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
                               *args], capture_output=True, text=True, timeout=60)

    def test_mismatched_key_stops_startup(self):
        r = self.serve("--tls-cert-file", self.a[0], "--tls-key-file", self.b[1])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("does not match the certificate in " + self.a[0], r.stderr)

    def test_missing_file_stops_startup(self):
        missing = self.ca.path("missing.pem")
        r = self.serve("--tls-cert-file", missing, "--tls-key-file", self.a[1])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"TLS certificate file {missing}: No such file or directory", r.stderr)

    def test_world_readable_key_stops_startup(self):
        key = self.ca.path("world.key")
        shutil.copy(self.a[1], key)
        os.chmod(key, 0o644)
        r = self.serve("--tls-cert-file", self.a[0], "--tls-key-file", key)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("other users can read it", r.stderr)

    def test_one_file_without_the_other_is_a_config_error(self):
        r = self.serve("--tls-cert-file", self.a[0])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("server.tls_key_file is missing", r.stderr)

    def test_sigterm_with_an_open_tls_connection_exits_cleanly(self):
        firmo = Firmo(extra_args=("--tls-cert-file", self.a[0], "--tls-key-file", self.a[1]),
                      ssl_context=self.ca.context()).start()
        try:
            raw = socket.create_connection((firmo.host, firmo.port), timeout=5)
            tls = self.ca.context().wrap_socket(raw, server_hostname="127.0.0.1")
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            self.assertTrue(tls.recv(4096).startswith(b"HTTP/1.1 200"))
            started = time.time()
            self.assertEqual(firmo.stop(signal.SIGTERM), 0, firmo.log())
            self.assertLess(time.time() - started, 10)  # the idle connection did not hold it up
            tls.close()
        finally:
            firmo.cleanup()


if __name__ == "__main__":
    unittest.main()
