#!/usr/bin/python3
"""Two nodes on one PostgreSQL behind HAProxy (issue 20; twonodes.py):

- Concurrent assignment: the timepoints of many subjects are linked at
  once, half through each node (and, for some subjects, two timepoints at
  once on different nodes): every timepoint gets exactly
  readers_per_case read tasks, by different readers, and a subject keeps
  the same readers across its timepoints.
- The same submission with one Idempotency-Key sent to both nodes at the
  same moment, 50 times (50 tasks): exactly one submission each time, and
  both answers carry its receipt.
- kill -9 of one node during a load of submissions through the proxy (the
  clients retrying with their keys, as the workstation does): every
  acknowledged submission is there once, no task has two, the other node
  keeps serving, and the audit chain verifies.
- The workstation given both nodes' URLs: a sync while a node is killed
  still completes with every file verified.
- The server suite's workflow and access matrix, against the proxy."""
import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twonodes  # noqa: E402

twonodes.require()

import test_server  # noqa: E402
from test_postgres import PsqlDb  # noqa: E402
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, make_read, password_of  # noqa: E402

READERS = ["reader%d" % i for i in range(1, 5)]
SUBJECTS = 60          # S01..S60: one timepoint each, linked concurrently
PAIRED = 6             # P1..P6: two timepoints each, linked at once on both nodes
IDEMPOTENT_ROUNDS = 50
LINK_ROUNDS = 8        # L1..L8: one study linked to two subjects at once, one per node
DAY_ROUNDS = 4         # D1..D4: two visits of one subject on one day, one per node
# The server waits this long between a link's checks and its writes, so
# that two links of one study sent together both pass the checks.
LINK_DELAY_MS = "150"


