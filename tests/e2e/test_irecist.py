#!/usr/bin/python3
"""An iRECIST trial's read, end to end, in the real window against a real
readroom-server on 127.0.0.1, driven through the accessibility tree with
real pointer events. The trial's criteria are iRECIST. The reader reads the
baseline (one liver target), signs and submits it; then opens the Week 8
task (day 56), which starts from that read, measures the target again at
the same size and records a new lesion measured by a caliper. RECIST 1.1 calls
that PD, which iRECIST makes iUPD, unconfirmed until an assessment at least
4 weeks later (criteria.md, "iRECIST" and "Precisely"): the form must say
"iUPD: unconfirmed" and that an assessment from day 84 (56 + 28) on can
confirm it. The new lesion's caliper is its size: at least 10 mm, it is a
new-lesion target, so the form's new-lesion sum is that caliper's long
axis (criteria.md: up to 5 measurable new lesions have their own sum). The
read is signed and submitted, and the server's stored read has the same
iRECIST state, day and new-lesion sum. A screenshot of each step goes to the
test's log folder."""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, find, find_all, label_text, main, stop, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402
from test_server import ADMIN_PASSWORD  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_irecist")
MM_PER_PIXEL = re.compile(r" · (\d+\.\d+) mm per pixel")
PASSWORD = "reader-password"
FOLLOW_UP_DAY = 56
# criteria.md: confirmation at the first assessment at least 4 weeks after
# the iUPD.
CONFIRMABLE_FROM = FOLLOW_UP_DAY + 28


