#!/usr/bin/python3
"""The QC loop end to end (issue 16), in the real window against a real
readroom-server on 127.0.0.1, driven through the accessibility tree. A site
uploads a CT with 7.5 mm slices (readroom-cli upload) against a protocol
that allows at most 5 mm; the QC reviewer opens the task in the app, sees
the failed slice-thickness check and its prefilled finding, draws a
rectangle marked motion artifact with a comment (kept as a draft across a
restart of the app), and queries the site, signed. The site user sees the
query in the app with the findings, and answers on the app's upload page
with a re-upload of 5 mm images, a response and the password; a fresh QC
task appears for the reviewer, whose checks all pass; the reviewer
passes it, and the server opens the two read tasks. A screenshot of each
step goes to the test's log folder."""
import json
import glob
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import (common_ancestor, find, find_all, label_text, main, out_of_sight,  # noqa: E402
                  start_a11y_bus, start_app, unnamed_focusable, wait_for, wait_registry)
from workspace import WorkspaceDriver  # noqa: E402
from test_server import ADMIN_PASSWORD, Server  # noqa: E402

READROOM = os.environ.get("READROOM_E2E_APP") or os.environ.get("READROOM_APP",
                                                               "build/src/app/readroom")
CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_qc")
PASSWORD = "user-password"
SUBJECT = "S-QC"
PROTOCOL = {"modality": ["CT"], "max_slice_thickness_mm": 5.0}
OTHER = "QC-B"
RATIONALE = "Artefact outside the target organs, agreed with the sponsor"
COMMENT = "Breathing motion blurs the liver dome"
RESPONSE = "Repeated with breath-hold at 5 mm"


