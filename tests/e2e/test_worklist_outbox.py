#!/usr/bin/python3
"""The outbox in the real window, against a real readroom-server on
127.0.0.1, through the accessibility tree: a submission saved while the
server is away is announced in the worklist as saved and to be sent when
the server is reachable, the window stays responsive meanwhile, and once
the server is back the workstation delivers it by itself, once."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import find, find_all, label_text, screenshot, wait_for  # noqa: E402
from test_server import ADMIN_PASSWORD, make_read  # noqa: E402
import test_worklist  # noqa: E402

CLI = test_worklist.CLI


class WorklistOutbox(test_worklist.Worklist):
    # The sign-in and download test is test_worklist's own.
    test_sign_in_download_open = None

    def status_texts(self):
        p = self.pyatspi
        self.assertIsNone(self.proc.poll(), "readroom exited")
        out = []
        for n in find_all(self.app, lambda n: n.getRole() == p.ROLE_LABEL, []):
            try:
                out.append(label_text(n))
            except Exception:
                pass  # a label rebuilt while it was read: skipped, as a11y.find does
        return out

    def status_with(self, words):
        return [t for t in self.status_texts() if words in t]

    def test_submission_waits_for_the_server(self):
        p = self.pyatspi
        self.click(self.named("Sign In"))
        dialog = wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_FRAME
                                       and (n.name or "") == "Sign In"), 10)
        self.assertIsNotNone(dialog)
        self.type_into("Server", self.url)
        self.type_into("User Name", "reader1")
        self.type_into("Password", "reader-password")
        self.click(self.named("Sign In", root=dialog))
        self.assertTrue(wait_for(lambda: [r for r in self.rows()
                                          if r.startswith("Read · subject S-001")], 30),
                        self.rows())

        # The reader's read, saved to the workstation's outbox and not sent
        # (the submitting process dies right after the save).
        admin = self.server.login("admin", ADMIN_PASSWORD)
        status, tasks = self.server.request("GET", "/readroom/v1/tasks?status=all", token=admin)
        task = [t for t in tasks if t["subject"] == "S-001"][0]
        read = make_read([(tp["label"], tp["day"]) for tp in task["timepoints"]], (27.0,))
        path = os.path.join(self.tmp, "read.json")
        with open(path, "w") as f:
            json.dump(read, f)
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(self.tmp, "data"),
                   XDG_CACHE_HOME=os.path.join(self.tmp, "cache"), READROOM_NO_KEYRING="1",
                   READROOM_PASSWORD="reader-password", READROOM_OUTBOX_PAUSE="60")
        proc = subprocess.Popen([CLI, "submit", "--server", self.url, "--user", "reader1",
                                 "--task", task["id"], "--read", path], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            line = ""
            while "READROOM_OUTBOX_PAUSE: pausing" not in line:
                line = proc.stderr.readline()
                if not line:
                    break
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
        self.assertIn("pausing", line)

        self.server.stop()
        try:
            self.click(self.named("Refresh"))
            waiting = wait_for(lambda: self.status_with("will be sent when the server is "
                                                        "reachable"), 90)
            self.assertTrue(waiting, self.status_texts())
            self.assertIn("1 submission saved here", waiting[0])
            # The main loop answers meanwhile: the worklist is still there.
            self.assertTrue([r for r in self.rows() if r.startswith("Read · subject S-001")])
            screenshot(os.path.join(test_worklist.OUT, "readroom-outbox-waiting.png"))
        finally:
            self.server.start()

        # Back: the workstation asks the server on its own and delivers it.
        def held():
            status, doc = self.server.request(
                "GET", "/readroom/v1/tasks/%s/submission" % task["id"], token=admin)
            return doc if status == 200 else None
        admin = self.server.login("admin", ADMIN_PASSWORD)
        got = wait_for(held, 120)
        self.assertIsNotNone(got, "the submission was not delivered")
        self.assertEqual(got["submission"]["read"]["target_lesions"][0]["measurements"],
                         {task["timepoints"][-1]["label"]: 27.0})
        self.assertTrue(wait_for(lambda: not self.status_with("will be sent"), 60),
                        self.status_texts())


if __name__ == "__main__":
    unittest.main(verbosity=2)
