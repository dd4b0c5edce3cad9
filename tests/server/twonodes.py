#!/usr/bin/python3
"""Two Readroom nodes behind a proxy, for the tests and the bench (issue
20): a throwaway PostgreSQL cluster (pgcluster.py), two
`readroom-server --postgres` processes sharing that database and one data
folder (so one storage folder), and Debian's HAProxy on 127.0.0.1 in front
of them (round robin, health checks on /readroom/v1/health, a connection
that fails is dispatched to the other node). Everything listens on
127.0.0.1 only. Whatever fails, stop() stops the proxy, both nodes (their
Orthanc too) and the cluster, and removes the folder.

    with TwoNodes() as tn:
        tn.proxy.request("GET", "/readroom/v1/health")
        tn.nodes[0].kill9()

Run as a program it checks itself, and leaves no process and no folder
behind, also when the code using it raises. It exits 77 (skipped) when
PostgreSQL or HAProxy is not installed."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
from test_server import ADMIN_PASSWORD, SERVER, Server, free_port  # noqa: E402

HAPROXY = os.environ.get("READROOM_HAPROXY", "/usr/sbin/haproxy")


def require():
    """Exits 77 (meson's skip) when PostgreSQL or HAProxy is missing."""
    pgcluster.require()
    if not os.access(HAPROXY, os.X_OK):
        print("SKIP: HAProxy is not installed (%s)" % HAPROXY, file=sys.stderr)
        sys.exit(77)


def _children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _kill_and_wait(pids, timeout=30):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.time() + timeout
    while time.time() < end and any(_alive(p) for p in pids):
        time.sleep(0.05)


class Node(Server):
    """One readroom-server --postgres on the shared data folder, with a
    log of its own; request() and login() go to this node directly."""

    def __init__(self, data, uri, log):
        super().__init__(data)
        self.uri = uri
        self.log = log
        self.orthanc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        env = dict(os.environ, READROOM_ADMIN_PASSWORD=ADMIN_PASSWORD)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([SERVER, "--data", self.data, "--http-port",
                                          str(self.port), "--dicom-port", "0",
                                          "--postgres", self.uri], env=env,
                                         stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready http://127.0.0.1:%d" % self.port):
            self.stop_now()
            self.proc = None
            with open(self.log, errors="replace") as f:
                said = f.read()[-2000:]
            raise RuntimeError("readroom-server --postgres did not start: %r; its log ends:\n%s"
                               % (line, said))
        # Its Orthanc: what kill9 kills with it.
        kids = _children(self.proc.pid)
        self.orthanc = kids[0] if kids else None

    def kill9(self):
        """kill -9 of the node: Orthanc and its launcher at once, as a
        machine that loses power (no SIGTERM, no clean close)."""
        proc = self.proc
        if proc is None:
            return
        _kill_and_wait([p for p in (self.orthanc, proc.pid) if p])
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
        self.proc = None
        self.orthanc = None

    def stop(self):
        """SIGTERM (it stops its Orthanc); SIGKILL of both if that does not
        do. Never raises: it runs in cleanups."""
        proc = self.proc
        if proc is None:
            return
        orthanc = self.orthanc
        try:
            self.stop_now()
        finally:
            if orthanc and _alive(orthanc):
                _kill_and_wait([orthanc])
            if proc.stdout:
                proc.stdout.close()
            self.proc = None
            self.orthanc = None


class Endpoint(Server):
    """test_server's request() and login() against a port (the proxy's)
    that this object does not run."""

    def __init__(self, port):
        self.port = port
        self.proc = None
        self.data = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        raise RuntimeError("the proxy is started by TwoNodes")

    def stop(self):
        pass


class HAProxy:
    """haproxy -db (in the foreground, as our child) with a configuration
    of ours: round robin over the nodes, health checks every 500 ms, a
    failed connection retried on the other node. A request that reached a
    node is never sent again by the proxy (HAProxy retries only on
    connection failures by default): sending again is the client's
    decision, with its Idempotency-Key."""

    def __init__(self, folder, backends):
        self.folder = folder
        self.backends = backends
        self.port = free_port()
        self.cfg = os.path.join(folder, "haproxy.cfg")
        self.stats = os.path.join(folder, "haproxy.sock")
        self.log = os.path.join(folder, "haproxy.log")
        self.proc = None

    def config(self):
        lines = [
            "global",
            "  maxconn 1024",
            "  stats socket %s mode 600 level admin" % self.stats,
            "defaults",
            "  mode http",
            "  timeout connect 2s",
            "  timeout client 300s",
            "  timeout server 300s",
            "  timeout http-keep-alive 30s",
            "  retries 3",
            "  option redispatch",
            "frontend readroom",
            "  bind 127.0.0.1:%d" % self.port,
            "  default_backend nodes",
            "backend nodes",
            "  balance roundrobin",
            "  option httpchk GET /readroom/v1/health",
            "  http-check expect status 200",
            # A check answered late is not a dead node: a node storing an
            # upload on a busy machine (2 cores, PostgreSQL's fsync) can
            # take longer than the 500 ms between checks, and with the
            # check's timeout left at that interval both nodes were once
            # marked down together (CI, test_twonodes: 503 "No server is
            # available"). A killed node refuses at once, so it is still
            # marked down within a second.
            "  timeout check 5s",
            "  default-server inter 500ms fastinter 250ms downinter 500ms fall 3 rise 2",
        ]
        for i, port in enumerate(self.backends):
            lines.append("  server node%d 127.0.0.1:%d check" % (i + 1, port))
        return "\n".join(lines) + "\n"

    def start(self):
        with open(self.cfg, "w") as f:
            f.write(self.config())
        subprocess.run([HAPROXY, "-c", "-q", "-f", self.cfg], check=True, capture_output=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.cfg], stdout=log,
                                         stderr=log)

    def command(self, text):
        """A command on the stats socket (show stat, ...), its answer."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.stats)
            s.sendall(text.encode() + b"\n")
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        return out.decode()

    def servers(self):
        """{node name: {"status": "UP"/"DOWN"/..., "requests": total}}."""
        rows = self.command("show stat").splitlines()
        if not rows or not rows[0].startswith("# "):
            return {}
        head = rows[0][2:].split(",")
        out = {}
        for row in rows[1:]:
            f = dict(zip(head, row.split(",")))
            if f.get("pxname") == "nodes" and f.get("svname", "").startswith("node"):
                out[f["svname"]] = {"status": f["status"], "requests": int(f["stot"] or 0)}
        return out

    def wait_status(self, want, timeout=60):
        """Until every node's status starts as in @want ({name: "UP"})."""
        end = time.time() + timeout
        state = {}
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("haproxy exited %d; see %s" % (self.proc.returncode, self.log))
            try:
                state = self.servers()
            except OSError:
                state = {}
            if all(state.get(k, {}).get("status", "").startswith(v) for k, v in want.items()):
                return state
            time.sleep(0.1)
        raise RuntimeError("the proxy's nodes are %r, not %r" % (state, want))

    def log_tail(self, size=3000):
        """The end of HAProxy's output: its checks' verdicts, with their
        reasons ("Layer7 timeout, check duration: ...")."""
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-size:]
        except OSError as e:
            return str(e)

    def stop(self):
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            # SIGUSR1: soft stop; SIGKILL when that is not enough.
            proc.send_signal(signal.SIGUSR1)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class TwoNodes:
    def __init__(self, n=2):
        self.n = n
        self.tmp = None
        self.pg = None
        self.nodes = []
        self.haproxy = None
        self.proxy = None
        self.uri = None

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="rr-twonodes-")
        try:
            self.pg = pgcluster.PgCluster()
            self.pg.start()
            self.uri = self.pg.create_database("readroom")
            self.data = os.path.join(self.tmp, "data")
            os.makedirs(self.data)
            # One after the other: the first migrates the database.
            for i in range(self.n):
                node = Node(self.data, self.uri, os.path.join(self.tmp, "node%d.log" % (i + 1)))
                self.nodes.append(node)
                node.start()
            self.haproxy = HAProxy(self.tmp, [n.port for n in self.nodes])
            self.haproxy.start()
            self.proxy = Endpoint(self.haproxy.port)
            self.haproxy.wait_status({"node%d" % (i + 1): "UP" for i in range(self.n)})
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def url(self):
        """The proxy's one URL."""
        return self.proxy.url

    @property
    def node_urls(self):
        """The nodes' URLs as the workstation takes them: "A,B"."""
        return ",".join(n.url for n in self.nodes)

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.tmp)) if self.tmp else []:
            if name.endswith(".log"):
                with open(os.path.join(self.tmp, name), errors="replace") as f:
                    out.append("==> %s <==\n%s" % (name, f.read()[-3000:]))
        return "\n".join(out)

    def stop(self):
        """Proxy, nodes, cluster, folder: each stopped even when one before
        it fails; safe to call twice and after a failed start."""
        if self.tmp is None:
            return
        try:
            if self.haproxy:
                self.haproxy.stop()
        finally:
            try:
                for node in self.nodes:
                    try:
                        node.stop()
                    except Exception as e:  # the others and the cluster still stop
                        print("twonodes: stopping a node: %s" % e, file=sys.stderr)
            finally:
                try:
                    if self.pg:
                        self.pg.stop()
                finally:
                    shutil.rmtree(self.tmp, ignore_errors=True)
                    self.tmp = None
                    self.nodes = []
                    self.haproxy = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


