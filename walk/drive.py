"""The walk's driver: attaches to the running readroom on the walk's
display and session bus (session.sh wrote them), reusing the e2e helpers."""
import os
import subprocess
import sys
import time

for line in open("/tmp/walk-run/env"):
    k, v = line.strip().split("=", 1)
    os.environ[k] = v
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import pyatspi  # noqa: E402
from a11y import find, find_all, label_text, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402

SHOTS = "/tmp/walk-run/shots"


class D(WorkspaceDriver):
    out = SHOTS
    pyatspi = pyatspi

    def __init__(self):
        desk = pyatspi.Registry.getDesktop(0)
        self.app = wait_for(lambda: find(desk, lambda n: n.getRole() == pyatspi.ROLE_APPLICATION
                                         and "readroom" in (n.name or "").lower()), 20)
        assert self.app is not None, "no readroom on the bus"

    # unittest-ish asserts used by WorkspaceDriver
    def assertIsNotNone(self, x, msg=None):
        assert x is not None, msg

    def assertTrue(self, x, msg=None):
        assert x, msg

    def assertIn(self, a, b, msg=None):
        assert a in b, msg or (a, b)

    def fail(self, msg):
        raise AssertionError(msg)

    def shot(self, name):
        time.sleep(0.6)
        p = os.path.join(SHOTS, name + ".png")
        subprocess.run(["import", "-window", "root", p], capture_output=True)
        print("shot", p)

    def dump(self, root=None, showing_only=True, maxdepth=60):
        """Every showing node: role, name, description, text."""
        def walk(n, d):
            if d > maxdepth:
                return
            try:
                st = n.getState()
                if showing_only and d > 1 and not st.contains(pyatspi.STATE_VISIBLE):
                    return
                name, role = n.name or "", n.getRoleName()
                txt = label_text(n) if n.getRole() in (pyatspi.ROLE_LABEL, pyatspi.ROLE_TEXT,
                                                      pyatspi.ROLE_ENTRY) else ""
                sens = "" if st.contains(pyatspi.STATE_SENSITIVE) else " [insensitive]"
                desc = n.description or ""
                print("%s%s %r%s%s%s" % ("  " * d, role, name, sens,
                                         (" desc=%r" % desc) if desc else "",
                                         (" text=%r" % txt) if txt and txt != name else ""))
                for i in range(n.childCount):
                    walk(n.getChildAtIndex(i), d + 1)
            except Exception as e:
                print("  " * d, "<gone>", e)
        walk(root or self.app, 0)

    def key(self, keysym):
        pyatspi.Registry.generateKeyboardEvent(keysym, None, pyatspi.KEY_SYM)
        time.sleep(0.05)

    # X keycodes of Xvfb's default (evdev) map, for chords.
    CODES = {"ctrl": 37, "shift": 50, "alt": 64, "slash": 61, "esc": 9, "tab": 23,
             "return": 36, "q": 24, "w": 25, "f": 41, "o": 32, "z": 52, "f10": 76,
             "up": 111, "down": 116, "left": 113, "right": 114, "pgup": 112, "pgdn": 117,
             "comma": 59, "period": 60}

    def combo(self, *names):
        keysyms = [self.CODES.get(n, n) for n in names]
        for k in keysyms:
            pyatspi.Registry.generateKeyboardEvent(k, None, pyatspi.KEY_PRESS)
        for k in reversed(keysyms):
            pyatspi.Registry.generateKeyboardEvent(k, None, pyatspi.KEY_RELEASE)
        time.sleep(0.1)

    def viewer(self):
        return find(self.app, lambda n: (n.name or "") == "Image viewer")

    def extents(self, n):
        return n.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
