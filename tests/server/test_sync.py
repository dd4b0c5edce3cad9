#!/usr/bin/python3
"""readroom-cli sync against a real readroom-server on 127.0.0.1: a full
sync leaves only verified files named by their SHA-256, a second transfers
nothing, a corrupted file is fetched again, kill -9 mid-download resumes
without a partial or corrupt file in the cache, a server that goes away and
comes back is waited for, a full disk is a clear error that loses nothing,
and the session is kept in a 0600 file when there is no keyring."""
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server, make_read  # noqa: E402


class Sync(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-sync-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        # Stopped whatever fails after this, in setUpClass too (where a
        # failure skips tearDownClass).
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        url = "http://127.0.0.1:%d" % cls.server.port
        cls.url = url

        def admin(*args):
            env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
                       READROOM_NEW_PASSWORD="reader-password")
            subprocess.run([CLI, "admin", "--server", url] + list(args), env=env, check=True,
                           capture_output=True)
        admin("user", "add", "reader1")
        admin("trial", "create", "TS", "--name", "sync", "--no-qc", "--readers", "1")
        admin("member", "set", "TS", "reader1", "--roles", "reader")
        for s in range(2):
            d = os.path.join(cls.tmp, "study%d" % s)
            subprocess.run([PHANTOM, d, "--kind", "ct", "--slices", "24", "--size", "256",
                            "--seed", str(s + 1)], check=True, capture_output=True)
            admin("upload", d, "--trial", "TS", "--subject", "P%d" % s, "--timepoint",
                  "Baseline", "--day", "0")
        cls.home = os.path.join(cls.tmp, "home")


    # ---- helpers ----

    def env(self, **extra):
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(self.home, "data"),
                   XDG_CACHE_HOME=os.path.join(self.home, "cache"), READROOM_NO_KEYRING="1",
                   READROOM_PASSWORD="reader-password")
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def sync(self, expect=0, **extra):
        args = [CLI, "sync", "--server", self.url, "--user", "reader1", "--offline-timeout", "120"]
        if "cache" in extra:
            args += ["--cache", extra.pop("cache")]
        r = subprocess.run(args, env=self.env(**extra), capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, expect, r.stderr[-3000:])
        return r

    def start_sync(self, **extra):
        return subprocess.Popen([CLI, "sync", "--server", self.url, "--user", "reader1",
                                 "--offline-timeout", "120"], env=self.env(**extra),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @property
    def cache(self):
        return os.path.join(self.home, "cache", "readroom", "instances")

    @property
    def db(self):
        return os.path.join(self.home, "data", "readroom", "readroom.db")

    def cached_files(self):
        out = []
        for root, dirs, files in os.walk(self.cache):
            if os.path.basename(root) == "partial":
                continue
            out += [os.path.join(root, f) for f in files]
        return out

    def partials(self):
        d = os.path.join(self.cache, "partial")
        return [os.path.join(d, f) for f in os.listdir(d)] if os.path.isdir(d) else []

    def assert_cache_sound(self):
        """Every file in the cache hashes to its name; none is partial."""
        for f in self.cached_files():
            with open(f, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            self.assertEqual(os.path.basename(f), digest + ".dcm", f)

    def manifest_count(self):
        with sqlite3.connect(self.db) as db:
            return db.execute("SELECT count (*) FROM instances").fetchone()[0]

    def reset(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def wait_progress(self, proc, pred, timeout=60):
        """Reads the sync's progress lines until @pred holds for one."""
        end = time.time() + timeout
        while time.time() < end:
            line = proc.stderr.readline()
            if not line:
                break
            if pred(line):
                return line
        return None

    # ---- tests ----

    def test_1_full_then_nothing(self):
        self.reset()
        r = self.sync()
        n = int(re.search(r"synced (\d+) files \((\d+) fetched", r.stdout)[1])
        self.assertEqual(n, 48)
        self.assertEqual(len(self.cached_files()), 48)
        self.assertEqual(self.partials(), [])
        self.assert_cache_sound()
        with sqlite3.connect(self.db) as db:
            rows = db.execute("SELECT sha256 FROM instances").fetchall()
            self.assertEqual(len(rows), 48)
            self.assertTrue(all(r[0] for r in rows))
            tasks = db.execute("SELECT kind, status, on_server FROM tasks").fetchall()
            self.assertEqual(sorted(tasks), [("read", "open", 1)] * 2)
        # A second sync transfers nothing.
        r = self.sync()
        self.assertIn("(0 fetched, 0 bytes)", r.stdout)

    def test_2_corrupt_file_fetched_again(self):
        files = self.cached_files()
        if not files:
            self.sync()
            files = self.cached_files()
        victim = files[3]
        with open(victim, "r+b") as f:
            f.seek(1000)
            b = f.read(1)
            f.seek(1000)
            f.write(bytes([b[0] ^ 0xFF]))
        r = self.sync()
        self.assertIn("(1 fetched,", r.stdout)
        self.assert_cache_sound()
        self.assertEqual(len(self.cached_files()), 48)

    def test_3_kill9_resumes(self):
        self.reset()
        # Slowed down so the kill lands mid-file: 100 kB/s for the run (the
        # transfers are real), files of 131 kB.
        proc = self.start_sync(READROOM_SYNC_MAX_SPEED="100000")
        self.assertIsNotNone(self.wait_progress(proc, lambda l: "downloading" in l))

        def strictly_partial():
            if not os.path.exists(self.db):
                return []
            with sqlite3.connect(self.db) as db:
                sizes = dict(db.execute("SELECT sop_uid, size FROM instances"))
            out = []
            for p in self.partials():
                n = os.path.getsize(p)
                if 0 < n < sizes.get(os.path.basename(p)[:-5], 0):
                    out.append((p, n))
            return out
        end = time.time() + 60
        while time.time() < end and not strictly_partial():
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        partial = strictly_partial()
        self.assertTrue(partial, "nothing was mid-download when killed")
        # No partial or corrupt file in the cache itself.
        self.assert_cache_sound()
        before = len(self.cached_files())
        done_bytes = sum(os.path.getsize(f) for f in self.cached_files())
        kept = sum(n for _, n in partial)
        self.assertLess(before, 48)
        r = self.sync()
        self.assertEqual(len(self.cached_files()), 48)
        self.assertEqual(self.partials(), [])
        self.assert_cache_sound()
        # Resumed with Range: what was kept is not fetched again.
        total = sum(os.path.getsize(f) for f in self.cached_files())
        got = int(re.search(r"fetched, (\d+) bytes", r.stdout)[1])
        self.assertLessEqual(got, total - done_bytes - kept, (total, done_bytes, kept, got))
        print("kill -9 with %d files done and %d partial (%d bytes); the restart fetched %d bytes "
              "of the %d missing" % (before, len(partial), kept, got, total - done_bytes))

    def test_4_server_away_and_back(self):
        self.reset()
        proc = self.start_sync(READROOM_SYNC_MAX_SPEED="400000")
        self.assertIsNotNone(self.wait_progress(proc, lambda l: "downloading" in l))
        try:
            self.server.stop()
            line = self.wait_progress(proc, lambda l: "offline" in l, timeout=90)
            self.assertIsNotNone(line, "the sync did not notice the server was gone")
            time.sleep(1.0)
        finally:
            self.server.start()
        out, err = proc.communicate(timeout=240)
        self.assertEqual(proc.returncode, 0, err[-3000:])
        self.assertIn("online", err)
        self.assertEqual(len(self.cached_files()), 48)
        self.assert_cache_sound()

    def test_5_full_disk(self):
        self.reset()
        small = os.path.join(self.tmp, "small")
        os.makedirs(small, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small],
                           capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a small tmpfs here: " + r.stderr.decode().strip())
        try:
            r = self.sync(expect=1, cache=os.path.join(small, "instances"))
            self.assertIn("cannot be written", r.stderr)
            self.assertIn("Nothing was lost", r.stderr)
            # The database is intact and knows the tasks; files that fit are
            # whole and verified.
            with sqlite3.connect(self.db) as db:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                self.assertEqual(db.execute("SELECT count (*) FROM tasks").fetchone()[0], 2)
        finally:
            subprocess.run(["umount", small], capture_output=True)
        # With room again, the same sync completes.
        r = self.sync()
        self.assertEqual(len(self.cached_files()), 48)

    def test_6_session_kept(self):
        self.reset()
        self.sync()
        tokens = os.path.join(self.home, "data", "readroom", "tokens")
        files = os.listdir(tokens)
        self.assertEqual(len(files), 1)
        mode = os.stat(os.path.join(tokens, files[0])).st_mode & 0o777
        self.assertEqual(mode, 0o600)
        # Without a password, the kept session is used.
        r = self.sync(READROOM_PASSWORD=None)
        self.assertIn("(0 fetched", r.stdout)

    def test_7_outbox_exactly_once(self):
        """kill -9 after a submission is saved and before it is sent, and
        after the server answered and before the answer was recorded: after
        a restart, each is delivered, and the server holds each once."""
        self.sync()
        with sqlite3.connect(self.db) as db:
            tasks = [json.loads(t) for (t,) in
                     db.execute("SELECT json FROM tasks WHERE status = 'open' ORDER BY id")]
        self.assertEqual(len(tasks), 2)
        admin = self.server.login("admin", ADMIN_PASSWORD)

        def submissions(task):
            status, trail = self.server.request("GET", "/readroom/v1/audit?limit=10000",
                                                token=admin)
            return len([e for e in trail if e["action"] == "task.submit" and e["object"] == task])

        for task, hook, mark in ((tasks[0], "READROOM_OUTBOX_PAUSE", "saved to the outbox"),
                                 (tasks[1], "READROOM_OUTBOX_PAUSE_AFTER_SEND",
                                  "READROOM_OUTBOX_PAUSE_AFTER_SEND: pausing")):
            read = make_read([(tp["label"], tp["day"]) for tp in task["timepoints"]], (25.0,))
            path = os.path.join(self.tmp, "read-%s.json" % task["id"])
            with open(path, "w") as f:
                json.dump(read, f)
            proc = subprocess.Popen([CLI, "submit", "--server", self.url, "--user", "reader1",
                                     "--task", task["id"], "--read", path],
                                    env=self.env(**{hook: "60"}), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            self.assertIsNotNone(self.wait_progress(proc, lambda l: mark in l), hook)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            with sqlite3.connect(self.db) as db:
                state = db.execute("SELECT state FROM outbox WHERE task_id = ?",
                                   (task["id"],)).fetchone()
            # Explicit states: never sent, or may have reached the server.
            self.assertEqual(state, ("saved",) if hook == "READROOM_OUTBOX_PAUSE" else ("sending",))
            # Before the send, the server has nothing; after, it has it once.
            self.assertEqual(submissions(task["id"]), 0 if hook == "READROOM_OUTBOX_PAUSE" else 1)
            r = self.sync()
            self.assertIn("outbox: 1 delivered, 0 refused", r.stdout)
            with sqlite3.connect(self.db) as db:
                state, receipt = db.execute("SELECT state, receipt FROM outbox WHERE task_id = ?",
                                            (task["id"],)).fetchone()
            self.assertEqual(state, "delivered")
            self.assertEqual(json.loads(receipt)["receipt"]["responses"]["best_overall_response"],
                             "NE")
            self.assertEqual(submissions(task["id"]), 1)
            # The password is gone from where it waited; none is in the database.
            secrets = os.path.join(self.home, "data", "readroom", "secrets")
            self.assertEqual(os.listdir(secrets) if os.path.isdir(secrets) else [], [])
            for name in (self.db, self.db + "-wal"):
                if os.path.exists(name):
                    with open(name, "rb") as f:
                        self.assertNotIn(b"reader-password", f.read())
        # Nothing pending: a further sync sends nothing.
        self.assertNotIn("outbox:", self.sync().stdout)

    def test_8_tls(self):
        """Over TLS: a certificate nobody vouches for is refused, in words;
        with the trial's CA file the same sync succeeds. There is no switch
        to skip verification."""
        import socket
        import ssl
        import threading
        d = os.path.join(self.tmp, "tls")
        os.makedirs(d, exist_ok=True)

        def openssl(*args):
            subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.pem", "-days", "2", "-subj", "/CN=Readroom test CA")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
                "server.csr", "-subj", "/CN=127.0.0.1")
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")

        # TLS in front of the real server, as a deployment would put it.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        stop = threading.Event()

        def pipe(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s_ in (a, b):
                    try:
                        s_.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        def serve():
            listener.settimeout(0.2)
            while not stop.is_set():
                try:
                    raw, _ = listener.accept()
                except socket.timeout:
                    continue
                try:
                    tls = ctx.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError):
                    raw.close()
                    continue
                back = socket.create_connection(("127.0.0.1", self.server.port))
                threading.Thread(target=pipe, args=(tls, back), daemon=True).start()
                threading.Thread(target=pipe, args=(back, tls), daemon=True).start()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            self.reset()
            url = "https://127.0.0.1:%d" % port
            args = [CLI, "sync", "--server", url, "--user", "reader1", "--offline-timeout", "30"]
            r = subprocess.run(args, env=self.env(), capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("certificate could not be verified", r.stderr)
            r = subprocess.run(args + ["--ca-file", os.path.join(d, "ca.pem")], env=self.env(),
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            # The tasks came over TLS (open ones with their files; the
            # outbox test before may have submitted them).
            with sqlite3.connect(self.db) as db:
                self.assertEqual(db.execute("SELECT count (*) FROM tasks").fetchone()[0], 2)
                open_tasks = db.execute("SELECT count (*) FROM tasks WHERE status = 'open'"
                                        ).fetchone()[0]
            self.assertEqual(len(self.cached_files()), 24 * open_tasks)
            self.assert_cache_sound()
        finally:
            stop.set()
            t.join(2)
            listener.close()

    def test_8a_submitted_elsewhere_named(self):
        """Finding m6: on a computer that never had them, the background
        sync leaves the reader's submitted reads alone (they are not to
        do), but a submitted read named explicitly (the reader clicked it)
        is downloaded, every file of it."""
        self.reset()
        self.sync()
        with sqlite3.connect(self.db) as db:
            status = dict(db.execute("SELECT id, status FROM tasks"))
        # test_7 submitted both reads; none is open.
        self.assertEqual(sorted(status.values()), ["submitted", "submitted"])
        self.assertEqual(self.manifest_count(), 0)
        self.assertEqual(self.cached_files(), [])
        # Each read is kept as the server holds it, receipt and all, so it
        # opens here read-only (GET /tasks/{id}/submission, as reader1).
        token = self.server.login("reader1", "reader-password")
        with sqlite3.connect(self.db) as db:
            kept = dict(db.execute("SELECT task_id, json FROM submissions"))
        self.assertEqual(sorted(kept), sorted(status))
        for task_id, text in kept.items():
            code, server = self.server.request("GET", "/readroom/v1/tasks/%s/submission" % task_id,
                                               token=token)
            self.assertEqual(code, 200)
            mine = json.loads(text)
            self.assertEqual(mine["receipt"], server["receipt"])
            self.assertEqual(mine["submission"]["read"], server["submission"]["read"])
            self.assertEqual(mine["submission"]["read"]["target_lesions"][0]["measurements"],
                             {"Baseline": 25.0})
            self.assertNotIn("signature", mine["submission"])
        task = sorted(status)[0]
        args = [CLI, "sync", "--server", self.url, "--user", "reader1", "--offline-timeout",
                "120", "--task", task]
        r = subprocess.run(args, env=self.env(), capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        # The phantom study of one subject: 24 slices, each verified.
        with sqlite3.connect(self.db) as db:
            mine = db.execute("SELECT count (*) FROM task_instances WHERE task_id = ?",
                              (task,)).fetchone()[0]
            others = db.execute("SELECT count (*) FROM task_instances WHERE task_id != ?",
                                (task,)).fetchone()[0]
        self.assertEqual((mine, others), (24, 0))
        self.assertEqual(len(self.cached_files()), 24)
        self.assert_cache_sound()

    def test_9_reader_leaves_the_pool(self):
        """The reader leaves the trial's reader pool while nobody can take
        over: their reads wait unassigned until the admin reassigns them.
        The next sync keeps the first reader's withdrawn tasks, marked
        cancelled, with their drafts and cached files."""
        import urllib.request
        env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
                   READROOM_NEW_PASSWORD="reader-password")

        def admin(*args, check=True):
            r = subprocess.run([CLI, "admin", "--server", self.url] + list(args), env=env,
                               capture_output=True, text=True)
            if check:
                self.assertEqual(r.returncode, 0, r.stderr)
            return r

        def tasks_of(user):
            req = urllib.request.Request(self.url + "/readroom/v1/sessions", method="POST",
                                         data=json.dumps({"username": user,
                                                          "password": "reader-password"}).encode(),
                                         headers={"Content-Type": "application/json"})
            token = json.loads(urllib.request.urlopen(req).read())["token"]
            req = urllib.request.Request(self.url + "/readroom/v1/tasks?status=all")
            req.add_header("Authorization", "Bearer " + token)
            return json.loads(urllib.request.urlopen(req).read())

        # A third subject: reader1 has at least this read open.
        d = os.path.join(self.tmp, "study-p2")
        subprocess.run([PHANTOM, d, "--kind", "ct", "--slices", "8", "--size", "128",
                        "--seed", "9"], check=True, capture_output=True)
        admin("upload", d, "--trial", "TS", "--subject", "P2", "--timepoint", "Baseline",
              "--day", "0")
        self.reset()
        self.sync()
        before = {t["id"]: t for t in tasks_of("reader1")}
        open_ids = sorted(i for i, t in before.items() if t["status"] == "open")
        self.assertTrue(open_ids)
        with sqlite3.connect(self.db) as db:
            account = db.execute("SELECT id FROM accounts").fetchone()[0]
            # What the workstation writes while the reader works on a task.
            db.execute("INSERT INTO drafts (account_id, task_id, json, updated_us)"
                       " VALUES (?, ?, '{\"series\": \"x\"}', 1)", (account, open_ids[0]))
        cached = len(self.cached_files())

        def unassigned():
            req = urllib.request.Request(self.url + "/readroom/v1/sessions", method="POST",
                                         data=json.dumps({"username": "admin",
                                                          "password": ADMIN_PASSWORD}).encode(),
                                         headers={"Content-Type": "application/json"})
            token = json.loads(urllib.request.urlopen(req).read())["token"]
            req = urllib.request.Request(self.url + "/readroom/v1/tasks")
            req.add_header("Authorization", "Bearer " + token)
            return [t for t in json.loads(urllib.request.urlopen(req).read())
                    if t["assignee"] is None]

        # Nobody can take over: leaving succeeds at once all the same; the
        # reads wait, unassigned, until the admin gives them to a reader.
        admin("member", "set", "TS", "reader1", "--roles", "")
        waiting = unassigned()
        self.assertEqual(len(waiting), len(open_ids))
        admin("user", "add", "reader2")
        admin("member", "set", "TS", "reader2", "--roles", "reader")
        for t in waiting:
            admin("task", "reassign", t["id"], "reader2")
        self.assertEqual(unassigned(), [])

        self.sync()
        with sqlite3.connect(self.db) as db:
            status = dict(db.execute("SELECT id, status FROM tasks"))
            drafts = [r[0] for r in db.execute("SELECT task_id FROM drafts")]
        for i in before:
            self.assertEqual(status[i], "cancelled" if i in open_ids else before[i]["status"])
        self.assertEqual(drafts, [open_ids[0]])
        self.assertEqual(len(self.cached_files()), cached)

        # reader2 holds new open reads of the same subjects and timepoints.
        theirs = tasks_of("reader2")
        self.assertEqual(sorted((t["subject"], t["timepoints"][-1]["label"]) for t in theirs),
                         sorted((before[i]["subject"], before[i]["timepoints"][-1]["label"])
                                for i in open_ids))
        self.assertEqual({t["status"] for t in theirs}, {"open"})
        self.assertFalse({t["id"] for t in theirs} & set(before))

        # A later timepoint of every subject: read by reader2 only.
        for subject in ("P0", "P1", "P2"):
            d = os.path.join(self.tmp, "week8-" + subject)
            subprocess.run([PHANTOM, d, "--kind", "ct", "--slices", "8", "--size", "128",
                            "--seed", str(20 + int(subject[1]))], check=True,
                           capture_output=True)
            admin("upload", d, "--trial", "TS", "--subject", subject, "--timepoint", "Week 8",
                  "--day", "56")
        later = [t for t in tasks_of("reader2") if t["timepoints"][-1]["label"] == "Week 8"]
        self.assertEqual(sorted(t["subject"] for t in later), ["P0", "P1", "P2"])
        self.assertFalse([t for t in tasks_of("reader1")
                          if t["timepoints"][-1]["label"] == "Week 8"])

        # Disabling a reader while another can take over hands their open
        # reads over at once, in the same change.
        held = sorted((t["subject"], t["timepoints"][-1]["label"]) for t in tasks_of("reader2")
                      if t["status"] == "open")
        admin("user", "add", "reader3")
        admin("member", "set", "TS", "reader3", "--roles", "reader")
        admin("user", "disable", "reader2")
        self.assertEqual(unassigned(), [])
        got = sorted((t["subject"], t["timepoints"][-1]["label"]) for t in tasks_of("reader3")
                     if t["status"] == "open")
        self.assertEqual(got, held)
        print("reader2 disabled: %d open reads handed to reader3" % len(held))
        print("reader1 left the pool: %d open reads reassigned to reader2, the draft kept"
              % len(open_ids))

if __name__ == "__main__":
    unittest.main(verbosity=2)
