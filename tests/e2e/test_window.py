#!/usr/bin/python3
"""The real readroom window under Xvfb, driven through its accessibility
tree: open a phantom folder, find the series, scroll the stack, and check
what the overlays say. Run inside dbus-run-session with DISPLAY set."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a11y import (AppCase, all_texts, close_shortcuts_window, find, find_all, label_text, main, out_of_sight,  # noqa: E402
                  screenshot, shortcuts_window_entries, stop, tooltip_shortcut, wait_for)

READROOM = os.environ.get("READROOM_APP", "build/src/app/readroom")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir())


class Window(AppCase):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-")
        # Identifiers that must never reach the screen (readers are blinded).
        subprocess.run([PHANTOM, os.path.join(cls.tmp, "study"), "--kind", "ct,pet",
                        "--slices", "40", "--size", "256", "--pixel-spacing", "1.4",
                        "--patient-id", "PID-SECRET-42", "--study-date", "20250317"],
                       check=True, capture_output=True)
        cls.start_bus()
        env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"))
        cls.app_proc, cls.app = cls.launch_app([os.path.join(cls.tmp, "study")], env)

    def screenshot(self, name):
        return screenshot(os.path.join(OUT, name))

    def test_series_and_scrolling(self):
        pyatspi = self.pyatspi
        rows = wait_for(lambda: [r.name for r in find_all(self.app, lambda n: n.getRole() ==
                                                          pyatspi.ROLE_LIST_ITEM, [])
                                 if (r.name or "").startswith(("CT", "PT"))] or None)
        self.assertIsNotNone(rows, "no series rows")
        names = sorted(rows)
        self.assertEqual(len(names), 2, names)
        self.assertTrue(names[0].startswith("CT 1"), names)
        self.assertIn("40 slices", names[0])
        self.assertTrue(names[1].startswith("PT 3"), names)

        def labels():
            return [label_text(n) for n in find_all(self.app, lambda n: n.getRole() ==
                                                    pyatspi.ROLE_LABEL, [])]

        viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"))
        self.assertIsNotNone(viewer)

        def described(prefix):
            return wait_for(lambda: (viewer.description or "").startswith(prefix), 15)

        # The full volume replaces the one-slice preview: the middle slice.
        self.assertTrue(described("Axial · slice 21 / 40"), viewer.description)
        self.assertIn("W 400 L 40", viewer.description)
        # On the GPU (Mesa llvmpipe under Xvfb), not the CPU fallback.
        self.assertNotIn("CPU", viewer.description)

        # No window manager under Xvfb: keys go where the pointer is. The
        # window sits at the origin; the viewer is right of the series list.
        try:
            x, y, w, h = viewer.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        except Exception:
            x = y = w = h = 0
        cx, cy = (x + w // 2, y + h // 2) if w > 0 and h > 0 else (800, 450)
        pyatspi.Registry.generateMouseEvent(cx, cy, "abs")
        pyatspi.Registry.generateMouseEvent(cx, cy, "b1c")
        self.assertTrue(wait_for(lambda: viewer.getState().contains(pyatspi.STATE_FOCUSED), 15),
                        "the viewer did not take the focus")
        for n in (22, 23, 24):
            pyatspi.Registry.generateKeyboardEvent(0xff54, None, pyatspi.KEY_SYM)  # Down
            self.assertTrue(described("Axial · slice %d / 40" % n), viewer.description)
        self.screenshot("readroom-window.png")
        # Key 2: the lung preset.
        pyatspi.Registry.generateKeyboardEvent(ord("2"), None, pyatspi.KEY_SYM)
        self.assertTrue(wait_for(lambda: "W 1500 L -600" in (viewer.description or ""), 10),
                        viewer.description)

        # The MPR layout: three panes, the axial one large and the other two
        # planes beside it (one pane, the axial, before).
        self.assertNotIn("; ", viewer.description.split(" — panes: ")[-1])
        mpr = find(self.app, lambda n: (n.name or "") == "Multi-planar")
        self.assertIsNotNone(mpr)
        mpr.queryAction().doAction(0)
        three = re.compile(r" — panes: Axial[^;]*; (Sagittal|Coronal)[^;]*; (Sagittal|Coronal)")
        self.assertTrue(wait_for(lambda: three.search(viewer.description or ""), 15),
                        viewer.description)
        self.screenshot("readroom-mpr.png")

        # PET over CT: the study has both.
        fuse = find(self.app, lambda n: (n.name or "") == "Fuse PET")
        self.assertIsNotNone(fuse, "no Fuse PET button for a CT with a PET in its study")
        fuse.queryAction().doAction(0)
        self.assertTrue(wait_for(lambda: "fused with PT" in (viewer.description or ""), 20),
                        viewer.description)
        self.screenshot("readroom-fusion.png")
        # Nothing that identifies a patient is shown: not in any name, label
        # or description of the window, nor in the captions the viewer
        # draws (its description carries them).
        self.assertIn("panes: Axial", viewer.description)
        self.assertIn("CT chest-abdomen phantom", viewer.description)
        texts = all_texts(self.app)
        self.assertGreater(len(texts), 30)
        for secret in ("PID-SECRET-42", "Phantom^Synthetic", "Synthetic", "20250317",
                       "2025-03-17"):
            self.assertFalse([t for t in texts if secret in t], secret)

    def test_shortcuts_in_tooltips(self):
        """A control's tooltip names its shortcut as the Keyboard Shortcuts
        window does, in GTK's words and order ("Shift+Ctrl+Z"; walk: the
        tooltips said "Ctrl+Shift+Z")."""
        p = self.pyatspi
        # Control (accessible name) -> its entry in the shortcuts window.
        pairs = {"Open Folder": "Open Folder", "One plane": "One Plane",
                 "Side by side": "Two Planes Side by Side",
                 "Multi-planar": "Axial, Coronal and Sagittal",
                 "Two by two": "Three Planes and a MIP",
                 "Series sidebar": "Show or Hide the Series",
                 "Navigate": "Navigate (Window and Level)", "Length": "Length",
                 "Bidirectional": "Bidirectional", "Ellipse": "Elliptical ROI",
                 "Freehand": "Freehand ROI", "Angle": "Angle", "Probe": "Probe",
                 "Arrow": "Arrow with a Label", "Slab mode": "Slab: Thin, MIP, MinIP, Mean",
                 "Colour map": "Colour Map: Grey, Hot Iron, PET", "Undo": "Undo", "Redo": "Redo"}
        tips = {}
        for name in pairs:
            node = wait_for(lambda: find(self.app, lambda n: (n.name or "") == name and
                                         n.getRole() != p.ROLE_FRAME), 10)
            self.assertIsNotNone(node, name)
            tips[name] = tooltip_shortcut(node)
        win, entries = shortcuts_window_entries(p, self.app)
        self.assertIsNotNone(win, "no Keyboard Shortcuts window")
        try:
            for name, title in pairs.items():
                self.assertIn(title, entries, sorted(entries))
                self.assertEqual(tips[name], entries[title], name)
            self.assertEqual(tips["Redo"], "Shift+Ctrl+Z")
        finally:
            close_shortcuts_window(p, win)

    def test_window_at_800x600(self):
        """800x600, a reading workstation's least (run after the other
        test, this window over its): the window takes that size (nothing
        in it refuses to be narrower), and every tool is in sight in it,
        the last one too (the tools wrap, the series sidebar folds over
        the viewer). Walk: it stayed 900 px wide."""
        p = self.pyatspi
        config = os.path.join(self.tmp, "config-narrow")
        os.makedirs(os.path.join(config, "glib-2.0", "settings"))
        with open(os.path.join(config, "glib-2.0", "settings", "keyfile"), "w") as f:
            f.write("[org/readroom/Readroom]\nwindow-width=800\nwindow-height=600\n"
                    "window-maximized=false\n")
        env = self.app_env(XDG_DATA_HOME=os.path.join(self.tmp, "data-narrow"),
                           XDG_CONFIG_HOME=config)
        env["GSETTINGS_BACKEND"] = "keyfile"
        proc, app = self.launch_app([os.path.join(self.tmp, "study")], env)
        try:
            viewer = wait_for(lambda: find(app, lambda n: (n.name or "") == "Image viewer" and
                                           (n.description or "").startswith("Axial · slice")),
                              30)
            self.assertIsNotNone(viewer)
            frame = find(app, lambda n: n.getRole() == p.ROLE_FRAME)
            w, h = frame.queryComponent().getExtents(p.DESKTOP_COORDS)[2:]
            self.screenshot("readroom-800x600.png")
            self.assertTrue(780 <= w <= 800 and 580 <= h <= 600, (w, h))
            for name in ("Navigate", "Arrow", "Slab mode", "Colour map", "Image orientation",
                         "Series sidebar", "Measurements", "Main Menu"):
                node = find(app, lambda n: (n.name or "") == name and
                            n.getRole() != p.ROLE_FRAME)
                self.assertIsNotNone(node, name)
                self.assertIsNone(out_of_sight(p, node), name)
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
