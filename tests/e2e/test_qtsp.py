"""signing.provider = "csc": the configuration a node refuses, and GET /qtsp/callback.

The full flow (confirm -> the QTSP's page -> back -> SIGNED) needs the QTSP continuation in the
signing pipeline; until it is wired, these tests pin what the node does on its own: the keys it
requires, the callback's refusals, and that secrets stay out of the log."""

import unittest

from harness import Firmo, FirmoTestCase

CSC_ENV = {
    "FIRMO_SIGNING_PROVIDER": "csc",
    "FIRMO_CSC_URL": "http://127.0.0.1:9/csc/v2",
    "FIRMO_CSC_OAUTH_URL": "http://127.0.0.1:9",
    "FIRMO_CSC_CLIENT_ID": "firmo",
    "FIRMO_CSC_CLIENT_SECRET": "csc-secret-never-logged",
}


class QtspConfiguration(unittest.TestCase):
    def test_csc_without_url_client_and_secret_does_not_start(self):
        firmo = Firmo(env={"FIRMO_SIGNING_PROVIDER": "csc"})
        try:
            with self.assertRaises(RuntimeError) as failed:
                firmo.start()
            self.assertIn("needs csc.url (FIRMO_CSC_URL), csc.client_id (FIRMO_CSC_CLIENT_ID), "
                          "csc.client_secret (FIRMO_CSC_CLIENT_SECRET)", str(failed.exception))
        finally:
            firmo.cleanup()


class QtspCallback(FirmoTestCase):
    @classmethod
    def setUpClass(cls):
        cls.firmo = Firmo(extra_args=cls.server_args, env=CSC_ENV).start()

    def test_unknown_state_is_not_found(self):
        r = self.firmo.get("/qtsp/callback?state=not-ours&code=abc")
        self.assertProblem(r, 404, "not-found")

    def test_missing_state_or_code_is_refused(self):
        self.assertProblem(self.firmo.get("/qtsp/callback?code=abc"), 422, "validation-error")
        self.assertProblem(self.firmo.get("/qtsp/callback"), 422, "validation-error")

    def test_the_node_says_it_signs_through_the_qtsp_and_hides_the_secret(self):
        log = self.firmo.wait_for_log("qtsp_enabled")
        self.assertNotIn("csc-secret-never-logged", log)


class NoQtspByDefault(FirmoTestCase):
    def test_the_callback_does_not_exist_with_the_builtin_provider(self):
        r = self.firmo.get("/qtsp/callback?state=x&code=y")
        self.assertEqual(r.status, 404, r)


if __name__ == "__main__":
    unittest.main()
