#!/usr/bin/python3
"""A site's upload of a 200-file CT series to a local readroom-server over
loopback: readroom-cli upload (signing in, fetching the trial's key, every
file sent once under the journal) beside curl posting the same
de-identified files to the same endpoint with the same parallelism (4 at
once, each on a keep-alive connection, as the CLI sends by default), in
the same run. Every run sends
files new to the server: each goes to a trial of its own, whose key gives
the files new UIDs (de-identified before the clock starts, for both). Prints
both throughputs and the median ratio of five rounds with their spread
(issue 17 target: upload at least 0.8x curl).
Usage: bench/upload.py [BUILD_DIR]"""
import base64
import json
import os
import shutil
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
SLICES = int(os.environ.get("READROOM_BENCH_SLICES", "200"))
ROUNDS = int(os.environ.get("READROOM_BENCH_ROUNDS", "5"))
ADMIN = "bench-admin-password"
TARGET = 0.8
PARALLEL = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, url, user, password):
        self.url = url
        req = urllib.request.Request(url + "/readroom/v1/sessions", method="POST",
                                     data=json.dumps({"username": user,
                                                      "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
        self.token = json.loads(urllib.request.urlopen(req).read())["token"]

    def call(self, method, path):
        r = urllib.request.Request(self.url + path, method=method)
        r.add_header("Authorization", "Bearer " + self.token)
        body = urllib.request.urlopen(r).read()
        return json.loads(body) if body else None


def main():
    tmp = tempfile.mkdtemp(prefix="rr-bench-upload-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    server = subprocess.Popen([SERVER, "--data", os.path.join(tmp, "data"), "--http-port",
                               str(port), "--dicom-port", "0"],
                              env=dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout.readline().startswith("ready")
        env = dict(os.environ, READROOM_PASSWORD=ADMIN, READROOM_NEW_PASSWORD="bench-password")

        def admin_cli(*args):
            subprocess.run([CLI, "admin", "--server", url] + list(args), env=env, check=True,
                           capture_output=True)
        admin_cli("user", "add", "site")
        site = None
        src = os.path.join(tmp, "ct")
        subprocess.run([PHANTOM, src, "--kind", "ct", "--slices", str(SLICES)], check=True,
                       capture_output=True)
        senv = dict(os.environ, READROOM_NO_KEYRING="1", READROOM_PASSWORD="bench-password")

        def prepare(trial):
            """A trial of its own, and the files de-identified with its key."""
            nonlocal site
            admin_cli("trial", "create", trial, "--name", "bench", "--no-qc", "--readers", "1")
            admin_cli("member", "set", trial, "site", "--roles", "site", "--site", "S01")
            site = site or Api(url, "site", "bench-password")
            key = base64.b64decode(site.call("GET", "/readroom/v1/trials/%s/deid" % trial)["key"])
            keyfile = os.path.join(tmp, trial + ".key")
            with open(keyfile, "wb") as f:
                f.write(key)
            out = os.path.join(tmp, trial)
            r = subprocess.run([CLI, "deid", src, out, "--subject", "P1", "--key", keyfile],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr[-2000:]
            files = sorted(os.path.join(out, n) for n in os.listdir(out))
            assert len(files) == SLICES, len(files)
            return files

        def run_cli(rnd):
            """readroom-cli upload with the files staged and no journal: it
            signs in, fetches the key, and sends every file."""
            trial = "C%d" % rnd
            files = prepare(trial)
            home = os.path.join(tmp, "cli%d" % rnd)
            stage = os.path.join(home, "c", "readroom", "upload", trial, "P1", "Baseline")
            os.makedirs(stage)
            for f in files:
                shutil.copy(f, stage)
            open(os.path.join(stage, "deid.done"), "w").close()
            os.sync()
            t0 = time.monotonic()
            r = subprocess.run([CLI, "upload", src, "--server", url, "--user", "site",
                                "--trial", trial, "--subject", "P1", "--timepoint", "Baseline",
                                "--parallel", str(PARALLEL)],
                               env=dict(senv, XDG_DATA_HOME=home + "/d",
                                        XDG_CACHE_HOME=home + "/c"),
                               capture_output=True, text=True)
            took = time.monotonic() - t0
            assert r.returncode == 0 and "sent: %d files this time" % SLICES in r.stdout, \
                r.stdout + r.stderr[-2000:]
            shutil.rmtree(home)
            return took

        def run_curl(rnd):
            """curl: the same files, the same endpoint and headers, the same
            parallelism; every answer must be 201."""
            trial = "U%d" % rnd
            files = prepare(trial)
            cfg = os.path.join(tmp, "curl.cfg")
            out = os.path.join(tmp, "curl.out")
            # One transfer per file ("next" between them: data and headers
            # are per transfer); curl keeps its connections across them.
            with open(cfg, "w") as f:
                for i, path in enumerate(files):
                    f.write('%surl = "%s/readroom/v1/instances"\ndata-binary = "@%s"\n'
                            'header = "Authorization: Bearer %s"\n'
                            'header = "Content-Type: application/dicom"\n'
                            'header = "X-Readroom-Trial: %s"\n'
                            'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
                            'silent\n'
                            % ("next\n" if i else "", url, path, site.token, trial))
            os.sync()
            t0 = time.monotonic()
            with open(out, "w") as fh:
                subprocess.run(["curl", "-s", "--parallel", "--parallel-max", str(PARALLEL),
                                "--config", cfg], check=True, stdout=fh,
                               stderr=subprocess.DEVNULL)
            took = time.monotonic() - t0
            with open(out) as fh:
                codes = fh.read().split()
            assert codes == ["201"] * SLICES, codes[:5]
            return took

        cli_runs, curl_runs = [], []
        for rnd in range(ROUNDS):
            order = (run_curl, run_cli) if rnd % 2 == 0 else (run_cli, run_curl)
            for side in order:
                (curl_runs if side is run_curl else cli_runs).append(side(rnd))
            print(f"  round {rnd + 1}: readroom-cli upload {cli_runs[-1]:.2f} s, "
                  f"curl {curl_runs[-1]:.2f} s")
        ratios = [c / u for u, c in zip(cli_runs, curl_runs)]
        ratio = statistics.median(ratios)
        total = sum(os.path.getsize(os.path.join(tmp, "U0", n))
                    for n in os.listdir(os.path.join(tmp, "U0")))
        mb = total / 1e6
        print(f"upload {SLICES} files ({mb:.0f} MB) over loopback: readroom-cli upload "
              f"{mb / statistics.median(cli_runs):.1f} MB/s, curl {mb / statistics.median(curl_runs):.1f}"
              f" MB/s; ratio {ratio:.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}; "
              f"target >= {TARGET}x) {'ok' if ratio >= TARGET else 'BELOW TARGET'}")
        print(f"  ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
        return 0 if ratio >= TARGET else 1
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
