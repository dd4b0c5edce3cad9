#!/usr/bin/python3
"""De-identification of a 200-file CT series, the whole process, beside
gdcmanon (Debian's libgdcm-tools) with its Basic Profile on the same files
(issue 17: at least 3x), on the work disk and on tmpfs, in interleaved
rounds. Beside them: readroom on one thread, readroom on a folder of one
file (what starting the process and loading the dictionary cost), and a
plain `cp -r` of the same files, the floor under anything that writes them.

Usage: bench/deid.py [BUILD_DIR] [ROUNDS] [BEFORE_CLI]

BEFORE_CLI: another readroom-cli (say, the main branch's) run beside the
build's on the same files and rounds, on the folder and on one file; its
output must be byte for byte the build's (checked once before the rounds).

Every side is measured the same way: the previous outputs deleted, a
`sync`, then a pause (SETTLE) so that what the deletion and the sync left
to the kernel's threads is done before the clock starts; then the process
is started with its output to a file (the parent does nothing while it
runs) and its wall time and its own CPU time (wait4) are taken, from
before fork to after its exit."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pydicom

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build-bench")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 7
cli = os.path.join(build, "src/cli/readroom-cli")
before = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
phantom = os.path.join(build, "src/phantom/readroom-phantom")
TARGET = 3.0
CORES = os.cpu_count() or 1
# Seconds between one run's clean-up and the next run's start.
SETTLE = float(os.environ.get("SETTLE", "0.25"))

if shutil.which("gdcmanon") is None or shutil.which("openssl") is None:
    print("deid: gdcmanon (libgdcm-tools) or openssl missing; run tools/deps")
    sys.exit(77)


def fs_type(path):
    """The type of the filesystem holding path (the longest mount point)."""
    best, kind = "", "?"
    with open("/proc/mounts") as fh:
        for line in fh:
            _, mnt, typ = line.split()[:3]
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                best, kind = mnt, typ
    return kind


def make_series(src):
    """A site's files: identified, not yet de-identified (gdcmanon refuses
    a file that says its identity was removed)."""
    subprocess.run([phantom, src, "--slices", "200"], check=True, capture_output=True)
    for f in sorted(os.listdir(src)):
        p = os.path.join(src, f)
        ds = pydicom.dcmread(p)
        for kw in ("PatientIdentityRemoved", "DeidentificationMethod"):
            if kw in ds:
                delattr(ds, kw)
        ds.PatientName = "Doe^Jane"
        ds.PatientID = "MRN0042"
        ds.PatientBirthDate = "19700101"
        ds.InstitutionName = "General Hospital"
        ds.ReferringPhysicianName = "Smith^John"
        ds.AccessionNumber = "A123456"
        ds.save_as(p)


def run_timed(argv):
    """Runs argv with its output to a file: exit status, wall time from
    before fork to after exit, its CPU time (user + sys, its threads
    included), its stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        w = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return p.returncode, w, ru.ru_utime + ru.ru_stime, err.read().decode(errors="replace")


def same_outputs(a, b):
    """Whether two output folders hold the same names with the same bytes."""
    names = sorted(os.listdir(a))
    if names != sorted(os.listdir(b)):
        return False
    for n in names:
        with open(os.path.join(a, n), "rb") as fa, open(os.path.join(b, n), "rb") as fb:
            if fa.read() != fb.read():
                return False
    return True


