#!/usr/bin/python3
"""The reader's workspace end to end, in the real window against a real
readroom-server on 127.0.0.1, driven through the accessibility tree with
real pointer events: at baseline two calipers become target lesions and a
third marks a non-target, organs chosen from the list; the form's baseline
sum equals the calipers' sum; the read is signed and submitted; the server
holds it with the same responses; the task becomes read-only with its
receipt. Then a second user on the same computer opens their own task on
the same subject and sees none of the first user's work, signs with the
server away (the read waits in the outbox and the form says so) and finds
it delivered once the server is back. A screenshot of each step goes to
the test's log folder."""
import contextlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import (AppCase, close_shortcuts_window, find, find_all, label_text,  # noqa: E402
                  main, shortcuts_window_entries, stop, tooltip_shortcut, wait_for)
from workspace import WorkspaceDriver  # noqa: E402
from test_server import ADMIN_PASSWORD  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_read")
SUM = re.compile(r"Baseline sum: (\d+\.\d) mm")
PASSWORD = "reader-password"


class Read(AppCase, WorkspaceDriver):
    """AppCase first: its class cleanups stop the server, the bus and every
    application whatever fails, and each test fails on a long stall."""
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-read-")
        os.makedirs(OUT, exist_ok=True)
        cls.proc = None
        # Two readers per case: reader1 and reader2 each get a task on the
        # same subject's baseline, and share one computer.
        cls.start_reading_trial(CLI, "TR", "reading", PASSWORD, readers=2)
        cls.prepare()

    @classmethod
    def prepare(cls):
        admin = cls.admin
        study = os.path.join(cls.tmp, "study")
        subprocess.run([PHANTOM, study, "--kind", "ct", "--slices", "30", "--size", "256",
                        "--pixel-spacing", "1.4"], check=True, capture_output=True)
        admin("upload", study, "--trial", "TR", "--subject", "S-001", "--timepoint", "Baseline",
              "--day", "0")
        cls.start_bus()
        # One computer: the same local database and cache for both users.
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                              XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"),
                              READROOM_NO_KEYRING="1")

    # ---- helpers ----

    def launch(self):
        cls = type(self)
        stop(cls.proc)
        cls.proc, self.app = cls.launch_app([], self.env)

    def sign_in_and_open(self, user):
        self.sign_in(user, PASSWORD)
        rows = wait_for(lambda: [r for r in self.row_names("Worklist")
                                 if r.startswith("Read · subject S-001")], 30)
        self.assertTrue(rows, self.row_names("Worklist"))
        self.click(self.named("Download All"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if "available offline" in r], 60),
                        self.row_names("Worklist"))
        rows = [r for r in self.row_names("Worklist") if r.startswith("Read · subject S-001")]
        self.click_row(self.list_items("Worklist")[0])
        self.viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                            and "slice 16 / 30" in (n.description or "")), 30)
        self.assertIsNotNone(self.viewer, "the task's series did not open")
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Assessment · Baseline, day 0")], 15),
                        "no lesion form for the task")
        return rows[0]

    def outbox_states(self):
        db = os.path.join(self.tmp, "data", "readroom", "readroom.db")
        with contextlib.closing(sqlite3.connect("file:%s?mode=ro" % db, uri=True,
                                                timeout=10)) as c:
            return [r[0] for r in c.execute("SELECT state FROM outbox")]

    # ---- the test ----


    def test_baseline_read(self):
        p = self.pyatspi
        self.launch()
        self.sign_in_and_open("reader1")
        self.shot("1-task-open")
        # The form's buttons name their shortcuts as the Keyboard Shortcuts
        # window does ("Shift+Ctrl+T"; walk: "Ctrl+Shift+T"). Its keycap
        # for Return is a symbol, which a tooltip spells out.
        keys = {"Make target": "Make the Selected Caliper a Target",
                "Add non-target": "Add a Non-target Lesion",
                "Add new lesion": "Record a New Lesion",
                "Sign and submit": "Sign and Submit the Read"}
        tips = {name: tooltip_shortcut(self.named(name)) for name in keys}
        win, entries = shortcuts_window_entries(p, self.app)
        try:
            self.assertIsNotNone(win, "no Keyboard Shortcuts window")
            for name, title in keys.items():
                self.assertEqual(tips[name], entries.get(title, "").replace("\u23ce", "Return"),
                                 (name, sorted(entries)))
            self.assertEqual(tips["Add non-target"], "Shift+Ctrl+T")
        finally:
            close_shortcuts_window(p, win)
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx, cy = x + w // 2, y + h // 2

        # Two bidirectional calipers, each made a target lesion.
        self.click(self.named("Bidirectional"))
        self.assertTrue(wait_for(lambda: "tool: Bidirectional" in (self.viewer.description or ""),
                                 10), self.viewer.description)
        # Across the phantom's two lesions: the large one below the
        # mediastinum and the small one at the right lung's base.
        self.drag(cx - 40, cy + 130, cx + 40, cy + 130)
        ok = wait_for(lambda: len(self.caliper_values()) == 1, 15)
        if not ok:
            self.shot("debug-first-caliper")
        self.assertTrue(ok, self.viewer.description)
        self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10),
                        self.row_names("Lesions"))
        self.drag(cx - 97, cy + 73, cx - 51, cy + 73)
        self.assertTrue(wait_for(lambda: len(self.caliper_values()) == 2, 15))
        self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T2")], 10),
                        self.row_names("Lesions"))
        # A third caliper marks a non-target lesion.
        self.drag(cx - 160, cy + 10, cx - 100, cy + 10)
        self.assertTrue(wait_for(lambda: self.caliper_count() == 3, 10),
                        (self.caliper_count(), self.viewer.description))
        self.click(self.named("Add non-target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Non-target N1")], 10),
                        self.row_names("Lesions"))
        # Each caliper is named for its lesion in the measurement list (and
        # beside it on the image: the screenshot).
        named = ["N1", "T1", "T2"]
        self.assertTrue(wait_for(lambda: sorted(map(str, self.caliper_lesions())) == named, 10),
                        self.caliper_lesions())

        # T2 said to be a node: its size is a short axis nobody has measured
        # yet (the tool made none up), so it has none; once the short axis
        # is dragged out across it, that is its size.
        def t2_row():
            return [r for r in self.row_names("Lesions") if r.startswith("Target T2")]

        def toggle_t2_nodal():
            # The rows' Nodal boxes in order: T1, T2, then N1.
            boxes = find_all(self.app, lambda n: (n.name or "") == "Nodal", [])
            self.assertEqual(len(boxes), 3, [(b.getRoleName(), b.name) for b in boxes])
            self.click_at(boxes[1])
        def t2_listed():
            lst = find(self.app, lambda n: (n.name or "") == "Measurement list")
            return [label_text(n) for n in find_all(lst, lambda n: n.getRole() == p.ROLE_LABEL,
                                                    []) if label_text(n).startswith("T2 · ")]
        t2_long = self.caliper_values()[1][0]
        # A tumour's size is its long axis: its caliper is not said to lack
        # a short one; a node's is.
        self.assertTrue(wait_for(lambda: t2_listed() == ["T2 · %.1f mm" % t2_long], 10),
                        t2_listed())
        toggle_t2_nodal()
        self.assertTrue(wait_for(lambda: [r for r in t2_row()
                                          if "Baseline: short axis not measured" in r], 10),
                        t2_row())
        self.assertTrue(wait_for(lambda: t2_listed() ==
                                 ["T2 · %.1f mm · short axis not measured" % t2_long], 10),
                        t2_listed())
        self.shot("2-node-short-axis-not-measured")
        # The short axis: its two ends dragged 6 px below and 6 px above
        # the crossing, the middle of T2's 46 px long axis.
        self.drag(cx - 74, cy + 73, cx - 74, cy + 79)
        self.drag(cx - 74, cy + 73, cx - 74, cy + 67)

        def node_is_short_axis():
            short = [v[1] for v in self.caliper_values() if v[1] is not None]
            return short and [r for r in t2_row() if "Baseline: %.1f mm" % short[0] in r]
        self.assertTrue(wait_for(node_is_short_axis, 10), (t2_row(), self.caliper_values()))
        # No longer a node: the long axis again.
        toggle_t2_nodal()
        self.assertTrue(wait_for(lambda: [r for r in t2_row()
                                          if "Baseline: %.1f mm" % t2_long in r], 10),
                        (t2_row(), t2_long))
        self.choose_organ("T1", "Liver")
        self.choose_organ("T2", "Lung")
        self.choose_organ("N1", "Bone")
        self.shot("2-targets")

        # The form's sum is the calipers' long axes added, to 0.1 mm.
        vals = self.caliper_values()
        self.assertEqual(len(vals), 3, vals)
        expected = vals[0][0] + vals[1][0]
        sums = wait_for(lambda: [float(m[1]) for t in self.labels() for m in [SUM.search(t)] if m],
                        10)
        self.assertTrue(sums, self.labels())
        self.assertAlmostEqual(sums[0], expected, delta=0.1)
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t == "All changes saved on this computer"], 10))

        # T1 selected while the read is open: its ends have handles to drag
        # (seen on the screen, the way the reader sees them).
        self.mouse(cx, cy + 130, "abs")
        self.mouse(cx, cy + 130, "b1c")
        self.assertTrue(wait_for(lambda: "selected: Bidirectional" in
                                 (self.viewer.description or ""), 10), self.viewer.description)
        self.assertGreaterEqual(self.handle_pixels(cx - 40, cy + 130, "2-t1-handles"), 8,
                                "no handle on the selected caliper of an open read")

        # Sign and submit.
        self.click(self.named("Sign and submit"))
        dialog = self.frame("Sign and Submit")
        if dialog is None:
            self.shot("debug-dialog")
            desk = p.Registry.getDesktop(0)
            self.fail("no signing dialog: %r" % [(n.getRoleName(), n.name) for n in
                                                 find_all(desk, lambda n: "Sign and" in
                                                          (n.name or ""), [])])
        signer = wait_for(lambda: [t for t in self.labels(dialog) if "(user reader1)" in t], 15)
        self.assertTrue(signer, self.labels(dialog))
        self.assertTrue([t for t in self.labels(dialog) if t.startswith("I am the author")])
        self.type_into("Password", PASSWORD, root=dialog)
        self.shot("3-sign")
        self.click(self.named("Sign and submit", root=dialog))
        self.assertTrue(wait_for(self.signing_closed, 30), self.labels())
        self.shot("4-signed")
        receipt = wait_for(lambda: [t for t in self.labels()
                                    if t.startswith("Submitted and locked. Receipt")], 30)
        if not receipt:
            self.shot("debug-receipt")
        self.assertTrue(receipt, (self.proc.poll(), self.labels()))
        self.shot("5-submitted")
        self.assertIn("The server's baseline sum: %.1f mm" % sums[0], receipt[0])

        # The server holds the read, with the responses the form showed:
        # its export has reader1's read of the baseline, the audit trail
        # the signed submission, whose id the receipt shows.
        admin = self.server.login("admin", ADMIN_PASSWORD)
        status, export = self.server.request("GET", "/readroom/v1/trials/TR/export?format=json",
                                             token=admin)
        self.assertEqual(status, 200, export)
        reads = [r for row in export["rows"] if row["subject"] == "S-001"
                 for r in row["reads"] if r.get("user") == "reader1"]
        self.assertEqual(len(reads), 1, export)
        responses = reads[0]["responses"]
        if isinstance(responses, str):
            responses = json.loads(responses)
        self.assertEqual(responses["baseline"]["sum_mm"], sums[0])
        self.assertEqual(responses["violations"], [])
        status, trail = self.server.request("GET", "/readroom/v1/audit?after=0&limit=1000",
                                            token=admin)
        self.assertEqual(status, 200, trail)
        submits = [e for e in trail if e["action"] == "task.submit" and e["user"] == "reader1"]
        self.assertEqual(len(submits), 1, trail)
        details = submits[0]["details"]
        if isinstance(details, str):
            details = json.loads(details)
        self.assertIn(details["submission"], receipt[0])
        # The task is locked on the server: a second submission is refused.
        token = self.server.login("reader1", PASSWORD)
        status, tasks = self.server.request("GET", "/readroom/v1/tasks?status=all", token=token)
        self.assertEqual([t["status"] for t in tasks if t["kind"] == "read"], ["submitted"])

        # Read-only: the form's actions are off, a caliper cannot change.
        target_button = self.named("Make target")
        self.assertFalse(target_button.getState().contains(p.STATE_SENSITIVE))
        # It can still be selected (to go to it), but shows no handles that
        # would say it can be reshaped; a drag on it moves nothing.
        self.mouse(cx - 140, cy - 150, "abs")
        self.mouse(cx - 140, cy - 150, "b1c")
        self.assertTrue(wait_for(lambda: "selected:" not in (self.viewer.description or ""), 10),
                        self.viewer.description)
        before = self.caliper_values()
        self.mouse(cx, cy + 130, "abs")
        self.mouse(cx, cy + 130, "b1c")
        self.assertTrue(wait_for(lambda: "selected: Bidirectional" in
                                 (self.viewer.description or ""), 10), self.viewer.description)
        self.assertEqual(self.handle_pixels(cx - 40, cy + 130, "5-signed-selected"), 0,
                         "a signed read's selected caliper shows drag handles")
        self.drag(cx - 40, cy + 130, cx - 10, cy + 100)
        # Events arrive in order: once the click after the drag has
        # deselected, the drag has been handled.
        self.mouse(cx - 140, cy - 150, "abs")
        self.mouse(cx - 140, cy - 150, "b1c")
        self.assertTrue(wait_for(lambda: "selected:" not in (self.viewer.description or ""), 10),
                        self.viewer.description)
        self.assertEqual(self.caliper_values(), before)

        # A second user on this computer: nothing of reader1's.
        self.launch()
        row = self.sign_in_and_open("reader2")
        self.assertNotIn("your draft", row)
        time.sleep(1.0)
        self.assertEqual(self.caliper_values(), [])
        self.assertEqual(self.row_names("Lesions"), [])
        self.assertFalse([t for t in self.labels() if t.startswith("Submitted and locked")])
        self.shot("6-second-user")

        # reader2 signs with the server away: the read waits in the outbox,
        # the form says so; back online, it is delivered once.
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx, cy = x + w // 2, y + h // 2
        self.click(self.named("Bidirectional"))
        self.assertTrue(wait_for(lambda: "tool: Bidirectional" in (self.viewer.description or ""),
                                 10), self.viewer.description)
        self.drag(cx - 40, cy + 130, cx + 40, cy + 130)
        if not wait_for(lambda: self.caliper_count() == 1, 15):
            self.shot("debug-reader2-caliper")
            self.fail(self.viewer.description)
        self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10),
                        self.row_names("Lesions"))
        self.choose_organ("T1", "Liver")
        self.server.stop()
        try:
            self.click(self.named("Sign and submit"))
            dialog = self.frame("Sign and Submit")
            self.assertIsNotNone(dialog)
            self.type_into("Password", PASSWORD, root=dialog)
            self.click(self.named("Sign and submit", root=dialog))
            # Refused connections mean offline: the read goes to the outbox
            # at once, not after the sync client's 20 s of retries (walk
            # finding 2). The wait is bounded well under that window.
            self.assertTrue(wait_for(self.signing_closed, 10), self.labels())
            self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                              if t.startswith("Signed and waiting in the outbox")],
                                     5), self.labels())
            # reader1's read went out earlier; reader2's waits (saved, or
            # sending once a send was tried: rr_store_outbox_state_waiting).
            states = self.outbox_states()
            self.assertEqual(len([s for s in states if s in ("saved", "sending")]), 1, states)
            self.shot("7-offline")
        finally:
            self.server.start()
        admin = self.server.login("admin", ADMIN_PASSWORD)

        def reader2_submits():
            status, trail = self.server.request("GET", "/readroom/v1/audit?after=0&limit=1000",
                                                token=admin)
            return [e for e in trail if e["action"] == "task.submit" and e["user"] == "reader2"]
        # The worklist delivers what waits in the outbox when it next
        # reaches the server (it polls while offline).
        self.assertTrue(wait_for(reader2_submits, 90), "the outbox did not deliver")
        # The form learns it too, with the receipt.
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Submitted and locked. Receipt")], 30),
                        self.labels())
        self.shot("8-delivered")
        self.assertEqual(len(reader2_submits()), 1)


if __name__ == "__main__":
    main()
