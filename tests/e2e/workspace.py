"""What the read and adjudication workspaces' e2e tests share: stopping what
a class started, screenshots, and driving widgets through the
accessibility tree with real pointer events."""

import os
import shutil
import subprocess
import time

from a11y import find, find_all, label_text, wait_for


class WorkspaceDriver:
    """A mixin for a unittest.TestCase whose class sets `app`, `pyatspi`,
    `proc`, `bus`, `server`, `tmp`, and `out` (the screenshot folder).
    With a11y.AppCase first among the bases (test_read.py), AppCase's
    class cleanups stop what the class started, and this tearDownClass
    is not used."""

    @classmethod
    def tearDownClass(cls):
        for proc in (getattr(cls, "proc", None), getattr(cls, "bus", None)):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def shot(self, name):
        time.sleep(0.4)
        subprocess.run(["import", "-window", "root", os.path.join(self.out, name + ".png")],
                       capture_output=True)

    def named(self, name, roles=None, root=None, timeout=20):
        p = self.pyatspi
        roles = roles or (p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON)
        return wait_for(lambda: find(root or self.app,
                                     lambda n: ((n.name or "") == name or
                                                (n.name or "").startswith(name + " "))
                                     and n.getRole() in roles), timeout)

    def click(self, node):
        self.assertIsNotNone(node)
        try:
            node.queryAction().doAction(0)
        except Exception:
            self.click_at(node)

    def click_at(self, node):
        x, y, w, h = node.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        self.mouse(x + w // 2, y + h // 2, "abs")
        self.mouse(x + w // 2, y + h // 2, "b1c")

    def mouse(self, x, y, what):
        self.pyatspi.Registry.generateMouseEvent(int(x), int(y), what)
        time.sleep(0.05)

    def type_into(self, title, text, root=None):
        p = self.pyatspi
        editable = (p.ROLE_ENTRY, p.ROLE_TEXT, p.ROLE_PASSWORD_TEXT)
        entry = wait_for(lambda: find(root or self.app,
                                      lambda n: (n.name or "") == title and
                                      n.getRole() in editable + (p.ROLE_PANEL, p.ROLE_FILLER,
                                                                 p.ROLE_UNKNOWN)), 10)
        self.assertIsNotNone(entry, title)
        if entry.getRole() not in editable:
            entry = find(entry, lambda n: n.getRole() in editable)
            self.assertIsNotNone(entry, title)
        entry.queryEditableText().setTextContents(text)

    def frame(self, title):
        p = self.pyatspi
        return wait_for(lambda: find(self.app, lambda n: n.getRole() in (p.ROLE_FRAME,
                                                                         p.ROLE_DIALOG,
                                                                         p.ROLE_FILLER)
                                     and (n.name or "") == title), 15)

    def labels(self, root=None):
        p = self.pyatspi
        out = []
        for n in find_all(root or self.app, lambda n: n.getRole() == p.ROLE_LABEL, []):
            try:
                out.append(label_text(n))
            except Exception:
                pass  # a label that went away while it was read (a dialog closing)
        return out