class IRecist(AppCase, WorkspaceDriver):
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-irecist-")
        os.makedirs(OUT, exist_ok=True)
        cls.proc = None
        cls.start_reading_trial(CLI, "TI", "immunotherapy", PASSWORD,
                                options=("--criteria", "irecist"))
        admin = cls.admin
        # Two timepoints of the same phantom, its lesions unchanged.
        study = os.path.join(cls.tmp, "study")
        subprocess.run([PHANTOM, study, "--kind", "ct", "--slices", "30", "--size", "256",
                        "--pixel-spacing", "1.4", "--timepoints", "2", "--interval-days",
                        str(FOLLOW_UP_DAY)], check=True, capture_output=True)
        folders = sorted(os.path.join(study, d) for d in os.listdir(study))
        for (label, day), folder in zip([("Baseline", 0), ("Week 8", FOLLOW_UP_DAY)], folders):
            admin("upload", folder, "--trial", "TI", "--subject", "S-001", "--timepoint", label,
                  "--day", str(day))
        cls.start_bus()
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                              XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"),
                              READROOM_NO_KEYRING="1")

    # ---- helpers ----

    def launch(self):
        cls = type(self)
        stop(cls.proc)
        cls.proc, self.app = cls.launch_app([], self.env)

    def sign_in_reader1(self):
        self.sign_in("reader1", PASSWORD)
        self.assertTrue(wait_for(lambda: len([r for r in self.row_names("Worklist")
                                              if r.startswith("Read · subject S-001")]) == 2, 30),
                        self.row_names("Worklist"))

    def open_task(self, follow_up):
        """Opens the baseline's task, or the follow-up's (its timepoints
        are "Baseline, Week 8")."""
        def row():
            for r in self.list_items("Worklist"):
                if ("Week 8" in (r.name or "")) == follow_up:
                    return r
            return None
        self.click_row(wait_for(row, 15))
        self.viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                            and "slice 16 / 30" in (n.description or "")), 30)
        self.assertIsNotNone(self.viewer, "the task's series did not open")
        title = "Assessment · %s" % ("Week 8, day %d" % FOLLOW_UP_DAY if follow_up
                                     else "Baseline, day 0")
        self.assertTrue(wait_for(lambda: [t for t in self.labels() if t.startswith(title)], 15),
                        "no lesion form for %s: %r" % (title, self.labels()))

    def show_series_of(self, timepoint, headings=("Baseline", "Week 8", "Other study")):
        """Selects the series listed under @timepoint's heading (a task's
        series list is headed by timepoint, never by anything that
        identifies)."""
        p = self.pyatspi
        lst = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Series"
                                    and n.getRole() == p.ROLE_LIST), 15)
        self.assertIsNotNone(lst)
        # On screen each heading is above the rows it heads.
        def top(n):
            return n.queryComponent().getExtents(p.DESKTOP_COORDS)[1]
        marks = [(top(n), label_text(n)) for n in find_all(lst, lambda n: n.getRole() ==
                                                           p.ROLE_LABEL, [])
                 if label_text(n) in headings]
        seen = sorted(marks)
        target = None
        for item in sorted(find_all(lst, lambda n: n.getRole() == p.ROLE_LIST_ITEM, []), key=top):
            above = [text for y, text in seen if y <= top(item)]
            if above and above[-1] == timepoint:
                target = item
                break
        self.assertIsNotNone(target, "no series under %s: %r" % (timepoint, seen))
        self.click_row(target)

    def responses(self):
        return [t for t in self.labels() if t.startswith("Baseline sum:")]


    def sign_and_submit(self, shot):
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t == "All changes saved on this computer"], 15))
        self.click(self.named("Sign and submit"))
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        self.type_into("Password", PASSWORD, root=dialog)
        self.click(self.named("Sign and submit", root=dialog))
        self.assertTrue(wait_for(self.signing_closed, 30), self.labels())
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Submitted and locked. Receipt")], 30),
                        self.labels())
        self.shot(shot)

    # ---- the test ----

    def test_new_lesion_is_iupd(self):
        p = self.pyatspi
        self.launch()
        self.sign_in_reader1()
        self.click(self.named("Download All"))
        self.assertTrue(wait_for(lambda: len([r for r in self.row_names("Worklist")
                                              if "available offline" in r]) == 2, 90),
                        self.row_names("Worklist"))

        # Baseline: the large lesion below the mediastinum is target T1.
        self.open_task(follow_up=False)
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx, cy = x + w // 2, y + h // 2
        self.click(self.named("Bidirectional"))
        self.assertTrue(wait_for(lambda: "tool: Bidirectional" in (self.viewer.description or ""),
                                 10), self.viewer.description)
        self.drag(cx - 40, cy + 130, cx + 40, cy + 130)
        self.assertTrue(wait_for(lambda: self.caliper_count() == 1, 15), self.viewer.description)
        self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10),
                        self.row_names("Lesions"))
        self.choose_organ("T1", "Liver")
        baseline = self.caliper_values()
        self.assertEqual(len(baseline), 1, baseline)
        self.shot("1-baseline")
        # A baseline alone has no iRECIST state yet.
        text = wait_for(self.responses, 10)
        self.assertTrue(text, self.labels())
        self.assertNotIn("iUPD", text[0])
        self.sign_and_submit("2-baseline-submitted")

        # Week 8, in a fresh window on the same computer: the read starts
        # from the baseline's.
        self.launch()
        self.sign_in_reader1()
        self.open_task(follow_up=True)
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1, Liver")], 15),
                        self.row_names("Lesions"))
        self.show_series_of("Week 8")
        self.viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"),
                               15)
        # Week 8 opens beside its prior: it is the left pane, drawn at that
        # pane's own scale (read from the viewer's description).
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx, cy = x + w // 4, y + h // 2
        self.click(self.named("Bidirectional"))
        self.assertTrue(wait_for(lambda: "tool: Bidirectional" in (self.viewer.description or "")
                                 and "pane 1 of 2" in self.viewer.description, 10),
                        self.viewer.description)
        mmpp = float(MM_PER_PIXEL.search(self.viewer.description)[1])
        half = max(6, round(baseline[0][0] / mmpp / 2))
        # T1 again, the same size: its targets alone would be stable.
        before = self.caliper_count()
        self.drag(cx - half, cy + 130, cx + half, cy + 130)
        self.assertTrue(wait_for(lambda: self.caliper_count() == before + 1, 15),
                        self.viewer.description)
        self.click(self.named("Measure T1 with the selected caliper"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1, Liver, Week 8: ")
                                          and "mm" in r], 10), self.row_names("Lesions"))
        # A new lesion, measured by a caliper: long enough (at least
        # 10 mm at this pane's scale) to be a new-lesion target.
        values = sorted(self.caliper_values())
        half = max(12, math.ceil(7.5 / mmpp))
        self.drag(cx - w // 16 - half, cy + 73, cx - w // 16 + half, cy + 73)
        self.assertTrue(wait_for(lambda: self.caliper_count() == before + 2, 15),
                        self.viewer.description)
        added = sorted(self.caliper_values())
        for v in values:
            added.remove(v)
        self.assertEqual(len(added), 1, (values, self.caliper_values()))
        new_mm = added[0][0]   # (long, short): a length has no short axis
        self.assertGreaterEqual(new_mm, 10.0)
        self.click(self.named("Add new lesion"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("New lesion NEW1")], 10),
                        self.row_names("Lesions"))
        self.choose_organ("NEW1", "Liver")
        # Its row shows its size, not just that it is marked.
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("New lesion NEW1, Liver, Week 8: %.1f mm"
                                                          % new_mm)], 10),
                        (new_mm, self.row_names("Lesions")))
        expected = ("iUPD: unconfirmed; an assessment from day %d on can confirm it"
                    % CONFIRMABLE_FROM)
        text = wait_for(lambda: [t for t in self.responses() if expected in t], 15)
        self.shot("3-follow-up-iupd")
        self.assertTrue(text, (expected, self.responses()))
        week8 = text[0].split("Week 8 (day %d)" % FOLLOW_UP_DAY, 1)
        self.assertEqual(len(week8), 2, text[0])
        # The target, measured again at the same size, is stable from
        # baseline; the new lesion makes the timepoint iUPD; with nothing
        # better before it, the iBOR is iUPD too (criteria.md, "iBOR").
        self.assertIn("Targets: iSD", week8[1])
        self.assertIn("New lesions: yes", week8[1])
        self.assertIn("Overall: iUPD", week8[1])
        self.assertIn("Best overall response: iUPD", week8[1])
        # One new-lesion target: the sum is its caliper's long axis.
        self.assertIn("New-lesion sum: %.1f mm" % new_mm, week8[1])
        self.sign_and_submit("4-follow-up-submitted")

        # The server's stored read: iRECIST, iUPD at Week 8, confirmable
        # from day 84.
        admin = self.server.login("admin", ADMIN_PASSWORD)
        status, export = self.server.request("GET", "/readroom/v1/trials/TI/export?format=json",
                                             token=admin)
        self.assertEqual(status, 200, export)
        reads = [r for row in export["rows"] if row["subject"] == "S-001"
                 for r in row["reads"] if r.get("user") == "reader1"]
        responses = []
        for r in reads:
            resp = r["responses"]
            responses.append(json.loads(resp) if isinstance(resp, str) else resp)
        # Each read's responses list its follow-ups (the baseline has its sum).
        follow = [r for r in responses if len(r["timepoints"]) == 1]
        self.assertEqual(len(follow), 1, responses)
        self.assertEqual(follow[0]["criteria"], "irecist")
        tp = follow[0]["timepoints"][0]
        self.assertEqual(tp["id"], "Week 8", tp)
        self.assertEqual(tp["new_lesions"], "yes", tp)
        self.assertEqual(tp["overall"], "iUPD", tp)
        self.assertEqual(tp["irecist_state"], "iUPD", tp)
        self.assertEqual(tp["iupd_timepoint"], "Week 8", tp)
        self.assertEqual(follow[0]["best_overall_response"], "iUPD", follow[0])
        self.assertEqual(tp["confirmation_from_day"], CONFIRMABLE_FROM, tp)
        self.assertEqual(tp["new_lesion_target_sum_mm"], new_mm, tp)


if __name__ == "__main__":
    main()
