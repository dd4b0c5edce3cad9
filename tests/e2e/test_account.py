#!/usr/bin/python3
"""The person button (issue 14, walk finding 4), in the real window against
a real readroom-server on 127.0.0.1: started with --server and --user on a
kept session, it says who is signed in (full name, user name, roles) and to
which server; Switch User offers that server and keeps the person signed in
when the dialog is cancelled, signs them out only once the next person is
in; Sign Out leaves a "Sign In" button that offers the same server."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, all_texts, find, main, wait_for  # noqa: E402
from test_server import ADMIN_PASSWORD, Server, free_port  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PASSWORD = "account-password"


class Account(AppCase, WorkspaceDriver):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-account-")
        cls.out = os.environ.get("READROOM_TEST_OUT", cls.tmp)
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.url = "http://127.0.0.1:%d" % cls.server.port

        def admin(*args):
            env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD,
                       READROOM_NEW_PASSWORD=PASSWORD)
            subprocess.run([CLI, "admin", "--server", cls.url] + list(args), env=env, check=True,
                           capture_output=True)
        admin("user", "add", "reader1", "--display-name", "Alice Ames")
        admin("user", "add", "reader2", "--display-name", "Bob Burns")
        admin("trial", "create", "TA", "--name", "account", "--no-qc", "--readers", "1")
        admin("member", "set", "TA", "reader1", "--roles", "reader")
        admin("member", "set", "TA", "reader2", "--roles", "reader")
        xdg = dict(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                   XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"), READROOM_NO_KEYRING="1")
        # reader1's session is kept as tools/demo keeps it: the command
        # line signs in; the app then opens on it (no sign-in dialog, so
        # the server reaches the window only through --server).
        subprocess.run([CLI, "sync", "--server", cls.url, "--user", "reader1"],
                       env=dict(os.environ, READROOM_PASSWORD=PASSWORD, **xdg), check=True,
                       capture_output=True)
        cls.start_bus()
        cls.proc, cls.app = cls.launch_app(["--server", cls.url, "--user", "reader1"],
                                           cls.app_env(**xdg))

    def entry_text(self, dialog, title):
        p = self.pyatspi
        editable = (p.ROLE_ENTRY, p.ROLE_TEXT, p.ROLE_PASSWORD_TEXT)
        node = wait_for(lambda: find(dialog, lambda n: (n.name or "") == title), 10)
        self.assertIsNotNone(node, title)
        if node.getRole() not in editable:
            node = find(node, lambda n: n.getRole() in editable)
        t = node.queryText()
        return t.getText(0, t.characterCount)

    def person(self, who):
        return self.named("Signed in as " + who, timeout=30)

    def popover_button(self, name):
        p = self.pyatspi
        return wait_for(lambda: find(self.app, lambda n: (n.name or "").startswith(name)
                                     and n.getRole() == p.ROLE_PUSH_BUTTON), 10)

    def test_person_button(self):
        p = self.pyatspi
        # Opened on the kept session: the button names the person, by the
        # full name the server gives, and where they are signed in.
        button = self.person("Alice Ames (reader1)")
        self.assertIsNotNone(button, [n for n in all_texts(self.app)])
        self.assertIn(self.url, button.description or "")
        self.click(button)
        self.assertTrue(wait_for(lambda: self.url in self.labels(), 10), self.labels())
        self.assertIn("reader1", self.labels())
        self.assertIn("Reader in TA", self.labels())
        self.shot("account-popover")

        # Switch User, then Cancel: the server is offered, nobody's name,
        # and reader1 stays signed in with their worklist.
        self.click(self.popover_button("Switch User…"))
        dialog = self.frame("Sign In")
        self.assertIsNotNone(dialog, "Switch User did not ask who is next")
        self.assertEqual(self.entry_text(dialog, "Server"), self.url)
        self.assertEqual(self.entry_text(dialog, "User Name"), "")
        self.shot("account-switch")
        self.click(self.named("Cancel", root=dialog))
        self.assertTrue(wait_for(lambda: self.frame("Sign In") is None, 10))
        self.assertIsNotNone(self.person("Alice Ames (reader1)"))
        self.assertIsNotNone(wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Worklist"
                                                   and n.getRole() == p.ROLE_LIST), 10))

        # Switch User to reader2: reader1 goes only now.
        self.click(self.person("Alice Ames (reader1)"))
        self.click(self.popover_button("Switch User…"))
        self.sign_in("reader2", PASSWORD, open_dialog=False)
        self.assertIsNotNone(self.person("Bob Burns (reader2)"))
        self.assertFalse([t for t in all_texts(self.app) if "Alice Ames" in t])

        # Sign Out: a Sign In button, no worklist, no name, and the server
        # offered again.
        self.click(self.person("Bob Burns (reader2)"))
        self.click(self.popover_button("Sign Out"))
        self.assertIsNotNone(self.named("Sign In"))
        texts = all_texts(self.app)
        self.assertFalse([t for t in texts if "Bob Burns" in t or "reader2" in t], texts)
        # The header no longer says "Worklist" (walk finding 18).
        self.assertNotIn("Worklist", self.labels())
        self.click(self.named("Sign In"))
        dialog = self.frame("Sign In")
        self.assertIsNotNone(dialog)
        self.assertEqual(self.entry_text(dialog, "Server"), self.url)
        self.shot("account-signed-out")
        self.click(self.named("Cancel", root=dialog))
        self.assertTrue(wait_for(lambda: self.frame("Sign In") is None, 10))

    def test_shortcuts_window(self):
        """The shortcuts window (walk finding 17): named for what it is,
        no key shown by its key name (GTK 4.8 draws Page_Up so)."""
        p = self.pyatspi
        self.click(self.named("Main Menu"))
        item = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_MENU_ITEM and
                                     (n.name or "") == "Keyboard Shortcuts"), 10)
        self.assertIsNotNone(item, "no Keyboard Shortcuts in the main menu")
        self.click(item)
        window = self.frame("Keyboard Shortcuts")
        self.assertIsNotNone(window, [c.name for c in self.app])
        texts = all_texts(window)
        self.assertTrue([t for t in texts if t == "Page Up / Page Down"], texts)
        self.assertFalse([t for t in texts if "Page_" in t], texts)
        self.assertTrue([t for t in texts if t == "Show or Hide the Series"], texts)
        self.shot("account-shortcuts")
        self.pyatspi.Registry.generateKeyboardEvent(0xff1b, None, self.pyatspi.KEY_SYM)
        self.assertTrue(wait_for(lambda: self.frame("Keyboard Shortcuts") is None, 10))

    def test_sign_in_unreachable(self):
        """Signing in to a server that is down (as walk finding 2 for signing):
        the refused connection is said at once, not after the sync's 20 s
        of retries. The 10 s bound is half those 20 s: it tells "tried
        again and again" from "said at once", it is not a speed figure."""
        p = self.pyatspi
        if self.frame("Sign In") is None:
            person = wait_for(lambda: find(self.app, lambda n: (n.name or "").startswith(
                "Signed in as ") and n.getRole() in (p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON)),
                5)
            if person is not None:
                self.click(person)
                self.click(self.popover_button("Switch User…"))
            else:
                self.click(self.named("Sign In"))
        dialog = self.frame("Sign In")
        self.assertIsNotNone(dialog, "no sign-in dialog")
        # Nothing listens there: a stopped server, as the reader sees it.
        down = "http://127.0.0.1:%d" % free_port()
        self.sign_in("reader1", PASSWORD, url=down, open_dialog=False)
        said = wait_for(lambda: [t for t in self.labels(dialog)
                                 if t.startswith("The server cannot be reached")], 10)
        self.shot("account-server-down")
        self.assertTrue(said, self.labels(dialog))
        self.click(self.named("Cancel", root=dialog))
        self.assertTrue(wait_for(lambda: self.frame("Sign In") is None, 10))


if __name__ == "__main__":
    main()
