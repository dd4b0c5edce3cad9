#!/usr/bin/python3
"""GET /trials/{t}/export?format=sr on a real Orthanc: one subject read
twice at two timepoints (labels with a space), calipers on the uploaded
phantom's slices, an adjudication at the follow-up. The zip holds one SR
per submitted read and one per final; each is opened, passes dciodvfy and
dsrdump, and `readroom-cli sr import` gives back the values, references
and signers that were submitted. Only an admin gets it."""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid
import zipfile

import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import (ADMIN_PASSWORD, CLI, PHANTOM, Server, criteria,  # noqa: E402
                         password_of)

TPS = [("Baseline", 0), ("Week 8", 56)]
# Reader sizes of the one target: both 24 mm at baseline (the phantom's
# lesion); at week 8 one reader says 16.8 (-30 %: PR), the other 22.0
# (-8 %: SD), so the best overall responses differ and go to adjudication.
SIZES = {"a": (24.0, 16.8), "b": (24.0, 22.0)}


def run(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def slices(folder):
    out = []
    for f in sorted(os.listdir(folder)):
        p = os.path.join(folder, f)
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        out.append((float(ds.ImagePositionPatient[2]), ds, p))
    return sorted(out, key=lambda t: t[0])


def caliper(folder, length):
    """A horizontal length caliper of @length mm through the phantom's
    lesion at (-40, 40, 0), on the acquired slice nearest z = 0."""
    z, ds, _ = min(slices(folder), key=lambda t: abs(t[0]))
    a = [-40 - length / 2, 40.0, z]
    b = [-40 + length / 2, 40.0, z]
    return {"id": "c-" + uuid.uuid4().hex[:8], "kind": "length", "points": [a, b],
            "plane": {"center": [0.0, 0.0, z], "right": [1.0, 0.0, 0.0],
                      "down": [0.0, 1.0, 0.0], "slab": "none", "slab_mm": 0},
            "series_uid": ds.SeriesInstanceUID, "sop_uid": ds.SOPInstanceUID, "frame": 0,
            "calibration": "patient", "created_us": 1}


class SrExport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-sr-export-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "data"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.tokens = {"admin": cls.server.login("admin", ADMIN_PASSWORD)}
        cls.build()

    @classmethod
    def ok(cls, expected, method, path, body=None, who="admin", **kw):
        status, doc = cls.server.request(method, path, body, token=cls.tokens.get(who), **kw)
        assert status == expected, "%s %s as %s: %s %s" % (method, path, who, status, doc)
        return doc

    @classmethod
    def submit(cls, who, task, body):
        return cls.ok(201, "POST", "/readroom/v1/tasks/%s/submission" % task, body, who,
                      headers={"Idempotency-Key": str(uuid.uuid4())})

    @classmethod
    def build(cls):
        users = {"site1": ["site"], "qc1": ["qc"], "reader1": ["reader"], "reader2": ["reader"],
                 "adj1": ["adjudicator"]}
        for u in users:
            cls.ok(201, "POST", "/readroom/v1/users",
                   {"username": u, "password": password_of(u), "display_name": "Dr " + u.title()})
        cls.ok(201, "POST", "/readroom/v1/trials",
               {"id": "SR1", "name": "SR trial", "criteria": "recist1.1", "readers_per_case": 2,
                "qc_required": False, "adjudication": "bor", "reading": "sequential",
                "sd_min_days": 42, "confirmation": False})
        for u, roles in users.items():
            body = {"roles": roles}
            if u == "site1":
                body["site"] = "S01"
            cls.ok(200, "PUT", "/readroom/v1/trials/SR1/members/" + u, body)
            cls.tokens[u] = cls.server.login(u, password_of(u))

        images = os.path.join(cls.tmp, "images")
        r = run([PHANTOM, images, "--size", "96", "--pixel-spacing", "3.5", "--slices", "24",
                 "--noise", "0", "--timepoints", "2", "--interval-days", "56", "--change", "-30",
                 "--patient-id", "SUBJ-S1"])
        assert r.returncode == 0, r.stderr
        cls.folders = [os.path.join(images, "tp00"), os.path.join(images, "tp01")]
        cls.studies = []
        for folder in cls.folders:
            study = None
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), "rb") as f:
                    study = cls.ok(201, "POST", "/readroom/v1/instances", f.read(), "site1")["study"]
            cls.studies.append(study)
        cls.calipers = {}
        for i, (label, day) in enumerate(TPS):
            cls.ok(201, "POST", "/readroom/v1/trials/SR1/subjects/S1/timepoints",
                   {"label": label, "day": day, "studies": [cls.studies[i]]})
            for u, kind in (("reader1", "a"), ("reader2", "b")):
                task = [t for t in cls.ok(200, "GET", "/readroom/v1/tasks?status=open", who=u)
                        if t["timepoints"][-1]["label"] == label][0]
                read = {"criteria": "recist1.1",
                        "timepoints": [{"id": l, "day": d} for l, d in TPS[:i + 1]],
                        "target_lesions": [{"id": "T1", "organ": "liver", "nodal": False,
                                            "measurements": {}, "calipers": {}}],
                        "non_target_lesions": [], "new_lesions": []}
                for k in range(i + 1):
                    key = (u, k)
                    if key not in cls.calipers:
                        cls.calipers[key] = caliper(cls.folders[k], SIZES[kind][k])
                    read["target_lesions"][0]["measurements"][TPS[k][0]] = SIZES[kind][k]
                    read["target_lesions"][0]["calipers"][TPS[k][0]] = cls.calipers[key]
                read["responses"] = criteria(read)
                cls.submit(u, task["id"], {"read": read, "signature": {
                    "password": password_of(u), "meaning": "Read completed"}})
        adj = cls.ok(200, "GET", "/readroom/v1/tasks?status=open", who="adj1")
        assert len(adj) == 1, adj
        detail = cls.ok(200, "GET", "/readroom/v1/tasks/" + adj[0]["id"], who="adj1")
        cls.chosen = [r["reader"] for r in detail["reads"]
                      if r["responses"]["best_overall_response"] == "SD"][0]
        cls.submit("adj1", adj[0]["id"], {"chosen": cls.chosen, "rationale": "Measured across "
                                          "the longest axis.", "signature": {
                                              "password": password_of("adj1"),
                                              "meaning": "Adjudicated"}})
        # Which reader holds which slot, from the JSON export.
        export = cls.ok(200, "GET", "/readroom/v1/trials/SR1/export?format=json")
        cls.slot_user = {}
        for row in export["rows"]:
            for r in row["reads"]:
                cls.slot_user[int(r["reader"].split()[-1])] = r["user"]

    def fetch(self, who="admin"):
        return self.server.request("GET", "/readroom/v1/trials/SR1/export?format=sr",
                                   token=self.tokens.get(who), raw=True)

    def import_sr(self, data, name):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        r = run(["dciodvfy", path])
        errors = [l for l in (r.stdout + r.stderr).splitlines() if l.startswith("Error")]
        self.assertEqual(errors, [], name)
        r = run(["dsrdump", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Imaging Measurement Report", r.stdout)
        r = run([CLI, "sr", "import", path, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout), pydicom.dcmread(path), r

    def test_zip_of_reads_and_finals(self):
        status, headers, body = self.fetch()
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers.get("Content-Type"), "application/zip")
        z = zipfile.ZipFile(io.BytesIO(body))
        self.assertIsNone(z.testzip())
        # Two reads and one final at each timepoint; the label's space
        # becomes '_' in the entry's name.
        self.assertEqual(sorted(z.namelist()), sorted(
            "S1/%s/%s.dcm" % (folder, who) for folder in ("Baseline", "Week_8")
            for who in ("reader-1", "reader-2", "final")))
        kind_of_user = {"reader1": "a", "reader2": "b"}
        chosen_slot = int(self.chosen.split()[-1])
        sop_uids = set()
        for name in z.namelist():
            _, folder, who = name.split("/")
            k = 0 if folder == "Baseline" else 1
            label = TPS[k][0]
            slot = chosen_slot if who == "final.dcm" and k == 1 else \
                int(who[len("reader-"):-4]) if who != "final.dcm" else None
            got, ds, _ = self.import_sr(z.read(name), name.replace("/", "-"))
            # One SR for the task's own timepoint, in that timepoint's study,
            # with the subject's (de-identified) patient attributes.
            self.assertEqual(got["timepoints"], [{"id": label, "day": TPS[k][1]}])
            self.assertEqual(ds.StudyInstanceUID, self.studies[k])
            self.assertEqual(ds.PatientID, "SUBJ-S1")
            # Written by the server, not by readroom-cli (walk finding 14).
            self.assertEqual((ds.Manufacturer, ds.ManufacturerModelName),
                             ("Readroom", "readroom-server"))
            sop_uids.add(ds.SOPInstanceUID)
            t1 = got["target_lesions"][0]
            observers = [str(o.VerifyingObserverName)
                         for o in ds.get("VerifyingObserverSequence", [])]
            if slot is None:
                # The baseline's final: both readers agreed on 24 mm.
                self.assertEqual(t1["measurements"], {label: 24.0})
                self.assertEqual(len(observers), 1)
                continue
            user = self.slot_user[slot]
            self.assertEqual(t1["measurements"], {label: SIZES[kind_of_user[user]][k]}, name)
            self.assertEqual(t1["calipers"][label]["sop_uid"],
                             self.calipers[(user, k)]["sop_uid"], name)
            expected = ["Dr " + user.title()]
            if who == "final.dcm":
                expected.append("Dr Adj1")
            self.assertEqual(sorted(observers), sorted(expected), name)
        # Each SR is an instance of its own.
        self.assertEqual(len(sop_uids), 6)
        self.assertEqual(headers.get("Content-Disposition"), 'attachment; filename="SR1-sr.zip"')

    def test_cli_export(self):
        target = os.path.join(self.tmp, "cli-export.zip")
        r = subprocess.run([CLI, "admin", "--server", "http://127.0.0.1:%d" % self.server.port,
                            "export", "SR1", "--format", "sr", "-o", target],
                           env=dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD),
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with zipfile.ZipFile(target) as z:
            self.assertEqual(len(z.namelist()), 6)
            self.assertIsNone(z.testzip())

    def test_only_admin(self):
        for who in ("reader1", "reader2", "adj1", "qc1", "site1"):
            status, _, _ = self.fetch(who)
            self.assertEqual(status, 403, who)
        status, _, _ = self.fetch(None)
        self.assertEqual(status, 401)
        status, _, _ = self.server.request("GET", "/readroom/v1/trials/NOPE/export?format=sr",
                                           token=self.tokens["admin"], raw=True)
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
