#!/usr/bin/python3
"""The server suite: a real Orthanc with the Readroom plugin, started by
readroom-server on 127.0.0.1 (a free port, a temporary folder), driven over
HTTP: the whole workflow with export figures computed by hand, the access
matrix (every role and no, dead or garbage tokens against every kind of
route, with path variants), idempotency, refusals that store nothing, bad
input, and a restart after which the audit chain still verifies (and stops
verifying once an event is edited)."""
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

SERVER = os.environ.get("READROOM_SERVER", "build/src/server/readroom-server")
CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
ADMIN_PASSWORD = "admin-password-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data):
        self.data = data
        self.port = free_port()
        self.proc = None

    def start(self):
        env = dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN_PASSWORD)
        self.proc = subprocess.Popen([SERVER, "--data", self.data, "--http-port", str(self.port),
                                      "--dicom-port", "0"], env=env, stdout=subprocess.PIPE,
                                     stderr=open(os.path.join(self.data, "server.log"), "ab"),
                                     text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready http://127.0.0.1:%d" % self.port):
            self.stop_now()
            raise RuntimeError("readroom-server did not start: %r; see %s/server.log"
                               % (line, self.data))

    def stop_now(self):
        """SIGTERM (it stops its Orthanc), SIGKILL if that is not enough."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self):
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            self.proc = proc
            self.stop_now()
            self.proc = None
            assert proc.returncode == 0, "readroom-server exited %d on SIGTERM" % proc.returncode

    def request(self, method, path, body=None, token=None, headers=None, raw=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        conn.close()
        if raw:
            return r.status, dict(r.getheaders()), payload
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = payload
        return r.status, doc

    def login(self, user, password):
        status, doc = self.request("POST", "/readroom/v1/sessions",
                                   {"username": user, "password": password})
        assert status == 201, (status, doc)
        return doc["token"]


def password_of(user):
    return "password-" + user


def criteria(read):
    """The responses the workstation would send: readroom-cli criteria."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(read, f)
    try:
        out = subprocess.run([CLI, "criteria", f.name, "--json"], capture_output=True, text=True)
        return json.loads(out.stdout)
    finally:
        os.unlink(f.name)


def make_read(timepoints, sizes, status=None):
    """A RECIST read: one liver target with @sizes per timepoint."""
    read = {"criteria": "recist1.1",
            "timepoints": [{"id": label, "day": day} for label, day in timepoints],
            "target_lesions": [{"id": "T1", "organ": "liver", "nodal": False,
                                "measurements": dict(zip([t[0] for t in timepoints], sizes))}],
            "non_target_lesions": [], "new_lesions": []}
    read["responses"] = criteria(read)
    return read


class ServerSuite(unittest.TestCase):
    """One server for the suite; the tests run in order and build on the
    workflow of the first."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-server-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "data"))
        os.makedirs(cls.server.data)
        # Stopped whatever fails after this, in setUpClass too (where a
        # failure skips tearDownClass).
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.tokens = {}
        cls.state = {}


    def req(self, method, path, body=None, who=None, **kw):
        token = self.tokens.get(who) if who else None
        return self.server.request(method, path, body, token=token, **kw)

    def ok(self, expected, method, path, body=None, who="admin", **kw):
        status, doc = self.req(method, path, body, who, **kw)
        self.assertEqual(status, expected, "%s %s as %s: %s" % (method, path, who, doc))
        return doc

    def upload_study(self, folder, who):
        study = None
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), "rb") as f:
                doc = self.ok(201, "POST", "/readroom/v1/instances", f.read(), who)
            study = doc["study"]
        return study

    def submit(self, who, task, body, key=None, expected=201):
        status, doc = self.req("POST", "/readroom/v1/tasks/%s/submission" % task, body, who,
                               headers={"Idempotency-Key": key or str(uuid.uuid4())})
        self.assertEqual(status, expected, doc)
        return doc

    def tasks(self, who, status="open"):
        return self.ok(200, "GET", "/readroom/v1/tasks?status=" + status, who=who)

    # ---- the workflow ----

    def test_1_workflow(self):
        self.tokens["admin"] = self.server.login("admin", ADMIN_PASSWORD)
        users = ["site1", "qc1", "reader1", "reader2", "reader3", "adj1"]
        for u in users:
            self.ok(201, "POST", "/readroom/v1/users",
                    {"username": u, "password": password_of(u), "display_name": u.title()})
        self.ok(201, "POST", "/readroom/v1/trials",
                {"id": "T1", "name": "Phantom trial", "criteria": "recist1.1",
                 "readers_per_case": 2, "qc_required": True, "adjudication": "bor",
                 "reading": "sequential", "sd_min_days": 42, "confirmation": False,
                 "protocol": {"modality": "CT", "max_slice_thickness_mm": 5}})
        roles = {"site1": (["site"], "S01"), "qc1": (["qc"], None), "reader1": (["reader"], None),
                 "reader2": (["reader"], None), "reader3": (["reader"], None),
                 "adj1": (["adjudicator"], None)}
        for u, (r, site) in roles.items():
            body = {"roles": r}
            if site:
                body["site"] = site
            self.ok(200, "PUT", "/readroom/v1/trials/T1/members/" + u, body)
        for u in users:
            self.tokens[u] = self.server.login(u, password_of(u))

        # Three subjects, two timepoints each, uploaded by the site.
        studies = {}
        for subject, seed in (("S1", 1), ("S2", 2), ("S3", 3)):
            out = os.path.join(self.tmp, subject)
            subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "6", "--size", "64",
                            "--timepoints", "2", "--change", "-40", "--seed", str(seed),
                            "--patient-id", "SUBJ-" + subject], check=True, capture_output=True)
            for i, tp in enumerate(sorted(os.listdir(out))):
                folder = os.path.join(out, tp)
                inner = [os.path.join(folder, d) for d in os.listdir(folder)
                         if os.path.isdir(os.path.join(folder, d))]
                studies[(subject, i)] = self.upload_study(inner[0] if inner else folder, "site1")
        self.state["studies"] = studies
        # The site sees its own upload through DICOMweb, a reader does not.
        uid = studies[("S1", 0)]
        self.assertEqual(self.req("GET", "/dicom-web/studies/%s/metadata" % uid, who="site1")[0], 200)
        self.assertEqual(self.req("GET", "/dicom-web/studies/%s/metadata" % uid, who="reader1")[0], 403)

        # Linking a timepoint opens its QC task.
        tps = [("Baseline", 0), ("Week 8", 56)]
        for subject in ("S1", "S2", "S3"):
            for i, (label, day) in enumerate(tps):
                doc = self.ok(201, "POST", "/readroom/v1/trials/T1/subjects/%s/timepoints" % subject,
                              {"label": label, "day": day, "studies": [studies[(subject, i)]]})
                self.assertEqual(len(doc["tasks"]), 1)
        self.ok(409, "POST", "/readroom/v1/trials/T1/subjects/S1/timepoints",
                {"label": "Baseline", "day": 0, "studies": [studies[("S1", 0)]]})
        qc = self.tasks("qc1")
        self.assertEqual(len(qc), 6)
        self.assertTrue(all(t["kind"] == "qc" for t in qc))
        detail = self.ok(200, "GET", "/readroom/v1/tasks/" + qc[0]["id"], who="qc1")
        self.assertEqual(detail["protocol"]["modality"], "CT")
        # The QC reviewer sees its studies, as files with checksums.
        manifest = self.ok(200, "GET", "/readroom/v1/tasks/%s/instances" % qc[0]["id"], who="qc1")
        if not isinstance(manifest, list):
            try:
                json.loads(manifest)
            except ValueError as e:
                raise AssertionError("%s: %r" % (e, manifest[-300:]))
        self.assertEqual(len(manifest), 6, manifest)
        st, headers, data = self.req("GET", manifest[0]["url"], who="qc1", raw=True)
        self.assertEqual(st, 200)
        self.assertEqual(len(data), manifest[0]["size"])
        self.assertEqual(hashlib.md5(data).hexdigest(), manifest[0]["md5"])
        st, headers, part = self.req("GET", manifest[0]["url"], who="qc1", raw=True,
                                     headers={"Range": "bytes=100-199"})
        self.assertEqual(st, 206)
        self.assertEqual(part, data[100:200])
        self.assertEqual(headers.get("Content-Range"), "bytes 100-199/%d" % len(data))

        # QC: S1 and S2 pass; S3's baseline fails: no reads for it.
        by_subject = {}
        for t in qc:
            by_subject.setdefault(t["subject"], []).append(t)
        for subject, ts in by_subject.items():
            for t in sorted(ts, key=lambda t: t["timepoints"][0]["day"]):
                decision = "fail" if subject == "S3" else "pass"
                findings = [] if decision == "pass" else [
                    {"series": "1.2.3", "sop": "1.2.3.4", "frame": 0, "category": "motion_artifact",
                     "severity": "major", "shape": {"type": "rect", "points": [[1, 2], [30, 40]]},
                     "comment": "Breathing motion"}]
                self.submit("qc1", t["id"], {"decision": decision, "findings": findings,
                                             "signature": {"password": password_of("qc1"),
                                                           "meaning": "QC completed"}})
        reads = {u: self.tasks(u) for u in ("reader1", "reader2", "reader3")}
        all_reads = [t for ts in reads.values() for t in ts]
        self.assertEqual(len(all_reads), 8)   # 2 subjects x 2 timepoints x 2 readers
        self.assertFalse([t for t in all_reads if t["subject"] == "S3"])
        readers_of = {}
        for u, ts in reads.items():
            for t in ts:
                readers_of.setdefault(t["subject"], set()).add(u)
        # Two different readers per subject, the same two at every timepoint.
        for subject in ("S1", "S2"):
            self.assertEqual(len(readers_of[subject]), 2, readers_of)
            for u in readers_of[subject]:
                self.assertEqual(len([t for t in reads[u] if t["subject"] == subject]), 2)
        self.state["readers_of"] = readers_of

        # Reads: baselines agree (NE, no follow-up yet); at Week 8 S1's
        # readers agree (PR) and S2's do not (PR vs SD).
        sizes = {("S1", 0): (30.0, 15.0), ("S1", 1): (31.0, 16.0),
                 ("S2", 0): (30.0, 15.0), ("S2", 1): (30.0, 27.0)}
        slot_of = {}
        for subject in ("S1", "S2"):
            for day_index in (0, 1):
                for k, u in enumerate(sorted(readers_of[subject])):
                    t = [t for t in self.tasks(u) if t["subject"] == subject and
                         t["timepoints"][-1]["day"] == tps[day_index][1]]
                    self.assertEqual(len(t), 1, (u, subject, day_index))
                    t = t[0]
                    labels = [(tp["label"], tp["day"]) for tp in t["timepoints"]]
                    self.assertEqual(labels, tps[:day_index + 1])
                    if day_index == 1:
                        # Sequential, locked: the baseline is locked, and this
                        # reader's own baseline read comes with the task.
                        self.assertTrue(t["timepoints"][0]["locked"])
                        detail = self.ok(200, "GET", "/readroom/v1/tasks/" + t["id"], who=u)
                        self.assertEqual(len(detail["prior_reads"]), 1)
                    read = make_read(labels, sizes[(subject, k)][:day_index + 1])
                    receipt = self.submit(u, t["id"], {"read": read, "signature": {
                        "password": password_of(u), "meaning": "Read completed"}})
                    self.assertEqual(receipt["receipt"]["responses"]["best_overall_response"],
                                     read["responses"]["best_overall_response"])
                    slot_of[(subject, u)] = k
        adj = self.tasks("adj1")
        self.assertEqual(len(adj), 1)
        self.assertEqual(adj[0]["subject"], "S2")
        detail = self.ok(200, "GET", "/readroom/v1/tasks/" + adj[0]["id"], who="adj1")
        self.assertEqual([r["reader"] for r in detail["reads"]], ["Reader 1", "Reader 2"])
        self.assertIn("best_overall_response", [d["field"] for d in detail["discrepancies"]])
        # The adjudicator sees nothing that names the readers.
        text = json.dumps(detail)
        for u in ("reader1", "reader2", "reader3", "Reader1", "Reader2", "Reader3"):
            self.assertNotIn('"%s"' % u, text)
        # The adjudicator chooses the read that says SD.
        chosen = [r["reader"] for r in detail["reads"]
                  if r["responses"]["best_overall_response"] == "SD"][0]
        self.submit("adj1", adj[0]["id"], {"chosen": chosen, "rationale": "The target is "
                                           "measured across its longest axis in this read.",
                                           "signature": {"password": password_of("adj1"),
                                                         "meaning": "Adjudicated"}})

        # Export: figures by hand. Cases read twice: S1 BL, S1 W8, S2 BL,
        # S2 W8 = 4; adjudicated 1 -> rate 0.25. BOR pairs: (NE,NE) (PR,PR)
        # (NE,NE) (PR,SD): agreement 3/4. Kappa: reader 1 NE 2, PR 2; reader
        # 2 NE 2, PR 1, SD 1; pe = 2/4*2/4 + 2/4*1/4 = 0.375;
        # kappa = (0.75 - 0.375) / (1 - 0.375) = 0.6.
        export = self.ok(200, "GET", "/readroom/v1/trials/T1/export?format=json")
        a = export["agreement"]
        self.assertEqual(a["cases_read_twice"], 4)
        self.assertEqual(a["adjudicated"], 1)
        self.assertAlmostEqual(a["adjudication_rate"], 0.25)
        self.assertAlmostEqual(a["bor_agreement"], 0.75)
        self.assertAlmostEqual(a["kappa_bor"], 0.6)
        rows = {(r["subject"], r["timepoint"]): r for r in export["rows"]}
        self.assertEqual(rows[("S2", "Week 8")]["final"]["source"], chosen)
        self.assertEqual(rows[("S2", "Week 8")]["final"]["responses"]["best_overall_response"], "SD")
        self.assertEqual(rows[("S1", "Week 8")]["final"]["source"], "agreement")
        self.assertIsNone(rows[("S3", "Baseline")]["final"])
        st, headers, csv = self.req("GET", "/readroom/v1/trials/T1/export?format=csv", who="admin",
                                    raw=True)
        self.assertEqual(st, 200)
        lines = csv.decode().splitlines()
        self.assertTrue(lines[0].startswith("subject,timepoint,day,"))
        self.assertIn("# kappa_bor,0.6000", lines)
        self.assertIn("# adjudication_rate,0.2500", lines)
        self.state["read_task"] = [t for t in self.tasks(sorted(readers_of["S1"])[0], "all")
                                   if t["subject"] == "S1"][0]
        self.state["reader_of_s1"] = sorted(readers_of["S1"])[0]
        self.state["reader_not_s1"] = sorted({"reader1", "reader2", "reader3"} -
                                             readers_of["S1"])[0]

    # ---- access ----

    def test_2_access_matrix(self):
        s = self.state
        self.assertIn("read_task", s, "the workflow test must run first")
        # Dead tokens: one logged out, one expired (its expiry moved into the
        # past in the database), one that never existed.
        dead = self.server.login("reader3", password_of("reader3"))
        self.ok(204, "DELETE", "/readroom/v1/sessions/current", who=None,
                headers={"Authorization": "Bearer " + dead})
        expired = self.server.login("reader3", password_of("reader3"))
        db = sqlite3.connect(os.path.join(self.server.data, "readroom.db"), timeout=10)
        db.execute("UPDATE sessions SET expires_at = 1 WHERE token_hash = ?",
                   (hashlib.sha256(expired.encode()).hexdigest(),))
        db.commit()
        db.close()
        self.tokens.update({"logged-out": dead, "expired": expired, "garbage": "x" * 64})
        roles = ["admin", "site1", "qc1", "reader1", "reader2", "reader3", "adj1",
                 None, "logged-out", "expired", "garbage"]
        authed = {"admin", "site1", "qc1", "reader1", "reader2", "reader3", "adj1"}
        owner = s["reader_of_s1"]
        task = s["read_task"]["id"]
        s1 = s["studies"][("S1", 0)]
        s3 = s["studies"][("S3", 0)]
        manifest = self.ok(200, "GET", "/readroom/v1/tasks/%s/instances" % task, who=owner)
        sop = manifest[0]["sop"]
        study_readers = s["readers_of"]["S1"]
        orthanc_id = self.req("POST", "/tools/lookup", s1, "admin")[1][0]["ID"]

        cases = [
            # (method, path, body, roles allowed)
            ("GET", "/readroom/v1/me", None, authed),
            ("GET", "/readroom/v1/tasks", None, authed),
            ("GET", "/readroom/v1/tasks/" + task, None, {"admin", owner}),
            ("GET", "/readroom/v1/tasks/%s/instances" % task, None, {"admin", owner}),
            ("GET", "/readroom/v1/instances/%s/file" % sop, None,
             {"admin", "site1", "qc1"} | study_readers),
            ("POST", "/readroom/v1/users", {"username": "x"}, {"admin"}),
            ("PUT", "/readroom/v1/users/reader3", {"display_name": "Reader Three"}, {"admin"}),
            ("GET", "/readroom/v1/trials", None, {"admin"}),
            ("POST", "/readroom/v1/trials", {"id": "T1", "name": "dup"}, {"admin"}),
            ("PUT", "/readroom/v1/trials/T1/members/nobody", {"roles": []}, {"admin"}),
            ("POST", "/readroom/v1/trials/T1/subjects/S9/timepoints", {"label": "x"}, {"admin"}),
            ("GET", "/readroom/v1/trials/T1/export?format=json", None, {"admin"}),
            ("GET", "/readroom/v1/audit", None, {"admin"}),
            ("GET", "/readroom/v1/audit/verify", None, {"admin"}),
            # Orthanc's own REST, explorer, Lua, uploads: admin only.
            ("GET", "/patients", None, {"admin"}),
            ("GET", "/studies", None, {"admin"}),
            ("GET", "/instances/%s/file" % orthanc_id, None, {"admin"}),
            ("GET", "/system", None, {"admin"}),
            ("GET", "/plugins", None, {"admin"}),
            ("POST", "/tools/find", {"Level": "Study", "Query": {}}, {"admin"}),
            # Orthanc itself refuses Lua over REST, to an admin too.
            ("POST", "/tools/execute-script", "print(1)", set()),
            ("POST", "/instances", b"not dicom", {"admin"}),
            ("GET", "/app/explorer.html", None, {"admin"}),
            ("GET", "/", None, {"admin"}),
            # DICOMweb: no QIDO over the archive, no servers, WADO of
            # assigned studies only.
            ("GET", "/dicom-web/studies", None, {"admin"}),
            ("GET", "/dicom-web/servers", None, {"admin"}),
            ("GET", "/dicom-web/studies/%s/metadata" % s1, None,
             {"admin", "site1", "qc1"} | study_readers),
            ("GET", "/dicom-web/studies/%s/metadata" % s3, None, {"admin", "site1", "qc1"}),
        ]
        # Path variants of Orthanc's routes must not slip past the filter.
        variants = ["/patients/", "//patients", "/%70atients", "/./patients", "/PATIENTS",
                    "/readroom/v1/../patients", "/readroom/v1/%2e%2e/patients",
                    "/dicom-web//servers", "/dicom-web/servers/", "/Dicom-Web/studies",
                    "/instances/%s/content/0010-0010%%2F..%%2F..%%2F..%%2F..%%2Freadroom%%2Fv1"
                    % orthanc_id, "/app/../app/explorer.html", "/tools/execute-script/"]
        for v in variants:
            cases.append(("GET" if "execute" not in v else "POST", v, None,
                          {"admin"} if "execute" not in v else set()))

        n = refused = 0
        failures = []
        for method, path, body, allowed in cases:
            for who in roles:
                status, doc = self.req(method, path, body, who)
                n += 1
                self.assertNotEqual(status, 500, "%s %s as %s: %s" % (method, path, who, doc))
                if who in allowed:
                    # Reached: the handler may still say 4xx about the body,
                    # but never the gate's 401/403.
                    if status in (401, 403):
                        failures.append("%s %s as %s: %d, expected access" % (method, path, who,
                                                                            status))
                else:
                    refused += 1
                    if status not in (401, 403, 404):
                        failures.append("%s %s as %s: %d, expected a refusal" % (method, path,
                                                                               who, status))
                    if (who not in authed and path.startswith("/readroom/v1/") and status != 401
                            and ".." not in path and "%2e" not in path):
                        failures.append("%s %s without a live token: %d, expected 401" %
                                        (method, path, status))
        print("access matrix: %d cases, %d refusals, %d failures" % (n, refused, len(failures)))
        self.assertEqual(failures, [])

        # Another reader's task or study: 404, as if it did not exist.
        other = s["reader_not_s1"]
        self.assertEqual(self.req("GET", "/readroom/v1/tasks/" + task, who=other)[0], 404)
        self.assertEqual(self.req("GET", "/readroom/v1/tasks/" + str(uuid.uuid4()), who=other)[0], 404)
        self.assertEqual(self.req("GET", "/readroom/v1/instances/%s/file" % sop, who=other)[0], 404)
        self.assertEqual(self.req("GET", "/readroom/v1/instances/1.2.3.4.5/file", who=other)[0], 404)
        status, doc = self.req("POST", "/readroom/v1/tasks/%s/submission" % task, {}, other,
                               headers={"Idempotency-Key": str(uuid.uuid4())})
        self.assertEqual(status, 404)

    # ---- submissions ----

    def test_3_idempotency_and_refusals(self):
        s = self.state
        # A fresh timepoint for S1 gives fresh read tasks.
        out = os.path.join(self.tmp, "S1-extra")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "4", "--size", "64", "--seed", "9"],
                       check=True, capture_output=True)
        folder = out
        inner = [os.path.join(out, d) for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))]
        study = self.upload_study(inner[0] if inner else folder, "site1")
        doc = self.ok(201, "POST", "/readroom/v1/trials/T1/subjects/S1/timepoints",
                      {"label": "Week 16", "day": 112, "studies": [study]})
        qc_task = doc["tasks"][0]
        self.submit("qc1", qc_task, {"decision": "pass", "findings": [],
                                     "signature": {"password": password_of("qc1"), "meaning": "QC"}})
        u = s["reader_of_s1"]
        t = [t for t in self.tasks(u) if t["subject"] == "S1"][0]
        labels = [(tp["label"], tp["day"]) for tp in t["timepoints"]]
        self.assertEqual(labels[-1], ("Week 16", 112))
        good = {"read": make_read(labels, (30.0, 15.0, 14.0)),
                "signature": {"password": password_of(u), "meaning": "Read completed"}}

        def audit_count():
            return self.ok(200, "GET", "/readroom/v1/audit/verify")["events"]

        # A wrong response: 422, nothing stored.
        bad = json.loads(json.dumps(good))
        bad["read"]["responses"]["best_overall_response"] = "CR"
        before = audit_count()
        doc = self.submit(u, t["id"], bad, expected=422)
        self.assertEqual(doc["error"]["code"], "invalid_submission")
        self.assertIn("responses_differ", [d["rule"] for d in doc["error"]["details"]])
        # A read that breaks a rule (six targets): 422 with the rule.
        broken = json.loads(json.dumps(good["read"]))
        broken.pop("responses")
        broken["target_lesions"] = [{"id": "T%d" % i, "organ": "organ%d" % i, "nodal": False,
                                     "measurements": {lab: 20.0 for lab, _ in labels}}
                                    for i in range(6)]
        broken["responses"] = criteria(broken)
        doc = self.submit(u, t["id"], {"read": broken, "signature": good["signature"]}, expected=422)
        self.assertIn("too_many_targets", [d["rule"] for d in doc["error"]["details"]])
        # A wrong signature password: 401, nothing stored.
        wrong = json.loads(json.dumps(good))
        wrong["signature"]["password"] = "not-the-password"
        self.submit(u, t["id"], wrong, expected=401)
        self.assertEqual(audit_count(), before)
        self.assertEqual([x for x in self.tasks(u) if x["id"] == t["id"]][0]["status"], "open")

        # The same key and body: the same receipt; another body: 409.
        key = str(uuid.uuid4())
        first = self.submit(u, t["id"], good, key=key)
        again = self.submit(u, t["id"], good, key=key, expected=200)
        self.assertEqual(first, again)
        other = json.loads(json.dumps(good))
        other["signature"]["meaning"] = "Read completed again"
        self.submit(u, t["id"], other, key=key, expected=409)
        self.submit(u, t["id"], good, key=str(uuid.uuid4()), expected=409)

    def test_4_bad_input(self):
        u = self.state["reader_of_s1"]
        task = self.state["read_task"]["id"]
        cases = [
            ("POST", "/readroom/v1/sessions", "{not json"),
            ("POST", "/readroom/v1/sessions", "[]"),
            ("POST", "/readroom/v1/sessions", {"username": 7, "password": ["x"]}),
            ("POST", "/readroom/v1/sessions", {"username": "admin' OR '1'='1", "password": "x"}),
            ("POST", "/readroom/v1/users", {"username": "a'; DROP TABLE users; --",
                                            "password": "longenough"}),
            ("POST", "/readroom/v1/trials", {"id": "x\"); DROP TABLE trials; --", "name": "n"}),
            ("POST", "/readroom/v1/trials", {"id": "T9", "name": "n", "readers_per_case": "two"}),
            ("POST", "/readroom/v1/trials", {"id": "T9", "name": "n", "criteria": "nonsense"}),
            ("PUT", "/readroom/v1/trials/T1/members/reader1", {"roles": ["god"]}),
            ("PUT", "/readroom/v1/trials/T1/members/reader1", {"roles": "reader"}),
            ("POST", "/readroom/v1/trials/T1/subjects/S1/timepoints",
             {"label": "X", "day": "monday", "studies": ["1.2"]}),
            ("POST", "/readroom/v1/trials/T1/subjects/S1/timepoints",
             {"label": "X", "day": 9, "studies": ["1.2'; --"]}),
            ("POST", "/readroom/v1/trials/T1/subjects/S1/timepoints",
             {"label": "X", "day": 9, "studies": ["1.2.3.4.5.6"]}),
            ("GET", "/readroom/v1/trials/T1'%20OR%20'1'='1/export", None),
            ("GET", "/readroom/v1/tasks/%27%20OR%201=1%20--", None),
            ("GET", "/readroom/v1/tasks?status=%27%3B%20DROP%20TABLE%20tasks", None),
            ("GET", "/readroom/v1/audit?after=abc&limit=-5", None),
            ("GET", "/readroom/v1/instances/..%2F..%2Fsystem/file", None),
            ("GET", "/readroom/v1/trials/T1/export?format=xml", None),
            ("POST", "/readroom/v1/instances", b"\x00" * 300),
        ]
        for method, path, body in cases:
            for who in ("admin", u):
                status, doc = self.req(method, path, body, who)
                self.assertTrue(400 <= status < 500, "%s %s as %s: %d %s" % (method, path, who,
                                                                             status, doc))
        # Submissions: no key, malformed, wrong types, a huge body.
        for body, headers in [({}, {}), ("{oops", {"Idempotency-Key": str(uuid.uuid4())}),
                              ({"read": "text", "signature": {"password": "x", "meaning": "m"}},
                               {"Idempotency-Key": str(uuid.uuid4())}),
                              ({"read": {}, "signature": "x"}, {"Idempotency-Key": str(uuid.uuid4())})]:
            status, doc = self.req("POST", "/readroom/v1/tasks/%s/submission" % task, body, u,
                                   headers=headers)
            self.assertTrue(400 <= status < 500, (status, doc))
        huge = b'{"read": "' + b"x" * (9 << 20) + b'"}'
        status, doc = self.req("POST", "/readroom/v1/trials", huge, "admin")
        self.assertEqual(status, 413, doc)
        # Still up, tables intact.
        self.ok(200, "GET", "/readroom/v1/me", who=u)
        self.assertEqual(len(self.ok(200, "GET", "/readroom/v1/trials")), 1)

    def test_5_restart_and_audit(self):
        verify = self.ok(200, "GET", "/readroom/v1/audit/verify")
        self.assertTrue(verify["ok"], verify)
        events = verify["events"]
        self.assertGreater(events, 40)
        trail = self.ok(200, "GET", "/readroom/v1/audit?limit=10000")
        self.assertEqual([e["seq"] for e in trail], list(range(1, events + 1)))
        self.assertEqual(trail[1]["prev_hash"], trail[0]["hash"])
        actions = {e["action"] for e in trail}
        for a in ("user.create", "trial.create", "member.set", "timepoint.link", "task.create",
                  "task.submit", "timepoint.qc", "final.agreement", "final.adjudicated"):
            self.assertIn(a, actions)
        # Signed submissions name the signer and the meaning.
        signed = [e for e in trail if e["action"] == "task.submit"]
        self.assertTrue(all(e["details"]["meaning"] and e["details"]["signed_by"] for e in signed))

        # Restart: everything persists; the chain still verifies.
        self.server.stop()
        self.server.start()
        self.tokens["admin"] = self.server.login("admin", ADMIN_PASSWORD)
        verify = self.ok(200, "GET", "/readroom/v1/audit/verify")
        self.assertTrue(verify["ok"], verify)
        self.assertGreaterEqual(verify["events"], events)
        export = self.ok(200, "GET", "/readroom/v1/trials/T1/export?format=json")
        self.assertEqual(export["agreement"]["adjudicated"], 1)

        # Edit one event in the database: verify fails there.
        self.server.stop()
        db = sqlite3.connect(os.path.join(self.server.data, "readroom.db"))
        db.execute("UPDATE audit SET details = '{\"x\": 1}' WHERE seq = 5")
        db.commit()
        db.close()
        self.server.start()
        self.tokens["admin"] = self.server.login("admin", ADMIN_PASSWORD)
        verify = self.ok(200, "GET", "/readroom/v1/audit/verify")
        self.assertFalse(verify["ok"])
        self.assertEqual(verify["broken_at"], 5)

    def test_6_cli_admin(self):
        """readroom-cli admin drives the same API: passwords from the
        environment, never from the command line."""
        url = "http://127.0.0.1:%d" % self.server.port

        def cli(*args, new_password=None, password=ADMIN_PASSWORD, expect=0):
            env = dict(os.environ, READROOM_PASSWORD=password)
            if new_password:
                env["READROOM_NEW_PASSWORD"] = new_password
            r = subprocess.run([CLI, "admin", "--server", url] + list(args), env=env,
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, expect, r.stderr)
            return r

        cli("user", "add", "cli-reader", "--display-name", "CLI Reader",
            new_password="cli-reader-pw")
        cli("trial", "create", "T2", "--name", "CLI trial", "--no-qc", "--readers", "1")
        cli("member", "set", "T2", "cli-reader", "--roles", "reader")
        out = os.path.join(self.tmp, "cli-study")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "4", "--size", "64", "--seed", "5"],
                       check=True, capture_output=True)
        with open(os.path.join(out, "README.txt"), "w") as f:
            f.write("not an image")
        r = cli("upload", out, "--trial", "T2", "--subject", "P1", "--timepoint", "Baseline",
                "--day", "0")
        self.assertIn("1 skipped", r.stderr)
        linked = json.loads(r.stdout)
        self.assertEqual(len(linked["tasks"]), 1)
        # Without QC the read is open at once, for the trial's one reader.
        token = self.server.login("cli-reader", "cli-reader-pw")
        status, tasks = self.server.request("GET", "/readroom/v1/tasks", token=token)
        self.assertEqual([t["kind"] for t in tasks], ["read"])
        target = os.path.join(self.tmp, "t2.csv")
        cli("export", "T2", "--format", "csv", "-o", target)
        with open(target) as f:
            self.assertIn("P1,Baseline,0,cli-reader", f.read())
        # Refusals: a wrong password, a password on the command line.
        cli("trial", "create", "T3", "--name", "x", password="wrong-password", expect=1)
        cli("--password", "x", "export", "T2", expect=2)


class Launcher(unittest.TestCase):
    """readroom-server refuses to report ready, and stops Orthanc, unless
    Orthanc runs with the plugin: a missing file would leave Orthanc open."""

    def run_server(self, plugin, tmp):
        env = dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN_PASSWORD)
        env.pop("READROOM_PLUGIN", None)
        if plugin:
            env["READROOM_PLUGIN"] = plugin
        # A copy of the launcher with no plugin beside it.
        exe = os.path.join(tmp, "readroom-server")
        shutil.copy(SERVER, exe)
        port = free_port()
        r = subprocess.run([exe, "--data", os.path.join(tmp, "data"), "--http-port", str(port),
                            "--dicom-port", "0"], env=env, capture_output=True, text=True,
                           timeout=120)
        # Nothing is left listening.
        with socket.socket() as s:
            self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0)
        return r

    def test_missing_plugin(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = self.run_server(None, tmp)
            self.assertEqual(r.returncode, 1)
            self.assertNotIn("ready", r.stdout)
            self.assertIn("plugin", r.stderr)

    def test_plugin_that_does_not_load(self):
        # A shared library that is no Orthanc plugin: Orthanc either stops
        # or runs without it; either way the launcher never says ready.
        lib = [p for p in ("/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1",
                           "/usr/lib/aarch64-linux-gnu/libz.so.1") if os.path.exists(p)]
        if not lib:
            self.skipTest("no libz to stand in for a broken plugin")
        with tempfile.TemporaryDirectory() as tmp:
            r = self.run_server(lib[0], tmp)
            self.assertEqual(r.returncode, 1, r.stderr[-2000:])
            self.assertNotIn("ready", r.stdout)
            self.assertTrue("without the Readroom plugin" in r.stderr or
                            "Orthanc exited while starting" in r.stderr, r.stderr[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
