#!/usr/bin/python3
"""Puts back, one at a time, each bug that issue 21's review found the
tests did not catch (and the iRECIST form's wording of issue 22), and
shows that a test now fails for each. On demand,
not part of tools/test (a full build of a copy, then one rebuild and test
run per bug: tens of minutes).

The tree (every tracked file as it is in the working tree) is copied to a
temporary folder and built there; the repository itself is never touched.
For each bug: its change is applied to the copy (the exact text it
replaces must still be there, or the row says so), the copy is rebuilt,
the test that should catch it runs, and the file is restored. First each
test runs on the unchanged copy: a test that fails there catches nothing.

  python3 tests/mutants.py [--only WORD...] [--keep] [--copy DIR] [--no-baseline]

Prints a table: bug -> test -> caught yes/no. Exits 1 when a bug was not
caught (or a test failed unchanged)."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"]

# (name, file, text as it is, text with the bug, meson test, its arguments
# (unittest names or GLib test paths, to run only the case that pins it),
# needs a display)
MUTANTS = [
    ("sync md5 check removed",
     "src/sync/rr-sync-download.c",
     "if (size != t->inst->size || g_ascii_strcasecmp (md5, t->inst->md5) != 0)",
     "if (size != t->inst->size)",
     "sync-faults", ["SyncFaults.test_4_altered_download_is_caught_by_its_md5"], False),
    ("audit hash omits user and time",
     "src/server/rr-server-db.c",
     "const char *fields[] = { at, user, action, object, details };",
     "const char *fields[] = { action, object, details };",
     "server", ["HardeningSuite.test_09_audit_evidence_survives_database_edits"], False),
    ("server's per-timepoint response comparison removed",
     "src/server/rr-server-submissions.c",
     "    for (guint i = 0; i < json_array_get_length (tb); i++)\n      {\n"
     "        JsonNode *ea",
     "    for (guint i = 0; i < 0; i++)\n      {\n        JsonNode *ea",
     "server", ["ServerSuite.test_1_workflow", "ServerSuite.test_3_idempotency_and_refusals"],
     False),
    ("RECIST target node boundary at 14 mm, not 15",
     "src/core/rr-criteria-recist.c",
     "else if (t->nodal && b->tenths < 150)",
     "else if (t->nodal && b->tenths < 140)",
     "criteria", [], False),
    ("iRECIST new-lesion node boundary at 14 mm, not 15",
     "src/core/rr-criteria-irecist.c",
     "m->tenths < (nodal ? 150 : 100)",
     "m->tenths < (nodal ? 140 : 100)",
     "irecist", [], False),
    ("iRECIST further growth of exactly 5 mm does not confirm",
     "src/core/rr-criteria-irecist.c",
     "cpd |= r->sum - ep.sum >= 50;",
     "cpd |= r->sum - ep.sum > 50;",
     "irecist", [], False),
    ("ROI statistics not in SUV",
     "src/core/rr-measurement.c",
     '      *units = "SUVbw";\n      return v->suv_factor;',
     '      *units = "SUVbw";\n      return 1;',
     "measure-phantom", [], False),
    ("12-bit data: junk high bits kept on the fast path",
     "src/dicom/rr-dicom-load.cc",
     "            out[p] = (T) ((gint32) (src[p] & mask) + ii);",
     "            out[p] = (T) ((gint32) src[p] + ii);",
     "phantom-load", [], False),
    ("a layout change that does nothing",
     "src/app/rr-viewport.c",
     "  self->layout = layout;\n  self->active = 0;",
     "  (void) layout;\n  self->active = 0;",
     "window", [], True),
    ("Tab does not move to the next pane (test_measure's compare step)",
     "src/app/rr-viewport.c",
     "      self->active = (self->active + 1) % MAX (self->n_panes, 1u);",
     "      self->active = self->active % MAX (self->n_panes, 1u);",
     "measure", [], True),
    ("the iRECIST form dates an iUPD's confirmation from the iUPD itself (issue 22)",
     "src/app/rr-read-form.c",
     'confirm it"), t->confirmable_from_day);',
     'confirm it"), t->confirmable_from_day - 28);',
     "read-irecist", [], True),
    ("an allowed role gets 404 (the access matrix)",
     "src/server/rr-server-submissions.c",
     "  RrUser any = { .admin = TRUE };\n",
     "  RrUser any = { .admin = TRUE };\n  if (id)\n"
     "    return rr_respond_error (resp, 404, \"not_found\", \"put back\", NULL);\n",
     "server", ["ServerSuite.test_1_workflow", "ServerSuite.test_2_access_matrix"], False),
]


# The e2e tests' stall bound is the machine's load as much as the code's:
# lifted here, where only the bug decides.
ENV = dict(os.environ, READROOM_MAX_STALL_MS="600000")


def run(cmd, cwd, log, timeout=1800):
    """@cmd's exit status, and the unittest or GLib cases that failed."""
    with open(log, "ab") as f:
        start = f.tell()
        f.write(("\n$ %s\n" % " ".join(cmd)).encode())
        f.flush()
        try:
            rc = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=ENV,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            f.write(b"\n(timed out)\n")
            rc = -1
    with open(log, errors="replace") as f:
        f.seek(start)
        out = f.read()
    failed = sorted(set(re.findall(r"^(?:FAIL|ERROR): (\S+)", out, re.M) +
                        re.findall(r"^not ok \d+ (\S+)", out, re.M) +
                        re.findall(r"^Bail out! FATAL-ERROR: ([^,:]+)", out, re.M) +
                        re.findall(r"^(?:Bail out! )?\S*ERROR:\S*?([^/\s]+:\d+:\w+):", out, re.M)))
    return rc, failed


