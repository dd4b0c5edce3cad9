#!/usr/bin/python3
"""De-identification of a 200-file CT series, the whole process, beside
gdcmanon (Debian's libgdcm-tools) with its Basic Profile on the same files:
median of 5 interleaved runs each, with their spread, and the ratio
(issue 17: at least 3x). Usage: bench/deid.py [BUILD_DIR]"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pydicom

build = sys.argv[1] if len(sys.argv) > 1 else "build-bench"
cli = os.path.join(build, "src/cli/readroom-cli")
phantom = os.path.join(build, "src/phantom/readroom-phantom")
RUNS = 5
TARGET = 3.0

if shutil.which("gdcmanon") is None or shutil.which("openssl") is None:
    print("deid: gdcmanon (libgdcm-tools) or openssl missing; run tools/deps")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="rr-bench-deid-")
try:
    src = os.path.join(tmp, "ct")
    subprocess.run([phantom, src, "--slices", "200"], check=True, capture_output=True)
    # A site's files: identified, not yet de-identified (gdcmanon refuses a
    # file that says its identity was removed).
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
    for f in os.listdir(src):  # warm the page cache for both sides alike
        with open(os.path.join(src, f), "rb") as fh:
            fh.read()
    n_files = len(os.listdir(src))
    size = sum(os.path.getsize(os.path.join(src, f)) for f in os.listdir(src))

    key = os.path.join(tmp, "trial.key")
    with open(key, "wb") as fh:
        fh.write(os.urandom(48))
    cert = os.path.join(tmp, "cert.pem")
    pem = os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    pem, "-out", cert, "-days", "1", "-subj", "/CN=readroom-bench"],
                   check=True, capture_output=True)

    def ours(out):
        return [cli, "deid", src, out, "--subject", "SUBJ-001", "--key", key]

    def gdcm(out):
        return ["gdcmanon", "-e", "-c", cert, "-i", src, "-o", out, "-r", "--continue"]

    def copy(out):
        return ["cp", "-r", src, out]

    # A plain copy of the same files: the floor under any de-identifier
    # that writes them out.
    times = {"readroom": [], "gdcmanon": [], "cp": []}
    cpu = {"readroom": [], "gdcmanon": [], "cp": []}
    sides = [("readroom", ours), ("gdcmanon", gdcm), ("cp", copy)]
    for i in range(RUNS):
        for name, cmd in (sides if i % 2 == 0 else sides[::-1]):
            out = os.path.join(tmp, "out-" + name)
            shutil.rmtree(out, ignore_errors=True)
            u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            r = subprocess.run(cmd(out), capture_output=True, text=True)
            times[name].append(time.perf_counter() - t0)
            u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(u1.ru_utime - u0.ru_utime + u1.ru_stime - u0.ru_stime)
            written = len(os.listdir(out)) if os.path.isdir(out) else 0
            if r.returncode != 0 or written != n_files:
                print(f"deid: {name} failed ({r.returncode}, {written} files): "
                      f"{r.stderr.strip()[:200]}")
                sys.exit(1)

    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["gdcmanon"] / med["readroom"]
    ok = ratio >= TARGET
    for k, v in times.items():
        print(f"  {k}: median {med[k]:.3f} s, spread {min(v):.3f}-{max(v):.3f} s "
              f"over {RUNS} runs; CPU (user+sys) median {statistics.median(cpu[k]):.3f} s")
    print(f"de-identify {n_files} CT files ({size / 2**20:.0f} MiB), whole process: "
          f"readroom {med['readroom']:.3f} s, gdcmanon {med['gdcmanon']:.3f} s, "
          f"ratio {ratio:.1f}x (target >= {TARGET:.0f}x) {'ok' if ok else 'BELOW TARGET'}")
    cpu_ratio = statistics.median(cpu["gdcmanon"]) / statistics.median(cpu["readroom"])
    print(f"  (plain cp of the same files: {med['cp']:.3f} s, gdcmanon/cp "
          f"{med['gdcmanon'] / med['cp']:.1f}x, readroom/cp {med['readroom'] / med['cp']:.1f}x: "
          f"no de-identifier that writes the files goes below cp)")
    print(f"  (CPU time ratio {cpu_ratio:.1f}x; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}: wall time on a "
          f"shared machine follows the load)")
    sys.exit(0 if ok else 1)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
