#!/usr/bin/python3
"""A whole trial end to end against a real readroom-server on 127.0.0.1,
every role through its own interface, and one workstation shared by the
readers and the adjudicator:

- the administrator sets the trial up with `readroom-cli admin`;
- the site uploads two subjects' Baseline and Week 8 with
  `readroom-cli upload` (de-identified with the trial's key), and the
  administrator links each upload to its timepoint (the API's, as a site
  may not);
- QC passes every timepoint through the server's API (the workstation has
  no QC workspace: a QC tool's submission, signed by the QC user);
- the two readers submit their reads with `readroom-cli submit` (signed,
  through the outbox; the app's read path is test_read's, and four reads
  through the window would take minutes more). Subject S-001's Week 8 reads
  disagree (PR against SD), S-002's agree (SD, SD);
- in ONE app process: reader1 signs in and leaves a draft caliper on a
  Week 8 task, Switch User, reader2 signs in and sees none of it on the
  same images, Switch User back to reader1 finds the draft still theirs;
  once Week 8 is read, Switch User, the adjudicator adjudicates S-001 in
  the app (Reader 1 and Reader 2 only, never a reader's user or display
  name in the whole accessibility tree, at any step);
- the administrator's export (`readroom-cli admin export`) shows the final
  assessment with the rationale, and its agreement figures are those
  computed by hand below.
Screenshots of each step go to the test's log folder."""
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, all_texts, find, find_all, main, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402
from test_server import ADMIN_PASSWORD, Server, criteria  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_trial")
PASSWORD = "trial-password"
TPS = [("Baseline", 0), ("Week 8", 56)]
SUBJECTS = ("S-001", "S-002")
# The readers' names, which the adjudicator must never see.
READERS = {"reader1": "Alice Ames", "reader2": "Bob Burns"}
# Liver target, Baseline and Week 8, per subject and reader. S-001: 16 mm
# is -46.7 % (PR), 27 mm is -10 % (SD). S-002: 27 (-10 %) and 28 (-6.7 %),
# both SD.
SIZES = {("S-001", "reader1"): (30.0, 16.0), ("S-001", "reader2"): (30.0, 27.0),
         ("S-002", "reader1"): (30.0, 27.0), ("S-002", "reader2"): (30.0, 28.0)}
RATIONALE = "Reader 2's Week 8 caliper spans the whole lesion"

# The agreement figures by hand. Four subject-timepoints, each read twice.
# Best overall response per read: a Baseline read alone is NE (nothing to
# compare yet), for both readers. Week 8: S-001 PR / SD, S-002 SD / SD.
#   cases read twice = 4, adjudicated = 1 (S-001 Week 8), rate = 1/4
#   agreement po = 3/4 (both Baselines and S-002 Week 8)
#   reader1: NE 2, PR 1, SD 1; reader2: NE 2, SD 2
#   pe = (2/4)(2/4) + (1/4)(0/4) + (1/4)(2/4) = 0.25 + 0 + 0.125 = 0.375
#   kappa = (0.75 - 0.375) / (1 - 0.375) = 0.6
AGREEMENT = {"cases_read_twice": 4, "adjudicated": 1, "adjudication_rate": 0.25,
             "bor_agreement": 0.75, "kappa_bor": 0.6}


