#!/usr/bin/python3
"""The adjudicator's workspace end to end, in the real window against a real
readroom-server on 127.0.0.1, driven through the accessibility tree. Set up
through the API: two readers read one subject's baseline and Week 8, each
with a caliper on the liver target, and disagree at Week 8 (PR against SD);
the server opens an adjudication task. The adjudicator signs in in the app,
opens it, and sees "Reader 1" and "Reader 2" (never a reader's user name),
the best-overall-response discrepancy highlighted, and the lesion
difference marked; choosing either reader's lesion puts both panes at that
reader's caliper. They choose Reader 2 with a rationale and sign; the
server holds the adjudication, Reader 2's read is final in the export, and
the task shows its receipt, read-only. A screenshot of each step goes to
the test's log folder."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, find, find_all, label_text, main, screen_image, stop, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402
from test_server import ADMIN_PASSWORD, Server, criteria  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_adjudication")
PASSWORD = "user-password"
SLICES = 20
SLICE = re.compile(r"slice (\d+) / %d" % SLICES)
TPS = [("Baseline", 0), ("Week 8", 56)]
# Baseline 30 mm for both. Week 8: 16 mm is -46.7 % (PR); 27 mm is -10 %
# (SD). The sizes differ by 68.75 %, more than the 20 % that marks them.
SIZES = {"reader1": (30.0, 16.0), "reader2": (30.0, 27.0)}
# Each reader's Week 8 caliper on its own slice (0-based, by position).
CALIPER_SLICE = {"reader1": 3, "reader2": 15}


def caliper(sop, series, ipp, spacing, length_mm, cid):
    """A length caliper across the image at @ipp, on its acquired slice."""
    x0, y0, z = ipp[0] + 40 * spacing, ipp[1] + 60 * spacing, ipp[2]
    return {"id": cid, "kind": "length",
            "points": [[x0, y0, z], [x0 + length_mm, y0, z]],
            "plane": {"center": [x0, y0, z], "right": [1, 0, 0], "down": [0, 1, 0],
                      "slab": "none", "slab_mm": 0},
            "series_uid": series, "sop_uid": sop, "frame": 0, "calibration": "patient",
            "created_us": 1}


class Adjudication(AppCase, WorkspaceDriver):
    """AppCase first: its class cleanups stop the server, the bus and every
    application whatever fails, and each test fails on a long stall."""
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-adj-")
        os.makedirs(OUT, exist_ok=True)
        cls.proc = None
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.url = "http://127.0.0.1:%d" % cls.server.port
        cls.prepare()

    @classmethod
    def admin(cls, *args):
        env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD, READROOM_NEW_PASSWORD=PASSWORD)
        subprocess.run([CLI, "admin", "--server", cls.url] + list(args), env=env, check=True,
                       capture_output=True)

    @classmethod
    def prepare(cls):
        for u in ("reader1", "reader2", "adj1"):
            cls.admin("user", "add", u)
        cls.admin("trial", "create", "TA", "--name", "adjudication", "--no-qc", "--readers", "2",
                  "--adjudication", "bor")
        cls.admin("member", "set", "TA", "reader1", "--roles", "reader")
        cls.admin("member", "set", "TA", "reader2", "--roles", "reader")
        cls.admin("member", "set", "TA", "adj1", "--roles", "adjudicator")
        out = os.path.join(cls.tmp, "study")
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", str(SLICES), "--size", "128",
                        "--pixel-spacing", "2.0", "--timepoints", "2", "--change", "-40"],
                       check=True, capture_output=True)
        folders = sorted(os.path.join(out, d) for d in os.listdir(out))
        for (label, day), folder in zip(TPS, folders):
            cls.admin("upload", folder, "--trial", "TA", "--subject", "S-001", "--timepoint",
                      label, "--day", str(day))
        cls.submit_reads()
        cls.start_bus()
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                              XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"),
                              READROOM_NO_KEYRING="1")

    @classmethod
    def geometry(cls, token, task):
        """The Week 8 series' slices, by position: (sop, series, IPP, spacing)."""
        admin = cls.server.login("admin", ADMIN_PASSWORD)
        status, manifest = cls.server.request("GET", "/readroom/v1/tasks/%s/instances" % task,
                                              token=token)
        assert status == 200, manifest
        slices = []
        for inst in manifest:
            status, found = cls.server.request("POST", "/tools/lookup", inst["sop"].encode(),
                                               token=admin)
            assert status == 200 and found, (status, found)
            status, tags = cls.server.request("GET", "/instances/%s/simplified-tags"
                                              % found[0]["ID"], token=admin)
            assert status == 200, tags
            ipp = [float(v) for v in tags["ImagePositionPatient"].split("\\")]
            spacing = float(tags["PixelSpacing"].split("\\")[0])
            slices.append((inst["sop"], inst["series"], ipp, spacing, inst["study"]))
        return slices

    @classmethod
    def submit_reads(cls):
        tokens = {u: cls.server.login(u, PASSWORD) for u in SIZES}
        cls.caliper_z = {}
        for day_index in (0, 1):
            for u, token in tokens.items():
                status, tasks = cls.server.request("GET", "/readroom/v1/tasks?status=open",
                                                   token=token)
                assert status == 200, tasks
                task = [t for t in tasks if t["kind"] == "read" and
                        t["timepoints"][-1]["day"] == TPS[day_index][1]]
                assert len(task) == 1, (u, tasks)
                task = task[0]
                labels = TPS[:day_index + 1]
                sizes = SIZES[u][:day_index + 1]
                read = {"criteria": "recist1.1",
                        "timepoints": [{"id": label, "day": day} for label, day in labels],
                        "target_lesions": [{"id": "T1", "organ": "liver", "nodal": False,
                                            "measurements": dict(zip([t[0] for t in labels],
                                                                     sizes))}],
                        "non_target_lesions": [], "new_lesions": []}
                if day_index == 1:
                    week8 = task["timepoints"][-1]["studies"][0]
                    slices = sorted((s for s in cls.geometry(token, task["id"])
                                     if s[4] == week8), key=lambda s: s[2][2])
                    assert len(slices) == SLICES, len(slices)
                    sop, series, ipp, spacing, _ = slices[CALIPER_SLICE[u]]
                    cls.caliper_z[u] = ipp[2]
                    cls.slice_z = [s[2][2] for s in slices]
                    read["target_lesions"][0]["calipers"] = {
                        "Week 8": caliper(sop, series, ipp, spacing, sizes[1], str(uuid.uuid4()))}
                read["responses"] = criteria(read)
                status, doc = cls.server.request(
                    "POST", "/readroom/v1/tasks/%s/submission" % task["id"],
                    {"read": read, "signature": {"password": PASSWORD, "meaning": "Read"}},
                    token=token, headers={"Idempotency-Key": str(uuid.uuid4())})
                assert status == 201, (u, status, doc)

    # ---- helpers ----

    def launch_and_open(self, download):
        """The app, signed in as the adjudicator, the task opened."""
        cls = type(self)
        stop(cls.proc)
        cls.proc, self.app = cls.launch_app([], self.env)
        self.sign_in("adj1", PASSWORD)
        worklist = lambda: self.row_names("Worklist")  # noqa: E731
        self.assertTrue(wait_for(lambda: [r for r in worklist()
                                          if r.startswith("Adjudication · subject S-001")], 30),
                        worklist())
        if download:
            self.click(self.named("Download All"))
            self.assertTrue(wait_for(lambda: [r for r in worklist() if "available offline" in r],
                                     60), worklist())
            self.shot("1-worklist")
        self.click_row(self.list_items("Worklist")[0])

    def ctrl_key(self, keysym):
        reg, p = self.pyatspi.Registry, self.pyatspi
        reg.generateKeyboardEvent(37, None, p.KEY_PRESS)  # Control_L
        reg.generateKeyboardEvent(keysym, None, p.KEY_SYM)
        reg.generateKeyboardEvent(37, None, p.KEY_RELEASE)
        time.sleep(0.2)

    def all_text(self):
        """Every name, description and label text in the app's tree."""
        out = []
        for n in find_all(self.app, lambda n: True, []):
            try:
                out += [n.name or "", n.description or ""]
                if n.getRole() == self.pyatspi.ROLE_LABEL:
                    out.append(label_text(n))
            except Exception:
                pass
        return out

    def slice_of(self, viewer):
        m = SLICE.search(viewer.description or "")
        return int(m[1]) if m else None

    def dark_share(self, viewer):
        """The share of @viewer's pixels on screen that are near black: the
        phantom's air and lungs at W 400 L 40; the window's background, where
        no image is drawn, is near white."""
        screen = screen_image()
        screen.save(os.path.join(self.out, "pane.png"))
        x, y, w, h = viewer.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
        dark = sum(screen.convert("L").crop((x, y, x + w, y + h)).histogram()[:40])
        return dark / float(max(1, w * h))

    # ---- the test ----

    def assert_signed_rationale(self, rationale):
        """The rationale shown as it was written and signed: its reason
        ticked, its text in the box, not rewritten "Reasons: ..." with the
        boxes cleared (walk finding 16)."""
        p = self.pyatspi
        box = self.named("Rationale (required)", roles=(p.ROLE_TEXT, p.ROLE_ENTRY))
        self.assertEqual(box.queryText().getText(0, -1), rationale)
        ticked = [name for name in ("Measurement variability", "Lesion selection",
                                    "New-lesion call", "Non-target assessment")
                  if self.named(name, roles=(p.ROLE_CHECK_BOX,)).getState().contains(
                      p.STATE_CHECKED)]
        self.assertEqual(ticked, ["Measurement variability"])

    def test_adjudication(self):
        p = self.pyatspi
        # The server opened an adjudication task for the disagreement.
        adj = self.server.login("adj1", PASSWORD)
        status, tasks = self.server.request("GET", "/readroom/v1/tasks?status=open", token=adj)
        self.assertEqual([t["kind"] for t in tasks], ["adjudication"], tasks)
        status, detail = self.server.request("GET", "/readroom/v1/tasks/" + tasks[0]["id"],
                                             token=adj)
        bor = {r["reader"]: r["responses"]["best_overall_response"] for r in detail["reads"]}
        self.assertEqual(sorted(bor.values()), ["PR", "SD"], bor)

        self.launch_and_open(download=True)

        # Two panes on the Week 8 images, Reader 1 and Reader 2.
        v1 = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Reader 1 images"
                                   and self.slice_of(n) is not None), 30)
        v2 = find(self.app, lambda n: (n.name or "") == "Reader 2 images")
        self.assertIsNotNone(v1, "the adjudication workspace did not open")
        self.assertIsNotNone(v2)
        self.assertTrue(wait_for(lambda: self.slice_of(v2) is not None, 15), v2.description)
        # It opens on an acquired slice, its location that slice's Image
        # Position (with 20 slices the volume's centre lies between two).
        for v in (v1, v2):
            loc = re.search(r"slice (\d+) / %d · Loc (-?\d+\.\d) mm" % SLICES, v.description)
            self.assertIsNotNone(loc, v.description)
            self.assertAlmostEqual(float(loc[2]), self.slice_z[int(loc[1]) - 1], delta=0.051,
                                   msg=(v.description, self.slice_z))
        tp_rows = wait_for(lambda: self.row_names("Timepoint responses"), 30)
        self.assertTrue(tp_rows, "no timepoint table")
        self.shot("2-workspace")
        # Each pane says the timepoint it shows (walk finding 14).
        captions = wait_for(lambda: sorted(t for t in self.labels()
                                           if t.startswith(("Reader 1 · ", "Reader 2 · "))), 10)
        self.assertEqual([c.split(" · ")[:2] for c in captions or []],
                         [["Reader 1", "Week 8"], ["Reader 2", "Week 8"]], self.labels())

        # The divider moved (as the decision panel grows or the adjudicator
        # drags it): both panes get a new size and must show their images
        # again, not the window's background (the walk's blank Reader 1).
        x, y, w, h = v1.queryComponent().getExtents(p.DESKTOP_COORDS)
        bar = self.named("Each pane its own reader's calipers").queryComponent().getExtents(p.DESKTOP_COORDS)
        # The divider is under the calipers' bar, above the responses.
        below = bar[1] + bar[3]
        self.drag(x + w // 2, below + 5, x + w // 2, below - 70)
        self.assertTrue(wait_for(lambda: v1.queryComponent().getExtents(
            p.DESKTOP_COORDS)[3] < h - 30, 10), "the divider did not move")
        for v in (v1, v2):
            self.assertTrue(wait_for(lambda: self.dark_share(v) > 0.2, 10),
                            "%s shows no image after the resize (%.2f dark)"
                            % (v.name, self.dark_share(v)))
        self.shot("2b-divider-moved")

        # The discrepancy: best overall response, highlighted, both values.
        want = "Best overall response: Reader 1 %s, Reader 2 %s (discrepancy)" % (
            bor["Reader 1"], bor["Reader 2"])
        self.assertIn(want, tp_rows)
        week8 = [r for r in tp_rows if r.startswith("Week 8")]
        self.assertEqual(len(week8), 1, tp_rows)
        self.assertIn("Overall: Reader 1 %s, Reader 2 %s (discrepancy)"
                      % (bor["Reader 1"], bor["Reader 2"]), week8[0])
        self.assertTrue([t for t in self.labels() if t.startswith("Discrepancy: best overall "
                                                                  "response")], self.labels())
        # The lesions, side by side, the measurement difference marked.
        size = {r["reader"]: r["read"]["target_lesions"][0]["measurements"]["Week 8"]
                for r in detail["reads"]}
        # The sums of the targets, as the reads measured them.
        self.assertIn("Reader 1 sum %.1f mm, Reader 2 sum %.1f mm" % (size["Reader 1"],
                                                                    size["Reader 2"]), week8[0])
        self.assertTrue([r for r in tp_rows if r.startswith(
            "Baseline, Reader 1 sum 30.0 mm, Reader 2 sum 30.0 mm")], tp_rows)
        l1 = self.row_names("Reader 1 lesions")
        l2 = self.row_names("Reader 2 lesions")
        self.assertEqual(len(l1), 1, l1)
        self.assertEqual(len(l2), 1, l2)
        self.assertIn("Target T1, liver", l1[0])
        self.assertIn("Differs: measured %.1f mm against %.1f mm at Week 8"
                      % (size["Reader 1"], size["Reader 2"]), l1[0])
        self.assertIn("Differs: measured %.1f mm against %.1f mm at Week 8"
                      % (size["Reader 2"], size["Reader 1"]), l2[0])

        # Blinded: no user name of a reader anywhere in the window.
        text = " ".join(self.all_text())
        for name in ("reader1", "reader2"):
            self.assertNotIn(name, text)

        # Go to: each reader's lesion puts both panes on that reader's
        # caliper slice; the two calipers are on different slices.
        def user_of(label):
            return [u for u in SIZES if SIZES[u][1] == size[label]][0]
        at = {}
        for label in ("Reader 1", "Reader 2"):
            self.click(self.list_items(label + " lesions")[0])
            self.assertTrue(wait_for(lambda: self.slice_of(v1) is not None and
                                     self.slice_of(v1) == self.slice_of(v2) and
                                     self.slice_of(v1) not in at.values(), 15),
                            (v1.description, v2.description,
                             [t for t in self.labels() if "caliper" in t or "images" in t]))
            at[label] = self.slice_of(v1)
            self.shot("3-go-to-" + label.replace(" ", "-").lower())
        # The slices by hand: the caliper's index among the slices by
        # position, counted from either end.
        for label, s in at.items():
            k = CALIPER_SLICE[user_of(label)]
            self.assertIn(s, (k + 1, SLICES - k), (label, at))
        # A timepoint: both panes at its first caliper, Reader 1's.
        row = [r for r in self.list_items("Timepoint responses")
               if (r.name or "").startswith("Week 8")]
        self.click(row[0])
        self.assertTrue(wait_for(lambda: self.slice_of(v1) == at["Reader 1"] and
                                 self.slice_of(v2) == at["Reader 1"], 15),
                        (v1.description, v2.description, at))
        # Both readers' calipers on both panes, by keyboard (Ctrl+B, as the
        # shortcuts window lists it), then back.
        toggle = self.named("Show both readers' calipers")
        for want in (True, False):
            self.ctrl_key(ord("b"))
            self.assertTrue(wait_for(lambda: (toggle.getState().contains(p.STATE_CHECKED) or
                                              toggle.getState().contains(p.STATE_PRESSED)) == want,
                                     10),
                            "Ctrl+B did not toggle both readers' calipers")
            if want:
                self.shot("4-both-calipers")

        # Choose Reader 2, give the rationale, sign.
        sign = self.named("Sign adjudication")
        self.assertFalse(sign.getState().contains(p.STATE_SENSITIVE))
        self.click(self.named("Choose Reader 2", roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON,
                                                         p.ROLE_TOGGLE_BUTTON)))
        self.assertFalse(sign.getState().contains(p.STATE_SENSITIVE),
                         "signing without a rationale")
        self.click(self.named("Measurement variability", roles=(p.ROLE_CHECK_BOX,)))
        # Longer than the 200 characters the server allows a signature's
        # meaning: the rationale is no part of it (the walk's blocker).
        rationale = ("Reader 2's Week 8 caliper spans the whole lesion from the pleural "
                     "margin to the fissure, where Reader 1's stops at the edge of the "
                     "surrounding ground-glass; the longest axis in the axial plane is "
                     "the one RECIST 1.1 asks for, so Reader 2's sum and response stand.")
        self.assertGreater(len(rationale), 200)
        box = self.named("Rationale (required)", roles=(p.ROLE_TEXT, p.ROLE_ENTRY), timeout=5)
        self.assertIsNotNone(box, [(n.getRoleName(), n.name) for n in find_all(
            self.app, lambda n: "ationale" in (n.name or "") or n.getRole() == p.ROLE_TEXT, [])])
        try:
            box.queryEditableText().setTextContents(rationale)
        except NotImplementedError:
            # No editable-text interface: typed, as a person would.
            self.click_at(box)
            self.pyatspi.Registry.generateKeyboardEvent(0, rationale, self.pyatspi.KEY_STRING)
        self.assertTrue(wait_for(lambda: sign.getState().contains(p.STATE_SENSITIVE), 10))
        # The panel below scrolled with the wheel, as the walk did: the panes
        # keep their images.
        tables = self.named("Timepoint responses", roles=(p.ROLE_LIST,))
        tx, ty, tw, th = tables.queryComponent().getExtents(p.DESKTOP_COORDS)
        for button in ("b5c", "b5c", "b5c", "b4c", "b5c", "b5c"):
            self.mouse(tx + tw // 2, ty + th // 2, "abs")
            self.mouse(tx + tw // 2, ty + th // 2, button)
            time.sleep(0.2)
        # Then the pointer over each pane (a hover redraws only the overlay).
        for v in (v1, v2):
            vx, vy, vw, vh = v.queryComponent().getExtents(p.DESKTOP_COORDS)
            for i in range(8):
                self.mouse(vx + vw * (i + 1) // 10, vy + vh // 2, "abs")
        for v in (v1, v2):
            self.assertTrue(wait_for(lambda: self.dark_share(v) > 0.2, 10),
                            "%s shows no image after the panel scrolled (%.2f dark)"
                            % (v.name, self.dark_share(v)))
        self.shot("5-chosen")
        self.click(sign)
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        self.assertTrue(wait_for(lambda: [t for t in self.labels(dialog)
                                          if "(user adj1)" in t], 15), self.labels(dialog))
        # What is signed says the choice in the meaning, the rationale in its
        # own row.
        self.assertIn("Adjudication: I choose Reader 2's read as the final assessment of "
                      "this case", self.labels(dialog))
        self.assertIn("Reasons: Measurement variability. " + rationale, self.labels(dialog))
        # The responses in the lesion form's words, not the read JSON's codes.
        words = {"CR": "complete response (CR)", "PR": "partial response (PR)",
                 "SD": "stable disease (SD)", "PD": "progressive disease (PD)",
                 "NE": "not evaluable (NE)"}
        self.assertTrue([t for t in self.labels(dialog)
                         if t.endswith("Best overall response: " + words[bor["Reader 2"]])],
                        self.labels(dialog))
        # What is signed is an adjudication, in the heading and in a
        # wrong password's message (walk finding 13).
        self.assertIn("The adjudication: Reader 2's read, chosen as final", self.labels(dialog))
        self.type_into("Password", "not-the-password", root=dialog)
        self.click(self.named("Sign and submit", root=dialog))
        wrong = "Wrong password: the adjudication is not signed. Enter your password again."
        self.assertTrue(wait_for(lambda: wrong in self.labels(dialog), 30), self.labels(dialog))
        self.type_into("Password", PASSWORD, root=dialog)
        self.shot("6-sign")
        self.click(self.named("Sign and submit", root=dialog))
        # Signed, the dialog closes itself; the workspace shows the receipt.
        closed = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Sign and Submit")
                          is None, 30)
        self.assertTrue(closed, self.labels())
        receipt = wait_for(lambda: [t for t in self.labels()
                                    if t.startswith("Submitted and locked. Receipt")], 30)
        self.assertTrue(receipt, self.labels())
        self.assertIn("Reader 2's read is final (best overall response %s)" % bor["Reader 2"],
                      receipt[0])
        self.shot("7-locked")

        # The server holds it: Reader 2's read final, the rationale audited.
        admin = self.server.login("admin", ADMIN_PASSWORD)
        status, export = self.server.request("GET", "/readroom/v1/trials/TA/export?format=json",
                                             token=admin)
        self.assertEqual(status, 200, export)
        row = [r for r in export["rows"] if r["timepoint"] == "Week 8"]
        self.assertEqual(len(row), 1, export)
        final = row[0]["final"]
        self.assertEqual(final["source"], "Reader 2", final)
        self.assertEqual(final["responses"]["best_overall_response"], bor["Reader 2"])
        self.assertEqual(row[0]["adjudication"]["chosen"], "Reader 2", row[0])
        self.assertEqual(row[0]["adjudication"]["rationale"],
                         "Reasons: Measurement variability. " + rationale)
        self.assertEqual(export["agreement"]["adjudicated"], 1, export["agreement"])
        status, trail = self.server.request("GET", "/readroom/v1/audit?after=0&limit=1000",
                                            token=admin)
        adjudicated = [e for e in trail if e["action"] == "final.adjudicated"]
        self.assertEqual(len(adjudicated), 1, trail)
        details = adjudicated[0]["details"]
        if isinstance(details, str):
            details = json.loads(details)
        self.assertEqual(details["chosen"], "Reader 2")
        self.assertEqual(details["rationale"], "Reasons: Measurement variability. " + rationale)
        status, tasks = self.server.request("GET", "/readroom/v1/tasks?status=all", token=adj)
        self.assertEqual([t["status"] for t in tasks], ["submitted"])
        # Read-only: the decision cannot be changed any more.
        choose = self.named("Choose Reader 1", roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON,
                                                       p.ROLE_TOGGLE_BUTTON))
        self.assertFalse(choose.getState().contains(p.STATE_SENSITIVE))
        self.assertFalse(sign.getState().contains(p.STATE_SENSITIVE))
        self.assert_signed_rationale(rationale)

        # Opened again later on this computer: still locked, the same receipt.
        self.launch_and_open(download=False)
        again = wait_for(lambda: [t for t in self.labels()
                                  if t.startswith("Submitted and locked. Receipt")], 30)
        self.assertEqual(again, receipt, self.labels())
        choose = self.named("Choose Reader 2", roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON,
                                                       p.ROLE_TOGGLE_BUTTON))
        self.assertFalse(choose.getState().contains(p.STATE_SENSITIVE))
        self.assertTrue(choose.getState().contains(p.STATE_CHECKED), "the choice is not shown")
        self.assert_signed_rationale(rationale)
        self.assertFalse(self.named("Sign adjudication").getState().contains(p.STATE_SENSITIVE))
        self.shot("8-reopened")

        # On another computer (its own data folder, the same server): the
        # adjudication signed on the first opens read-only as signed, the
        # choice, the rationale and the same receipt.
        cls = type(self)
        stop(cls.proc)
        cls.proc, self.app = cls.launch_app([], dict(
            self.env, XDG_DATA_HOME=os.path.join(self.tmp, "data-b"),
            XDG_CACHE_HOME=os.path.join(self.tmp, "cache-b")))
        self.sign_in("adj1", PASSWORD)
        self.open_submitted("Adjudication · subject S-001")
        elsewhere = wait_for(lambda: [t for t in self.labels()
                                      if t.startswith("Submitted and locked. Receipt")], 30)
        self.shot("9-elsewhere")
        self.assertEqual(elsewhere, receipt, self.labels())
        choose = self.named("Choose Reader 2", roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON,
                                                       p.ROLE_TOGGLE_BUTTON))
        self.assertTrue(choose.getState().contains(p.STATE_CHECKED), "the choice is not shown")
        self.assertFalse(choose.getState().contains(p.STATE_SENSITIVE))
        self.assert_signed_rationale(rationale)
        self.assertFalse(self.named("Sign adjudication").getState().contains(p.STATE_SENSITIVE))


if __name__ == "__main__":
    main()
