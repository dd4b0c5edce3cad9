#!/usr/bin/python3
"""readroom-server --postgres URI (issue 20): Orthanc's index in a real
PostgreSQL cluster of the test's own (pgcluster.py), the files still in the
data folder. A phantom study is uploaded through the plugin and read back,
through the plugin and through Orthanc's own REST, byte for byte; the
PostgreSQL database then holds Orthanc's tables with exactly those
instances, and no SQLite index was created. A restart on the same database
still serves them. The launcher refuses a URI that is not one, and stops,
never saying ready, when the database cannot be reached. The plugin's own
state is in the same database, with no SQLite file; both backends' SQL
folders agree; two plugin processes on one database and one data folder
keep one audit chain and one count of failed logins (docs/server-notes.md,
"The storage interface, as built")."""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402

pgcluster.require()  # exit 77 before anything else when PostgreSQL is missing

import pydicom  # noqa: E402
from test_server import ADMIN_PASSWORD, PHANTOM, SERVER, Server, free_port  # noqa: E402

SOP_INSTANCE_UID = (0x0008, 0x0018)
SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "server", "sql")


# Data folders of the PgServers stopped, and the SQLite files found in them.
STOPPED = []
SQLITE_FILES_SEEN = []


def sqlite_files(folder):
    """Files under @folder that are SQLite databases (by their header)."""
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    if f.read(16) == b"SQLite format 3\x00":
                        found.append(path)
            except OSError:
                pass
    return found


