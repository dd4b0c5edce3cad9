#!/usr/bin/python3
"""Calipers in the real window under Xvfb: draw a bidirectional measurement
with real pointer events, read its value from the measurement list through
the accessibility tree, reshape it by a handle, undo and redo, kill -9 the
application and find the measurement again after a restart; choosing it in
the list brings its slice back. Run inside dbus-run-session with DISPLAY."""
import math
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a11y import AppCase, find, find_all, label_text, main, screenshot, stop, wait_for  # noqa: E402

READROOM = os.environ.get("READROOM_APP", "build/src/app/readroom")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir())
VALUE = re.compile(r"^(\d+\.\d) × (\d+\.\d) mm$")
# A bidirectional whose short axis the reader has not dragged out yet.
LONG_ONLY = re.compile(r"^(\d+\.\d) mm · short axis not measured$")


class Measure(AppCase):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-measure-")
        cls.study = os.path.join(cls.tmp, "study")
        # Two timepoints (two studies): the lesions shrink by 30 %.
        subprocess.run([PHANTOM, cls.study, "--kind", "ct", "--slices", "30", "--size", "256",
                        "--pixel-spacing", "1.4", "--timepoints", "2", "--change", "-30"],
                       check=True, capture_output=True)
        # A re-scan in one frame of reference: the table 20 mm on, 31
        # slices of 5 mm each side (centred at z = 0, then z = 20).
        cls.rescan = os.path.join(cls.tmp, "rescan")
        for sub, center, date in (("a", "0,0,0", "20260105"), ("b", "0,0,20", "20260106")):
            subprocess.run([PHANTOM, os.path.join(cls.rescan, sub), "--kind", "ct",
                            "--slices", "31", "--spacing", "5", "--size", "128",
                            "--pixel-spacing", "2.8", "--center", center, "--study-date", date,
                            "--frame-of-reference", "1.2.826.0.1.3680043.9.7777.20"],
                           check=True, capture_output=True)
        cls.start_bus()
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"))
        cls.proc = None

    # ---- helpers ----

    def launch(self, folder=None, middle="Axial · slice 16 / 30"):
        cls = type(self)
        stop(cls.proc, 10)
        cls.proc, self.app = cls.launch_app([folder or self.study], self.env)
        self.viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"))
        self.assertIsNotNone(self.viewer)
        # The whole volume, not the one-slice preview.
        self.assertTrue(self.described(middle), self.viewer.description)
        self.assertTrue(self.described("mm per pixel"), self.viewer.description)
        x, y, w, h = self.viewer.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        self.cx, self.cy = x + w // 2, y + h // 2
        self.mm_per_px = float(re.search(r"([\d.]+) mm per pixel", self.viewer.description)[1])

    def described(self, text, timeout=20):
        return wait_for(lambda: text in (self.viewer.description or ""), timeout)

    def values(self):
        """The values in the measurement list, as (long, short) in mm."""
        lst = find(self.app, lambda n: (n.name or "") == "Measurement list")
        if lst is None:
            return []
        out = []
        for n in find_all(lst, lambda n: n.getRole() == self.pyatspi.ROLE_LABEL, []):
            m = VALUE.match(label_text(n))
            if m:
                out.append((float(m[1]), float(m[2])))
            m = LONG_ONLY.match(label_text(n))
            if m:
                out.append((float(m[1]), None))
        return out

    def wait_values(self, pred, timeout=15):
        """The list's values once @pred holds for them, else None."""
        seen = []

        def check():
            v = self.values()
            if pred(v):
                seen.append(v)
                return True
            return False
        return seen[-1] if wait_for(check, timeout) else None

    def mouse(self, x, y, what):
        # X delivers the events in order: the application sees the press,
        # the moves and the release as sent, however late it reads them.
        self.pyatspi.Registry.generateMouseEvent(int(x), int(y), what)

    def drag(self, x0, y0, x1, y1):
        self.mouse(x0, y0, "abs")
        self.mouse(x0, y0, "b1p")
        for i in range(1, 11):
            self.mouse(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10, "abs")
        self.mouse(x1, y1, "b1r")

    def click_button(self, name):
        b = find(self.app, lambda n: (n.name or "") == name and
                 n.getRole() in (self.pyatspi.ROLE_PUSH_BUTTON, self.pyatspi.ROLE_TOGGLE_BUTTON))
        self.assertIsNotNone(b, name)
        b.queryAction().doAction(0)

    def assert_mm(self, got, px, what):
        # The caliper's ends are pointer positions: one pixel at each end.
        self.assertAlmostEqual(got, px * self.mm_per_px, delta=2 * self.mm_per_px + 0.05,
                               msg=f"{what}: {got} mm for {px} px at {self.mm_per_px} mm/px")

    # ---- the test ----

    def test_bidirectional(self):
        self.launch()
        self.assertEqual(self.values(), [])
        self.click_button("Bidirectional")
        self.assertTrue(self.described("tool: Bidirectional"), self.viewer.description)
        cx, cy = self.cx, self.cy
        # The long axis: 160 px to the right. No short axis is made up from
        # it: the list says it is not measured until the reader drags it.
        self.drag(cx - 80, cy, cx + 80, cy)
        vals = self.wait_values(lambda v: len(v) == 1)
        self.assertIsNotNone(vals, "no measurement in the list: " + (self.viewer.description or ""))
        long_mm, short_mm = vals[0]
        self.assert_mm(long_mm, 160, "long axis")
        self.assertIsNone(short_mm, "a short axis nobody measured: %s" % (vals,))
        self.assertIn("selected: Bidirectional", self.viewer.description)
        screenshot(os.path.join(OUT, "readroom-measure-long-only.png"))

        # The short axis, both ends dragged out from the crossing: 40 px
        # below the long axis, then 40 px above.
        self.drag(cx, cy, cx, cy + 40)
        vals = self.wait_values(lambda v: len(v) == 1 and v[0][1] is not None)
        self.assertIsNotNone(vals, self.values())
        self.assert_mm(vals[0][1], 40, "short axis, one end out")
        self.drag(cx, cy, cx, cy - 40)
        vals = self.wait_values(lambda v: len(v) == 1 and v[0][1] is not None
                                and v[0][1] > 60 * self.mm_per_px)
        self.assertIsNotNone(vals, self.values())
        long_mm, short_mm = vals[0]
        self.assert_mm(short_mm, 80, "short axis")
        screenshot(os.path.join(OUT, "readroom-measure.png"))

        # Drag the short axis' lower end down and along: it slides along the
        # long axis and grows on that side only (40 px up, 60 px down).
        self.drag(cx, cy + 40, cx + 30, cy + 60)
        vals = self.wait_values(lambda v: len(v) == 1 and abs(v[0][1] - short_mm) > 1)
        self.assertIsNotNone(vals, self.values())
        self.assertEqual(vals[0][0], long_mm)
        self.assert_mm(vals[0][1], 100, "short axis after the edit")
        edited = vals[0]

        # Undo, then redo, from the panel's buttons.
        self.click_button("Undo")
        self.assertIsNotNone(self.wait_values(lambda v: v == [(long_mm, short_mm)]), self.values())
        self.click_button("Redo")
        self.assertIsNotNone(self.wait_values(lambda v: v == [edited]), self.values())

        # Killed without warning right after the edit shows: nothing is lost.
        self.kill_app(self.proc)
        self.launch()
        self.assertIsNotNone(self.wait_values(lambda v: v == [edited]), self.values())

        # Away to another slice, then back by choosing it in the list.
        self.mouse(cx, cy - 150, "abs")
        self.pyatspi.Registry.generateKeyboardEvent(0xff56, None, self.pyatspi.KEY_SYM)  # Page Down
        self.assertTrue(self.described("slice 26 / 30"), self.viewer.description)
        lst = find(self.app, lambda n: (n.name or "") == "Measurement list")
        lst.querySelection().selectChild(0)
        self.assertTrue(self.described("slice 16 / 30"), self.viewer.description)
        self.assertIn("selected: Bidirectional", self.viewer.description)
        row = find(lst, lambda n: n.getRole() == self.pyatspi.ROLE_LIST_ITEM)
        self.assertIn("slice 16 / 30", row.name or "")

        # Select it by its line in the viewer, delete it from the keyboard.
        self.mouse(cx - 40, cy, "abs")
        self.mouse(cx - 40, cy, "b1c")
        self.assertTrue(self.described("selected: Bidirectional"), self.viewer.description)
        self.pyatspi.Registry.generateKeyboardEvent(0xffff, None, self.pyatspi.KEY_SYM)  # Delete
        self.assertIsNotNone(self.wait_values(lambda v: v == []), self.values())

    def test_zoom_at_pointer_and_go_to(self):
        """Ctrl+wheel zooms about the point under the pointer, as a PACS
        does (it zoomed about the pane's centre: what the reader pointed at
        slid away): a caliper's end under the pointer stays under it, and a
        drag from there moves that end. Chosen in the list with an end out
        of view, a caliper is centred (only its centre counted)."""
        # A database of its own: the class's holds the earlier tests'
        # calipers on this series, which the list shows too.
        self.env = dict(self.env, XDG_DATA_HOME=os.path.join(self.tmp, "data-zoom"))
        self.launch()
        self.click_button("Bidirectional")
        self.assertTrue(self.described("tool: Bidirectional"), self.viewer.description)
        ax, ay = self.cx + 60, self.cy - 80
        self.drag(ax, ay, ax + 100, ay)
        vals = self.wait_values(lambda v: len(v) == 1)
        self.assertIsNotNone(vals, self.viewer.description)
        self.assert_mm(vals[0][0], 100, "before the zoom")
        before = vals[0][0]

        self.mouse(ax, ay, "abs")
        reg = self.pyatspi.Registry
        reg.generateKeyboardEvent(37, None, self.pyatspi.KEY_PRESS)  # Control_L, a keycode
        try:
            for _ in range(3):
                self.mouse(ax, ay, "b4c")  # the wheel, up
        finally:
            reg.generateKeyboardEvent(37, None, self.pyatspi.KEY_RELEASE)
        zoom = 1.15 ** 3

        def zoomed():
            m = re.search(r"([\d.]+) mm per pixel", self.viewer.description or "")
            return m and abs(self.mm_per_px / float(m[1]) - zoom) < 0.01
        self.assertTrue(wait_for(zoomed, 15), self.viewer.description)

        # The end is still under the pointer: dragged 40 px down from there,
        # the caliper changes (no second one begins). Its other end is now
        # 100 * zoom px away along the row.
        self.drag(ax, ay, ax, ay + 40)
        vals = self.wait_values(lambda v: len(v) == 1 and v[0][0] != before)
        self.shot("zoomed-at-pointer")
        self.assertIsNotNone(vals, "the caliper's end slid from under the pointer: %s"
                             % (self.values(),))
        want = math.hypot(100, 40 / zoom) * self.mm_per_px
        self.assertAlmostEqual(vals[0][0], want, delta=2 * self.mm_per_px + 0.05)

        # Six steps more about that end: the other end leaves the pane, the
        # centre does not. Chosen in the list again (another click first
        # leaves it unselected), it is centred whole in the pane: its other
        # end is then half its length from the pane's centre, and a drag
        # from there moves that end. (Only a caliper whose centre had left
        # the pane was brought back before.)
        x, y, w, h = self.viewer.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        end = (ax + 100 * zoom, ay)          # the other end, on screen
        more = 1.15 ** 6
        reg.generateKeyboardEvent(37, None, self.pyatspi.KEY_PRESS)
        try:
            self.mouse(ax, ay + 40, "abs")
            for _ in range(6):
                self.mouse(ax, ay + 40, "b4c")
        finally:
            reg.generateKeyboardEvent(37, None, self.pyatspi.KEY_RELEASE)
        zoom *= more
        self.assertTrue(wait_for(zoomed, 15), self.viewer.description)
        vx, vy = (end[0] - ax) * more, (end[1] - ay - 40) * more
        self.assertGreater(ax + vx, x + w - 20, "the end is still in the pane")
        self.assertLess(ax + vx / 2, x + w - 20, "the centre left the pane too")
        self.click_button("Navigate")
        self.mouse(x + 30, y + h - 30, "abs")
        self.mouse(x + 30, y + h - 30, "b1c")
        self.assertTrue(wait_for(lambda: "selected:" not in (self.viewer.description or ""), 10),
                        self.viewer.description)
        rows = find_all(find(self.app, lambda n: (n.name or "") == "Measurement list"),
                        lambda n: n.getRole() == self.pyatspi.ROLE_LIST_ITEM, [])
        self.assertEqual(len(rows), 1)
        rx, ry, rw, rh = rows[0].queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        self.mouse(rx + 40, ry + rh // 2, "abs")
        self.mouse(rx + 40, ry + rh // 2, "b1c")
        self.assertTrue(wait_for(lambda: "selected:" in (self.viewer.description or ""), 10),
                        self.viewer.description)
        before = vals[0][0]
        bx, by = self.cx + vx / 2, self.cy + vy / 2
        self.drag(bx, by, bx, by + 30)
        vals = self.wait_values(lambda v: len(v) == 1 and v[0][0] != before)
        self.shot("go-to-centred")
        self.assertIsNotNone(vals, "the caliper was not centred: %s" % (self.values(),))
        want = math.hypot(vx, vy + 30) * self.mm_per_px / zoom
        self.assertAlmostEqual(vals[0][0], want, delta=2 * self.mm_per_px + 0.05)

    def test_compare(self):
        """Prior and current side by side: the same plane of two studies,
        scrolling together."""
        self.launch()
        self.compare_with_study_2()
        self.assertTrue(self.described("panes: Axial  Study 1  CT"), self.viewer.description)
        self.assertIn("; Axial  Study 2  CT", self.viewer.description)
        self.assertTrue(self.viewer.description.startswith("Axial · slice 16 / 30"))
        # Three slices down in the current study; the prior follows.
        self.assertIn("pane 1 of 2", self.viewer.description)
        self.focus_viewer()
        for n in (17, 18, 19):
            self.pyatspi.Registry.generateKeyboardEvent(0xff54, None, self.pyatspi.KEY_SYM)
            self.assertTrue(self.described("Axial · slice %d / 30" % n), self.viewer.description)
        # Tab: the prior's pane is the active one, at the same slice.
        self.pyatspi.Registry.generateKeyboardEvent(0xff09, None, self.pyatspi.KEY_SYM)  # Tab
        self.assertTrue(self.described("pane 2 of 2"), self.viewer.description)
        self.assertTrue(self.viewer.description.startswith("Axial · slice 19 / 30"),
                        self.viewer.description)
        screenshot(os.path.join(OUT, "readroom-compare.png"))

        # Two sessions, two frames of reference: linked by an offset
        # (centre on centre to start with).
        self.assertEqual(self.pane_slices(), (19, 19, "linked by offset"))
        # Unlinked from the viewer controls, the prior's pane (active)
        # scrolls alone: four slices on, the current stays at 19.
        self.click_button("Link Scrolling")
        self.assertTrue(self.described("not linked"), self.viewer.description)
        for n in (20, 21, 22, 23):
            self.pyatspi.Registry.generateKeyboardEvent(0xff54, None, self.pyatspi.KEY_SYM)
            self.assertTrue(self.described("Axial · slice %d / 30" % n), self.viewer.description)
        self.assertEqual(self.pane_slices(), (19, 23, "not linked: scrolls alone"))
        self.shot("readroom-compare-unlinked")
        # Linked here with K; then the current pane (Shift+Tab) scrolls both:
        # two slices back, the prior two back too, four apart as set.
        self.pyatspi.Registry.generateKeyboardEvent(ord("k"), None, self.pyatspi.KEY_SYM)
        self.assertTrue(self.described("linked by offset"), self.viewer.description)
        self.shift_tab()  # back to the first pane (Tab goes on from the last)
        self.assertTrue(self.described("pane 1 of 2"), self.viewer.description)
        for n in (18, 17):
            self.pyatspi.Registry.generateKeyboardEvent(0xff52, None, self.pyatspi.KEY_SYM)  # Up
            self.assertTrue(self.described("Axial · slice %d / 30" % n), self.viewer.description)
        self.assertEqual(self.pane_slices(), (17, 21, "linked by offset"))
        self.shot("readroom-compare-linked-here")

    def window_of_active_pane(self):
        """The active pane's W and L as the viewer says them, and their
        units (" SUVbw" for a PET whose SUV is known, else "")."""
        m = re.search(r" · W (-?[\d.]+) L (-?[\d.]+)( SUVbw)?", self.viewer.description or "")
        self.assertIsNotNone(m, self.viewer.description)
        return m[1], m[2], m[3] or ""

    def test_compare_pet_window(self):
        """A PET beside a CT keeps its own window: the CT's (and the CT
        presets) would make it a white blob. Each pane's W/L is its own,
        set by keys and drags on that pane, and its caption says it. A PET
        opens as radiology viewers open it (OHIF's PT default): SUVbw 0 to
        5, not over its whole range (a few hot voxels at the top of the
        window leave the body dark); alone as beside the CT."""
        study = os.path.join(self.tmp, "ctpet")
        if not os.path.isdir(study):
            subprocess.run([PHANTOM, study, "--kind", "ct,pet", "--slices", "30", "--size", "128",
                            "--timepoints", "2"], check=True, capture_output=True)
        self.launch(study)
        self.compare_with_study_2("Study 2 · PT")
        self.assertTrue(self.described("; Axial  Study 2  PET"), self.viewer.description)
        self.focus_viewer()
        self.assertTrue(self.described("pane 1 of 2"), self.viewer.description)
        ct = self.window_of_active_pane()
        # The PET pane: its own window. The phantom's PET carries weight,
        # dose and times, so SUV is known: SUVbw 0 to 5 is W 5 L 2.5.
        self.pyatspi.Registry.generateKeyboardEvent(0xff09, None, self.pyatspi.KEY_SYM)  # Tab
        self.assertTrue(self.described("pane 2 of 2"), self.viewer.description)
        pet = self.window_of_active_pane()
        self.assertNotEqual(pet, ct, "the PET pane shows the CT's window")
        print("windows: CT %r, PET %r" % (ct, pet), file=sys.stderr)
        self.assertEqual(pet, ("5.0", "2.5", " SUVbw"))
        # Key 2 (the CT lung preset) on the PET pane changes nothing, there
        # or on the CT (the keys arrive in order: Tab after it shows it done).
        self.pyatspi.Registry.generateKeyboardEvent(ord("2"), None, self.pyatspi.KEY_SYM)
        self.shift_tab()  # back to the first pane (Tab goes on from the last)
        self.assertTrue(self.described("pane 1 of 2"), self.viewer.description)
        self.assertEqual(self.window_of_active_pane(), ct)
        self.pyatspi.Registry.generateKeyboardEvent(0xff09, None, self.pyatspi.KEY_SYM)  # Tab
        self.assertTrue(self.described("pane 2 of 2"), self.viewer.description)
        self.assertEqual(self.window_of_active_pane(), pet)
        # On the CT pane the preset applies, to the CT alone.
        self.shift_tab()  # back to the first pane (Tab goes on from the last)
        self.assertTrue(self.described("pane 1 of 2"), self.viewer.description)
        self.pyatspi.Registry.generateKeyboardEvent(ord("2"), None, self.pyatspi.KEY_SYM)
        self.assertTrue(self.described("W 1500 L -600"), self.viewer.description)
        self.pyatspi.Registry.generateKeyboardEvent(0xff09, None, self.pyatspi.KEY_SYM)  # Tab
        self.assertTrue(self.described("pane 2 of 2"), self.viewer.description)
        self.assertEqual(self.window_of_active_pane(), pet)
        self.shot("readroom-compare-pet")

        # The PET alone, chosen in the series list: the same SUV window.
        row = wait_for(lambda: find(self.app, lambda n: n.getRole() == self.pyatspi.ROLE_LIST_ITEM
                                    and (n.name or "").startswith("PT ")), 10)
        self.assertIsNotNone(row, "no PET in the series list")
        x, y, w, h = row.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        self.mouse(x + w // 2, y + h // 2, "abs")
        self.mouse(x + w // 2, y + h // 2, "b1c")
        self.assertTrue(self.described("— panes: Axial  PET FDG phantom"), self.viewer.description)
        self.assertEqual(self.window_of_active_pane(), ("5.0", "2.5", " SUVbw"))
        self.shot("readroom-pet-alone")

    def test_compare_same_frame(self):
        """A re-scan in the same frame of reference beside the first scan:
        linked by patient position, not centre on centre."""
        self.launch(self.rescan, "Axial · slice 16 / 31")
        self.compare_with_study_2()
        # At z = 0 (slice 16 of the first scan) the re-scan, centred at
        # z = 20 in 5 mm slices, is four slices lower: its slice 12.
        self.assertTrue(self.described("; Axial  Study 2  CT"), self.viewer.description)
        self.assertTrue(wait_for(lambda: re.search(r"Im 12/31, linked by position",
                                                   self.viewer.description or ""), 10),
                        self.viewer.description)
        self.focus_viewer()
        for n in (17, 18):
            self.pyatspi.Registry.generateKeyboardEvent(0xff54, None, self.pyatspi.KEY_SYM)
            self.assertTrue(self.described("Axial · slice %d / 31" % n), self.viewer.description)
        self.assertTrue(re.search(r"Im 18/31; .*Im 14/31, linked by position",
                                  self.viewer.description), self.viewer.description)
        self.shot("readroom-compare-same-frame")

    def bright_pixels(self, path, x, y, w, h):
        """The caption-white pixels of a screenshot's box: grey text drawn
        at 0.92, not the image's dark air nor the frames' cyan."""
        out = subprocess.run(["convert", path, "-crop", "%dx%d+%d+%d" % (w, h, x, y), "+repage",
                              "-depth", "8", "txt:-"], capture_output=True, text=True).stdout
        return sum(1 for m in re.finditer(r"^\d+,\d+: \((\d+),(\d+),(\d+)", out, re.M)
                   if min(int(v) for v in m.groups()) >= 160 and
                   max(int(v) for v in m.groups()) - min(int(v) for v in m.groups()) < 30)

    def test_captions_fit(self):
        """A series description longer than a pane is wide (two by two):
        each pane's caption ends with an ellipsis inside the pane, not cut
        mid-glyph at its edge. Seen on the screen, where the reader sees it."""
        study = os.path.join(self.tmp, "longname")
        desc = "CT-THORAX-ABDOMEN-PELVIS-PORTALVENOUS-1.25MM-B30F-SOFTTISSUE-KERNEL-RECON"
        if not os.path.isdir(study):
            subprocess.run([PHANTOM, study, "--kind", "ct", "--slices", "30", "--size", "128",
                            "--series-description", desc], check=True, capture_output=True)
        self.launch(study)
        self.click_button("Two by two")
        four = re.compile(r" — panes: Axial  %s[^;]*; Coronal  %s; Sagittal  %s; "
                          r"Coronal MIP 30 mm  %s"
                          % ((re.escape(desc),) * 4))
        self.assertTrue(wait_for(lambda: four.search(self.viewer.description or ""), 15),
                        self.viewer.description)
        path = os.path.join(OUT, "readroom-captions-2x2.png")
        self.shot("readroom-captions-2x2")
        x, y, w, h = self.viewer.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        # The top two panes, each half the viewer; captions sit on the
        # line 16 px down (glyphs from about 6 to 19 px).
        for left, right in ((x, x + w // 2), (x + w // 2, x + w)):
            self.assertGreater(self.bright_pixels(path, left + 8, y + 5, 60, 15), 30,
                               "no caption drawn at %d" % left)
            # The last 7 px before the pane's edge: the caption stops 8 px
            # short of it; a clipped one runs into it.
            self.assertEqual(self.bright_pixels(path, right - 8, y + 5, 7, 15), 0,
                             "the caption of the pane ending at %d is cut at its edge" % right)

    def grey_box(self, path, x, y, w, h):
        """A screenshot's box as {(x, y): mean of R, G and B}."""
        out = subprocess.run(["convert", path, "-crop", "%dx%d+%d+%d" % (w, h, x, y), "+repage",
                              "-depth", "8", "txt:-"], capture_output=True, text=True).stdout
        return {(int(m[1]), int(m[2])): (int(m[3]) + int(m[4]) + int(m[5])) / 3
                for m in re.finditer(r"^(\d+),(\d+): \((\d+),(\d+),(\d+)", out, re.M)}

    def test_label_halo(self):
        """A caliper's value is drawn light in a dark halo all round, as
        OHIF and Horos draw theirs (walk finding 10): a shadow on one side
        only left it white on white over a bright lesion. Seen on the
        screen: the light glyph pixels the label added over a background
        that is not dark have a dark pixel just left of their left edge
        too, not only (as a drop shadow) right of and below them."""
        self.launch()
        cx, cy = self.cx, self.cy - 40
        before = os.path.join(OUT, "readroom-halo-before.png")
        after = os.path.join(OUT, "readroom-halo.png")
        self.shot("readroom-halo-before")
        self.click_button("Bidirectional")
        self.assertTrue(self.described("tool: Bidirectional"), self.viewer.description)
        # From the right lung to the mediastinum: the label, right of and
        # below the caliper's right end, falls on soft tissue (mid-grey in
        # the CT window), then on the left lung.
        self.drag(cx - 150, cy, cx - 60, cy)
        self.assertIsNotNone(self.wait_values(lambda v: len(v) == 1), self.values())
        self.shot("readroom-halo")
        # Below the caliper's line (and its handles), where its label goes.
        box = (cx - 60, cy + 6, 300, 50)
        b, a = self.grey_box(before, *box), self.grey_box(after, *box)
        glyph = {k for k, v in a.items() if v >= 200 and v - b.get(k, 255) > 40}
        edges = haloed = 0
        for (x, y) in glyph:
            left = [(x - d, y) for d in (1, 2)]
            if (x - 1, y) in glyph or any(b.get(k, 0) < 90 for k in left):
                continue  # not a left edge, or over a dark background anyway
            edges += 1
            if min(a.get(k, 255) for k in left) < 70:
                haloed += 1
        print("label halo: %d of %d left edges dark" % (haloed, edges), file=sys.stderr)
        self.assertGreater(edges, 10, "no label drawn under the caliper (readroom-halo.png)")
        self.assertGreater(haloed, 0.8 * edges, "the label's left edges have no dark halo")

    def compare_with_study_2(self, what="Study 2 · CT"):
        button = find(self.app, lambda n: (n.name or "") == "Compare with another study")
        self.assertIsNotNone(button)
        # A menu button offers no accessible action in GTK 4.8: click it.
        bx, by, bw, bh = button.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        self.mouse(bx + bw // 2, by + bh // 2, "abs")
        self.mouse(bx + bw // 2, by + bh // 2, "b1c")
        item = wait_for(lambda: find(self.app, lambda n: (n.name or "").startswith(what)
                                     and n.getRole() != self.pyatspi.ROLE_LABEL), 10)
        self.assertIsNotNone(item, "no %s in the Compare menu" % what)
        item.queryAction().doAction(0)

    def shift_tab(self):
        reg, p = self.pyatspi.Registry, self.pyatspi
        reg.generateKeyboardEvent(50, None, p.KEY_PRESS)  # Shift_L
        reg.generateKeyboardEvent(0xff09, None, p.KEY_SYM)  # Tab
        reg.generateKeyboardEvent(50, None, p.KEY_RELEASE)

    def focus_viewer(self):
        # The click that closes the Compare menu may be the one the menu
        # takes: click until the viewer has the keyboard focus.
        def focused():
            self.mouse(self.cx - 200, self.cy, "abs")
            self.mouse(self.cx - 200, self.cy, "b1c")
            return wait_for(lambda: self.viewer.getState().contains(self.pyatspi.STATE_FOCUSED),
                            5)
        self.assertTrue(focused() or focused(), "the viewer did not take the focus")

    def shot(self, name):
        time.sleep(0.4)  # the frame after the description: not asserted, only shown
        screenshot(os.path.join(OUT, name + ".png"))

    def pane_slices(self):
        """The slice of the current and of the prior pane, and how the
        prior follows, from the viewer's description of its panes."""
        d = self.viewer.description or ""
        m = re.search(r"panes: .*?, Im (\d+)/30; .*?, Im (\d+)/30, ([^,;]+)", d)
        self.assertIsNotNone(m, d)
        return int(m[1]), int(m[2]), m[3]


if __name__ == "__main__":
    main()
