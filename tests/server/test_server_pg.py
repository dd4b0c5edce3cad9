#!/usr/bin/python3
"""The server suite again, on PostgreSQL (issue 20): test_server.py's
ServerSuite and HardeningSuite (the workflow with its hand-computed
export, the access matrix, idempotency, refusals, bad input, the restart
and the audit chain, the hardening findings), test_upload.py's
UploadSuite and its two race suites and test_upload_load.py's UploadLoadSuite, unchanged, each
against readroom-server --postgres with a database of its own in one
throwaway cluster: Orthanc's index and the plugin's own state (users,
trials, tasks, submissions, audit) both in PostgreSQL. The tests that
edit the plugin's database behind its back (an expired session, an edited
audit event or submission, a rebuilt chain) do it there through
Server.db() (test_postgres.PsqlDb); the one about SQLite's write lock is
skipped. Each database then holds the plugin's tables with the suite's
rows, and no data folder has a plugin SQLite file."""
import itertools
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402

pgcluster.require()

import test_server  # noqa: E402
import test_upload  # noqa: E402
import test_upload_load  # noqa: E402
import test_postgres  # noqa: E402
from test_postgres import PgServer  # noqa: E402


def main():
    # meson's timeout sends SIGTERM: unwind, so that the finally below
    # stops the cluster (and the suites' cleanups their servers).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    pg = pgcluster.PgCluster()
    pg.start()
    try:
        names = ("suite%d" % i for i in itertools.count(1))

        def server(data):
            return PgServer(data, pg.create_database(next(names)), pg)
        # The suites build their Server through these names.
        test_server.Server = server
        test_upload.Server = server

        def local_server(data):
            s = server(data)
            s.port = test_upload_load.port_in_range()
            return s
        test_upload_load.LocalServer = local_server
        loader = unittest.TestLoader()
        suite = unittest.TestSuite(
            loader.loadTestsFromTestCase(c)
            for c in (test_server.ServerSuite, test_server.HardeningSuite,
                      test_upload.UploadSuite, test_upload.UploadRaceSuite,
                      test_upload.UploadLookupRaceSuite, test_upload_load.UploadLoadSuite))
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        # Each suite stored its studies in its own PostgreSQL database:
        # Orthanc's index was there, not in a SQLite file.
        indexed = True
        for i in range(1, 7):
            n = int(pg.psql("suite%d" % i, "SELECT count(*) FROM resources"
                                           " WHERE resourcetype = 3")[0][0])
            print("suite%d: %d instances in Orthanc's index in PostgreSQL" % (i, n))
            indexed = indexed and n > 0
            # The plugin's state is there too: its users (the admin and
            # those the suite made) and an audit trail.
            users = int(pg.psql("suite%d" % i, "SELECT count(*) FROM users")[0][0])
            events = int(pg.psql("suite%d" % i, "SELECT count(*) FROM audit")[0][0])
            print("suite%d: %d users and %d audit events in PostgreSQL" % (i, users, events))
            indexed = indexed and users > 1 and events > 0
        # Each server, as it stopped, looked for a plugin SQLite file.
        print("%d server stops, plugin SQLite files seen: %s"
              % (len(test_postgres.STOPPED), test_postgres.SQLITE_FILES_SEEN))
        indexed = indexed and test_postgres.STOPPED and not test_postgres.SQLITE_FILES_SEEN
        return 0 if result.wasSuccessful() and indexed else 1
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
