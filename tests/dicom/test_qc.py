#!/usr/bin/python3
"""readroom-cli qc on phantoms that each carry one defect against a protocol,
planted with readroom-phantom's options or with pydicom, and on one clean
series: each check finds its own defect, with the category cli.md names,
and nothing else; the clean series passes everything."""
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings

try:
    import pydicom
except ImportError:  # the suite needs it to plant defects
    print("pydicom is not installed (python3-pydicom)")
    sys.exit(77)

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
PYDICOM = os.environ.get("PYDICOM_DATA", "/usr/lib/python3/dist-packages/pydicom/data")

PROTOCOL = {"modality": ["CT"], "body_part": ["CHEST", "ABDOMEN"],
            "max_slice_thickness_mm": 5.0, "min_coverage_mm": 300,
            "contrast": True, "max_gap_slices": 0}

CHECKS = ["wrong_modality", "incomplete_coverage", "slice_thickness", "missing_slices",
          "contrast_phase", "phi_present", "wrong_subject_or_visit"]

# 60 slices 5 mm apart and 5 mm thick: 300 mm covered, as the protocol asks.
CLEAN = ["--size", "32", "--pixel-spacing", "10", "--slices", "60", "--spacing", "5",
         "--noise", "0", "--no-lesions"]


def run(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def with_option(args, name, value):
    """CLEAN with one option's value replaced."""
    out = list(args)
    out[out.index(name) + 1] = value
    return out


def conform(ds):
    """What a de-identified, contrast-enhanced chest CT has that the phantom
    does not write: the subject ID as Patient's Name, a contrast agent."""
    ds.PatientName = ds.PatientID
    ds.ContrastBolusAgent = "IOHEXOL"


class Qc(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-qc-")
        cls.protocol = os.path.join(cls.tmp, "protocol.json")
        with open(cls.protocol, "w") as f:
            json.dump(PROTOCOL, f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def phantom(self, name, args=CLEAN, plant=None, patient="S-001"):
        """A phantom series in its own folder, conformed, with @plant applied
        to each file's dataset (its index along the series given)."""
        out = os.path.join(self.tmp, name)
        r = run([PHANTOM, out, "--patient-id", patient, *args])
        self.assertEqual(r.returncode, 0, r.stderr)
        files = sorted(glob.glob(os.path.join(out, "*.dcm")))
        self.assertTrue(files)
        for i, path in enumerate(files):
            ds = pydicom.dcmread(path)
            conform(ds)
            if plant:
                plant(ds, i)
            ds.save_as(path)
        return out

    def qc(self, path, protocol=True):
        args = [CLI, "qc", path, "--json"]
        if protocol:
            args += ["--protocol", self.protocol]
        r = run(args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def statuses(self, series):
        return {c["check"]: c["status"] for c in series["checks"]}

    def assert_only(self, result, failing, comment_has=None):
        """One series; @failing fails, every other check passes, and every
        finding is of @failing's category."""
        self.assertEqual(len(result["series"]), 1)
        st = self.statuses(result["series"][0])
        self.assertEqual(list(st), CHECKS)
        expected = {c: ("fail" if c == failing else "pass") for c in CHECKS}
        self.assertEqual(st, expected, result["series"][0]["checks"])
        self.assertTrue(result["findings"])
        for f in result["findings"]:
            self.assertEqual(f["category"], failing, f)
            self.assertEqual(f["series"], result["series"][0]["series_uid"])
            self.assertIn(f["severity"], ("minor", "major"))
            self.assertTrue(f["comment"])
        if comment_has:
            self.assertTrue(any(comment_has in f["comment"] for f in result["findings"]),
                            result["findings"])
        return result["findings"]

    def test_clean_series_passes(self):
        path = self.phantom("clean")
        result = self.qc(path)
        self.assertEqual(len(result["series"]), 1)
        self.assertEqual(result["series"][0]["modality"], "CT")
        self.assertEqual(self.statuses(result["series"][0]), {c: "pass" for c in CHECKS},
                         result["series"][0]["checks"])
        self.assertEqual(result["findings"], [])
        # The text a person reads says the same.
        r = run([CLI, "qc", path, "--protocol", self.protocol])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Every check passed in 1 series.", r.stdout)
        self.assertNotIn("FAIL", r.stdout)

    def test_wrong_modality(self):
        path = self.phantom("mr", ["--kind", "mr", *CLEAN])
        result = self.qc(path)
        self.assertEqual(result["series"][0]["modality"], "MR")
        findings = self.assert_only(result, "wrong_modality", "MR")
        self.assertEqual(len(findings), 1)
        # A finding about the whole series has no sop.
        self.assertNotIn("sop", findings[0])

    def test_thick_slices(self):
        # 40 slices 7.5 mm thick and apart still cover 300 mm.
        args = with_option(with_option(CLEAN, "--spacing", "7.5"), "--slices", "40")
        self.assert_only(self.qc(self.phantom("thick", args)), "slice_thickness", "7.5 mm")

    def test_missing_slice(self):
        args = with_option(CLEAN, "--slices", "61") + ["--missing-slice", "30"]
        findings = self.assert_only(self.qc(self.phantom("missing", args)), "missing_slices",
                                    "1 slice missing")
        # One slice, in the singular (walk c1: "1 slice(s)").
        self.assertNotIn("slice(s)", findings[0]["comment"])
        self.assertNotIn("sop", findings[0])

    def test_short_coverage(self):
        args = with_option(CLEAN, "--slices", "20")
        self.assert_only(self.qc(self.phantom("short", args)), "incomplete_coverage",
                         "100.0 mm")

    def test_no_contrast_agent(self):
        def plant(ds, i):
            del ds.ContrastBolusAgent
        self.assert_only(self.qc(self.phantom("plain", plant=plant)), "contrast_phase")

    def test_birth_date_left(self):
        def plant(ds, i):
            ds.PatientBirthDate = "19610412"
        findings = self.assert_only(self.qc(self.phantom("born", plant=plant)), "phi_present",
                                    "Patient's Birth Date (0010,0030) holds a value in all")
        self.assertEqual(findings[0]["severity"], "major")

    def test_deid_dummy_is_not_identifying(self):
        """The dummy that deid writes where only D is allowed (and earlier
        builds wrote into Institution Name, Station Name, Operators' Name)
        names no one: no phi_present finding for it (s9 walk, M1)."""
        def plant(ds, i):
            ds.InstitutionName = "REMOVED"
            ds.StationName = "REMOVED"
            ds.OperatorsName = ["REMOVED", "REMOVED"]
        result = self.qc(self.phantom("dummies", plant=plant))
        self.assertEqual(self.statuses(result["series"][0]), {c: "pass" for c in CHECKS},
                         result["series"][0]["checks"])
        self.assertEqual(result["findings"], [])

    def test_institution_left(self):
        """A real institution is still flagged, beside a dummy too."""
        def plant(ds, i):
            ds.InstitutionName = "Mercy General Hospital"
            ds.OperatorsName = ["REMOVED", "Operatorson^Technie"]
        findings = self.assert_only(self.qc(self.phantom("institution", plant=plant)),
                                    "phi_present", "Institution Name (0008,0080)")
        self.assertTrue(any("Operators' Name (0008,1070)" in f["comment"] for f in findings),
                        findings)
        self.assertTrue(all(f["severity"] == "major" for f in findings))

    def test_burned_in_annotation(self):
        def plant(ds, i):
            if i in (3, 17):
                ds.BurnedInAnnotation = "YES"
        path = self.phantom("burned", plant=plant)
        findings = self.assert_only(self.qc(path), "phi_present", "Burned In Annotation")
        # Each image with text burned in is named, for the reviewer to look at.
        marked = sorted(pydicom.dcmread(p).SOPInstanceUID
                        for p in sorted(glob.glob(os.path.join(path, "*.dcm")))
                        if pydicom.dcmread(p).get("BurnedInAnnotation") == "YES")
        self.assertEqual(len(marked), 2)
        self.assertEqual(sorted(f["sop"] for f in findings), marked)
        self.assertTrue(all(f["frame"] == 0 for f in findings))

    def test_private_attributes(self):
        def plant(ds, i):
            block = ds.private_block(0x0009, "ACME 1.1", create=True)
            block.add_new(0x01, "LO", "site workflow data")
        self.assert_only(self.qc(self.phantom("private", plant=plant)), "phi_present",
                         "Private attributes")

    def test_patient_name_left(self):
        def plant(ds, i):
            ds.PatientName = "DOE^JANE"
        self.assert_only(self.qc(self.phantom("named", plant=plant)), "phi_present",
                         "Patient's Name")

    def test_overlong_patient_name(self):
        # Too long to be read as a fact, and so not taken for empty.
        def plant(ds, i):
            ds.PatientName = "A" * 3000
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom says it is too long; so it is
            path = self.phantom("longname", with_option(CLEAN, "--slices", "60"), plant=plant)
        self.assert_only(self.qc(path), "phi_present", "Patient's Name")

    def test_identity_not_removed(self):
        def plant(ds, i):
            ds.PatientIdentityRemoved = "NO"
        findings = self.assert_only(self.qc(self.phantom("kept", plant=plant)), "phi_present",
                                    "Patient Identity Removed")
        self.assertEqual(len(findings), 1)

    def test_identifying_data_inside_a_sequence(self):
        def plant(ds, i):
            item = pydicom.Dataset()
            item.ReferringPhysicianName = "WELBY^MARCUS"
            ds.ProcedureCodeSequence = pydicom.Sequence([item])
        self.assert_only(self.qc(self.phantom("nested", plant=plant)), "phi_present",
                         "Referring Physician's Name")

    def test_two_patients_in_one_folder(self):
        mixed = os.path.join(self.tmp, "mixed")
        self.phantom(os.path.join("mixed", "a"), patient="S-001")
        self.phantom(os.path.join("mixed", "b"), patient="S-002")
        result = self.qc(mixed)
        self.assertEqual(len(result["series"]), 2)
        for s in result["series"]:
            expected = {c: ("fail" if c == "wrong_subject_or_visit" else "pass")
                        for c in CHECKS}
            self.assertEqual(self.statuses(s), expected, s["checks"])
        self.assertEqual(sorted(f["category"] for f in result["findings"]),
                         ["wrong_subject_or_visit"] * 2)
        self.assertTrue(all("S-001" in f["comment"] and "S-002" in f["comment"]
                            for f in result["findings"]))

    def test_without_protocol(self):
        # The protocol's requirements are not judged; header checks are.
        path = self.phantom("noproto", with_option(CLEAN, "--slices", "20"))
        st = self.statuses(self.qc(path, protocol=False)["series"][0])
        self.assertEqual(st, {c: "pass" for c in CHECKS})

    def test_unreadable_input(self):
        junk = os.path.join(self.tmp, "junk")
        os.makedirs(junk, exist_ok=True)
        bad = os.path.join(junk, "x.dcm")
        with open(bad, "wb") as f:
            f.write(b"\0" * 128 + b"DICM" + os.urandom(2000))
        r = run([CLI, "qc", junk])
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(bad, lines[0])
        r = run([CLI, "qc", os.path.join(self.tmp, "does-not-exist")])
        self.assertEqual(r.returncode, 1)

    def test_one_unreadable_file_among_good_ones(self):
        path = self.phantom("partly", with_option(CLEAN, "--slices", "20"))
        bad = os.path.join(path, "zz-broken.dcm")
        with open(bad, "wb") as f:
            f.write(b"not dicom at all")
        r = run([CLI, "qc", path, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)["series"]), 1)
        self.assertIn(bad, r.stderr)

    def test_latin1_text(self):
        # Text in the file's character set reaches the JSON as UTF-8.
        def plant(ds, i):
            ds.SpecificCharacterSet = "ISO_IR 100"
            ds.ContrastBolusAgent = "ULTRAVIST \u00c4"
            ds.SeriesDescription = "Thorax M\u00fcller"
        path = self.phantom("latin1", plant=plant)
        with open(glob.glob(os.path.join(path, "*.dcm"))[0], "rb") as f:
            self.assertIn(b"ULTRAVIST \xc4", f.read())  # Latin-1 in the file
        checks = self.qc(path)["series"][0]["checks"]
        self.assertIn("ULTRAVIST \u00c4", checks[4]["message"])
        r = run([CLI, "qc", path])
        self.assertIn("Thorax M\u00fcller", r.stdout)

    def test_pydicom_corpus(self):
        # Files from many vendors and tools: checked or named as unreadable,
        # never a crash; findings keep the contract's shape.
        r = run([CLI, "qc", PYDICOM, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        result = json.loads(r.stdout)
        self.assertGreater(len(result["series"]), 20)
        categories = {"wrong_modality", "incomplete_coverage", "slice_thickness",
                      "missing_slices", "motion_artifact", "contrast_phase", "phi_present",
                      "wrong_subject_or_visit", "image_quality", "other"}
        for f in result["findings"]:
            self.assertIn(f["category"], categories)
            self.assertIn(f["severity"], ("minor", "major"))
            self.assertEqual("sop" in f, "frame" in f)
        for line in r.stderr.strip().splitlines():
            self.assertTrue(line.startswith("readroom-cli qc: warning: not checked: " + PYDICOM),
                            line)

    def test_corrupted_headers(self):
        # Bytes of a phantom header changed at random: exit 0 or 1 with one
        # line naming the file, never a crash or a hang.
        path = self.phantom("tocorrupt", with_option(CLEAN, "--slices", "2"))
        with open(sorted(glob.glob(os.path.join(path, "*.dcm")))[0], "rb") as f:
            original = f.read()
        rnd = random.Random(16)
        folder = os.path.join(self.tmp, "corrupt")
        os.makedirs(folder, exist_ok=True)
        for i in range(60):
            data = bytearray(original[:rnd.randint(140, len(original))])
            for _ in range(rnd.randint(1, 12)):
                data[rnd.randrange(132, min(len(data), 2500))] = rnd.getrandbits(8)
            bad = os.path.join(folder, "x.dcm")
            with open(bad, "wb") as f:
                f.write(data)
            r = run([CLI, "qc", folder, "--json"], timeout=30)
            self.assertIn(r.returncode, (0, 1), f"case {i}: {r.stderr}")
            if r.returncode == 1:
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertIn(bad, r.stderr)
            else:
                json.loads(r.stdout)

    def test_bad_protocol(self):
        path = self.phantom("forproto", with_option(CLEAN, "--slices", "5"))
        bad = os.path.join(self.tmp, "bad-protocol.json")
        for text in ('{"max_slice_thickness_mm": -1}', '{"min_coverage": 300}', "not json"):
            with open(bad, "w") as f:
                f.write(text)
            r = run([CLI, "qc", path, "--protocol", bad])
            self.assertEqual(r.returncode, 1, text)
            self.assertIn(bad, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = run([CLI, "qc"])
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
