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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dicom"))
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server, password_of  # noqa: E402

DEID = "/readroom/v1/trials/%s/deid"


class UploadSuite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-upload-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "data"))
        os.makedirs(cls.server.data)
        # Each store takes 50 ms longer: files sent in parallel meet in the
        # window between a new study's first store and its records.
        os.environ["READROOM_TEST_STORE_DELAY_MS"] = "50"
        try:
            cls.server.start()
        finally:
            del os.environ["READROOM_TEST_STORE_DELAY_MS"]
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

    def staging(self, subject, label="Baseline"):
        """The one staging folder of the subject's timepoint (keyed by the
        source files below it)."""
        base = os.path.join(self.tmp, "home", "cache", "readroom", "upload", "U1", subject, label)
        found = sorted(n for n in os.listdir(base) if n.startswith("src-"))
        self.assertEqual(len(found), 1, found)
        return os.path.join(base, found[0])

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
                        "--seed", "7", "--patient-name", "Phantom^Synthetic"], check=True,
                       capture_output=True)
        # Paused after the third file, and killed there (one file at a time,
        # so that exactly three are on the server; the rerun sends the rest
        # four at once).
        proc = subprocess.Popen(self.upload_args(src) + ["--parallel", "1"],
                                stdout=subprocess.DEVNULL,
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
        staging = self.staging("P7")
        self.assertEqual(len(self.journal(staging)), 3)
        self.assertEqual(len(self.uploaded()), 3)

        # The rerun sends the other five, once each.
        r = subprocess.run(self.upload_args(src), env=self.upload_env(), capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("sent: 5 files this time, 8 of 8 in all", r.stdout)
        # The same folder again: the same staging folder, resumed.
        self.assertEqual(self.staging("P7"), staging)
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

    def post_file(self, data, who="usite1"):
        status, headers, body = self.server.request(
            "POST", "/readroom/v1/instances", data, token=self.tokens[who],
            headers={"X-Readroom-Trial": "U1", "Content-Type": "application/dicom"}, raw=True)
        return status, json.loads(body), body

    def test_5_every_attribute_the_profile_takes_out_is_named(self):
        """A file that claims to be de-identified (Patient Identity Removed
        YES, every option declared) but still holds the planted values of
        test_deid is refused, naming the attributes of Table E.1-1 that
        hold them, in sequences too; the same files after `deid` are taken;
        and one value put back into a de-identified file is named alone."""
        import io
        import pydicom
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence
        from test_deid import IN_SEQUENCES, PLANTED, PRIVATE, plant
        src = os.path.join(self.tmp, "P5")
        raw = os.path.join(self.tmp, "P5-raw")
        os.makedirs(raw)
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "2", "--size", "32",
                        "--seed", "5"], check=True, capture_output=True)

        def declare(ds, codes=("113100", "113105", "113107", "113108")):
            items = []
            for c in codes:
                item = Dataset()
                item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = c, "DCM", c
                items.append(item)
            ds.DeidentificationMethodCodeSequence = Sequence(items)

        def encode(ds):
            out = io.BytesIO()
            ds.save_as(out, write_like_original=False)
            return out.getvalue()

        prev = None
        for name in sorted(os.listdir(src)):
            ds = pydicom.dcmread(os.path.join(src, name))
            plant(ds, prev, ds.StudyInstanceUID)
            prev = ds.SOPInstanceUID
            ds.PatientIdentityRemoved = "YES"
            declare(ds)
            ds.save_as(os.path.join(raw, name))
        # Attributes of the planted file whose Basic Profile action is X, Z
        # or X/Z (or D with a value that is no dummy), and that none of the
        # three options keeps: from PS3.15 Table E.1-1 by hand.
        expected = {
            "0010,0010",  # Patient's Name, not the Patient ID
            "0010,0030",  # Patient's Birth Date: Z (no option keeps it)
            "0010,1040",  # Patient's Address: X
            "0010,2154",  # Patient's Telephone Numbers: X
            "0010,1000",  # Other Patient IDs: X
            "0010,1002",  # Other Patient IDs Sequence: X, a sequence with items
            "0008,0050",  # Accession Number: Z
            "0020,0010",  # Study ID: Z
            "0008,0080",  # Institution Name: X/Z/D, not a dummy
            "0008,0081",  # Institution Address: X
            "0008,0082",  # Institution Code Sequence: D, its code is no dummy
            "0008,0090",  # Referring Physician's Name: Z
            "0008,1010",  # Station Name: X/Z/D
            "0008,1070",  # Operators' Name: X/Z/D
            "0018,1000",  # Device Serial Number: X/Z/D
            "0008,1120",  # Referenced Patient Sequence: X
            "0040,0275",  # Request Attributes Sequence: X
            "0040,a730",  # Content Sequence: X
            "0012,0030",  # Clinical Trial Site ID: group 0012 is removed
            "0029,0010", "0029,1001", "0029,1002",  # private
        }
        before = self.req("GET", "/statistics", "admin")[1]["CountInstances"]
        for name in sorted(os.listdir(raw)):
            with open(os.path.join(raw, name), "rb") as f:
                data = f.read()
            for who in ("usite1", "admin"):
                status, doc, body = self.post_file(data, who)
                self.assertEqual(status, 422, (who, doc))
                self.assertEqual(doc["error"]["code"], "phi_present")
                found = set(doc["error"]["details"])
                self.assertFalse(expected - found, sorted(expected - found))
                # Only tags are named, never a value.
                for value in list(PLANTED.values()) + IN_SEQUENCES + PRIVATE:
                    self.assertNotIn(value.encode(), body)
        self.assertEqual(self.req("GET", "/statistics", "admin")[1]["CountInstances"], before)

        # De-identified, the same files are taken.
        key = os.path.join(self.tmp, "P5.key")
        with open(key, "wb") as f:
            f.write(bytes(range(32)))
        out = os.path.join(self.tmp, "P5-deid")
        r = subprocess.run([CLI, "deid", raw, out, "--subject", "P5", "--key", key],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        clean = sorted(os.path.join(out, n) for n in os.listdir(out))
        self.assertEqual(len(clean), 2)
        for path in clean:
            with open(path, "rb") as f:
                status, doc, _ = self.post_file(f.read())
            self.assertEqual(status, 201, doc)

        # One value put back into a de-identified file is named alone.
        def birth_date(ds):
            ds.PatientBirthDate = "19610415"

        def station(ds):
            ds.StationName = "CTSTATION07"

        def name_not_id(ds):
            ds.PatientName = "Doemeister^Johnathan"

        def in_a_kept_sequence(ds):
            ds.ReferencedImageSequence[0].InstitutionName = "Mercy General Hospital"

        def dates_without_the_option(ds):
            declare(ds, ("113100", "113105", "113108"))
            ds.StudyDate = "20260105"

        def too_long_to_show(ds):
            ds.PatientAddress = "Wallaby Way " * 30

        def overlay(ds):
            ds.add_new(0x60003000, "OW", b"\x01\x00" * 64)

        cases = [(birth_date, ["0010,0030"]), (station, ["0008,1010"]),
                 (name_not_id, ["0010,0010"]), (in_a_kept_sequence, ["0008,0080"]),
                 (dates_without_the_option, ["0008,0020"]),
                 (too_long_to_show, ["0010,1040"]), (overlay, ["6000,3000"])]
        second = [p for p in clean if pydicom.dcmread(p).get("ReferencedImageSequence")]
        self.assertEqual(len(second), 1)
        for change, named in cases:
            ds = pydicom.dcmread(second[0])
            change(ds)
            status, doc, _ = self.post_file(encode(ds))
            self.assertEqual(status, 422, (change.__name__, doc))
            self.assertEqual(doc["error"]["details"], named, change.__name__)
        self.assertEqual(self.req("GET", "/statistics", "admin")[1]["CountInstances"], before + 2)

    def test_6_no_other_door_stores_an_identifying_file(self):
        """Orthanc's own REST API (admin only) takes a file past POST
        /readroom/v1/instances: the instance filter discards it all the
        same, and Orthanc's index learns nothing of it."""
        src = os.path.join(self.tmp, "P6")
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "2", "--size", "32",
                        "--seed", "6", "--patient-name", "Doemeister^Johnathan",
                        "--patient-id", "MRN77881234"], check=True, capture_output=True)
        files = sorted(os.path.join(src, n) for n in os.listdir(src))
        before = self.req("GET", "/statistics", "admin")[1]["CountInstances"]
        with open(files[0], "rb") as f:
            status, headers, body = self.server.request(
                "POST", "/instances", f.read(), token=self.tokens["admin"],
                headers={"Content-Type": "application/dicom"}, raw=True)
        self.assertEqual((status, json.loads(body)["Status"]), (200, "FilteredOut"), body)
        self.assertEqual(self.req("GET", "/statistics", "admin")[1]["CountInstances"], before)
        status, patients = self.req("POST", "/tools/find", "admin",
                                    {"Level": "Patient", "Query": {"PatientID": "MRN77881234"}})
        self.assertEqual((status, patients), (200, []))
        # A phantom whose name is its ID (what deid leaves) goes in by the
        # same door: the filter refuses what identifies, not the door.
        subprocess.run([PHANTOM, src + "-ok", "--kind", "ct", "--slices", "1", "--size", "32",
                        "--seed", "6"], check=True, capture_output=True)
        ok = os.path.join(src + "-ok", os.listdir(src + "-ok")[0])
        with open(ok, "rb") as f:
            status, headers, body = self.server.request(
                "POST", "/instances", f.read(), token=self.tokens["admin"],
                headers={"Content-Type": "application/dicom"}, raw=True)
        self.assertEqual((status, json.loads(body)["Status"]), (200, "Success"), body)
        self.assertEqual(self.req("GET", "/statistics", "admin")[1]["CountInstances"], before + 1)

    def test_7_a_new_study_sent_in_parallel_is_taken_whole(self):
        """The first files of a new study arrive together: while the first
        is being stored the study has no row yet, and the others must not
        be refused as someone else's (they were, 403, before the server
        knew the study was pending)."""
        src = os.path.join(self.tmp, "P10")
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "16", "--size", "256",
                        "--seed", "10"], check=True, capture_output=True)
        args = self.upload_args(src) + ["--parallel", "16"]
        args[args.index("--subject") + 1] = "P10"
        r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("sent: 16 files this time, 16 of 16 in all", r.stdout)
        staging = self.staging("P10")
        staged = sorted(n[:-len(".dcm")] for n in os.listdir(staging) if n.endswith(".dcm"))
        uploaded = self.uploaded()
        self.assertEqual([uploaded.get(sop) for sop in staged], [1] * 16)

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
        # One file at a time: the faults hit the first requests in order.
        args = self.upload_args(src) + ["--parallel", "1"]
        args[args.index("--server") + 1] = proxy.url
        args[args.index("--subject") + 1] = "P8"
        r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("sent: 4 files this time, 4 of 4 in all", r.stdout)
        posts = [e["status"] for e in proxy.requests(r"/instances$", "POST")]
        self.assertEqual(posts, ["reset", 503, 503, 201, 201, 201, 201])
        staging = self.staging("P8")
        staged = sorted(n[:-len(".dcm")] for n in os.listdir(staging) if n.endswith(".dcm"))
        uploaded = self.uploaded()
        self.assertEqual([uploaded.get(sop) for sop in staged], [1, 1, 1, 1])

    def test_8_another_folder_for_the_same_visit_is_sent_too(self):
        """s9 walk B1: the staging folder was keyed by subject and timepoint
        only, so a second folder for the same visit was never
        de-identified or sent, and the site was told it was uploaded."""
        first, second = os.path.join(self.tmp, "P11a"), os.path.join(self.tmp, "P11b")
        for src, seed in ((first, "11"), (second, "12")):
            subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "3", "--size", "32",
                            "--seed", seed], check=True, capture_output=True)
        args = self.upload_args(first)
        args[args.index("--subject") + 1] = "P11"
        r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("sent: 3 files this time, 3 of 3 in all", r.stdout)
        args[args.index(first)] = second
        r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        # The second folder's own three files, de-identified and sent.
        self.assertIn("3 files de-identified", r.stderr)
        self.assertIn("sent: 3 files this time, 3 of 3 in all", r.stdout)
        base = os.path.join(self.tmp, "home", "cache", "readroom", "upload", "U1", "P11",
                            "Baseline")
        stagings = sorted(os.path.join(base, n) for n in os.listdir(base) if n.startswith("src-"))
        self.assertEqual(len(stagings), 2, stagings)
        sops = [n[:-len(".dcm")] for st in stagings for n in os.listdir(st) if n.endswith(".dcm")]
        self.assertEqual(len(set(sops)), 6)
        # The server holds all six, each uploaded once.
        uploaded = self.uploaded()
        self.assertEqual([uploaded.get(sop) for sop in sops], [1] * 6)
        studies = set()
        for st in stagings:
            studies |= {study for _, study in self.journal(st)}
        self.assertEqual(len(studies), 2)
        # Each finished upload is marked, so the app offers neither for resuming.
        for st in stagings:
            self.assertTrue(os.path.exists(os.path.join(st, "upload.finished")), st)

    def test_8b_visit_folders_of_links_to_series_are_told_apart(self):
        """s9 review: the staging key came from its own walk, which did not
        follow links to folders, so two visit folders holding only such
        links both had the digest of nothing and shared one staging folder:
        the second upload sent nothing of its own."""
        visits = []
        for name, seed in (("a", "21"), ("b", "22")):
            series = os.path.join(self.tmp, "P13-series-" + name)
            subprocess.run([PHANTOM, series, "--kind", "ct", "--slices", "3", "--size", "32",
                            "--seed", seed], check=True, capture_output=True)
            visit = os.path.join(self.tmp, "P13-visit-" + name)
            os.makedirs(visit)
            os.symlink(series, os.path.join(visit, "series"))
            visits.append(visit)
        args = self.upload_args(visits[0])
        args[args.index("--subject") + 1] = "P13"
        for visit in visits:
            args[2] = visit
            r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
            self.assertIn("3 files de-identified", r.stderr)
            self.assertIn("sent: 3 files this time, 3 of 3 in all", r.stdout)
        base = os.path.join(self.tmp, "home", "cache", "readroom", "upload", "U1", "P13",
                            "Baseline")
        stagings = sorted(os.path.join(base, n) for n in os.listdir(base) if n.startswith("src-"))
        self.assertEqual(len(stagings), 2, stagings)
        # The server holds both series: six instances in two studies, each once.
        sent = [line for st in stagings for line in self.journal(st)]
        self.assertEqual(len({study for _, study in sent}), 2)
        uploaded = self.uploaded()
        sops = {sop for st in stagings for sop in
                (n[:-len(".dcm")] for n in os.listdir(st) if n.endswith(".dcm"))}
        self.assertEqual(len(sops), 6)
        self.assertEqual([uploaded.get(sop) for sop in sorted(sops)], [1] * 6)

    def test_9_what_a_person_reads_on_the_terminal(self):
        """s9 walk m12: an unreachable server is said as such, without the
        sync client's wording; a non-member is told so in words; and on a
        terminal the progress is one line, rewritten."""
        import pty
        import socket
        src = os.path.join(self.tmp, "P12")
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "5", "--size", "32",
                        "--seed", "13"], check=True, capture_output=True)
        # A port nothing listens on: bound, then closed.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        args = self.upload_args(src)
        args[args.index("--subject") + 1] = "P12"
        args[args.index("--server") + 1] = "http://127.0.0.1:%d" % port
        r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot reach the server http://127.0.0.1:%d" % port, r.stderr)
        self.assertIn("Nothing was sent", r.stderr)
        self.assertNotIn("synchronisation", r.stderr)
        self.assertNotIn("has not answered usefully", r.stderr)

        # usite2 is a site member of U2, not of U1; NOPE is no trial.
        for trial in ("U1", "NOPE"):
            args = self.upload_args(src)
            args[args.index("--user") + 1] = "usite2"
            args[args.index("--trial") + 1] = trial
            r = subprocess.run(args, env=self.upload_env(READROOM_PASSWORD=password_of("usite2")),
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("usite2 is not a site member of trial %s" % trial, r.stderr)
            self.assertNotIn("403", r.stderr)

        # On a terminal: the counts on one line that \r rewrites, ended once.
        args = self.upload_args(src)
        args[args.index("--subject") + 1] = "P12"
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen(args, env=self.upload_env(), stdout=subprocess.PIPE,
                                    stderr=slave, text=True)
            os.close(slave)
            slave = None
            said = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                said += chunk
            out = proc.communicate(timeout=300)[0]
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)
        self.assertEqual(proc.returncode, 0, said)
        self.assertIn("sent: 5 files this time, 5 of 5 in all", out)
        text = said.decode()
        progress = [line for line in text.replace("\r\n", "\n").split("\n")
                    if "upload: " in line and " files, " in line]
        self.assertEqual(len(progress), 1, text)
        self.assertEqual(progress[0].count("\r"), 6, text)   # 0/5, then 1/5 to 5/5
        self.assertIn("5/5 files", progress[0].split("\r")[-1])

    def test_9b_a_folder_of_two_patients_is_refused(self):
        """s10: the app's upload page blocks a folder of two patients (one
        upload is one subject), but readroom-cli upload sent them under one
        subject ID, after which nobody could tell them apart."""
        src = os.path.join(self.tmp, "P14")
        for sub, seed, pid, n in (("a", "14", "MRN-ALPHA-1", 3), ("b", "15", "MRN-BRAVO-2", 2)):
            subprocess.run([PHANTOM, os.path.join(src, sub), "--kind", "ct", "--slices", str(n),
                            "--size", "32", "--seed", seed, "--patient-id", pid],
                           check=True, capture_output=True)
        before = self.uploaded()
        args = self.upload_args(src)
        args[args.index("--subject") + 1] = "P14"
        r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("holds the images of 2 different patients", r.stderr)
        self.assertIn("one upload is one subject, so nothing was sent", r.stderr)
        # Each patient told by its files, first file named, in the folder's
        # order; the Patient IDs are not printed.
        lines = [line.strip() for line in r.stderr.splitlines() if line.startswith("  patient ")]
        self.assertEqual(len(lines), 2, r.stderr)
        self.assertTrue(lines[0].startswith("patient 1: 3 files, the first " +
                                            os.path.join(src, "a", "")), lines)
        self.assertTrue(lines[1].startswith("patient 2: 2 files, the first " +
                                            os.path.join(src, "b", "")), lines)
        self.assertNotIn("MRN-", r.stderr + r.stdout)
        # Nothing staged, nothing sent.
        base = os.path.join(self.tmp, "home", "cache", "readroom", "upload", "U1", "P14")
        self.assertFalse(os.path.exists(base), os.listdir(base) if os.path.exists(base) else "")
        self.assertEqual(self.uploaded(), before)
        # One patient's folder alone goes.
        args[args.index(src)] = os.path.join(src, "a")
        r = subprocess.run(args, env=self.upload_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        self.assertIn("sent: 3 files this time, 3 of 3 in all", r.stdout)


class RaceServer(unittest.TestCase):
    """A server whose upload checks wait where two files of one new study
    can cross (the delays, READROOM_TEST_*_DELAY_MS), a site user, and two
    de-identified files of one new study, sent @offset apart."""

    delays = {}
    offset = 0.0
    subject = "R-001"
    seed = "21"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-upload-race-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "data"))
        os.makedirs(cls.server.data)
        os.environ.update(cls.delays)
        try:
            cls.server.start()
        finally:
            for name in cls.delays:
                del os.environ[name]
        cls.addClassCleanup(cls.server.stop)
        admin = cls.server.login("admin", ADMIN_PASSWORD)
        for method, path, body, expected in (
                ("POST", "/readroom/v1/users", {"username": "rsite", "password":
                                                password_of("rsite")}, 201),
                ("POST", "/readroom/v1/trials", {"id": "R1", "name": "R1",
                                                 "qc_required": False}, 201),
                ("PUT", "/readroom/v1/trials/R1/members/rsite", {"roles": ["site"],
                                                                 "site": "S01"}, 200)):
            status, doc = cls.server.request(method, path, body, token=admin)
            assert status == expected, (method, path, status, doc)
        cls.token = cls.server.login("rsite", password_of("rsite"))

    def send_two(self):
        """Both files' answers, the second sent self.offset s after the first."""
        import threading
        import time
        status, doc = self.server.request("GET", DEID % "R1", token=self.token)
        self.assertEqual(status, 200, doc)
        key = os.path.join(self.tmp, "key")
        with open(key, "wb") as f:
            f.write(base64.b64decode(doc["key"]))
        raw, out = os.path.join(self.tmp, "raw"), os.path.join(self.tmp, "deid")
        subprocess.run([PHANTOM, raw, "--kind", "ct", "--slices", "2", "--size", "32",
                        "--seed", self.seed], check=True, capture_output=True)
        subprocess.run([CLI, "deid", raw, out, "--subject", self.subject, "--key", key],
                       check=True, capture_output=True)
        files = sorted(os.path.join(d, n) for d, _, names in os.walk(out) for n in names
                       if n.endswith(".dcm"))
        self.assertEqual(len(files), 2, files)
        answers = [None, None]

        def send(i):
            with open(files[i], "rb") as f:
                answers[i] = self.server.request(
                    "POST", "/readroom/v1/instances", f.read(), token=self.token,
                    headers={"Content-Type": "application/dicom", "X-Readroom-Trial": "R1"})
        first = threading.Thread(target=send, args=(0,))
        first.start()
        time.sleep(self.offset)
        send(1)
        first.join(60)
        return answers


