#!/usr/bin/python3
"""Syncing one task of 3 studies (600 instances, about 300 MB) from a local
readroom-server with readroom-cli sync, beside curl fetching the same URLs
with the same parallelism and then checking the same MD5s, in the same run.
Prints both throughputs and the median ratio of five rounds with their spread
(target: sync at least 0.8x curl). The sync records each verified file
durably as it completes (a few per transaction), as it does for readers."""
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

build = sys.argv[1] if len(sys.argv) > 1 else "build-bench"
SERVER = os.path.join(build, "src/server/readroom-server")
CLI = os.path.join(build, "src/cli/readroom-cli")
PHANTOM = os.path.join(build, "src/phantom/readroom-phantom")
PARALLEL = 4
SLICES = int(os.environ.get("READROOM_BENCH_SLICES", "200"))
ROUNDS = int(os.environ.get("READROOM_BENCH_ROUNDS", "5"))
ADMIN = "bench-admin-password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_curl(tmp, url, token, manifest, task, rnd):
    """curl: the same URLs, the same parallelism, then the MD5s checked."""
    cdir = os.path.join(tmp, "curl%d" % rnd)
    os.makedirs(cdir)
    cfg = os.path.join(tmp, "curl.cfg")
    with open(cfg, "w") as f:
        for m in manifest:
            f.write('url = "%s%s"\noutput = "%s/%s"\n' % (url, m["url"], cdir, m["sop"]))
    # Both start with no dirty pages waiting to be written back, else the
    # second pays for the first's writes.
    os.sync()
    t0 = time.monotonic()
    subprocess.run(["curl", "-s", "--no-progress-meter", "--fail", "--parallel", "--parallel-max", str(PARALLEL),
                    "-H", "Authorization: Bearer " + token, "--config", cfg], check=True)
    for m in manifest:
        with open(os.path.join(cdir, m["sop"]), "rb") as fh:
            assert hashlib.md5(fh.read()).hexdigest() == m["md5"]
    took = time.monotonic() - t0
    shutil.rmtree(cdir)
    return took


def run_sync(tmp, url, token, manifest, task, rnd):
    """readroom-cli sync of that one task, into an empty cache: signing in,
    the task list and the manifest included."""
    home = os.path.join(tmp, "home%d" % rnd)
    senv = dict(os.environ, XDG_DATA_HOME=os.path.join(home, "d"),
                XDG_CACHE_HOME=os.path.join(home, "c"), READROOM_NO_KEYRING="1",
                READROOM_PASSWORD="bench-password")
    os.sync()
    t0 = time.monotonic()
    wrap = os.environ.get("READROOM_BENCH_WRAP", "").split()
    proc = subprocess.Popen(wrap + [CLI, "sync", "--server", url, "--user", "reader", "--task",
                             task, "--parallel", str(PARALLEL)], env=senv,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    phases = []
    for line in proc.stderr:
        if " - " in line and not line.rstrip().endswith("MB"):
            phase = line.rsplit(" - ", 1)[1].strip()
            if not phases or phases[-1][0] != phase:
                phases.append((phase, time.monotonic() - t0))
    summary = proc.stdout.read().strip()
    proc.wait()
    took = time.monotonic() - t0
    assert proc.returncode == 0, summary
    if os.environ.get("READROOM_BENCH_PHASES"):
        print("  phases: " + ", ".join("%s at %.2f s" % p for p in phases))
        print("  " + summary)
    shutil.rmtree(home)
    return took


def main():
    tmp = tempfile.mkdtemp(prefix="rr-bench-sync-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    server = subprocess.Popen([SERVER, "--data", os.path.join(tmp, "data"), "--http-port", str(port),
                               "--dicom-port", "0"], env=dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout.readline().startswith("ready")
        env = dict(os.environ, READROOM_PASSWORD=ADMIN, READROOM_NEW_PASSWORD="bench-password")

        def admin(*args):
            subprocess.run([CLI, "admin", "--server", url] + list(args), env=env, check=True,
                           capture_output=True)
        admin("user", "add", "reader")
        admin("trial", "create", "B", "--name", "bench", "--no-qc", "--readers", "1")
        admin("member", "set", "B", "reader", "--roles", "reader")
        # Three studies of one subject: baseline and two follow-ups; the last
        # timepoint's task needs all three.
        study = os.path.join(tmp, "studies")
        subprocess.run([PHANTOM, study, "--kind", "ct", "--slices", str(SLICES),
                        "--timepoints", "3", "--change", "-20"], check=True, capture_output=True)
        for i, tp in enumerate(sorted(os.listdir(study))):
            admin("upload", os.path.join(study, tp), "--trial", "B", "--subject", "P1",
                  "--timepoint", "TP%d" % i, "--day", str(i * 56))

        # The task's manifest, for curl.
        req = urllib.request.Request(url + "/readroom/v1/sessions", method="POST",
                                     data=json.dumps({"username": "reader",
                                                      "password": "bench-password"}).encode(),
                                     headers={"Content-Type": "application/json"})
        token = json.loads(urllib.request.urlopen(req).read())["token"]

        def get(path):
            r = urllib.request.Request(url + path)
            r.add_header("Authorization", "Bearer " + token)
            return json.loads(urllib.request.urlopen(r).read())
        tasks = get("/readroom/v1/tasks")
        last = max(tasks, key=lambda t: len(t["timepoints"]))
        manifest = get("/readroom/v1/tasks/%s/instances" % last["id"])
        total = sum(m["size"] for m in manifest)

        # Both sides run ROUNDS times, alternating which goes first, each into
        # an empty directory; the figure is the median of the rounds' ratios
        # (one run on this shared 2-core machine swings by 2x).
        curl_runs, sync_runs = [], []
        for rnd in range(ROUNDS):
            order = (run_curl, run_sync) if rnd % 2 == 0 else (run_sync, run_curl)
            for side in order:
                (curl_runs if side is run_curl else sync_runs).append(
                    side(tmp, url, token, manifest, last["id"], rnd))
            print(f"  round {rnd + 1}: readroom-cli sync {sync_runs[-1]:.2f} s, curl + md5 "
                  f"{curl_runs[-1]:.2f} s, ratio {curl_runs[-1] / sync_runs[-1]:.2f}x")
        ratios = [c / s for c, s in zip(curl_runs, sync_runs)]
        ratio = statistics.median(ratios)
        sync_s = statistics.median(sync_runs)
        curl_s = statistics.median(curl_runs)
        ok = ratio >= 0.8
        print(f"sync one task, {len(manifest)} instances, {total / 1e6:.0f} MB, {PARALLEL} connections: "
              f"readroom-cli sync {total / 1e6 / sync_s:.0f} MB/s ({sync_s:.2f} s, verified, into the "
              f"cache), curl + md5 {total / 1e6 / curl_s:.0f} MB/s ({curl_s:.2f} s); median of "
              f"{ROUNDS} ratios {ratio:.2f}x (spread {min(ratios):.2f}-{max(ratios):.2f}x) "
              f"(target >= 0.8) {'ok' if ok else 'TOO SLOW'}")
        return 0 if ok else 1
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
