#!/usr/bin/python3
"""A throwaway PostgreSQL cluster for the tests (issue 20): `initdb` and
`pg_ctl` from Debian's postgresql in a temporary folder, run as an
unprivileged user (PostgreSQL refuses to run as root; when the tests run as
root the cluster runs as `nobody` through runuser), listening only on a Unix
socket inside that folder, so nothing is reachable from the network and two
clusters never meet. Whatever fails, stop() kills the postmaster and removes
the folder.

    with PgCluster() as pg:
        uri = pg.create_database("orthanc")
        pg.psql("orthanc", "SELECT 1")

Run as a program it checks itself: a cluster starts, takes a database and a
table, and leaves no process and no folder behind, also when the code using
it raises. It exits 77 (skipped) only when PostgreSQL is not installed."""
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

# Debian 12 ships PostgreSQL 15; a newer major version also does.
BIN_GLOB = "/usr/lib/postgresql/*/bin"
UNPRIVILEGED = "nobody"
SUPERUSER = "postgres"


class Unavailable(Exception):
    """PostgreSQL is not installed: the test is skipped, not failed."""


def bin_dir():
    """The newest installed PostgreSQL's bin folder, or Unavailable."""
    found = []
    for d in glob.glob(BIN_GLOB):
        major = os.path.basename(os.path.dirname(d))
        if major.isdigit() and all(os.access(os.path.join(d, t), os.X_OK)
                                   for t in ("initdb", "pg_ctl", "postgres", "psql")):
            found.append((int(major), d))
    if not found:
        raise Unavailable("PostgreSQL is not installed (no initdb/pg_ctl under %s)" % BIN_GLOB)
    return max(found)[1]


def require():
    """Exits 77 (meson's skip) when PostgreSQL is not installed."""
    try:
        return bin_dir()
    except Unavailable as e:
        print("SKIP: %s" % e, file=sys.stderr)
        sys.exit(77)


class PgCluster:
    def __init__(self):
        self.bin = bin_dir()
        self.tmp = None
        self.data = None
        self.log = None
        self.pid = None

    # ---- running the tools as the unprivileged user ----

    def _as_owner(self, argv):
        # As root, PostgreSQL's server tools must run as someone else.
        if os.geteuid() == 0:
            return ["runuser", "-u", UNPRIVILEGED, "--"] + argv
        return argv

    def _run(self, argv, owner=False, timeout=120, check=True, stdin=None):
        argv = self._as_owner(argv) if owner else argv
        r = subprocess.run(argv, cwd=self.tmp, capture_output=True, text=True,
                           timeout=timeout, input=stdin,
                           env=dict(os.environ, LC_ALL="C", PGTZ="UTC"))
        if check and r.returncode != 0:
            raise RuntimeError("%s exited %d: %s%s" % (" ".join(argv), r.returncode,
                                                     r.stdout[-2000:], r.stderr[-2000:]))
        return r

    def tool(self, name):
        return os.path.join(self.bin, name)

    # ---- lifecycle ----

    def start(self):
        """initdb + pg_ctl start; on any failure everything is undone."""
        self.tmp = tempfile.mkdtemp(prefix="rr-pg-")
        try:
            if os.geteuid() == 0:
                pw = pwd.getpwnam(UNPRIVILEGED)
                os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
            self.data = os.path.join(self.tmp, "data")
            self.log = os.path.join(self.tmp, "postgres.log")
            # trust: only whoever can reach the socket, which lives in a
            # 0700 folder, can connect at all.
            self._run([self.tool("initdb"), "-D", self.data, "-U", SUPERUSER, "-A", "trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"], owner=True)
            # No TCP at all (listen_addresses empty); the socket lives in
            # our folder. fsync off: a test cluster is thrown away anyway.
            opts = "-c listen_addresses='' -k %s -c fsync=off -c max_connections=100" % self.tmp
            self._run([self.tool("pg_ctl"), "-D", self.data, "-l", self.log, "-o", opts,
                       "-w", "-t", "60", "start"], owner=True)
            self.pid = self._postmaster_pid()
        except BaseException:
            self.stop()
            raise
        return self

    def _postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        """Stops the server (fast, then SIGKILL) and removes the folder;
        safe to call twice and after a failed start."""
        if self.tmp is None:
            return
        try:
            if self.data and os.path.exists(os.path.join(self.data, "postmaster.pid")):
                pid = self._postmaster_pid() or self.pid
                r = self._run([self.tool("pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                               "-t", "30", "stop"], owner=True, check=False, timeout=60)
                if r.returncode != 0 and pid:
                    # The postmaster's children die with it.
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    for _ in range(100):
                        if not os.path.exists("/proc/%d" % pid):
                            break
                        time.sleep(0.1)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
            self.pid = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- databases ----

    @property
    def socket_dir(self):
        return self.tmp

    def uri(self, database):
        """A libpq connection URI for @database over the cluster's socket."""
        return "postgresql:///%s?host=%s&user=%s" % (
            urllib.parse.quote(database), urllib.parse.quote(self.tmp, safe="/"), SUPERUSER)

    def psql(self, database, sql):
        """Runs @sql, returns the rows as lists of fields (unaligned, tab
        separated); raises on any SQL error."""
        r = self._run([self.tool("psql"), "-h", self.tmp, "-U", SUPERUSER, "-d", database,
                       "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                       "-c", sql])
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def create_database(self, name):
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError("database name %r" % name)
        self.psql("postgres", "CREATE DATABASE %s ENCODING 'UTF8'" % name)
        return self.uri(name)


# ---- self-check: python3 pgcluster.py ----

def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def main():
    require()
    failures = []

    def check(cond, what):
        print("%s: %s" % ("ok" if cond else "FAIL", what))
        if not cond:
            failures.append(what)

    with PgCluster() as pg:
        tmp, pid = pg.tmp, pg.pid
        check(pid is not None and _alive(pid), "the postmaster runs")
        owner = os.stat(pg.data).st_uid
        check(owner != 0, "the cluster is not owned by root (uid %d)" % owner)
        pg.create_database("rr_check")
        pg.psql("rr_check", "CREATE TABLE t (a int PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
        check(pg.psql("rr_check", "SELECT sum(a), count(*) FROM t") == [["3", "2"]],
              "a table in the new database holds what was written")
        check(os.path.exists(os.path.join(tmp, ".s.PGSQL.5432")), "the socket is in the folder")
        tcp = pg.psql("postgres", "SELECT setting = '' FROM pg_settings"
                               " WHERE name = 'listen_addresses'")
        check(tcp == [["t"]], "no TCP listener (listen_addresses empty: %r)" % tcp)
    check(not _alive(pid), "the postmaster is gone after stop")
    check(not os.path.exists(tmp), "the folder is removed after stop")

    # An exception inside the block still stops and removes everything.
    pg = PgCluster()
    try:
        with pg:
            tmp, pid = pg.tmp, pg.pid
            raise KeyError("boom")
    except KeyError:
        pass
    check(not _alive(pid) and not os.path.exists(tmp), "stopped and removed after an exception")

    # A postmaster killed behind our back: stop() still removes the folder.
    pg = PgCluster().start()
    tmp, pid = pg.tmp, pg.pid
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.1)
    pg.stop()
    check(not os.path.exists(tmp), "removed after the postmaster was killed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