class UploadRaceSuite(RaceServer):
    """A site's second file of a new study checked while its first one's
    records are committed. The server asks two things of a study: is it
    being stored (a pending row), and is it recorded (its row); the first
    file's request turns the one into the other in one transaction. On
    PostgreSQL, where requests run side by side and each statement sees
    what was committed when it ran, the second file read "recorded?"
    before that commit and "pending?" after it, saw neither, found the
    study in Orthanc owned by nobody it knew, and was refused 403
    (server-on-postgres upload, once in some runs). Here the server waits
    100 ms between its two reads (READROOM_TEST_CHECK_DELAY_MS) and 50 ms
    after each store, and the second file is sent 120 ms after the first,
    which puts the first one's commit between the second one's reads."""

    delays = {"READROOM_TEST_STORE_DELAY_MS": "50", "READROOM_TEST_CHECK_DELAY_MS": "100"}
    offset = 0.12

    def test_a_file_checked_across_the_first_ones_commit_is_taken(self):
        answers = self.send_two()
        self.assertEqual([a[0] for a in answers], [201, 201], answers)
        self.assertEqual(answers[0][1]["study"], answers[1][1]["study"])


class UploadLookupRaceSuite(RaceServer):
    """A site's second file of a new study read both records (pending?
    recorded?) before the first file's store began, and asked Orthanc
    after the first file was stored: it found the study in Orthanc and no
    record of it, and was refused 403 (server-on-postgres upload: 16 files
    of a new study sent at once, one refused). Now the records are read
    again after Orthanc's answer: the first file's pending row was
    committed before its store and stays until the study's row is. Here
    each check waits 1 s before asking Orthanc
    (READROOM_TEST_LOOKUP_DELAY_MS) and the second file is sent 0.4 s
    after the first, so that its reads come before the first one's store
    and its question to Orthanc after it. On SQLite the checks run under
    the server's lock and cannot cross: there it passes either way."""

    delays = {"READROOM_TEST_LOOKUP_DELAY_MS": "1000"}
    offset = 0.4
    seed = "22"

    def test_a_file_that_finds_the_study_in_orthanc_first_is_taken(self):
        answers = self.send_two()
        self.assertEqual([a[0] for a in answers], [201, 201], answers)
        self.assertEqual(answers[0][1]["study"], answers[1][1]["study"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
