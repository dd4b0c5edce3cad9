#!/usr/bin/python3
"""The reader's workspace from the keyboard and to a screen reader, in the
real window against a real readroom-server on 127.0.0.1: Tab moves
through the viewer's panes and then on to the lesion form, Shift+Tab the
same way back (as GTK moves through a container's children); every control
the keyboard can reach has a name a screen reader can speak; and the
application starts, with a draft open, without a GTK warning or critical
on its stderr."""
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import common_ancestor, find, main, unnamed_focusable, wait_for  # noqa: E402
import test_read  # noqa: E402  (imported as a module: its Read case is not run here)

OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_keyboard")
TAB, SHIFT_L = 0xff09, 50  # a keysym, and the keycode of Shift_L
GTK_TROUBLE = re.compile(r"Gtk-(WARNING|CRITICAL)|GLib-GObject-(WARNING|CRITICAL)")


class Keyboard(test_read.Read):
    out = OUT
    test_baseline_read = None  # Read's own test runs in test_read.py

    @classmethod
    def setUpClass(cls):
        os.makedirs(OUT, exist_ok=True)
        super().setUpClass()

    # ---- helpers ----

    def open_with_target(self):
        """reader1's task open, one caliper made target T1 (the form then
        has its organ, location and status)."""
        self.launch()
        self.sign_in_and_open("reader1")
        x, y, w, h = self.viewer.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        self.cx, self.cy = x + w // 2, y + h // 2
        if not [r for r in self.row_names("Lesions") if r.startswith("Target T1")]:
            self.click(self.named("Bidirectional"))
            self.assertTrue(wait_for(lambda: "tool: Bidirectional" in
                                     (self.viewer.description or ""), 10))
            self.drag(self.cx - 40, self.cy + 130, self.cx + 40, self.cy + 130)
            self.assertTrue(wait_for(lambda: len(self.caliper_values()) == 1, 15),
                            self.viewer.description)
            self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10),
                        self.row_names("Lesions"))

    def focused(self):
        return find(self.app, lambda n: n.getState().contains(self.pyatspi.STATE_FOCUSED))

    def key(self, shift=False):
        reg, p = self.pyatspi.Registry, self.pyatspi
        if shift:
            reg.generateKeyboardEvent(SHIFT_L, None, p.KEY_PRESS)
        reg.generateKeyboardEvent(TAB, None, p.KEY_SYM)
        if shift:
            reg.generateKeyboardEvent(SHIFT_L, None, p.KEY_RELEASE)

    def in_form(self, node):
        """Whether @node is inside the lesion form (or is its Sign
        button, which sits under it)."""
        n = node
        while n is not None:
            if (n.name or "") == "Lesion form":
                return True
            n = n.parent
        return False

    def viewer_focused(self):
        return self.viewer.getState().contains(self.pyatspi.STATE_FOCUSED)

    def pane(self, text):
        return wait_for(lambda: text in (self.viewer.description or ""), 10)

    # ---- the tests ----

    def test_1_tab_through_panes_to_the_form(self):
        self.open_with_target()
        # Four panes, the first one chosen with the pointer.
        self.click(self.named("Two by two"))
        for _ in range(2):
            self.mouse(self.cx - 60, self.cy - 60, "abs")
            self.mouse(self.cx - 60, self.cy - 60, "b1c")
            if wait_for(self.viewer_focused, 5):
                break
        self.assertTrue(self.viewer_focused(), "the viewer did not take the focus")
        self.assertTrue(self.pane("pane 1 of 4"), self.viewer.description)
        # Tab: the next pane, in the viewer, up to the last.
        for n in (2, 3, 4):
            self.key()
            self.assertTrue(self.pane("pane %d of 4" % n), self.viewer.description)
            self.assertTrue(self.viewer_focused())
        # Then out of the viewer, and on until the lesion form's controls.
        self.key()
        self.assertTrue(wait_for(lambda: not self.viewer_focused(), 5),
                        "Tab after the last pane stayed in the viewer: "
                        + (self.viewer.description or ""))
        seen = []
        for _ in range(40):
            node = wait_for(self.focused, 5)
            seen.append("%s %r" % (node.getRoleName(), node.name) if node else "nothing")
            if node is not None and self.in_form(node):
                break
            self.key()
            time.sleep(0.1)  # the focus moves once the key is read
        else:
            self.fail("Tab never reached the lesion form: %s" % seen)
        self.assertFalse(self.viewer_focused())
        print("focus went: %s" % " → ".join(seen), file=sys.stderr)
        self.shot("1-form-focused")
        # Shift+Tab: back the same way, into the viewer at its last pane.
        for _ in range(len(seen) + 2):
            self.key(shift=True)
            if wait_for(self.viewer_focused, 2):
                break
        self.assertTrue(self.viewer_focused(), "Shift+Tab did not come back to the viewer")
        self.assertTrue(self.pane("pane 4 of 4"), self.viewer.description)
        self.key(shift=True)
        self.assertTrue(self.pane("pane 3 of 4"), self.viewer.description)
        self.assertTrue(self.viewer_focused())

    def test_2_every_control_named(self):
        self.open_with_target()
        # The viewer's drop-downs are among them (GTK 4.8 named their
        # buttons "GtkToggleButton").
        p = self.pyatspi
        workspace = common_ancestor(self.app, "Image viewer", "Lesion form")
        self.assertIsNotNone(workspace)
        missing = unnamed_focusable(workspace, self.pyatspi)
        for name in ("Slab mode", "Colour map"):
            self.assertIsNotNone(self.named(name, roles=(p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON),
                                            timeout=10),
                                 "no drop-down button named %s: %s" % (name, missing))
        self.assertEqual(missing, [], "controls a screen reader cannot name")

    def test_3_start_with_draft_without_gtk_warnings(self):
        self.open_with_target()
        # Started again with the draft there, as the reader starts it the
        # next morning: the task opens again, and stderr has no warnings.
        self.launch()
        self.assertTrue(wait_for(lambda: find(self.app, lambda n: (n.name or "") ==
                                              "Image viewer"), 30))
        time.sleep(2)  # nothing to wait for: warnings come while it lays out
        with open(os.path.join(self.proc.cwd, "stderr"), errors="replace") as f:
            # GTK warns of screen coordinates when a test asks for a
            # node's extents: the driver's doing, not the application's.
            trouble = [line for line in f if GTK_TROUBLE.search(line)
                       and "Screen coordinates not supported" not in line]
        self.assertEqual(trouble, [], "GTK complained at start-up")


if __name__ == "__main__":
    main()
