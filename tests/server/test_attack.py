#!/usr/bin/python3
"""The attack on a running server: each hole found, with the
request that found it, on a real Orthanc with the Readroom plugin and its
DICOM port open on 127.0.0.1. One server; one trial without QC read by two
readers whose week-8 reads differ (an adjudication), two sites of two
trials."""
import csv
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import unittest
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import (ADMIN_PASSWORD, PHANTOM, Server, make_read,  # noqa: E402
                         password_of)


def free_port_pair():
    """Two free ports next to each other (HTTP, DICOM), 18800-18899 first."""
    for base in list(range(18800, 18899, 2)) + [0]:
        socks = []
        try:
            for k in range(2):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + k if base else 0))
            ports = [s.getsockname()[1] for s in socks]
            if base or ports[1] == ports[0] + 1:
                return ports
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


EXPLICIT, IMPLICIT, DEFLATED = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99"


def element(group, elem, vr, value, implicit=False):
    """One data element, Little Endian."""
    if isinstance(value, str):
        value = value.encode()
    if len(value) % 2:
        value += b"\0" if vr == "UI" else b" "
    if implicit:
        return struct.pack("<HHI", group, elem, len(value)) + value
    if vr in ("OB", "SQ", "UN", "UT"):
        return struct.pack("<HH2sHI", group, elem, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def nested(depth, syntax=EXPLICIT, dataset=None, deflate=True):
    """A de-identified SR whose Content Sequence nests @depth levels (as
    undefined lengths; in implicit VR as defined ones), written by hand as
    PS3.5 and PS3.10 lay it out; @dataset replaces the data set, sent
    as it is with @deflate false."""
    sop = "2.25.%d" % uuid.uuid4().int
    meta = (element(2, 1, "OB", b"\0\1") + element(2, 2, "UI", "1.2.840.10008.5.1.4.1.1.88.11") +
            element(2, 3, "UI", sop) + element(2, 0x10, "UI", syntax))
    meta = element(2, 0, "UL", struct.pack("<I", len(meta))) + meta
    implicit = syntax == IMPLICIT
    if dataset is None:
        dataset = b"".join(element(g, e, vr, v, implicit) for g, e, vr, v in (
            (8, 0x16, "UI", "1.2.840.10008.5.1.4.1.1.88.11"), (8, 0x18, "UI", sop),
            (8, 0x60, "CS", "SR"), (0x10, 0x10, "PN", "N1"), (0x10, 0x20, "LO", "N1"),
            (0x12, 0x62, "CS", "YES"), (0x20, 0xd, "UI", "2.25.%d" % uuid.uuid4().int),
            (0x20, 0xe, "UI", "2.25.%d" % uuid.uuid4().int)))
        if implicit:
            inner = b""
            for _ in range(depth):
                item = struct.pack("<HHI", 0xfffe, 0xe000, len(inner)) + inner
                inner = struct.pack("<HHI", 0x40, 0xa730, len(item)) + item
            dataset += inner
        else:
            dataset += (struct.pack("<HH2sHI", 0x40, 0xa730, b"SQ", 0, 0xffffffff) +
                        struct.pack("<HHI", 0xfffe, 0xe000, 0xffffffff)) * depth
            dataset += (struct.pack("<HHI", 0xfffe, 0xe00d, 0) +
                        struct.pack("<HHI", 0xfffe, 0xe0dd, 0)) * depth
    if syntax == DEFLATED and deflate:
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        dataset = z.compress(dataset) + z.flush()
    return b"\0" * 128 + b"DICM" + meta + dataset


def crowded(elements=0, items=0):
    """An SR with @elements more two-byte private elements in its data set,
    and a sequence of @items empty items."""
    sop = "2.25.%d" % uuid.uuid4().int
    dataset = b"".join(element(g, e, vr, v) for g, e, vr, v in (
        (8, 0x16, "UI", "1.2.840.10008.5.1.4.1.1.88.11"), (8, 0x18, "UI", sop),
        (8, 0x60, "CS", "SR"), (0x10, 0x10, "PN", "N1"), (0x10, 0x20, "LO", "N1"),
        (0x12, 0x62, "CS", "YES"), (0x20, 0xd, "UI", "2.25.%d" % uuid.uuid4().int),
        (0x20, 0xe, "UI", "2.25.%d" % uuid.uuid4().int)))
    if items:
        dataset += (struct.pack("<HH2sHI", 0x40, 0xa730, b"SQ", 0, 0xffffffff) +
                    struct.pack("<HHI", 0xfffe, 0xe000, 0) * items +
                    struct.pack("<HHI", 0xfffe, 0xe0dd, 0))
    tags = [(g, e) for g in range(0x0041, 0x0061, 2) for e in range(0x1000, 0x10000)]
    dataset += b"".join(struct.pack("<HH2sH", g, e, b"LO", 2) + b"AB"
                        for g, e in tags[:elements])
    return nested(0, EXPLICIT, dataset=dataset)


def deflate_bomb(mib):
    """A deflated data set of @mib MiB of zeros (a few hundred KB sent)."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    body = b"".join(z.compress(chunk) for _ in range(mib)) + z.flush()
    head = nested(0, DEFLATED, dataset=b"", deflate=False)
    return head + body


class DicomServer(Server):
    """The test suite's Server with its DICOM port on."""

    def __init__(self, data):
        super().__init__(data)
        self.port, self.dicom_port = free_port_pair()

    def start(self):
        env = dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN_PASSWORD)
        self.proc = subprocess.Popen([
            os.environ.get("READROOM_SERVER", "build/src/server/readroom-server"),
            "--data", self.data, "--http-port", str(self.port),
            "--dicom-port", str(self.dicom_port)], env=env, stdout=subprocess.PIPE,
            stderr=open(os.path.join(self.data, "server.log"), "ab"), text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready http://127.0.0.1:%d" % self.port):
            self.stop_now()
            raise RuntimeError("readroom-server did not start: %r" % line)


def dicom_files(folder):
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.join(root, n) for n in names if not n.endswith(".txt")]
    return sorted(found)


