"""Posten signering's lifecycle features on the real binary (issue 18): the non-sensitive title,
deadline changes by PATCH and the signature_request.updated event, signer links that follow the
deadline, the activation time, deleting a final request's documents."""

import datetime
import os
import time
import unittest
import urllib.parse

from harness import FirmoTestCase, dossier_body, make_pdf


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_hours(hours):
    return rfc3339(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours))


def in_seconds(seconds):
    return rfc3339(datetime.datetime.now(datetime.timezone.utc)
                   + datetime.timedelta(seconds=seconds))


def link_token(portal_url):
    return urllib.parse.urlparse(portal_url).path.rsplit("/", 1)[-1]


class PostenLifecycle(FirmoTestCase):

    def test_non_sensitive_title_on_dossier_and_request(self):
        body = dossier_body()
        body["non_sensitive_title"] = "Pratica 12"
        dossier = self.create_dossier(body)
        self.assertEqual(dossier["non_sensitive_title"], "Pratica 12")
        request = self.create_request(dossier["id"], self.create_signer(),
                                      non_sensitive_title="Documento")
        self.assertEqual(request["non_sensitive_title"], "Documento")
        body["non_sensitive_title"] = "x" * 81
        self.assertProblem(self.firmo.post("/api/v1/dossiers", body), 422, "validation-error")

    def test_patch_changes_the_deadline_of_a_live_request_only(self):
        request = self.create_request(self.create_dossier()["id"], self.create_signer())
        path = f"/api/v1/signature-requests/{request['id']}"
        later = in_hours(24 * 30)
        r = self.firmo.request("PATCH", path, {"expires_at": later})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["expires_at"][:19], later[:19])
        self.assertEqual(self.firmo.get(path).json["expires_at"], r.json["expires_at"])
        events = self.firmo.get(path + "/events").json["items"]
        self.assertIn("signature_request.updated", [e["type"] for e in events])

        self.assertProblem(self.firmo.request("PATCH", path, {"expires_at": in_hours(-1)}),
                           422, "validation-error")
        self.assertProblem(self.firmo.request("PATCH", path, {"expires_at": in_hours(24 * 91)}),
                           422, "validation-error")
        self.assertProblem(self.firmo.request("PATCH", path, {"expires_at": later, "x": 1}),
                           422, "validation-error")
        self.assertProblem(self.firmo.request("PATCH", path, {}), 422, "validation-error")

        self.assertEqual(self.firmo.put(path + "/status", "CANCELLED").status, 204)
        self.assertProblem(self.firmo.request("PATCH", path, {"expires_at": later}), 409, "conflict")
        self.assertProblem(self.firmo.request("PATCH", path + "X", {"expires_at": later}), 404,
                           "not-found")

    def test_signer_links_follow_the_deadline_after_a_change(self):
        # Links carry the deadline they were made with; the request's current one must rule.
        request = self.create_request(self.create_dossier()["id"], self.create_signer(),
                                      expires_at=in_seconds(3))
        path = f"/api/v1/signature-requests/{request['id']}"
        sent_first = request["signers"][0]["portal_url"]
        r = self.firmo.request("PATCH", path, {"expires_at": in_hours(1)})
        self.assertEqual(r.status, 200, r)
        sent_after_extension = r.json["signers"][0]["portal_url"]
        time.sleep(4)  # past the first deadline
        page = self.firmo.get(sent_first, key=False)
        self.assertEqual(page.status, 200, page)  # extended: still open

        r = self.firmo.request("PATCH", path, {"expires_at": in_seconds(2)})
        self.assertEqual(r.status, 200, r)
        time.sleep(3)  # past the shortened deadline
        for link in (sent_first, sent_after_extension):
            page = self.firmo.get(link, key=False)
            self.assertEqual(page.status, 410, page)  # shortened: closed
        page = self.firmo.get(sent_first + "?lang=en", key=False)
        self.assertIn("The deadline for signing has passed", page.body)

    def test_activation_time_holds_the_request_closed_until_then(self):
        dossier_id = self.create_dossier()["id"]
        signer_id = self.create_signer()
        for activates_at in (in_hours(-1), in_hours(48)):
            r = self.firmo.post("/api/v1/signature-requests",
                                {"dossier_id": dossier_id, "signer_id": signer_id,
                                 "expires_at": in_hours(24), "activates_at": activates_at})
            problem = self.assertProblem(r, 422, "validation-error")
            self.assertEqual(problem["violations"][0]["field"], "activates_at")

        opens = in_hours(2)
        request = self.create_request(dossier_id, signer_id, activates_at=opens)
        self.assertEqual(request["activates_at"][:19], opens[:19])
        link = request["signers"][0]["portal_url"]
        page = self.firmo.get(link + "?lang=en", key=False)
        self.assertEqual(page.status, 200, page)
        self.assertIn("Not open for signing yet", page.body)
        r = self.firmo.post("/api/v1/signer/codes", {"link_token": link_token(link)}, key=False)
        self.assertProblem(r, 409, "not-yet-active")

    def stored_files(self, request_id):
        """The files of the request in the data folder's blob store."""
        return [f for root, _, files in os.walk(self.firmo.data_dir) for f in files
                if request_id in root]

    def test_deleting_the_documents_of_a_final_request(self):
        request = self.create_request(self.create_dossier()["id"], self.create_signer())
        path = f"/api/v1/signature-requests/{request['id']}"
        self.assertEqual(self.upload(request, make_pdf(signature_field="Signature1")).status, 202)
        self.assertEqual(self.wait_document(request["id"])["status"], "READY")
        self.assertTrue(self.stored_files(request["id"]))
        self.assertProblem(self.firmo.request("DELETE", path + "/documents"), 409,
                           "request-not-final")

        self.assertEqual(self.firmo.put(path + "/status", "CANCELLED").status, 204)
        r = self.firmo.request("DELETE", path + "/documents")
        self.assertEqual(r.status, 200, r)
        self.assertIn("documents_deleted_at", r.json)
        self.assertTrue(r.json["documents"][0]["sha256"])  # the metadata stays
        self.assertEqual(self.stored_files(request["id"]), [])
        self.assertEqual(self.firmo.request("DELETE", path + "/documents").status, 200)
        events = [e["type"] for e in self.firmo.get(path + "/events").json["items"]]
        self.assertEqual(events.count("signature_request.documents_deleted"), 1)
        self.assertProblem(self.firmo.request("DELETE", path + "X/documents"), 404, "not-found")

    def test_named_polling_queues_and_posten_header(self):
        dossier_id = self.create_dossier()["id"]
        signer_id = self.create_signer()
        r = self.firmo.post("/api/v1/signature-requests",
                            {"dossier_id": dossier_id, "signer_id": signer_id,
                             "polling_queue": "bad name"})
        problem = self.assertProblem(r, 422, "validation-error")
        self.assertEqual(problem["violations"][0]["field"], "polling_queue")

        request = self.create_request(dossier_id, signer_id, polling_queue="hr.contracts-1")
        self.assertEqual(request["polling_queue"], "hr.contracts-1")
        path = f"/api/v1/signature-requests/{request['id']}"
        self.assertEqual(self.firmo.put(path + "/status", "CANCELLED").status, 204)

        polled = self.firmo.get("/api/v1/status-changes?polling_queue=hr.contracts-1")
        self.assertEqual(polled.status, 200, polled)
        self.assertEqual(polled.json["event"]["data"]["signature_request_id"], request["id"])
        self.assertTrue(polled.header("X-Next-permitted-poll-time"))
        self.assertEqual(polled.header("X-Next-permitted-poll-time"),
                         polled.header("X-Next-Permitted-Poll"))
        confirm = self.firmo.post(polled.json["confirm_url"], None)
        self.assertEqual(confirm.status, 204, confirm)
        while True:  # the default queue never holds the named queue's changes
            polled = self.firmo.get("/api/v1/status-changes")
            if polled.status == 429:
                break
            self.assertIn(polled.status, (200, 204), polled)
            self.assertTrue(polled.header("X-Next-permitted-poll-time"))
            if polled.status == 204:
                break
            self.assertNotEqual(polled.json["event"]["data"]["signature_request_id"],
                                request["id"])
        self.assertProblem(self.firmo.get("/api/v1/status-changes?polling_queue=a%20b"), 422,
                           "validation-error")


if __name__ == "__main__":
    unittest.main()
