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
import glob
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
sys.path.insert(0, os.path.join(HERE, "..", "dicom"))
from a11y import AppCase, find, find_all, label_text, main, screenshot, wait_for  # noqa: E402
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
        # s9 walk: a second folder for the same visit (B1), one holding two
        # patients (M2), ultrasound that may carry burned-in text (M4), and
        # a visit killed mid-upload by the CLI (m2).
        cls.other = cls.phantom_folder(pydicom, "visit2", "71", "WALK-002")
        cls.mixed = cls.phantom_folder(pydicom, "mixed", "72", "WALK-003")
        ds = pydicom.dcmread(os.path.join(cls.mixed, sorted(os.listdir(cls.mixed))[0]))
        ds.PatientID = "WALK-004"
        ds.save_as(os.path.join(cls.mixed, "zz-another-patient"))
        cls.us = cls.phantom_folder(pydicom, "us", "73", "WALK-005", modality="US")
        cls.killed_folder = cls.phantom_folder(pydicom, "killed", "74", "WALK-006")
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
    def phantom_folder(cls, pydicom, name, seed, patient, modality=None):
        folder = os.path.join(cls.tmp, name)
        subprocess.run([PHANTOM, folder, "--kind", "ct", "--slices", "4", "--size", "64",
                        "--seed", seed, "--patient-id", patient], check=True,
                       capture_output=True)
        if modality:
            for n in os.listdir(folder):
                ds = pydicom.dcmread(os.path.join(folder, n))
                ds.Modality = modality
                if "BurnedInAnnotation" in ds:
                    del ds.BurnedInAnnotation
                ds.save_as(os.path.join(folder, n))
        return folder

    @classmethod
    def admin(cls, *args):
        env = dict(os.environ, READROOM_PASSWORD=ADMIN_PASSWORD, READROOM_NEW_PASSWORD=PASSWORD)
        subprocess.run([CLI, "admin", "--server", cls.url] + list(args), env=env, check=True,
                       capture_output=True)

    # ---- driving the window ----

    def shot(self, name):
        screenshot(os.path.join(OUT, name + ".png"))

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
        again, = glob.glob(os.path.join(os.path.dirname(self.staging), "Baseline again",
                                        "src-*", "journal"))
        with open(again) as f:
            self.assertEqual(len(f.read().splitlines()), SLICES)
        self.shot("3-uploaded-again")

        # The same journal as the CLI's: every file once, one study.
        # (one staging folder: the same folder sent twice resumed it)
        first, = glob.glob(os.path.join(self.staging, "src-*", "journal"))
        with open(first) as f:
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
        self.walk_findings(start)

    def kill_cli_upload(self):
        """`readroom-cli upload` of the "killed" folder, killed after two
        of its four files: an unfinished upload for the page to offer."""
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.tmp, "cache"),
                   XDG_DATA_HOME=os.path.join(self.tmp, "cli-data"), READROOM_NO_KEYRING="1",
                   READROOM_PASSWORD=PASSWORD, READROOM_TEST_UPLOAD_PAUSE_AFTER="2",
                   READROOM_TEST_UPLOAD_PAUSE_S="120")
        proc = subprocess.Popen([CLI, "upload", self.killed_folder, "--server", self.url,
                                 "--user", "site1", "--trial", "TU", "--subject", "S-006", "--timepoint",
                                 "Week 8", "--day", "56", "--parallel", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env=env)
        try:
            seen = []
            for line in proc.stderr:
                seen.append(line)
                if "pausing" in line:
                    break
            self.assertIn("pausing", seen[-1] if seen else "", "".join(seen))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()

    def find_studies(self, folder, visit):
        self.type_into("Visit date", visit)
        self.type_into("Folder", folder)
        self.click(self.named("Find Studies"))
        self.assertTrue(wait_for(lambda: any(folder in s or "Study 1" in s
                                             for s in self.rows("Studies Found")), 60),
                        self.status())

    def walk_findings(self, start):
        p = self.pyatspi
        self.kill_cli_upload()
        # B1: another folder for the same subject and visit is
        # de-identified and sent, not the first one again.
        self.type_into("Timepoint", "Baseline")
        self.find_studies(self.other, "2026-01-06")
        self.assertTrue(wait_for(lambda: self.sensitive(start), 60), self.rows("Warnings"))
        done = self.upload_files("4 files in 1 study")
        self.assertNotIn("was new", done)
        self.assertNotIn("already held", done)
        stagings = glob.glob(os.path.join(self.staging, "src-*", "journal"))
        self.assertEqual(len(stagings), 2, stagings)
        self.shot("4-another-folder-same-visit")

        # M2: two patients block Upload; no box unblocks it, not even with
        # a date warning beside it.
        self.type_into("Subject", SUBJECT)
        self.type_into("Timepoint", "Baseline")
        self.find_studies(self.mixed, "2026-03-01")
        self.assertTrue(wait_for(lambda: [w for w in self.rows("Warnings")
                                          if "2 different patients" in w], 30),
                        self.rows("Warnings"))
        self.assertIsNone(self.confirm_box(timeout=2), "a confirmation of a blocked read")
        for box in find_all(self.app, lambda n: n.getRole() == p.ROLE_CHECK_BOX and
                            n.getState().contains(p.STATE_VISIBLE), []):
            self.click(box)
        self.assertFalse(wait_for(lambda: self.sensitive(start), 2), "Upload with two patients")
        self.shot("6-two-patients-blocked")

        # m4: a date that is not a calendar date blocks Upload.
        for bad in ("2026-02-30", "05/01/2026"):
            self.find_studies(self.other, bad)
            self.assertTrue(wait_for(lambda: [w for w in self.rows("Warnings")
                                              if "is not a calendar date" in w], 30),
                            self.rows("Warnings"))
            self.assertIsNone(self.confirm_box(timeout=2), bad)
            self.assertFalse(self.sensitive(start), bad)
        self.shot("7-impossible-date")
        # The study day is checked against the timepoint's nominal day.
        self.type_into("Timepoint", "Week 8")
        self.find_studies(self.other, "2026-01-06")
        self.assertTrue(wait_for(lambda: [w for w in self.rows("Warnings")
                                          if "Week 8 is nominally day 56" in w], 30),
                        self.rows("Warnings"))
        self.assertIsNotNone(self.confirm_box(), "no confirmation of the study day warning")

        # M4: ultrasound may show burned-in text: said in words, an image
        # shown, and Upload waits for the site's explicit word.
        self.type_into("Timepoint", "Baseline")
        self.find_studies(self.us, "2026-01-06")
        self.assertTrue(wait_for(lambda: [w for w in self.rows("Warnings")
                                          if w.startswith("4 images (US) may show identifying "
                                                          "text burned into their pixels")], 30),
                        self.rows("Warnings"))
        checked = self.named("I have checked these images carry no burned-in text",
                             roles=(p.ROLE_CHECK_BOX,))
        self.assertIsNotNone(checked)
        self.assertIsNotNone(find(self.app, lambda n: (n.name or "") ==
                                  "An image that may show burned-in text"))
        self.assertFalse(self.sensitive(start), "Upload before the burned-in text was checked")
        self.shot("8-burned-in")
        self.click(checked)
        self.assertTrue(wait_for(lambda: self.sensitive(start), 10), "Upload stays insensitive")

        # m2: the upload the CLI was killed in is offered, and Resume sends
        # the rest.
        resume = self.named("Resume S-006 Week 8", timeout=30)
        self.assertIsNotNone(resume, self.rows("Unfinished Uploads"))
        self.assertTrue([r for r in self.rows("Unfinished Uploads")
                         if "2 of 4 files sent" in r], self.rows("Unfinished Uploads"))
        self.shot("5-unfinished")
        self.click(resume)
        self.assertTrue(wait_for(lambda: [r for r in self.rows("Studies Found")
                                          if "patient WALK-006" in r], 60), self.status())
        self.assertTrue(wait_for(lambda: self.sensitive(start), 60), self.rows("Warnings"))
        self.assertEqual(self.rows("Studies Found")[0].count("4 files"), 1,
                         self.rows("Studies Found"))
        done = self.upload_files("4 files in 1 study")
        self.assertIn("2 of them new, the server already held the other 2", done)
        self.assertTrue(wait_for(lambda: self.rows("Unfinished Uploads") == [], 10),
                        self.rows("Unfinished Uploads"))


if __name__ == "__main__":
    main()