class AttackSuite(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-attack-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = DicomServer(os.path.join(cls.tmp, "data"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.tokens = {"admin": cls.server.login("admin", ADMIN_PASSWORD)}

        def call(method, path, body, expected, who="admin", headers=None):
            status, doc = cls.server.request(method, path, body, token=cls.tokens[who],
                                             headers=headers)
            assert status == expected, (method, path, who, status, doc)
            return doc
        cls.call = staticmethod(call)
        cls.users = ("asite1", "asite2", "areader1", "areader2", "aadj1")
        for u in cls.users:
            call("POST", "/readroom/v1/users", {"username": u, "password": password_of(u)}, 201)
        call("POST", "/readroom/v1/trials",
             {"id": "A1", "name": "A1", "criteria": "recist1.1", "readers_per_case": 2,
              "qc_required": False, "adjudication": "bor", "reading": "sequential",
              "sd_min_days": 42, "confirmation": False}, 201)
        call("POST", "/readroom/v1/trials", {"id": "A2", "name": "A2", "readers_per_case": 2,
                                             "qc_required": False}, 201)
        members = {"asite1": ("A1", ["site"], "S01"), "asite2": ("A2", ["site"], "S02"),
                   "areader1": ("A1", ["reader"], None), "areader2": ("A1", ["reader"], None),
                   "aadj1": ("A1", ["adjudicator"], None)}
        for u, (trial, roles, site) in members.items():
            body = {"roles": roles}
            if site:
                body["site"] = site
            call("PUT", "/readroom/v1/trials/%s/members/%s" % (trial, u), body, 200)
        for u in cls.users:
            cls.tokens[u] = cls.server.login(u, password_of(u))

        def upload(folder, who, trial):
            study = None
            for path in dicom_files(folder):
                with open(path, "rb") as f:
                    study = call("POST", "/readroom/v1/instances", f.read(), 201, who,
                                 headers={"Content-Type": "application/dicom",
                                          "X-Readroom-Trial": trial})["study"]
            return study

        # Site 1: subject P1, baseline and week 8, linked; site 2: one study.
        out = os.path.join(cls.tmp, "P1")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "3", "--size", "32",
                        "--timepoints", "2", "--change", "-40", "--seed", "31",
                        "--patient-id", "P1"], check=True, capture_output=True)
        cls.studies = [upload(os.path.join(out, tp), "asite1", "A1")
                       for tp in sorted(os.listdir(out))]
        for (label, day), study in zip((("Baseline", 0), ("Week 8", 56)), cls.studies):
            call("POST", "/readroom/v1/trials/A1/subjects/P1/timepoints",
                 {"label": label, "day": day, "studies": [study]}, 201)
        out = os.path.join(cls.tmp, "Q1")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "2", "--size", "32",
                        "--seed", "32", "--patient-id", "Q1"], check=True, capture_output=True)
        cls.other_study = upload(out, "asite2", "A2")

    def req(self, method, path, body=None, who=None, **kw):
        return self.server.request(method, path, body, token=self.tokens.get(who), **kw)

    def ok(self, expected, method, path, body=None, who="admin", **kw):
        status, doc = self.req(method, path, body, who, **kw)
        self.assertEqual(status, expected, "%s %s as %s: %s" % (method, path, who, doc))
        return doc

    def series_of(self, study):
        orthanc = self.ok(200, "POST", "/tools/lookup", study)[0]["ID"]
        return [s["MainDicomTags"]["SeriesInstanceUID"]
                for s in self.ok(200, "GET", "/studies/%s/series" % orthanc)]

    def test_1_adjudicator_learns_no_reader_names(self):
        """An adjudicator asking GET /tasks/{read}/submission for a read of
        its case got "signed_by": the reader's username, and the reader's
        idempotency key: the blinding that GET /tasks/{id} keeps ("Reader
        1" / "Reader 2", never names) was lost on the next route."""
        sizes = {"areader1": (30.0, 15.0), "areader2": (30.0, 27.0)}   # PR against SD
        week8 = {}
        for day in (0, 56):
            for u in ("areader1", "areader2"):
                tasks = [t for t in self.ok(200, "GET", "/readroom/v1/tasks", who=u)
                         if t["timepoints"][-1]["day"] == day]
                self.assertEqual(len(tasks), 1, tasks)
                labels = [(tp["label"], tp["day"]) for tp in tasks[0]["timepoints"]]
                read = make_read(labels, sizes[u][:len(labels)])
                # What read-json.md lets a read carry for its report (a
                # read exported by the workstation and sent with
                # readroom-cli submit holds them): the reader's name.
                read.update({"user": u, "reader": u, "signatures": [
                    {"name": u, "time": "2026-12-02T10:00:00Z", "meaning": "Read completed"}],
                    "signature": {"name": u}})
                self.ok(201, "POST", "/readroom/v1/tasks/%s/submission" % tasks[0]["id"],
                        {"read": read, "signature": {"password": password_of(u),
                                                     "meaning": "Read completed"}}, u,
                        headers={"Idempotency-Key": str(uuid.uuid4())})
                if day == 56:
                    week8[u] = tasks[0]["id"]
        adj = self.ok(200, "GET", "/readroom/v1/tasks", who="aadj1")
        self.assertEqual([t["kind"] for t in adj], ["adjudication"])
        labels = set()
        for u, task in week8.items():
            doc = self.ok(200, "GET", "/readroom/v1/tasks/%s/submission" % task, who="aadj1")
            text = json.dumps(doc)
            for name in self.users:
                self.assertNotIn(name, text)
            self.assertNotIn("idempotency_key", doc)
            labels.add(doc["signed_by"])
            # The submitter still learns what the server holds, as it is.
            own = self.ok(200, "GET", "/readroom/v1/tasks/%s/submission" % task, who=u)
            self.assertEqual(own["signed_by"], u)
            self.assertIn("idempotency_key", own)
            self.assertEqual(own["submission"]["read"]["user"], u)
            blinded = dict(own["submission"]["read"])
            for member in ("user", "reader", "signatures", "signature"):
                del blinded[member]
            self.assertEqual(blinded, doc["submission"]["read"])
        self.assertEqual(labels, {"Reader 1", "Reader 2"})
        # The labels are the ones the adjudication task gives the reads,
        # and the reads it shows name nobody either (found in session 10:
        # a read's own "user", "reader" and "signatures" went through).
        detail = self.ok(200, "GET", "/readroom/v1/tasks/" + adj[0]["id"], who="aadj1")
        for name in ("areader1", "areader2"):
            self.assertNotIn(name, json.dumps(detail["reads"]))
        by_label = {r["reader"]: r["read"] for r in detail["reads"]}
        for u, task in week8.items():
            doc = self.ok(200, "GET", "/readroom/v1/tasks/%s/submission" % task, who="aadj1")
            self.assertEqual(by_label[doc["signed_by"]], doc["submission"]["read"])

    def test_2_dicom_port_refuses_unknown_peers(self):
        """Any host that reached the DICOM port (every interface: Orthanc
        has no bind address) stored instances with C-STORE, no login, no
        site, no audit event: Orthanc's default DicomAlwaysAllowStore."""
        if shutil.which("storescu") is None:
            self.skipTest("dcmtk's storescu is not installed")
        before = self.ok(200, "GET", "/instances")
        out = os.path.join(self.tmp, "C1")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "1", "--size", "32",
                        "--seed", "33", "--patient-id", "C1"], check=True, capture_output=True)
        path = dicom_files(out)[0]
        store = ["storescu", "-aec", "READROOM", "127.0.0.1", str(self.server.dicom_port), path]
        r = subprocess.run(store[:1] + ["-aet", "STRANGER"] + store[1:], capture_output=True,
                           text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.ok(200, "GET", "/instances"), before)
        # A modality an admin registers (for its host) still stores.
        self.ok(200, "PUT", "/modalities/SITEPACS",
                {"AET": "SITEPACS", "Host": "127.0.0.1", "Port": 104})
        r = subprocess.run(store[:1] + ["-aet", "SITEPACS"] + store[1:], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.ok(200, "GET", "/instances")), len(before) + 1)

    def test_3_orthanc_errors_tell_nothing_of_other_studies(self):
        """A site user who may read its own study asked DICOMweb for a series
        of another trial's study under it: Orthanc's described error ("No
        series X in study Y" against "inexistent series") told which UIDs
        exist anywhere in the archive."""
        own = self.studies[0]
        foreign = self.series_of(self.other_study)[0]
        self.ok(200, "GET", "/dicom-web/studies/%s/metadata" % own, who="asite1")
        answers = []
        for series in (foreign, "2.25.%d" % uuid.uuid4().int):
            status, _, body = self.req("GET", "/dicom-web/studies/%s/series/%s/metadata"
                                       % (own, series), who="asite1", raw=True)
            self.assertEqual(status, 404)
            self.assertNotIn(foreign.encode(), body)
            answers.append(body)
        self.assertEqual(answers[0], answers[1])
        # The plugin's own errors keep their bodies.
        status, doc = self.req("GET", "/readroom/v1/tasks/%s" % uuid.uuid4(), who="asite1")
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"))


    def test_4_nested_sequences_do_not_stop_the_server(self):
        """A site user's upload of 3 KB whose sequences nest 64 levels
        killed Orthanc (SIGSEGV: dcmtk reads sequences by recursion, on an
        HTTP thread's stack); at 40 it did not. A deflated data set was
        inflated without bound."""
        dicom = {"Content-Type": "application/dicom", "X-Readroom-Trial": "A1"}
        for depth, syntax in ((64, EXPLICIT), (5000, EXPLICIT), (64, IMPLICIT),
                              (64, DEFLATED)):
            status, doc = self.req("POST", "/readroom/v1/instances", nested(depth, syntax),
                                   "asite1", headers=dicom)
            self.assertEqual((status, doc["error"]["code"]), (400, "invalid_request"),
                             (depth, syntax))
            self.assertIn("deeper than 24", doc["error"]["message"])
            self.ok(200, "GET", "/readroom/v1/me", who="asite1")
        status, doc = self.req("POST", "/readroom/v1/instances", deflate_bomb(300), "asite1",
                               headers=dicom)
        self.assertEqual((status, doc["error"]["code"]), (413, "too_large"))
        # Nesting within the limit goes on to the usual checks (the
        # phantom SR keeps identifying tags: 422, not a guard's 400).
        status, doc = self.req("POST", "/readroom/v1/instances", nested(6, IMPLICIT), "asite1",
                               headers=dicom)
        self.assertEqual((status, doc["error"]["code"]), (422, "phi_present"), doc)
        # Every transfer syntax the workstation meets still uploads, and a
        # file padded with zeros after its last element.
        out = os.path.join(self.tmp, "padded")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "1", "--size", "32",
                        "--seed", "37", "--patient-id", "Tpad"], check=True, capture_output=True)
        with open(dicom_files(out)[0], "rb") as f:
            self.ok(201, "POST", "/readroom/v1/instances", f.read() + bytes(64), "asite1",
                    headers=dicom)
        for syntax in ("implicit", "big-endian", "deflate", "jpeg-ls", "rle"):
            out = os.path.join(self.tmp, "ts-" + syntax)
            subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "1", "--size", "32",
                            "--seed", "34", "--patient-id", "T" + syntax[:4],
                            "--transfer-syntax", syntax], check=True, capture_output=True)
            with open(dicom_files(out)[0], "rb") as f:
                self.ok(201, "POST", "/readroom/v1/instances", f.read(), "asite1", headers=dicom)

    def test_5_failed_logins_write_no_text_of_their_own_as_user(self):
        """An outsider's failed login put its user name, any text of up to
        64 characters, in the trail as the event's user: a newline and a
        right-to-left override included."""
        name = "evil\n\u202e2026 admin task.submit"
        status, _ = self.server.request("POST", "/readroom/v1/sessions",
                                        {"username": name, "password": "x"})
        self.assertEqual(status, 401)
        trail = self.ok(200, "GET", "/readroom/v1/audit?limit=10000")
        event = [e for e in trail if e["action"] == "session.fail"][-1]
        self.assertEqual((event["user"], event["object"]), ("(not a user name)",) * 2)
        self.assertEqual(event["details"]["name"], "evil\\n\\342\\200\\2562026 admin task.submit")
        self.assertNotIn(name, json.dumps(trail, ensure_ascii=False))
        # A real name is recorded as it is.
        self.server.request("POST", "/readroom/v1/sessions",
                            {"username": "areader1", "password": "x"})
        trail = self.ok(200, "GET", "/readroom/v1/audit?limit=10000")
        event = [e for e in trail if e["action"] == "session.fail"][-1]
        self.assertEqual((event["user"], event["object"]), ("areader1", "areader1"))
        self.assertTrue(self.ok(200, "GET", "/readroom/v1/audit/verify")["ok"])

    def test_6_export_csv_keeps_its_columns(self):
        """A timepoint label is free text (up to 64 characters): with a comma
        it shifted every later column of its CSV row, with a line break it
        made a row of its own."""
        label = 'Week 8, "repeat"\nscan'
        out = os.path.join(self.tmp, "P2")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "1", "--size", "32",
                        "--seed", "35", "--patient-id", "P2"], check=True, capture_output=True)
        with open(dicom_files(out)[0], "rb") as f:
            study = self.ok(201, "POST", "/readroom/v1/instances", f.read(), "asite1",
                            headers={"Content-Type": "application/dicom",
                                     "X-Readroom-Trial": "A1"})["study"]
        self.ok(201, "POST", "/readroom/v1/trials/A1/subjects/P2/timepoints",
                {"label": label, "day": 0, "studies": [study]})
        status, _, body = self.req("GET", "/readroom/v1/trials/A1/export?format=csv",
                                   who="admin", raw=True)
        self.assertEqual(status, 200)
        rows = [r for r in csv.reader(io.StringIO(body.decode()))
                if r and not r[0].startswith("#")]
        # Every row as wide as the header (14 columns, and the proposed
        # sums of docs/server-notes.md after them: 23).
        self.assertEqual({len(r) for r in rows}, {23})
        self.assertIn(["P2", label, "0"], [r[:3] for r in rows])

    def test_7_a_timepoint_that_failed_qc_stays_out_of_reach(self):
        """The study check let a reader of a later timepoint fetch the
        subject's earlier studies whatever their QC: a baseline failed for
        PHI burnt into its pixels, which GET /tasks/{id} rightly left out,
        still came through DICOMweb and /instances/{sop}/file."""
        self.ok(201, "POST", "/readroom/v1/users", {"username": "aqc1",
                                                    "password": password_of("aqc1")})
        self.ok(201, "POST", "/readroom/v1/trials",
                {"id": "A3", "name": "A3", "criteria": "recist1.1", "readers_per_case": 2,
                 "qc_required": True, "adjudication": "bor", "reading": "sequential",
                 "sd_min_days": 42, "confirmation": False})
        for u, body in (("asite1", {"roles": ["site"], "site": "S01"}),
                        ("aqc1", {"roles": ["qc"]}), ("areader1", {"roles": ["reader"]}),
                        ("areader2", {"roles": ["reader"]})):
            self.ok(200, "PUT", "/readroom/v1/trials/A3/members/" + u, body)
        self.tokens["aqc1"] = self.server.login("aqc1", password_of("aqc1"))
        out = os.path.join(self.tmp, "P3")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "2", "--size", "32",
                        "--timepoints", "2", "--seed", "36", "--patient-id", "P3"],
                       check=True, capture_output=True)
        studies = []
        for tp in sorted(os.listdir(out)):
            for path in dicom_files(os.path.join(out, tp)):
                with open(path, "rb") as f:
                    study = self.ok(201, "POST", "/readroom/v1/instances", f.read(), "asite1",
                                    headers={"Content-Type": "application/dicom",
                                             "X-Readroom-Trial": "A3"})["study"]
            studies.append(study)
        for (label, day), study in zip((("Baseline", 0), ("Week 8", 56)), studies):
            self.ok(201, "POST", "/readroom/v1/trials/A3/subjects/P3/timepoints",
                    {"label": label, "day": day, "studies": [study]})
        qc = sorted([t for t in self.ok(200, "GET", "/readroom/v1/tasks", who="aqc1")
                     if t["trial"] == "A3"], key=lambda t: t["timepoints"][0]["day"])
        self.assertEqual(len(qc), 2)
        baseline_sop = self.ok(200, "GET", "/readroom/v1/tasks/%s/instances" % qc[0]["id"],
                               who="aqc1")[0]["sop"]
        finding = {"series": "1.2.3", "sop": baseline_sop, "frame": 0, "category": "phi_present",
                   "severity": "major", "shape": {"type": "rect", "points": [[0, 0], [9, 9]]},
                   "comment": "A name burnt into the pixels"}
        for t, decision in zip(qc, ("fail", "pass")):
            self.ok(201, "POST", "/readroom/v1/tasks/%s/submission" % t["id"],
                    {"decision": decision, "findings": [finding] if decision == "fail" else [],
                     "signature": {"password": password_of("aqc1"), "meaning": "QC completed"}},
                    "aqc1", headers={"Idempotency-Key": str(uuid.uuid4())})
        readers = 0
        for u in ("areader1", "areader2"):
            reads = [t for t in self.ok(200, "GET", "/readroom/v1/tasks", who=u)
                     if t["trial"] == "A3"]
            if not reads:
                continue
            readers += 1
            self.assertEqual([tp["studies"] for tp in reads[0]["timepoints"]], [[studies[1]]])
            self.ok(200, "GET", "/dicom-web/studies/%s/metadata" % studies[1], who=u)
            status, _ = self.req("GET", "/dicom-web/studies/%s/metadata" % studies[0], who=u)
            self.assertEqual(status, 403)
            status, _ = self.req("GET", "/readroom/v1/instances/%s/file" % baseline_sop, who=u)
            self.assertEqual(status, 404)
        self.assertEqual(readers, 2)

    def test_8_crowded_files_are_refused_before_orthanc_reads_them(self):
        """Orthanc turns a file into JSON by DcmItem::getElement (i), a walk
        of a list from its head for every i: a site user's 2 MB file of
        200,000 two-byte elements held an HTTP thread and the plugin's lock
        for 8 minutes (20,000: 1.4 s)."""
        dicom = {"Content-Type": "application/dicom", "X-Readroom-Trial": "A1"}
        for body in (crowded(elements=60000), crowded(items=30000)):
            status, doc = self.req("POST", "/readroom/v1/instances", body, "asite1",
                                   headers=dicom)
            self.assertEqual((status, doc["error"]["code"]), (400, "invalid_request"))
            self.assertIn("more than 10000 elements", doc["error"]["message"])
        # Below the limits the usual checks answer (private tags: 422).
        status, doc = self.req("POST", "/readroom/v1/instances",
                               crowded(elements=2000, items=2000), "asite1", headers=dicom)
        self.assertEqual((status, doc["error"]["code"]), (422, "phi_present"))

    def test_9_the_guard_reads_what_dcmtk_reads(self):
        """The guard must walk the bytes dcmtk parses, or nesting slips past
        it (found by review): a VR dcmtk does not know has a 4-byte length
        there (a guard reading 2 bytes took the length field for the next
        element and skipped 64 nested sequences as one OB value); a body
        without the meta group's transfer syntax leaves dcmtk to guess the
        byte order and VR encoding; UN in big endian is read as implicit
        little endian whatever the file says."""
        dicom = {"Content-Type": "application/dicom", "X-Readroom-Trial": "A1"}
        depth = 64
        tail = ((struct.pack("<HH2sHI", 0x40, 0xa730, b"SQ", 0, 0xffffffff) +
                 struct.pack("<HHI", 0xfffe, 0xe000, 0xffffffff)) * depth +
                (struct.pack("<HHI", 0xfffe, 0xe00d, 0) +
                 struct.pack("<HHI", 0xfffe, 0xe0dd, 0)) * depth)
        # 256 bytes of "XX" value; read with a 2-byte length, its length
        # field and first bytes look like an OB element spanning the tail.
        value = b"OB\0\0" + struct.pack("<I", 248 + len(tail)) + bytes(248)
        hidden = struct.pack("<HH2sHI", 0x30, 0x10, b"XX", 0, len(value)) + value + tail
        body = nested(0, EXPLICIT) + hidden
        status, doc = self.req("POST", "/readroom/v1/instances", body, "asite1", headers=dicom)
        self.assertEqual((status, doc["error"]["code"]), (400, "invalid_request"), doc)
        self.assertIn("deeper than 24", doc["error"]["message"])
        self.ok(200, "GET", "/readroom/v1/me", who="asite1")
        # A bare data set (no preamble, no meta), and a Part 10 file
        # whose meta group names no transfer syntax.
        whole = nested(depth, EXPLICIT)
        bare = whole[whole.index(b"\x08\x00\x16\x00"):]
        meta = element(2, 1, "OB", b"\0\1") + element(2, 3, "UI", "2.25.1")
        no_syntax = (b"\0" * 128 + b"DICM" + element(2, 0, "UL", struct.pack("<I", len(meta))) +
                     meta + bare)
        for body in (bare, no_syntax):
            status, doc = self.req("POST", "/readroom/v1/instances", body, "asite1",
                                   headers=dicom)
            self.assertEqual((status, doc["error"]["code"]), (400, "invalid_request"), doc)
            self.assertIn("not a DICOM file", doc["error"]["message"])
            self.ok(200, "GET", "/readroom/v1/me", who="asite1")
        # UN with items in big endian.
        un = (struct.pack(">HH2sHI", 0x40, 0xa730, b"UN", 0, 0xffffffff) +
              struct.pack("<HHI", 0xfffe, 0xe000, 0xffffffff) * 4)
        big = nested(0, "1.2.840.10008.1.2.2", dataset=struct.pack(">HH2sH", 8, 0x60, b"CS", 2) +
                     b"SR" + un, deflate=False)
        status, doc = self.req("POST", "/readroom/v1/instances", big, "asite1", headers=dicom)
        self.assertEqual((status, doc["error"]["code"]), (400, "invalid_request"), doc)
        self.ok(200, "GET", "/readroom/v1/me", who="asite1")

    def test_91_a_link_takes_only_studies_of_its_trial_and_nowhere_else(self):
        """POST /trials/{t}/subjects/{s}/timepoints (readroom-cli admin
        timepoint link) linked any stored study: one a site of another
        trial uploaded (its images went to this trial's QC and readers),
        or one linked to another subject already (the same images read as
        two patients', and the subject's readers saw the other's study)."""
        link = "/readroom/v1/trials/A1/subjects/%s/timepoints"
        before = self.ok(200, "GET", "/readroom/v1/audit?limit=1000")[-1]["seq"]
        for subject, study, why in (("P7", self.other_study, "uploaded for trial A2"),
                                    ("P7", self.studies[0], "linked to"),
                                    ("P1", self.studies[0], "linked to")):
            doc = self.ok(422, "POST", link % subject,
                          {"label": "Week 16", "day": 112, "studies": [study]})
            self.assertIn(why, doc["error"]["message"])
        # A study listed twice: said so, before anything is looked up
        # (the link's key refused the second copy with a 500).
        doc = self.ok(400, "POST", link % "P7", {"label": "Week 16", "day": 112,
                                                 "studies": [self.studies[0]] * 2})
        self.assertIn("twice", doc["error"]["message"])
        # An admin's upload is recorded for the trial it names: one that
        # does not exist is refused (the study could be linked nowhere).
        with open(dicom_files(os.path.join(self.tmp, "Q1"))[0], "rb") as f:
            doc = self.ok(422, "POST", "/readroom/v1/instances", f.read(),
                          headers={"Content-Type": "application/dicom",
                                   "X-Readroom-Trial": "NO-SUCH-TRIAL"})
        self.assertIn("X-Readroom-Trial", doc["error"]["message"])
        # One that is no trial id at all: said, not dropped (the study went
        # in recorded for no trial, linkable nowhere; review finding).
        with open(dicom_files(os.path.join(self.tmp, "Q1"))[0], "rb") as f:
            doc = self.ok(400, "POST", "/readroom/v1/instances", f.read(),
                          headers={"Content-Type": "application/dicom",
                                   "X-Readroom-Trial": "no trial/../x"})
        self.assertIn("X-Readroom-Trial", doc["error"]["message"])
        # Nothing was linked: no timepoint, no task, no event.
        self.assertEqual(self.ok(200, "GET", "/readroom/v1/audit?after=%d" % before), [])
        for who in ("areader1", "areader2", "aadj1"):
            for t in self.ok(200, "GET", "/readroom/v1/tasks?status=all", who=who):
                self.assertNotEqual(t["subject"], "P7")
                self.assertNotIn("Week 16", [tp["label"] for tp in t["timepoints"]])

    def test_92_json_edges_on_the_newer_routes(self):
        """Huge numbers, NUL in strings, deep nesting, wrong types on the
        protocol, assignee, member and user routes: a 400, never a 500,
        and nothing changed."""
        deep = "[" * 5000 + "]" * 5000
        bodies = ['{"modality": "CT\\u0000MR"}', '{"max_slice_thickness_mm": 1e999}',
                  '{"max_slice_thickness_mm": -1e308}', '{"modality": %s}' % deep,
                  '{"modality": "CT", "modality": "MR", "x": 18446744073709551617}',
                  '[]', '"CT"', 'null', '{"contrast": "\\ud800"}', '{"modality": "CT"']

        def state():
            return (self.ok(200, "GET", "/readroom/v1/trials"),
                    self.ok(200, "GET", "/readroom/v1/trials/A1"),
                    self.ok(200, "GET", "/readroom/v1/users"),
                    self.ok(200, "GET", "/readroom/v1/me", who="areader1"),
                    self.ok(200, "GET", "/readroom/v1/me", who="asite1"))
        before = state()
        accepted = set()
        for body in bodies:
            for method, path in (("PUT", "/readroom/v1/trials/A1/protocol"),
                                 ("PUT", "/readroom/v1/users/asite1"),
                                 ("PUT", "/readroom/v1/trials/A1/members/areader1"),
                                 ("POST", "/readroom/v1/trials"),
                                 ("POST", "/readroom/v1/users")):
                status, doc = self.req(method, path, body.encode(), "admin",
                                       headers={"Content-Type": "application/json"})
                self.assertIn(status, (200, 400, 409, 422), (method, path, body[:60], doc))
                if status == 200:
                    accepted.add((method, path, body))
        # The only 200s: a user's PUT naming none of a user's members
        # changes nothing (members given change, the others stay); no
        # protocol, membership, trial or user came of any of them.
        self.assertEqual({(m, p) for m, p, _ in accepted},
                         {("PUT", "/readroom/v1/users/asite1")}, accepted)
        self.assertEqual(state(), before)
        for body in ({"username": "asite1\u0000x"}, {"username": 1e300}, {"username": None},
                     {"username": ["asite1"]}):
            status, doc = self.req("PUT", "/readroom/v1/tasks/%s/assignee" % uuid.uuid4(), body,
                                   "admin")
            self.assertIn(status, (400, 404, 422), doc)
        # GET /users gives no secret: no hash, no token, no key.
        users = self.ok(200, "GET", "/readroom/v1/users")
        text = json.dumps(users)
        for secret in ("argon2", "$", "token", "hash", "password"):
            self.assertNotIn(secret, text)
        self.assertNotIn("(unassigned)", [u["username"] for u in users])
        self.ok(200, "GET", "/readroom/v1/me", who="asite1")
        self.ok(200, "GET", "/readroom/v1/audit/verify")

    def test_93_a_role_taken_away_takes_its_tasks_and_images(self):
        """Taking a role away ended the user's sessions, but its tasks
        stayed theirs: signed in again, the adjudicator who left the trial
        still listed and opened its adjudication, read both reads, saw the
        images through DICOMweb and could sign; a site user who left
        still fetched its uploads."""
        adj = self.ok(200, "GET", "/readroom/v1/tasks?status=all", who="aadj1")
        self.assertEqual([t["kind"] for t in adj], ["adjudication"], "test_1 runs first")
        task = adj[0]["id"]
        reads = [t["id"] for t in self.ok(200, "GET", "/readroom/v1/tasks?status=all",
                                          who="areader1") if t["timepoints"][-1]["day"] == 56]
        sop = self.ok(200, "GET", "/readroom/v1/tasks/%s/instances" % task, who="aadj1")[0]["sop"]
        week8 = self.studies[1]
        member = "/readroom/v1/trials/A1/members/"
        try:
            self.ok(200, "PUT", member + "aadj1", {"roles": []})
            self.ok(200, "PUT", member + "asite1", {"roles": []})
            for who in ("aadj1", "asite1"):
                self.tokens[who] = self.server.login(who, password_of(who))
            self.assertEqual(self.ok(200, "GET", "/readroom/v1/tasks?status=all", who="aadj1"),
                             [])
            for path in ("/readroom/v1/tasks/" + task, "/readroom/v1/tasks/%s/instances" % task,
                         "/readroom/v1/tasks/%s/submission" % reads[0],
                         "/readroom/v1/instances/%s/file" % sop):
                for who in ("aadj1", "asite1"):
                    self.assertEqual(self.req("GET", path, who=who)[0], 404, (path, who))
            for who in ("aadj1", "asite1"):
                self.assertEqual(self.req("GET", "/dicom-web/studies/%s/metadata" % week8,
                                          who=who)[0], 403, who)
            status, doc = self.req("POST", "/readroom/v1/tasks/%s/submission" % task,
                                   {"chosen": "Reader 1", "rationale": "r", "signature": {
                                       "password": password_of("aadj1"), "meaning": "m"}},
                                   "aadj1", headers={"Idempotency-Key": str(uuid.uuid4())})
            self.assertEqual(status, 404, doc)
        finally:
            self.ok(200, "PUT", member + "aadj1", {"roles": ["adjudicator"]})
            self.ok(200, "PUT", member + "asite1", {"roles": ["site"], "site": "S01"})
            for who in ("aadj1", "asite1"):
                self.tokens[who] = self.server.login(who, password_of(who))
        # The role given back, the work is theirs again.
        self.ok(200, "GET", "/readroom/v1/tasks/" + task, who="aadj1")
        self.ok(200, "GET", "/readroom/v1/instances/%s/file" % sop, who="asite1")
        self.ok(200, "GET", "/dicom-web/studies/%s/metadata" % week8, who="aadj1")

    def test_94_a_role_taken_away_keeps_what_was_signed(self):
        """Taking the reader's role away made its own submitted read a 404
        on both submission routes: a workstation whose answer was lost
        sent it again, got 404, and its outbox marked the read "refused"
        although the server held and locked it (review of test_93's fix)."""
        reads = [t for t in self.ok(200, "GET", "/readroom/v1/tasks?status=all", who="areader1")
                 if t["status"] == "submitted"]
        self.assertTrue(reads, "test_1 submits areader1's reads first")
        task = reads[0]["id"]
        path = "/readroom/v1/tasks/%s/submission" % task
        held = self.ok(200, "GET", path, who="areader1")
        member = "/readroom/v1/trials/A1/members/"
        try:
            self.ok(200, "PUT", member + "areader1", {"roles": []})
            self.tokens["areader1"] = self.server.login("areader1", password_of("areader1"))
            # What they signed, as the server holds it.
            self.assertEqual(self.ok(200, "GET", path, who="areader1"), held)
            # Sent again with another key: 409 (the outbox then asks), not 404.
            status, doc = self.req("POST", path, {"read": {}, "signature": {
                "password": password_of("areader1"), "meaning": "Read completed"}},
                "areader1", headers={"Idempotency-Key": str(uuid.uuid4())})
            self.assertEqual(status, 409, doc)
            # Nothing else of the task: not its view, not its images.
            self.assertEqual(self.req("GET", "/readroom/v1/tasks/" + task, who="areader1")[0], 404)
            self.assertEqual(self.req("GET", "/readroom/v1/tasks/%s/instances" % task,
                                      who="areader1")[0], 404)
        finally:
            self.ok(200, "PUT", member + "areader1", {"roles": ["reader"]})
            self.tokens["areader1"] = self.server.login("areader1", password_of("areader1"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
