#!/usr/bin/python3
"""The site's upload page end to end (issue 17), in the real window against
a real readroom-server on 127.0.0.1, driven through the accessibility tree.
A site user signs in, opens Upload, and points it at a folder whose files
carry identifying values planted in Table E.1-1 attributes (in sequences
too), private attributes, and a study date far from the visit. The page
lists the study, warns about the date, previews what de-identification
changes (the planted name becomes the subject ID), and uploads with
progress. Upload waits for a folder read under the subject and visit
entered, and for the site to confirm the far date; editing the visit
asks for another read. Sent again, the files are counted as held by the
server, not as new. An administrator links the study; the reader's task
then lists the files, and not one planted value is in any byte the reader
downloads.
Screenshots go to the test log folder."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
sys.path.insert(0, os.path.join(HERE, "..", "dicom"))
from a11y import AppCase, find, find_all, label_text, main, wait_for  # noqa: E402
from test_server import ADMIN_PASSWORD, Server  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_upload")
PASSWORD = "user-password"
SUBJECT = "S-001"
SLICES = 6


class Upload(AppCase):
    @classmethod
    def setUpClass(cls):
        import pydicom
        from test_deid import IN_SEQUENCES, NAME_WORDS, PLANTED, PRIVATE, plant
        cls.make_tmp("rr-e2e-upload-")
        os.makedirs(OUT, exist_ok=True)
        cls.server = Server(os.path.join(cls.tmp, "server"))
        os.makedirs(cls.server.data)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.url = "http://127.0.0.1:%d" % cls.server.port
        for u in ("site1", "reader1"):
            cls.admin("user", "add", u)
        cls.admin("trial", "create", "TU", "--name", "upload", "--no-qc", "--readers", "1")
        cls.admin("member", "set", "TU", "site1", "--roles", "site", "--site", "S01")
        cls.admin("member", "set", "TU", "reader1", "--roles", "reader")

        # The site's folder: a CT series, every file planted. Study date
        # 2026-01-05 (the phantom's); the visit is entered as 2026-02-20.
        raw = os.path.join(cls.tmp, "phantom")
        subprocess.run([PHANTOM, raw, "--kind", "ct", "--slices", str(SLICES), "--size", "64",
                        "--patient-name", PLANTED["PatientName"], "--patient-id",
                        PLANTED["PatientID"]], check=True, capture_output=True)
        cls.folder = os.path.join(cls.tmp, "visit")
        os.makedirs(os.path.join(cls.folder, "IMG"))
        prev = None
        for i, name in enumerate(sorted(os.listdir(raw))):
            ds = pydicom.dcmread(os.path.join(raw, name))
            plant(ds, prev, ds.StudyInstanceUID)
            prev = ds.SOPInstanceUID
            ds.save_as(os.path.join(cls.folder, "IMG", "IM%04d" % i))
        cls.secrets = ([v.encode() for v in PLANTED.values()] +
                       [v.encode() for v in IN_SEQUENCES + PRIVATE + NAME_WORDS])
        # The planted bytes really are in what the site has.
        with open(os.path.join(cls.folder, "IMG", "IM0000"), "rb") as f:
            data = f.read()
        assert all(s in data for s in (b"MRN77881234", b"Mercy General Hospital",
                                       b"PRIVATE-PHI-3141")), "nothing planted"

        cls.start_bus()
        env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                          XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"), READROOM_NO_KEYRING="1")
        cls.proc, cls.app = cls.launch_app([], env)
        cls.staging = os.path.join(cls.tmp, "cache", "readroom", "upload", "TU", SUBJECT,
                                   "Baseline")

    @classmethod
    def admin(cls, *args):
        env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD, READROOM_NEW_PASSWORD=PASSWORD)
        subprocess.run([CLI, "admin", "--server", cls.url] + list(args), env=env, check=True,
                       capture_output=True)

    # ---- driving the window ----

    def shot(self, name):
        subprocess.run(["import", "-window", "root", os.path.join(OUT, name + ".png")],
                       capture_output=True)

    def named(self, name, roles=None, root=None, timeout=20):
        p = self.pyatspi
        roles = roles or (p.ROLE_PUSH_BUTTON, p.ROLE_TOGGLE_BUTTON)
        # GTK 4.8 names a labelled button "label label": the first word
        # group is what counts.
        node = wait_for(lambda: find(root or self.app,
                                     lambda n: ((n.name or "") == name or
                                                (n.name or "").startswith(name + " "))
                                     and n.getRole() in roles), timeout)
        if node is None:
            self.shot("no-" + name)
        return node

    def click(self, node):
        self.assertIsNotNone(node)
        try:
            node.queryAction().doAction(0)
        except Exception:
            x, y, w, h = node.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
            self.pyatspi.Registry.generateMouseEvent(x + w // 2, y + h // 2, "b1c")

    def type_into(self, title, text):
        p = self.pyatspi
        editable = (p.ROLE_ENTRY, p.ROLE_TEXT, p.ROLE_PASSWORD_TEXT)
        entry = wait_for(lambda: find(self.app, lambda n: (n.name or "") == title and
                                      n.getRole() in editable + (p.ROLE_PANEL, p.ROLE_FILLER,
                                                                 p.ROLE_UNKNOWN)), 10)
        if entry is None:
            self.shot("no-" + title)
        self.assertIsNotNone(entry, title)
        if entry.getRole() not in editable:
            entry = find(entry, lambda n: n.getRole() in editable)
            self.assertIsNotNone(entry, title)
        entry.queryEditableText().setTextContents(text)

    def rows(self, name):
        p = self.pyatspi
        lst = find(self.app, lambda n: (n.name or "") == name and n.getRole() == p.ROLE_LIST)
        names = []
        for r in (find_all(lst, lambda n: n.getRole() == p.ROLE_LIST_ITEM, []) if lst else []):
            try:
                names.append(r.name or "")
            except Exception:
                pass
        return names

    def status(self):
        p = self.pyatspi
        out = []
        for n in find_all(self.app, lambda n: n.getRole() == p.ROLE_LABEL, []):
            try:
                out.append(label_text(n))
            except Exception:
                pass
        return out

    def sensitive(self, node):
        return node.getState().contains(self.pyatspi.STATE_SENSITIVE)

    def upload_files(self, expect):
        """Starts the upload and returns the outcome line, which names
        @expect (the files in words)."""
        before = [s for s in self.status() if s.startswith("Uploaded:")]
        self.click(self.named("Start Upload"))
        done = wait_for(lambda: [s for s in self.status() if s.startswith("Uploaded:")
                                 and s not in before], 120)
        self.assertTrue(done, self.status())
        self.assertIn(expect, done[0])
        return done[0]

    def confirm_box(self, timeout=10):
        p = self.pyatspi
        return wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_CHECK_BOX and
                                     (n.name or "").startswith("The dates are checked") and
                                     n.getState().contains(p.STATE_VISIBLE)), timeout)

    def progress(self):
        p = self.pyatspi
        bar = find(self.app, lambda n: n.getRole() == p.ROLE_PROGRESS_BAR)
        return (bar.name or "") if bar else ""

    # ---- the test ----

    def test_site_uploads_and_the_reader_gets_nothing_identifying(self):
        p = self.pyatspi
        self.click(self.named("Sign In"))
        self.assertIsNotNone(wait_for(lambda: find(self.app, lambda n: n.getRole() == p.ROLE_FRAME
                                                   and (n.name or "") == "Sign In"), 10))
        self.type_into("Server", self.url)
        self.type_into("User Name", "site1")
        self.type_into("Password", PASSWORD)
        dialog = find(self.app, lambda n: n.getRole() == p.ROLE_FRAME and (n.name or "") == "Sign In")
        self.click(self.named("Sign In", root=dialog))
        # The Upload button works for a site member only.
        upload = self.named("Upload")
        self.assertTrue(wait_for(lambda: upload.getState().contains(p.STATE_SENSITIVE), 30))
        self.click(upload)
        # Nothing to upload before a folder was read.
        start = self.named("Start Upload")
        self.assertIsNotNone(start)
        self.assertFalse(self.sensitive(start), "Upload before any folder was read")
        self.type_into("Subject", SUBJECT)
        self.type_into("Timepoint", "Baseline")
        self.type_into("Visit date", "2026-02-20")
        self.type_into("Folder", self.folder)
        self.click(self.named("Find Studies"))

        studies = wait_for(lambda: [r for r in self.rows("Studies Found") if "Study 1" in r], 60)
        if not studies:
            self.shot("no-studies")
        self.assertTrue(studies, (self.rows("Studies Found"), self.status()))
        self.assertEqual(len(self.rows("Studies Found")), 1, self.rows("Studies Found"))
        self.assertIn("%d files" % SLICES, studies[0])
        self.assertIn("CT", studies[0])
        self.assertIn("2026-01-05", studies[0])
        # 2026-01-05 is 46 days before the visit.
        warnings = wait_for(lambda: [w for w in self.rows("Warnings") if "46 days" in w], 20)
        self.assertTrue(warnings, self.rows("Warnings"))
        # The preview: the planted name gives way to the subject ID, the
        # institution and the private attribute go.
        preview = wait_for(lambda: self.rows("De-identification Preview"), 20)
        self.assertTrue([r for r in preview if r.startswith("PatientName")
                         and "Doemeister" in r and "“%s”" % SUBJECT in r], preview)
        self.assertTrue([r for r in preview if r.startswith("InstitutionName")], preview)
        self.assertTrue([r for r in preview if r.startswith("Private attribute") and
                         "removed" in r], preview)
        self.assertTrue([r for r in preview if r.startswith("DeidentificationMethod ")
                         and "Basic Application Confidentiality" in r], preview)
        # The far date is the site's to confirm, naming the subject and
        # the visit: Upload waits until it is ticked.
        confirm = self.confirm_box()
        self.assertIsNotNone(confirm, "no confirmation of the date warning")
        self.assertIn("subject %s’s Baseline" % SUBJECT, confirm.name)
        self.assertFalse(self.sensitive(start), "Upload before the date warning was confirmed")
        self.shot("1-studies-warnings-preview")
        self.click(confirm)
        self.assertTrue(wait_for(lambda: self.sensitive(start), 10), "Upload stays insensitive")
        # Another visit date: the read no longer answers for it.
        self.type_into("Visit date", "2026-01-06")
        self.assertTrue(wait_for(lambda: not self.sensitive(start), 10),
                        "Upload after the visit date changed")
        self.assertTrue(wait_for(lambda: "Find Studies again" in " ".join(self.status()), 10),
                        self.status())
        self.click(self.named("Find Studies"))
        self.assertTrue(wait_for(lambda: self.sensitive(start), 60),
                        "Upload insensitive after a read without date warnings")
        self.assertIsNone(self.confirm_box(timeout=2), "a confirmation without a date warning")

        done = self.upload_files("%d files in 1 study" % SLICES)
        self.assertIn("administrator links", done)
        self.assertEqual(self.progress(), "Sent %d of %d files, %s" % (
            SLICES, SLICES, self.progress().split(", ", 1)[1]))
        self.shot("2-uploaded")

        # The same folder again, under the same names: the journal knows
        # every file; nothing is new.
        self.upload_files("None was new: the server already held all %d" % SLICES)
        # Under another timepoint name: de-identified and sent anew, and the
        # server says it held every instance (Orthanc's AlreadyStored).
        self.type_into("Timepoint", "Baseline again")
        self.assertTrue(wait_for(lambda: not self.sensitive(start), 10))
        self.click(self.named("Find Studies"))
        self.assertTrue(wait_for(lambda: self.sensitive(start), 60))
        self.upload_files("None was new: the server already held all %d" % SLICES)
        again = os.path.join(os.path.dirname(self.staging), "Baseline again", "journal")
        with open(again) as f:
            self.assertEqual(len(f.read().splitlines()), SLICES)
        self.shot("3-uploaded-again")

        # The same journal as the CLI's: every file once, one study.
        with open(os.path.join(self.staging, "journal")) as f:
            journal = [line.split(" ") for line in f.read().splitlines()]
        self.assertEqual(len(journal), SLICES)
        studies = sorted({study for _, study in journal})
        self.assertEqual(len(studies), 1)

        # The administrator links it; the reader's task lists the files.
        admin = self.server.login("admin", ADMIN_PASSWORD)
        status, doc = self.server.request(
            "POST", "/readroom/v1/trials/TU/subjects/%s/timepoints" % SUBJECT,
            {"label": "Baseline", "day": 0, "studies": studies}, token=admin)
        self.assertEqual(status, 201, doc)
        reader = self.server.login("reader1", PASSWORD)
        status, tasks = self.server.request("GET", "/readroom/v1/tasks?status=open", token=reader)
        self.assertEqual(status, 200, tasks)
        self.assertEqual(len(tasks), 1, tasks)
        status, manifest = self.server.request(
            "GET", "/readroom/v1/tasks/%s/instances" % tasks[0]["id"], token=reader)
        self.assertEqual(status, 200, manifest)
        self.assertEqual(len(manifest), SLICES)
        for inst in manifest:
            status, headers, body = self.server.request(
                "GET", "/readroom/v1/instances/%s/file" % inst["sop"], token=reader, raw=True)
            self.assertEqual(status, 200)
            self.assertTrue(body[128:132] == b"DICM")
            found = [s for s in self.secrets if s in body]
            self.assertEqual(found, [], inst["sop"])


if __name__ == "__main__":
    main()
