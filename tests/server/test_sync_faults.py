#!/usr/bin/python3
"""readroom-cli sync and submit against a real readroom-server through a
fault-injecting proxy (faultproxy.py, 127.0.0.1 only): kill -9 at random
moments never costs a complete file; a server that keeps failing ends the
sync within its offline timeout with a message naming it; transient API
failures are retried; a download altered on the way is caught by its MD5
and fetched again; the outbox's crash windows each end with exactly one
submission on the server, reported delivered, no password left on disk."""
import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server, make_read  # noqa: E402
from faultproxy import FaultProxy, Rule  # noqa: E402

READER_PASSWORD = "reader-password"
FILE_PATH = r"^/readroom/v1/instances/([^/]+)/file$"


class SyncFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-sync-faults-")
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.proxy = None
        try:
            cls.server.start()
            cls.direct = "http://127.0.0.1:%d" % cls.server.port
            cls.proxy = FaultProxy(cls.server.port)
            cls.proxy.start()
            cls.url = cls.proxy.url
            cls.setup_trial()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.proxy:
                cls.proxy.stop()
        finally:
            try:
                cls.server.stop()
            finally:
                shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def admin(cls, *args):
        env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
                   READROOM_NEW_PASSWORD=READER_PASSWORD)
        subprocess.run([CLI, "admin", "--server", cls.direct] + list(args), env=env, check=True,
                       capture_output=True)

    @classmethod
    def setup_trial(cls):
        """One reader, one read per subject: subject P0 has a study of 64
        files (the kill test's task), P1..P10 small ones (the outbox tests
        submit P1..P8; P9 and P10 stay open for the tests after them)."""
        cls.admin("user", "add", "reader1")
        cls.admin("trial", "create", "TF", "--name", "faults", "--no-qc", "--readers", "1")
        cls.admin("member", "set", "TF", "reader1", "--roles", "reader")
        for s in range(11):
            d = os.path.join(cls.tmp, "study%d" % s)
            big = s == 0
            subprocess.run([PHANTOM, d, "--kind", "ct", "--slices", "64" if big else "4",
                            "--size", "256" if big else "64", "--seed", str(s + 1)], check=True,
                           capture_output=True)
            cls.admin("upload", d, "--trial", "TF", "--subject", "P%d" % s, "--timepoint",
                      "Baseline", "--day", "0")
        token = cls.server.login("reader1", READER_PASSWORD)
        status, tasks = cls.server.request("GET", "/readroom/v1/tasks", token=token)
        assert status == 200, tasks
        cls.tasks = {t["subject"]: t for t in tasks}
        # The files as the server holds them: SOP -> (SHA-256, size).
        cls.originals = {}
        for subject, t in cls.tasks.items():
            status, manifest = cls.server.request("GET", "/readroom/v1/tasks/%s/instances"
                                                  % t["id"], token=token)
            assert status == 200, manifest
            for m in manifest:
                status, _, data = cls.server.request("GET", m["url"], token=token, raw=True)
                assert status == 200 and len(data) == m["size"]
                assert hashlib.md5(data).hexdigest() == m["md5"]
                cls.originals[m["sop"]] = (hashlib.sha256(data).hexdigest(), m["size"], subject)
        cls.by_sha = {sha: sop for sop, (sha, _, _) in cls.originals.items()}

    # ---- helpers ----

    def setUp(self):
        self.home = os.path.join(self.tmp, "home-" + self.id().split(".")[-1])
        shutil.rmtree(self.home, ignore_errors=True)
        self.proxy.clear()

    def env(self, **extra):
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(self.home, "data"),
                   XDG_CACHE_HOME=os.path.join(self.home, "cache"), READROOM_NO_KEYRING="1",
                   READROOM_PASSWORD=READER_PASSWORD)
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def sync_args(self, task=None, timeout=60, cache=None):
        args = [CLI, "sync", "--server", self.url, "--user", "reader1", "--offline-timeout",
                str(timeout)]
        if task:
            args += ["--task", task]
        if cache:
            args += ["--cache", cache]
        return args

    def sync(self, expect=0, task=None, timeout=60, cache=None, **extra):
        r = subprocess.run(self.sync_args(task, timeout, cache), env=self.env(**extra),
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, expect, r.stderr[-3000:])
        return r

    @property
    def cache(self):
        return os.path.join(self.home, "cache", "readroom", "instances")

    @property
    def db(self):
        return os.path.join(self.home, "data", "readroom", "readroom.db")

    def cached_files(self):
        out = []
        for root, dirs, files in os.walk(self.cache):
            if os.path.basename(root) != "partial":
                out += [os.path.join(root, f) for f in files]
        return out

    def complete_on_disk(self):
        """The SOPs whose whole file is on disk: in the cache under its
        SHA-256, or whole among the partial files."""
        out = set()
        for f in self.cached_files():
            sop = self.by_sha.get(os.path.basename(f)[:-4])
            if sop:
                out.add(sop)
        d = os.path.join(self.cache, "partial")
        for f in os.listdir(d) if os.path.isdir(d) else []:
            sop = f[:-5]
            if sop in self.originals and \
                    os.path.getsize(os.path.join(d, f)) == self.originals[sop][1]:
                out.add(sop)
        return out

    def file_requests(self, since=0):
        """The SOPs of the file requests the proxy saw after entry @since."""
        out = []
        for e in self.proxy.requests(method="GET")[since:]:
            m = re.match(FILE_PATH, e["path"])
            if m:
                out.append(m.group(1))
        return out

    def assert_cache_is_the_servers(self, subject):
        """Every file of @subject's task is in the cache, byte for byte the
        server's (its SHA-256 is the original's, not only its own name)."""
        names = {os.path.basename(f)[:-4] for f in self.cached_files()}
        want = {sha for sha, _, s in self.originals.values() if s == subject}
        self.assertEqual(want - names, set())
        for f in self.cached_files():
            with open(f, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            self.assertEqual(os.path.basename(f), digest + ".dcm", f)
            self.assertIn(digest, self.by_sha, "%s is not a file the server holds" % f)

    # ---- downloads ----

    def test_1_kill9_never_refetches_a_complete_file(self):
        """kill -9 at random moments of one task's sync, then again after
        each restart: no file that was whole on disk at a kill is ever
        requested again."""
        task = self.tasks["P0"]["id"]
        rng = random.Random(int(os.environ.get("READROOM_TEST_SEED", "13")))
        kills, refetched = 0, []
        for attempt in range(40):
            before = self.complete_on_disk()
            since = len(self.proxy.requests(method="GET"))
            proc = subprocess.Popen(self.sync_args(task), env=self.env(
                READROOM_SYNC_MAX_SPEED="1000000"), stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, text=True)
            try:
                proc.wait(rng.uniform(0.05, 1.5))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
            refetched += [s for s in self.file_requests(since) if s in before]
            if proc.returncode == 0:
                break
        self.assertGreaterEqual(kills, 5, "the sync ended before it could be killed often")
        # One more, uninterrupted: it completes, and fetches nothing whole.
        before = self.complete_on_disk()
        since = len(self.proxy.requests(method="GET"))
        r = self.sync(task=task)
        refetched += [s for s in self.file_requests(since) if s in before]
        self.assert_cache_is_the_servers("P0")
        n = len([1 for _, _, s in self.originals.values() if s == "P0"])
        self.assertEqual(len(self.cached_files()), n)
        print("%d kills -9 during the sync of %d files: %d complete files fetched again"
              % (kills, n, len(refetched)))
        self.assertEqual(refetched, [])
        self.assertIn("synced %d files" % n, r.stdout)

    def test_2_files_failing_end_within_the_offline_timeout(self):
        """Every file answered 500, then 503 rate_limited: the sync backs
        off (a handful of requests, not hundreds a second), ends within its
        offline timeout with a message naming the server and what failed,
        and leaves the cache consistent; once the server serves files
        again, the same sync completes."""
        task = self.tasks["P1"]["id"]
        for status, word in ((500, "internal"), (503, "rate_limited")):
            self.proxy.clear()
            rule = self.proxy.add(Rule("GET", FILE_PATH, status=status, times=None))
            start = time.monotonic()
            r = self.sync(expect=1, task=task, timeout=4)
            elapsed = time.monotonic() - start
            self.assertLess(elapsed, 4 + 20, r.stderr[-2000:])
            last = r.stderr.strip().splitlines()[-1]
            self.assertIn(self.url, last)
            self.assertIn("has not answered usefully for 4 s", last)
            self.assertIn("/file: the server answered %d (%s" % (status, word), last)
            self.assertIn("Nothing was lost", last)
            self.assertGreater(rule.hits, 1)
            self.assertLess(rule.hits, 40, "%d file requests in %.1f s" % (rule.hits, elapsed))
            with contextlib.closing(sqlite3.connect(self.db)) as db:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                self.assertEqual(db.execute("SELECT count (*) FROM instances WHERE sha256"
                                            " IS NOT NULL").fetchone()[0], 0)
            self.assertEqual(self.cached_files(), [])
            print("files answered %d: %d requests in %.1f s, then: %s"
                  % (status, rule.hits, elapsed, last))
        self.proxy.clear()
        self.sync(task=task)
        self.assert_cache_is_the_servers("P1")

    def test_3_transient_api_failures_are_retried(self):
        """The login answered 503 twice, the task list 500 twice, the
        manifest's connection reset twice, one file reset and one answered
        502: the sync succeeds, and each fault was met."""
        task = self.tasks["P2"]["id"]
        rules = [self.proxy.add(Rule("POST", r"^/readroom/v1/sessions$", status=503, times=2)),
                 self.proxy.add(Rule("GET", r"^/readroom/v1/tasks\?", status=500, times=2)),
                 self.proxy.add(Rule("GET", r"^/readroom/v1/tasks/[^/]+/instances$", reset=True,
                                     times=2)),
                 self.proxy.add(Rule("GET", FILE_PATH, reset=True, times=1)),
                 self.proxy.add(Rule("GET", FILE_PATH, status=502, times=1))]
        r = self.sync(task=task, timeout=60)
        self.assertEqual([x.hits for x in rules], [2, 2, 2, 1, 1])
        self.assert_cache_is_the_servers("P2")
        self.assertIn("synced 4 files", r.stdout)

    def test_4_altered_download_is_caught_by_its_md5(self):
        """One byte of a file altered on the way: the MD5 check catches it,
        the file is fetched again, and the cache holds the server's bytes.
        Altered every time: the sync stops after three tries, naming the
        file, and keeps it out of the cache."""
        task = self.tasks["P3"]["id"]
        sop = sorted(s for s, (_, _, subj) in self.originals.items() if subj == "P3")[0]
        path = r"^/readroom/v1/instances/%s/file$" % re.escape(sop)
        rule = self.proxy.add(Rule("GET", path, corrupt_at=3000, times=1))
        self.sync(task=task)
        self.assertEqual(rule.hits, 1)
        self.assertEqual(self.file_requests().count(sop), 2)
        self.assert_cache_is_the_servers("P3")

        shutil.rmtree(self.home)
        self.proxy.clear()
        self.proxy.add(Rule("GET", path, corrupt_at=3000, times=None))
        r = self.sync(expect=1, task=task)
        self.assertIn("%s failed its checksum 3 times" % sop, r.stderr)
        self.assertEqual(self.file_requests().count(sop), 3)
        names = {os.path.basename(f)[:-4] for f in self.cached_files()}
        self.assertNotIn(self.originals[sop][0], names)
        for f in self.cached_files():
            with open(f, "rb") as fh:
                self.assertIn(hashlib.sha256(fh.read()).hexdigest(), self.by_sha)

    # ---- the outbox ----

    def submit_args(self, subject, size):
        task = self.tasks[subject]
        read = make_read([(tp["label"], tp["day"]) for tp in task["timepoints"]], (size,))
        path = os.path.join(self.home, "read-%s-%s.json" % (subject, size))
        os.makedirs(self.home, exist_ok=True)
        with open(path, "w") as f:
            json.dump(read, f)
        return [CLI, "submit", "--server", self.url, "--user", "reader1", "--task", task["id"],
                "--read", path]

    def submit(self, subject, size, expect=0):
        r = subprocess.run(self.submit_args(subject, size), env=self.env(), capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, expect, r.stderr[-3000:])
        return r

    def submit_killed(self, subject, size, hook=None, wait_for=None):
        """Starts a submit, kills it -9 at @hook's pause (or once
        @wait_for () holds)."""
        env = self.env(**({hook: "60"} if hook else {}))
        proc = subprocess.Popen(self.submit_args(subject, size), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            if hook:
                mark = "%s: pausing" % hook
                end = time.time() + 120
                while time.time() < end:
                    line = proc.stderr.readline()
                    if not line or mark in line:
                        break
                self.assertIn(mark, line, "%s never reached" % hook)
            else:
                end = time.time() + 120
                while time.time() < end and not wait_for():
                    time.sleep(0.02)
                self.assertTrue(wait_for())
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()

    def held(self, subject):
        """What the server holds for @subject's task, asked as an admin."""
        admin = self.server.login("admin", ADMIN_PASSWORD)
        status, doc = self.server.request("GET", "/readroom/v1/tasks/%s/submission"
                                          % self.tasks[subject]["id"], token=admin)
        return doc if status == 200 else None

    def submissions_on_server(self, subject):
        admin = self.server.login("admin", ADMIN_PASSWORD)
        status, trail = self.server.request("GET", "/readroom/v1/audit?limit=10000", token=admin)
        self.assertEqual(status, 200)
        return len([e for e in trail if e["action"] == "task.submit" and
                    e["object"] == self.tasks[subject]["id"]])

    def outbox(self, subject):
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            return db.execute("SELECT state, receipt, last_error FROM outbox WHERE task_id = ?",
                              (self.tasks[subject]["id"],)).fetchall()

    def secrets(self):
        d = os.path.join(self.home, "data", "readroom", "secrets")
        return os.listdir(d) if os.path.isdir(d) else []

    def assert_delivered_once(self, subject, size):
        rows = self.outbox(subject)
        self.assertEqual(len(rows), 1, rows)
        state, receipt, last_error = rows[0]
        self.assertEqual(state, "delivered", last_error)
        held = self.held(subject)
        self.assertIsNotNone(held)
        self.assertEqual(json.loads(receipt)["receipt"], held["receipt"])
        self.assertEqual(held["submission"]["read"]["target_lesions"][0]["measurements"],
                         {self.tasks[subject]["timepoints"][-1]["label"]: size})
        self.assertEqual(self.submissions_on_server(subject), 1)
        self.assertEqual(self.secrets(), [])
        for name in (self.db, self.db + "-wal"):
            if os.path.exists(name):
                with open(name, "rb") as f:
                    self.assertNotIn(READER_PASSWORD.encode(), f.read())

    def test_5_outbox_crash_windows(self):
        """kill -9 in each window of a submission: before its entry is
        saved, after, after it was sent (the answer held back by the
        proxy), after the answer came, and between the password's removal
        and the record of the delivery. Each ends with one submission on
        the server, reported delivered by the client, and no password on
        disk."""
        os.makedirs(self.home)
        self.sync(task=self.tasks["P4"]["id"])

        # Before the save: the password was written, its entry never
        # committed. The next sync wipes it; the reader signs again.
        self.submit_killed("P4", 21.0, "READROOM_OUTBOX_PAUSE_BEFORE_SAVE")
        self.assertEqual(self.outbox("P4"), [])
        self.assertEqual(len(self.secrets()), 1)
        self.sync(task=self.tasks["P4"]["id"])
        self.assertEqual(self.secrets(), [])
        self.assertEqual(self.submissions_on_server("P4"), 0)
        self.assertIn("delivered:", self.submit("P4", 21.0).stdout)
        self.assert_delivered_once("P4", 21.0)

        # After the save: sent by the next sync.
        self.submit_killed("P5", 22.0, "READROOM_OUTBOX_PAUSE")
        self.assertEqual([r[0] for r in self.outbox("P5")], ["saved"])
        self.assertEqual(self.submissions_on_server("P5"), 0)
        r = self.sync(task=self.tasks["P5"]["id"])
        self.assertIn("outbox: 1 delivered, 0 refused", r.stdout)
        self.assert_delivered_once("P5", 22.0)

        # After the send, before the answer: the next sync asks the server
        # and sends nothing again.
        self.proxy.clear()
        self.proxy.add(Rule("POST", r"/submission$", delay=60, times=1))
        self.submit_killed("P6", 23.0, wait_for=lambda: any(
            e["status"] for e in self.proxy.requests(r"/submission$", "POST")))
        self.assertEqual([r[0] for r in self.outbox("P6")], ["sending"])
        self.assertEqual(self.submissions_on_server("P6"), 1)
        posts = len(self.proxy.requests(r"/submission$", "POST"))
        r = self.sync(task=self.tasks["P6"]["id"])
        self.assertIn("outbox: 1 delivered, 0 refused", r.stdout)
        self.assertEqual(len(self.proxy.requests(r"/submission$", "POST")), posts)
        self.assertTrue(self.proxy.requests(r"/submission$", "GET"))
        self.assert_delivered_once("P6", 23.0)

        # After the answer, before it was recorded.
        self.submit_killed("P7", 24.0, "READROOM_OUTBOX_PAUSE_AFTER_SEND")
        self.assertEqual([r[0] for r in self.outbox("P7")], ["sending"])
        self.assertEqual(self.submissions_on_server("P7"), 1)
        r = self.sync(task=self.tasks["P7"]["id"])
        self.assertIn("outbox: 1 delivered, 0 refused", r.stdout)
        self.assert_delivered_once("P7", 24.0)

        # Between the password's removal and the record of the delivery:
        # delivered, not "refused: the password was not kept".
        self.submit_killed("P8", 26.0, "READROOM_OUTBOX_PAUSE_AFTER_WIPE")
        self.assertEqual([r[0] for r in self.outbox("P8")], ["sending"])
        self.assertEqual(self.secrets(), [])
        self.assertEqual(self.submissions_on_server("P8"), 1)
        r = self.sync(task=self.tasks["P8"]["id"])
        self.assertIn("outbox: 1 delivered, 0 refused", r.stdout)
        self.assert_delivered_once("P8", 26.0)

    def test_6_one_entry_per_task(self):
        """submit run again after a crash after the send: the same entry,
        reported delivered with its receipt. A corrected read submitted
        before the first was sent replaces it. A different read after one
        reached the server: the reader is told so, with the receipt."""
        os.makedirs(self.home)
        self.submit_killed("P1", 31.0, "READROOM_OUTBOX_PAUSE_AFTER_SEND")
        r = self.submit("P1", 31.0)
        self.assertIn("delivered:", r.stdout)
        self.assertIn(self.held("P1")["receipt"]["id"], r.stdout)
        self.assert_delivered_once("P1", 31.0)

        self.submit_killed("P2", 32.0, "READROOM_OUTBOX_PAUSE")
        r = self.submit("P2", 33.0)
        self.assertIn("replacing the one not sent", r.stderr)
        self.assertIn("delivered:", r.stdout)
        self.assert_delivered_once("P2", 33.0)

        self.submit("P3", 34.0)
        r = self.submit("P3", 35.0, expect=1)
        receipt = self.held("P3")["receipt"]
        self.assertIn("already holds a read of task %s (receipt %s, submitted %s); this one was "
                      "not sent" % (self.tasks["P3"]["id"], receipt["id"], receipt["submitted_at"]),
                      r.stderr)
        self.assert_delivered_once("P3", 34.0)

    def test_7_read_only_cache(self):
        """A cache on a read-only file system: the error says the cache
        cannot be written, that nothing was lost and what to do, like the
        full-disk one; with a writable cache the same sync completes."""
        ro = os.path.join(self.tmp, "ro")
        os.makedirs(ro, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", ro],
                           capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a read-only tmpfs here: " + r.stderr.decode().strip())
        try:
            r = self.sync(expect=1, task=self.tasks["P9"]["id"],
                          cache=os.path.join(ro, "instances"))
            last = r.stderr.strip().splitlines()[-1]
            self.assertIn("The cache cannot be written (%s" % os.path.join(ro, "instances"), last)
            self.assertIn("Read-only file system", last)
            self.assertIn("Nothing was lost; make the cache folder writable (or choose another "
                          "cache) and synchronise again", last)
            with contextlib.closing(sqlite3.connect(self.db)) as db:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            subprocess.run(["umount", ro], capture_output=True)
        self.sync(task=self.tasks["P9"]["id"])
        self.assert_cache_is_the_servers("P9")

    def test_8_files_whose_records_were_lost(self):
        """The records of cached files lost (what a cut WAL or a power cut
        leaves: the files in the cache, no row naming them): the next sync
        recognises each file by its name, size and MD5 and fetches none
        again; a file in the cache that is not the server's is not taken."""
        task = self.tasks["P10"]["id"]
        self.sync(task=task)
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            db.execute("UPDATE instances SET sha256 = NULL")
            db.commit()
        # One more file that looks like a cache file of the right size but
        # is not any instance's content.
        victim = sorted(self.cached_files())[0]
        with open(victim, "rb") as f:
            data = bytearray(f.read())
        data[100] ^= 0xFF
        fake = os.path.join(self.cache, hashlib.sha256(data).hexdigest()[:2],
                            hashlib.sha256(data).hexdigest() + ".dcm")
        os.makedirs(os.path.dirname(fake), exist_ok=True)
        with open(fake, "wb") as f:
            f.write(data)
        self.proxy.clear()
        r = self.sync(task=task)
        self.assertEqual(self.file_requests(), [])
        self.assertIn("synced 4 files (0 fetched, 0 bytes)", r.stdout)
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            recorded = {s for (s,) in db.execute("SELECT sha256 FROM instances")}
        want = {sha for sha, _, subj in self.originals.values() if subj == "P10"}
        self.assertEqual(recorded, want)

        # The same through a cut WAL: kill -9 mid-sync, the WAL emptied as a
        # power cut may leave it; the restart fetches no whole file again.
        shutil.rmtree(self.home)
        task = self.tasks["P0"]["id"]
        proc = subprocess.Popen(self.sync_args(task), env=self.env(
            READROOM_SYNC_MAX_SPEED="1000000"), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        end = time.time() + 60
        while time.time() < end and len(self.cached_files()) < 20:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = self.complete_on_disk()
        self.assertGreaterEqual(len(before), 20)
        with open(self.db + "-wal", "r+b") as f:
            f.truncate(0)
        if os.path.exists(self.db + "-shm"):
            os.unlink(self.db + "-shm")
        since = len(self.proxy.requests(method="GET"))
        self.sync(task=task)
        self.assertEqual([s for s in self.file_requests(since) if s in before], [])
        self.assert_cache_is_the_servers("P0")
        print("WAL cut after a kill with %d files whole on disk: none fetched again" % len(before))


if __name__ == "__main__":
    unittest.main(verbosity=2)
