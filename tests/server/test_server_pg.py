#!/usr/bin/python3
"""The server suite again, on PostgreSQL (issue 20): test_server.py's
ServerSuite and HardeningSuite (the workflow with its hand-computed
export, the access matrix, idempotency, refusals, bad input, the restart
and the audit chain, the hardening findings) and test_upload.py's
UploadSuite, unchanged, each against readroom-server --postgres with a
database of its own in one throwaway cluster. Orthanc's index is what
changes; the plugin's state is still SQLite at this stage, so what these
prove is that nothing the plugin asks of Orthanc depends on Orthanc's
SQLite index."""
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
            return PgServer(data, pg.create_database(next(names)))
        # The suites build their Server through these names.
        test_server.Server = server
        test_upload.Server = server
        loader = unittest.TestLoader()
        suite = unittest.TestSuite(
            loader.loadTestsFromTestCase(c)
            for c in (test_server.ServerSuite, test_server.HardeningSuite,
                      test_upload.UploadSuite))
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        # Each suite stored its studies in its own PostgreSQL database:
        # Orthanc's index was there, not in a SQLite file.
        indexed = True
        for i in range(1, 4):
            n = int(pg.psql("suite%d" % i, "SELECT count(*) FROM resources"
                                           " WHERE resourcetype = 3")[0][0])
            print("suite%d: %d instances in Orthanc's index in PostgreSQL" % (i, n))
            indexed = indexed and n > 0
        return 0 if result.wasSuccessful() and indexed else 1
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
