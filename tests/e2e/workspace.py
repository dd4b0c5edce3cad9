"""What the read and adjudication workspaces' e2e tests share: stopping what
a class started, screenshots, and driving widgets through the
accessibility tree with real pointer events."""

import os
import re
import shutil
import subprocess
import time

from a11y import find, find_all, label_text, screenshot, wait_for

# A bidirectional or length caliper's value in the measurement list.
# A bidirectional not yet given its short axis says so after its long one;
# a caliper that is a form lesion's is named first ("T1 · 34.3 × 17.2 mm").
CALIPER_VALUE = re.compile(r"^(?:[A-Z]+\d+ · )?(\d+\.\d)(?: × (\d+\.\d))? mm"
                           r"(?: · short axis not measured)?$")


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

    @classmethod
    def start_reading_trial(cls, cli, trial, name, reader_password, readers=1, options=(),
                            display_names=None):
        """A server of the class's own in cls.tmp (stopped by a class
        cleanup, whatever fails later), its URL in cls.url, and
        cls.admin (*args) running `readroom-cli admin` as the admin, always
        straight to the server (a test may put a proxy in cls.url); then a
        trial without QC read by @readers readers, reader1, reader2...,
        each a member with the reader role and the password
        @reader_password. @options: more of `trial create`'s options
        ("--criteria", "irecist"); @display_names: user -> full name."""
        from test_server import ADMIN_PASSWORD, Server

        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.url = url = "http://127.0.0.1:%d" % cls.server.port

        def admin(*args):
            env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
                       READROOM_NEW_PASSWORD=reader_password)
            subprocess.run([cli, "admin", "--server", url] + list(args), env=env, check=True,
                           capture_output=True)
        cls.admin = staticmethod(admin)
        users = ["reader%d" % (i + 1) for i in range(readers)]
        for user in users:
            full = (display_names or {}).get(user)
            admin("user", "add", user, *(("--display-name", full) if full else ()))
        admin("trial", "create", trial, "--name", name, *options, "--no-qc", "--readers",
              str(readers))
        for user in users:
            admin("member", "set", trial, user, "--roles", "reader")

    @classmethod
    def app_settings(cls, width, height):
        """cls.env for the application: its data, cache and settings in
        cls.tmp, no keyring, and a window of @width x @height (not
        maximized), through the settings it keeps its size in. After
        start_bus."""
        config = os.path.join(cls.tmp, "config")
        os.makedirs(os.path.join(config, "glib-2.0", "settings"))
        with open(os.path.join(config, "glib-2.0", "settings", "keyfile"), "w") as f:
            f.write("[org/readroom/Readroom]\nwindow-width=%d\nwindow-height=%d\n"
                    "window-maximized=false\n" % (width, height))
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                              XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"),
                              XDG_CONFIG_HOME=config, READROOM_NO_KEYRING="1")
        cls.env["GSETTINGS_BACKEND"] = "keyfile"

    def shot(self, name):
        time.sleep(0.4)
        screenshot(os.path.join(self.out, name + ".png"))

    def handle_pixels(self, x, y, name):
        """How many pixels of a caliper's handle colour (the selection's
        cyan, 0.35 0.85 1.0) a screenshot has 2 to 4 px above and below
        the caliper point at screen (x, y): inside the 8 px handle square,
        clear of a horizontal caliper's own line and halo."""
        path = os.path.join(self.out, name + ".png")
        self.shot(name)
        out = subprocess.run(["convert", path, "-crop", "9x9+%d+%d" % (x - 4, y - 4), "+repage",
                              "-depth", "8", "txt:-"], capture_output=True, text=True).stdout
        n = 0
        for m in re.finditer(r"^(\d+),(\d+): \((\d+),(\d+),(\d+)", out, re.M):
            dx, dy, r, g, b = (int(v) for v in m.groups())
            if abs(dy - 4) >= 2 and r < 150 and g > 170 and b > 220:
                n += 1
        return n

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

    def drag(self, x0, y0, x1, y1):
        """A pointer drag in ten steps, as a hand draws a caliper."""
        self.mouse(x0, y0, "abs")
        self.mouse(x0, y0, "b1p")
        for i in range(1, 11):
            self.mouse(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10, "abs")
        self.mouse(x1, y1, "b1r")

    def list_items(self, name):
        """The rows of the list named @name (none when it is not shown)."""
        p = self.pyatspi
        lst = find(self.app, lambda n: (n.name or "") == name and n.getRole() == p.ROLE_LIST)
        return find_all(lst, lambda n: n.getRole() == p.ROLE_LIST_ITEM, []) if lst else []

    def row_names(self, name):
        """The names of the rows of the list named @name."""
        out = []
        for r in self.list_items(name):
            try:
                out.append(r.name or "")
            except Exception:
                pass  # a row that went away while it was read
        return out

    def click_row(self, row):
        """A real click near a row's start (where its title is), as a
        person chooses a row."""
        x, y, w, h = row.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        self.mouse(x + 60, y + h // 2, "abs")
        self.mouse(x + 60, y + h // 2, "b1c")

    def open_submitted(self, title, timeout=120):
        """Opens the submitted task whose worklist row starts with @title,
        as on a computer that never had it: listed, clicked once (it
        downloads, then opens by itself once its files are here)."""
        signed = lambda r: r.startswith(title) and " · submitted" in r  # noqa: E731
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist") if signed(r)],
                                 timeout), self.row_names("Worklist"))
        self.click_row([r for r in self.list_items("Worklist") if signed(r.name or "")][0])
        # Its workspace replaces the list (whose title goes with it).
        self.assertTrue(wait_for(lambda: "Worklist" not in self.labels(), timeout),
                        self.labels())

    def caliper_count(self):
        return len(self.list_items("Measurement list"))

    def caliper_lesions(self):
        """The lesion each caliper of the measurement list is named for
        ("T1"), None for one that is no lesion's."""
        lst = find(self.app, lambda n: (n.name or "") == "Measurement list")
        out = []
        for n in find_all(lst, lambda n: n.getRole() == self.pyatspi.ROLE_LABEL, []) if lst else []:
            if CALIPER_VALUE.match(label_text(n)):
                m = re.match(r"^([A-Z]+\d+) · ", label_text(n))
                out.append(m[1] if m else None)
        return out

    def caliper_values(self):
        """(long, short) of each caliper in the measurement list, in mm;
        short is None for a length."""
        lst = find(self.app, lambda n: (n.name or "") == "Measurement list")
        out = []
        for n in find_all(lst, lambda n: n.getRole() == self.pyatspi.ROLE_LABEL, []) if lst else []:
            m = CALIPER_VALUE.match(label_text(n))
            if m:
                out.append((float(m[1]), float(m[2]) if m[2] else None))
        return out

    def sign_in(self, user, password, url=None, open_dialog=True):
        """Signs @user in through the sign-in dialog, opened first by the
        header bar's Sign In button unless @open_dialog is false (Switch
        User opened it)."""
        if open_dialog:
            self.click(self.named("Sign In"))
        dialog = self.frame("Sign In")
        self.assertIsNotNone(dialog, "no sign-in dialog")
        self.type_into("Server", url or self.url, root=dialog)
        self.type_into("User Name", user, root=dialog)
        self.type_into("Password", password, root=dialog)
        self.click(self.named("Sign In", root=dialog))

    def choose_organ(self, lesion, organ, typed=None):
        """Picks @organ for @lesion in the read form as a reader does with
        the keyboard: opens the lesion's organ list, types @typed (the
        name's first four letters by default) into its search, Enter
        (which takes the organ whose name begins with it, else the first
        the search shows)."""
        typed = typed or organ[:4]
        p = self.pyatspi
        button = self.named("Organ of " + lesion, roles=(p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON,
                                                          p.ROLE_COMBO_BOX))
        self.assertIsNotNone(button, "no organ choice for " + lesion)
        self.click(button)
        search = "Find the organ of " + lesion
        editable = (p.ROLE_ENTRY, p.ROLE_TEXT)

        def focused_search():
            box = find(self.app, lambda n: (n.name or "") == search)
            if box is None or box.getRole() in editable:
                return box if box and box.getState().contains(p.STATE_FOCUSED) else None
            return find(box, lambda n: n.getRole() in editable and
                        n.getState().contains(p.STATE_FOCUSED))
        entry = wait_for(focused_search, 10)
        if entry is None:
            self.shot("debug-organ")
            self.fail("the organ list of %s has no focused search: %r" % (
                lesion, [(n.getRoleName(), n.name) for n in
                         find_all(self.app, lambda n: "organ" in (n.name or "").lower(), [])]))
        p.Registry.generateKeyboardEvent(0, typed, p.KEY_STRING)
        text = entry.queryText()
        self.assertTrue(wait_for(lambda: text.getText(0, text.characterCount) == typed, 10),
                        text.getText(0, text.characterCount))
        p.Registry.generateKeyboardEvent(0xff0d, None, p.KEY_SYM)  # Return
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if (" %s, %s," % (lesion, organ)) in r], 10),
                        self.row_names("Lesions"))

    def signing_closed(self):
        """The signing dialog closes itself once the read is signed; the
        workspace behind it says what became of the read."""
        p = self.pyatspi
        return find(self.app, lambda n: n.getRole() in (p.ROLE_FRAME, p.ROLE_DIALOG,
                                                         p.ROLE_FILLER)
                    and (n.name or "") == "Sign and Submit") is None

    def sign_read(self, password, expect):
        """Signs the open read in the signing dialog with @password; the
        dialog closes itself and the workspace's receipt says @expect."""
        self.click(self.named("Sign and submit"))
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        self.type_into("Password", password, root=dialog)
        self.click(self.named("Sign and submit", root=dialog))
        self.assertTrue(wait_for(self.signing_closed, 30), self.labels())
        receipt = wait_for(lambda: [t for t in self.labels()
                                    if t.startswith("Submitted and locked. Receipt")], 30)
        if not receipt:
            self.shot("debug-receipt")
        self.assertTrue(receipt, self.labels())
        self.assertIn(expect, receipt[0])

    def chooser_accept(self, button):
        """The file chooser's accept button, pressed (its dialog is a
        window of its own in the accessibility tree)."""
        p = self.pyatspi
        names = (button, "_%s %s" % (button, button))   # GTK 4.8: "_Save Save"
        accept = wait_for(lambda: find(p.Registry.getDesktop(0), lambda n: (n.name or "") in names
                                       and n.getRole() == p.ROLE_PUSH_BUTTON), 20)
        if accept is None:
            self.shot("debug-chooser")
        self.assertIsNotNone(accept, "no %s button" % button)
        self.click(accept)

    def status(self, prefix, timeout=60):
        """The label that says what a save did, which must start with
        @prefix (not "Nothing was saved")."""
        found = wait_for(lambda: [t for t in self.labels() if t.startswith(prefix)
                                  or t.startswith("Nothing was saved")], timeout)
        self.assertTrue(found, self.labels())
        self.assertTrue(found[0].startswith(prefix), found[0])
        return found[0]
