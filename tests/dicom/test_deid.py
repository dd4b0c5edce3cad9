#!/usr/bin/python3
"""readroom-cli deid on real files (cli.md `deid`, PS3.15 Annex E): phantom
series with identifying values planted in Table E.1-1 attributes (in
sequences too), private attributes and dates, and pydicom's test files in
compressed and odd transfer syntaxes. Expected values come from the
contract and the profile, never from the tool's own output."""
import datetime
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import unittest

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
PYDICOM = os.environ.get("PYDICOM_DATA", "/usr/lib/python3/dist-packages/pydicom/data")
TEST_FILES = os.path.join(PYDICOM, "test_files")

SUBJECT = "RR-SUBJ-0007"
KEY_A = bytes(range(40))
KEY_B = bytes(range(100, 148))

# Values the profile must take out, wherever they were planted.
PLANTED = {
    "PatientName": "Doemeister^Johnathan^Quill",
    "PatientID": "MRN77881234",
    "PatientBirthDate": "19610415",
    "PatientBirthTime": "081517",
    "OtherPatientIDs": "OTHERID-5531",
    "OtherPatientNames": "Smithsonian^Janette",
    "PatientBirthName": "Birthname^Gwendolyn",
    "PatientMotherBirthName": "Motherly^Ethelinda",
    "PatientAddress": "42 Wallaby Way Sydney",
    "PatientTelephoneNumbers": "555-014-3388",
    "MedicalRecordLocator": "MRLOC-4242",
    "IssuerOfPatientID": "MercyMRNAuthority",
    "MilitaryRank": "Colonelissimo",
    "CountryOfResidence": "Freedonia",
    "RegionOfResidence": "Sylvania-Region",
    "PatientReligiousPreference": "Pastafarian",
    "ResponsiblePerson": "Guardian^Bartholomew",
    "AccessionNumber": "ACC9912077",
    "StudyID": "STUDY-4412",
    "InstitutionName": "Mercy General Hospital",
    "InstitutionAddress": "1 Hospital Plaza Springfield",
    "InstitutionalDepartmentName": "Oncoradiology Wing",
    "ReferringPhysicianName": "Kildare^Jamesdoctor",
    "PerformingPhysicianName": "Welby^Marcusperform",
    "PhysiciansOfRecord": "Quincy^Recordsdoc",
    "NameOfPhysiciansReadingStudy": "Casey^Readerdoc",
    "OperatorsName": "Operatorson^Technie",
    "StationName": "CTSTATION07",
    "DeviceSerialNumber": "SN4471902",
    "RequestingPhysician": "Requesting^Bartleby",
    "PerformedProcedureStepID": "PPS-778123",
    "ClinicalTrialSiteID": "SITE-0042X",
    "ClinicalTrialSiteName": "Springfield Cancer Centre",
    "ClinicalTrialProtocolName": "ARM-B-TREATMENT",
    "ClinicalTrialSubjectID": "TRIALSUBJ-88",
    "PerformedStationName": "PERFSTATION9",
    "PerformedLocation": "Basement Suite Four",
    "PerformedStationAETitle": "PERFAE77",
    "ConsultingPhysicianName": "Consultant^Hortensia",
    "ScheduledPerformingPhysicianName": "Scheduler^Philomena",
    "InsurancePlanIdentification": "INSPLAN-4411",
    "BranchOfService": "Royal Navy Reserve",
    "IssuerOfAdmissionID": "AdmitIssuerNine",
    "AdmissionID": "ADM-55231",
    "ServiceEpisodeID": "EPI-88213",
    "CurrentPatientLocation": "Ward 7B Bed 3",
    "PatientInstitutionResidence": "Sunny Acres Home",
    "ImagingServiceRequestComments": "urgent per Kildare",
    "PlacerOrderNumberImagingServiceRequest": "PLACER-1177",
    "FillerOrderNumberImagingServiceRequest": "FILLER-2288",
    "OrderEnteredBy": "Enterer^Quentin",
    "OrderCallbackPhoneNumber": "555-019-2211",
    "RequestingService": "Oncology Outpatients East",
    "DetectorID": "DET-99812",
    "GantryID": "GANTRY-77",
    "PlateID": "PLATE-3141",
    "CassetteID": "CASSETTE-2718",
    "StudyIDIssuer": "StudyIssuerCorp",
    "ReferringPhysicianAddress": "9 Doctor Lane Shelbyville",
    "ReferringPhysicianTelephoneNumbers": "555-017-7788",
    "PatientTelecomInformation": "doemeister@example.org",
    "ResponsibleOrganization": "Doemeister Family Trust",
}
# Instance UIDs beyond the four of every image: replaced (U).
PLANTED_UIDS = {
    "DeviceUID": "1.2.826.0.1.3680043.9.4242.1",
    "InstanceCreatorUID": "1.2.826.0.1.3680043.9.4242.2",
    "IrradiationEventUID": "1.2.826.0.1.3680043.9.4242.3",
}
# Planted inside sequence items.
IN_SEQUENCES = [
    "ALTMRN-99311", "StMarysRegistry",             # Other Patient IDs Sequence
    "REQPROC811", "SPS19191", "Requester^Henrietta",  # Request Attributes Sequence
    "CONTENTNOTE-XYZZY",                           # Content Sequence
    "Refpatient^Oswaldo",                          # Referenced Patient Sequence
    "INSTCODE-991",                                # Institution Code Sequence
]
PRIVATE = ["PRIVATE-PHI-3141", "Privateperson^Zebedee"]
NAME_WORDS = ["Doemeister", "Johnathan", "Operatorson"]


def run(args, timeout=300):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def expected_uid(key, uid, subject=SUBJECT):
    """The contract of docs/deid.md: HMAC-SHA256(key, subject NUL uid), the
    first 16 bytes as an RFC 9562 version 8 UUID, written as a 2.25 UID."""
    msg = subject.encode() + b"\0" + uid.encode()
    mac = bytearray(hmac.new(key, msg, hashlib.sha256).digest()[:16])
    mac[6] = (mac[6] & 0x0F) | 0x80
    mac[8] = (mac[8] & 0x3F) | 0x80
    return "2.25." + str(int.from_bytes(mac, "big"))


def expected_shift(key, subject):
    """docs/deid.md: minus (365 + h mod 3288) days, h the first 8 bytes of
    HMAC-SHA256(key, "readroom-deid-date-shift" NUL subject)."""
    mac = hmac.new(key, b"readroom-deid-date-shift\0" + subject.encode(), hashlib.sha256)
    return -(365 + int.from_bytes(mac.digest()[:8], "big") % 3288)