def sql_literal(v):
    """@v as a PostgreSQL literal (the tests' own values, quoted)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def copy_field(f):
    """One field of COPY ... TO STDOUT (text format): \\N is NULL,
    backslash escapes undone; whole numbers read as int, as SQLite gives
    them."""
    if f == "\\N":
        return None
    out, i = [], 0
    escapes = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(f):
        if f[i] == "\\" and i + 1 < len(f):
            out.append(escapes.get(f[i + 1], f[i + 1]))
            i += 2
        else:
            out.append(f[i])
            i += 1
    text = "".join(out)
    return int(text) if re.fullmatch(r"-?[0-9]{1,18}", text) else text


class Rows(list):
    def fetchone(self):
        return self[0] if self else None

    def fetchall(self):
        return list(self)


class PsqlDb:
    """The few calls of sqlite3's connection the server suites make on
    the plugin's database (execute with ? parameters, commit, close,
    iterdump), on the PostgreSQL database through psql: each statement
    commits on its own."""

    def __init__(self, pg, database):
        self.pg, self.database = pg, database

    def run(self, sql):
        r = self.pg._run([self.pg.tool("psql"), "-h", self.pg.tmp, "-U", pgcluster.SUPERUSER,
                          "-d", self.database, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        return r.stdout

    def execute(self, sql, params=()):
        parts = sql.split("?")
        if len(parts) - 1 != len(params):
            raise ValueError("%d parameters for %r" % (len(params), sql))
        text = parts[0] + "".join(sql_literal(p) + rest for p, rest in zip(params, parts[1:]))
        if not re.match(r"\s*SELECT\b", text, re.I):
            self.run(text)
            return Rows()
        out = self.run("COPY (%s) TO STDOUT" % text)
        return Rows(tuple(copy_field(f) for f in line.split("\t"))
                    for line in out.split("\n") if line)

    def commit(self):
        pass

    def close(self):
        pass

    def snapshot(self):
        """What the tests tamper with (the audit trail), kept aside."""
        self.run("DROP TABLE IF EXISTS test_audit_kept;"
                 " CREATE TABLE test_audit_kept AS SELECT * FROM audit")

    def restore(self):
        self.run("BEGIN; DELETE FROM audit; INSERT INTO audit SELECT * FROM test_audit_kept;"
                 " COMMIT")

    def iterdump(self):
        tables = [r[0] for r in self.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        for t in tables:
            yield self.run("COPY %s TO STDOUT" % t)


class PgServer(Server):
    """test_server's Server with --postgres URI; its db() is the plugin's
    database in PostgreSQL (PsqlDb) when it is given the cluster."""

    def __init__(self, data, uri, pg=None):
        super().__init__(data)
        self.uri = uri
        self.pg = pg

    state_in_sqlite = False

    def db(self):
        database = urllib.parse.urlparse(self.uri).path.lstrip("/")
        return PsqlDb(self.pg, urllib.parse.unquote(database))

    def db_backup(self, db):
        """Server.db_backup: the audit trail kept in the database; the
        returned object's backup(db) puts it back."""
        db.snapshot()

        class Kept:
            def backup(self, target):
                target.restore()
        return Kept()

    def start(self):
        # Server.start with --postgres added; the same readiness check.
        env = dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN_PASSWORD)
        with open(os.path.join(self.data, "server.log"), "ab") as log:
            self.proc = subprocess.Popen([SERVER, "--data", self.data, "--http-port",
                                          str(self.port), "--dicom-port", "0",
                                          "--postgres", self.uri], env=env,
                                         stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready http://127.0.0.1:%d" % self.port):
            self.stop_now()
            raise RuntimeError("readroom-server --postgres did not start: %r; see %s/server.log"
                               % (line, self.data))


    def stop(self):
        pipe = self.proc.stdout if self.proc else None
        super().stop()
        if pipe:
            # The plugin's state is in PostgreSQL: no SQLite file of its
            # own in the data folder (test_server_pg.py checks the lists).
            STOPPED.append(self.data)
            SQLITE_FILES_SEEN.extend(sqlite_files(self.data))
        if pipe:
            pipe.close()


class PostgresIndex(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-pgserver-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.pg = pgcluster.PgCluster()
        cls.pg.start()
        cls.addClassCleanup(cls.pg.stop)
        cls.uri = cls.pg.create_database("orthanc")
        cls.server = PgServer(os.path.join(cls.tmp, "data"), cls.uri)
        os.makedirs(cls.server.data)
        # Stopped before the cluster (cleanups run last in, first out).
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.admin = cls.server.login("admin", ADMIN_PASSWORD)

        # A small phantom study: its files, by SOP Instance UID.
        out = os.path.join(cls.tmp, "phantom")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "3", "--size", "32",
                        "--timepoints", "1", "--seed", "20", "--patient-id", "SUBJ-PG"],
                       check=True, capture_output=True)
        cls.files = {}
        for root, _, names in os.walk(out):
            for name in names:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    blob = f.read()
                ds = pydicom.dcmread(path, stop_before_pixels=True)
                cls.files[str(ds[SOP_INSTANCE_UID].value)] = blob

    def req(self, method, path, body=None, **kw):
        return self.server.request(method, path, body, token=self.admin, **kw)

    def orthanc_instances(self):
        """Orthanc's own view: SOP Instance UID -> Orthanc ID."""
        status, ids = self.req("GET", "/instances")
        self.assertEqual(status, 200, ids)
        found = {}
        for i in ids:
            status, tags = self.req("GET", "/instances/%s/simplified-tags" % i)
            self.assertEqual(status, 200, tags)
            found[tags["SOPInstanceUID"]] = i
        return found

    def read_back(self):
        found = self.orthanc_instances()
        self.assertEqual(set(found), set(self.files))
        for sop, blob in self.files.items():
            status, _, body = self.req("GET", "/readroom/v1/instances/%s/file" % sop, raw=True)
            self.assertEqual(status, 200, sop)
            self.assertEqual(body, blob, "the plugin's copy of %s differs" % sop)
            status, _, body = self.req("GET", "/instances/%s/file" % found[sop], raw=True)
            self.assertEqual(status, 200, sop)
            self.assertEqual(body, blob, "Orthanc's copy of %s differs" % sop)

    def test_1_upload_and_read_back(self):
        self.assertEqual(len(self.files), 3)
        studies = set()
        for sop, blob in sorted(self.files.items()):
            status, doc = self.req("POST", "/readroom/v1/instances", blob)
            self.assertEqual(status, 201, doc)
            self.assertEqual(doc["status"], "Success", doc)
            studies.add(doc["study"])
        self.assertEqual(len(studies), 1)
        # Linking the study to a timepoint makes its manifest (the plugin
        # asks Orthanc, whose index is now PostgreSQL, for each instance's
        # size and MD5) and a QC task.
        for method, path, body, expected in (
                ("POST", "/readroom/v1/users", {"username": "pgqc", "password": "password-pgqc"},
                 201),
                ("POST", "/readroom/v1/trials", {"id": "PG1", "name": "PG1", "qc_required": True},
                 201),
                ("PUT", "/readroom/v1/trials/PG1/members/pgqc", {"roles": ["qc"]}, 200),
                ("POST", "/readroom/v1/trials/PG1/subjects/P1/timepoints",
                 {"label": "Baseline", "day": 0, "studies": sorted(studies)}, 201)):
            status, doc = self.req(method, path, body)
            self.assertEqual(status, expected, (path, doc))
        task = doc["tasks"][0]
        status, manifest = self.req("GET", "/readroom/v1/tasks/%s/instances" % task)
        self.assertEqual(status, 200, manifest)
        self.assertEqual({m["sop"]: (m["size"], m["md5"]) for m in manifest},
                         {sop: (len(blob), hashlib.md5(blob).hexdigest())
                          for sop, blob in self.files.items()})
        self.read_back()

    def test_2_index_is_in_postgres(self):
        tables = {r[0] for r in self.pg.psql(
            "orthanc", "SELECT lower(table_name) FROM information_schema.tables"
                       " WHERE table_schema = 'public'")}
        # Orthanc's index schema (orthanc-postgresql's PrepareIndex.sql).
        for t in ("resources", "maindicomtags", "dicomidentifiers", "attachedfiles",
                  "globalproperties"):
            self.assertIn(t, tables)
        # Resource type 3 is an instance; SOP Instance UID (0008,0018) is
        # one of the identifiers Orthanc indexes.
        self.assertEqual(self.pg.psql("orthanc", "SELECT count(*) FROM resources"
                                                 " WHERE resourcetype = 3"), [["3"]])
        uids = {r[0] for r in self.pg.psql(
            "orthanc", "SELECT value FROM dicomidentifiers WHERE taggroup = 8"
                       " AND tagelement = 24")}
        self.assertEqual(uids, set(self.files))
        # One DICOM attachment (file type 1) per instance, its files in the
        # data folder's storage: EnableStorage is off.
        self.assertEqual(self.pg.psql("orthanc", "SELECT count(*) FROM attachedfiles"
                                                 " WHERE filetype = 1"), [["3"]])
        uuids = [r[0] for r in self.pg.psql("orthanc", "SELECT uuid FROM attachedfiles"
                                                      " WHERE filetype = 1")]
        storage = os.path.join(self.server.data, "storage")
        for u in uuids:
            self.assertTrue(os.path.isfile(os.path.join(storage, u[0:2], u[2:4], u)), u)
        # Orthanc made no SQLite index of its own beside.
        self.assertFalse(os.path.exists(os.path.join(self.server.data, "index", "index")))

    def test_3_restart_on_the_same_database(self):
        self.server.stop()
        self.server.start()
        type(self).admin = self.server.login("admin", ADMIN_PASSWORD)
        self.read_back()

    def test_4_plugin_state_is_in_postgres(self):
        """The plugin's tables are in the same database as Orthanc's, at
        the schema version of the last migration, holding what test_1 made
        through the API; no plugin SQLite file exists; the audit key and
        this node's anchor are in the storage folder."""
        tables = {r[0] for r in self.pg.psql(
            "orthanc", "SELECT table_name FROM information_schema.tables"
                       " WHERE table_schema = 'public'")}
        for t in ("users", "sessions", "trials", "members", "timepoints", "tasks",
                  "submissions", "audit", "studies", "instances", "schema_version"):
            self.assertIn(t, tables)
        migrations = os.listdir(os.path.join(SQL, "postgres", "migrations"))
        self.assertEqual(self.pg.psql("orthanc", "SELECT version FROM schema_version"),
                         [[str(len(migrations))]])
        self.assertEqual(self.pg.psql("orthanc", "SELECT username FROM users"
                                                 " WHERE username IN ('admin', 'pgqc')"
                                                 " ORDER BY 1"), [["admin"], ["pgqc"]])
        self.assertEqual(self.pg.psql("orthanc", "SELECT count(*) FROM trials"), [["1"]])
        # The three uploads, the trial, the member and the timepoint at
        # least; the chain verifies on what PostgreSQL holds.
        events = int(self.pg.psql("orthanc", "SELECT count(*) FROM audit")[0][0])
        self.assertGreaterEqual(events, 6)
        status, verify = self.req("GET", "/readroom/v1/audit/verify")
        self.assertEqual(status, 200, verify)
        self.assertTrue(verify["ok"], verify)
        self.assertEqual(verify["events"], events)
        self.assertEqual(sqlite_files(self.server.data), [])
        self.assertFalse(os.path.exists(os.path.join(self.server.data, "readroom.db")))
        storage = os.path.join(self.server.data, "storage")
        self.assertEqual(os.path.getsize(os.path.join(storage, "readroom-audit-key")), 32)
        anchors = [n for n in os.listdir(storage) if n.startswith("readroom-audit-anchor.")]
        self.assertEqual(len(anchors), 1, anchors)