def bench_at(where, label, master, key, cert):
    src = os.path.join(where, "ct")
    shutil.copytree(master, src)
    one = os.path.join(where, "one")
    os.mkdir(one)
    first = sorted(os.listdir(src))[0]
    shutil.copy(os.path.join(src, first), one)
    for f in os.listdir(src):  # the page cache holds the input for every side alike
        with open(os.path.join(src, f), "rb") as fh:
            fh.read()
    n_files = len(os.listdir(src))
    size = sum(os.path.getsize(os.path.join(src, f)) for f in os.listdir(src))

    sides = [
        ("readroom", lambda o: [cli, "deid", src, o, "--subject", "SUBJ-001", "--key", key],
         n_files),
        ("readroom, 1 thread", lambda o: [cli, "deid", src, o, "--subject", "SUBJ-001",
                                          "--key", key, "--threads", "1"], n_files),
        ("readroom, 1 file", lambda o: [cli, "deid", one, o, "--subject", "SUBJ-001",
                                        "--key", key], 1),
        # Its fastest correct run: one process over the folder (a process per
        # file would pay its start-up 200 times), the Basic Profile (-e),
        # which needs a certificate for its Encrypted Attributes Sequence.
        ("gdcmanon", lambda o: ["gdcmanon", "-e", "-c", cert, "-i", src, "-o", o, "-r",
                                "--continue"], n_files),
        ("cp -r", lambda o: ["cp", "-r", src, o], n_files),
    ]
    if before:
        sides += [
            ("before", lambda o: [before, "deid", src, o, "--subject", "SUBJ-001", "--key", key],
             n_files),
            ("before, 1 file", lambda o: [before, "deid", one, o, "--subject", "SUBJ-001",
                                          "--key", key], 1),
        ]
    # The outputs compared once: one thread or several, and BEFORE_CLI,
    # give the same bytes.
    checks = [("readroom", sides[0][1]), ("readroom, 1 thread", sides[1][1])]
    if before:
        checks.append(("before", sides[-2][1]))
    ref = None
    for name, cmd in checks:
        out = os.path.join(where, "check-" + name.replace(" ", "").replace(",", "-"))
        rc, _, _, err = run_timed(cmd(out))
        if rc != 0:
            print(f"deid: {name} failed ({rc}): {err.strip()[:200]}")
            sys.exit(1)
        if ref is None:
            ref = out
        elif not same_outputs(ref, out):
            print(f"deid: {name}'s output differs from readroom's")
            sys.exit(1)
    keep = fs_type(where) != "tmpfs"
    checked = [os.path.join(where, "check-" + n.replace(" ", "").replace(",", "-"))
               for n, _ in checks]
    if not keep:
        for o in checked:
            shutil.rmtree(o)
    load0 = os.getloadavg()[0]

    wall = {s[0]: [] for s in sides}
    cpu = {s[0]: [] for s in sides}
    # On ext4 without a journal (this machine's disk), a new inode is not
    # taken from those freed in the last minutes (find_inode_bit skips them
    # one by one): deleting each run's output before the next made every
    # file creation scan past hundreds of them, up to a quarter of a run's
    # CPU time, and more with each round. A site de-identifies into a new
    # folder on a disk that has not just lost a thousand files: each run
    # writes a folder of its own, deleted after the last round. tmpfs has
    # no such rule and little room: there each output goes before the next.
    outs = checked if keep else []
    for i in range(ROUNDS):
        k = i % len(sides)  # each round starts with another side
        for j, (name, cmd, expect) in enumerate(sides[k:] + sides[:k]):
            out = os.path.join(where, f"out-{i}-{j}")
            if not keep:
                for o in outs:
                    shutil.rmtree(o, ignore_errors=True)
                outs.clear()
            outs.append(out)
            # The last run's files leave the page cache's dirty list before
            # this one starts: no side pays for another's writeback. The
            # pause lets the kernel's threads finish what the deletion and
            # the sync left them (freeing inodes, writeback) on a core that
            # a run with two threads would otherwise share with them.
            os.sync()
            time.sleep(SETTLE)
            rc, w, c, err = run_timed(cmd(out))
            wall[name].append(w)
            cpu[name].append(c)
            written = len(os.listdir(out)) if os.path.isdir(out) else 0
            if rc != 0 or written != expect:
                print(f"deid: {name} failed ({rc}, {written} files): {err.strip()[:200]}")
                sys.exit(1)
    for o in outs:
        shutil.rmtree(o, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in wall.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"{label} ({fs_type(where)}, {where}): {n_files} CT files, {size / 2**20:.0f} MiB, "
          f"{ROUNDS} interleaved rounds, load average {load0:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after; outputs byte-identical "
          f"({', '.join(n for n, _ in checks)})")
    for k in wall:
        print(f"  {k:20s} wall median {med[k]:.3f} s ({min(wall[k]):.3f}-{max(wall[k]):.3f}), "
              f"CPU (user+sys) median {mcpu[k]:.3f} s (min {min(cpu[k]):.3f})")
    # Ratios within each round (the sides ran back to back), then their median.
    per_round = [g / r for g, r in zip(wall["gdcmanon"], wall["readroom"])]
    ratio = statistics.median(per_round)
    one_thread = statistics.median([g / r for g, r in zip(wall["gdcmanon"],
                                                          wall["readroom, 1 thread"])])
    cp_ratio = statistics.median([g / c for g, c in zip(wall["gdcmanon"], wall["cp -r"])])
    ok = ratio >= TARGET
    print(f"  gdcmanon/readroom: wall {ratio:.2f}x (rounds {min(per_round):.2f}-"
          f"{max(per_round):.2f}; best runs {min(wall['gdcmanon']) / min(wall['readroom']):.2f}x), "
          f"CPU {mcpu['gdcmanon'] / mcpu['readroom']:.2f}x; on 1 thread "
          f"{one_thread:.2f}x; target >= {TARGET:.0f}x {'ok' if ok else 'BELOW TARGET'}")
    # On an idle machine a run's wall time is about its CPU time, less what
    # runs on the other cores: gdcmanon uses one, readroom starts on one
    # (start-up, the dictionary) and then spreads its files over all.
    # No de-identifier that writes the files does less than cp: the best
    # readroom could do is its start-up plus cp's work spread over the cores.
    start = mcpu["readroom, 1 file"]
    idle = mcpu["gdcmanon"] / (start + (mcpu["readroom"] - start) / CORES)
    ceiling = mcpu["gdcmanon"] / (start + mcpu["cp -r"] / CORES)
    print(f"  gdcmanon/cp: wall {cp_ratio:.2f}x, CPU {mcpu['gdcmanon'] / mcpu['cp -r']:.2f}x")
    if before:
        b_ratio = statistics.median([g / r for g, r in zip(wall["gdcmanon"], wall["before"])])
        b_start = mcpu["before, 1 file"]
        b_idle = mcpu["gdcmanon"] / (b_start + (mcpu["before"] - b_start) / CORES)
        print(f"  before: gdcmanon/before wall {b_ratio:.2f}x, CPU "
              f"{mcpu['gdcmanon'] / mcpu['before']:.2f}x, idle estimate {b_idle:.2f}x; "
              f"CPU before/now {mcpu['before'] / mcpu['readroom']:.2f}x on the folder, "
              f"{b_start / mcpu['readroom, 1 file']:.2f}x on one file")
    print(f"  idle {CORES}-core estimate from CPU times: gdcmanon/readroom {idle:.2f}x; ceiling "
          f"gdcmanon / (readroom's start-up + cp's CPU / {CORES}) = {ceiling:.2f}x")
    return ok


tmp = tempfile.mkdtemp(prefix="rr-bench-deid-", dir=build)
shm = None
try:
    master = os.path.join(tmp, "master")
    make_series(master)
    key = os.path.join(tmp, "trial.key")
    with open(key, "wb") as fh:
        fh.write(os.urandom(48))
    cert = os.path.join(tmp, "cert.pem")
    pem = os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    pem, "-out", cert, "-days", "1", "-subj", "/CN=readroom-bench"],
                   check=True, capture_output=True)
    disk = os.path.join(tmp, "run")
    os.mkdir(disk)
    ok = bench_at(disk, "work disk", master, key, cert)
    if os.path.isdir("/dev/shm") and fs_type("/dev/shm") == "tmpfs":
        shm = tempfile.mkdtemp(prefix="rr-bench-deid-", dir="/dev/shm")
        ok = bench_at(shm, "tmpfs", master, key, cert) and ok
    print(f"  ({CORES} cores, load average {os.getloadavg()[0]:.1f} at the end: wall time "
          f"on a shared machine follows the load)")
    sys.exit(0 if ok else 1)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
    if shm:
        shutil.rmtree(shm, ignore_errors=True)
