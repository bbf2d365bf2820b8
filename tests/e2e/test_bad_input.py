"""Bad input gets a precise problem+json with a stable type, changes nothing, and never
takes the server down (no 5xx for anything a client sends)."""

import json
import random
import socket
import unittest

from harness import FIELD_BY_NAME, FirmoTestCase, dossier_body, make_pdf


class BadInput(FirmoTestCase):

    def test_authentication(self):
        self.assertProblem(self.firmo.get("/api/v1/dossiers", key=False), 401, "unauthenticated")
        r = self.firmo.get("/api/v1/dossiers", key="firmo_" + "A" * 43)
        self.assertProblem(r, 401, "unauthenticated")
        self.assertIn("X-Api-Key", r.header("WWW-Authenticate"))
        self.assertProblem(self.firmo.get("/api/v1/dossiers", key="not-a-key"), 401, "unauthenticated")

    def test_malformed_and_mistyped_bodies(self):
        r = self.firmo.request("POST", "/api/v1/dossiers", raw=b'{"title": "x",', content_type="application/json")
        self.assertProblem(r, 400, "malformed-request")
        self.assertIn("byte", r.json["detail"])
        r = self.firmo.request("POST", "/api/v1/dossiers", raw=b"title=x", content_type="application/x-www-form-urlencoded")
        self.assertProblem(r, 415, "unsupported-media-type")
        r = self.firmo.request("POST", "/api/v1/dossiers", raw=b"{}", content_type=None)
        self.assertProblem(r, 415, "unsupported-media-type")
        self.assertProblem(self.firmo.post("/api/v1/dossiers", [1, 2]), 422, "validation-error")
        self.assertProblem(self.firmo.post("/api/v1/dossiers", "x"), 422, "validation-error")
        r = self.firmo.request("POST", "/api/v1/dossiers", raw=b'{"title": "\xff\xfe"}', content_type="application/json")
        self.assertProblem(r, 400, "malformed-request")
        # Media types are case-insensitive (RFC 9110).
        r = self.firmo.request("POST", "/api/v1/signers", raw=b'{"fiscal_code": "RSSMRA80A01H501U"}',
                               content_type="Application/JSON ; charset=UTF-8")
        self.assertIn(r.status, (200, 201), r)
        problem = self.assertProblem(self.firmo.post("/api/v1/dossiers", [1]), 422, "validation-error")
        self.assertEqual(problem["violations"][0]["field"], "body")

    def test_dossier_violations_name_each_field(self):
        body = {"title": "ab", "support_email": "nope", "documents_metadata": [
            {"title": "Contract", "signature_fields": [
                {"attrs": {"unique_name": "S"}, "clause": {"title": "I accept", "type": "MAYBE"}},
                {"attrs": {"page": -1, "coordinates": {"x": 1, "y": 1}, "size": {"w": 0, "h": 5}},
                 "clause": {"title": "Short", "type": "OPTIONAL"}},
            ]}]}
        problem = self.assertProblem(self.firmo.post("/api/v1/dossiers", body), 422, "validation-error")
        fields = [v["field"] for v in problem["violations"]]
        self.assertIn("documents_metadata[0].signature_fields[0].clause.type", fields)
        # Parsing stops type errors first; fix the type and the range checks speak.
        body["documents_metadata"][0]["signature_fields"][0]["clause"]["type"] = "OPTIONAL"
        problem = self.assertProblem(self.firmo.post("/api/v1/dossiers", body), 422, "validation-error")
        fields = [v["field"] for v in problem["violations"]]
        for f in ["title", "support_email", "documents_metadata[0].signature_fields[1].attrs.page",
                  "documents_metadata[0].signature_fields[1].attrs.size.w",
                  "documents_metadata[0].signature_fields"]:
            self.assertIn(f, fields)
        cases = [
            ({"title": "Fine title", "documents_metadata": []}, "documents_metadata"),
            ({"title": "Fine title", "documents_metadata": [{"title": "Doc", "signature_fields": []}] * 21}, "documents_metadata"),
            ({"title": "Fine title"}, "documents_metadata"),
            ({"title": "Fine title", "documents_metadata": [{"title": "Doc", "signature_fields": [{"attrs": {}, "clause": FIELD_BY_NAME["clause"]}]}]},
             "documents_metadata[0].signature_fields[0].attrs"),
            ({"title": "Fine title", "documents_metadata": [{"title": "x" * 61, "signature_fields": []}]}, "documents_metadata[0].title"),
            ({"title": "Fine title", "extra": 1, "documents_metadata": [{"title": "Doc", "signature_fields": []}]}, "extra"),
        ]
        for body, field in cases:
            with self.subTest(field=field):
                problem = self.assertProblem(self.firmo.post("/api/v1/dossiers", body), 422, "validation-error")
                self.assertIn(field, [v["field"] for v in problem["violations"]], problem)
        self.assertEqual(self.firmo.get("/api/v1/dossiers").json["items"], [])  # nothing was created

    def test_unknown_ids_are_404(self):
        fake = "01J00000000000000000000000"
        self.assertProblem(self.firmo.get(f"/api/v1/dossiers/{fake}"), 404, "not-found")
        self.assertProblem(self.firmo.get(f"/api/v1/signature-requests/{fake}"), 404, "not-found")
        self.assertProblem(self.firmo.get(f"/api/v1/signature-requests/{fake}/events"), 404, "not-found")
        self.assertProblem(self.firmo.get(f"/api/v1/signers/{fake}"), 404, "not-found")
        self.assertProblem(self.firmo.get(f"/api/v1/dossiers/{fake}/signature-requests"), 404, "not-found")
        self.assertProblem(self.firmo.put(f"/api/v1/signature-requests/{fake}/status", "READY"), 404, "not-found")
        request = self.create_request()
        self.assertProblem(self.firmo.get(f"/api/v1/signature-requests/{request['id']}/documents/{fake}/upload_url"),
                           404, "not-found")
        signer = self.create_signer()
        r = self.firmo.post("/api/v1/signature-requests", {"dossier_id": fake, "signer_id": signer})
        self.assertIn("dossier_id", self.assertProblem(r, 404, "not-found")["detail"])
        dossier = self.create_dossier()
        r = self.firmo.post("/api/v1/signature-requests", {"dossier_id": dossier["id"], "signer_id": fake})
        self.assertIn("signer_id", self.assertProblem(r, 404, "not-found")["detail"])
        self.assertProblem(self.firmo.get("/api/v1/nothing-here"), 404, "not-found")
        self.assertProblem(self.firmo.get("/api/v1/dossiers/a/b/c/d"), 404, "not-found")

    def test_wrong_method_is_405_with_allow(self):
        r = self.firmo.request("DELETE", "/api/v1/dossiers")
        self.assertProblem(r, 405, "method-not-allowed")
        self.assertEqual(set(r.header("Allow").split(", ")), {"POST", "GET"})

    def test_status_values(self):
        request = self.create_request()
        for body in ["SIGNED", "ready", 3, {"state": "READY"}, {"status": "CANCELLED", "x": 1}, None]:
            with self.subTest(body=body):
                raw = json.dumps(body).encode()
                r = self.firmo.request("PUT", f"/api/v1/signature-requests/{request['id']}/status", raw=raw)
                self.assertProblem(r, 422, "validation-error")
        self.assertEqual(self.firmo.get(f"/api/v1/signature-requests/{request['id']}").json["status"], "DRAFT")

    def test_upload_urls_are_capabilities(self):
        request = self.create_request()
        doc_id = request["documents"][0]["id"]
        url = self.firmo.get(f"/api/v1/signature-requests/{request['id']}/documents/{doc_id}/upload_url").json
        pdf = make_pdf(signature_field="Signature1")
        token = url.rsplit("/", 1)[1]
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        r = self.firmo.request("PUT", "/api/v1/uploads/" + forged, raw=pdf, content_type="application/pdf", key=False)
        self.assertProblem(r, 403, "forbidden")
        self.assertProblem(self.firmo.request("PUT", "/api/v1/uploads/garbage", raw=pdf,
                                              content_type="application/pdf", key=False), 403, "forbidden")
        r = self.firmo.request("PUT", url, raw=pdf, content_type="text/plain", key=False)
        self.assertProblem(r, 415, "unsupported-media-type")
        r = self.firmo.request("PUT", url, raw=b"", content_type="application/pdf", key=False)
        self.assertProblem(r, 422, "validation-error")
        # Nothing changed so far.
        got = self.firmo.get(f"/api/v1/signature-requests/{request['id']}").json
        self.assertEqual(got["documents"][0]["status"], "WAIT_FOR_UPLOAD")
        r = self.firmo.request("PUT", url, raw=pdf, content_type="application/pdf", key=False)
        self.assertEqual(r.status, 202, r)
        # Once the request is cancelled the same URL no longer works.
        self.firmo.put(f"/api/v1/signature-requests/{request['id']}/status", "CANCELLED")
        r = self.firmo.request("PUT", url, raw=pdf, content_type="application/pdf", key=False)
        self.assertProblem(r, 409, "conflict")

    def test_oversized_bodies_are_413(self):
        big = b'{"title": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        r = self.firmo.request("POST", "/api/v1/dossiers", raw=big)
        self.assertProblem(r, 413, "payload-too-large")
        request = self.create_request()
        doc_id = request["documents"][0]["id"]
        url = self.firmo.get(f"/api/v1/signature-requests/{request['id']}/documents/{doc_id}/upload_url").json
        huge = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024 + 1)
        r = self.firmo.request("PUT", url, raw=huge, content_type="application/pdf", key=False)
        self.assertProblem(r, 413, "payload-too-large")
        self.assertEqual(self.firmo.get(f"/api/v1/signature-requests/{request['id']}").json["documents"][0]["status"],
                         "WAIT_FOR_UPLOAD")

    def test_garbage_never_causes_5xx(self):
        rng = random.Random(7)
        paths = ["/api/v1/dossiers", "/api/v1/signers", "/api/v1/signature-requests"]
        samples = [b"", b"null", b"[]", b"{}", b'{"title":null}', b"1e400", b'"\\ud800"',
                   b'{"documents_metadata":[{"signature_fields":[{"attrs":{"page":1e300,"coordinates":{"x":-1e308,"y":"a"},"size":{"w":[],"h":{}}},"clause":{"title":"","type":""}}]}]}',
                   b'{"signers":[{"signer_id":null,"order":1.5}],"dossier_id":7}',
                   b'{"fiscal_code":"' + b"A" * 5000 + b'"}', b"[" * 5000 + b"]" * 5000]
        for _ in range(60):
            samples.append(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))))
        for path in paths:
            for body in samples:
                r = self.firmo.request("POST", path, raw=body)
                self.assertLess(r.status, 500, (path, body[:80], r))
                self.assertEqual(r.header("Content-Type"), "application/problem+json")
        self.assertEqual(self.firmo.get("/healthz").status, 200)

    def test_documented_members_are_accepted(self):
        # auto_notify is documented (API.md, openapi.yaml) and was once refused as "not a known field".
        _, key = self.firmo.new_issuer()  # other tests expect this issuer to have no dossier
        dossier = self.create_dossier(key=key)
        signer = self.create_signer(key=key)
        r = self.firmo.post("/api/v1/signature-requests",
                            {"dossier_id": dossier["id"], "signer_id": signer, "auto_notify": True}, key=key)
        self.assertEqual(r.status, 201, r)
        self.assertIs(r.json["auto_notify"], True)
        r = self.firmo.post("/api/v1/signature-requests",
                            {"dossier_id": dossier["id"], "signer_id": signer, "auto_notify": "yes"}, key=key)
        problem = self.assertProblem(r, 422, "validation-error")
        self.assertEqual(problem["violations"], [{"field": "auto_notify", "reason": "must be true or false"}])

    def test_unknown_query_parameters_are_422(self):
        _, key = self.firmo.new_issuer()
        request = self.create_request(key=key)
        for path, field in [("/api/v1/signature-requests?reference=X", "reference"),
                            ("/api/v1/signature-requests?status=DRAFT&staus=READY", "staus"),
                            ("/api/v1/dossiers?limit=5&limit=6", "limit"),
                            (f"/api/v1/dossiers/{request['dossier_id']}/signature-requests?page=2", "page"),
                            ("/api/v1/webhooks/deliveries?channel=sms", "channel"),
                            ("/api/v1/notifications/deliveries?channel=sms&x=1", "x"),
                            (f"/api/v1/signature-requests/{request['id']}?verbose=1", "verbose"),
                            ("/api/v1/webhooks?all", "all")]:
            with self.subTest(path=path):
                problem = self.assertProblem(self.firmo.get(path, key=key), 422, "validation-error")
                self.assertEqual([v["field"] for v in problem["violations"]], [field])
        # The parameters each list takes still work.
        r = self.firmo.get("/api/v1/signature-requests?status=DRAFT&limit=1&continuationToken=", key=key)
        self.assertProblem(r, 422, "validation-error")  # an empty token is not one we gave out
        r = self.firmo.get("/api/v1/signature-requests?status=DRAFT&limit=1", key=key)
        self.assertEqual([i["id"] for i in r.json["items"]], [request["id"]])
        r = self.firmo.get("/api/v1/notifications/deliveries?channel=sms&limit=2", key=key)
        self.assertEqual(r.status, 200, r)

    def test_server_errors_are_problems_of_the_error_table(self):
        # The key is checked from the headers first (401 without it), then the announced size.
        key = b"X-Api-Key: " + self.firmo.api_key.encode() + b"\r\n"
        for raw, status, slug, title in [
                (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n",
                 431, "headers-too-large", "Request Header Fields Too Large"),
                (b"POST /api/v1/dossiers HTTP/1.1\r\nHost: x\r\n" + key +
                 b"Content-Length: 99999999\r\n\r\n",
                 413, "payload-too-large", "Payload Too Large"),
                (b"POST /api/v1/dossiers HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 400, "malformed-request", "Bad Request")]:
            with self.subTest(status=status), socket.create_connection((self.firmo.host, self.firmo.port), timeout=5) as s:
                s.sendall(raw)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                self.assertEqual(int(head.split(b" ")[1]), status, head)
                self.assertIn(b"Content-Type: application/problem+json", head)
                problem = json.loads(body)
                self.assertEqual(problem["type"], "urn:firmo:problem:" + slug)
                self.assertEqual(problem["title"], title)
                self.assertEqual(problem["status"], status)

    def test_malformed_http_is_answered_or_closed(self):
        for raw in [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 20000 + b"\r\n\r\n",
                    b"POST /api/v1/dossiers HTTP/1.1\r\nContent-Length: -5\r\n\r\n"]:
            with socket.create_connection((self.firmo.host, self.firmo.port), timeout=5) as s:
                s.sendall(raw)
                data = s.recv(4096)
                if data:
                    status = int(data.split(b" ")[1])
                    self.assertTrue(400 <= status < 500, data[:200])
        self.assertEqual(self.firmo.get("/healthz").status, 200)


if __name__ == "__main__":
    unittest.main()
