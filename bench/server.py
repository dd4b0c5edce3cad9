#!/usr/bin/python3
"""The server under load: 20 readers at once, each polling its tasks and
downloading its instances (checked against the manifest) for 30 s on
loopback; beside it, Orthanc's own /system served by a plain Orthanc (no
plugin, no filter) to the same 20 clients for the same time. Prints the
requests per second, the p99 latency and the errors of both. Then the
same readers again while 20 logins a second arrive (issue 12: logins must
not hold other users up): their p99 against the run without logins,
target within 1.5x."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

build = sys.argv[1] if len(sys.argv) > 1 else "build-bench"
SERVER = os.path.join(build, "src/server/readroom-server")
CLI = os.path.join(build, "src/cli/readroom-cli")
PHANTOM = os.path.join(build, "src/phantom/readroom-phantom")
CLIENTS = int(os.environ.get("READROOM_BENCH_CLIENTS", "20"))
SECONDS = float(os.environ.get("READROOM_BENCH_SECONDS", "30"))
ADMIN = "bench-admin-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(port, work):
    """Runs work(conn) -> [(ok, seconds)...] in CLIENTS threads for SECONDS."""
    stats = []
    lock = threading.Lock()
    end = time.monotonic() + SECONDS

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < end:
            try:
                mine += work(conn, i)
            except (OSError, http.client.HTTPException, ValueError) as e:
                mine.append((False, 0.0))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            stats.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    times = sorted(s for ok, s in stats if ok)
    errors = sum(1 for ok, _ in stats if not ok)
    p99 = times[int(len(times) * 0.99) - 1] if times else float("nan")
    return len(stats) / wall, p99 * 1000, errors, len(stats)


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
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
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
            out.append((st == 200, t))
            for task in json.loads(body):
                st, body, t = timed(conn, "GET", "/readroom/v1/tasks/%s/instances" % task["id"], h)
                out.append((st == 200, t))
                for inst in json.loads(body):
                    st, data, t = timed(conn, "GET", inst["url"], h)
                    out.append((st == 200 and len(data) == inst["size"], t))
            return out

        ours = load(port, reader)

        # The same readers while 20 logins a second arrive, each on its own
        # connection, of users with their right password.
        stop = threading.Event()
        logins = []

        def one_login(k):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            st, _, t = timed(c, "POST", "/readroom/v1/sessions", {"Content-Type": "application/json"},
                             json.dumps({"username": "r%02d" % (k % CLIENTS),
                                         "password": "bench-password"}))
            c.close()
            logins.append((st == 201, t))

        def login_rate():
            k = 0
            started = []
            t0 = time.monotonic()
            while not stop.is_set():
                t = threading.Thread(target=one_login, args=(k,))
                t.start()
                started.append(t)
                k += 1
                time.sleep(max(0.0, t0 + k / 20.0 - time.monotonic()))
            for t in started:
                t.join()

        gen = threading.Thread(target=login_rate)
        gen.start()
        try:
            busy = load(port, reader)
        finally:
            stop.set()
            gen.join()
        login_ok = sum(1 for ok, _ in logins if ok)
        ratio = busy[1] / ours[1] if ours[1] else float("nan")
        print(f"server, the same readers with 20 logins/s ({login_ok} of {len(logins)} logins "
              f"201): p99 {busy[1]:.1f} ms against {ours[1]:.1f} ms without logins: "
              f"{ratio:.2f}x (target <= 1.5x) {'ok' if ratio <= 1.5 else 'OVER'}; "
              f"{busy[2]} errors of {busy[3]}")

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
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