def read_bytes(path, n=-1):
    with open(path, "rb") as f:
        return f.read(n)


def without_new_uids(path):
    """The file's bytes with every UID the profile made (2.25 and up to 39
    digits, from an HMAC) blanked out. Those digits come from random source
    UIDs and can hold any six in a row, a planted birth time among them; a
    UID the profile made is no leak, and the UID tests check it is the
    right one."""
    return re.sub(rb"2\.25\.[0-9]{1,39}", lambda m: b"#" * len(m.group(0)),
                  read_bytes(path))


def day(s):
    return datetime.date(int(s[0:4]), int(s[4:6]), int(s[6:8]))


def errors_of(path):
    r = run(["dciodvfy", path])
    return sorted({l.strip() for l in (r.stdout + r.stderr).splitlines()
                   if l.startswith("Error")})


def plant(ds, prev_sop, study_uid):
    for k, v in PLANTED.items():
        setattr(ds, k, v)
    for k, v in PLANTED_UIDS.items():
        setattr(ds, k, v)
    ds.ProtocolName = "Johnathan chest protocol"
    ds.PerformedProcedureStepDescription = "PPS for Doemeister Johnathan"
    ds.DerivationDescription = "derived by Operatorson"
    inst = Dataset()
    inst.CodeValue = "INSTCODE-991"
    inst.CodingSchemeDesignator = "LOCAL"
    inst.CodeMeaning = "Mercy General Hospital"
    ds.InstitutionCodeSequence = Sequence([inst])
    ds.PatientAge = "063Y"
    ds.PatientWeight = "71.5"
    ds.PatientSize = "1.76"
    ds.AcquisitionDate = ds.StudyDate
    ds.InstanceCreationDate = ds.StudyDate
    ds.AcquisitionDateTime = ds.StudyDate + "093012.5+0100"
    ds.AcquisitionTime = "093012"
    ds.StudyDescription = "CT CHEST for Doemeister"
    ds.SeriesDescription = "Johnathan venous phase"
    ds.ImageComments = "scanned by Operatorson"
    ds.AdditionalPatientHistory = "Johnathan Doemeister reports chest pain"

    other = Dataset()
    other.PatientID = "ALTMRN-99311"
    other.IssuerOfPatientID = "StMarysRegistry"
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])

    req = Dataset()
    req.RequestedProcedureID = "REQPROC811"
    req.ScheduledProcedureStepID = "SPS19191"
    req.RequestingPhysician = "Requester^Henrietta"
    ds.RequestAttributesSequence = Sequence([req])

    ref_study = Dataset()
    ref_study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    ref_study.ReferencedSOPInstanceUID = study_uid
    ds.ReferencedStudySequence = Sequence([ref_study])

    ref_pat = Dataset()
    ref_pat.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.1.1"
    ref_pat.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.9.777"
    ref_pat.PatientName = "Refpatient^Oswaldo"
    ds.ReferencedPatientSequence = Sequence([ref_pat])

    note = Dataset()
    note.RelationshipType = "CONTAINS"
    note.ValueType = "TEXT"
    note.TextValue = "CONTENTNOTE-XYZZY"
    ds.ContentSequence = Sequence([note])

    if prev_sop:
        src = Dataset()
        src.ReferencedSOPClassUID = ds.SOPClassUID
        src.ReferencedSOPInstanceUID = prev_sop
        ds.ReferencedImageSequence = Sequence([src])
        ds.SourceImageSequence = Sequence([src])

    block = ds.private_block(0x0029, "ACME PHI 1.0", create=True)
    block.add_new(0x01, "LO", "PRIVATE-PHI-3141")
    inner = Dataset()
    inner.add_new(0x00291010, "LO", "ACME PHI 1.0")
    inner.add_new(0x00291001, "PN", "Privateperson^Zebedee")
    block.add_new(0x02, "SQ", Sequence([inner]))