def run_threads(targets):
    """Runs each callable in its own thread, released together; returns
    their results (or raises the first exception)."""
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)
    errors = []

    def body(i, f):
        try:
            barrier.wait(30)
            results[i] = f()
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)
    threads = [threading.Thread(target=body, args=(i, f)) for i, f in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    if errors:
        raise errors[0]
    return results


class TwoNodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        cls.tmp = tempfile.mkdtemp(prefix="rr-twonodes-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        # Every node started from here (test 3 and 5 start node 1 again).
        os.environ["READROOM_TEST_LINK_DELAY_MS"] = LINK_DELAY_MS
        cls.addClassCleanup(os.environ.pop, "READROOM_TEST_LINK_DELAY_MS", None)
        cls.tn = twonodes.TwoNodes()
        cls.addClassCleanup(cls.tn.stop)
        cls.tn.start()
        cls.proxy = cls.tn.proxy
        cls.n1, cls.n2 = cls.tn.nodes
        cls.admin = cls.proxy.login("admin", ADMIN_PASSWORD)
        for u in READERS + ["site1"]:
            cls.call(201, "POST", "/readroom/v1/users",
                     {"username": u, "password": password_of(u), "display_name": u})
        cls.call(201, "POST", "/readroom/v1/trials",
                 {"id": "TN", "name": "Two nodes", "criteria": "recist1.1",
                  "readers_per_case": 2, "qc_required": False, "adjudication": "bor",
                  "reading": "sequential", "sd_min_days": 42, "confirmation": False})
        for u in READERS:
            cls.call(200, "PUT", "/readroom/v1/trials/TN/members/" + u, {"roles": ["reader"]})
        cls.call(200, "PUT", "/readroom/v1/trials/TN/members/site1",
                 {"roles": ["site"], "site": "S01"})
        # One small study per subject timepoint, uploaded through the proxy.
        cls.studies = {}
        names = ["S%02d" % i for i in range(1, SUBJECTS + 1)]
        paired = ["P%d" % i for i in range(1, PAIRED + 1)]
        jobs = [(s, 0) for s in names] + [(p, k) for p in paired for k in (0, 1)]
        jobs += [("L%d" % r, 0) for r in range(1, LINK_ROUNDS + 1)]
        jobs += [("D%d" % r, k) for r in range(1, DAY_ROUNDS + 1) for k in (0, 1)]
        for n, (subject, k) in enumerate(jobs):
            out = os.path.join(cls.tmp, "%s-%d" % (subject, k))
            subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "1", "--size", "32",
                            "--timepoints", "1", "--seed", str(n + 1), "--patient-id",
                            "SUBJ-" + subject], check=True, capture_output=True)
            files = [os.path.join(r, f) for r, _, fs in os.walk(out) for f in fs]
            study = None
            for f in sorted(files):
                with open(f, "rb") as fh:
                    doc = cls.call(201, "POST", "/readroom/v1/instances", fh.read())
                study = doc["study"]
            cls.studies[(subject, k)] = study
        cls.tokens = {u: cls.proxy.login(u, password_of(u)) for u in READERS}
        cls.read = make_read([("Baseline", 0)], (30.0,))

    @classmethod
    def call(cls, expected, method, path, body=None, token=None, via=None):
        status, doc = (via or cls.proxy).request(method, path, body, token=token or cls.admin)
        if status != expected:
            # Through the proxy, a 503 is its verdict on the nodes: say why.
            proxy = cls.tn.haproxy
            try:
                nodes = proxy.servers()
            except OSError as e:
                nodes = str(e)
            raise AssertionError("%s %s: %s %s\nnodes: %r\nHAProxy:\n%s" % (
                method, path, status, doc, nodes, proxy.log_tail()))
        return doc

    def setUp(self):
        # Each test starts with every running node in the proxy's rotation
        # (a node killed by an earlier test is started again by it).
        self.tn.haproxy.wait_status({"node%d" % (i + 1): "UP"
                                     for i, n in enumerate(self.tn.nodes) if n.proc is not None})

    def all_tasks(self, via=None):
        return self.call(200, "GET", "/readroom/v1/tasks?status=all", via=via)

    def body(self, reader):
        return {"read": self.read,
                "signature": {"password": password_of(reader), "meaning": "Read completed"}}

    def submits_in_trail(self):
        trail = self.call(200, "GET", "/readroom/v1/audit?limit=10000")
        out = {}
        for e in trail:
            if e["action"] == "task.submit":
                out[e["object"]] = out.get(e["object"], 0) + 1
        return out

    def test_1_concurrent_assignment(self):
        names = ["S%02d" % i for i in range(1, SUBJECTS + 1)]
        nodes = (self.n1, self.n2)

        def link(subject, k, label, day, node):
            return lambda: node.request("POST", "/readroom/v1/trials/TN/subjects/%s/timepoints"
                                        % subject, {"label": label, "day": day,
                                                    "studies": [self.studies[(subject, k)]]},
                                        token=self.admin)
        jobs = [link(s, 0, "Baseline", 0, nodes[i % 2]) for i, s in enumerate(names)]
        # Two timepoints of one subject at once, one on each node: both
        # draw the subject's readers.
        for i in range(1, PAIRED + 1):
            jobs.append(link("P%d" % i, 0, "Baseline", 0, self.n1))
            jobs.append(link("P%d" % i, 1, "Week 8", 56, self.n2))
        answers = run_threads(jobs)
        self.assertEqual([a[0] for a in answers], [201] * len(jobs), answers)

        reads = [t for t in self.all_tasks() if t["kind"] == "read"]
        by_tp, by_subject = {}, {}
        for t in reads:
            key = (t["subject"], t["timepoints"][-1]["label"])
            by_tp.setdefault(key, []).append(t["assignee"])
            by_subject.setdefault(t["subject"], set()).add(t["assignee"])
        want = {(s, "Baseline") for s in names} | {
            ("P%d" % i, label) for i in range(1, PAIRED + 1) for label in ("Baseline", "Week 8")}
        self.assertEqual(set(by_tp), want)
        for key, who in sorted(by_tp.items()):
            # Two reads of each timepoint, by two different readers.
            self.assertEqual(len(who), 2, (key, who))
            self.assertEqual(len(set(who)), 2, (key, who))
            self.assertTrue(set(who) <= set(READERS), (key, who))
        for subject, who in sorted(by_subject.items()):
            # A subject keeps its two readers across timepoints.
            self.assertEqual(len(who), 2, (subject, who))

    def test_2_same_key_on_both_nodes(self):
        """50 times: one task's submission, with one key, sent to node 1
        and node 2 at the same moment."""
        reads = [t for t in self.all_tasks() if t["kind"] == "read" and t["status"] == "open" and
                 t["subject"].startswith("S")]
        slot1 = {}
        for t in sorted(reads, key=lambda t: t["id"]):
            slot1.setdefault(t["subject"], t)
        tasks = sorted(slot1.values(), key=lambda t: t["subject"])[:IDEMPOTENT_ROUNDS]
        self.assertEqual(len(tasks), IDEMPOTENT_ROUNDS)
        wrong = []
        for t in tasks:
            reader = t["assignee"]
            key = str(uuid.uuid4())
            path = "/readroom/v1/tasks/%s/submission" % t["id"]

            def send(node, reader=reader, key=key, path=path):
                return lambda: node.request("POST", path, self.body(reader),
                                            token=self.tokens[reader],
                                            headers={"Idempotency-Key": key})
            answers = run_threads([send(self.n1), send(self.n2)])
            # A node may answer 503 (it could not take the row now; nothing
            # changed): the client sends the same again, as the outbox does.
            for i, node in enumerate((self.n1, self.n2)):
                for _ in range(50):
                    if answers[i][0] != 503:
                        break
                    time.sleep(0.1)
                    answers[i] = send(node)()
            statuses = sorted(a[0] for a in answers)
            # One stored it (201); the other answers the same receipt
            # (200): never a second submission, a refusal or a failure.
            if statuses != [200, 201] or answers[0][1]["receipt"] != answers[1][1]["receipt"]:
                wrong.append((t["id"], answers))
                continue
            held = self.call(200, "GET", path)
            self.assertEqual(held["idempotency_key"], key)
            self.assertEqual(held["receipt"], [a[1] for a in answers if a[0] == 201][0]["receipt"])
        # Whatever the answers, never two submissions of one task.
        submits = self.submits_in_trail()
        self.assertEqual([submits.get(t["id"], 0) for t in tasks], [1] * len(tasks))
        self.assertEqual(wrong, [], "%d of %d rounds answered otherwise"
                         % (len(wrong), len(tasks)))

    def test_3_kill9_one_node_under_load(self):
        reads = [t for t in self.all_tasks() if t["kind"] == "read" and t["status"] == "open" and
                 t["subject"].startswith("S")]
        self.assertGreaterEqual(len(reads), 40)
        acked = {}
        lock = threading.Lock()
        failures = []

        def worker(share):
            for t in share:
                reader = t["assignee"]
                key = str(uuid.uuid4())
                path = "/readroom/v1/tasks/%s/submission" % t["id"]
                # As the workstation's outbox: the same request, with its
                # key, until the server answers.
                end = time.time() + 120
                while time.time() < end:
                    try:
                        status, doc = self.proxy.request("POST", path, self.body(reader),
                                                         token=self.tokens[reader],
                                                         headers={"Idempotency-Key": key})
                    except OSError:
                        status, doc = 0, None
                    if status in (200, 201):
                        with lock:
                            acked[t["id"]] = (key, doc["receipt"])
                        break
                    if status not in (0, 502, 503, 504):
                        failures.append((t["id"], status, doc))
                        break
                    time.sleep(0.2)
                else:
                    failures.append((t["id"], "no answer in 120 s"))

        shares = [reads[i::4] for i in range(4)]
        threads = [threading.Thread(target=worker, args=(s,)) for s in shares]
        for th in threads:
            th.start()
        # Kill node 1 once the load is under way.
        end = time.time() + 120
        while time.time() < end and len(acked) < len(reads) // 4:
            time.sleep(0.02)
        self.assertLess(len(acked), len(reads), "the load ended before the kill")
        self.n1.kill9()
        for th in threads:
            th.join(300)
        self.assertEqual(failures, [])
        self.assertEqual(set(acked), {t["id"] for t in reads})
        # Node 2 serves on, directly and through the proxy.
        self.assertEqual(self.n2.request("GET", "/readroom/v1/health")[0], 200)
        self.tn.haproxy.wait_status({"node1": "DOWN", "node2": "UP"})
        for tid, (key, receipt) in acked.items():
            held = self.call(200, "GET", "/readroom/v1/tasks/%s/submission" % tid)
            self.assertEqual((held["idempotency_key"], held["receipt"]), (key, receipt))
        submits = self.submits_in_trail()
        self.assertEqual({tid: submits.get(tid, 0) for tid in acked}, {tid: 1 for tid in acked})
        self.assertTrue(all(n == 1 for n in submits.values()), submits)
        verify = self.call(200, "GET", "/readroom/v1/audit/verify")
        self.assertTrue(verify["ok"], verify)
        # Node 1 comes back on the same database and storage, and serves.
        self.n1.start()
        self.tn.haproxy.wait_status({"node1": "UP", "node2": "UP"})
        self.assertTrue(self.call(200, "GET", "/readroom/v1/audit/verify", via=self.n1)["ok"])

    def test_4_workstation_fails_over_between_nodes(self):
        """readroom-cli sync given both nodes' URLs, node 1 first; node 1
        is killed while files are being fetched: the sync completes."""
        reader = "reader1"
        home = os.path.join(self.tmp, "home")
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(home, "data"),
                   XDG_CACHE_HOME=os.path.join(home, "cache"), READROOM_NO_KEYRING="1",
                   READROOM_PASSWORD=password_of(reader))
        mine = [t for t in self.call(200, "GET", "/readroom/v1/tasks",
                                     token=self.tokens[reader]) if t["status"] == "open"]
        if not mine:
            self.skipTest("reader1 has no open task left")
        if self.n1.proc is None:
            self.n1.start()
        sops = set()
        for t in mine:
            manifest = self.call(200, "GET", "/readroom/v1/tasks/%s/instances" % t["id"],
                                 token=self.tokens[reader])
            sops |= {m["sop"] for m in manifest}
        self.assertGreater(len(sops), 1)
        # Node 1 is given first; it dies after the first files are in (the
        # sync pauses after each batch it records).
        proc = subprocess.Popen([CLI, "sync", "--server", self.tn.node_urls, "--user", reader,
                                 "--offline-timeout", "120", "--parallel", "1"],
                                env=dict(env, READROOM_SYNC_PAUSE_AFTER_RECORD="1"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for line in proc.stderr:
                if "READROOM_SYNC_PAUSE_AFTER_RECORD: pausing" in line:
                    break
            self.assertIsNone(proc.poll(), "the sync ended before the kill")
            self.n1.kill9()
            out, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, err[-3000:])
        db = os.path.join(home, "data", "readroom", "readroom.db")
        with contextlib.closing(sqlite3.connect(db)) as d:
            rows = d.execute("SELECT sop_uid, sha256 FROM instances").fetchall()
        self.assertEqual({r[0] for r in rows}, sops)
        self.assertTrue(all(r[1] for r in rows))

    def both_nodes_up(self):
        """Node 1 running again (test 3 kills it) and both UP behind the
        proxy."""
        if self.n1.proc is None:
            self.n1.start()
        self.tn.haproxy.wait_status({"node1": "UP", "node2": "UP"})

    def test_5_one_study_one_visit_across_nodes(self):
        """One study linked to two subjects' visits at once, one link on
        each node: both pass the server's checks before either is
        written (LINK_DELAY_MS); the study's link is unique, so one is
        made and the other refused with 422, each time."""
        self.both_nodes_up()
        for r in range(1, LINK_ROUNDS + 1):
            study = self.studies[("L%d" % r, 0)]

            def link(subject, node):
                return lambda: node.request(
                    "POST", "/readroom/v1/trials/TN/subjects/%s/timepoints" % subject,
                    {"label": "Baseline", "day": 0, "studies": [study]}, token=self.admin)
            answers = run_threads([link("LA%d" % r, self.n1), link("LB%d" % r, self.n2)])
            self.assertEqual(sorted(a[0] for a in answers), [201, 422], answers)
            refused = [a[1] for a in answers if a[0] == 422][0]
            self.assertIn("linked to another timepoint", refused["error"]["message"], refused)
            self.assertEqual(self.tn.pg.psql("readroom", "SELECT count(*) FROM timepoint_studies"
                                             " WHERE study_uid = '%s'" % study), [["1"]])

    def test_6_one_visit_a_day_across_nodes(self):
        """Two visits of one subject on the same day under two labels, one
        on each node at once: both pass the clash check before either is
        written (LINK_DELAY_MS); the subject's day is unique, so one is
        made and the other refused with 409, each time."""
        self.both_nodes_up()
        for r in range(1, DAY_ROUNDS + 1):
            subject = "D%d" % r

            def visit(label, k, node):
                return lambda: node.request(
                    "POST", "/readroom/v1/trials/TN/subjects/%s/timepoints" % subject,
                    {"label": label, "day": 0, "studies": [self.studies[(subject, k)]]},
                    token=self.admin)
            answers = run_threads([visit("Baseline", 0, self.n1), visit("Screening", 1, self.n2)])
            self.assertEqual(sorted(a[0] for a in answers), [201, 409], answers)
            refused = [a[1] for a in answers if a[0] == 409][0]
            self.assertIn("label or day", refused["error"]["message"], refused)
            self.assertEqual(self.tn.pg.psql("readroom", "SELECT count(*) FROM timepoints"
                                             " WHERE trial_id = 'TN' AND subject = '%s'"
                                             % subject), [["1"]])


class ProxiedServer(twonodes.Endpoint):
    """What test_server's suite takes as its Server: two nodes and the
    proxy, requests through the proxy. data is the nodes' shared folder."""

    def __init__(self, data):
        self.tn = twonodes.TwoNodes()
        self.data = data
        self.port = None
        self.proc = None

    state_in_sqlite = False

    def start(self):
        self.tn.start()
        self.port = self.tn.haproxy.port

    def db(self):
        # The plugin's state, which both nodes share, in PostgreSQL.
        return PsqlDb(self.tn.pg, "readroom")

    def stop(self):
        self.tn.stop()

    def request(self, *args, **kw):
        # HAProxy passes header names in lower case (HTTP/1.1 says case
        # does not matter); the suite looks them up as the server spells
        # them.
        out = super().request(*args, **kw)
        if kw.get("raw"):
            status, headers, payload = out
            return status, Headers(headers), payload
        return out


class Headers(dict):
    """A dict of header names that ignores their case."""

    def __init__(self, headers):
        super().__init__((k.lower(), v) for k, v in headers.items())

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    loader = unittest.TestLoader()
    suite = unittest.TestSuite([loader.loadTestsFromTestCase(TwoNodes)])
    # The server suite's workflow and access matrix, through the proxy.
    test_server.Server = ProxiedServer
    for name in ("test_1_workflow", "test_2_access_matrix"):
        suite.addTest(test_server.ServerSuite(name))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