# ---- self-check: python3 twonodes.py ----

def main():
    require()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    failures = []

    def check(cond, what):
        print("%s: %s" % ("ok" if cond else "FAIL", what))
        if not cond:
            failures.append(what)

    with TwoNodes() as tn:
        pids = [tn.haproxy.proc.pid, tn.pg.pid] + [p for n in tn.nodes
                                                     for p in (n.proc.pid, n.orthanc)]
        tmp = tn.tmp
        check(all(_alive(p) for p in pids), "proxy, cluster, nodes and their Orthancs run")
        before = tn.haproxy.servers()
        for _ in range(10):
            status, doc = tn.proxy.request("GET", "/readroom/v1/health")
            check(status == 200, "health through the proxy: %s" % status)
        after = tn.haproxy.servers()
        served = [after[k]["requests"] - before[k]["requests"] for k in ("node1", "node2")]
        check(all(s >= 3 for s in served), "both nodes served requests (%r)" % served)
        tn.nodes[0].kill9()
        tn.haproxy.wait_status({"node1": "DOWN", "node2": "UP"})
        check(all(tn.proxy.request("GET", "/readroom/v1/health")[0] == 200 for _ in range(5)),
              "the proxy serves on with one node killed")
    check(not any(_alive(p) for p in pids), "nothing runs after stop")
    check(not os.path.exists(tmp), "the folder is removed after stop")

    tn = TwoNodes()
    try:
        with tn:
            tmp = tn.tmp
            pids = [tn.haproxy.proc.pid, tn.pg.pid] + [p for n in tn.nodes
                                                         for p in (n.proc.pid, n.orthanc)]
            raise KeyError("boom")
    except KeyError:
        pass
    check(not any(_alive(p) for p in pids) and not os.path.exists(tmp),
          "stopped and removed after an exception")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
