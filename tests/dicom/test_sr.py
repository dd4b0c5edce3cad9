#!/usr/bin/python3
"""readroom-cli sr export / sr import / report on phantom images: every SR
passes dciodvfy and dsrdump, the read survives the round trip, a TID 1500
report written by dcmtk's own classes is imported, and the PDF holds every
lesion, timepoint, response and the key images."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import pydicom

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
SR_HELPER = os.environ.get("READROOM_SR_HELPER", "build/tests/make-tid1500")


def run(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def slices(folder):
    """(z, dataset, path) of each file of a phantom series, by z."""
    out = []
    for f in sorted(os.listdir(folder)):
        p = os.path.join(folder, f)
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        out.append((float(ds.ImagePositionPatient[2]), ds, p))
    return sorted(out, key=lambda t: t[0])


def caliper_on_slice(folder, a, b):
    """A length caliper from a to b (patient mm) on the acquired slice at
    their z: the reference the workstation records."""
    z, ds, _ = min(slices(folder), key=lambda t: abs(t[0] - a[2]))
    a = [a[0], a[1], z]
    b = [b[0], b[1], z]
    return {"id": "c-%s" % ds.SOPInstanceUID[-8:], "kind": "length", "points": [a, b],
            "plane": {"center": [0.0, 0.0, z], "right": [1.0, 0.0, 0.0],
                      "down": [0.0, 1.0, 0.0], "slab": "none", "slab_mm": 0},
            "series_uid": ds.SeriesInstanceUID, "sop_uid": ds.SOPInstanceUID, "frame": 0,
            "calibration": "patient", "created_us": 1}


def caliper_mpr(folder, a, b):
    """A caliper on a coronal MPR plane: no SOP instance, only the series."""
    ds = slices(folder)[0][1]
    return {"id": "c-mpr", "kind": "length", "points": [a, b],
            "plane": {"center": a, "right": [1.0, 0.0, 0.0], "down": [0.0, 0.0, -1.0],
                      "slab": "none", "slab_mm": 0},
            "series_uid": ds.SeriesInstanceUID, "sop_uid": None, "frame": 0,
            "calibration": "patient", "created_us": 1}


class SrBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-sr-")
        try:
            cls.images = os.path.join(cls.tmp, "images")
            r = run([PHANTOM, cls.images, "--size", "96", "--pixel-spacing", "3.5",
                     "--slices", "40", "--noise", "0", "--timepoints", "2",
                     "--interval-days", "56", "--change", "-30", "--patient-id", "SUBJ-001"])
            assert r.returncode == 0, r.stderr
            cls.bl = os.path.join(cls.images, "tp00")
            cls.fu = os.path.join(cls.images, "tp01")
            cls.read = cls.make_read()
            cls.read_path = os.path.join(cls.tmp, "read.json")
            with open(cls.read_path, "w") as f:
                json.dump(cls.read, f, indent=1)
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def make_read(cls):
        # Phantom lesions: (-40, 40, 0) 24 mm, (-75, -20, 30) 16 mm, (60, 30, -40)
        # 18 mm at baseline; 30 % smaller at FU1.
        bl, fu = cls.bl, cls.fu
        return {
            "criteria": "recist1.1",
            "options": {"sd_min_days": 42, "confirmation": False},
            "timepoints": [{"id": "BL", "day": 0}, {"id": "FU1", "day": 56}],
            "target_lesions": [
                {"id": "T1", "organ": "liver", "nodal": False, "location": "segment VII",
                 "measurements": {"BL": 24.0, "FU1": 16.8},
                 "calipers": {"BL": caliper_on_slice(bl, [-52, 40, 0], [-28, 40, 0]),
                              "FU1": caliper_on_slice(fu, [-48.4, 40, 0], [-31.6, 40, 0])}},
                {"id": "T2", "organ": "mediastinal lymph node", "nodal": True,
                 "measurements": {"BL": 16.0, "FU1": [6.0, 5.2]},
                 "calipers": {"BL": caliper_mpr(bl, [-83.0, -20.0, 30.0], [-67.0, -20.0, 30.0]),
                              "FU1": [caliper_on_slice(fu, [-81, -20, 30], [-75, -20, 30]),
                                      caliper_on_slice(fu, [-74, -20, 30], [-68.8, -20, 30])]}},
                {"id": "T3", "organ": "kidney", "nodal": False,
                 "measurements": {"BL": 18.0, "FU1": "TSTM"},
                 "calipers": {"BL": caliper_on_slice(bl, [51, 30, -40], [69, 30, -40])}},
            ],
            "non_target_lesions": [
                {"id": "N1", "organ": "bone", "nodal": False, "location": "L3 vertebra",
                 "status": {"BL": "present", "FU1": "absent"}},
                {"id": "N2", "organ": "pleura", "nodal": False,
                 "status": {"BL": "present", "FU1": "NE"}},
            ],
            "new_lesions": [
                {"id": "NEW1", "timepoint": "FU1", "organ": "lung", "equivocal": False},
            ],
            "signatures": [{"name": "Dr Reader One", "time": "2026-03-03T10:15:00Z",
                            "meaning": "Read submitted for the trial"}],
        }

    def export(self, read=None, name="sr"):
        path = self.read_path
        if read is not None:
            path = os.path.join(self.tmp, name + ".json")
            with open(path, "w") as f:
                json.dump(read, f)
        out = os.path.join(self.tmp, name)
        r = run([CLI, "sr", "export", path, "--images", self.images, "-o", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        return out


class Export(SrBase):
    def test_one_sr_per_timepoint_valid(self):
        out = self.export()
        self.assertEqual(sorted(os.listdir(out)), ["BL.dcm", "FU1.dcm"])
        for f in ("BL.dcm", "FU1.dcm"):
            p = os.path.join(out, f)
            r = run(["dciodvfy", p])
            errors = [l for l in (r.stdout + r.stderr).splitlines() if l.startswith("Error")]
            self.assertEqual(errors, [], f + "\n" + r.stderr)
            r = run(["dsrdump", p])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("Imaging Measurement Report", r.stdout)

    def test_content(self):
        out = self.export()
        bl = pydicom.dcmread(os.path.join(out, "BL.dcm"))
        fu = pydicom.dcmread(os.path.join(out, "FU1.dcm"))
        img_bl = slices(self.bl)[0][1]
        img_fu = slices(self.fu)[0][1]
        # Patient and study from the images: each SR in its timepoint's study.
        self.assertEqual(bl.PatientID, "SUBJ-001")
        self.assertEqual(bl.PatientName, img_bl.PatientName)
        self.assertEqual(bl.StudyInstanceUID, img_bl.StudyInstanceUID)
        self.assertEqual(fu.StudyInstanceUID, img_fu.StudyInstanceUID)
        self.assertEqual(fu.StudyDate, img_fu.StudyDate)
        # The MPR caliper needs SCOORD3D: Comprehensive 3D SR; FU1 is plain.
        self.assertEqual(bl.SOPClassUID, "1.2.840.10008.5.1.4.1.1.88.34")
        self.assertEqual(fu.SOPClassUID, "1.2.840.10008.5.1.4.1.1.88.33")
        self.assertEqual(bl.ContentTemplateSequence[0].TemplateIdentifier, "1500")
        # The signature: a verified report.
        self.assertEqual(fu.VerificationFlag, "VERIFIED")
        obs = fu.VerifyingObserverSequence[0]
        self.assertEqual(str(obs.VerifyingObserverName), "Dr Reader One")
        self.assertEqual(obs.VerificationDateTime, "20260303101500")

        def groups(ds):
            out = {}
            for item in walk(ds):
                if item.ValueType == "CONTAINER" and code(item.ConceptNameCodeSequence) == ("125007", "DCM"):
                    out[text_of(item, "112039")] = item
            return out

        gb, gf = groups(bl), groups(fu)
        self.assertEqual(set(gb), {"T1", "T2", "T3", "N1", "N2"})
        self.assertEqual(set(gf), {"T1", "T2", "T3", "N1", "N2", "NEW1"})
        # One Tracking Unique Identifier per lesion, the same in both reports.
        uids = {k: text_of(v, "112040") for k, v in gb.items()}
        self.assertEqual(len(set(uids.values())), 5)
        for k in gb:
            self.assertEqual(text_of(gf[k], "112040"), uids[k], k)
            self.assertTrue(re.fullmatch(r"2\.25\.\d+", uids[k]))
        # TID 1502 time point in every group.
        self.assertEqual(text_of(gf["T1"], "C2348792"), "FU1")
        # Finding site in SNOMED CT from the organ list.
        site = [c for c in gb["T1"].ContentSequence
                if code(c.ConceptNameCodeSequence) == ("363698007", "SCT")][0]
        self.assertEqual(code(site.ConceptCodeSequence), ("10200004", "SCT"))
        # Long axis for T1, short axis for the node, in UCUM mm.
        t1 = nums(gb["T1"])
        self.assertEqual([(c, v, u) for c, v, u, _ in t1], [("103339001", 24.0, "mm")])
        t2 = nums(gf["T2"])
        self.assertEqual([(c, v) for c, v, _, _ in t2], [("103340004", 6.0), ("103340004", 5.2)])
        # SCOORD on the SOP instance: the caliper's ends at pixel (col,row).
        num = t1[0][3]
        sc = [c for c in num.ContentSequence if c.ValueType == "SCOORD"][0]
        img = [c for c in sc.ContentSequence if c.ValueType == "IMAGE"][0]
        ref = img.ReferencedSOPSequence[0]
        self.assertEqual(ref.ReferencedSOPInstanceUID,
                         self.read["target_lesions"][0]["calipers"]["BL"]["sop_uid"])
        ipp = [float(x) for x in slices(self.bl)[0][1].ImagePositionPatient]
        expect = [(-52 - ipp[0]) / 3.5 + 0.5, (40 - ipp[1]) / 3.5 + 0.5,
                  (-28 - ipp[0]) / 3.5 + 0.5, (40 - ipp[1]) / 3.5 + 0.5]
        for got, want in zip(sc.GraphicData, expect):
            self.assertAlmostEqual(float(got), want, places=3)
        # SCOORD3D for the MPR caliper, on the series' frame of reference.
        num = nums(gb["T2"])[0][3]
        s3 = [c for c in num.ContentSequence if c.ValueType == "SCOORD3D"][0]
        self.assertEqual([float(x) for x in s3.GraphicData], [-83, -20, 30, -67, -20, 30])
        self.assertEqual(s3.ReferencedFrameOfReferenceUID, img_bl.FrameOfReferenceUID)
        # Responses as qualitative evaluations: T 24+16+18=58 -> 16.8+11.2+5=33
        # (-43.1 %, PR), N1 absent + N2 NE -> NE, a new lesion -> PD.
        ev = {code(i.ConceptNameCodeSequence): i for i in walk(fu)
              if i.ValueType == "CODE" and code(i.ConceptNameCodeSequence)[1] in ("DCM", "99RR")}
        self.assertEqual(code(ev[("112020", "DCM")].ConceptCodeSequence), ("112042", "DCM"))
        self.assertEqual(code(ev[("112048", "DCM")].ConceptCodeSequence), ("PD", "99RR"))
        self.assertEqual(code(ev[("NEWLESIONS", "99RR")].ConceptCodeSequence), ("yes", "99RR"))
        texts = {code(i.ConceptNameCodeSequence): i.TextValue for i in walk(fu) if i.ValueType == "TEXT"}
        self.assertEqual(texts[("SUMDIAM", "99RR")], "33.0 mm")
        self.assertEqual(texts[("CHANGEBL", "99RR")], "-43.1 %")

    def test_device_is_readroom_and_changes_signed(self):
        """Readroom's own program and version name the device (walk
        finding 14: "readroom-cli 3.6.7", dcmtk's version), dcmtk only in
        the file meta's implementation version; a change from nadir keeps
        its sign, as the form and the PDF write it ("+14.1 %")."""
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                               "meson.build")) as f:
            version = re.search(r"version:\s*'([^']+)'", f.read()).group(1)
        read = json.loads(json.dumps(self.read))
        # T1 grows to 50.0 at FU1 (its caliper, of the 16.8 mm, left out):
        # 50.0 + 6.0 + 5.2 + 5.0 (TSTM) = 66.2 against 58.0 at baseline, the
        # nadir: +8.2 / 58.0 = +14.14 % -> "+14.1 %", by hand.
        read["target_lesions"][0]["measurements"]["FU1"] = 50.0
        del read["target_lesions"][0]["calipers"]["FU1"]
        out = self.export(read, name="grown")
        fu = pydicom.dcmread(os.path.join(out, "FU1.dcm"))
        self.assertEqual(fu.Manufacturer, "Readroom")
        self.assertEqual(fu.ManufacturerModelName, "readroom-cli")
        self.assertEqual(fu.SoftwareVersions, version)
        self.assertTrue(fu.file_meta.ImplementationVersionName.startswith("OFFIS_DCMTK"))
        texts = {code(i.ConceptNameCodeSequence): i.TextValue for i in walk(fu)
                 if i.ValueType == "TEXT"}
        self.assertEqual(texts[("121013", "DCM")], "readroom-cli")
        self.assertEqual(texts[("121014", "DCM")], "Readroom")
        self.assertEqual(texts[("121015", "DCM")], "readroom-cli")
        self.assertEqual(texts[("SUMDIAM", "99RR")], "66.2 mm")
        self.assertEqual(texts[("CHANGEBL", "99RR")], "+14.1 %")
        self.assertEqual(texts[("CHANGENADIR", "99RR")], "+14.1 %")
        # dcmtk's version only in the file meta (Implementation Class UID
        # and Version Name), nowhere in the content.
        self.assertFalse([t for t in texts.values() if "3.6.7" in t], texts)

    def test_export_is_deterministic(self):
        a = self.export(name="again1")
        b = self.export(name="again2")
        for f in ("BL.dcm", "FU1.dcm"):
            da = pydicom.dcmread(os.path.join(a, f))
            db = pydicom.dcmread(os.path.join(b, f))
            self.assertEqual(da.SOPInstanceUID, db.SOPInstanceUID)
            self.assertEqual(da.SeriesInstanceUID, db.SeriesInstanceUID)

    def test_bad_input(self):
        bad = dict(self.read)
        bad["target_lesions"] = [dict(self.read["target_lesions"][0])]
        cal = dict(bad["target_lesions"][0]["calipers"]["BL"])
        cal["sop_uid"] = "1.2.3.4.5"
        bad["target_lesions"][0]["calipers"] = {"BL": cal}
        path = os.path.join(self.tmp, "bad.json")
        with open(path, "w") as f:
            json.dump(bad, f)
        out = os.path.join(self.tmp, "bad-out")
        r = run([CLI, "sr", "export", path, "--images", self.images, "-o", out])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("1.2.3.4.5", r.stderr)
        self.assertIn(path, r.stderr)
        self.assertEqual(run([CLI, "sr", "export", path]).returncode, 2)
        self.assertEqual(run([CLI, "sr", "import"]).returncode, 2)
        self.assertEqual(run([CLI, "sr"]).returncode, 2)
        for args in (["sr", "--help"], ["sr", "export", "--help"], ["sr", "import", "--help"],
                     ["report", "--help"]):
            self.assertEqual(run([CLI, *args]).returncode, 0, args)
        self.assertIn("report", run([CLI, "--help"]).stdout)
        junk = os.path.join(self.tmp, "junk.dcm")
        with open(junk, "wb") as f:
            f.write(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x04\x00abcd" * 3)
        r = run([CLI, "sr", "import", junk])
        self.assertEqual(r.returncode, 1)
        self.assertIn(junk, r.stderr)
        # An image is not a measurement report.
        r = run([CLI, "sr", "import", slices(self.bl)[0][2]])
        self.assertEqual(r.returncode, 1)
        self.assertIn("not", r.stderr)

    def test_broken_reports(self):
        """Truncated and scribbled-over reports: exit 0 or 1, never a crash,
        and a failure is one line naming the file."""
        import random
        out = self.export(name="broken-src")
        with open(os.path.join(out, "FU1.dcm"), "rb") as f:
            data = f.read()
        rnd = random.Random(5)
        cases = [data[:n] for n in (200, len(data) // 3, len(data) // 2, len(data) - 7)]
        for _ in range(30):
            b = bytearray(data)
            for _ in range(rnd.randint(1, 40)):
                b[rnd.randrange(132, len(b))] = rnd.getrandbits(8)
            cases.append(bytes(b))
        for i, c in enumerate(cases):
            p = os.path.join(self.tmp, "broken-%d.dcm" % i)
            with open(p, "wb") as f:
                f.write(c)
            r = run([CLI, "sr", "import", p, "--images", self.images])
            self.assertIn(r.returncode, (0, 1), "%s: %d %s" % (p, r.returncode, r.stderr))
            if r.returncode == 1:
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(p, r.stderr)
            else:
                json.loads(r.stdout)


def code(seq):
    return (seq[0].CodeValue, seq[0].CodingSchemeDesignator)


def walk(ds):
    for item in getattr(ds, "ContentSequence", []):
        yield item
        yield from walk(item)


def text_of(group, concept):
    for c in group.ContentSequence:
        if code(c.ConceptNameCodeSequence)[0] == concept:
            return c.UID if c.ValueType == "UIDREF" else c.TextValue
    return None


def nums(group):
    out = []
    for c in group.ContentSequence:
        if c.ValueType == "NUM":
            mv = c.MeasuredValueSequence[0]
            out.append((code(c.ConceptNameCodeSequence)[0], float(mv.NumericValue),
                        mv.MeasurementUnitsCodeSequence[0].CodeValue, c))
    return out


class RoundTrip(SrBase):
    def assert_same_read(self, got, want):
        self.assertEqual(got["criteria"], want["criteria"])
        self.assertEqual(got["options"], want["options"])
        self.assertEqual(got["timepoints"], want["timepoints"])
        for kind in ("target_lesions", "non_target_lesions", "new_lesions"):
            self.assertEqual([l["id"] for l in got[kind]], [l["id"] for l in want[kind]], kind)
        for g, w in zip(got["target_lesions"], want["target_lesions"]):
            for k in ("organ", "nodal", "measurements"):
                self.assertEqual(g[k], w[k], (w["id"], k))
            self.assertEqual(g.get("location"), w.get("location"))
            self.assertEqual(set(g.get("calipers", {})), set(w["calipers"]), w["id"])
            for tp, wc in w["calipers"].items():
                gc = g["calipers"][tp]
                wc, gc = (wc, gc) if isinstance(wc, list) else ([wc], [gc])
                self.assertEqual(len(gc), len(wc))
                for a, b in zip(gc, wc):
                    self.assertEqual(a["sop_uid"], b["sop_uid"])
                    self.assertEqual(a["series_uid"], b["series_uid"])
                    self.assertEqual(a["frame"], b["frame"])
                    for p, q in zip(a["points"], b["points"]):
                        for x, y in zip(p, q):
                            self.assertAlmostEqual(x, y, places=3)
        for g, w in zip(got["non_target_lesions"], want["non_target_lesions"]):
            for k in ("organ", "nodal", "status"):
                self.assertEqual(g[k], w[k], (w["id"], k))
            self.assertEqual(g.get("location"), w.get("location"))
        self.assertEqual(got.get("signatures"),
                         [{"name": s["name"], "time": s["time"]} for s in want["signatures"]])
        for g, w in zip(got["new_lesions"], want["new_lesions"]):
            for k in ("timepoint", "organ", "equivocal"):
                self.assertEqual(g[k], w[k], (w["id"], k))

    def test_round_trip(self):
        out = self.export()
        r = run([CLI, "sr", "import", os.path.join(out, "BL.dcm"), os.path.join(out, "FU1.dcm"),
                 "--images", self.images, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assert_same_read(got, self.read)
        # The criteria give the same answer on what came back.
        path = os.path.join(self.tmp, "back.json")
        with open(path, "w") as f:
            json.dump(got, f)
        a = json.loads(run([CLI, "criteria", "--json", path]).stdout)
        b = json.loads(run([CLI, "criteria", "--json", self.read_path]).stdout)
        self.assertEqual(a, b)

    def test_round_trip_reversed_order_and_without_images(self):
        out = self.export()
        r = run([CLI, "sr", "import", os.path.join(out, "FU1.dcm"), os.path.join(out, "BL.dcm")])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["timepoints"], self.read["timepoints"])
        t1 = got["target_lesions"][0]
        self.assertEqual(t1["measurements"], {"BL": 24.0, "FU1": 16.8})
        # Without the images a caliper keeps its reference and image points.
        cal = t1["calipers"]["BL"]
        self.assertEqual(cal["sop_uid"], self.read["target_lesions"][0]["calipers"]["BL"]["sop_uid"])
        self.assertEqual(len(cal["image_points"]), 2)

    def test_one_timepoint(self):
        out = self.export()
        r = run([CLI, "sr", "import", os.path.join(out, "FU1.dcm"), "--images", self.images])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["timepoints"], [{"id": "FU1", "day": 56}])
        self.assertEqual(got["target_lesions"][1]["measurements"], {"FU1": [6.0, 5.2]})
        self.assertEqual(got["target_lesions"][2]["measurements"], {"FU1": "TSTM"})


class Foreign(SrBase):
    def test_dcmtk_tid1500_imported(self):
        z, ds, path = min(slices(self.bl), key=lambda t: abs(t[0]))
        out = os.path.join(self.tmp, "foreign.dcm")
        # The helper writes one group: tracking "lesion-A", liver, Long Axis
        # 2.4 cm between pixels (10.5, 20.5) and (17.5, 20.5) of this image.
        r = run([SR_HELPER, out, path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(run(["dsrdump", out]).returncode, 0)
        r = run([CLI, "sr", "import", out, "--images", self.images])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(len(got["timepoints"]), 1)
        tp = got["timepoints"][0]["id"]
        self.assertEqual(len(got["target_lesions"]), 1)
        t = got["target_lesions"][0]
        self.assertEqual(t["id"], "lesion-A")
        self.assertEqual(t["organ"], "liver")
        self.assertEqual(t["measurements"], {tp: 24.0})
        cal = t["calipers"][tp]
        self.assertEqual(cal["sop_uid"], ds.SOPInstanceUID)
        ipp = [float(x) for x in ds.ImagePositionPatient]
        self.assertAlmostEqual(cal["points"][0][0], ipp[0] + 10 * 3.5, places=3)
        self.assertAlmostEqual(cal["points"][1][0], ipp[0] + 17 * 3.5, places=3)
        self.assertAlmostEqual(cal["points"][0][1], ipp[1] + 20 * 3.5, places=3)
        self.assertAlmostEqual(cal["points"][0][2], z, places=3)

    def test_import_prints_json_as_criteria_does(self):
        """Walk finding c3: `sr import` printed json-glib's "key" : value
        (and 17-digit numbers), `criteria --json` "key": value: one format."""
        out = self.export(name="format")
        r = run([CLI, "sr", "import", os.path.join(out, "BL.dcm"), os.path.join(out, "FU1.dcm")])
        self.assertEqual(r.returncode, 0, r.stderr)
        crit = run([CLI, "criteria", self.read_path, "--json"])
        for text in (r.stdout, crit.stdout):
            self.assertNotIn('" : ', text)
            self.assertIn('"criteria": "recist1.1"', text)
            self.assertTrue(text.startswith('{\n  "'), text[:40])
        # Shortest exact numbers: 16.8 mm, not 16.800000000000001.
        self.assertIn('"FU1": 16.8\n', r.stdout)
        # One document, ended as criteria ends it.
        self.assertTrue(r.stdout.endswith("}\n") and not r.stdout.endswith("\n\n"))
        self.assertEqual(json.loads(r.stdout)["target_lesions"][0]["measurements"],
                         {"BL": 24.0, "FU1": 16.8})

    def test_several_reports_of_one_timepoint_merged(self):
        """Another tool's reports without a time point: one per lesion, in
        the same study, make one timepoint with both lesions."""
        _, ds, path = min(slices(self.bl), key=lambda t: abs(t[0]))
        outs = []
        for name in ("lesion-A", "lesion-B"):
            out = os.path.join(self.tmp, name + ".dcm")
            r = run([SR_HELPER, out, path, name])
            self.assertEqual(r.returncode, 0, r.stderr)
            outs.append(out)
        r = run([CLI, "sr", "import", *outs])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["timepoints"], [{"id": "BL", "day": 0}])
        self.assertEqual([t["id"] for t in got["target_lesions"]], ["lesion-A", "lesion-B"])
        self.assertEqual([t["measurements"] for t in got["target_lesions"]],
                         [{"BL": 24.0}, {"BL": 24.0}])


class Report(SrBase):
    def test_pdf(self):
        if not shutil.which("pdftotext"):
            self.skipTest("poppler-utils missing")
        pdf = os.path.join(self.tmp, "report.pdf")
        r = run([CLI, "report", self.read_path, "--images", self.images, "-o", pdf])
        self.assertEqual(r.returncode, 0, r.stderr)
        text = run(["pdftotext", "-layout", pdf, "-"]).stdout
        for word in ("T1", "T2", "T3", "N1", "N2", "NEW1", "BL", "FU1", "segment VII",
                     "Dr Reader One", "Read submitted for the trial", "2026-03-03T10:15:00Z"):
            self.assertIn(word, text)
        # Sums and responses by hand: 58.0 at BL; 33.0 at FU1, -43.1 %,
        # target PR, non-target NE, new lesions yes, overall PD.
        fu1 = [l for l in text.splitlines() if re.match(r"\s*FU1\s+56\s", l)]
        self.assertEqual(len(fu1), 1, text)
        self.assertEqual(fu1[0].split(), ["FU1", "56", "33.0", "−43.1", "%", "−43.1", "%",
                                          "PR", "NE", "yes", "PD"])
        self.assertRegex(text, r"BL\s+0\s+58\.0\s+baseline")
        # In the lesion form's words; the subject as the trial calls it (the
        # images' de-identified Patient ID).
        self.assertIn("Best overall response: progressive disease (PD)", text)
        self.assertIn("Subject SUBJ-001 ·", text)
        self.assertNotIn("Patient", text)
        # Key images: one per caliper of a target (T1 BL, FU1; T2 BL, 2 x FU1; T3 BL).
        listing = run(["pdfimages", "-list", pdf]).stdout.splitlines()[2:]
        self.assertEqual(len(listing), 6, "\n".join(listing))
        for line in listing:
            cols = line.split()
            self.assertEqual((cols[3], cols[4]), ("256", "256"), line)
        for cap in ("T1 · BL", "T1 · FU1", "T2 · BL", "T3 · BL", "fragment 2 of 2"):
            self.assertIn(cap, text)

    def test_pdf_key_images_of_new_lesions(self):
        """A new lesion makes its timepoint PD: the report shows it as it
        shows the targets (walk finding 7), measured with a caliper or
        marked with a point."""
        if not shutil.which("pdfimages"):
            self.skipTest("poppler-utils missing")
        read = json.loads(json.dumps(self.read))
        # NEW1: measured across the phantom's 18 mm lesion at (60, 30, -40),
        # 30 % smaller at FU1: 12.6 mm. NEW2: a point on the lesion at
        # (-40, 40, 0).
        point = caliper_on_slice(self.fu, [-40, 40, 0], [-40, 40, 0])
        point.update({"id": "c-point", "kind": "probe", "points": [point["points"][0]]})
        read["new_lesions"] = [
            {"id": "NEW1", "timepoint": "FU1", "organ": "lung", "equivocal": False,
             "measurements": {"FU1": 12.6},
             "calipers": {"FU1": caliper_on_slice(self.fu, [53.7, 30, -40], [66.3, 30, -40])}},
            {"id": "NEW2", "timepoint": "FU1", "organ": "liver", "equivocal": False,
             "calipers": {"FU1": point}},
        ]
        path = os.path.join(self.tmp, "new.json")
        with open(path, "w") as f:
            json.dump(read, f)
        pdf = os.path.join(self.tmp, "new.pdf")
        r = run([CLI, "report", path, "--images", self.images, "-o", pdf])
        self.assertEqual(r.returncode, 0, r.stderr)
        text = run(["pdftotext", "-layout", pdf, "-"]).stdout
        # The 6 of the targets (test_pdf), then NEW1's and NEW2's.
        listing = run(["pdfimages", "-list", pdf]).stdout.splitlines()[2:]
        self.assertEqual(len(listing), 8, "\n".join(listing))
        self.assertRegex(text, r"NEW1 · FU1 · Lung · new lesion · 12\.6 mm")
        self.assertRegex(text, r"NEW2 · FU1 · Liver · new lesion")
        self.assertNotIn("No image", text)

    def test_pdf_non_cr_non_pd_in_words(self):
        """Non-targets still there and no new lesion: non-CR/non-PD, as the
        lesion form says it, never the code of the read JSON."""
        if not shutil.which("pdftotext"):
            self.skipTest("poppler-utils missing")
        read = json.loads(json.dumps(self.read))
        for n in read["non_target_lesions"]:
            n["status"]["FU1"] = "present"
        read["new_lesions"] = []
        path = os.path.join(self.tmp, "noncr.json")
        with open(path, "w") as f:
            json.dump(read, f)
        pdf = os.path.join(self.tmp, "noncr.pdf")
        r = run([CLI, "report", path, "--images", self.images, "-o", pdf])
        self.assertEqual(r.returncode, 0, r.stderr)
        text = run(["pdftotext", "-layout", pdf, "-"]).stdout
        # RECIST 1.1 table 1, by hand: targets PR (-43.1 %), non-targets
        # non-CR/non-PD, no new lesion: overall PR; unconfirmed (the read's
        # option), the best overall response is PR.
        fu1 = [l for l in text.splitlines() if re.match(r"\s*FU1\s+56\s", l)]
        self.assertEqual(len(fu1), 1, text)
        self.assertEqual(fu1[0].split(), ["FU1", "56", "33.0", "−43.1", "%", "−43.1", "%",
                                          "PR", "non-CR/non-PD", "no", "PR"])
        self.assertIn("Best overall response: partial response (PR)", text)
        self.assertNotIn("NON_CR_NON_PD", text)

    def test_key_image_shows_the_lesion(self):
        """The key image is the caliper's slice: the phantom's bright lesion
        sits in its middle, where the caliper is drawn."""
        if not shutil.which("pdftoppm"):
            self.skipTest("poppler-utils missing")
        read = dict(self.read)
        read["target_lesions"] = [self.read["target_lesions"][0]]
        read["target_lesions"][0] = dict(read["target_lesions"][0])
        read["target_lesions"][0]["calipers"] = {"BL": read["target_lesions"][0]["calipers"]["BL"]}
        path = os.path.join(self.tmp, "one.json")
        with open(path, "w") as f:
            json.dump(read, f)
        pdf = os.path.join(self.tmp, "one.pdf")
        r = run([CLI, "report", path, "--images", self.images, "-o", pdf])
        self.assertEqual(r.returncode, 0, r.stderr)
        d = os.path.join(self.tmp, "img")
        os.makedirs(d, exist_ok=True)
        run(["pdfimages", "-png", pdf, os.path.join(d, "k")])
        files = sorted(os.listdir(d))
        self.assertEqual(len(files), 1)
        from PIL import Image
        im = Image.open(os.path.join(d, files[0])).convert("L")
        w, h = im.size
        # 72 mm field over 256 px: the 24 mm lesion (radius 43 px) fills the
        # middle and is brighter than the tissue 60 px (17 mm) around it.
        centre = im.getpixel((w // 2, h // 2))
        for dx, dy in ((60, 0), (-60, 0), (0, 60), (0, -60)):
            around = im.getpixel((w // 2 + dx, h // 2 + dy))
            self.assertGreater(centre, around + 10, (dx, dy, centre, around))

    def write_json(self, doc, name):
        path = os.path.join(self.tmp, name + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def test_pdf_names_trial_reader_signature_receipt(self):
        """Walk finding m10: a sponsor can tell whose signed read it is: the
        trial, the reader (the export's label, with the user name when the
        read gives one), the signature and the server's receipt, from the
        server's submission document as from a read that carries them."""
        if not shutil.which("pdftotext"):
            self.skipTest("poppler-utils missing")
        read = json.loads(json.dumps(self.read))
        del read["signatures"]
        doc = {"task": "42", "signed_by": "reader1", "meaning": "I read this case",
               "submission": {"read": read},
               "receipt": {"id": "R-0007", "submitted_at": "2026-03-04T09:00:00Z",
                           "responses": None}}
        path = self.write_json(doc, "submission")
        pdf = os.path.join(self.tmp, "submission.pdf")
        r = run([CLI, "report", path, "--images", self.images, "-o", pdf, "--trial", "WALK",
                 "--reader", "Reader 1"])
        self.assertEqual(r.returncode, 0, r.stderr)
        text = run(["pdftotext", "-layout", pdf, "-"]).stdout
        self.assertIn("Trial WALK · Subject SUBJ-001 · RECIST 1.1 · 2 timepoints (BL to FU1)",
                      text)
        self.assertIn("Reader: Reader 1", text)
        sig = [l.split() for l in text.splitlines() if l.strip().startswith("reader1")]
        self.assertEqual(sig, [["reader1", "2026-03-04T09:00:00Z", "I", "read", "this", "case"]])
        self.assertIn("Server receipt R-0007, received 2026-03-04T09:00:00Z.", text)
        self.assertNotIn("Not signed", text)
        # A read naming its trial and reader itself, as the export names
        # them; without a signature or receipt, the PDF says it has none.
        read = dict(read, trial="WALK", reader="Reader 2", user="reader2")
        path = self.write_json(read, "named")
        r = run([CLI, "report", path, "--images", self.images, "-o", pdf])
        self.assertEqual(r.returncode, 0, r.stderr)
        text = run(["pdftotext", "-layout", pdf, "-"]).stdout
        self.assertIn("Trial WALK · Subject", text)
        self.assertIn("Reader: Reader 2 (reader2)", text)
        self.assertIn("Not signed: the read carries no signature.", text)
        self.assertIn("No server receipt", text)

    def test_pdf_of_a_read_that_breaks_a_rule(self):
        """Walk finding m10: a read that breaks a rule (three targets in the
        liver, criteria.md) is written, says on its first lines that it is
        no valid read, and exits 1 as `criteria` does (cli.md), naming the
        read."""
        if not shutil.which("pdftotext"):
            self.skipTest("poppler-utils missing")
        read = json.loads(json.dumps(self.read))
        read["target_lesions"][2]["organ"] = "liver"
        read["target_lesions"][2].pop("calipers")
        read["target_lesions"].append({"id": "T4", "organ": "liver", "nodal": False,
                                       "measurements": {"BL": 20.0, "FU1": 20.0}})
        path = self.write_json(read, "broken-rule")
        self.assertEqual(run([CLI, "criteria", path]).returncode, 1)
        pdf = os.path.join(self.tmp, "broken-rule.pdf")
        r = run([CLI, "report", path, "--images", self.images, "-o", pdf])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(r.stderr.startswith("readroom-cli report: %s: the read breaks 1 rule"
                                            % path), r.stderr)
        text = run(["pdftotext", "-layout", pdf, "-"]).stdout
        head = text.split("Responses")[0]
        self.assertIn("NOT A VALID READ: it breaks 1 rule of RECIST 1.1", head)

    def test_pdf_of_one_timepoint(self):
        """Walk finding m10: "1 timepoint", and the one point of the plot
        and its value stand inside the axes, not on the y axis."""
        if not shutil.which("pdftotext"):
            self.skipTest("poppler-utils missing")
        read = json.loads(json.dumps(self.read))
        read["timepoints"] = read["timepoints"][:1]
        for t in read["target_lesions"]:
            t["measurements"] = {"BL": t["measurements"]["BL"]}
            t["calipers"] = {"BL": t["calipers"]["BL"]}
        for n in read["non_target_lesions"]:
            n["status"] = {"BL": n["status"]["BL"]}
        read["new_lesions"] = []
        path = self.write_json(read, "one-timepoint")
        pdf = os.path.join(self.tmp, "one-timepoint.pdf")
        r = run([CLI, "report", path, "--images", self.images, "-o", pdf])
        self.assertEqual(r.returncode, 0, r.stderr)
        text = run(["pdftotext", "-layout", pdf, "-"]).stdout
        self.assertIn("RECIST 1.1 · 1 timepoint (BL)", text)
        self.assertNotIn("1 timepoints", text)
        # Word boxes, in points: the y axis is the right edge of the grid
        # labels' column (50 pt margin + 44 pt), the baseline sum 58.0 mm.
        html = run(["pdftotext", "-bbox", "-f", "1", "-l", "1", pdf, "-"]).stdout
        words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" '
                           r'yMax="[\d.]+">([^<]*)</word>', html)
        axis_labels = [float(x1) for x0, x1, w in words if w in ("0", "25", "50", "75")]
        self.assertTrue(axis_labels, html)
        value = [float(x0) for x0, x1, w in words if w == "58.0"]
        # The table's 58.0 is left of the plot's; the plot's is the last.
        self.assertEqual(len(value), 2, words)
        self.assertGreater(value[-1], 50 + 44 + 10)

    def test_bad_input(self):
        self.assertEqual(run([CLI, "report", self.read_path]).returncode, 2)
        bad = os.path.join(self.tmp, "notjson.json")
        with open(bad, "w") as f:
            f.write("{not json")
        r = run([CLI, "report", bad, "--images", self.images, "-o", os.path.join(self.tmp, "x.pdf")])
        self.assertEqual(r.returncode, 1)
        self.assertIn(bad, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
