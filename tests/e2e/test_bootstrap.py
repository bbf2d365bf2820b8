"""Nodes that start together on an empty shared data folder (and one database): one creates
the built-in CA and the first issuer, the others use them, and every node comes up."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import FIRMO_BIN, Firmo, database_args


class SharedDataFolder(unittest.TestCase):
    NODES = 3

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="firmo-e2e-shared-")
        self.nodes = []

    def tearDown(self):
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def test_nodes_starting_together_share_one_ca_and_one_first_issuer(self):
        database_args(self.data)  # on PostgreSQL: one database for every node, made first
        self.nodes = [Firmo(data_dir=self.data, extra_args=("--rate-limit-burst", "0"))
                      for _ in range(self.NODES)]
        for node in self.nodes:  # all started before any is waited for
            node.spawn()
        for node in self.nodes:
            node.wait_ready(timeout=60)

        keys = [node.api_key for node in self.nodes if node.api_key]
        self.assertEqual(len(keys), 1, [node.stdout_lines for node in self.nodes])
        for node in self.nodes:
            self.assertEqual(node.get("/healthz", key=False).status, 200)
            self.assertEqual(node.get("/api/v1/dossiers", key=keys[0]).status, 200)

        # One CA, whole, and nothing left of the nodes that lost the race to create it.
        self.assertEqual(sorted(os.listdir(os.path.join(self.data, "ca"))),
                         ["ca-cert.pem", "ca-key.pem"])
        self.assertEqual([n for n in os.listdir(self.data) if n.startswith(".ca-new-")], [])
        with open(os.path.join(self.data, "server.log"), errors="replace") as f:
            log = f.read()
        self.assertEqual(log.count("event=ca_created"), 1, log[-4000:])
        cert = subprocess.run([FIRMO_BIN, "ca", "cert", "--data-dir", self.data],
                              capture_output=True, text=True, check=True).stdout
        with open(os.path.join(self.data, "ca", "ca-cert.pem")) as f:
            self.assertEqual(cert, f.read())


if __name__ == "__main__":
    unittest.main()