class Planted(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-deid-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        gen = os.path.join(cls.tmp, "gen")
        r = run([PHANTOM, gen, "--size", "48", "--slices", "4", "--timepoints", "2",
                 "--interval-days", "56", "--noise", "0"])
        assert r.returncode == 0, r.stderr
        cls.raw = os.path.join(cls.tmp, "raw")
        cls.inputs = {}   # raw path -> planted dataset
        for tp in sorted(os.listdir(gen)):
            os.makedirs(os.path.join(cls.raw, tp))
            prev = None
            for f in sorted(os.listdir(os.path.join(gen, tp))):
                ds = pydicom.dcmread(os.path.join(gen, tp, f))
                plant(ds, prev, ds.StudyInstanceUID)
                prev = ds.SOPInstanceUID
                path = os.path.join(cls.raw, tp, f)
                ds.save_as(path, write_like_original=False)
                cls.inputs[path] = pydicom.dcmread(path)
        cls.key_a = os.path.join(cls.tmp, "key-a")
        cls.key_b = os.path.join(cls.tmp, "key-b")
        with open(cls.key_a, "wb") as f:
            f.write(KEY_A)
        with open(cls.key_b, "wb") as f:
            f.write(KEY_B)
        cls.out = {}
        for name, key, extra in (("a1", cls.key_a, []), ("a2", cls.key_a, []),
                                 ("dates", cls.key_a, ["--retain-dates"]),
                                 ("b", cls.key_b, [])):
            out = os.path.join(cls.tmp, "out-" + name)
            r = run([CLI, "deid", cls.raw, out, "--subject", SUBJECT, "--key", key, "--json",
                     *extra])
            assert r.returncode == 0, r.stderr
            cls.out[name] = (out, json.loads(r.stdout))

    def output_of(self, run_name, path, key=KEY_A):
        out = self.cls_out(run_name)
        return os.path.join(out, expected_uid(key, self.inputs[path].SOPInstanceUID) + ".dcm")

    def cls_out(self, run_name):
        return self.out[run_name][0]

    def out_files(self, run_name):
        d = self.cls_out(run_name)
        return sorted(os.path.join(d, f) for f in os.listdir(d))

    def test_json_counts(self):
        out, j = self.out["a1"]
        self.assertEqual(set(j), {"files", "written", "warnings", "uids"})
        self.assertEqual(j["files"], 8)
        self.assertEqual(j["written"], 8)
        self.assertEqual(j["warnings"], [])
        # 8 SOP + 2 study + 2 series + 2 frames of reference + 3 planted
        # (device, instance creator, irradiation event); the referenced
        # patient's UID goes with its sequence (X), unmapped.
        self.assertEqual(j["uids"], 17)
        self.assertEqual(len(os.listdir(out)), 8)

    def test_files_named_by_new_sop_uid(self):
        for path, ds in self.inputs.items():
            out = self.output_of("a1", path)
            self.assertTrue(os.path.exists(out), out)
            o = pydicom.dcmread(out)
            self.assertEqual(o.SOPInstanceUID, expected_uid(KEY_A, ds.SOPInstanceUID))
            self.assertEqual(o.file_meta.MediaStorageSOPInstanceUID, o.SOPInstanceUID)
            self.assertLessEqual(len(o.SOPInstanceUID), 64)

    def test_no_planted_value_in_output_bytes(self):
        needles = (list(PLANTED.values()) + IN_SEQUENCES + PRIVATE + NAME_WORDS +
                   ["20260105", "20260302"])
        for name in ("a1", "b"):
            for f in self.out_files(name):
                data = without_new_uids(f)
                for n in needles:
                    self.assertFalse(n.encode() in data, f"{n} in {f}")
                    self.assertFalse(n.upper().encode() in data, f"{n} in {f}")

    def test_no_original_uid_in_output_bytes(self):
        uids = set()
        for ds in self.inputs.values():
            uids |= {ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID,
                     ds.FrameOfReferenceUID}
        uids |= set(PLANTED_UIDS.values())
        for f in self.out_files("a1") + self.out_files("dates"):
            data = read_bytes(f)
            for u in uids:
                self.assertFalse(u.encode() in data, f"{u} in {f}")

    def test_private_attributes_removed(self):
        for f in self.out_files("a1"):
            o = pydicom.dcmread(f)
            for elem in o.iterall():
                self.assertFalse(elem.tag.is_private, f"{elem.tag} in {f}")

    def test_subject_and_profile_marks(self):
        for f in self.out_files("a1"):
            o = pydicom.dcmread(f)
            self.assertEqual(str(o.PatientName), SUBJECT)
            self.assertEqual(o.PatientID, SUBJECT)
            self.assertEqual(o.PatientIdentityRemoved, "YES")
            self.assertTrue(o.DeidentificationMethod)
            codes = {(i.CodeValue, i.CodingSchemeDesignator)
                     for i in o.DeidentificationMethodCodeSequence}
            self.assertEqual(codes, {("113100", "DCM"), ("113105", "DCM"), ("113108", "DCM")})
            self.assertEqual(o.PatientBirthDate, "")
            self.assertNotIn("OtherPatientIDsSequence", o)
            self.assertNotIn("RequestAttributesSequence", o)
            self.assertNotIn("ContentSequence", o)
            self.assertNotIn("ReferencedPatientSequence", o)
            # X/Z: emptied, so the study reference goes with it.
            self.assertEqual(len(o.get("ReferencedStudySequence", [])), 0)

    def test_patient_characteristics_kept(self):
        for f in self.out_files("a1"):
            o = pydicom.dcmread(f)
            self.assertEqual(o.PatientAge, "063Y")
            self.assertEqual(str(o.PatientWeight), "71.5")
            self.assertEqual(str(o.PatientSize), "1.76")

    def test_descriptors_cleaned_not_dropped(self):
        for f in self.out_files("a1"):
            o = pydicom.dcmread(f)
            self.assertEqual(o.StudyDescription, "CT CHEST for")
            self.assertEqual(o.SeriesDescription, "venous phase")
            self.assertEqual(o.ImageComments, "scanned by")
            self.assertEqual(o.AdditionalPatientHistory, "reports chest pain")
            self.assertEqual(o.ProtocolName, "chest protocol")
            self.assertEqual(o.PerformedProcedureStepDescription, "PPS for")
            self.assertEqual(o.DerivationDescription, "derived by")

    def test_uids_consistent_and_references_whole(self):
        outs = {p: pydicom.dcmread(self.output_of("a1", p)) for p in self.inputs}
        by_study = {}
        for p, ds in self.inputs.items():
            o = outs[p]
            by_study.setdefault(ds.StudyInstanceUID, set()).add(
                (o.StudyInstanceUID, o.SeriesInstanceUID, o.FrameOfReferenceUID))
            self.assertEqual(o.StudyInstanceUID, expected_uid(KEY_A, ds.StudyInstanceUID))
            self.assertEqual(o.FrameOfReferenceUID, expected_uid(KEY_A, ds.FrameOfReferenceUID))
            if "ReferencedImageSequence" in ds:
                want = expected_uid(KEY_A, ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID)
                for seq in ("ReferencedImageSequence", "SourceImageSequence"):
                    got = o[seq].value[0].ReferencedSOPInstanceUID
                    self.assertEqual(got, want)
                    self.assertTrue(os.path.exists(os.path.join(self.cls_out("a1"),
                                                                got + ".dcm")))
        self.assertEqual(len(by_study), 2)
        for triples in by_study.values():
            self.assertEqual(len(triples), 1)

    def test_same_across_runs_other_across_keys(self):
        a1 = [os.path.basename(f) for f in self.out_files("a1")]
        a2 = [os.path.basename(f) for f in self.out_files("a2")]
        b = [os.path.basename(f) for f in self.out_files("b")]
        self.assertEqual(a1, a2)
        self.assertEqual(set(a1) & set(b), set())
        for f in a1:
            with open(os.path.join(self.cls_out("a1"), f), "rb") as x, \
                 open(os.path.join(self.cls_out("a2"), f), "rb") as y:
                self.assertEqual(x.read(), y.read(), f)

    def test_uids_depend_on_the_subject(self):
        """One source study de-identified for two subjects (a site's wrong
        first choice, then the right one) gives two sets of UIDs, none
        shared (s9 walk, M3: the server refused the right one for good);
        the same subject twice gives the same UIDs (a2 above)."""
        other = os.path.join(self.tmp, "out-other-subject")
        r = run([CLI, "deid", self.raw, other, "--subject", "RR-SUBJ-0008", "--key",
                 self.key_a])
        self.assertEqual(r.returncode, 0, r.stderr)
        mine = {os.path.basename(f) for f in self.out_files("a1")}
        theirs = set(os.listdir(other))
        self.assertEqual(len(theirs), 8)
        self.assertEqual(mine & theirs, set())
        studies = {}
        for p, ds in self.inputs.items():
            o = pydicom.dcmread(os.path.join(
                other, expected_uid(KEY_A, ds.SOPInstanceUID, "RR-SUBJ-0008") + ".dcm"))
            a = pydicom.dcmread(self.output_of("a1", p))
            self.assertEqual(o.StudyInstanceUID,
                             expected_uid(KEY_A, ds.StudyInstanceUID, "RR-SUBJ-0008"))
            for attr in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
                self.assertNotEqual(o[attr].value, a[attr].value, attr)
            studies.setdefault(o.StudyInstanceUID, set()).add(o.SeriesInstanceUID)
            if "ReferencedImageSequence" in ds:
                got = o.ReferencedImageSequence[0].ReferencedSOPInstanceUID
                self.assertTrue(os.path.exists(os.path.join(other, got + ".dcm")))
        self.assertEqual(len(studies), 2)
        self.assertEqual(set(os.listdir(self.cls_out("a2"))), mine)

    def test_pixel_data_identical_preamble_zero(self):
        for p, ds in self.inputs.items():
            out = self.output_of("a1", p)
            o = pydicom.dcmread(out)
            self.assertEqual(o.PixelData, ds.PixelData)
            self.assertEqual(o.file_meta.TransferSyntaxUID, ds.file_meta.TransferSyntaxUID)
            head = read_bytes(out, 132)
            self.assertEqual(head, b"\0" * 128 + b"DICM")

    def test_dates_shifted_consistently(self):
        shifts = set()
        intervals = {}
        for p, ds in self.inputs.items():
            o = pydicom.dcmread(self.output_of("dates", p))
            for a in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate",
                      "InstanceCreationDate"):
                shifts.add((day(o[a].value) - day(ds[a].value)).days)
            self.assertEqual((day(o.AcquisitionDateTime) - day(ds.AcquisitionDateTime)).days,
                             (day(o.StudyDate) - day(ds.StudyDate)).days)
            # Times kept, the DT's time and offset too.
            self.assertEqual(o.AcquisitionDateTime[8:], "093012.5+0100")
            self.assertEqual(o.StudyTime, ds.StudyTime)
            self.assertEqual(o.AcquisitionTime, "093012")
            self.assertEqual(o.SeriesTime, ds.SeriesTime)
            self.assertEqual(o.PatientBirthDate, "")
            self.assertEqual(o.LongitudinalTemporalInformationModified, "MODIFIED")
            codes = {i.CodeValue for i in o.DeidentificationMethodCodeSequence}
            self.assertEqual(codes, {"113100", "113105", "113108", "113107"})
            intervals[o.StudyDate] = ds.StudyDate
        self.assertEqual(len(shifts), 1, shifts)
        shift = shifts.pop()
        self.assertEqual(shift, expected_shift(KEY_A, SUBJECT))
        self.assertTrue(-3652 <= shift <= -365, shift)
        new = sorted(intervals)
        self.assertEqual((day(new[1]) - day(new[0])).days, 56)

    def test_own_output_passes_qc(self):
        """QC of deid's own output finds no identifying data (s9 walk, M1):
        where Table E.1-1 allows Z (X/Z/D: Institution Name, Station Name,
        Operators' Name) the value is emptied, not given a dummy that QC
        would read as a name; the raw input is flagged, so QC looks."""
        r = run([CLI, "qc", self.raw, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        raw = json.loads(r.stdout)
        self.assertTrue(any(f["category"] == "phi_present" and "Institution Name" in f["comment"]
                            for f in raw["findings"]), raw["findings"])
        for name in ("a1", "dates"):
            r = run([CLI, "qc", self.cls_out(name), "--json"])
            self.assertEqual(r.returncode, 0, r.stderr)
            result = json.loads(r.stdout)
            self.assertEqual(len(result["series"]), 2)
            for series in result["series"]:
                st = {c["check"]: c for c in series["checks"]}
                self.assertEqual(st["phi_present"]["status"], "pass", st["phi_present"])
            self.assertEqual([f for f in result["findings"] if f["category"] == "phi_present"],
                             [])
        for f in self.out_files("a1"):
            o = pydicom.dcmread(f)
            for a in ("InstitutionName", "StationName", "OperatorsName"):
                self.assertEqual(str(o.get(a, "")), "", a)
            # D stays where the attribute is Type 1 in some IOD (Enhanced
            # General Equipment): a dummy, not the planted serial number.
            self.assertEqual(o.DeviceSerialNumber, "REMOVED")
            self.assertNotIn("InstitutionCodeSequence", o)

    def test_dates_removed_without_option(self):
        for f in self.out_files("a1"):
            o = pydicom.dcmread(f)
            self.assertEqual(o.StudyDate, "")
            self.assertEqual(o.LongitudinalTemporalInformationModified, "REMOVED")

    def test_dciodvfy_no_new_errors(self):
        if shutil.which("dciodvfy") is None:
            self.skipTest("dciodvfy (dicom3tools) missing")
        for run_name in ("a1", "dates"):
            for p in self.inputs:
                before = errors_of(p)
                after = errors_of(self.output_of(run_name, p))
                self.assertEqual([e for e in after if e not in before], [], p)


class PydicomFiles(unittest.TestCase):
    """Compressed, big-endian, deflated and non-image objects: pixel data
    copied as stored, no new dciodvfy errors, nothing of the patient left."""
    FILES = ["CT_small.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm", "JPEG2000.dcm",
             "JPEG-lossy.dcm", "SC_rgb_jpeg_gdcm.dcm", "image_dfl.dcm", "rtdose.dcm",
             "liver_1frame.dcm", "rtstruct.dcm", "rtplan.dcm", "test-SR.dcm",
             "MR_small_jpeg_ls_lossless.dcm", "waveform_ecg.dcm"]

    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(TEST_FILES):
            raise unittest.SkipTest("pydicom test files missing")
        cls.tmp = tempfile.mkdtemp(prefix="rr-deid-py-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.key = os.path.join(cls.tmp, "key")
        with open(cls.key, "wb") as f:
            f.write(KEY_A)

    def test_each(self):
        for name in self.FILES:
            with self.subTest(name):
                src = os.path.join(TEST_FILES, name)
                ds = pydicom.dcmread(src, force=True)
                out = os.path.join(self.tmp, name)
                r = run([CLI, "deid", src, out, "--subject", SUBJECT, "--key", self.key])
                self.assertEqual(r.returncode, 0, r.stderr)
                target = os.path.join(out, expected_uid(KEY_A, ds.SOPInstanceUID) + ".dcm")
                o = pydicom.dcmread(target)
                if "TransferSyntaxUID" in getattr(ds, "file_meta", {}):
                    self.assertEqual(o.file_meta.TransferSyntaxUID,
                                     ds.file_meta.TransferSyntaxUID)
                if "PixelData" in ds:
                    self.assertEqual(o.PixelData, ds.PixelData)
                self.assertEqual(str(o.PatientName), SUBJECT)
                data = read_bytes(target)
                for a in ("PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID",
                          "SOPInstanceUID"):
                    v = str(ds.get(a, "")).strip()
                    if len(v) >= 6 and v != SUBJECT:
                        self.assertFalse(v.encode() in data, a)
                for a in ("InstitutionName", "ReferringPhysicianName", "PatientBirthDate",
                          "StationName", "OperatorsName", "AccessionNumber"):
                    if a in ds and ds[a].value:
                        self.assertIn(str(o.get(a, "")), ("", "REMOVED"), a)
                for elem in o.iterall():
                    self.assertFalse(elem.tag.is_private, elem.tag)
                if shutil.which("dciodvfy"):
                    before = errors_of(src)
                    self.assertEqual([e for e in errors_of(target) if e not in before], [])


class RawPixelCopy(unittest.TestCase):
    """A file that ends with its pixels has them copied as raw bytes; one
    with anything after them is re-encoded by dcmtk. Both must give the
    same output, byte for byte."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-deid-raw-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.key = os.path.join(cls.tmp, "key")
        with open(cls.key, "wb") as f:
            f.write(KEY_A)
        gen = os.path.join(cls.tmp, "gen")
        for ts in ("explicit", "implicit", "big-endian", "rle", "j2k"):
            r = run([PHANTOM, os.path.join(gen, ts), "--size", "40", "--slices", "1",
                     "--transfer-syntax", ts])
            assert r.returncode == 0, r.stderr
        cls.sources = [os.path.join(gen, ts, f) for ts in sorted(os.listdir(gen))
                       for f in os.listdir(os.path.join(gen, ts))]
        for name in ("MR_small_bigendian.dcm", "JPEG2000.dcm", "SC_rgb_jpeg_gdcm.dcm"):
            cls.sources.append(os.path.join(TEST_FILES, name))
        # A header of about 400 KiB (4000 image references, kept with their
        # UIDs replaced): more than the 128 KiB that deid encodes a header
        # in at a time before its one write.
        ds = pydicom.dcmread(os.path.join(gen, "explicit", os.listdir(
            os.path.join(gen, "explicit"))[0]))
        refs = []
        for k in range(4000):
            item = pydicom.Dataset()
            item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
            item.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.9.7777.{k}"
            refs.append(item)
        ds.ReferencedImageSequence = pydicom.Sequence(refs)
        big = os.path.join(cls.tmp, "big-header.dcm")
        ds.save_as(big)
        cls.sources.append(big)

    def test_same_bytes_either_way(self):
        for i, src in enumerate(self.sources):
            with self.subTest(src):
                ds = pydicom.dcmread(src)
                padded = os.path.join(self.tmp, f"padded-{i}.dcm")
                # After the pixels: trailing padding and a private group,
                # both removed by the profile.
                ds.add_new(0x7FE10010, "LO", "ACME AFTER")
                ds.add_new(0x7FE11001, "LO", "PRIVATE-AFTER-PIXELS")
                ds.add_new(0xFFFCFFFC, "OB", b"\0" * 64)
                ds.save_as(padded)
                outs = []
                for tag, path in (("plain", src), ("padded", padded)):
                    out = os.path.join(self.tmp, f"o-{i}-{tag}")
                    r = run([CLI, "deid", path, out, "--subject", SUBJECT, "--key", self.key])
                    self.assertEqual(r.returncode, 0, r.stderr)
                    files = os.listdir(out)
                    self.assertEqual(len(files), 1)
                    outs.append(read_bytes(os.path.join(out, files[0])))
                self.assertFalse(b"PRIVATE-AFTER-PIXELS" in outs[1])
                self.assertEqual(outs[0], outs[1])
                o = pydicom.dcmread(os.path.join(self.tmp, f"o-{i}-plain",
                                                 os.listdir(os.path.join(self.tmp,
                                                                         f"o-{i}-plain"))[0]))
                self.assertEqual(o.PixelData, pydicom.dcmread(src).PixelData)


class PixelCopyDistance(unittest.TestCase):
    """The pixels are copied in the kernel, or through a buffer when the
    output's pixel element lies 1 to 63 bytes past the input's within a
    page (a copy at that distance ran at a third of its speed): every
    distance gives the bytes that dcmtk writes itself."""

    def test_every_distance_same_bytes(self):
        tmp = tempfile.mkdtemp(prefix="rr-deid-dist-")
        self.addCleanup(shutil.rmtree, tmp, True)
        key = os.path.join(tmp, "key")
        with open(key, "wb") as f:
            f.write(KEY_A)
        gen = os.path.join(tmp, "gen")
        # 512 KiB of pixels: more than one 256 KiB buffer's worth.
        r = run([PHANTOM, gen, "--size", "512", "--slices", "1"])
        self.assertEqual(r.returncode, 0, r.stderr)
        (name,) = os.listdir(gen)
        base = pydicom.dcmread(os.path.join(gen, name))
        # What deid adds anew, taken out of the input: its header becomes
        # shorter than the output's, and the private value below brings
        # it past it.
        for kw in ("PatientIdentityRemoved", "DeidentificationMethod",
                   "DeidentificationMethodCodeSequence"):
            if kw in base:
                delattr(base, kw)
        distances = set()
        # A private value (removed by the profile) of 250 to 400 bytes moves
        # the input's pixels and so the distance; the output stays the same.
        for n in range(250, 400, 6):
            ds = base.copy()
            ds.add_new(0x00091010, "LO", "ACME")
            ds.add_new(0x00091001, "OB", b"x" * n)
            plain = os.path.join(tmp, f"plain-{n}.dcm")
            ds.save_as(plain)
            # Something after the pixels: dcmtk writes the whole file.
            ds.add_new(0xFFFCFFFC, "OB", b"\0" * 64)
            padded = os.path.join(tmp, f"padded-{n}.dcm")
            ds.save_as(padded)
            outs = []
            for tag, path in (("plain", plain), ("padded", padded)):
                out = os.path.join(tmp, f"o-{n}-{tag}")
                r = run([CLI, "deid", path, out, "--subject", SUBJECT, "--key", key])
                self.assertEqual(r.returncode, 0, r.stderr)
                (f,) = os.listdir(out)
                outs.append(read_bytes(os.path.join(out, f)))
            with self.subTest(n=n):
                self.assertEqual(outs[0], outs[1])
                self.assertEqual(pydicom.dcmread(os.path.join(
                    tmp, f"o-{n}-plain", os.listdir(os.path.join(tmp, f"o-{n}-plain"))[0]))
                    .PixelData, base.PixelData)
            # Both files end with the same pixel element.
            distances.add((len(outs[0]) - os.path.getsize(plain)) % 4096)
        self.assertTrue(any(1 <= d < 64 for d in distances), distances)
        self.assertTrue(any(d == 0 or d >= 64 for d in distances), distances)


class KeptHeaders(unittest.TestCase):
    """deid keeps the headers its learning pass parsed, up to about 64 MiB
    of dcmtk's objects (4 KiB plus 8 times a header's encoded size), and
    reads the rest again: both kinds give what each file alone gives."""

    def test_kept_and_read_again_alike(self):
        tmp = tempfile.mkdtemp(prefix="rr-deid-kept-")
        self.addCleanup(shutil.rmtree, tmp, True)
        key = os.path.join(tmp, "key")
        with open(key, "wb") as f:
            f.write(KEY_A)
        src = os.path.join(tmp, "src")
        r = run([PHANTOM, src, "--size", "16", "--slices", "24", "--noise", "0",
                 "--patient-name", "Phantom^Synthetic"])
        self.assertEqual(r.returncode, 0, r.stderr)
        # 24 headers of about 500 KiB: about 4 MB each counted, 97 MB in
        # all, so that most are kept and the last ones read again.
        refs = []
        for k in range(6000):
            item = Dataset()
            item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
            item.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.9.7778.{k}"
            refs.append(item)
        refs = Sequence(refs)
        for name in os.listdir(src):
            path = os.path.join(src, name)
            ds = pydicom.dcmread(path)
            ds.ReferencedImageSequence = refs
            ds.save_as(path)
        out = os.path.join(tmp, "out")
        r = run([CLI, "deid", src, out, "--subject", SUBJECT, "--key", key, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["written"], 24)
        together = {f: read_bytes(os.path.join(out, f)) for f in os.listdir(out)}
        for name in sorted(os.listdir(src)):
            alone = os.path.join(tmp, "alone-" + name)
            r = run([CLI, "deid", os.path.join(src, name), alone, "--subject", SUBJECT,
                     "--key", key])
            self.assertEqual(r.returncode, 0, r.stderr)
            (f,) = os.listdir(alone)
            with self.subTest(name):
                self.assertEqual(together[f], read_bytes(os.path.join(alone, f)))


class Dictionary(unittest.TestCase):
    """deid starts without dcmtk's private dictionary and reads it only for
    a file whose private elements take their VR from the dictionary
    (implicit VR, UN): its outputs are byte for byte those made with the
    full dictionary from the start (DCMDICTPATH set by the user)."""
    HIDDEN = "Hiddenname^Zorblax"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-deid-dict-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        dics = sorted(d for d in os.listdir("/usr/share") if d.startswith("libdcmtk"))
        full = [os.path.join("/usr/share", dics[-1], n) for n in ("dicom.dic", "private.dic")]
        if not dics or not all(os.path.exists(p) for p in full):
            raise unittest.SkipTest("dcmtk's dicom.dic and private.dic not found")
        cls.full = ":".join(full)
        gen = os.path.join(cls.tmp, "gen")
        r = run([PHANTOM, gen, "--size", "32", "--slices", "3", "--noise", "0"])
        assert r.returncode == 0, r.stderr
        src = sorted(os.path.join(gen, f) for f in os.listdir(gen))
        cls.raw = os.path.join(cls.tmp, "raw")
        os.makedirs(cls.raw)
        # A private sequence that private.dic knows (CARDIO-D.R. 1.0,
        # (0009,xx40) SQ) holding a name that a descriptor repeats: in
        # implicit VR only the private dictionary makes it a sequence. Every
        # file implicit: deid learns such values from all files of a run.
        for i, path in enumerate(src):
            ds = pydicom.dcmread(path)
            plant(ds, None, ds.StudyInstanceUID)
            ds.StudyDescription = "Study of Hiddenname for Zorblax"
            block = ds.private_block(0x0009, "CARDIO-D.R. 1.0", create=True)
            inner = Dataset()
            inner.PatientName = cls.HIDDEN
            block.add_new(0x40, "SQ", Sequence([inner]))
            ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
            ds.is_implicit_VR, ds.is_little_endian = True, True
            ds.save_as(os.path.join(cls.raw, f"f{i}.dcm"), write_like_original=False)
        cls.key = os.path.join(cls.tmp, "key")
        with open(cls.key, "wb") as f:
            f.write(KEY_A)

    def deid(self, src, name, env_extra, *extra):
        out = os.path.join(self.tmp, name)
        env = dict(os.environ)
        env.pop("DCMDICTPATH", None)
        env.update(env_extra)
        r = subprocess.run([CLI, "deid", src, out, "--subject", SUBJECT, "--key", self.key,
                            *extra], capture_output=True, text=True, timeout=300, env=env)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return out, r

    def assert_same_outputs(self, a, b, skip=()):
        names = sorted(os.listdir(a))
        self.assertEqual(names, sorted(os.listdir(b)))
        self.assertGreater(len(names), 0)
        for n in names:
            if n in skip:
                continue
            self.assertEqual(read_bytes(os.path.join(a, n)), read_bytes(os.path.join(b, n)), n)

    def test_private_sequence_in_implicit_vr(self):
        pub, r1 = self.deid(self.raw, "pub", {})
        full, r2 = self.deid(self.raw, "full", {"DCMDICTPATH": self.full})
        self.assertEqual((r1.returncode, r1.stdout, r1.stderr), (0, r2.stdout, r2.stderr))
        self.assert_same_outputs(pub, full)
        # The name inside the private sequence was learned (Clean
        # Descriptors) in the implicit VR files too.
        for n in os.listdir(pub):
            ds = pydicom.dcmread(os.path.join(pub, n))
            self.assertNotIn("Hiddenname", ds.StudyDescription)
            self.assertNotIn("Zorblax", ds.StudyDescription)
            self.assertNotIn(b"Zorblax", read_bytes(os.path.join(pub, n)))

    def test_pydicom_files(self):
        """pydicom's test files: implicit VR, big endian, odd private data,
        files that do not parse, and some that share a SOP Instance UID
        (the first of each in the walk's order is written, the others of
        other content fail: test_same_instance_twice)."""
        pub, r1 = self.deid(TEST_FILES, "pyd-pub", {}, "--threads", "1")
        full, r2 = self.deid(TEST_FILES, "pyd-full", {"DCMDICTPATH": self.full},
                             "--threads", "1")
        self.assertEqual((r1.returncode, r1.stdout, r1.stderr),
                         (r2.returncode, r2.stdout, r2.stderr))
        self.assert_same_outputs(pub, full)

    def test_sop_instance_uid_as_un(self):
        """rtdose_rle.dcm stores every attribute as UN: its SOP Instance UID
        cannot be mapped, and the file is refused rather than written
        without one (it was written as ".dcm", a random UID in its meta)."""
        src = os.path.join(self.tmp, "un")
        os.makedirs(src)
        un = os.path.join(src, "a-un.dcm")
        shutil.copy(os.path.join(TEST_FILES, "rtdose_rle.dcm"), un)
        shutil.copy(os.path.join(TEST_FILES, "CT_small.dcm"), os.path.join(src, "b-ct.dcm"))
        out, r = self.deid(src, "un-out", {})
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(un, lines[0])
        self.assertIn("SOP Instance UID", lines[0])
        ct = pydicom.dcmread(os.path.join(TEST_FILES, "CT_small.dcm"))
        self.assertEqual(os.listdir(out), [expected_uid(KEY_A, ct.SOPInstanceUID) + ".dcm"])


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-deid-cli-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.ct = os.path.join(cls.tmp, "ct")
        r = run([PHANTOM, cls.ct, "--size", "32", "--slices", "3", "--noise", "0",
                 "--patient-name", "Phantom^Synthetic"])
        assert r.returncode == 0, r.stderr
        cls.key = os.path.join(cls.tmp, "key")
        with open(cls.key, "wb") as f:
            f.write(KEY_A)

    def test_short_key(self):
        short = os.path.join(self.tmp, "short")
        with open(short, "wb") as f:
            f.write(b"k" * 31)
        out = os.path.join(self.tmp, "o-short")
        r = run([CLI, "deid", self.ct, out, "--subject", SUBJECT, "--key", short])
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(short, lines[0])
        self.assertIn("32", lines[0])
        self.assertFalse(os.path.exists(out))

    def test_usage(self):
        out = os.path.join(self.tmp, "o-usage")
        for args in (["--key", self.key], ["--subject", SUBJECT],
                     ["--subject", "A^B", "--key", self.key],
                     ["--subject", "x" * 65, "--key", self.key]):
            r = run([CLI, "deid", self.ct, out, *args])
            self.assertEqual(r.returncode, 2, args)
        r = run([CLI, "deid", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--retain-dates", r.stdout)

    def test_same_instance_twice(self):
        """Two inputs, one SOP Instance UID: outputs are named by the new
        UID, and the later file silently replaced the earlier one. A copy
        of the same file is written once and said (a warning naming the
        first); a file of other content under the same UID is not written,
        and the run fails naming both, the first one's output kept."""
        d = os.path.join(self.tmp, "twice")
        os.makedirs(d)
        src = os.path.join(self.ct, sorted(os.listdir(self.ct))[0])
        a, b, c = (os.path.join(d, n) for n in ("a.dcm", "b-copy.dcm", "c-other.dcm"))
        shutil.copy(src, a)
        shutil.copy(src, b)
        other = pydicom.dcmread(src)
        other.SeriesDescription = "Another series description"
        other.save_as(c)
        alone = os.path.join(self.tmp, "twice-alone-in")
        os.makedirs(alone)
        shutil.copy(src, os.path.join(alone, "a.dcm"))
        ref = os.path.join(self.tmp, "o-twice-alone")
        r = run([CLI, "deid", alone, ref, "--subject", SUBJECT, "--key", self.key])
        self.assertEqual(r.returncode, 0, r.stderr)
        for threads in ("1", "2"):
            out = os.path.join(self.tmp, "o-twice-" + threads)
            r = run([CLI, "deid", d, out, "--subject", SUBJECT, "--key", self.key, "--json",
                     "--threads", threads])
            self.assertEqual(r.returncode, 1, r.stderr)
            j = json.loads(r.stdout)
            self.assertEqual(j["files"], 3)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            # Files are taken in name order whatever the threads: a.dcm is
            # the first, the others are measured against it.
            self.assertIn(c, lines[0])
            self.assertIn(a, lines[0].split(c, 1)[1])
            dup = [w for w in j["warnings"] if w["code"] == "duplicate_instance"]
            self.assertEqual([w["path"] for w in dup], [b], j["warnings"])
            self.assertIn(a, dup[0]["message"])
            self.assertEqual(os.listdir(out), os.listdir(ref))
            name = os.listdir(ref)[0]
            self.assertEqual(read_bytes(os.path.join(out, name)),
                             read_bytes(os.path.join(ref, name)))

    def test_broken_files_each_named_rest_written(self):
        d = os.path.join(self.tmp, "mixed")
        shutil.copytree(self.ct, d)
        good = sorted(os.listdir(d))
        data = read_bytes(os.path.join(d, good[0]))
        bad = {"trunc.dcm": data[:300], "random.dcm": os.urandom(5000),
               "dicm.dcm": b"\0" * 128 + b"DICM" + os.urandom(3000), "notes.txt": b"hello\n"}
        for n, b in bad.items():
            with open(os.path.join(d, n), "wb") as f:
                f.write(b)
        out = os.path.join(self.tmp, "o-mixed")
        r = run([CLI, "deid", d, out, "--subject", SUBJECT, "--key", self.key, "--json"])
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), len(bad), r.stderr)
        for n in bad:
            self.assertEqual(sum(os.path.join(d, n) in l for l in lines), 1, n)
        j = json.loads(r.stdout)
        self.assertEqual(j["files"], len(good) + len(bad))
        self.assertEqual(j["written"], len(good))
        self.assertEqual(len(os.listdir(out)), len(good))

    def test_damaged_files(self):
        """Truncated and bit-flipped copies of a planted file: each is
        written or named on one line, nothing crashes or hangs, and what is
        written holds none of the planted values."""
        src = sorted(os.listdir(self.ct))[0]
        ds = pydicom.dcmread(os.path.join(self.ct, src))
        plant(ds, None, ds.StudyInstanceUID)
        planted = os.path.join(self.tmp, "planted.dcm")
        ds.save_as(planted, write_like_original=False)
        data = read_bytes(planted)
        header = data.find(b"\xe0\x7f\x10\x00")
        rnd = random.Random(17)
        d = os.path.join(self.tmp, "damaged")
        os.makedirs(d)
        for i in range(60):
            b = bytearray(data)
            if i < 15:
                b = b[:rnd.randint(132, header + 20)]
            else:
                for _ in range(rnd.randint(1, 8)):
                    b[rnd.randint(132, header)] = rnd.getrandbits(8)
            with open(os.path.join(d, f"m{i:02d}.dcm"), "wb") as f:
                f.write(b)
        out = os.path.join(self.tmp, "o-damaged")
        r = run([CLI, "deid", d, out, "--subject", SUBJECT, "--key", self.key, "--json"],
                timeout=120)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        j = json.loads(r.stdout)
        lines = r.stderr.strip().splitlines() if r.stderr.strip() else []
        self.assertEqual(j["files"], 60)
        self.assertEqual(len(lines), 60 - j["written"], r.stderr)
        for line in lines:
            self.assertRegex(line, r"^readroom-cli deid: " + re.escape(d) + r"/m\d\d\.dcm: \S")
        needles = list(PLANTED.values()) + IN_SEQUENCES + PRIVATE + NAME_WORDS
        for f in os.listdir(out) if os.path.isdir(out) else []:
            b = without_new_uids(os.path.join(out, f))
            for n in needles:
                self.assertFalse(n.encode() in b, f"{n} in {f}")

    def test_odd_dates(self):
        """Partial, multi-valued, impossible and too early dates under
        --retain-dates: shifted where they can be, emptied where not."""
        src = sorted(os.listdir(self.ct))[0]
        ds = pydicom.dcmread(os.path.join(self.ct, src))
        ds.StudyDate = "00050101"              # before year 1 once shifted
        ds.SeriesDate = "20260230"             # no such day
        ds.DateOfLastCalibration = ["20260101", "20250101"]
        ds.AcquisitionDateTime = "202603"      # month precision
        ds.FrameReferenceDateTime = "20260301120000-0500"
        d = os.path.join(self.tmp, "odd")
        os.makedirs(d)
        ds.save_as(os.path.join(d, "odd.dcm"))
        out = os.path.join(self.tmp, "o-odd")
        r = run([CLI, "deid", d, out, "--subject", SUBJECT, "--key", self.key,
                 "--retain-dates"])
        self.assertEqual(r.returncode, 0, r.stderr)
        o = pydicom.dcmread(os.path.join(out, os.listdir(out)[0]))
        shift = expected_shift(KEY_A, SUBJECT)

        def moved(s):
            return (datetime.date(int(s[0:4]), int(s[4:6]), int(s[6:8])) +
                    datetime.timedelta(days=shift)).strftime("%Y%m%d")

        self.assertEqual(o.StudyDate, "")
        self.assertEqual(o.SeriesDate, "")
        self.assertEqual(list(o.DateOfLastCalibration), [moved("20260101"), moved("20250101")])
        self.assertEqual(o.AcquisitionDateTime, moved("20260301")[:6])
        self.assertEqual(o.FrameReferenceDateTime, moved("20260301") + "120000-0500")

    def test_dicomdir(self):
        """IN given as a DICOMDIR: the files beside it are de-identified, the
        DICOMDIR (which names the patient) is neither counted nor copied."""
        if shutil.which("dcmmkdir") is None:
            self.skipTest("dcmmkdir (dcmtk) missing")
        d = os.path.join(self.tmp, "media")
        os.makedirs(os.path.join(d, "IMG"))
        for i, f in enumerate(sorted(os.listdir(self.ct))):
            shutil.copy(os.path.join(self.ct, f), os.path.join(d, "IMG", f"IM{i + 1}"))
        r = subprocess.run(["dcmmkdir", "+r", "-Pgp", "IMG"], cwd=d, capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"Phantom^Synthetic", read_bytes(os.path.join(d, "DICOMDIR")))
        out = os.path.join(self.tmp, "o-media")
        r = run([CLI, "deid", os.path.join(d, "DICOMDIR"), out, "--subject", SUBJECT,
                 "--key", self.key, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual((j["files"], j["written"]), (3, 3))
        self.assertEqual(len(os.listdir(out)), 3)
        for f in os.listdir(out):
            self.assertTrue(f.startswith("2.25.") and f.endswith(".dcm"), f)
            self.assertFalse(b"Phantom^Synthetic" in read_bytes(os.path.join(out, f)))

    def test_output_inside_input(self):
        d = os.path.join(self.tmp, "nest")
        shutil.copytree(self.ct, d)
        out = os.path.join(d, "deid")
        for _ in range(2):
            r = run([CLI, "deid", d, out, "--subject", SUBJECT, "--key", self.key, "--json"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["files"], 3)

    def test_burned_in_warnings(self):
        d = os.path.join(self.tmp, "burn")
        os.makedirs(d)
        src = sorted(os.listdir(self.ct))
        cases = {"us.dcm": ("US", None), "yes.dcm": ("CT", "YES"), "ot-no.dcm": ("OT", "NO"),
                 "ct.dcm": ("CT", None)}
        for (n, (modality, bia)), s in zip(cases.items(), src * 2):
            ds = pydicom.dcmread(os.path.join(self.ct, s))
            ds.Modality = modality
            if bia:
                ds.BurnedInAnnotation = bia
            ds.SOPInstanceUID = pydicom.uid.generate_uid()
            ds.save_as(os.path.join(d, n))
        out = os.path.join(self.tmp, "o-burn")
        r = run([CLI, "deid", d, out, "--subject", SUBJECT, "--key", self.key, "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        got = {(os.path.basename(w["path"]), w["code"]) for w in j["warnings"]}
        self.assertEqual(got, {("us.dcm", "burned_in_likely"),
                               ("yes.dcm", "burned_in_annotation")})
        self.assertEqual(j["written"], 4)
        for w in j["warnings"]:
            self.assertTrue(w["message"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
