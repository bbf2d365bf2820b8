"""Posten signering's lifecycle features on the real binary (issue 18): the non-sensitive title,
deadline changes by PATCH and the signature_request.updated event."""

import datetime
import unittest

from harness import FirmoTestCase, dossier_body


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_hours(hours):
    return rfc3339(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours))


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


if __name__ == "__main__":
    unittest.main()
