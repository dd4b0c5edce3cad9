#!/usr/bin/python3
"""The login, the worklist and a download in the real window, against a
real readroom-server on 127.0.0.1, driven through the accessibility tree:
sign in through the dialog, see the task, download it, open it; its study
is labelled by timepoint, nothing identifies the patient."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, all_texts, find, find_all, label_text, main, screenshot, wait_for  # noqa: E402
from test_server import ADMIN_PASSWORD, Server  # noqa: E402

READROOM = os.environ.get("READROOM_APP", "build/src/app/readroom")
CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir())


class Worklist(AppCase):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-worklist-")
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        # Stopped whatever fails after this, in setUpClass or later.
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.url = "http://127.0.0.1:%d" % cls.server.port

        def admin(*args):
            env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
                       READROOM_NEW_PASSWORD="reader-password")
            subprocess.run([CLI, "admin", "--server", cls.url] + list(args), env=env, check=True,
                           capture_output=True)
        cls.admin = staticmethod(admin)
        admin("user", "add", "reader1")
        admin("trial", "create", "TW", "--name", "worklist", "--no-qc", "--readers", "1")
        admin("member", "set", "TW", "reader1", "--roles", "reader")
        study = os.path.join(cls.tmp, "study")
        subprocess.run([PHANTOM, study, "--kind", "ct", "--slices", "30", "--size", "128",
                        "--patient-id", "PID-SECRET-77"], check=True, capture_output=True)
        admin("upload", study, "--trial", "TW", "--subject", "S-001", "--timepoint", "Baseline",
              "--day", "0")
        cls.start_bus()
        env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                          XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"), READROOM_NO_KEYRING="1")
        cls.proc, cls.app = cls.launch_app([], env)

    def named(self, name, roles=None, root=None):
        p = self.pyatspi
        roles = roles or (p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON)
        # GTK 4.8 names a labelled button "label label": the first word
        # group is what counts.
        return wait_for(lambda: find(root or self.app,
                                     lambda n: ((n.name or "") == name or
                                                (n.name or "").startswith(name + " "))
                                     and n.getRole() in roles), 20)

    def click(self, node):
        try:
            node.queryAction().doAction(0)
        except Exception:
            x, y, w, h = node.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
            self.pyatspi.Registry.generateMouseEvent(x + w // 2, y + h // 2, "b1c")

    def type_into(self, title, text):
        p = self.pyatspi
        entry = wait_for(lambda: find(self.app, lambda n: n.getRole() in (p.ROLE_ENTRY, p.ROLE_TEXT,
                                                                         p.ROLE_PASSWORD_TEXT)
                                      and (n.name or "") == title), 10)
        self.assertIsNotNone(entry, title)
        entry.queryEditableText().setTextContents(text)

    def rows(self):
        """The worklist rows' names. A row the window replaced while it was
        read is gone from the bus ("The application no longer exists"
        from AT-SPI, for that object only): skipped, the next poll sees
        the new one."""
        p = self.pyatspi
        lst = find(self.app, lambda n: (n.name or "") == "Worklist" and n.getRole() == p.ROLE_LIST)
        names = []
        for r in (find_all(lst, lambda n: n.getRole() == p.ROLE_LIST_ITEM, []) if lst else []):
            try:
                names.append(r.name or "")
            except Exception:
                pass
        return names

    def status_labels(self):
        p = self.pyatspi
        out = []
        for n in find_all(self.app, lambda n: n.getRole() == p.ROLE_LABEL, []):
            try:
                out.append(label_text(n))
            except Exception:
                pass  # a label rebuilt while it was read
        return out

    def test_sign_in_download_open(self):
        p = self.pyatspi
        self.click(self.named("Sign In"))
        self.assertIsNotNone(wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_FRAME
                                                   and (n.name or "") == "Sign In"), 10))
        self.type_into("Server", self.url)
        self.type_into("User Name", "reader1")
        # A wrong password first: a plain-words error, no sign-in.
        self.type_into("Password", "not-it")
        screenshot(os.path.join(OUT, "readroom-login.png"))
        dialog = find(self.app, lambda n: n.getRole() == p.ROLE_FRAME and (n.name or "") == "Sign In")
        self.click(self.named("Sign In", root=dialog))
        self.assertTrue(wait_for(lambda: [l for l in find_all(dialog, lambda n: n.getRole() ==
                                                              p.ROLE_LABEL, [])
                                          if "not right" in label_text(l)], 20))
        self.type_into("Password", "reader-password")
        dialog = find(self.app, lambda n: n.getRole() == p.ROLE_FRAME and (n.name or "") == "Sign In")
        self.click(self.named("Sign In", root=dialog))

        rows = wait_for(lambda: [r for r in self.rows() if r.startswith("Read · subject S-001")], 30)
        self.assertTrue(rows, self.rows())
        self.assertIn("Baseline", rows[0])
        self.assertIn("not downloaded", rows[0])

        # A task that comes while the list is shown joins it; the rows there
        # stay the same rows (a list made again from nothing lost a click
        # on a row, and a screen reader's place: walk finding).
        lst = find(self.app, lambda n: (n.name or "") == "Worklist" and n.getRole() == p.ROLE_LIST)
        first = find(lst, lambda n: n.getRole() == p.ROLE_LIST_ITEM
                     and (n.name or "").startswith("Read · subject S-001"))
        self.assertIsNotNone(first)
        study2 = os.path.join(self.tmp, "study2")
        subprocess.run([PHANTOM, study2, "--kind", "ct", "--slices", "4", "--size", "64",
                        "--seed", "2"], check=True, capture_output=True)
        self.admin("upload", study2, "--trial", "TW", "--subject", "S-002", "--timepoint",
                   "Baseline", "--day", "0")
        self.click(self.named("Refresh"))
        self.assertTrue(wait_for(lambda: [r for r in self.rows()
                                          if r.startswith("Read · subject S-002")], 30),
                        self.rows())
        self.assertFalse(first.getState().contains(p.STATE_DEFUNCT))
        self.assertTrue((first.name or "").startswith("Read · subject S-001"), first.name)

        self.click(self.named("Download All"))
        done = wait_for(lambda: len([r for r in self.rows() if "available offline" in r]) == 2,
                        60)
        self.assertTrue(done, self.rows())
        screenshot(os.path.join(OUT, "readroom-worklist.png"))
        # Every file is in the cache, named by its SHA-256.
        cache = os.path.join(self.tmp, "cache", "readroom", "instances")
        files = [f for r, d, fs in os.walk(cache) if "partial" not in r for f in fs]
        self.assertEqual(len(files), 30 + 4)

        # Open the task: its series, under its timepoint's label.
        row = find(lst, lambda n: n.getRole() == p.ROLE_LIST_ITEM
                   and (n.name or "").startswith("Read · subject S-001"))
        x, y, w, h = row.queryComponent().getExtents(p.DESKTOP_COORDS)
        self.pyatspi.Registry.generateMouseEvent(x + 60, y + h // 2, "abs")
        self.pyatspi.Registry.generateMouseEvent(x + 60, y + h // 2, "b1c")
        viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                       and "slice 16 / 30" in (n.description or "")), 30)
        self.assertIsNotNone(viewer, "the task's series did not open")
        labels = [label_text(n) for n in find_all(self.app, lambda n: n.getRole() == p.ROLE_LABEL, [])]
        self.assertIn("Baseline", labels)
        texts = all_texts(self.app)
        self.assertFalse([t for t in texts if "PID-SECRET-77" in t])
        screenshot(os.path.join(OUT, "readroom-task.png"))

        # Back to the worklist: the task opened is a draft now, kept in the
        # local database.
        self.click(self.named("Worklist"))
        drafted = wait_for(lambda: [r for r in self.rows()
                                    if r.startswith("Read · subject S-001") and "your draft" in r],
                           20)
        self.assertTrue(drafted, self.rows())
        screenshot(os.path.join(OUT, "readroom-draft.png"))

        # The trial admin moves reader1 out of the reader pool: the task goes
        # to reader2, and the worklist says it was withdrawn, the draft kept.
        self.admin("user", "add", "reader2")
        self.admin("member", "set", "TW", "reader2", "--roles", "reader")
        self.admin("member", "set", "TW", "reader1", "--roles", "")
        # Taking a role away ends the reader's sessions (issue 12): the
        # workstation says so (not "Online"), and offers to sign in again
        # (walk finding 3).
        self.click(self.named("Refresh"))
        ended = wait_for(lambda: [t for t in self.status_labels()
                                  if t.startswith("Signed out by the server")], 30)
        self.assertTrue(ended, self.status_labels())
        self.assertFalse([t for t in self.status_labels() if t.startswith("Online")],
                         self.status_labels())
        self.click(self.named("Sign In Again"))
        dialog = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_FRAME
                                       and (n.name or "") == "Sign In"), 10)
        self.assertIsNotNone(dialog)
        self.type_into("Server", self.url)
        self.type_into("User Name", "reader1")
        self.type_into("Password", "reader-password")
        self.click(self.named("Sign In", root=dialog))
        gone = wait_for(lambda: [r for r in self.rows() if r.startswith("Read · subject S-001")
                                 and "withdrawn on the server" in r
                                 and "kept on this computer" in r], 30)
        self.assertTrue(gone, self.rows())
        self.assertTrue(wait_for(lambda: [t for t in self.status_labels()
                                          if t.startswith("Online")], 30), self.status_labels())
        # Withdrawn: not opened for new work (the row is not sensitive, so
        # it cannot be activated); the draft is said to be kept, above.
        lst = find(self.app, lambda n: (n.name or "") == "Worklist" and n.getRole() == p.ROLE_LIST)
        row = find(lst, lambda n: n.getRole() == p.ROLE_LIST_ITEM
                   and "withdrawn on the server" in (n.name or ""))
        self.assertFalse(row.getState().contains(p.STATE_SENSITIVE))
        # The read was still open in the window (opened above): its form,
        # reloaded after the synchronisation, is locked and says why; Sign
        # is off; the draft is said to be kept.
        state = wait_for(lambda: [t for t in self.status_labels()
                                  if t.startswith("Withdrawn by the server")], 30)
        self.assertTrue(state, self.status_labels())
        self.assertIn("Your draft is kept on this computer", state[0])
        sign = find(self.app, lambda n: n.getRole() == p.ROLE_PUSH_BUTTON
                    and (n.name or "").startswith("Sign and submit"))
        self.assertIsNotNone(sign)
        self.assertFalse(sign.getState().contains(p.STATE_SENSITIVE))
        screenshot(os.path.join(OUT, "readroom-withdrawn.png"))


if __name__ == "__main__":
    main()