class Trial(WorkspaceDriver, AppCase):
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-trial-")
        os.makedirs(OUT, exist_ok=True)
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.url = "http://127.0.0.1:%d" % cls.server.port
        cls.seed()
        cls.start_bus()
        time.sleep(1.0)
        # One computer: one local database and cache for every user.
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                              XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"),
                              READROOM_NO_KEYRING="1")

    @classmethod
    def tearDownClass(cls):
        pass  # the class cleanups stop the app, the bus and the server

    # ---- the trial, set up through the CLI and the API ----

    @classmethod
    def cli(cls, user, password, *args):
        env = dict(os.environ, READROOM_PASSWORD=password, READROOM_NEW_PASSWORD=PASSWORD,
                   READROOM_NO_KEYRING="1",
                   XDG_DATA_HOME=os.path.join(cls.tmp, "cli", user, "data"),
                   XDG_CACHE_HOME=os.path.join(cls.tmp, "cli", user, "cache"))
        r = subprocess.run([CLI] + list(args), env=env, capture_output=True, text=True)
        assert r.returncode == 0, (args, r.returncode, r.stderr[-2000:])
        return r.stdout

    @classmethod
    def admin(cls, *args):
        return cls.cli("admin", ADMIN_PASSWORD, "admin", "--server", cls.url, *args)

    @classmethod
    def open_tasks(cls, user, kind):
        token = cls.server.login(user, PASSWORD)
        status, tasks = cls.server.request("GET", "/readroom/v1/tasks?status=open", token=token)
        assert status == 200, tasks
        return [t for t in tasks if t["kind"] == kind]

    @classmethod
    def seed(cls):
        for u in ("site1", "qc1", "adj1"):
            cls.admin("user", "add", u)
        for u, name in READERS.items():
            cls.admin("user", "add", u, "--display-name", name)
        cls.admin("trial", "create", "TT", "--name", "whole trial", "--readers", "2",
                  "--adjudication", "bor")
        cls.admin("member", "set", "TT", "site1", "--roles", "site", "--site", "S01")
        cls.admin("member", "set", "TT", "qc1", "--roles", "qc")
        for u in READERS:
            cls.admin("member", "set", "TT", u, "--roles", "reader")
        cls.admin("member", "set", "TT", "adj1", "--roles", "adjudicator")
        # The site uploads each subject's two timepoints.
        for n, subject in enumerate(SUBJECTS):
            out = os.path.join(cls.tmp, "phantom", subject)
            subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "20", "--size", "128",
                            "--pixel-spacing", "2.0", "--timepoints", "2", "--change", "-40",
                            "--seed", str(n + 1), "--patient-id", "SITE-" + subject],
                           check=True, capture_output=True)
            folders = sorted(os.path.join(out, d) for d in os.listdir(out))
            admin = cls.server.login("admin", ADMIN_PASSWORD)
            for (label, day), folder in zip(TPS, folders):
                said = cls.cli("site1", PASSWORD, "upload", folder, "--server", cls.url,
                               "--user", "site1", "--trial", "TT", "--subject", subject,
                               "--timepoint", label, "--day", str(day))
                # A site sends; the administrator links what it sent.
                studies = [l.split(": ", 1)[1] for l in said.splitlines()
                           if l.startswith("study: ")]
                assert len(studies) == 1 and "not linked" in said, said
                status, doc = cls.server.request(
                    "POST", "/readroom/v1/trials/TT/subjects/%s/timepoints" % subject,
                    {"label": label, "day": day, "studies": studies}, token=admin)
                assert status == 201, (status, doc)
        # QC passes all four timepoints.
        qc = cls.open_tasks("qc1", "qc")
        assert len(qc) == 4, qc
        token = cls.server.login("qc1", PASSWORD)
        for t in qc:
            status, doc = cls.server.request(
                "POST", "/readroom/v1/tasks/%s/submission" % t["id"],
                {"decision": "pass", "findings": [],
                 "signature": {"password": PASSWORD, "meaning": "QC completed"}},
                token=token, headers={"Idempotency-Key": str(uuid.uuid4())})
            assert status == 201, (status, doc)
        cls.submit_reads(0)

    @classmethod
    def submit_reads(cls, day_index):
        """Every reader's reads of the timepoint, through readroom-cli submit."""
        for u in READERS:
            tasks = [t for t in cls.open_tasks(u, "read")
                     if t["timepoints"][-1]["day"] == TPS[day_index][1]]
            assert len(tasks) == len(SUBJECTS), (u, tasks)
            for task in tasks:
                labels = TPS[:day_index + 1]
                sizes = SIZES[(task["subject"], u)][:day_index + 1]
                read = {"criteria": "recist1.1",
                        "timepoints": [{"id": label, "day": day} for label, day in labels],
                        "target_lesions": [{"id": "T1", "organ": "liver", "nodal": False,
                                            "measurements": dict(zip([t[0] for t in labels],
                                                                     sizes))}],
                        "non_target_lesions": [], "new_lesions": []}
                read["responses"] = criteria(read)
                path = os.path.join(cls.tmp, "read-%s-%s.json" % (u, task["id"]))
                with open(path, "w") as f:
                    json.dump(read, f)
                cls.cli(u, PASSWORD, "submit", "--server", cls.url, "--user", u, "--task",
                        task["id"], "--read", path, "--meaning", "I read this case",
                        "--database", os.path.join(cls.tmp, "cli", u + ".db"))

    # ---- the window ----

    def rows(self, name):
        p = self.pyatspi
        lst = find(self.app, lambda n: (n.name or "") == name and n.getRole() == p.ROLE_LIST)
        return find_all(lst, lambda n: n.getRole() == p.ROLE_LIST_ITEM, []) if lst else []

    def row_names(self, name):
        out = []
        for r in self.rows(name):
            try:
                out.append(r.name or "")
            except Exception:
                pass
        return out

    def caliper_count(self):
        return len(self.rows("Measurement list"))

    def blinded(self, step):
        """No reader's user or display name anywhere in the window."""
        text = "\n".join(all_texts(self.app))
        for user, name in READERS.items():
            self.assertNotIn(user, text.lower(), step)
            self.assertNotIn(name, text, step)

    def sign_in(self, user):
        dialog = self.frame("Sign In")
        self.assertIsNotNone(dialog, "no sign-in dialog")
        self.type_into("Server", self.url, root=dialog)
        self.type_into("User Name", user, root=dialog)
        self.type_into("Password", PASSWORD, root=dialog)
        self.click(self.named("Sign In", root=dialog))

    def switch_user(self, person_button=False):
        """Switch User from the main menu, or by the header bar's Sign In
        button while someone is signed in, which must do the same."""
        p = self.pyatspi
        if person_button:
            self.click(self.named("Sign In"))
        else:
            self.click(self.named("Main Menu", roles=(p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON)))
            item = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_MENU_ITEM and
                                         (n.name or "") == "Switch User…"), 10)
            self.assertIsNotNone(item, "no Switch User in the main menu")
            self.click(item)
        dialog = self.frame("Sign In")
        self.assertIsNotNone(dialog, "Switch User did not ask who is next")
        # Nobody's name is offered to the next person.
        entry = find(dialog, lambda n: (n.name or "") == "User Name" and
                     n.getRole() in (p.ROLE_ENTRY, p.ROLE_TEXT))
        if entry is not None:
            self.assertEqual(entry.queryText().getText(0, -1), "")

    def open_row(self, prefix, kind_ok=None):
        p = self.pyatspi
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if r.startswith(prefix)], 30),
                        self.row_names("Worklist"))
        self.click(self.named("Download All"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if r.startswith(prefix) and "available offline" in r],
                                 90), self.row_names("Worklist"))
        row = [r for r in self.rows("Worklist") if (r.name or "").startswith(prefix)][0]
        x, y, w, h = row.queryComponent().getExtents(p.DESKTOP_COORDS)
        self.mouse(x + 60, y + h // 2, "abs")
        self.mouse(x + 60, y + h // 2, "b1c")

    def open_read(self, subject):
        self.open_row("Read · subject %s, Baseline, Week 8" % subject)
        viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                       and "slice" in (n.description or "")), 60)
        self.assertIsNotNone(viewer, "the task's series did not open")
        return viewer

    def drag(self, x0, y0, x1, y1):
        self.mouse(x0, y0, "abs")
        self.mouse(x0, y0, "b1p")
        for i in range(1, 11):
            self.mouse(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10, "abs")
        self.mouse(x1, y1, "b1r")

    # ---- the test ----

    def test_trial(self):
        p = self.pyatspi
        proc, self.app = self.launch_app([], self.env)

        # reader1 starts Week 8 of S-001: one caliper, a draft on this computer.
        self.click(self.named("Sign In"))
        self.sign_in("reader1")
        viewer = self.open_read("S-001")
        x, y, w, h = viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        self.click(self.named("Length"))
        self.assertTrue(wait_for(lambda: "tool: Length" in (viewer.description or ""), 10),
                        viewer.description)
        self.drag(x + w // 2 - 40, y + h // 2, x + w // 2 + 40, y + h // 2)
        # A caliper is saved as it is drawn (the worklist counts it below).
        self.assertTrue(wait_for(lambda: self.caliper_count() == 1, 15), viewer.description)
        self.shot("1-reader1-draft")

        # Switch User: reader2, on the same images, sees nothing of it.
        self.switch_user()
        self.assertEqual(self.caliper_count(), 0, "reader1's caliper stayed in view")
        self.sign_in("reader2")
        self.open_read("S-001")
        time.sleep(1.0)
        self.assertEqual(self.caliper_count(), 0, "reader1's draft shown to reader2")
        # Opening it started reader2's own draft, with no measurement in it.
        self.assertFalse([r for r in self.row_names("Worklist") if "measurement" in r],
                         self.row_names("Worklist"))
        self.shot("2-reader2")

        # Back to reader1 by the Sign In button: reader2's task and worklist
        # go as with Switch User; reader1's draft is still theirs.
        self.switch_user(person_button=True)
        self.assertEqual(self.caliper_count(), 0, "reader2's task stayed open")
        self.assertEqual(self.row_names("Worklist"), [], "reader2's worklist stayed")
        self.sign_in("reader1")
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if r.startswith("Read · subject S-001, Baseline, "
                                                          "Week 8") and
                                          "your draft: 1 measurement" in r], 30),
                        self.row_names("Worklist"))
        self.shot("3-reader1-again")

        # Week 8 is read (CLI): S-001's best overall responses disagree.
        self.submit_reads(1)
        adj = self.open_tasks("adj1", "adjudication")
        self.assertEqual([t["subject"] for t in adj], ["S-001"], adj)
        token = self.server.login("adj1", PASSWORD)
        status, detail = self.server.request("GET", "/readroom/v1/tasks/" + adj[0]["id"],
                                             token=token)
        self.assertEqual(status, 200, detail)
        bor = {r["reader"]: r["responses"]["best_overall_response"] for r in detail["reads"]}
        self.assertEqual(sorted(bor.values()), ["PR", "SD"], bor)
        # The SD read is the one chosen.
        chosen = [k for k, v in bor.items() if v == "SD"][0]

        # Switch User: the adjudicator, on the same computer.
        self.switch_user()
        self.blinded("the sign-in dialog")
        self.sign_in("adj1")
        self.open_row("Adjudication · subject S-001")
        self.blinded("the worklist")
        v1 = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Reader 1 images"
                                   and "slice" in (n.description or "")), 60)
        self.assertIsNotNone(v1, "the adjudication workspace did not open")
        tp_rows = wait_for(lambda: [r for r in self.row_names("Timepoint responses")
                                    if r.startswith("Best overall response")], 30)
        self.assertEqual(tp_rows, ["Best overall response: Reader 1 %s, Reader 2 %s "
                                   "(discrepancy)" % (bor["Reader 1"], bor["Reader 2"])])
        self.assertFalse([r for r in self.row_names("Worklist") if "measurement" in r])
        self.assertEqual(self.caliper_count(), 0)
        self.blinded("the workspace")
        self.shot("4-adjudication")

        # Either reader's calipers on both panes: each caption says whose.
        self.click(self.named("Reader 2's calipers on both panes"))
        self.assertTrue(wait_for(lambda: "Reader 1 · Reader 2's calipers" in self.labels(), 10),
                        self.labels())
        self.click(self.named("Reader 1's calipers on both panes"))
        self.assertTrue(wait_for(lambda: "Reader 2 · Reader 1's calipers" in self.labels(), 10),
                        self.labels())
        self.click(self.named("Each pane its own reader's calipers"))
        self.assertTrue(wait_for(lambda: not [t for t in self.labels()
                                              if "'s calipers" in t], 10), self.labels())
        # Ctrl+B: both readers' calipers on both panes.
        self.pyatspi.Registry.generateKeyboardEvent(37, None, p.KEY_PRESS)  # Control_L
        self.pyatspi.Registry.generateKeyboardEvent(ord("b"), None, p.KEY_SYM)
        self.pyatspi.Registry.generateKeyboardEvent(37, None, p.KEY_RELEASE)
        self.assertTrue(wait_for(lambda: "Reader 1 · both readers' calipers" in self.labels(),
                                 10), self.labels())
        self.click(self.named("Each pane its own reader's calipers"))
        self.assertTrue(wait_for(lambda: not [t for t in self.labels()
                                              if "'s calipers" in t or "' calipers" in t], 10),
                        self.labels())

        # Choose, give the rationale, sign.
        sign = self.named("Sign adjudication")
        self.click(self.named("Choose " + chosen, roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON,
                                                          p.ROLE_TOGGLE_BUTTON)))
        self.click(self.named("Measurement variability", roles=(p.ROLE_CHECK_BOX,)))
        box = self.named("Rationale (required)", roles=(p.ROLE_TEXT, p.ROLE_ENTRY), timeout=5)
        self.assertIsNotNone(box)
        box.queryEditableText().setTextContents(RATIONALE)
        self.assertTrue(wait_for(lambda: sign.getState().contains(p.STATE_SENSITIVE), 10))
        self.click(sign)
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        self.assertTrue(wait_for(lambda: [t for t in self.labels(dialog)
                                          if "(user adj1)" in t], 15), self.labels(dialog))
        self.blinded("the signing dialog")
        self.type_into("Password", PASSWORD, root=dialog)
        self.click(self.named("Sign and submit", root=dialog))
        # Signed, the dialog closes itself; the workspace shows the receipt.
        self.assertTrue(wait_for(lambda: find(self.app, lambda n: (n.name or "") ==
                                              "Sign and Submit") is None, 30), self.labels())
        receipt = wait_for(lambda: [t for t in self.labels()
                                    if t.startswith("Submitted and locked. Receipt")], 30)
        self.assertTrue(receipt, self.labels())
        self.assertIn("%s's read is final (best overall response SD)" % chosen, receipt[0])
        self.blinded("the locked task")
        self.shot("5-adjudicated")

        # The export: the final assessment, the rationale, the figures.
        export = json.loads(self.admin("export", "TT", "--format", "json"))
        rows = {(r["subject"], r["timepoint"]): r for r in export["rows"]}
        self.assertEqual(sorted(rows), [(s, t) for s in SUBJECTS for t, _ in TPS])
        row = rows[("S-001", "Week 8")]
        self.assertEqual(row["final"]["source"], chosen, row)
        self.assertEqual(row["final"]["responses"]["best_overall_response"], "SD")
        self.assertEqual(row["adjudication"]["chosen"], chosen)
        self.assertEqual(row["adjudication"]["rationale"],
                         "Reasons: Measurement variability. " + RATIONALE)
        self.assertEqual(rows[("S-002", "Week 8")]["final"]["responses"]
                         ["best_overall_response"], "SD")
        for name, value in AGREEMENT.items():
            self.assertAlmostEqual(export["agreement"][name], value, places=4, msg=name)


if __name__ == "__main__":
    main()