class SqlFiles(unittest.TestCase):
    """The two backends' SQL (src/server/sql): the same migration numbers
    (the same number is the same schema) and the same query names, those
    rr-db-queries.h lists. The server prepares every query of its backend
    as it starts (PostgresIndex starts one on PostgreSQL, test_server.py
    on SQLite)."""

    def names(self, backend):
        with open(os.path.join(SQL, backend, "queries.sql")) as f:
            found = re.findall(r"^-- name: (\w+)$", f.read(), re.M)
        self.assertEqual(len(found), len(set(found)), backend)
        return set(found)

    def test_same_migrations(self):
        sqlite = sorted(os.listdir(os.path.join(SQL, "sqlite", "migrations")))
        postgres = sorted(os.listdir(os.path.join(SQL, "postgres", "migrations")))
        self.assertEqual(sqlite, postgres)
        self.assertEqual(sqlite, ["%03d.sql" % n for n in range(1, len(sqlite) + 1)])

    def test_same_queries(self):
        with open(os.path.join(SQL, "..", "rr-db-queries.h")) as f:
            listed = {n.lower() for n in re.findall(r"X \((\w+)\)", f.read())}
        self.assertTrue(listed)
        self.assertEqual(self.names("sqlite"), listed)
        self.assertEqual(self.names("postgres"), listed)