class Qc(WorkspaceDriver, unittest.TestCase):
    out = OUT

    @classmethod
    def setUpClass(cls):
        if not os.environ.get("DISPLAY"):
            raise unittest.SkipTest("no display")
        os.makedirs(OUT, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="rr-e2e-qc-")
        cls.proc = cls.bus = None
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.server.start()
        cls.url = "http://127.0.0.1:%d" % cls.server.port
        try:
            cls.prepare()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def admin(cls, *args):
        env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD, READROOM_NEW_PASSWORD=PASSWORD)
        subprocess.run([CLI, "admin", "--server", cls.url] + list(args), env=env, check=True,
                       capture_output=True)

    @classmethod
    def site_upload(cls, folder, *extra, subject=SUBJECT):
        """readroom-cli upload as the site; the study UIDs it sent into."""
        env = dict(os.environ, READROOM_PASSWORD=PASSWORD, READROOM_NO_KEYRING="1",
                   XDG_DATA_HOME=os.path.join(cls.tmp, "cli-data"),
                   XDG_CACHE_HOME=os.path.join(cls.tmp, "cli-cache"))
        r = subprocess.run([CLI, "upload", folder, "--server", cls.url, "--user", "site1",
                            "--trial", "TQ", "--subject", subject, "--timepoint", "Baseline",
                            "--offline-timeout", "60"] + list(extra),
                           env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout, [line.split()[1] for line in r.stdout.splitlines()
                          if line.startswith("study: ")]

    @classmethod
    def phantom(cls, name, thickness, seed):
        out = os.path.join(cls.tmp, name)
        subprocess.run([PHANTOM, out, "--kind", "ct", "--slices", "12", "--size", "96",
                        "--thickness", str(thickness), "--spacing", str(thickness),
                        "--seed", str(seed), "--patient-id", "Original Name"],
                       check=True, capture_output=True)
        return out

    @classmethod
    def prepare(cls):
        for u in ("site1", "qc1", "reader1", "reader2"):
            cls.admin("user", "add", u)
        cls.admin("trial", "create", "TQ", "--name", "qc", "--readers", "2")
        path = os.path.join(cls.tmp, "protocol.json")
        with open(path, "w") as f:
            json.dump(PROTOCOL, f)
        cls.admin("trial", "protocol", "TQ", path)
        cls.admin("member", "set", "TQ", "site1", "--roles", "site", "--site", "S01")
        cls.admin("member", "set", "TQ", "qc1", "--roles", "qc")
        cls.admin("member", "set", "TQ", "reader1", "--roles", "reader")
        cls.admin("member", "set", "TQ", "reader2", "--roles", "reader")
        _, studies = cls.site_upload(cls.phantom("thick", 7.5, 3))
        assert len(studies) == 1, studies
        cls.thick = studies[0]
        # A site may not link; the coordinator does.
        token = cls.server.login("admin", ADMIN_PASSWORD)
        status, doc = cls.server.request(
            "POST", "/readroom/v1/trials/TQ/subjects/%s/timepoints" % SUBJECT,
            {"label": "Baseline", "day": 0, "studies": studies}, token=token)
        assert status == 201, doc
        cls.bus = start_a11y_bus()
        import pyatspi
        wait_registry(pyatspi)
        time.sleep(1.0)
        cls.pyatspi = pyatspi

    def env_of(self, user):
        return dict(os.environ, GTK_A11Y="atspi", NO_AT_BRIDGE="0", GSETTINGS_BACKEND="memory",
                    XDG_DATA_HOME=os.path.join(self.tmp, user, "data"),
                    XDG_CACHE_HOME=os.path.join(self.tmp, user, "cache"),
                    READROOM_NO_KEYRING="1")

    # ---- helpers ----

    def launch_and_open(self, user, title):
        """The app signed in as @user, the task whose row starts with
        @title downloaded and opened."""
        cls = type(self)
        if cls.proc and cls.proc.poll() is None:
            cls.proc.terminate()
            cls.proc.wait(10)
        cls.proc, self.app = start_app(self.pyatspi, [READROOM], self.env_of(user))
        self.sign_in(user, PASSWORD)
        mine = lambda r: r.startswith(title) and " · open" in r  # noqa: E731
        listed = wait_for(lambda: [r for r in self.row_names("Worklist") if mine(r)], 90)
        if not listed:
            self.shot("no-worklist-" + user)
        self.assertTrue(listed, self.row_names("Worklist"))
        self.click(self.named("Download All"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if mine(r) and "available offline" in r],
                                 120), self.row_names("Worklist"))
        self.click_row([r for r in self.list_items("Worklist") if mine(r.name or "")][0])

    def viewer(self):
        return wait_for(lambda: find(self.app, lambda n: (n.name or "") == "QC images" and
                                     "slice" in (n.description or "")), 30)

    def choose_tool(self, name):
        """Clicks tool @name and waits until the viewer has it: the click
        reaches the app over the accessibility bus, the drag after it over
        X, and the drag must not win the race (CI: a rectangle drawn as a
        window drag)."""
        self.click(self.named(name))
        self.assertTrue(wait_for(lambda: "tool: " + name in (self.viewer().description or ""),
                                 10), self.viewer().description)

    def choose(self, drop_down, item, steps):
        """Picks @item of a drop-down by keyboard, as a person may: open
        it, @steps rows up from the focused one (negative: down), Enter.
        (GTK 4.8 reports a popover's rows at the wrong place for a click.)
        Waits for states, not times: the list's focus before the keys, the
        list gone after, and @item shown on the drop-down."""
        p, reg = self.pyatspi, self.pyatspi.Registry

        def labels():
            return [label_text(n) for n in find_all(self.app, lambda n: n.getRole()
                                                    == p.ROLE_LABEL, [])]

        before = labels()
        self.click_at(drop_down)
        self.assertTrue(wait_for(lambda: labels().count(item) > before.count(item), 10), item)
        rows = [t for t in labels() if t not in before]
        # The popover takes the focus once mapped: a row of it is focused.
        self.assertTrue(wait_for(lambda: find(self.app, lambda n: n.getRole()
                                              == p.ROLE_LIST_ITEM and n.getState().contains(
                                                  p.STATE_FOCUSED)), 10), "the list took no focus")
        for _ in range(abs(steps)):
            reg.generateKeyboardEvent(0xff52 if steps > 0 else 0xff54, None, p.KEY_SYM)
            time.sleep(0.1)
        reg.generateKeyboardEvent(0xff0d, None, p.KEY_SYM)
        others = [t for t in rows if t != item]
        self.assertTrue(wait_for(lambda: not [t for t in labels() if t in others], 10),
                        "the list stayed open")
        self.assertTrue(wait_for(lambda: [n for n in find_all(drop_down, lambda n: n.getRole()
                                                              == p.ROLE_LABEL, [])
                                          if label_text(n) == item], 10),
                        "the drop-down does not show " + item)

    def sign(self, decision_label):
        p = self.pyatspi
        self.click(self.named(decision_label, roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON)))
        sign = self.named("Sign decision")
        self.assertTrue(wait_for(lambda: sign.getState().contains(p.STATE_SENSITIVE), 10),
                        self.labels())
        self.click(sign)
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        self.type_into("Password", PASSWORD, root=dialog)
        return dialog

    def submitted(self, dialog, decision):
        self.click(self.named("Sign and submit", root=dialog))
        # Signed, the dialog closes itself; the workspace shows the receipt.
        closed = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Sign and Submit")
                          is None, 30)
        self.assertTrue(closed, self.labels())
        locked = wait_for(lambda: [t for t in self.labels()
                                   if t.startswith("Submitted and locked: %s. Receipt" % decision)],
                          30)
        self.assertTrue(locked, self.labels())
        return locked[0]

    def image_names(self):
        p = self.pyatspi
        return [n.name or "" for n in find_all(self.app, lambda n: n.getRole() == p.ROLE_IMAGE,
                                               [])]

    def assert_drawn_on_its_image(self, p, name, points):
        """The picture named @name shows a rectangle in the caliper yellow
        whose corners are @points ([column, row] of the 96 x 96 image)."""
        from PIL import Image
        preview = self.named(name, roles=(p.ROLE_IMAGE,), timeout=60)
        self.assertIsNotNone(preview, self.image_names())
        # Scrolled into sight with the wheel over the page, if need be.
        for _ in range(40):
            if out_of_sight(p, preview) is None:
                break
            x, y, w, h = preview.queryComponent().getExtents(p.DESKTOP_COORDS)
            frame = find(self.app, lambda n: n.getRole() == p.ROLE_FRAME)
            px, py, pw, ph = frame.queryComponent().getExtents(p.DESKTOP_COORDS)
            self.mouse(px + pw // 2, py + ph // 2, "abs")
            self.mouse(px + pw // 2, py + ph // 2, "b4c" if y < py else "b5c")
        self.assertIsNone(out_of_sight(p, preview))
        self.shot("5a-site-query-on-image")
        x, y, w, h = preview.queryComponent().getExtents(p.DESKTOP_COORDS)
        img = Image.open(os.path.join(self.out, "5a-site-query-on-image.png")).convert("RGB")
        crop = img.crop((x, y, x + w, y + h))
        yellow = [(i % w, i // w) for i, (r, g, b) in enumerate(crop.getdata())
                  if r >= 220 and 170 <= g <= 230 and b <= 110]
        self.assertGreater(len(yellow), 100, "no rectangle drawn on the image")
        xs, ys = [q[0] for q in yellow], [q[1] for q in yellow]
        (c0, r0), (c1, r1) = points
        # The image fills the picture: 96 pixels across its width; its
        # outline is drawn through the pixels' centres, 2 px wide. Its size
        # to a pixel or two; its place within the few pixels by which the
        # accessible extents and the screenshot can differ (a window's
        # frame).
        sx, sy = w / 96.0, h / 96.0
        msg = (points, (w, h), min(xs), max(xs), min(ys), max(ys))
        self.assertAlmostEqual(max(xs) - min(xs), abs(c1 - c0) * sx, delta=3, msg=msg)
        self.assertAlmostEqual(max(ys) - min(ys), abs(r1 - r0) * sy, delta=3, msg=msg)
        self.assertAlmostEqual(min(xs), (min(c0, c1) + 0.5) * sx, delta=6, msg=msg)
        self.assertAlmostEqual(min(ys), (min(r0, r1) + 0.5) * sy, delta=6, msg=msg)

    # ---- the test ----

    def test_qc_loop(self):
        p = self.pyatspi
        qc = self.server.login("qc1", PASSWORD)
        site = self.server.login("site1", PASSWORD)

        # The reviewer sees the failed check and its prefilled finding.
        self.launch_and_open("qc1", "Quality control · subject " + SUBJECT)
        v = self.viewer()
        self.assertIsNotNone(v, "the QC workspace did not open")
        # Every control a screen reader can reach has a name to speak
        # (walk finding 15: drop-downs read as "GtkToggleButton", empty
        # state lines as "GtkLabel").
        qc_view = common_ancestor(self.app, "QC images", "Automated checks")
        self.assertIsNotNone(qc_view)
        self.assertEqual(unnamed_focusable(qc_view, p), [], "controls without a name")
        checks = wait_for(lambda: [r for r in self.row_names("Automated checks")
                                   if r.startswith("✗ Failed · Slice thickness: ")], 30)
        self.shot("1-automated")
        self.assertTrue(checks, self.row_names("Automated checks"))
        self.assertIn("7.5 mm", checks[0])
        # A passed check reads as what passed, not as the defect it looks
        # for (walk finding 11).
        passing = [r for r in self.row_names("Automated checks") if r.startswith("✓ Passed")]
        self.assertTrue([r for r in passing if r.startswith("✓ Passed · Modality: ")], passing)
        self.assertFalse([r for r in passing if "Wrong modality" in r], passing)
        # The viewer's description is for assistive tools, not a line
        # under the image.
        self.assertFalse([t for t in self.labels() if "mm per pixel" in t or " panes: " in t],
                         self.labels())
        findings = self.row_names("Findings")
        self.assertTrue([f for f in findings
                         if f.startswith("Slice thickness · major · the series · automated")],
                        findings)

        # A rectangle marked motion artifact, with a comment.
        self.choose_tool("Rectangle")
        category = self.named("Category", roles=(p.ROLE_COMBO_BOX, p.ROLE_PUSH_BUTTON,
                                                 p.ROLE_TOGGLE_BUTTON, p.ROLE_PANEL,
                                                 p.ROLE_FILLER))
        # The list opens with its first row focused: "Motion artifact" is
        # the fifth.
        self.choose(category, "Motion artifact", -4)
        x, y, w, h = v.queryComponent().getExtents(p.DESKTOP_COORDS)
        self.drag(x + w * 0.35, y + h * 0.35, x + w * 0.6, y + h * 0.55)
        self.assertTrue(wait_for(lambda: [f for f in self.row_names("Findings")
                                          if f.startswith("Motion artifact · major · rectangle")],
                                 10), self.row_names("Findings"))
        # Its top right corner dragged up: the bottom left one stays, the
        # two beside it follow, and it is still a rectangle (checked in the
        # query below: 0.25 w wide by 0.4 h high).
        self.drag(x + w * 0.6, y + h * 0.35, x + w * 0.6, y + h * 0.15)
        self.type_into("Comment", COMMENT)
        self.assertTrue(wait_for(lambda: [f for f in self.row_names("Findings")
                                          if f == "Motion artifact · major · rectangle — "
                                          + COMMENT], 10), self.row_names("Findings"))
        self.shot("2-rectangle")
        # A defect marks a place; it is no measurement: nothing is written
        # beside it (no area, no mean), so under the rectangle, where a
        # caliper's values go, is none of the overlay text's light grey.
        from PIL import Image
        img = Image.open(os.path.join(self.out, "2-rectangle.png")).convert("RGB")
        below = img.crop((int(x + w * 0.35), int(y + h * 0.55) + 4, int(x + w * 0.6) + 160,
                          int(y + h * 0.55) + 70))
        text = [px for px in below.getdata()
                if all(228 <= c <= 240 for c in px) and max(px) - min(px) <= 2]
        self.assertLess(len(text), 20, "values written beside the defect rectangle")

        # The draft is kept as it is made: the app started again shows it.
        self.launch_and_open("qc1", "Quality control · subject " + SUBJECT)
        self.assertTrue(wait_for(lambda: [f for f in self.row_names("Findings")
                                          if f == "Motion artifact · major · rectangle — "
                                          + COMMENT], 30), self.row_names("Findings"))
        self.assertEqual(len(self.row_names("Findings")), 2, self.row_names("Findings"))
        self.assertIsNotNone(self.viewer())

        # Queried, signed: the site has a query with both findings.
        dialog = self.sign("Query the site")
        self.assertTrue([t for t in self.labels(dialog)
                         if t.startswith("Decision: query, with 2 findings")], self.labels(dialog))
        self.shot("3-sign-query")
        self.submitted(dialog, "query")
        self.shot("4-queried")
        status, tasks = self.server.request("GET", "/readroom/v1/tasks", token=site)
        self.assertEqual([t["kind"] for t in tasks], ["query"], tasks)
        query = tasks[0]["id"]
        status, detail = self.server.request("GET", "/readroom/v1/tasks/" + query, token=site)
        drawn = [f for f in detail["findings"] if f["category"] == "motion_artifact"]
        self.assertEqual(len(drawn), 1, detail["findings"])
        self.assertEqual((drawn[0]["severity"], drawn[0]["comment"], drawn[0]["shape"]["type"]),
                         ("major", COMMENT, "rect"))
        self.assertEqual(len(drawn[0]["shape"]["points"]), 2)
        for px, py in drawn[0]["shape"]["points"]:
            self.assertTrue(0 <= px <= 96 and 0 <= py <= 96, drawn[0]["shape"])
        # Its two opposite corners span the rectangle after the corner drag:
        # width over height as on screen, 0.25 w over 0.4 h (the image's
        # pixels are square); 0.25 w over 0.2 h if the corner moved alone.
        (c0, r0), (c1, r1) = drawn[0]["shape"]["points"]
        self.assertGreater(r1 - r0, 0, drawn[0]["shape"])
        aspect = abs(c1 - c0) / (r1 - r0)
        self.assertAlmostEqual(aspect / ((0.25 * w) / (0.4 * h)), 1, delta=0.1, msg=drawn[0])
        self.assertTrue(drawn[0]["sop"], drawn[0])
        self.assertEqual({f["category"] for f in detail["findings"]},
                         {"motion_artifact", "slice_thickness"})
        status, reads = self.server.request("GET", "/readroom/v1/tasks",
                                            token=self.server.login("reader1", PASSWORD))
        self.assertEqual(reads, [])

        # The site sees the query and its findings in the app.
        self.launch_and_open("site1", "QC query · subject " + SUBJECT)
        self.assertTrue(wait_for(lambda: [f for f in self.row_names("Findings")
                                          if f == "Motion artifact · major · rectangle — "
                                          + COMMENT], 30), self.row_names("Findings"))
        self.assertIsNotNone(self.viewer())
        row = [r for r in self.list_items("Findings")
               if (r.name or "").startswith("Motion artifact")]
        self.click_at(row[0])
        # The rectangle drawn on its image, selected.
        self.assertTrue(wait_for(lambda: "selected: Freehand" in
                                 (self.viewer().description or ""), 15),
                        self.viewer().description)
        self.shot("5-site-query")

        # The site answers with a re-upload on the app's upload page: the
        # query chosen shows its findings; the response and the password
        # are asked for; Upload and Answer sends and answers.
        self.click(self.named("Upload"))
        # GTK 4.8 clicks a button activated through its accessible action
        # 250 ms later: the page is waited for (the window's subtitle),
        # lest the row below be clicked on the page still shown.
        self.assertTrue(wait_for(lambda: "Upload" in self.labels(), 20), self.labels())
        listed = wait_for(lambda: [r for r in self.list_items("Open Queries")
                                   if (r.name or "").startswith("Query · TQ · subject " + SUBJECT)],
                          30)
        self.assertTrue(listed, self.row_names("Open Queries"))
        self.click_at(listed[0])
        self.assertIsNotNone(self.named("Upload and Answer"), "no Upload and Answer button")
        # Left, the page is an ordinary upload again and the query stays.
        self.click(self.named("Leave the Query"))
        self.assertIsNotNone(self.named("Start Upload", timeout=10))
        self.assertIsNone(self.named("Upload and Answer", timeout=2))
        self.assertEqual(len(self.row_names("Open Queries")), 1, self.row_names("Open Queries"))
        listed = [r for r in self.list_items("Open Queries")]
        self.click_at(listed[0])
        self.assertTrue(wait_for(lambda: "Motion artifact · major — " + COMMENT
                                 in self.row_names("Query Findings"), 30),
                        self.row_names("Query Findings"))
        self.assertTrue([f for f in self.row_names("Query Findings")
                         if f.startswith("Slice thickness · major")],
                        self.row_names("Query Findings"))
        # Each finding that marks an image is drawn on it (s9 walk m5: the
        # page listed them as text only): the rectangle, in the viewer's
        # caliper yellow, where the reviewer drew it on that image.
        self.assert_drawn_on_its_image(p, "On its image: Motion artifact · major — " + COMMENT,
                                       drawn[0]["shape"]["points"])
        # The automated finding is about the whole series: no image.
        self.assertEqual([n for n in self.image_names() if "Slice thickness" in n], [])
        answer = self.named("Upload and Answer")
        self.assertIsNotNone(answer, "no Upload and Answer button")
        self.type_into("Folder", self.phantom("redo", 5, 4))
        # Upload and Answer sends what Find Studies read, nothing before.
        self.assertFalse(answer.getState().contains(p.STATE_SENSITIVE))
        self.click(self.named("Find Studies"))
        self.assertTrue(wait_for(lambda: answer.getState().contains(p.STATE_SENSITIVE), 60),
                        self.labels())
        # The response is required: without it nothing is sent.
        self.click(answer)
        self.assertTrue(wait_for(lambda: "Write the response to the query first"
                                 in self.labels(), 10), self.labels())
        self.type_into("Response", RESPONSE)
        self.type_into("Password", PASSWORD)
        self.shot("5b-site-answer")
        self.click(answer)
        done = wait_for(lambda: [t for t in self.labels() if t.startswith("Uploaded ")
                                 and "answered the query" in t], 120)
        self.shot("5c-site-answered")
        self.assertTrue(done, self.labels())
        self.assertIn("12 files in 1 study", done[0])
        # The query leaves the list.
        self.assertTrue(wait_for(lambda: self.row_names("Open Queries") == [], 10),
                        self.row_names("Open Queries"))
        # The answer's files went through their own staging folder.
        journal, = glob.glob(os.path.join(self.tmp, "site1", "cache", "readroom", "upload", "TQ",
                                          SUBJECT, "Baseline", "query", query, "src-*",
                                          "journal"))
        with open(journal) as f:
            studies = sorted({line.split(" ")[1] for line in f.read().splitlines()})
        self.assertEqual(len(studies), 1)
        self.assertNotEqual(studies[0], self.thick)
        status, detail = self.server.request("GET", "/readroom/v1/tasks/" + query, token=site)
        self.assertEqual((detail.get("status"), detail.get("response")), ("submitted", RESPONSE),
                         detail)
        status, tasks = self.server.request("GET", "/readroom/v1/tasks", token=qc)
        self.assertEqual([(t["kind"], t["timepoints"][0]["studies"]) for t in tasks],
                         [("qc", studies)], tasks)

        # A second subject's QC task, for the reviewer's next task below.
        _, other = self.site_upload(self.phantom("other", 5, 5), subject=OTHER)
        status, doc = self.server.request(
            "POST", "/readroom/v1/trials/TQ/subjects/%s/timepoints" % OTHER,
            {"label": "Baseline", "day": 0, "studies": other},
            token=self.server.login("admin", ADMIN_PASSWORD))
        self.assertEqual(status, 201, doc)

        # The reviewer passes it: every check passes, the query shows.
        self.launch_and_open("qc1", "Quality control · subject " + SUBJECT)
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if RESPONSE in t], 30), self.labels())
        self.assertTrue(wait_for(lambda: len([r for r in self.row_names("Automated checks")
                                              if r.startswith("✓ Passed")]) >= 7, 30),
                        self.row_names("Automated checks"))
        self.assertEqual([r for r in self.row_names("Automated checks")
                          if r.startswith("✗") or r.startswith("!")], [])
        self.assertIsNotNone(self.viewer())
        self.shot("6-fresh-qc")
        # What the next finding would get, chosen and typed but not used.
        category = self.named("Category", roles=(p.ROLE_COMBO_BOX, p.ROLE_PUSH_BUTTON,
                                                 p.ROLE_TOGGLE_BUTTON, p.ROLE_PANEL,
                                                 p.ROLE_FILLER))
        self.choose(category, "Motion artifact", -4)
        self.type_into("Comment", COMMENT)
        dialog = self.sign("Pass")
        self.submitted(dialog, "pass")
        self.shot("7-passed")

        # The reads are open, on the new study.
        for u in ("reader1", "reader2"):
            status, reads = self.server.request("GET", "/readroom/v1/tasks",
                                                token=self.server.login(u, PASSWORD))
            self.assertEqual([(t["kind"], t["timepoints"][0]["studies"]) for t in reads],
                             [("read", studies)], (u, reads))

        # The next task opens with the controls as every task starts, none
        # of the last task's category or comment (s9 walk, M6).
        title = "Quality control · subject " + OTHER
        self.click(self.named("Worklist"))
        self.assertTrue(wait_for(lambda: "Worklist" in self.labels(), 20), self.labels())
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if r.startswith(title) and "available offline" in r],
                                 120), self.row_names("Worklist"))
        self.click_row([r for r in self.list_items("Worklist")
                        if (r.name or "").startswith(title)][0])
        # The other task's workspace: its checks, its title.
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Automated checks")
                                          if "one patient (%s)" % OTHER in r], 60),
                        self.row_names("Automated checks"))
        self.shot("8-next-task")
        category = self.named("Category", roles=(p.ROLE_COMBO_BOX, p.ROLE_PUSH_BUTTON,
                                                 p.ROLE_TOGGLE_BUTTON, p.ROLE_PANEL,
                                                 p.ROLE_FILLER))
        shown = [label_text(n) for n in find_all(category, lambda n: n.getRole()
                                                 == p.ROLE_LABEL, [])]
        self.assertIn("Image quality", shown)
        self.assertNotIn("Motion artifact", shown)
        severity = self.named("Severity", roles=(p.ROLE_COMBO_BOX, p.ROLE_PUSH_BUTTON,
                                                 p.ROLE_TOGGLE_BUTTON, p.ROLE_PANEL,
                                                 p.ROLE_FILLER))
        self.assertIn("Major", [label_text(n) for n in find_all(
            severity, lambda n: n.getRole() == p.ROLE_LABEL, [])])
        editable = (p.ROLE_ENTRY, p.ROLE_TEXT)
        comment = self.named("Comment", roles=editable + (p.ROLE_PANEL, p.ROLE_FILLER,
                                                          p.ROLE_UNKNOWN))
        self.assertIsNotNone(comment)
        if comment.getRole() not in editable:
            comment = find(comment, lambda n: n.getRole() in editable)
        text = comment.queryText()
        self.assertEqual(text.getText(0, text.characterCount), "")

        # A pass over an open major finding waits for an explicit override
        # and its reason, which the signature keeps (s9 walk, m1).
        status, open_tasks = self.server.request("GET", "/readroom/v1/tasks", token=qc)
        task_b = [t["id"] for t in open_tasks if t["timepoints"][0]["studies"] == other]
        self.assertEqual(len(task_b), 1, open_tasks)
        self.choose_tool("Rectangle")
        v = self.viewer()
        x, y, w, h = v.queryComponent().getExtents(p.DESKTOP_COORDS)
        self.drag(x + w * 0.3, y + h * 0.3, x + w * 0.5, y + h * 0.5)
        self.assertTrue(wait_for(lambda: [f for f in self.row_names("Findings")
                                          if f.startswith("Image quality · major · rectangle")],
                                 10), self.row_names("Findings"))
        self.click(self.named("Pass", roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON)))
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("1 major finding is open")], 10),
                        self.labels())
        sign = self.named("Sign decision")
        self.assertFalse(sign.getState().contains(p.STATE_SENSITIVE))
        self.click(self.named("Pass despite the major findings",
                              roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON)))
        self.assertFalse(sign.getState().contains(p.STATE_SENSITIVE))
        self.type_into("Override rationale", RATIONALE)
        self.assertTrue(wait_for(lambda: sign.getState().contains(p.STATE_SENSITIVE), 10),
                        self.labels())
        self.click(sign)
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog, "no signing dialog")
        self.type_into("Password", PASSWORD, root=dialog)
        self.shot("9-override")
        receipt = self.submitted(dialog, "pass")
        status, doc = self.server.request("GET", "/readroom/v1/tasks/%s/submission" % task_b[0],
                                          token=qc)
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["meaning"], "I reviewed these images against the protocol: they "
                         "pass despite 1 major finding, because: " + RATIONALE)
        self.assertEqual(doc["submission"]["decision"], "pass")

        # The reviewer on another computer (its own data folder, the same
        # server): the decision signed on the first opens read-only as
        # signed, with its finding and the same receipt.
        cls = type(self)
        cls.proc.terminate()
        cls.proc.wait(10)
        env = dict(self.env_of("qc1"), XDG_DATA_HOME=os.path.join(self.tmp, "qc1-b", "data"),
                   XDG_CACHE_HOME=os.path.join(self.tmp, "qc1-b", "cache"))
        cls.proc, self.app = start_app(self.pyatspi, [READROOM], env)
        self.sign_in("qc1", PASSWORD)
        self.open_submitted(title)
        opened = self.viewer()
        if opened is None:
            self.shot("10-not-opened")
        self.assertIsNotNone(opened, "the signed QC task did not open")
        elsewhere = wait_for(lambda: [t for t in self.labels()
                                      if t.startswith("Submitted and locked: pass. Receipt")], 30)
        self.shot("10-elsewhere")
        self.assertEqual(elsewhere, [receipt], self.labels())
        self.assertTrue([f for f in self.row_names("Findings")
                         if f.startswith("Image quality · major · rectangle")],
                        self.row_names("Findings"))
        decided = self.named("Pass", roles=(p.ROLE_CHECK_BOX, p.ROLE_RADIO_BUTTON))
        self.assertTrue(decided.getState().contains(p.STATE_CHECKED), "the decision is not shown")
        self.assertFalse(decided.getState().contains(p.STATE_SENSITIVE))
        self.assertFalse(self.named("Sign decision").getState().contains(p.STATE_SENSITIVE))


if __name__ == "__main__":
    main()
