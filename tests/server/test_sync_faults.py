#!/usr/bin/python3
"""readroom-cli sync and submit against a real readroom-server through a
fault-injecting proxy (faultproxy.py, 127.0.0.1 only): kill -9 at random
moments never costs a complete file; a server that keeps failing ends the
sync within its offline timeout with a message naming it; transient API
failures are retried; a download altered on the way is caught by its MD5
and fetched again; the outbox's crash windows each end with exactly one
submission on the server, reported delivered, no password left on disk."""
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
        files (the kill test's task), P1..P8 small ones (one task per
        outbox test)."""
        cls.admin("user", "add", "reader1")
        cls.admin("trial", "create", "TF", "--name", "faults", "--no-qc", "--readers", "1")
        cls.admin("member", "set", "TF", "reader1", "--roles", "reader")
        for s in range(9):
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
            with sqlite3.connect(self.db) as db:
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
