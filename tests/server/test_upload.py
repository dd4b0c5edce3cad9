#!/usr/bin/python3
"""The site's upload (issue 17): the trial's de-identification key as
the server hands it out (to the trial's site members and admin only, the
same key every time, audited, never exported), and `readroom-cli upload`
killed with SIGKILL in the middle and run again: the server holds each
instance once and the journal lists every file as sent."""
import base64
import json
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

    # ---- readroom-cli upload ----

    def upload_env(self, **extra):
        home = os.path.join(self.tmp, "home")
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(home, "data"),
                   XDG_CACHE_HOME=os.path.join(home, "cache"), READROOM_NO_KEYRING="1",
                   READROOM_PASSWORD=password_of("usite1"))
        env.update(extra)
        return env

    def upload_args(self, src):
        return [CLI, "upload", src, "--server", "http://127.0.0.1:%d" % self.server.port,
                "--user", "usite1", "--trial", "U1", "--subject", "P7", "--timepoint", "Baseline",
                "--day", "0", "--offline-timeout", "60"]

    def journal(self, staging):
        with open(os.path.join(staging, "journal")) as f:
            return [line.split(" ") for line in f.read().splitlines()]

    def uploaded(self):
        """The server's upload events: SOP Instance UID -> how many times."""
        counts = {}
        for e in self.audit("instance.upload"):
            counts[e["object"]] = counts.get(e["object"], 0) + 1
        return counts

    def test_2_upload_killed_with_sigkill_resumes_sending_nothing_twice(self):
        src = os.path.join(self.tmp, "P7")
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "8", "--size", "32",
                        "--seed", "7"], check=True, capture_output=True)
        staging = os.path.join(self.tmp, "home", "cache", "readroom", "upload", "U1", "P7",
                               "Baseline")
        # Paused after the third file, and killed there.
        proc = subprocess.Popen(self.upload_args(src), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True,
                                env=self.upload_env(READROOM_TEST_UPLOAD_PAUSE_AFTER="3",
                                                    READROOM_TEST_UPLOAD_PAUSE_S="120"))
        try:
            seen = []
            for line in proc.stderr:
                seen.append(line)
                if "READROOM_TEST_UPLOAD_PAUSE_S: pausing" in line:
                    break
            self.assertTrue(seen and "pausing" in seen[-1], "".join(seen))
            self.assertIn("upload: 3/8 files", "".join(seen))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
        self.assertEqual(len(self.journal(staging)), 3)
        self.assertEqual(len(self.uploaded()), 3)

        # The rerun sends the other five, once each.
        r = subprocess.run(self.upload_args(src), env=self.upload_env(), capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("sent: 5 files this time, 8 of 8 in all", r.stdout)
        staged = sorted(n for n in os.listdir(staging) if n.endswith(".dcm"))
        self.assertEqual(len(staged), 8)
        # What was sent is the de-identified copy: the phantom's name is
        # gone and the subject ID took its place.
        for name in staged:
            with open(os.path.join(staging, name), "rb") as f:
                data = f.read()
            self.assertNotIn(b"Phantom^Synthetic", data)
            self.assertIn(b"P7", data)
        journal = self.journal(staging)
        self.assertEqual(sorted(name for name, _ in journal), staged)
        # One study, which a site may not link itself (server-api.md).
        studies = {study for _, study in journal}
        self.assertEqual(len(studies), 1)
        self.assertIn("study: %s\n" % studies.pop(), r.stdout)
        self.assertIn("not linked", r.stdout)
        # Each file's SOP Instance UID (its name) was uploaded exactly once,
        # and Orthanc holds exactly these eight instances.
        self.assertEqual(self.uploaded(), {n[:-len(".dcm")]: 1 for n in staged})
        status, stats = self.req("GET", "/statistics", "admin")
        self.assertEqual(status, 200, stats)
        self.assertEqual(stats["CountInstances"], 8)

        # A third run has nothing left to send.
        r = subprocess.run(self.upload_args(src), env=self.upload_env(), capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("sent: 0 files this time, 8 of 8 in all", r.stdout)
        self.assertEqual(sum(self.uploaded().values()), 8)

    # ---- the server refuses what is not de-identified ----

    def test_3_identifying_files_are_refused_with_phi_present(self):
        import io
        import pydicom
        src = os.path.join(self.tmp, "P9")
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "1", "--size", "32",
                        "--seed", "9"], check=True, capture_output=True)
        path = os.path.join(src, sorted(os.listdir(src))[0])

        def variant(change):
            ds = pydicom.dcmread(path)
            change(ds)
            out = io.BytesIO()
            ds.save_as(out, write_like_original=False)
            return out.getvalue()

        def identity_kept(ds):
            ds.PatientIdentityRemoved = "NO"

        def no_flag(ds):
            del ds.PatientIdentityRemoved

        def private_left(ds):
            block = ds.private_block(0x0009, "ACME 1.0", create=True)
            block.add_new(0x01, "LO", "MRN 12345")

        def private_in_a_sequence(ds):
            item = pydicom.Dataset()
            item.CodeValue = "1"
            item.add_new(0x00190010, "LO", "ACME 1.0")
            item.add_new(0x00191001, "LO", "MRN 12345")
            ds.ReferencedImageSequence = pydicom.Sequence([item])

        status, before = self.req("GET", "/statistics", "admin")
        cases = [(identity_kept, ["0012,0062"]), (no_flag, ["0012,0062"]),
                 (private_left, ["0009,0010", "0009,1001"]),
                 (private_in_a_sequence, ["0019,0010", "0019,1001"])]
        for change, expected in cases:
            for who in ("usite1", "admin"):
                status, headers, body = self.server.request(
                    "POST", "/readroom/v1/instances", variant(change), token=self.tokens[who],
                    headers={"X-Readroom-Trial": "U1", "Content-Type": "application/dicom"},
                    raw=True)
                doc = json.loads(body)
                self.assertEqual(status, 422, (change.__name__, who, doc))
                self.assertEqual(doc["error"]["code"], "phi_present")
                self.assertEqual(sorted(doc["error"]["details"]), expected, change.__name__)
                self.assertNotIn(b"MRN 12345", body)
        # Nothing of them was stored, and no upload was recorded.
        status, after = self.req("GET", "/statistics", "admin")
        self.assertEqual(after["CountInstances"], before["CountInstances"])
        self.assertEqual(sum(self.uploaded().values()), 8)
        # The phantom as it is (Patient Identity Removed YES, nothing
        # private) is taken.
        with open(path, "rb") as f:
            status, doc = self.req("POST", "/readroom/v1/instances", "usite1", f.read())
        self.assertEqual(status, 201, doc)

    def test_4_dropped_connections_and_server_errors_are_retried(self):
        from faultproxy import FaultProxy, Rule
        src = os.path.join(self.tmp, "P8")
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "4", "--size", "32",
                        "--seed", "8"], check=True, capture_output=True)
        proxy = FaultProxy(self.server.port)
        proxy.start()
        self.addCleanup(proxy.stop)
        # The first upload's connection is reset, the next two get 503.
        proxy.add(Rule("POST", r"/instances$", reset=True, times=1))
        proxy.add(Rule("POST", r"/instances$", status=503, times=2))
        args = self.upload_args(src)
        args[args.index("--server") + 1] = proxy.url
        args[args.index("--subject") + 1] = "P8"
        r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("sent: 4 files this time, 4 of 4 in all", r.stdout)
        posts = [e["status"] for e in proxy.requests(r"/instances$", "POST")]
        self.assertEqual(posts, ["reset", 503, 503, 201, 201, 201, 201])
        staging = os.path.join(self.tmp, "home", "cache", "readroom", "upload", "U1", "P8",
                               "Baseline")
        staged = sorted(n[:-len(".dcm")] for n in os.listdir(staging) if n.endswith(".dcm"))
        uploaded = self.uploaded()
        self.assertEqual([uploaded.get(sop) for sop in staged], [1, 1, 1, 1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
