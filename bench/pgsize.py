#!/usr/bin/python3
"""Bytes per stored instance (issue 20, docs/scale.md): readroom-server
--postgres on a throwaway cluster (tests/server/pgcluster.py); phantom CT
studies of SLICES instances each are uploaded and linked to timepoints,
twice (a small and a large batch), and the growth between the two, per
instance, is printed for Orthanc's index in PostgreSQL (tables with their
indexes and TOAST) and for the plugin's SQLite tables (dbstat, indexes
included). Fixed costs (empty pages, the schema) cancel out in the
difference. Phantom headers carry fewer tags than a scanner's: the Orthanc
figure is a floor for real CT.

    bench/pgsize.py [BUILD]"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
build = sys.argv[1] if len(sys.argv) > 1 else "build"
os.environ.setdefault("READROOM_SERVER", os.path.join(build, "src/server/readroom-server"))
os.environ.setdefault("READROOM_PHANTOM", os.path.join(build, "src/phantom/readroom-phantom"))
sys.path.insert(0, os.path.join(here, "..", "tests", "server"))
import pgcluster  # noqa: E402
from test_postgres import PgServer  # noqa: E402
from test_server import ADMIN_PASSWORD, PHANTOM  # noqa: E402

SLICES = int(os.environ.get("READROOM_BENCH_SLICES", "50"))


def pg_tables(pg):
    rows = pg.psql("orthanc", "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
                              " JOIN pg_namespace n ON n.oid = c.relnamespace"
                              " WHERE n.nspname = 'public' AND c.relkind = 'r'")
    return {name: int(size) for name, size in rows}


def sqlite_tables(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        # Each index counted with its table.
        owner = {name: tbl for name, tbl in db.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
        sizes = {}
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            t = owner.get(name, name)
            sizes[t] = sizes.get(t, 0) + size
        return sizes
    finally:
        db.close()


def main():
    pgcluster.require()
    tmp = tempfile.mkdtemp(prefix="rr-pgsize-")
    pg = pgcluster.PgCluster()
    server = None
    try:
        pg.start()
        uri = pg.create_database("orthanc")
        server = PgServer(os.path.join(tmp, "data"), uri)
        os.makedirs(server.data)
        server.start()
        admin = server.login("admin", ADMIN_PASSWORD)

        def call(method, path, body, expected):
            status, doc = server.request(method, path, body, token=admin)
            assert status == expected, (method, path, status, doc)
            return doc
        call("POST", "/readroom/v1/users", {"username": "sizeqc", "password": "password-sizeqc"},
             201)
        call("POST", "/readroom/v1/trials", {"id": "Z", "name": "Z", "qc_required": True}, 201)
        call("PUT", "/readroom/v1/trials/Z/members/sizeqc", {"roles": ["qc"]}, 200)
        subject = [0]

        def batch(studies):
            for _ in range(studies):
                subject[0] += 1
                out = os.path.join(tmp, "s%d" % subject[0])
                subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", str(SLICES), "--size",
                                "64", "--seed", str(subject[0]), "--patient-id",
                                "SUBJ-%d" % subject[0]], check=True, capture_output=True)
                study = None
                for root, _, names in os.walk(out):
                    for name in sorted(names):
                        with open(os.path.join(root, name), "rb") as f:
                            study = call("POST", "/readroom/v1/instances", f.read(), 201)["study"]
                call("POST", "/readroom/v1/trials/Z/subjects/P%d/timepoints" % subject[0],
                     {"label": "Baseline", "day": 0, "studies": [study]}, 201)
                shutil.rmtree(out)
            return subject[0] * SLICES

        n1 = batch(2)
        pg.psql("orthanc", "VACUUM ANALYZE")
        pg1, lite1 = pg_tables(pg), sqlite_tables(os.path.join(server.data, "readroom.db"))
        n2 = batch(8)
        pg.psql("orthanc", "VACUUM ANALYZE")
        pg2, lite2 = pg_tables(pg), sqlite_tables(os.path.join(server.data, "readroom.db"))
        n = n2 - n1

        def report(title, a, b):
            total = 0
            print("%s, bytes per instance (%d instances more):" % (title, n))
            for t in sorted(b, key=lambda t: a.get(t, 0) - b[t]):
                grew = b[t] - a.get(t, 0)
                total += grew
                if grew:
                    print("  %-22s %8.0f" % (t, grew / n))
            print("  %-22s %8.0f" % ("total", total / n))
        report("Orthanc's index in PostgreSQL", pg1, pg2)
        report("the plugin's SQLite tables", lite1, lite2)
        return 0
    finally:
        if server:
            server.stop()
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
