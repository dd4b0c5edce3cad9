#!/usr/bin/python3
"""Nodes side by side (issue 20): bench/server.py's 20 readers (a process
each, polling their tasks and downloading their instances, every file
checked against its manifest) against

  sqlite      one readroom-server on SQLite (the default),
  pg-1        one readroom-server --postgres, directly,
  pg-1-proxy  the same node through HAProxy (the proxy's own cost),
  pg-2-proxy  two readroom-server --postgres on one database and one
              storage folder, through HAProxy (round robin),

all running at once and measured in interleaved rounds (A B C D, D C B A,
...) so that whatever else loads the machine falls on each alike.
READROOM_BENCH_ROUNDS rounds (2) of READROOM_BENCH_SECONDS (15 s) each;
prints each set-up's median throughput (requests/s), p99 and errors, and
the ratios to the SQLite node. On a 2-core machine two nodes cannot be
faster than one; the figure to read is that they are not slower by more
than the proxy's cost (pg-1-proxy against pg-1).

    bench/nodes.py [BUILD]"""
import importlib.util
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
os.environ["READROOM_SERVER"] = os.path.join(build, "src/server/readroom-server")
os.environ["READROOM_CLI"] = os.path.join(build, "src/cli/readroom-cli")
os.environ["READROOM_PHANTOM"] = os.path.join(build, "src/phantom/readroom-phantom")
sys.path.insert(0, os.path.join(here, "..", "tests", "server"))
import twonodes  # noqa: E402
from test_server import ADMIN_PASSWORD, CLI, PHANTOM, Server  # noqa: E402

# bench/server.py's reader processes and its load(): one measure for all.
_spec = importlib.util.spec_from_file_location("bench_server", os.path.join(here, "server.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
bench.SECONDS = float(os.environ.get("READROOM_BENCH_SECONDS", "15"))
ROUNDS = int(os.environ.get("READROOM_BENCH_ROUNDS", "2"))
CLIENTS = bench.CLIENTS


def populate(url, port, tmp):
    """bench/server.py's trial: CLIENTS readers, CLIENTS / 2 subjects of
    one 20-slice 128x128 CT study each, two reads per subject; returns the
    readers' tokens."""
    env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
               READROOM_NEW_PASSWORD="bench-password")

    def admin(*args):
        subprocess.run([CLI, "admin", "--server", url] + list(args), check=True,
                       capture_output=True, env=env)
    admin("trial", "create", "B", "--name", "bench", "--no-qc", "--readers", "2")
    for i in range(CLIENTS):
        admin("user", "add", "r%02d" % i)
        admin("member", "set", "B", "r%02d" % i, "--roles", "reader")
    for s in range(CLIENTS // 2):
        d = os.path.join(tmp, "s%02d" % s)
        if not os.path.isdir(d):
            subprocess.run([PHANTOM, d, "--kind", "ct", "--slices", "20", "--size", "128",
                            "--seed", str(s + 1)], check=True, capture_output=True)
        admin("upload", d, "--trial", "B", "--subject", "S%02d" % s, "--timepoint", "Baseline",
              "--day", "0")
    tokens = []
    for i in range(CLIENTS):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/readroom/v1/sessions",
                     json.dumps({"username": "r%02d" % i, "password": "bench-password"}),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 201, r.status
        tokens.append(json.loads(r.read())["token"])
        conn.close()
    return tokens


def reader_work(tokens):
    # bench/server.py's reader, with these tokens.
    def reader(conn, i):
        h = {"Authorization": "Bearer " + tokens[i]}
        out = []
        st, body, t = bench.timed(conn, "GET", "/readroom/v1/tasks", h)
        out.append((st == 200, t, "GET /tasks %d" % st))
        for task in json.loads(body):
            st, body, t = bench.timed(conn, "GET", "/readroom/v1/tasks/%s/instances" % task["id"],
                                      h)
            out.append((st == 200, t, "GET /tasks/{id}/instances %d" % st))
            for inst in json.loads(body):
                st, data, t = bench.timed(conn, "GET", inst["url"], h)
                out.append((st == 200 and len(data) == inst["size"], t,
                            "GET file %d, %d of %d bytes" % (st, len(data), inst["size"])))
        return out
    return reader


def main():
    twonodes.require()
    tmp = tempfile.mkdtemp(prefix="rr-bench-nodes-")
    sqlite = Server(os.path.join(tmp, "sqlite"))
    one = twonodes.TwoNodes(n=1)
    two = twonodes.TwoNodes(n=2)
    try:
        os.makedirs(sqlite.data)
        sqlite.start()
        one.start()
        two.start()
        phantoms = os.path.join(tmp, "phantoms")
        os.makedirs(phantoms)
        setups = []
        tokens = populate("http://127.0.0.1:%d" % sqlite.port, sqlite.port, phantoms)
        setups.append(("sqlite", sqlite.port, tokens))
        tokens = populate(one.nodes[0].url, one.nodes[0].port, phantoms)
        setups.append(("pg-1", one.nodes[0].port, tokens))
        # The same node and the same sessions through its proxy.
        setups.append(("pg-1-proxy", one.haproxy.port, tokens))
        tokens = populate(two.url, two.haproxy.port, phantoms)
        setups.append(("pg-2-proxy", two.haproxy.port, tokens))

        results = {name: [] for name, _, _ in setups}
        for r in range(ROUNDS):
            order = setups if r % 2 == 0 else list(reversed(setups))
            for name, port, tokens in order:
                results[name].append(bench.load(port, reader_work(tokens)))
                rps, p99, errors, n = results[name][-1]
                print(f"  round {r + 1} {name}: {rps:.0f} requests/s, p99 {p99:.1f} ms, "
                      f"{errors} errors of {n}", flush=True)
        served = two.haproxy.servers()
        base = None
        errors_total = 0
        for name, _, _ in setups:
            rps = bench.median([x[0] for x in results[name]])
            p99 = bench.median([x[1] for x in results[name]])
            errors = sum(x[2] for x in results[name])
            errors_total += errors
            if base is None:
                base = (rps, p99)
            print(f"nodes, {CLIENTS} readers, median of {ROUNDS} interleaved rounds of "
                  f"{bench.SECONDS:.0f} s, {name}: {rps:.0f} requests/s ({rps / base[0]:.2f}x "
                  f"sqlite), p99 {p99:.1f} ms ({p99 / base[1]:.2f}x), {errors} errors")
        print("  pg-2-proxy requests per node: " +
              ", ".join(f"{k} {v['requests']}" for k, v in sorted(served.items())))
        return 0 if errors_total == 0 else 1
    finally:
        for stop in (two.stop, one.stop, sqlite.stop):
            try:
                stop()
            except Exception as e:  # the others still stop
                print("bench/nodes.py: stopping: %s" % e, file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
