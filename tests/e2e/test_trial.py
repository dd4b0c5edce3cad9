#!/usr/bin/python3
"""A whole trial end to end against a real readroom-server on 127.0.0.1,
every role through its own interface, on one workstation (one local
database and cache) shared by the QC reviewer, the readers and the
adjudicator:

- the administrator sets the trial up with `readroom-cli admin`;
- the site uploads two subjects' Baseline and Week 8 with
  `readroom-cli upload` (de-identified with the trial's key; the app's
  upload page is test_upload's and test_qc's), and the administrator
  links each upload to its timepoint (the API's, as a site may not);
- the QC reviewer passes the four timepoints in the app's QC workspace,
  each signed;
- subject S-001, the discordant case, is read in the app's read workspace
  with calipers by both readers, Baseline then Week 8: reader1 draws a
  Week 8 caliper about half the Baseline's (PR), reader2 one about 0.9 of
  it (SD). Subject S-002's four reads (SD, SD) go through
  `readroom-cli submit` (signed, through the outbox), to keep the run
  within minutes: its reads in the app would be the same steps again;
- Switch User along the way: reader1's Week 8 draft caliper is not shown
  to reader2 on the same images (nor anything of the series list before
  the next person signs in), and is still reader1's when they come back,
  by the header bar's Sign In button, and measure the target with it;
- Switch User, the adjudicator adjudicates S-001 in the app (Reader 1 and
  Reader 2 only, never a reader's user or display name in the whole
  accessibility tree, at any step);
- the administrator's export (`readroom-cli admin export`) shows the final
  assessment with the rationale, and its agreement figures are those
  computed by hand below.
Screenshots of each step go to the test's log folder."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, all_texts, find, main, wait_for  # noqa: E402
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
# S-001's Week 8 liver target against its Baseline, as each reader draws
# it in the app: half (-50 %, PR) and nine tenths (-10 %, SD). The
# figures checked are those the calipers measured, not these.
WEEK8_RATIO = {"reader1": 0.5, "reader2": 0.9}
# S-002's liver target, Baseline and Week 8, per reader (CLI): 27 mm is
# -10 %, 28 mm -6.7 %: both SD.
CLI_SIZES = {"reader1": (30.0, 27.0), "reader2": (30.0, 28.0)}
# The series description the phantom writes: the series list shows it.
SERIES_DESCRIPTION = "CT chest-abdomen phantom"
MM_PER_PIXEL = re.compile(r" · (\d+\.\d+) mm per pixel")
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


def tenths(mm):
    return int(round(mm * 10))


def target_response(baseline, now):
    """RECIST 1.1 target response (criteria.md) from sums in tenths of a
    mm, the baseline being the nadir (a first follow-up): PD, then PR
    (at least 30 % down), else SD."""
    if 5 * (now - baseline) >= baseline and now - baseline >= 50:
        return "PD"
    if now == 0:
        return "CR"
    if 10 * now <= 7 * baseline:
        return "PR"
    return "SD"


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
        assert len(cls.open_tasks("qc1", "qc")) == 4

    @classmethod
    def submit_cli_reads(cls, subject):
        """Both readers' reads of @subject, Baseline then Week 8, through
        readroom-cli submit."""
        for day_index in range(len(TPS)):
            for u in READERS:
                tasks = [t for t in cls.open_tasks(u, "read") if t["subject"] == subject and
                         t["timepoints"][-1]["day"] == TPS[day_index][1]]
                assert len(tasks) == 1, (u, tasks)
                labels = TPS[:day_index + 1]
                sizes = CLI_SIZES[u][:day_index + 1]
                read = {"criteria": "recist1.1",
                        "timepoints": [{"id": label, "day": day} for label, day in labels],
                        "target_lesions": [{"id": "T1", "organ": "liver", "nodal": False,
                                            "measurements": dict(zip([t[0] for t in labels],
                                                                     sizes))}],
                        "non_target_lesions": [], "new_lesions": []}
                read["responses"] = criteria(read)
                path = os.path.join(cls.tmp, "read-%s-%s.json" % (u, tasks[0]["id"]))
                with open(path, "w") as f:
                    json.dump(read, f)
                cls.cli(u, PASSWORD, "submit", "--server", cls.url, "--user", u, "--task",
                        tasks[0]["id"], "--read", path, "--meaning", "I read this case",
                        "--database", os.path.join(cls.tmp, "cli", u + ".db"))

    # ---- the window ----

    def caption(self, reader, whose):
        """An adjudication pane's caption: @reader's pane, the timepoint it
        shows, then whose calipers it draws (@whose)."""
        return [t for t in self.labels()
                if re.fullmatch(re.escape(reader) + r" · [^·]+ · " + re.escape(whose), t)]

    def blinded(self, step, root=None):
        """No reader's user or display name anywhere in the window (or in
        @root)."""
        text = "\n".join(all_texts(root or self.app))
        for user, name in READERS.items():
            self.assertNotIn(user, text.lower(), step)
            self.assertNotIn(name, text, step)

    def switch_user(self, person_button=False):
        """Switch User from the main menu, or from the header bar's person
        button, which must do the same."""
        p = self.pyatspi
        if person_button:
            self.click(self.named("Signed in as", roles=(p.ROLE_PUSH_BUTTON,
                                                         p.ROLE_TOGGLE_BUTTON)))
            self.click(wait_for(lambda: find(self.app, lambda n:
                                             (n.name or "").startswith("Switch User…")
                                             and n.getRole() == p.ROLE_PUSH_BUTTON), 10))
        else:
            self.click(self.named("Main Menu", roles=(p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON)))
            item = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_MENU_ITEM and
                                         (n.name or "") == "Switch User…"), 10)
            self.assertIsNotNone(item, "no Switch User in the main menu")
            self.click(item)
        dialog = self.frame("Sign In")
        self.assertIsNotNone(dialog, "Switch User did not ask who is next")
        # Nobody's name is offered to the next person.
        editable = (p.ROLE_ENTRY, p.ROLE_TEXT)
        entry = wait_for(lambda: find(dialog, lambda n: (n.name or "") == "User Name"), 10)
        self.assertIsNotNone(entry, "no User Name in the sign-in dialog")
        if entry.getRole() not in editable:
            entry = find(entry, lambda n: n.getRole() in editable)
        self.assertIsNotNone(entry, "no User Name entry in the sign-in dialog")
        self.assertEqual(entry.queryText().getText(0, -1), "")

    def switched_to(self, user):
        """Signs @user in through the dialog Switch User opened. The person
        before is signed out only now (Cancel would have kept them), and
        nothing of theirs stays: no caliper, no series (their
        descriptions) in the list."""
        p = self.pyatspi
        self.sign_in(user, PASSWORD, open_dialog=False)
        self.assertIsNotNone(wait_for(lambda: find(self.app, lambda n: (
            (n.name or "").startswith("Signed in as ") and
            ((n.name or "").endswith(" " + user) or (n.name or "").endswith("(%s)" % user)) and
            n.getRole() in (p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON))), 30),
            "the person button does not name " + user)
        self.assertEqual(self.caliper_count(), 0, "a caliper stayed in view")
        self.assertEqual(self.row_names("Series"), [], "the series list stayed")
        self.assertFalse([t for t in all_texts(self.app) if SERIES_DESCRIPTION in t],
                         "a series description stayed")

    def to_worklist(self):
        """The worklist page shown: a task's page hides it, though its
        rows stay in the accessibility tree. The window's subtitle says
        which page is shown."""
        self.click(self.named("Worklist"))
        self.assertTrue(wait_for(lambda: "Worklist" in self.labels(), 15), self.labels())

    def open_row(self, prefix):
        """Opens the open task whose worklist row starts with @prefix,
        made available offline first."""
        self.to_worklist()
        mine = lambda r: r.startswith(prefix) and " · open" in r  # noqa: E731
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist") if mine(r)], 30),
                        (prefix, self.row_names("Worklist")))
        if not [r for r in self.row_names("Worklist") if mine(r) and "available offline" in r]:
            self.click(self.named("Download All"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if mine(r) and "available offline" in r], 90),
                        self.row_names("Worklist"))
        self.click_row([r for r in self.list_items("Worklist") if mine(r.name or "")][0])

    def viewer_says(self, viewer, *words, timeout=30):
        ok = wait_for(lambda: all(w in (viewer.description or "") for w in words), timeout)
        if not ok:
            self.shot("debug-viewer")
        self.assertTrue(ok, (words, viewer.description))

    def open_read(self, subject, follow_up):
        """Opens @subject's Baseline read, or its Week 8 one (beside its
        Baseline); the viewer once the task's series is shown."""
        self.open_row("Read · subject %s, %s ·" % (subject, "Baseline, Week 8" if follow_up
                                                   else "Baseline"))
        viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                       and "slice" in (n.description or "")), 60)
        self.assertIsNotNone(viewer, "the task's series did not open")
        title = "Assessment · " + ("Week 8, day 56" if follow_up else "Baseline, day 0")
        self.assertTrue(wait_for(lambda: [t for t in self.labels() if t.startswith(title) or
                                          t.startswith("Sequential reading: ")], 30),
                        self.labels())
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Series")
                                          if SERIES_DESCRIPTION in r], 30),
                        self.row_names("Series"))
        return viewer

    def bidirectional(self, viewer):
        self.click(self.named("Bidirectional"))
        self.viewer_says(viewer, "tool: Bidirectional")

    def save_and_sign(self, expect):
        """Signs the read open once it is saved; its receipt says @expect."""
        self.assertTrue(wait_for(lambda: "All changes saved on this computer" in self.labels(),
                                 15), self.labels())
        self.sign_read(PASSWORD, expect)

    def read_baseline(self, user):
        """@user's Baseline read of S-001: one caliper, the liver target.
        Its long axis, in mm."""
        p = self.pyatspi
        viewer = self.open_read("S-001", False)
        self.assertEqual(self.caliper_count(), 0)
        x, y, w, h = viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx, cy = x + w // 2, y + h // 2
        self.bidirectional(viewer)
        self.drag(cx - 40, cy, cx + 40, cy)
        self.assertTrue(wait_for(lambda: self.caliper_count() == 1, 15), viewer.description)
        self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10),
                        self.row_names("Lesions"))
        self.choose_organ("T1", "Liver")
        (long_mm, _), = self.caliper_values()
        self.shot("%s-baseline" % user)
        self.save_and_sign("The server's baseline sum: %.1f mm" % long_mm)
        return long_mm

    def draw_week8(self, user, viewer, baseline_mm):
        """A caliper on the Week 8 (left) pane, WEEK8_RATIO[@user] of
        @baseline_mm long at that pane's scale."""
        p = self.pyatspi
        self.bidirectional(viewer)
        self.viewer_says(viewer, "pane 1 of 2")
        mmpp = float(MM_PER_PIXEL.search(viewer.description)[1])
        x, y, w, h = viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        half = max(6, int(baseline_mm * WEEK8_RATIO[user] / mmpp / 2))
        self.drag(x + w // 4 - half, y + h // 2, x + w // 4 + half, y + h // 2)
        self.assertTrue(wait_for(lambda: self.caliper_count() == 1, 15), viewer.description)

    def measure_week8(self, viewer, baseline_mm):
        """T1 measured at Week 8 with the selected caliper, signed. The
        response computed by hand from the calipers, which the receipt
        must give."""
        self.viewer_says(viewer, "selected: Bidirectional")
        self.click(self.named("Measure T1 with the selected caliper"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1") and "Week 8: " in r and
                                          " mm" in r.split("Week 8: ")[1]], 10),
                        self.row_names("Lesions"))
        (long_mm, _), = self.caliper_values()
        response = target_response(tenths(baseline_mm), tenths(long_mm))
        self.save_and_sign("The server's best overall response: %s" % response)
        return response

    def pass_qc(self, subject, label):
        p = self.pyatspi
        self.open_row("Quality control · subject %s, %s ·" % (subject, label))
        viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "QC images" and
                                       "slice" in (n.description or "")), 60)
        self.assertIsNotNone(viewer, "the QC workspace did not open")
        self.click(self.named("Pass", roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON)))
        sign = self.named("Sign decision")
        self.assertTrue(wait_for(lambda: sign.getState().contains(p.STATE_SENSITIVE), 30),
                        self.labels())
        self.click(sign)
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        self.type_into("Password", PASSWORD, root=dialog)
        self.click(self.named("Sign and submit", root=dialog))
        self.assertTrue(wait_for(self.signing_closed, 30), self.labels())
        self.assertTrue(wait_for(lambda: [t for t in self.labels() if t.startswith(
            "Submitted and locked: pass. Receipt")], 30), self.labels())

    # ---- the test ----

    def test_trial(self):
        p = self.pyatspi
        proc, self.app = self.launch_app([], self.env)

        # QC passes the four timepoints in the QC workspace.
        self.sign_in("qc1", PASSWORD)
        for subject in SUBJECTS:
            for label, _ in TPS:
                self.pass_qc(subject, label)
        self.shot("1-qc-passed")
        self.assertEqual(self.open_tasks("qc1", "qc"), [])
        for u in READERS:
            self.assertEqual(len(self.open_tasks(u, "read")), 4, u)
        self.submit_cli_reads("S-002")

        # reader1 reads S-001's Baseline, then starts its Week 8: one
        # caliper, a draft on this computer.
        self.switch_user()
        self.switched_to("reader1")
        baseline = {"reader1": self.read_baseline("reader1")}
        viewer = self.open_read("S-001", True)
        self.draw_week8("reader1", viewer, baseline["reader1"])
        self.shot("2-reader1-draft")

        # Switch User: reader2, on the same images, sees nothing of it.
        self.switch_user()
        self.switched_to("reader2")
        # Week 8 first: read-only (sequential reading), and the draft is
        # not there once its series is shown.
        viewer = self.open_read("S-001", True)
        self.assertTrue(wait_for(lambda: [t for t in self.labels() if t.startswith(
            "Sequential reading: submit your read of Baseline first")], 15), self.labels())
        self.assertEqual(self.caliper_count(), 0, "reader1's draft shown to reader2")
        self.assertFalse([r for r in self.row_names("Worklist") if "measurement" in r],
                         self.row_names("Worklist"))
        self.shot("3-reader2")
        baseline["reader2"] = self.read_baseline("reader2")
        viewer = self.open_read("S-001", True)
        self.assertEqual(self.caliper_count(), 0)
        self.draw_week8("reader2", viewer, baseline["reader2"])
        responses = {"reader2": self.measure_week8(viewer, baseline["reader2"])}
        self.shot("4-reader2-week8")

        # Back to reader1 by the person button: reader2's task and
        # worklist go as with Switch User; reader1's draft is still theirs,
        # and measures the target.
        self.switch_user(person_button=True)
        self.switched_to("reader1")
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if r.startswith("Read · subject S-001, Baseline, "
                                                          "Week 8") and
                                          "your draft: 1 measurement" in r], 30),
                        self.row_names("Worklist"))
        viewer = self.open_read("S-001", True)
        self.assertTrue(wait_for(lambda: self.caliper_count() == 1, 15), viewer.description)
        self.click_row(self.list_items("Measurement list")[0])
        responses["reader1"] = self.measure_week8(viewer, baseline["reader1"])
        self.shot("5-reader1-week8")
        # The scenario: the two readers disagree, PR against SD.
        self.assertEqual(responses, {"reader1": "PR", "reader2": "SD"}, baseline)

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
        # The reader signed in stays until the adjudicator is (Cancel keeps
        # them): the dialog itself names nobody.
        self.blinded("the sign-in dialog", self.frame("Sign In"))
        self.switched_to("adj1")
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
        self.shot("6-adjudication")

        # Either reader's calipers on both panes: each caption says whose.
        self.click(self.named("Reader 2's calipers on both panes"))
        self.assertTrue(wait_for(lambda: self.caption("Reader 1", "Reader 2's calipers"), 10),
                        self.labels())
        self.click(self.named("Reader 1's calipers on both panes"))
        self.assertTrue(wait_for(lambda: self.caption("Reader 2", "Reader 1's calipers"), 10),
                        self.labels())
        self.click(self.named("Each pane its own reader's calipers"))
        self.assertTrue(wait_for(lambda: not [t for t in self.labels()
                                              if "'s calipers" in t], 10), self.labels())
        # Ctrl+B: both readers' calipers on both panes.
        self.pyatspi.Registry.generateKeyboardEvent(37, None, p.KEY_PRESS)  # Control_L
        self.pyatspi.Registry.generateKeyboardEvent(ord("b"), None, p.KEY_SYM)
        self.pyatspi.Registry.generateKeyboardEvent(37, None, p.KEY_RELEASE)
        self.assertTrue(wait_for(lambda: self.caption("Reader 1", "both readers' calipers"),
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
        self.shot("7-adjudicated")

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
