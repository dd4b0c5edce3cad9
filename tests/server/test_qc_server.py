#!/usr/bin/python3
"""The server's part of QC (issue 16): a trial's protocol set over the API
and by `readroom-cli admin trial protocol`, and the automated checks that a
QC task carries, computed by the plugin from the DICOM headers Orthanc
stores when the studies are linked. Phantoms each carry one known defect
against the protocol (7.5 mm slices against a 5 mm maximum; a slice left
out) and one is clean; the expected outcome of each check comes from how
the phantom was written, not from the checks' own output."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import pydicom
except ImportError:  # the phantoms are conformed with it
    print("pydicom is not installed (python3-pydicom)")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server, password_of  # noqa: E402

PROTOCOL = {"modality": ["CT"], "max_slice_thickness_mm": 5.0, "max_gap_slices": 0}
CHECKS = ("wrong_modality", "slice_thickness", "missing_slices", "phi_present",
          "wrong_subject_or_visit")


class QcServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-qc-server-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "data"))
        os.makedirs(cls.server.data)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.tokens = {"admin": cls.server.login("admin", ADMIN_PASSWORD)}
        for u in ("qsite", "qreviewer"):
            cls.call("POST", "/readroom/v1/users", {"username": u, "password": password_of(u)}, 201)
        cls.call("POST", "/readroom/v1/trials", {"id": "Q1", "name": "QC trial",
                                                 "qc_required": True}, 201)
        cls.call("PUT", "/readroom/v1/trials/Q1/members/qsite", {"roles": ["site"], "site": "S01"},
                 200)
        cls.call("PUT", "/readroom/v1/trials/Q1/members/qreviewer", {"roles": ["qc"]}, 200)
        for u in ("qsite", "qreviewer"):
            cls.tokens[u] = cls.server.login(u, password_of(u))

    @classmethod
    def call(cls, method, path, body, expected, who="admin"):
        status, doc = cls.server.request(method, path, body, token=cls.tokens[who])
        assert status == expected, (method, path, who, status, doc)
        return doc

    def phantom_study(self, subject, *options):
        """Writes a 12-slice CT phantom, uploads it as the site, returns its study UID."""
        out = os.path.join(self.tmp, subject)
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "12", "--size", "32",
                        "--patient-id", subject, "--seed", "3"] + list(options),
                       check=True, capture_output=True)
        study = None
        for root, _, names in sorted(os.walk(out)):
            for name in sorted(names):
                if not name.endswith(".dcm"):
                    continue
                # De-identification writes the subject ID as Patient's
                # Name; the phantom writes a name.
                path = os.path.join(root, name)
                ds = pydicom.dcmread(path)
                ds.PatientName = ds.PatientID
                ds.save_as(path)
                with open(path, "rb") as f:
                    study = self.call("POST", "/readroom/v1/instances", f.read(), 201,
                                      who="qsite")["study"]
        self.assertIsNotNone(study)
        return study

    def link(self, subject, study):
        doc = self.call("POST", "/readroom/v1/trials/Q1/subjects/%s/timepoints" % subject,
                        {"label": "Baseline", "day": 0, "studies": [study]}, 201)
        self.assertEqual(len(doc["tasks"]), 1)
        task = self.call("GET", "/readroom/v1/tasks/" + doc["tasks"][0], None, 200,
                         who="qreviewer")
        self.assertEqual(task["kind"], "qc")
        return task

    @staticmethod
    def statuses(task):
        automated = task["automated"]
        assert automated is not None, task
        assert len(automated["series"]) == 1, automated
        return {c["check"]: c["status"] for c in automated["series"][0]["checks"]}

    def test_1_protocol(self):
        # Refused: not a protocol, not an admin, not a trial. Nothing changes.
        status, doc = self.server.request("PUT", "/readroom/v1/trials/Q1/protocol",
                                          {"max_slice_thickness_mm": "thin"},
                                          token=self.tokens["admin"])
        self.assertEqual(status, 400, doc)
        self.assertEqual(doc["error"]["code"], "invalid_request", doc)
        self.assertIn("max_slice_thickness_mm", doc["error"]["message"])
        self.call("PUT", "/readroom/v1/trials/Q1/protocol", [PROTOCOL], 400)
        self.call("PUT", "/readroom/v1/trials/Q1/protocol", PROTOCOL, 403, who="qreviewer")
        self.call("PUT", "/readroom/v1/trials/Q1/protocol", PROTOCOL, 403, who="qsite")
        self.call("PUT", "/readroom/v1/trials/NOPE/protocol", PROTOCOL, 404)
        self.assertEqual(self.call("GET", "/readroom/v1/trials/Q1", None, 200)["protocol"], {})

        # Set by the CLI, from a file; audited with what was set.
        path = os.path.join(self.tmp, "protocol.json")
        with open(path, "w") as f:
            json.dump(PROTOCOL, f)
        env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD)
        url = "http://127.0.0.1:%d" % self.server.port
        r = subprocess.run([CLI, "admin", "--server", url, "trial", "protocol", "Q1", path],
                           env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.call("GET", "/readroom/v1/trials/Q1", None, 200)["protocol"],
                         PROTOCOL)
        with open(path, "w") as f:
            json.dump({"contrast": "maybe"}, f)
        r = subprocess.run([CLI, "admin", "--server", url, "trial", "protocol", "Q1", path],
                           env=env, capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("400", r.stderr)
        self.assertEqual(self.call("GET", "/readroom/v1/trials/Q1", None, 200)["protocol"],
                         PROTOCOL)
        trail = self.call("GET", "/readroom/v1/audit?limit=10000", None, 200)
        events = [e for e in trail if e["action"] == "trial.protocol"]
        self.assertEqual(len(events), 1, events)
        self.assertEqual((events[0]["user"], events[0]["object"], events[0]["details"]),
                         ("admin", "Q1", PROTOCOL))

    def test_2_clean_series_passes(self):
        task = self.link("QCLEAN", self.phantom_study("QCLEAN", "--thickness", "5",
                                                      "--spacing", "5"))
        self.assertEqual(task["protocol"], PROTOCOL)
        checks = self.statuses(task)
        for check in CHECKS:
            self.assertEqual(checks.get(check), "pass", (check, task["automated"]))
        self.assertEqual(task["automated"]["findings"], [])

    def test_3_thick_slices_fail(self):
        task = self.link("QTHICK", self.phantom_study("QTHICK", "--thickness", "7.5",
                                                      "--spacing", "7.5"))
        checks = self.statuses(task)
        self.assertEqual(checks["slice_thickness"], "fail", task["automated"])
        for check in CHECKS:
            if check != "slice_thickness":
                self.assertEqual(checks.get(check), "pass", (check, task["automated"]))
        categories = {f["category"] for f in task["automated"]["findings"]}
        self.assertEqual(categories, {"slice_thickness"}, task["automated"])

    def test_4_missing_slice_fails(self):
        task = self.link("QGAP", self.phantom_study("QGAP", "--thickness", "5", "--spacing", "5",
                                                    "--missing-slice", "5"))
        checks = self.statuses(task)
        self.assertEqual(checks["missing_slices"], "fail", task["automated"])
        self.assertEqual(checks["slice_thickness"], "pass", task["automated"])
        categories = {f["category"] for f in task["automated"]["findings"]}
        self.assertEqual(categories, {"missing_slices"}, task["automated"])

    def test_5_results_survive_a_protocol_change(self):
        # What a task was checked against stays with it: a later protocol
        # (here a 10 mm maximum) changes neither its protocol nor its results.
        task = self.call("GET", "/readroom/v1/tasks", None, 200, who="qreviewer")
        self.assertEqual(len(task), 3)
        self.call("PUT", "/readroom/v1/trials/Q1/protocol",
                  dict(PROTOCOL, max_slice_thickness_mm=10.0), 200)
        failing = 0
        for t in task:
            detail = self.call("GET", "/readroom/v1/tasks/" + t["id"], None, 200, who="qreviewer")
            self.assertEqual(detail["protocol"], PROTOCOL)
            failing += self.statuses(detail)["slice_thickness"] == "fail"
        self.assertEqual(failing, 1)


    def test_6_two_patients_in_one_timepoint(self):
        # The studies of one timepoint are checked together: two conforming
        # series of two patients fail the subject check, and only it.
        a = self.phantom_study("QMIXA", "--thickness", "5", "--spacing", "5")
        b = self.phantom_study("QMIXB", "--thickness", "5", "--spacing", "5")
        self.assertNotEqual(a, b)
        doc = self.call("POST", "/readroom/v1/trials/Q1/subjects/QMIX/timepoints",
                        {"label": "Baseline", "day": 0, "studies": [a, b]}, 201)
        task = self.call("GET", "/readroom/v1/tasks/" + doc["tasks"][0], None, 200,
                         who="qreviewer")
        series = task["automated"]["series"]
        self.assertEqual(len(series), 2, task["automated"])
        for s in series:
            checks = {c["check"]: c["status"] for c in s["checks"]}
            self.assertEqual(checks["wrong_subject_or_visit"], "fail", task["automated"])
            self.assertEqual(checks["slice_thickness"], "pass", task["automated"])
        categories = {f["category"] for f in task["automated"]["findings"]}
        self.assertEqual(categories, {"wrong_subject_or_visit"}, task["automated"])

if __name__ == "__main__":
    unittest.main(verbosity=2)
