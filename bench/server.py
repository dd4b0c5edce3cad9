#!/usr/bin/python3
"""The server under load: 20 readers at once (a process each), each
polling its tasks and downloading its instances (checked against the
manifest) on loopback, in rounds: the readers alone, then the same
readers while 20 logins a second arrive from another process (issue 12:
logins must not hold other users up), in turns (ABBA), READROOM_BENCH_ROUNDS
rounds (3) of READROOM_BENCH_SECONDS (20 s) each. Prints each round's p99
and the median ratio, target within 1.5x. Then Orthanc's own /system
served by a plain Orthanc (no plugin, no filter) to the same 20 clients:
requests per second, p99 and errors of both."""
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

build = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "--logins" else "build-bench"
SERVER = os.path.join(build, "src/server/readroom-server")
CLI = os.path.join(build, "src/cli/readroom-cli")
PHANTOM = os.path.join(build, "src/phantom/readroom-phantom")
CLIENTS = int(os.environ.get("READROOM_BENCH_CLIENTS", "20"))
SECONDS = float(os.environ.get("READROOM_BENCH_SECONDS", "20"))
ROUNDS = int(os.environ.get("READROOM_BENCH_ROUNDS", "3"))
ADMIN = "bench-admin-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(port, work):
    """Runs work(conn, i) -> [(ok, seconds)...] in CLIENTS processes for
    SECONDS. A process each, as each reader has a workstation of its own:
    threads of one Python process would wait on each other's GIL, and
    that wait would be counted as the server's latency."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.SimpleQueue()
    end = time.monotonic() + SECONDS

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < end:
            try:
                mine += work(conn, i)
            except (OSError, http.client.HTTPException, ValueError) as e:
                mine.append((False, 0.0, type(e).__name__))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        results.put(mine)

    procs = [ctx.Process(target=client, args=(i,)) for i in range(CLIENTS)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    stats = []
    for _ in procs:
        stats += results.get()
    for p in procs:
        p.join()
    wall = time.monotonic() - t0
    times = sorted(s[1] for s in stats if s[0])
    errors = sum(1 for s in stats if not s[0])
    kinds = {}
    for s in stats:
        if not s[0]:
            kinds[s[2] if len(s) > 2 else "?"] = kinds.get(s[2] if len(s) > 2 else "?", 0) + 1
    if kinds:
        print("  errors: " + ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())))
    p99 = times[int(len(times) * 0.99) - 1] if times else float("nan")
    return len(stats) / wall, p99 * 1000, errors, len(stats)


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def logins(port, users):
    """20 logins a second, each on its own connection, of users with their
    right password, until a line arrives on stdin; prints how many
    answered 201, how many were sent, and their median time in ms."""
    stop = threading.Event()
    done = []
    lock = threading.Lock()

    def one(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            st, _, t = timed(c, "POST", "/readroom/v1/sessions",
                             {"Content-Type": "application/json"},
                             json.dumps({"username": "r%02d" % (k % users),
                                         "password": "bench-password"}))
        except (OSError, http.client.HTTPException):
            st, t = 0, 0.0
        c.close()
        with lock:
            done.append((st == 201, t))

    def rate():
        k = 0
        started = []
        t0 = time.monotonic()
        while not stop.is_set():
            t = threading.Thread(target=one, args=(k,))
            t.start()
            started.append(t)
            k += 1
            stop.wait(max(0.0, t0 + k / 20.0 - time.monotonic()))
        for t in started:
            t.join()

    gen = threading.Thread(target=rate)
    gen.start()
    sys.stdin.readline()
    stop.set()
    gen.join()
    ok = sorted(t for good, t in done if good)
    print(len(ok), len(done), round(median(ok) * 1000) if ok else 0)
    return 0


def timed(conn, method, path, headers=None, body=None):
    t = time.monotonic()
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, data, time.monotonic() - t


def main():
    tmp = tempfile.mkdtemp(prefix="rr-bench-server-")
    data = os.path.join(tmp, "data")
    port = free_port()
    env = dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN)
    server = subprocess.Popen([SERVER, "--data", data, "--http-port", str(port), "--dicom-port", "0"],
                              env=env, stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "server.log"), "w"), text=True)
    plain = None
    try:
        line = server.stdout.readline()
        assert line.startswith("ready"), line
        url = "http://127.0.0.1:%d" % port

        def admin(*args):
            subprocess.run([CLI, "admin", "--server", url] + list(args), check=True,
                           capture_output=True,
                           env=dict(os.environ, READROOM_PASSWORD=ADMIN,
                                    READROOM_NEW_PASSWORD="bench-password"))
        admin("trial", "create", "B", "--name", "bench", "--no-qc", "--readers", "2")
        for i in range(CLIENTS):
            admin("user", "add", "r%02d" % i)
            admin("member", "set", "B", "r%02d" % i, "--roles", "reader")
        for s in range(CLIENTS // 2):
            d = os.path.join(tmp, "s%02d" % s)
            subprocess.run([PHANTOM, d, "--kind", "ct", "--slices", "20", "--size", "128",
                            "--seed", str(s + 1)], check=True, capture_output=True)
            admin("upload", d, "--trial", "B", "--subject", "S%02d" % s, "--timepoint", "Baseline",
                  "--day", "0")
        tokens = []
        for i in range(CLIENTS):
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("POST", "/readroom/v1/sessions",
                         json.dumps({"username": "r%02d" % i, "password": "bench-password"}),
                         {"Content-Type": "application/json"})
            tokens.append(json.loads(conn.getresponse().read())["token"])
            conn.close()

        def reader(conn, i):
            h = {"Authorization": "Bearer " + tokens[i]}
            out = []
            st, body, t = timed(conn, "GET", "/readroom/v1/tasks", h)
            out.append((st == 200, t, "GET /tasks %d" % st))
            for task in json.loads(body):
                st, body, t = timed(conn, "GET", "/readroom/v1/tasks/%s/instances" % task["id"], h)
                out.append((st == 200, t, "GET /tasks/{id}/instances %d" % st))
                for inst in json.loads(body):
                    st, data, t = timed(conn, "GET", inst["url"], h)
                    out.append((st == 200 and len(data) == inst["size"], t,
                                "GET file %d, %d of %d bytes" % (st, len(data), inst["size"])))
            return out

        # Rounds of the readers alone and the readers while 20 logins a
        # second arrive, in turns (ABBA), so that whatever else loads the
        # machine falls on both alike. The logins come from a process of
        # their own, as they would from other machines: in this one they
        # would hold the readers' threads up on Python's GIL, which is no
        # part of the server's latency.
        quiet, busy = [], []
        for r in range(ROUNDS):
            for phase in (("quiet", "busy") if r % 2 == 0 else ("busy", "quiet")):
                if phase == "quiet":
                    quiet.append(load(port, reader))
                    continue
                gen = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--logins",
                                        str(port), str(CLIENTS)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                try:
                    busy.append(load(port, reader))
                finally:
                    out, _ = gen.communicate("stop\n", timeout=120)
                busy[-1] = busy[-1] + tuple(int(x) for x in out.split())
        ratios = [b[1] / q[1] for q, b in zip(quiet, busy)]
        q99, b99, ratio = median([q[1] for q in quiet]), median([b[1] for b in busy]), median(ratios)
        for r, (q, b) in enumerate(zip(quiet, busy)):
            print(f"  round {r + 1}: readers alone p99 {q[1]:.1f} ms, with logins {b[1]:.1f} ms "
                  f"({b[4]} of {b[5]} logins 201, login p50 {b[6]} ms): {ratios[r]:.2f}x")
        print(f"server, the same readers with 20 logins/s, median of {ROUNDS} interleaved "
              f"rounds of {SECONDS:.0f} s: p99 {b99:.1f} ms against {q99:.1f} ms without logins; "
              f"ratio {ratio:.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f}) "
              f"(target <= 1.5x) {'ok' if ratio <= 1.5 else 'OVER'}; "
              f"{sum(b[2] for b in busy)} errors of {sum(b[3] for b in busy)}")
        ours = sorted(quiet, key=lambda q: q[1])[len(quiet) // 2]

        # The baseline: a plain Orthanc, no plugins, its own /system.
        pdir = os.path.join(tmp, "plain")
        os.makedirs(pdir)
        pport = free_port()
        with open(os.path.join(pdir, "orthanc.json"), "w") as f:
            json.dump({"StorageDirectory": pdir, "IndexDirectory": pdir, "HttpPort": pport,
                       "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
                       "DicomServerEnabled": False, "KeepAlive": True, "HttpThreadsCount": 50,
                       "Plugins": []}, f)
        plain = subprocess.Popen(["Orthanc", os.path.join(pdir, "orthanc.json")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", pport, timeout=1)
                c.request("GET", "/system")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)

        def system(conn, i):
            st, _, t = timed(conn, "GET", "/system")
            return [(st == 200, t)]

        base = load(pport, system)
        ok = ours[2] == 0
        print(f"server, {CLIENTS} readers polling tasks and downloading instances for "
              f"{SECONDS:.0f} s: {ours[0]:.0f} requests/s, p99 {ours[1]:.1f} ms, {ours[2]} errors "
              f"of {ours[3]} (target 0 errors) {'ok' if ok else 'ERRORS'}; plain Orthanc /system: "
              f"{base[0]:.0f} requests/s, p99 {base[1]:.1f} ms; ratio {ours[0] / base[0]:.2f}x")
        return 0 if ok else 1
    finally:
        for p in (server, plain):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(30)
        # Readers hold read transactions on connections of their own: the
        # WAL must still be checkpointed and reset behind them, not grow.
        wal = os.path.join(data, "readroom.db-wal")
        if os.path.exists(wal):
            print(f"  server's WAL at the end: {os.path.getsize(wal) / 2**20:.1f} MiB")
        # The plugin's warnings say what went wrong when a request failed.
        try:
            with open(os.path.join(tmp, "server.log"), errors="replace") as f:
                warnings = [l.rstrip() for l in f if "readroom:" in l]
            for line in warnings[-10:]:
                print("  server: " + line)
        except OSError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--logins"]:
        sys.exit(logins(int(sys.argv[2]), int(sys.argv[3])))
    sys.exit(main())
