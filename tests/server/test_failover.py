#!/usr/bin/python3
"""The workstation given several server URLs fails over (issue 20):
readroom-cli sync and submit with --server "A,B" against a real
readroom-server, where A is a dead port, a node answering 502 or 503 to
everything, or a node that takes a submission to the server and dies
before answering. Sync still fills the cache with every verified file;
submit still delivers the read exactly once (one task.submit in the audit
trail, the receipt the server holds); a single URL works as before, and a
list that is not one is refused as a usage error."""
import contextlib
import http.client
import http.server
import json
import os
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultproxy import FaultProxy, Rule  # noqa: E402
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server, free_port, make_read  # noqa: E402

READER_PASSWORD = "reader-password-1"
SUBJECTS = 4
FILES_PER_SUBJECT = 4


class DyingNode:
    """A node in front of the server that serves everything, except that
    the first submission it is given goes to the server and then the
    connection is reset instead of answered: the server has acted, the
    client hears nothing (a node killed between its commit and its reply).
    From then on it resets every connection without passing anything on.
    Notes what it passed on."""

    def __init__(self, backend_port):
        self.passed = []
        self.dead = False
        node = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reset(self):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True

            def do_GET(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if node.dead:
                    self.reset()
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection")}
                conn = http.client.HTTPConnection("127.0.0.1", backend_port, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read()
                finally:
                    conn.close()
                dies = (self.command == "POST" and self.path.endswith("/submission") and
                        not any(p[3] for p in node.passed))
                node.passed.append((self.command, self.path, r.status, dies))
                if dies:
                    node.dead = True
                    self.reset()
                    return
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                         "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = do_DELETE = do_GET

        class Httpd(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.httpd = Httpd(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class Failover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-failover-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.url = "http://127.0.0.1:%d" % cls.server.port
        cls.proxy = FaultProxy(cls.server.port)
        cls.proxy.start()
        cls.addClassCleanup(cls.proxy.stop)
        cls.dying = DyingNode(cls.server.port)
        cls.dying.start()
        cls.addClassCleanup(cls.dying.stop)
        # A port nobody listens on: connection refused.
        cls.dead = "http://127.0.0.1:%d" % free_port()

        env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
                   READROOM_NEW_PASSWORD=READER_PASSWORD)

        def admin(*args):
            subprocess.run([CLI, "admin", "--server", cls.url] + list(args), env=env, check=True,
                           capture_output=True)
        admin("user", "add", "reader1")
        admin("trial", "create", "TF", "--name", "failover", "--no-qc", "--readers", "1")
        admin("member", "set", "TF", "reader1", "--roles", "reader")
        for s in range(SUBJECTS):
            d = os.path.join(cls.tmp, "study%d" % s)
            subprocess.run([PHANTOM, d, "--kind", "ct", "--slices", str(FILES_PER_SUBJECT),
                            "--size", "64", "--seed", str(s + 1)], check=True,
                           capture_output=True)
            admin("upload", d, "--trial", "TF", "--subject", "P%d" % s, "--timepoint",
                  "Baseline", "--day", "0")
        token = cls.server.login("reader1", READER_PASSWORD)
        status, tasks = cls.server.request("GET", "/readroom/v1/tasks", token=token)
        assert status == 200 and len(tasks) == SUBJECTS, tasks
        cls.tasks = {t["subject"]: t for t in tasks}

    def setUp(self):
        self.home = os.path.join(self.tmp, "home-" + self.id().split(".")[-1])
        shutil.rmtree(self.home, ignore_errors=True)
        self.proxy.clear()

    def env(self):
        return dict(os.environ, XDG_DATA_HOME=os.path.join(self.home, "data"),
                    XDG_CACHE_HOME=os.path.join(self.home, "cache"), READROOM_NO_KEYRING="1",
                    READROOM_PASSWORD=READER_PASSWORD)

    @property
    def db(self):
        return os.path.join(self.home, "data", "readroom", "readroom.db")

    def cli(self, *args, expect=0):
        r = subprocess.run([CLI] + list(args), env=self.env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, expect, r.stderr[-3000:])
        return r

    def sync(self, servers):
        token = self.server.login("reader1", READER_PASSWORD)
        status, open_tasks = self.server.request("GET", "/readroom/v1/tasks", token=token)
        self.assertEqual(status, 200)
        want = len(open_tasks) * FILES_PER_SUBJECT
        self.assertGreater(want, 0)
        r = self.cli("sync", "--server", servers, "--user", "reader1", "--offline-timeout", "60")
        # Every file of every open task, each verified against its checksum.
        self.assertIn("synced %d files (%d fetched" % (want, want), r.stdout)
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            rows = db.execute("SELECT sha256 FROM instances").fetchall()
        self.assertEqual(len(rows), want)
        self.assertTrue(all(row[0] for row in rows))
        return r

    def submit(self, servers, subject, size):
        task = self.tasks[subject]
        read = make_read([(tp["label"], tp["day"]) for tp in task["timepoints"]], (size,))
        os.makedirs(self.home, exist_ok=True)
        path = os.path.join(self.home, "read-%s.json" % subject)
        with open(path, "w") as f:
            json.dump(read, f)
        return self.cli("submit", "--server", servers, "--user", "reader1", "--task", task["id"],
                        "--read", path, "--offline-timeout", "60")

    def assert_delivered_once(self, subject, size):
        """The outbox's one entry is delivered with the receipt the server
        holds, the read is the one sent, and the audit trail has exactly
        one submission of the task."""
        task = self.tasks[subject]
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            rows = db.execute("SELECT state, receipt FROM outbox WHERE task_id = ?",
                              (task["id"],)).fetchall()
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][0], "delivered")
        admin = self.server.login("admin", ADMIN_PASSWORD)
        status, held = self.server.request("GET", "/readroom/v1/tasks/%s/submission" % task["id"],
                                           token=admin)
        self.assertEqual(status, 200, held)
        self.assertEqual(json.loads(rows[0][1])["receipt"], held["receipt"])
        self.assertEqual(held["submission"]["read"]["target_lesions"][0]["measurements"],
                         {task["timepoints"][-1]["label"]: size})
        status, trail = self.server.request("GET", "/readroom/v1/audit?limit=10000", token=admin)
        self.assertEqual(status, 200)
        self.assertEqual(len([e for e in trail if e["action"] == "task.submit" and
                              e["object"] == task["id"]]), 1)

    # ---- tests ----

    def test_1_single_url_as_before(self):
        self.sync(self.url + "/")
        self.submit(self.url, "P0", 31)
        self.assert_delivered_once("P0", 31)

    def test_2_dead_first_node(self):
        self.sync("%s,%s" % (self.dead, self.url))
        self.submit("%s, %s" % (self.dead, self.url), "P1", 32)
        self.assert_delivered_once("P1", 32)

    def test_3_nodes_answering_502_and_503(self):
        for status in (502, 503):
            with self.subTest(status=status):
                self.setUp()
                self.proxy.add(Rule(None, r".", status=status, times=None))
                self.sync("%s,%s" % (self.proxy.url, self.url))
                # The broken node was asked (and moved on from), never
                # served anything.
                tried = self.proxy.requests()
                self.assertTrue(tried)
                self.assertTrue(all(e["status"] == status for e in tried))

    def test_4_node_dies_after_taking_the_submission(self):
        """The first node hands the submission to the server and dies
        before answering; the client sends the same request, with the same
        Idempotency-Key, to the next node: one submission, not two."""
        self.dying.passed.clear()
        self.dying.dead = False
        self.submit("%s,%s" % (self.dying.url, self.url), "P2", 33)
        posted = [p for p in self.dying.passed if p[0] == "POST" and p[1].endswith("/submission")]
        # It reached the server through the dying node, which accepted it
        # and answered nothing; the client never went back to it.
        self.assertEqual(len(posted), 1, self.dying.passed)
        self.assertEqual(posted[0][2:], (201, True))
        self.assert_delivered_once("P2", 33)

    def test_5_not_a_list(self):
        for bad in ("ftp://127.0.0.1:1", "%s,ftp://x" % self.url, ",", "http://"):
            with self.subTest(server=bad):
                r = self.cli("sync", "--server", bad, "--user", "reader1", expect=2)
                self.assertIn("--server", r.stderr)
        many = ",".join("http://127.0.0.1:%d" % (1000 + i) for i in range(17))
        self.cli("sync", "--server", many, "--user", "reader1", expect=2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
