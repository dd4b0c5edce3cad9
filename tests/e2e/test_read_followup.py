#!/usr/bin/python3
"""Sequential reading end to end, in the real window against a real
readroom-server on 127.0.0.1, driven through the accessibility tree with
real pointer events. One reader, one subject, two timepoints (Baseline,
day 0; Week 8, day 56) uploaded before anything is read:

- the Week 8 task opened first is read-only and says the Baseline is read
  first;
- at Baseline two calipers become targets, the read is signed and
  submitted;
- Week 8 then opens beside its prior: the panes are captioned with the
  timepoint label and study day, the slice number shows, and the
  Baseline's calipers are drawn on the prior's pane;
- the two targets are measured again, T1 split in two fragments; the
  form's sums, percentage and responses are those computed here by hand
  from the calipers (RECIST 1.1, criteria.md: fragments added); the read
  is submitted and the receipt says what the server recomputed.

The window is a laptop's 1280x800 (READROOM_TEST_WINDOW=WxH sets another
size): the form must be usable there, its overall response and Sign button
in sight without scrolling. A screenshot of each step goes to the test's
log folder."""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, find, find_all, label_text, main, out_of_sight, stop, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()),
                   "test_read_followup")
MM_PER_PIXEL = re.compile(r" · (\d+\.\d+) mm per pixel")
PASSWORD = "reader-password"


def tenths(mm):
    return int(round(mm * 10))


def pct_tenths(value, reference):
    """(value - reference) / reference in tenths of a percent, rounded half
    away from zero."""
    num = (value - reference) * 1000
    q, r = divmod(abs(num), reference)
    q += 1 if 2 * r >= reference else 0
    return q if num >= 0 else -q


def target_response(baseline, now, nadir):
    """RECIST 1.1 target response from sums in tenths (criteria.md): PD
    against the nadir first, then CR, PR against baseline, else SD."""
    if 5 * (now - nadir) >= nadir and now - nadir >= 50:
        return "progressive disease (PD)"
    if now == 0:
        return "complete response (CR)"
    if 10 * now <= 7 * baseline:
        return "partial response (PR)"
    return "stable disease (SD)"


