#!/usr/bin/python3
"""A third timepoint read first opened, end to end (walk finding 1), in the
real window against a real readroom-server on 127.0.0.1, driven through
the accessibility tree with real pointer events. One reader, one subject,
three timepoints (Baseline day 0, Week 8 day 56, Week 16 day 112):

- at Baseline one caliper becomes target T1 (liver), the read is signed;
- at Week 8 T1 is measured again at about half its size, signed;
- Week 16, opened for the first time (never opened before, no draft): T1's
  Baseline value is the Baseline's caliper, not "caliper missing"; the
  form's responses give the Baseline sum, Week 8's nadir and response
  (PR) as computed here by hand from the calipers (RECIST 1.1,
  criteria.md), with no reopening;
- T1 measured at Week 16 larger than at Week 8 by more than 20 % and 5 mm:
  PD from the nadir, best overall response still PR;
- a new lesion measured: the signing dialog gives the form's responses
  (nadir, % from nadir), organs by name, the location, the new lesion's
  size (walk finding 8) and says when the signature is timed (finding
  18); a wrong password is said as such (finding 13); then signed.

Before the fix the first opening seeded the form with the Week 8 task's
calipers only: "Baseline: caliper missing", Baseline sum 0.0 mm, Week 8 PD.
A screenshot of each step goes to the test's log folder."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, find, main, out_of_sight, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402
from test_read_followup import (CLI, MM_PER_PIXEL, PASSWORD, PHANTOM,  # noqa: E402
                                pct_tenths, target_response, tenths)

OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()),
                   "test_read_third")
SUBJECT = "S-004"


def mm(t):
    return "%d.%d mm" % (t // 10, t % 10)


def pct(p):
    """As the form writes a percentage: a real minus sign, a plus."""
    sign = "−" if p < 0 else "+" if p > 0 else ""
    return "%s%d.%d %%" % (sign, abs(p) // 10, abs(p) % 10)


class ReadThird(WorkspaceDriver, AppCase):
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-third-")
        os.makedirs(OUT, exist_ok=True)
        cls.start_reading_trial(CLI, "T3", "third timepoint", PASSWORD)
        admin = cls.admin
        studies = os.path.join(cls.tmp, "studies")
        subprocess.run([PHANTOM, studies, "--kind", "ct", "--slices", "30", "--size", "256",
                        "--pixel-spacing", "1.4", "--timepoints", "3", "--change", "-30",
                        "--interval-days", "56"], check=True, capture_output=True)
        for k, (label, day) in enumerate((("Baseline", 0), ("Week 8", 56), ("Week 16", 112))):
            admin("upload", os.path.join(studies, "tp%02d" % k), "--trial", "T3", "--subject",
                  SUBJECT, "--timepoint", label, "--day", str(day))
        cls.start_bus()
        cls.app_settings(1400, 950)

    @classmethod
    def tearDownClass(cls):
        pass  # the class cleanups stop the application, the bus and the server

    # ---- helpers ----

    def viewer_says(self, *words, timeout=20):
        ok = wait_for(lambda: all(w in (self.viewer.description or "") for w in words), timeout)
        if not ok:
            self.shot("debug-viewer")
        self.assertTrue(ok, (words, self.viewer.description))

    def open_task(self, timepoints):
        """Opens the subject's read task of @timepoints ("Baseline, Week 8")
        from the worklist (as test_read_followup.py does)."""
        if "Worklist" not in self.labels():
            self.click(self.named("Worklist"))
            self.assertTrue(wait_for(lambda: "Worklist" in self.labels(), 20), self.labels())
        want = "Read · subject %s, %s ·" % (SUBJECT, timepoints)
        row_name = wait_for(lambda: [r for r in self.row_names("Worklist")
                                     if r.startswith(want) and "available offline" in r
                                     and " first" not in r], 60)
        self.assertTrue(row_name, self.row_names("Worklist"))
        self.click_row([r for r in self.list_items("Worklist")
                        if (r.name or "").startswith(want)][0])
        self.viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                            and "slice 16 / 30" in (n.description or "")), 30)
        self.assertIsNotNone(self.viewer, "the task's series did not open")
        label = timepoints.split(", ")[-1]
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Assessment · " + label + ",")], 15))

    def draw(self, length, dy=100):
        """A bidirectional caliper about @length mm long, across the current
        (left or only) pane, at the pane's scale, @dy pixels under its
        centre; its value in mm."""
        p = self.pyatspi
        n = len(self.caliper_values())
        self.click(self.named("Bidirectional"))
        self.viewer_says("tool: Bidirectional")
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx = x + (w // 4 if "pane 1 of 2" in (self.viewer.description or "") else w // 2)
        cy = y + h // 2 + dy
        half = max(6, int(length / float(MM_PER_PIXEL.search(self.viewer.description)[1]) / 2))
        self.drag(cx - half, cy, cx + half, cy)
        self.assertTrue(wait_for(lambda: len(self.caliper_values()) == n + 1, 15),
                        self.viewer.description)
        self.viewer_says("selected: Bidirectional")
        return self.caliper_values()[-1][0]

    def measure_t1(self, label):
        self.click(self.named("Measure T1 with the selected caliper"))
        ok = wait_for(lambda: [r for r in self.row_names("Lesions")
                               if r.startswith("Target T1") and (label + ": ") in r and
                               " mm" in r.split(label + ": ")[1]], 10)
        if not ok:
            self.shot("debug-measure-" + label)
        self.assertTrue(ok, self.row_names("Lesions"))

    def responses(self):
        return [t for t in self.labels() if t.startswith("Baseline sum: ")]

    def expect_responses(self, expected, shot):
        ok = wait_for(lambda: [t for t in self.responses() if all(e in t for e in expected)], 15)
        self.shot(shot)
        self.assertTrue(ok, (expected, self.responses()))

    # ---- the test ----

    def test_third_timepoint_first_opened(self):
        p = self.pyatspi
        type(self).proc, self.app = self.launch_app([], self.env)
        self.sign_in("reader1", PASSWORD)
        self.assertTrue(wait_for(lambda: len([r for r in self.row_names("Worklist")
                                              if r.startswith("Read · subject " + SUBJECT)])
                                 == 3, 30), self.row_names("Worklist"))
        self.click(self.named("Download All"))

        # Baseline: one target in the liver.
        self.open_task("Baseline")
        bl = self.draw(40)
        self.pyatspi.Registry.generateKeyboardEvent(0xff67, None, self.pyatspi.KEY_SYM)
        item = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_MENU_ITEM
                                     and (n.name or "") == "Make Target"), 10)
        if item is None:
            self.shot("debug-menu-key")
        self.assertIsNotNone(item, "the Menu key opened no menu on the selected caliper")
        self.click(item)
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10))
        self.choose_organ("T1", "Liver")
        bl_sum = tenths(bl)
        self.shot("1-baseline")
        self.sign_read(PASSWORD, "The server's baseline sum: " + mm(bl_sum))

        # Week 8: about half the size: a partial response.
        self.open_task("Baseline, Week 8")
        self.viewer_says("pane 1 of 2", timeout=30)
        w8 = self.draw(bl * 0.5)
        self.measure_t1("Week 8")
        w8_sum = tenths(w8)
        self.assertEqual(target_response(bl_sum, w8_sum, bl_sum), "partial response (PR)",
                         (bl, w8))
        self.shot("2-week8")
        self.sign_read(PASSWORD, "The server's best overall response: PR")

        # Week 16, first opened: the Baseline's and Week 8's values are
        # there at once, and the responses are those of the two reads.
        self.open_task("Baseline, Week 8, Week 16")
        self.viewer_says("pane 1 of 2", timeout=30)
        rows = wait_for(lambda: [r for r in self.row_names("Lesions")
                                 if r.startswith("Target T1")], 15)
        self.assertTrue(rows, self.row_names("Lesions"))
        # T1's earlier values, read-only under its row.
        self.assertTrue(wait_for(lambda: {"Baseline: " + mm(bl_sum), "Week 8: " + mm(w8_sum)}
                                 <= set(self.labels()), 15),
                        [t for t in self.labels() if ": " in t])
        self.assertFalse([t for t in self.labels() if "caliper missing" in t])
        self.assertFalse([t for t in self.labels() if "no baseline measurement" in t])
        self.expect_responses(["Baseline sum: " + mm(bl_sum),
                               "Week 8 (day 56)\nSum %s · nadir %s\n%s from baseline"
                               % (mm(w8_sum), mm(bl_sum), pct(pct_tenths(w8_sum, bl_sum))),
                               "Targets: partial response (PR)",
                               "Best overall response: partial response (PR)"],
                              "3-week16-first-opened")
        # Both earlier reads' calipers are drawn on the prior's pane.
        self.viewer_says("earlier measurement")

        # Measured at Week 16: more than 20 % and 5 mm over the nadir.
        w16 = self.draw(max(w8 * 1.6, w8 + 8))
        self.measure_t1("Week 16")
        w16_sum = tenths(w16)
        self.assertEqual(target_response(bl_sum, w16_sum, w8_sum), "progressive disease (PD)",
                         (bl, w8, w16))
        self.expect_responses(["Baseline sum: " + mm(bl_sum),
                               "Week 16 (day 112)\nSum %s · nadir %s\n%s from baseline · "
                               "%s from nadir" % (mm(w16_sum), mm(w8_sum),
                                                  pct(pct_tenths(w16_sum, bl_sum)),
                                                  pct(pct_tenths(w16_sum, w8_sum))),
                               "Targets: progressive disease (PD)",
                               "Overall: progressive disease (PD)",
                               "Best overall response: partial response (PR)"],
                              "4-week16-measured")

        # A new lesion with its size (walk finding 8), T1's location.
        new = self.draw(12, dy=-120)
        self.pyatspi.Registry.generateKeyboardEvent(0xff67, None, self.pyatspi.KEY_SYM)
        item = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_MENU_ITEM
                                     and (n.name or "") == "New Lesion"), 10)
        self.assertIsNotNone(item, "no New Lesion in the caliper's menu")
        self.click(item)
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions") if "NEW1" in r],
                                 10), self.row_names("Lesions"))
        self.choose_organ("NEW1", "Lung")
        self.type_into("Location of T1", "segment 7")
        self.expect_responses(["New lesions: yes", "Overall: progressive disease (PD)"],
                              "5-week16-new-lesion")
        form_responses = self.responses()[0]

        # The signing dialog says what the form says: the same responses
        # (nadir, % from nadir), organs by name, the location, the new
        # lesion's size.
        self.click(self.named("Sign and submit"))
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        said = self.labels(dialog)
        self.shot("6-signing-dialog")
        # Its Sign and Cancel buttons are in sight under the read, however
        # long the read (walk: three timepoints' responses pushed them below
        # the fold of the 600 px dialog, reached only by scrolling).
        for name in ("Sign and submit", "Cancel"):
            button = self.named(name, roles=(self.pyatspi.ROLE_PUSH_BUTTON,), root=dialog)
            self.assertIsNotNone(button, name)
            self.assertIsNone(out_of_sight(self.pyatspi, button), name)
        self.assertIn(form_responses, said)
        for words in ("Liver", "Lung", "segment 7", mm(tenths(new)), mm(bl_sum), mm(w8_sum),
                      mm(w16_sum)):
            self.assertIn(words, said)
        self.assertNotIn("liver", said)
        self.assertNotIn("new", said)
        # The time the signature carries is the server's on receipt
        # (server-api.md's receipt, docs/sr.md), not the dialog's clock.
        self.assertTrue([t for t in said if t.startswith("When the server receives it")], said)

        # A wrong password: said in words, for a read; nothing submitted.
        self.type_into("Password", "not-the-password", root=dialog)
        self.click(self.named("Sign and submit", root=dialog))
        wrong = "Wrong password: the read is not signed. Enter your password again."
        self.assertTrue(wait_for(lambda: wrong in self.labels(dialog), 30), self.labels(dialog))
        self.shot("7-wrong-password")
        # The form under the dialog says it in the same words, not as the
        # server refusing the read.
        form_says = "Wrong password: the read is not signed. Sign it again with your password."
        self.assertTrue(wait_for(lambda: form_says in self.labels(), 10), self.labels())
        self.assertFalse([t for t in self.labels() if t.startswith("The server refused the read")])
        self.type_into("Password", PASSWORD, root=dialog)
        self.click(self.named("Sign and submit", root=dialog))
        self.assertTrue(wait_for(self.signing_closed, 30), self.labels())
        receipt = wait_for(lambda: [t for t in self.labels()
                                    if t.startswith("Submitted and locked. Receipt")], 30)
        self.assertTrue(receipt, self.labels())
        self.assertIn("The server's best overall response: PR", receipt[0])


if __name__ == "__main__":
    main()
