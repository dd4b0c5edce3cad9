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
import uuid

try:
    import pydicom
except ImportError:  # the phantoms are conformed with it
    print("pydicom is not installed (python3-pydicom)")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server, password_of  # noqa: E402

RESPONSE = "Repeated with breath-hold and 5 mm slices"

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

    def phantom_study(self, subject, *options, who="qsite"):
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
                                      who=who)["study"]
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
        # The CLI checks the file with qc's own parser and names it and
        # the member before anything is sent; the server refuses the same
        # document on its own (400), for any client that does not check.
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(path, r.stderr)
        self.assertIn('"contrast"', r.stderr)
        self.call("PUT", "/readroom/v1/trials/Q1/protocol", {"contrast": "maybe"}, 400)
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

    def submit(self, who, task, body, expected=201):
        status, doc = self.server.request("POST", "/readroom/v1/tasks/%s/submission" % task, body,
                                          token=self.tokens[who],
                                          headers={"Idempotency-Key": str(uuid.uuid4())})
        self.assertEqual(status, expected, (who, task, doc))
        return doc

    def signed(self, who, **body):
        body["signature"] = {"password": password_of(who), "meaning": "QC"}
        return body

    def audit(self, action):
        return [e for e in self.call("GET", "/readroom/v1/audit?limit=10000", None, 200)
                if e["action"] == action]

    def test_7_query_loop(self):
        # The loop of server-api.md: a query goes to the uploading site,
        # which answers with a re-upload (readroom-cli upload --query); the
        # answer links the new study in place of the queried one and opens
        # a fresh QC task, whose pass opens the reads.
        for u, roles, site in (("qreader1", ["reader"], None), ("qreader2", ["reader"], None),
                               ("qsite2", ["site"], "S02")):
            self.call("POST", "/readroom/v1/users", {"username": u, "password": password_of(u)},
                      201)
            body = {"roles": roles}
            if site:
                body["site"] = site
            self.call("PUT", "/readroom/v1/trials/Q1/members/" + u, body, 200)
            self.tokens[u] = self.server.login(u, password_of(u))
        # test 5 raised the maximum to 10 mm.
        self.call("PUT", "/readroom/v1/trials/Q1/protocol", PROTOCOL, 200)
        thick = self.phantom_study("QLOOP", "--thickness", "7.5", "--spacing", "7.5")
        qc = self.link("QLOOP", thick)
        self.assertEqual(self.statuses(qc)["slice_thickness"], "fail", qc["automated"])
        self.assertIsNone(qc["query"])
        manifest = self.call("GET", "/readroom/v1/tasks/%s/instances" % qc["id"], None, 200,
                             who="qreviewer")
        marked = manifest[3]
        findings = qc["automated"]["findings"] + [
            {"series": marked["series"], "sop": marked["sop"], "frame": 0,
             "category": "motion_artifact", "severity": "major",
             "shape": {"type": "rect", "points": [[4, 4], [20, 16]]},
             "comment": "Breathing motion across the liver"}]
        self.submit("qreviewer", qc["id"], self.signed("qreviewer", decision="query",
                                                       findings=findings))

        # No reads; one query, for the uploader only.
        for u in ("qreader1", "qreader2"):
            self.assertEqual(self.call("GET", "/readroom/v1/tasks", None, 200, who=u), [])
        self.assertEqual([t for t in self.call("GET", "/readroom/v1/tasks", None, 200,
                                               who="qreviewer") if t["subject"] == "QLOOP"], [])
        queries = self.call("GET", "/readroom/v1/tasks", None, 200, who="qsite")
        self.assertEqual([(t["kind"], t["subject"]) for t in queries], [("query", "QLOOP")])
        query = self.call("GET", "/readroom/v1/tasks/" + queries[0]["id"], None, 200, who="qsite")
        self.assertEqual(query["timepoints"][0]["studies"], [thick])
        self.assertEqual((query["qc_task"], query["decision"], query["findings"],
                          query["response"], query["answered_by"]),
                         (qc["id"], "query", findings, None, None))
        # The site sees the marked image: it is its own upload.
        st, _, data = self.server.request("GET", marked["url"], token=self.tokens["qsite"],
                                          raw=True)
        self.assertEqual((st, len(data)), (200, marked["size"]))
        for who in ("qreviewer", "qsite2", "qreader1"):
            status, _ = self.server.request("GET", "/readroom/v1/tasks/" + query["id"],
                                            token=self.tokens[who])
            self.assertEqual(status, 404, who)
            self.submit(who, query["id"], self.signed(who, response="x", studies=[thick]), 404)

        # Answers that cannot be taken store nothing: no response, a study
        # of another timepoint, another site's upload, a wrong password.
        self.submit("qsite", query["id"], self.signed("qsite", studies=[thick]), 400)
        clean = [t for t in self.call("GET", "/readroom/v1/tasks?status=all", None, 200,
                                      who="qreviewer") if t["subject"] == "QCLEAN"]
        self.submit("qsite", query["id"], self.signed(
            "qsite", response=RESPONSE, studies=[clean[0]["timepoints"][0]["studies"][0]]), 422)
        theirs = self.phantom_study("QLOOP2", "--thickness", "5", "--spacing", "5", who="qsite2")
        self.submit("qsite", query["id"], self.signed("qsite", response=RESPONSE,
                                                      studies=[theirs]), 422)
        self.submit("qsite", query["id"], {"response": RESPONSE, "studies": [thick],
                                           "signature": {"password": "wrong", "meaning": "QC"}},
                    401)
        self.assertEqual(self.call("GET", "/readroom/v1/tasks/" + query["id"], None, 200,
                                   who="qsite")["status"], "open")
        self.assertEqual(self.audit("query.answer"), [])

        # The re-upload answers it.
        src = os.path.join(self.tmp, "redo")
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", "12", "--size", "32",
                        "--patient-id", "Original Name", "--seed", "4", "--thickness", "5",
                        "--spacing", "5"], check=True, capture_output=True)
        home = os.path.join(self.tmp, "home")
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(home, "data"),
                   XDG_CACHE_HOME=os.path.join(home, "cache"), READROOM_NO_KEYRING="1",
                   READROOM_PASSWORD=password_of("qsite"))
        r = subprocess.run([CLI, "upload", src, "--server", "http://127.0.0.1:%d" % self.server.port,
                            "--user", "qsite", "--trial", "Q1", "--subject", "QLOOP",
                            "--timepoint", "Baseline", "--query", query["id"],
                            "--response", RESPONSE, "--offline-timeout", "60"],
                           env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("answered: query " + query["id"], r.stdout)
        redone = [line.split()[1] for line in r.stdout.splitlines() if line.startswith("study: ")]
        self.assertEqual(len(redone), 1, r.stdout)
        self.assertNotIn(redone[0], (thick, theirs))

        query = self.call("GET", "/readroom/v1/tasks/" + query["id"], None, 200, who="qsite")
        self.assertEqual((query["status"], query["response"]), ("submitted", RESPONSE))
        self.assertEqual(self.call("GET", "/readroom/v1/tasks", None, 200, who="qsite"), [])
        fresh = self.call("GET", "/readroom/v1/tasks/" + query["answered_by"], None, 200,
                          who="qreviewer")
        self.assertEqual((fresh["kind"], fresh["status"], fresh["subject"]),
                         ("qc", "open", "QLOOP"))
        self.assertEqual(fresh["timepoints"][0]["studies"], redone)
        self.assertEqual(fresh["query"], {"id": query["id"], "decision": "query",
                                          "findings": findings, "response": RESPONSE})
        checks = self.statuses(fresh)
        for check in CHECKS:
            self.assertEqual(checks.get(check), "pass", (check, fresh["automated"]))
        manifest = self.call("GET", "/readroom/v1/tasks/%s/instances" % fresh["id"], None, 200,
                             who="qreviewer")
        self.assertEqual({m["study"] for m in manifest}, set(redone))
        self.assertEqual(len(manifest), 12)

        # The pass opens the reads, of the new study.
        self.submit("qreviewer", fresh["id"], self.signed("qreviewer", decision="pass",
                                                          findings=[]))
        for u in ("qreader1", "qreader2"):
            reads = self.call("GET", "/readroom/v1/tasks", None, 200, who=u)
            self.assertEqual([(t["kind"], t["subject"]) for t in reads], [("read", "QLOOP")], u)
            self.assertEqual(reads[0]["timepoints"][0]["studies"], redone)

        # The query's history, in the trail.
        opened = self.audit("query.open")
        self.assertEqual([(e["user"], e["object"], e["details"]) for e in opened],
                         [("qreviewer", query["id"], {"qc_task": qc["id"], "decision": "query",
                                                      "findings": len(findings)})])
        answered = self.audit("query.answer")
        self.assertEqual([(e["user"], e["object"], e["details"]) for e in answered],
                         [("qsite", query["id"], {"response": RESPONSE, "studies": redone,
                                                  "unlinked": [thick], "qc_task": fresh["id"]})])
        submits = [e for e in self.audit("task.submit") if e["object"] == query["id"]]
        self.assertEqual(len(submits), 1)
        self.assertEqual(submits[0]["details"]["kind"], "query")
        self.assertEqual(self.call("GET", "/readroom/v1/audit/verify", None, 200)["ok"], True)

    def test_8_fail_opens_a_query_too(self):
        gap = [t for t in self.call("GET", "/readroom/v1/tasks", None, 200, who="qreviewer")
               if t["subject"] == "QGAP"]
        self.assertEqual(len(gap), 1)
        self.submit("qreviewer", gap[0]["id"], self.signed("qreviewer", decision="fail"))
        queries = [t for t in self.call("GET", "/readroom/v1/tasks", None, 200, who="qsite")
                   if t["subject"] == "QGAP"]
        self.assertEqual([t["kind"] for t in queries], ["query"])
        query = self.call("GET", "/readroom/v1/tasks/" + queries[0]["id"], None, 200, who="qsite")
        self.assertEqual((query["qc_task"], query["decision"], query["findings"]),
                         (gap[0]["id"], "fail", []))

    def test_9_unassigned_query_goes_to_the_site(self):
        # The uploader has left: the query waits unassigned, and an admin
        # gives it to another site member of the same site, who answers it.
        for u, site in (("qsite3", "S03"), ("qsite4", "S03"), ("qsite5", "S04")):
            self.call("POST", "/readroom/v1/users", {"username": u, "password": password_of(u)},
                      201)
            self.call("PUT", "/readroom/v1/trials/Q1/members/" + u,
                      {"roles": ["site"], "site": site}, 200)
            self.tokens[u] = self.server.login(u, password_of(u))
        self.call("PUT", "/readroom/v1/trials/Q1/protocol", PROTOCOL, 200)
        thick = self.phantom_study("QLEFT", "--thickness", "7.5", "--spacing", "7.5",
                                   who="qsite3")
        qc = self.link("QLEFT", thick)
        self.call("PUT", "/readroom/v1/users/qsite3", {"disabled": True}, 200)
        self.submit("qreviewer", qc["id"], self.signed("qreviewer", decision="query",
                                                       findings=qc["automated"]["findings"]))
        waiting = [t for t in self.call("GET", "/readroom/v1/tasks", None, 200)
                   if t["subject"] == "QLEFT" and t["kind"] == "query"]
        self.assertEqual([t["assignee"] for t in waiting], [None])
        query = waiting[0]["id"]
        path = "/readroom/v1/tasks/%s/assignee" % query

        # Refused, and nothing changes: not an admin (404, as a task it
        # cannot see); another site's member; not a site member; the
        # uploader who left; nobody.
        self.call("PUT", path, {"username": "qsite4"}, 404, who="qsite4")
        for u in ("qsite5", "qreviewer", "qsite3", "nobody"):
            self.call("PUT", path, {"username": u}, 422)
        self.assertEqual(self.call("GET", "/readroom/v1/tasks", None, 200, who="qsite4"), [])
        self.assertEqual(self.audit("task.assign"), [])

        doc = self.call("PUT", path, {"username": "qsite4"}, 200)
        self.assertEqual((doc["id"], doc["kind"], doc["assignee"]), (query, "query", "qsite4"))
        self.call("PUT", path, {"username": "qsite4"}, 409)
        self.assertEqual([(e["user"], e["object"], e["details"])
                          for e in self.audit("task.assign")],
                         [("admin", query, {"assignee": "qsite4"})])
        mine = self.call("GET", "/readroom/v1/tasks", None, 200, who="qsite4")
        self.assertEqual([(t["id"], t["kind"]) for t in mine], [(query, "query")])
        self.assertEqual(self.call("GET", "/readroom/v1/tasks", None, 200, who="qsite5"), [])
        # The marked images are its to see through the task, not its upload.
        manifest = self.call("GET", "/readroom/v1/tasks/%s/instances" % query, None, 200,
                             who="qsite4")
        st, _, data = self.server.request("GET", manifest[0]["url"], token=self.tokens["qsite4"],
                                          raw=True)
        self.assertEqual((st, len(data)), (200, manifest[0]["size"]))

        # It answers with its own re-upload; a fresh QC task follows.
        redo = self.phantom_study("QLEFT-redo", "--thickness", "5", "--spacing", "5",
                                  who="qsite4")
        self.submit("qsite4", query, self.signed("qsite4", response=RESPONSE, studies=[redo]))
        answered = self.call("GET", "/readroom/v1/tasks/" + query, None, 200, who="qsite4")
        self.assertEqual(answered["status"], "submitted")
        fresh = self.call("GET", "/readroom/v1/tasks/" + answered["answered_by"], None, 200,
                          who="qreviewer")
        self.assertEqual((fresh["kind"], fresh["status"], fresh["timepoints"][0]["studies"]),
                         ("qc", "open", [redo]))

        # Other kinds are not assigned this way.
        self.call("PUT", "/readroom/v1/tasks/%s/assignee" % fresh["id"], {"username": "qsite4"},
                  409)


if __name__ == "__main__":
    unittest.main(verbosity=2)