class ReadFollowup(WorkspaceDriver, AppCase):
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-followup-")
        os.makedirs(OUT, exist_ok=True)
        cls.start_reading_trial(CLI, "TF", "follow-up", PASSWORD)
        admin = cls.admin
        studies = os.path.join(cls.tmp, "studies")
        subprocess.run([PHANTOM, studies, "--kind", "ct", "--slices", "30", "--size", "256",
                        "--pixel-spacing", "1.4", "--timepoints", "2", "--change", "-40",
                        "--interval-days", "56"], check=True, capture_output=True)
        admin("upload", os.path.join(studies, "tp00"), "--trial", "TF", "--subject", "S-001",
              "--timepoint", "Baseline", "--day", "0")
        admin("upload", os.path.join(studies, "tp01"), "--trial", "TF", "--subject", "S-001",
              "--timepoint", "Week 8", "--day", "56")
        cls.start_bus()
        # The window at the size it must fit (1280x800 unless the run says
        # otherwise), through the settings it keeps its size in.
        w, h = os.environ.get("READROOM_TEST_WINDOW", "1280x800").split("x")
        cls.app_settings(int(w), int(h))

    @classmethod
    def tearDownClass(cls):
        pass  # the class cleanups stop the application, the bus and the server

    # ---- helpers ----

    def viewer_says(self, *words, timeout=20):
        ok = wait_for(lambda: all(w in (self.viewer.description or "") for w in words), timeout)
        if not ok:
            self.shot("debug-viewer")
        self.assertTrue(ok, (words, self.viewer.description))

    def measure_with_selected(self, lesion, n):
        """Binds the caliper just drawn (the @n-th, selected in the viewer)
        to @lesion's value at Week 8."""
        self.assertTrue(wait_for(lambda: len(self.caliper_values()) == n, 15),
                        self.viewer.description)
        self.viewer_says("selected: Bidirectional")
        self.click(self.named("Measure %s with the selected caliper" % lesion))
        ok = wait_for(lambda: [r for r in self.row_names("Lesions")
                               if r.startswith("Target " + lesion) and "Week 8: " in r and
                               " mm" in r.split("Week 8: ")[1]], 10)
        if not ok:
            self.shot("debug-measure-" + lesion)
        self.assertTrue(ok, (self.row_names("Lesions"), self.viewer.description,
                             [t for t in self.labels() if "caliper" in t]))

    def open_task(self, timepoints):
        """Opens the subject's read task whose timepoints are @timepoints
        ("Baseline, Week 8") from the worklist, downloading it first."""
        # GTK 4.8 clicks a button activated through its accessible action
        # 250 ms later (it shows it pressed meanwhile): a row clicked in
        # between opened its task and the worklist came back over it. So
        # the worklist is asked for only when another page is shown, and
        # its title is waited for.
        if "Worklist" not in self.labels():
            self.click(self.named("Worklist"))
            self.assertTrue(wait_for(lambda: "Worklist" in self.labels(), 20), self.labels())
        want = "Read · subject S-001, %s ·" % timepoints
        row_name = wait_for(lambda: [r for r in self.row_names("Worklist")
                                     if r.startswith(want) and "available offline" in r], 60)
        self.assertTrue(row_name, self.row_names("Worklist"))
        self.click_row([r for r in self.list_items("Worklist")
                        if (r.name or "").startswith(want)][0])
        self.viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                            and "slice 16 / 30" in (n.description or "")), 30)
        self.assertIsNotNone(self.viewer, "the task's series did not open")

    def column_widths(self):
        """The widths of the lesion form and of the image viewer beside it."""
        p = self.pyatspi
        nodes = [find(self.app, lambda n: (n.name or "") == name)
                 for name in ("Lesion form", "Image viewer")]
        self.assertNotIn(None, nodes)
        return tuple(n.queryComponent().getExtents(p.DESKTOP_COORDS)[2] for n in nodes)

    def start(self):
        """Starts the application and signs reader1 in: each step is a
        reader's session of its own, so what the next one sees comes from
        the database and the server, not from the window's memory."""
        cls = type(self)
        if getattr(cls, "proc", None) is not None and cls.proc.poll() is None:
            stop(cls.proc)
        cls.proc, self.app = cls.launch_app([], cls.env)
        self.sign_in("reader1", PASSWORD)
        self.assertTrue(wait_for(lambda: len([r for r in self.row_names("Worklist")
                                              if r.startswith("Read · subject S-001")]) == 2, 30),
                        self.row_names("Worklist"))

    # ---- the test ----

    def test_baseline_then_week_8(self):
        p = self.pyatspi
        self.start()
        self.click(self.named("Download All"))

        # The worklist: no viewer, so no viewer controls in the header bar.
        side = find(self.app, lambda n: (n.name or "") == "Side by side")
        self.assertTrue(side is None or not side.getState().contains(p.STATE_VISIBLE),
                        "viewer controls shown on the worklist")

        # The worklist greys Week 8 and says why (sequential reading); the
        # Baseline is the one to read.
        rows = wait_for(lambda: [r for r in self.row_names("Worklist")
                                 if r.startswith("Read · subject S-001, Baseline, Week 8 ·")
                                 and "submit Baseline first" in r], 30)
        self.assertTrue(rows, self.row_names("Worklist"))
        self.assertFalse([r for r in self.row_names("Worklist")
                          if r.startswith("Read · subject S-001, Baseline ·")
                          and " first" in r], self.row_names("Worklist"))

        # Week 8 first: read-only until the Baseline is submitted.
        self.open_task("Baseline, Week 8")
        blocked = wait_for(lambda: [t for t in self.labels()
                                    if t.startswith("Sequential reading: submit your read of "
                                                    "Baseline first")], 15)
        self.shot("1-week8-blocked")
        self.assertTrue(self.named("Side by side").getState().contains(p.STATE_VISIBLE))
        self.assertTrue(blocked, self.labels())
        self.assertFalse(self.named("Make target").getState().contains(p.STATE_SENSITIVE))

        # Baseline: two targets.
        self.open_task("Baseline")
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Assessment · Baseline, day 0")], 15))
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx, cy = x + w // 2, y + h // 2
        self.click(self.named("Bidirectional"))
        self.viewer_says("tool: Bidirectional")
        self.drag(cx - 40, cy + 130, cx + 40, cy + 130)
        self.assertTrue(wait_for(lambda: len(self.caliper_values()) == 1, 15),
                        self.viewer.description)
        # This one through its menu from the keyboard (the Menu key, on
        # the viewer, which has the focus since the drag).
        self.pyatspi.Registry.generateKeyboardEvent(0xff67, None, self.pyatspi.KEY_SYM)
        item = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_MENU_ITEM
                                     and (n.name or "") == "Make Target"), 10)
        if item is None:
            self.shot("debug-menu-key")
        self.assertIsNotNone(item, "the Menu key opened no menu on the selected caliper")
        self.click(item)
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10))
        self.drag(cx - 97, cy + 73, cx - 51, cy + 73)
        self.assertTrue(wait_for(lambda: len(self.caliper_values()) == 2, 15))
        # This one through the caliper's own context menu.
        self.mouse(cx - 74, cy + 73, "abs")
        self.mouse(cx - 74, cy + 73, "b3c")
        item = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_MENU_ITEM
                                     and (n.name or "") == "Make Target"), 10)
        if item is None:
            self.shot("debug-context-menu")
        self.assertIsNotNone(item, "no context menu on the caliper")
        self.click(item)
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T2")], 10))
        # The form column keeps its width whatever is chosen (walk findings 1
        # and 7): a long organ name ellipsizes in its button, with the whole
        # name in its tooltip, instead of widening the form and rescaling
        # the image under the reader's hand. (T1's organ is chosen after
        # T2's: the layout after the long name has run by then.)
        widths = self.column_widths()
        # Found by a part of its name: no organ's name begins with it.
        self.choose_organ("T2", "Supraclavicular lymph node", typed="clavic")
        self.choose_organ("T1", "Liver")
        self.assertEqual(self.column_widths(), widths)
        organ = self.named("Organ of T2")
        self.assertEqual(organ.description, "Supraclavicular lymph node")
        self.choose_organ("T2", "Lung")
        self.assertEqual(self.column_widths(), widths)
        baseline = self.caliper_values()
        self.assertEqual(len(baseline), 2, baseline)
        bl_sum = tenths(baseline[0][0]) + tenths(baseline[1][0])
        self.shot("2-baseline")
        self.sign_read(PASSWORD, "The server's baseline sum: %d.%d mm"
                       % (bl_sum // 10, bl_sum % 10))

        # Back on the worklist in the same session, without a refresh: the
        # Baseline says submitted (its draft no longer), Week 8 is no longer
        # held back.
        self.click(self.named("Worklist"))
        rows = wait_for(lambda: [r for r in self.row_names("Worklist")
                                 if r.startswith("Read · subject S-001, Baseline · submitted ·")
                                 and "draft" not in r], 30)
        self.assertTrue(rows, self.row_names("Worklist"))
        self.assertTrue([r for r in self.row_names("Worklist")
                         if r.startswith("Read · subject S-001, Baseline, Week 8 · open")
                         and "first" not in r], self.row_names("Worklist"))
        # Chronological: Baseline above Baseline, Week 8. The submitted one
        # has its tick; rows whose files are all here, no download button.
        names = [r for r in self.row_names("Worklist") if r.startswith("Read · subject S-001")]
        self.assertEqual([n.split(" · ")[1] for n in names],
                         ["subject S-001, Baseline", "subject S-001, Baseline, Week 8"], names)
        # (GTK leaves a hidden widget out of the tree, or not VISIBLE.)
        showing = lambda n: n.getState().contains(p.STATE_VISIBLE)  # noqa: E731
        rows = self.list_items("Worklist")
        ticks = [[i for i in find_all(r, lambda n: (n.name or "") == "Submitted", [])
                  if showing(i)] for r in rows]
        self.assertEqual([bool(t) for t in ticks], [True, False])
        downloads = [i for i in find_all(self.app, lambda n: (n.name or "") in (
            "Available offline", "Make available offline"), []) if showing(i)]
        self.assertEqual(downloads, [])
        self.shot("2b-worklist-after-submit")

        # Week 8 now opens, beside the Baseline, on the same plane; its
        # row is no longer greyed.
        self.start()
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if r.startswith("Read · subject S-001, Baseline, "
                                                          "Week 8 ·")
                                          and "first" not in r], 30),
                        self.row_names("Worklist"))
        self.open_task("Baseline, Week 8")
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Assessment · Week 8, day 56")], 15))
        self.viewer_says("panes: Axial  Week 8, day 56", "; Axial  Baseline, day 0",
                         "Im 16/30", timeout=30)
        # The header names the case open (walk finding 18).
        self.assertIn("Subject S-001 · Week 8", self.labels())
        # The Baseline's two calipers, on the prior's pane.
        self.viewer_says("2 earlier measurements shown")
        self.shot("3-week8-beside-baseline")
        # Not measured at Week 8 yet: the status says so (not GTK's "(None)").
        status = wait_for(lambda: find(self.app, lambda n: (n.name or "") ==
                                       "Status of T1 at Week 8"), 10)
        self.assertIsNotNone(status)
        # (GtkDropDown keeps its own "(None)" label, hidden, for an empty
        # selection: the item shown is the one asserted.)
        self.assertIn("Not assessed yet", self.labels(status))
        # Nothing assessed at Week 8: no signing yet, and the form says
        # which lesions wait (walk: an unread Week 8 could be signed as NE).
        self.assertTrue(wait_for(lambda: "Not assessed yet at Week 8: T1, T2. Measure each lesion "
                                 "or choose its status before signing." in self.labels(), 10),
                        self.labels())
        self.assertFalse(self.named("Sign and submit").getState().contains(p.STATE_SENSITIVE))
        # Nor through its shortcut, Ctrl+Return (review: it opened the
        # signing dialog over the greyed button).
        reg = p.Registry
        reg.generateKeyboardEvent(37, None, p.KEY_PRESS)  # Control_L
        reg.generateKeyboardEvent(0xff0d, None, p.KEY_SYM)  # Return
        reg.generateKeyboardEvent(37, None, p.KEY_RELEASE)
        self.assertTrue(wait_for(lambda: "Not every lesion is assessed yet: see the form" in
                                 self.labels(), 10), self.labels())
        self.assertTrue(self.signing_closed(), "a signing dialog opened")
        # Nothing cut off at this size (walk finding 6): the tools' last
        # button and the sidebar toggle lie wholly in the window, the tools
        # above the viewer's width.
        frame = find(self.app, lambda n: n.getRole() == p.ROLE_FRAME and
                     (n.name or "") == "Readroom")
        fx, fy, fw, fh = frame.queryComponent().getExtents(p.DESKTOP_COORDS)
        vx, vy, vw, vh = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        toggle = self.named("Series sidebar")
        for name, node in (("Image orientation", self.named("Image orientation")),
                           ("Series sidebar", toggle)):
            x, y, w, h = node.queryComponent().getExtents(p.DESKTOP_COORDS)
            self.assertTrue(w > 0 and fx <= x and x + w <= fx + fw and fy <= y and
                            y + h <= fy + fh, (name, (x, y, w, h), (fx, fy, fw, fh)))
            if name == "Image orientation":
                self.assertTrue(vx <= x and x + w <= vx + vw, (name, (x, w), (vx, vw)))
        # The sidebar in timepoint order; folded over the viewer when the
        # window is narrow, shown by F9 and hidden by its toggle.
        def shown():
            state = toggle.getState()
            return state.contains(p.STATE_CHECKED) or state.contains(p.STATE_PRESSED)
        folded = not shown()
        if folded:
            self.pyatspi.Registry.generateKeyboardEvent(0xffc6, None, self.pyatspi.KEY_SYM)
            self.assertTrue(wait_for(shown, 10))
            self.shot("3-week8-sidebar-shown")
        series = find(self.app, lambda n: (n.name or "") == "Series" and n.getRole() == p.ROLE_LIST)
        headers = [label_text(n) for n in find_all(series, lambda n: n.getRole() == p.ROLE_LABEL,
                                                   [])
                   if label_text(n) in ("Baseline", "Week 8")]
        self.assertEqual(headers, ["Baseline", "Week 8"])
        if folded:
            self.click(toggle)
            self.assertTrue(wait_for(lambda: not shown(), 10))
        self.assertFalse([t for t in self.labels() if t.startswith("Sequential reading")])
        rows = self.row_names("Lesions")
        self.assertTrue([r for r in rows if r.startswith("Target T1")], rows)
        self.assertTrue([r for r in rows if r.startswith("Target T2")], rows)

        # Scrolled away, then "go to" T1: both panes back on its slice, the
        # prior's caliper in view.
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        for _ in range(3):
            self.mouse(x + w // 4, y + h // 2, "abs")
            self.mouse(x + w // 4, y + h // 2, "b5c")
        self.assertTrue(wait_for(lambda: "Im 16/30" not in (self.viewer.description or ""), 10),
                        self.viewer.description)
        self.click(self.named("Go to T1"))
        self.viewer_says("Week 8, day 56  CT chest-abdomen phantom, Im 16/30",
                         "Baseline, day 0  CT chest-abdomen phantom, Im 16/30",
                         "2 earlier measurements shown")

        # Measured again, about a third of their baseline size, in the
        # current (left) pane, whatever its scale.
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        lx, cy = x + w // 4, y + h // 2
        self.click(self.named("Bidirectional"))
        self.viewer_says("tool: Bidirectional", "pane 1 of 2")
        mmpp = float(MM_PER_PIXEL.search(self.viewer.description)[1])
        half1 = max(6, int(baseline[0][0] * 0.35 / mmpp / 2))
        half2 = max(6, int(baseline[1][0] * 0.35 / mmpp / 2))
        self.drag(lx - half1, cy + 130, lx + half1, cy + 130)
        self.measure_with_selected("T1", 1)
        self.drag(lx - w // 16 - half2, cy + 73, lx - w // 16 + half2, cy + 73)
        self.measure_with_selected("T2", 2)
        # T1 split: a second fragment, its size added (criteria.md).
        self.drag(lx + w // 16 - 5, cy + 100, lx + w // 16 + 5, cy + 100)
        self.assertTrue(wait_for(lambda: len(self.caliper_values()) == 3, 15))
        self.viewer_says("selected: Bidirectional")
        self.click(self.named("Add the selected caliper to T1 as a fragment (split lesion)"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1") and
                                          "split in 2 fragments" in r], 10),
                        self.row_names("Lesions"))
        week8 = self.caliper_values()
        fu_sum = tenths(week8[0][0]) + tenths(week8[1][0]) + tenths(week8[2][0])
        pct = pct_tenths(fu_sum, bl_sum)
        response = target_response(bl_sum, fu_sum, bl_sum)
        # The scenario is a response: a sum well under 70 % of baseline.
        self.assertEqual(response, "partial response (PR)", (baseline, week8))
        expected = ["Sum %d.%d mm · nadir %d.%d mm" % (fu_sum // 10, fu_sum % 10,
                                                       bl_sum // 10, bl_sum % 10),
                    "−%d.%d %% from baseline" % (-pct // 10, -pct % 10),
                    "Targets: partial response (PR)",
                    "Non-targets: no disease of this kind (ND)",
                    "New lesions: no",
                    "Overall: partial response (PR)",
                    "Best overall response: partial response (PR)"]

        def responses():
            return [t for t in self.labels() if t.startswith("Baseline sum: ")]
        ok = wait_for(lambda: [t for t in responses() if all(e in t for e in expected)], 15)
        self.shot("4-week8-measured")
        self.assertTrue(ok, (expected, responses()))
        # Both targets' rows fill the form: the overall response and the
        # Sign button are still in sight, unscrolled, inside the window
        # (walk: at 1280x800 they were below the fold).
        frame = find(self.app, lambda n: n.getRole() == p.ROLE_FRAME and
                     (n.name or "") == "Readroom")
        fw, fh = frame.queryComponent().getExtents(p.DESKTOP_COORDS)[2:]
        size = [int(v) for v in os.environ.get("READROOM_TEST_WINDOW", "1280x800").split("x")]
        self.assertTrue(fw <= size[0] and fh <= size[1], ((fw, fh), size))
        overall = find(self.app, lambda n: n.getRole() == p.ROLE_LABEL and
                       label_text(n).startswith("Overall response: "))
        self.assertIsNotNone(overall, self.labels())
        self.assertEqual(label_text(overall), "Overall response: partial response (PR)")
        for node in (overall, self.named("Sign and submit")):
            self.assertIsNone(out_of_sight(p, node), node.name)
        # From 1024 px up, the tools keep to one row beside the form at its
        # widest: the sidebar folds rather than squeeze them into two (its
        # toggle and F9 show it).
        if size[0] >= 1024:
            ny = self.named("Navigate").queryComponent().getExtents(p.DESKTOP_COORDS)[1]
            oy = self.named("Image orientation").queryComponent().getExtents(
                p.DESKTOP_COORDS)[1]
            self.assertLess(abs(ny - oy), 20, "the tools wrapped with the sidebar open")
        self.sign_read(PASSWORD, "The server's best overall response: PR")
        self.shot("5-week8-submitted")
        self.assertFalse(self.named("Make target").getState().contains(p.STATE_SENSITIVE))
        # Signed: nothing edits it any more (Delete, Undo, the lesion's
        # controls), but it can still be looked through (Go To).
        sensitive = lambda n: n.getState().contains(p.STATE_SENSITIVE)  # noqa: E731
        self.assertTrue(wait_for(lambda: not sensitive(self.named("Undo")), 10))
        deletes = find_all(self.app, lambda n: (n.name or "") == "Delete measurement", [])
        self.assertTrue(deletes)
        self.assertFalse([d for d in deletes if sensitive(d)])
        go = self.named("Go to T1")
        self.assertTrue(sensitive(go), "Go To is not available on a signed read")
        self.assertFalse(sensitive(self.named("Measure T1 with the selected caliper")))
        self.click(go)
        self.viewer_says("Week 8, day 56")
        self.shot("6-signed-go-to")

        # The prior linked by the reader's own offset ("link here") is kept
        # in the task's draft: the task opened again, after a restart, links
        # the Baseline two slices further on, as set, not centre on centre.
        def slices():
            m = re.search(r"panes: .*?, Im (\d+)/30; .*?, Im (\d+)/30, ([^,;]+)",
                          self.viewer.description or "")
            self.assertIsNotNone(m, self.viewer.description)
            return int(m[1]), int(m[2]), m[3]
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        self.mouse(x + 3 * w // 4, y + h // 2, "abs")
        self.mouse(x + 3 * w // 4, y + h // 2, "b1c")
        self.viewer_says("pane 2 of 2")
        self.assertTrue(wait_for(lambda: self.viewer.getState().contains(p.STATE_FOCUSED), 10))
        current, prior, how = slices()
        self.assertEqual(how, "linked by offset")
        self.click(self.named("Link Scrolling"))
        self.viewer_says("not linked: scrolls alone")
        for n in (prior + 1, prior + 2):
            self.pyatspi.Registry.generateKeyboardEvent(0xff54, None, self.pyatspi.KEY_SYM)  # Down
            self.assertTrue(wait_for(lambda: slices()[1] == n, 10), self.viewer.description)
        self.pyatspi.Registry.generateKeyboardEvent(ord("k"), None, self.pyatspi.KEY_SYM)
        self.viewer_says("linked by offset")
        self.assertEqual(slices(), (current, prior + 2, "linked by offset"))
        self.shot("7-linked-here")
        self.start()
        self.open_task("Baseline, Week 8")
        self.viewer_says("panes: Axial  Week 8, day 56", "; Axial  Baseline, day 0", timeout=30)
        # Opened on the middle slice, the prior follows with the offset.
        self.assertTrue(wait_for(lambda: slices() == (16, 16 + prior + 2 - current,
                                                      "linked by offset"), 15),
                        (current, prior, self.viewer.description))
        self.shot("8-reopened-linked")


if __name__ == "__main__":
    main()
