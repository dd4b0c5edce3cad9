#!/usr/bin/python3
"""A follow-up read held back by sequential reading, freed by a
synchronisation, in the real window against a real readroom-server on
127.0.0.1 reached through a proxy the test can cut (the workstation goes
offline and comes back), driven through the accessibility tree:

- the reader drafts the Baseline here (target T1, liver), then this
  workstation loses the server; the Week 8 read, opened, is read-only
  ("submit your read of Baseline first");
- meanwhile the Baseline read is submitted elsewhere (another workstation:
  straight to the server, not through this one);
- the server comes back: the worklist's own reconnection synchronises, and
  with the Week 8 read still open (never reopened) the hold lifts: no
  "Sequential reading" line, T1 carried from the Baseline with its
  Baseline value, the Baseline's caliper drawn on the prior's pane, the
  form and the viewer editable again. Before the fix it stayed read-only
  until the task was opened again;
- the signing dialog's "Signed by" when the server cannot be reached:
  first "user reader1 (full name not known offline)"; once looked up
  online, the full name the server gave, kept for offline use.

A screenshot of each step goes to the test's log folder."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, find, label_text, main, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from test_server import make_read  # noqa: E402
from test_read_followup import CLI, MM_PER_PIXEL, PASSWORD, PHANTOM, tenths  # noqa: E402

OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()),
                   "test_read_resync")
SUBJECT = "S-007"
FULL_NAME = "Ada Reader-Lovelace"


def mm(t):
    return "%d.%d mm" % (t // 10, t % 10)


class ReadResync(WorkspaceDriver, AppCase):
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-resync-")
        os.makedirs(OUT, exist_ok=True)
        cls.start_reading_trial(CLI, "TS", "resync", PASSWORD,
                                display_names={"reader1": FULL_NAME})
        admin = cls.admin
        # The workstation reaches the server through a proxy the test can cut.
        cls.proxy = FaultProxy(cls.server.port)
        cls.proxy.start()
        cls.addClassCleanup(cls.cut)
        cls.url = cls.proxy.url
        studies = os.path.join(cls.tmp, "studies")
        subprocess.run([PHANTOM, studies, "--kind", "ct", "--slices", "30", "--size", "256",
                        "--pixel-spacing", "1.4", "--timepoints", "2", "--change", "-30",
                        "--interval-days", "56"], check=True, capture_output=True)
        for k, (label, day) in enumerate((("Baseline", 0), ("Week 8", 56))):
            admin("upload", os.path.join(studies, "tp%02d" % k), "--trial", "TS", "--subject",
                  SUBJECT, "--timepoint", label, "--day", str(day))
        cls.start_bus()
        cls.app_settings(1400, 950)

    @classmethod
    def tearDownClass(cls):
        pass  # the class cleanups stop the application, the bus, the proxy and the server

    # ---- the network ----

    @classmethod
    def cut(cls):
        """This workstation loses the server: nothing listens on the
        proxy's port (a refused connection, as when the server is down)."""
        if cls.proxy.thread is not None:
            cls.proxy.stop()
            cls.proxy.thread = None

    @classmethod
    def reconnect(cls):
        """The server is back on the same address."""
        old = cls.proxy.httpd
        cls.proxy.httpd = type(old)(("127.0.0.1", cls.proxy.port), old.RequestHandlerClass)
        cls.proxy.start()

    def submit_elsewhere(self, task_id, size_mm):
        """The Baseline read signed on another workstation: straight to the
        server, as reader1."""
        status, doc = self.server.request("POST", "/readroom/v1/sessions",
                                          {"username": "reader1", "password": PASSWORD})
        self.assertIn(status, (200, 201), doc)
        token = doc["token"]
        read = make_read([("Baseline", 0)], (size_mm,))
        status, doc = self.server.request(
            "POST", "/readroom/v1/tasks/%s/submission" % task_id,
            {"read": read, "signature": {"password": PASSWORD, "meaning": "Read completed"}},
            token=token, headers={"Idempotency-Key": "elsewhere-baseline"})
        self.assertEqual(status, 201, doc)

    def baseline_task(self):
        status, doc = self.server.request("POST", "/readroom/v1/sessions",
                                          {"username": "reader1", "password": PASSWORD})
        self.assertIn(status, (200, 201), doc)
        status, tasks = self.server.request("GET", "/readroom/v1/tasks?status=all",
                                            token=doc["token"])
        self.assertEqual(status, 200, tasks)
        return [t for t in tasks if len(t["timepoints"]) == 1][0]["id"]

    # ---- helpers ----

    def viewer_says(self, *words, timeout=20):
        ok = wait_for(lambda: all(w in (self.viewer.description or "") for w in words), timeout)
        if not ok:
            self.shot("debug-viewer")
        self.assertTrue(ok, (words, self.viewer.description))

    def open_task(self, timepoints):
        if "Worklist" not in self.labels():
            self.click(self.named("Worklist"))
            self.assertTrue(wait_for(lambda: "Worklist" in self.labels(), 20), self.labels())
        want = "Read · subject %s, %s ·" % (SUBJECT, timepoints)
        row_name = wait_for(lambda: [r for r in self.row_names("Worklist")
                                     if r.startswith(want) and "available offline" in r], 60)
        self.assertTrue(row_name, self.row_names("Worklist"))
        self.click_row([r for r in self.list_items("Worklist")
                        if (r.name or "").startswith(want)][0])
        self.viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                            and "slice 16 / 30" in (n.description or "")), 30)
        self.assertIsNotNone(self.viewer, "the task's series did not open")
        label = timepoints.split(", ")[-1]
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Assessment · " + label + ",")], 15))

    def draw(self, length, dy=100):
        """A bidirectional caliper about @length mm long across the current
        (left or only) pane; its value in mm."""
        p = self.pyatspi
        n = len(self.caliper_values())
        self.click(self.named("Bidirectional"))
        self.viewer_says("tool: Bidirectional")
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx = x + (w // 4 if "pane 1 of 2" in (self.viewer.description or "") else w // 2)
        cy = y + h // 2 + dy
        half = max(6, int(length / float(MM_PER_PIXEL.search(self.viewer.description)[1]) / 2))
        self.drag(cx - half, cy, cx + half, cy)
        self.assertTrue(wait_for(lambda: len(self.caliper_values()) == n + 1, 15),
                        self.viewer.description)
        self.viewer_says("selected: Bidirectional")
        return self.caliper_values()[-1][0]

    def signed_by(self):
        """Opens the signing dialog; what its "Signed by" says once looked
        up; closes it unsigned."""
        self.click(self.named("Sign and submit"))
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        said = wait_for(lambda: [t for t in self.labels(dialog)
                                 if t.startswith("user ") or t.endswith("(user reader1)")], 60)
        self.assertTrue(said, self.labels(dialog))
        self.click(self.named("Cancel", root=dialog))
        self.assertTrue(wait_for(self.signing_closed, 20))
        return said[0]

    # ---- the tests ----

    def test_1_sync_lifts_the_sequential_hold(self):
        p = self.pyatspi
        sensitive = lambda n: n.getState().contains(p.STATE_SENSITIVE)  # noqa: E731
        type(self).proc, type(self).app = self.launch_app([], self.env)
        self.sign_in("reader1", PASSWORD)
        self.assertTrue(wait_for(lambda: len([r for r in self.row_names("Worklist")
                                              if r.startswith("Read · subject " + SUBJECT)])
                                 == 2, 30), self.row_names("Worklist"))
        self.click(self.named("Download All"))

        # The Baseline drafted here: T1 in the liver, not signed.
        self.open_task("Baseline")
        bl = self.draw(40)
        self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10))
        self.choose_organ("T1", "Liver")
        self.assertTrue(wait_for(lambda: "All changes saved on this computer" in self.labels(),
                                 15), self.labels())
        self.shot("1-baseline-drafted")

        # Offline: the worklist tries the server and says so.
        type(self).cut()
        self.click(self.named("Worklist"))
        self.click(self.named("Refresh"))
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Offline: ")], 60), self.labels())

        # Week 8 is held back: read-only, no values.
        self.open_task("Baseline, Week 8")
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Sequential reading: submit your read "
                                                          "of Baseline first")], 15),
                        self.labels())
        self.assertFalse([r for r in self.row_names("Lesions") if r.startswith("Target T1")])
        self.assertFalse(sensitive(self.named("Make target")))
        self.shot("2-week8-held")

        # Signed on another workstation meanwhile; then the server is back.
        self.submit_elsewhere(self.baseline_task(), round(bl, 1))
        type(self).reconnect()

        # The worklist reconnects by itself; Week 8, still open, is freed.
        freed = wait_for(lambda: not [t for t in self.labels()
                                      if t.startswith("Sequential reading")], 90)
        self.shot("3-week8-freed")
        self.assertTrue(freed, self.labels())
        bl_t = tenths(bl)
        rows = wait_for(lambda: [r for r in self.row_names("Lesions")
                                 if r.startswith("Target T1") and "Liver" in r], 15)
        self.assertTrue(rows, self.row_names("Lesions"))
        self.assertTrue(wait_for(lambda: "Baseline: " + mm(bl_t) in self.labels(), 15),
                        [t for t in self.labels() if ": " in t])
        self.viewer_says("pane 1 of 2", "1 earlier measurement shown", timeout=30)
        # Editable again: a caliper drawn now measures T1 at Week 8.
        self.draw(bl * 0.6)
        self.click(self.named("Measure T1 with the selected caliper"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1") and "Week 8: " in r and
                                          " mm" in r.split("Week 8: ")[1]], 10),
                        self.row_names("Lesions"))
        self.shot("4-week8-measured")

    def test_2_signed_by_offline(self):
        # Week 8 is open and measured (test 1). The server unreachable, the
        # name never looked up: the user name, and why no full name.
        type(self).cut()
        said = self.signed_by()
        self.shot("5-signed-by-offline")
        self.assertEqual(said, "user reader1 (full name not known offline)")
        # Online: the full name from the server, kept...
        type(self).reconnect()
        self.assertEqual(self.signed_by(), "%s (user reader1)" % FULL_NAME)
        # ...so that offline again the read still names its signer in full.
        type(self).cut()
        self.assertEqual(self.signed_by(), "%s (user reader1)" % FULL_NAME)
        type(self).reconnect()


if __name__ == "__main__":
    main()