class TwoNodesOneChain(unittest.TestCase):
    """Two plugin processes on one PostgreSQL database and one data folder
    (one storage, one audit key) append to the audit trail at once: every
    request succeeds, the chain has no gap and no fork (each event links
    the one before), both nodes verify it, and each node anchored its own
    heads in a file of its own."""

    THREADS = 4
    PER_THREAD = 10

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rr-pgnodes-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.pg = pgcluster.PgCluster()
        cls.pg.start()
        cls.addClassCleanup(cls.pg.stop)
        cls.uri = cls.pg.create_database("nodes")
        data = os.path.join(cls.tmp, "data")
        os.makedirs(data)
        cls.nodes = []
        for _ in range(2):
            node = PgServer(data, cls.uri, cls.pg)
            cls.addClassCleanup(node.stop)
            node.start()
            cls.nodes.append(node)

    def test_concurrent_appends_one_chain(self):
        import threading
        tokens = [n.login("admin", ADMIN_PASSWORD) for n in self.nodes]
        before = int(self.pg.psql("nodes", "SELECT count(*) FROM audit")[0][0])
        answers = []

        def work(t):
            node = self.nodes[t % 2]
            for i in range(self.PER_THREAD):
                trial = "N%d_%d" % (t, i)
                answers.append(node.request("POST", "/readroom/v1/trials",
                                            {"id": trial, "name": trial},
                                            token=tokens[t % 2])[0])
        threads = [threading.Thread(target=work, args=(t,)) for t in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        n = self.THREADS * self.PER_THREAD
        self.assertEqual(answers, [201] * n)
        rows = self.pg.psql("nodes", "SELECT seq, prev_hash, hash FROM audit ORDER BY seq")
        self.assertEqual(len(rows), before + n)
        self.assertEqual([int(r[0]) for r in rows], list(range(1, len(rows) + 1)))
        for prev, row in zip(rows, rows[1:]):
            self.assertEqual(row[1], prev[2], "event %s does not link the one before" % row[0])
        self.assertEqual(self.pg.psql("nodes", "SELECT count(*) FROM audit"
                                               " WHERE action = 'trial.create'"), [[str(n)]])
        for node, token in zip(self.nodes, tokens):
            status, verify = node.request("GET", "/readroom/v1/audit/verify", token=token)
            self.assertEqual(status, 200, verify)
            self.assertTrue(verify["ok"], verify)
            self.assertEqual(verify["events"], len(rows))
        storage = os.path.join(self.nodes[0].data, "storage")
        anchors = [f for f in os.listdir(storage) if f.startswith("readroom-audit-anchor.")]
        self.assertEqual(len(anchors), 2, anchors)

    def test_failed_logins_count_across_nodes(self):
        """Failed logins are rows, not one node's memory: five wrong
        passwords for one account from one address, alternating nodes,
        and the sixth attempt is refused (503) on either node, even with
        the right password (server-api.md: refused after five)."""
        token = self.nodes[0].login("admin", ADMIN_PASSWORD)
        status, doc = self.nodes[0].request("POST", "/readroom/v1/users",
                                            {"username": "victim",
                                             "password": "password-victim"}, token=token)
        self.assertEqual(status, 201, doc)
        for i in range(5):
            status, doc = self.nodes[i % 2].request("POST", "/readroom/v1/sessions",
                                                    {"username": "victim", "password": "wrong"})
            self.assertEqual(status, 401, doc)
        self.assertEqual(self.pg.psql("nodes", "SELECT count(*) FROM login_failures"
                                               " WHERE key LIKE 'p:victim %'"), [["5"]])
        for node in self.nodes:
            status, doc = node.request("POST", "/readroom/v1/sessions",
                                       {"username": "victim", "password": "password-victim"})
            self.assertEqual(status, 503, doc)
            self.assertEqual(doc["error"]["code"], "rate_limited")


class Launcher(unittest.TestCase):
    def run_server(self, tmp, uri, timeout=180):
        port = free_port()
        proc = subprocess.Popen([SERVER, "--data", os.path.join(tmp, "data"), "--http-port",
                                 str(port), "--dicom-port", "0", "--postgres", uri],
                                env=dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN_PASSWORD),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Still running (it should have given up): SIGTERM, so that it
            # stops its Orthanc, which a SIGKILL would leave behind.
            proc.terminate()
            out, err = proc.communicate(timeout=60)
        r = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        with socket.socket() as s:
            self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0)
        return r

    def test_not_a_uri(self):
        with tempfile.TemporaryDirectory() as tmp:
            for uri in ("http://127.0.0.1/db", "", "postgresql://a b/c", "postgresql://h/\x01"):
                r = self.run_server(tmp, uri)
                self.assertEqual(r.returncode, 2, (uri, r.stderr))
                self.assertNotIn("ready", r.stdout)
                self.assertIn("--postgres", r.stderr)

    def test_unreachable_database(self):
        # A socket folder where no PostgreSQL listens: Orthanc gives up
        # after its retries and the launcher never reports ready.
        with tempfile.TemporaryDirectory() as tmp:
            r = self.run_server(tmp, "postgresql:///orthanc?host=%s&user=postgres" % tmp)
            self.assertEqual(r.returncode, 1, r.stderr[-2000:])
            self.assertNotIn("ready", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