def test_cmd(build, name, args, display):
    cmd = ["meson", "test", "-C", build, "--print-errorlogs", "--no-rebuild", name]
    if args:
        cmd += ["--test-args", " ".join(args)]
    return (XVFB if display else []) + cmd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="bugs whose name contains one of these words")
    ap.add_argument("--keep", action="store_true", help="keep the copy and its logs")
    ap.add_argument("--copy", help="a copy kept by an earlier run (--keep) to build in again")
    ap.add_argument("--no-baseline", action="store_true",
                    help="do not first run each test on the unchanged copy")
    opts = ap.parse_args()
    mutants = [m for m in MUTANTS
               if not opts.only or any(w.lower() in m[0].lower() for w in opts.only)]

    tmp = opts.copy or tempfile.mkdtemp(prefix="rr-mutants-")
    opts.keep = opts.keep or bool(opts.copy)
    src = os.path.join(tmp, "src")
    build = os.path.join(src, "build")
    log = os.path.join(tmp, "log.txt")
    rows = []
    try:
        files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True,
                               capture_output=True).stdout.split(b"\0")
        for f in files:
            if f and os.path.exists(os.path.join(REPO, f.decode())):
                dst = os.path.join(src, f.decode())
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                # Times kept: a copy built before rebuilds only what changed.
                shutil.copy2(os.path.join(REPO, f.decode()), dst, follow_symlinks=False)
        print("building a copy in %s (log: %s)" % (src, log), flush=True)
        if ((not os.path.exists(build) and run(["meson", "setup", build], src, log)[0])
                or run(["meson", "compile", "-C", build], src, log)[0]):
            print("the unchanged copy does not build: see %s" % log)
            opts.keep = True
            return 1

        baseline = {}
        if not opts.no_baseline:
            for name, _, _, _, test, args, display in mutants:
                key = (test, tuple(args))
                if key not in baseline:
                    t0 = time.time()
                    baseline[key] = run(test_cmd(build, test, args, display), src, log)[0] == 0
                    print("unchanged: %s %s: %s (%.0f s)" % (test, " ".join(args),
                                                             "passes" if baseline[key] else
                                                             "FAILS", time.time() - t0),
                          flush=True)

        for name, path, old, new, test, args, display in mutants:
            target = os.path.join(src, path)
            with open(target) as f:
                text = f.read()
            if text.count(old) != 1:
                rows.append((name, test, "not applied: the code changed (%d matches)"
                             % text.count(old)))
                continue
            t0 = time.time()
            with open(target, "w") as f:
                f.write(text.replace(old, new))
            try:
                if run(["meson", "compile", "-C", build], src, log)[0]:
                    rows.append((name, test, "not applied: does not build"))
                    continue
                rc, failed = run(test_cmd(build, test, args, display), src, log)
            finally:
                with open(target, "w") as f:
                    f.write(text)
            if not opts.no_baseline and not baseline[(test, tuple(args))]:
                caught = "no (the test fails unchanged)"
            else:
                caught = ("yes: " + ", ".join(failed) if failed else "yes") if rc != 0 else "NO"
            rows.append((name, test, caught))
            print("%s: %s (%.0f s)" % (name, caught, time.time() - t0), flush=True)
        # The copy as it was, for --keep.
        run(["meson", "compile", "-C", build], src, log)
    finally:
        if rows:
            w0 = max(len(r[0]) for r in rows)
            w1 = max(len(r[1]) for r in rows)
            print("\n%-*s  %-*s  %s" % (w0, "bug put back", w1, "test", "caught"))
            for r in rows:
                print("%-*s  %-*s  %s" % (w0, r[0], w1, r[1], r[2]))
        if opts.keep:
            print("kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if rows and all(r[2].startswith("yes") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
