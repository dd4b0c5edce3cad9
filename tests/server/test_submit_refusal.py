#!/usr/bin/python3
"""A read the server refuses (422), against a real readroom-server on
127.0.0.1: its list of differences reaches the reader. readroom-cli submit
sends a follow-up read whose responses were altered (best overall response
and the Week 8 overall response SD, where 30 mm -> 16 mm is -46.7 %, PR):
the refusal it prints, and the outbox entry's last error that the lesion
form shows, name each differing field with what was submitted and what the
server computed.

Sequential reading (server-api.md, "Workflow"; the 409 is described in
docs/server-notes.md): in a sequential trial, a Week 8 read sent while the
same reader's Baseline read of the subject is open is refused with 409
`conflict` naming the Baseline, nothing is stored, and the outbox entry
says why; once the Baseline is submitted the same Week 8 read is taken. A
batch trial (the one above) takes a Week 8 read first."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server, make_read  # noqa: E402


class SubmitRefusal(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-refusal-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.url = "http://127.0.0.1:%d" % cls.server.port

        def admin(*args):
            env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
                       READROOM_NEW_PASSWORD="reader-password")
            subprocess.run([CLI, "admin", "--server", cls.url] + list(args), env=env, check=True,
                           capture_output=True)
        admin("user", "add", "reader1")
        admin("trial", "create", "TR", "--name", "refusal", "--no-qc", "--readers", "1",
              "--reading", "batch")
        admin("member", "set", "TR", "reader1", "--roles", "reader")
        studies = os.path.join(cls.tmp, "studies")
        subprocess.run([PHANTOM, studies, "--kind", "ct", "--slices", "8", "--size", "64",
                        "--timepoints", "2"], check=True, capture_output=True)
        admin("upload", os.path.join(studies, "tp00"), "--trial", "TR", "--subject", "S-1",
              "--timepoint", "Baseline", "--day", "0")
        admin("upload", os.path.join(studies, "tp01"), "--trial", "TR", "--subject", "S-1",
              "--timepoint", "Week 8", "--day", "56")
        # A sequential trial (the default): subject S-2, two timepoints.
        admin("trial", "create", "TS", "--name", "sequential", "--no-qc", "--readers", "1")
        admin("member", "set", "TS", "reader1", "--roles", "reader")
        # Studies of its own: a study is one visit of one subject (the
        # server refuses to link one that a timepoint holds already).
        studies = os.path.join(cls.tmp, "studies-ts")
        subprocess.run([PHANTOM, studies, "--kind", "ct", "--slices", "8", "--size", "64",
                        "--timepoints", "2", "--seed", "2"], check=True, capture_output=True)
        admin("upload", os.path.join(studies, "tp00"), "--trial", "TS", "--subject", "S-2",
              "--timepoint", "Baseline", "--day", "0")
        admin("upload", os.path.join(studies, "tp01"), "--trial", "TS", "--subject", "S-2",
              "--timepoint", "Week 8", "--day", "56")
        cls.home = os.path.join(cls.tmp, "home")

    def env(self):
        return dict(os.environ, XDG_DATA_HOME=os.path.join(self.home, "data"),
                    XDG_CACHE_HOME=os.path.join(self.home, "cache"), READROOM_NO_KEYRING="1",
                    READROOM_PASSWORD="reader-password")

    def test_differences_reach_the_reader(self):
        token = self.server.login("reader1", "reader-password")
        status, tasks = self.server.request("GET", "/readroom/v1/tasks?status=open", token=token)
        self.assertEqual(status, 200, tasks)
        task = [t for t in tasks if t["kind"] == "read" and t["trial"] == "TR"
                and len(t["timepoints"]) == 2][0]
        read = make_read([(tp["label"], tp["day"]) for tp in task["timepoints"]], (30.0, 16.0))
        self.assertEqual(read["responses"]["best_overall_response"], "PR")
        read["responses"]["best_overall_response"] = "SD"
        read["responses"]["timepoints"][0]["overall"] = "SD"
        path = os.path.join(self.tmp, "read.json")
        with open(path, "w") as f:
            json.dump(read, f)
        r = subprocess.run([CLI, "sync", "--server", self.url, "--user", "reader1"],
                           env=self.env(), capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([CLI, "submit", "--server", self.url, "--user", "reader1", "--task",
                            task["id"], "--read", path], env=self.env(), capture_output=True,
                           text=True, timeout=300)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        expected = ["best_overall_response: submitted SD, the server computed PR",
                    "timepoints[0].overall: submitted SD, the server computed PR"]
        for line in expected:
            self.assertIn(line, r.stderr)
        db = os.path.join(self.home, "data", "readroom", "readroom.db")
        with sqlite3.connect(db) as c:
            state, last_error = c.execute("SELECT state, last_error FROM outbox WHERE task_id = ?",
                                          (task["id"],)).fetchone()
        self.assertEqual(state, "refused")
        self.assertEqual(last_error.splitlines()[1:], expected, last_error)

    def test_unknown_task_is_named_and_not_saved(self):
        """Walk finding m13: a task the server does not know (a typo) is
        refused at once, naming the task, and nothing goes to the outbox
        (it was "saved to the outbox", then "refused: No such resource")."""
        read = make_read([("Baseline", 0)], (30.0,))
        path = os.path.join(self.tmp, "unknown-task.json")
        with open(path, "w") as f:
            json.dump(read, f)
        r = subprocess.run([CLI, "submit", "--server", self.url, "--user", "reader1", "--task",
                            "no-such-task-77", "--read", path], env=self.env(),
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stderr.strip().splitlines()[-1],
                         "readroom-cli submit: task no-such-task-77: no such task of reader1 on "
                         "the server; nothing was saved or sent")
        db = os.path.join(self.home, "data", "readroom", "readroom.db")
        with sqlite3.connect(db) as c:
            rows = c.execute("SELECT state FROM outbox WHERE task_id = ?",
                             ("no-such-task-77",)).fetchall()
        self.assertEqual(rows, [])

    def test_sequential_reading(self):
        token = self.server.login("reader1", "reader-password")
        status, tasks = self.server.request("GET", "/readroom/v1/tasks?status=open", token=token)
        self.assertEqual(status, 200, tasks)
        mine = [t for t in tasks if t["kind"] == "read" and t["trial"] == "TS"]
        # Each task says how its trial reads, so the workstation holds a
        # later timepoint back only in a sequential trial.
        status, every = self.server.request("GET", "/readroom/v1/tasks?status=all", token=token)
        self.assertEqual(status, 200, every)
        self.assertEqual({t["reading"] for t in every if t["trial"] == "TS"}, {"sequential"})
        self.assertEqual({t["reading"] for t in every if t["trial"] == "TR"}, {"batch"})
        status, one = self.server.request("GET", "/readroom/v1/tasks/%s" % mine[0]["id"],
                                          token=token)
        self.assertEqual((status, one.get("reading")), (200, "sequential"), one)
        baseline = [t for t in mine if len(t["timepoints"]) == 1][0]
        week8 = [t for t in mine if len(t["timepoints"]) == 2][0]
        # A valid read (30 -> 16 mm, PR, the responses the server computes):
        # only the order is wrong.
        read = make_read([(tp["label"], tp["day"]) for tp in week8["timepoints"]], (30.0, 16.0))
        body = {"read": read, "signature": {"password": "reader-password", "meaning": "author"}}
        key = str(uuid.uuid4())
        status, doc = self.server.request("POST", "/readroom/v1/tasks/%s/submission" % week8["id"],
                                          body, token=token, headers={"Idempotency-Key": key})
        self.assertEqual(status, 409, doc)
        self.assertEqual(doc["error"]["code"], "conflict")
        self.assertEqual(doc["error"]["message"],
                         "Sequential reading: submit the read of Baseline first")
        self.assertEqual([(d["rule"], d["timepoint"]) for d in doc["error"]["details"]],
                         [("sequential_reading", "Baseline")])
        status, doc = self.server.request("GET", "/readroom/v1/tasks/%s/submission" % week8["id"],
                                          token=token)
        self.assertEqual(status, 404, doc)

        # The workstation's outbox: the entry is refused with the reason.
        path = os.path.join(self.tmp, "week8.json")
        with open(path, "w") as f:
            json.dump(read, f)
        r = subprocess.run([CLI, "sync", "--server", self.url, "--user", "reader1"],
                           env=self.env(), capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([CLI, "submit", "--server", self.url, "--user", "reader1", "--task",
                            week8["id"], "--read", path], env=self.env(), capture_output=True,
                           text=True, timeout=300)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("Sequential reading: submit the read of Baseline first", r.stderr)
        db = os.path.join(self.home, "data", "readroom", "readroom.db")
        with sqlite3.connect(db) as c:
            state, last_error = c.execute("SELECT state, last_error FROM outbox WHERE task_id = ?",
                                          (week8["id"],)).fetchone()
        self.assertEqual(state, "refused")
        self.assertEqual(last_error.splitlines()[0],
                         "Sequential reading: submit the read of Baseline first", last_error)

        # Baseline first; then the same Week 8 read is taken.
        first = make_read([(tp["label"], tp["day"]) for tp in baseline["timepoints"]], (30.0,))
        status, doc = self.server.request(
            "POST", "/readroom/v1/tasks/%s/submission" % baseline["id"],
            {"read": first, "signature": {"password": "reader-password", "meaning": "author"}},
            token=token, headers={"Idempotency-Key": str(uuid.uuid4())})
        self.assertEqual(status, 201, doc)
        status, doc = self.server.request("POST", "/readroom/v1/tasks/%s/submission" % week8["id"],
                                          body, token=token,
                                          headers={"Idempotency-Key": str(uuid.uuid4())})
        self.assertEqual(status, 201, doc)
        self.assertEqual(doc["receipt"]["responses"]["best_overall_response"], "PR")


if __name__ == "__main__":
    unittest.main(verbosity=2)
