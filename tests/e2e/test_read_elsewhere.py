#!/usr/bin/python3
"""Finding m6 end to end: a read submitted straight to the server (another
workstation, the API) opens in the app, in the real window against a real
readroom-server on 127.0.0.1, driven through the accessibility tree.

reader1's Baseline read of subject 101 is submitted with one target, T1,
measured by a 32.0 mm length caliper (hand-made: two points 32 mm apart
in patient space). On a computer that never had it, the worklist says the
read is submitted and not on this computer, and the header does not say
"downloads complete" of it; clicking the row downloads it; opened, it is
read-only, its receipt shown, T1's value is the caliper's 32.0 mm, and the
caliper is the viewer's to draw, locked, as a read signed here."""
import json
import os
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, find, main, stop, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402
from test_server import ADMIN_PASSWORD, criteria  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()),
                   "test_read_elsewhere")
PASSWORD = "reader-password"


class ReadElsewhere(WorkspaceDriver, AppCase):
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-elsewhere-")
        os.makedirs(OUT, exist_ok=True)
        cls.start_reading_trial(CLI, "TE", "elsewhere", PASSWORD)
        studies = os.path.join(cls.tmp, "studies")
        subprocess.run([PHANTOM, studies, "--kind", "ct", "--slices", "20", "--size", "128"],
                       check=True, capture_output=True)
        cls.admin("upload", studies, "--trial", "TE", "--subject", "101",
                  "--timepoint", "Baseline", "--day", "0")
        cls.submit_elsewhere()
        # An open read too: the header's "downloads complete" is about it.
        other = os.path.join(cls.tmp, "studies-102")
        subprocess.run([PHANTOM, other, "--kind", "ct", "--slices", "8", "--size", "64",
                        "--seed", "2"], check=True, capture_output=True)
        cls.admin("upload", other, "--trial", "TE", "--subject", "102",
                  "--timepoint", "Baseline", "--day", "0")
        cls.start_bus()
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                              XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"),
                              READROOM_NO_KEYRING="1")

    @classmethod
    def tearDownClass(cls):
        pass  # the class cleanups stop the application, the bus and the server

    @classmethod
    def submit_elsewhere(cls):
        """reader1's read, signed through the API, not through this app."""
        token = cls.server.login("reader1", PASSWORD)
        status, tasks = cls.server.request("GET", "/readroom/v1/tasks?status=open", token=token)
        assert status == 200 and len(tasks) == 1, (status, tasks)
        task = tasks[0]
        status, files = cls.server.request("GET", "/readroom/v1/tasks/%s/instances" % task["id"],
                                           token=token)
        assert status == 200 and files, (status, files)
        caliper = {"id": "elsewhere-T1-baseline", "kind": "length",
                   "points": [[-16.0, 0.0, 0.0], [16.0, 0.0, 0.0]],
                   "plane": {"center": [0.0, 0.0, 0.0], "right": [1.0, 0.0, 0.0],
                             "down": [0.0, 1.0, 0.0], "slab": "none", "slab_mm": 0.0},
                   "series_uid": files[0]["series"], "sop_uid": None, "frame": 0,
                   "calibration": "patient", "created_us": 1}
        read = {"criteria": "recist1.1", "timepoints": [{"id": "Baseline", "day": 0}],
                "target_lesions": [{"id": "T1", "organ": "liver", "nodal": False,
                                    "measurements": {"Baseline": 32.0},
                                    "calipers": {"Baseline": caliper}}],
                "non_target_lesions": [], "new_lesions": []}
        read["responses"] = criteria(read)
        status, doc = cls.server.request(
            "POST", "/readroom/v1/tasks/%s/submission" % task["id"],
            {"read": read, "signature": {"password": PASSWORD, "meaning": "Read completed"}},
            token=token, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 201, (status, doc)
        cls.receipt = doc["receipt"]["id"]

    def test_opens_read_only_as_submitted(self):
        cls = type(self)
        cls.proc, self.app = cls.launch_app([], cls.env)
        self.sign_in("reader1", PASSWORD)
        want = "Read · subject 101, Baseline · submitted · "
        rows = wait_for(lambda: [r for r in self.row_names("Worklist") if r.startswith(want)
                                 and "not on this computer, opens when downloaded" in r], 60)
        self.assertTrue(rows, self.row_names("Worklist"))
        self.shot("1-worklist")

        # Clicked once: it downloads, alone, and opens when it is here, with
        # no second click; subject 102's open read is still not here.
        self.click_row([r for r in self.list_items("Worklist")
                        if (r.name or "").startswith(want)][0])
        viewer = wait_for(lambda: "Worklist" not in self.labels() and
                          find(self.app, lambda n: (n.name or "") == "Image viewer"
                               and "slice" in (n.description or "")), 60)
        self.assertTrue(viewer, "the read clicked before it was here did not open once it was")
        self.shot("2-opened-when-here")

        # Back to the list: it is offline now, the other is not, and the
        # header does not say the downloads are complete.
        self.click(self.named("Worklist"))
        self.assertTrue(wait_for(lambda: "Worklist" in self.labels(), 20), self.labels())
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if r.startswith(want) and "available offline" in r],
                                 60), self.row_names("Worklist"))
        header = wait_for(lambda: [t for t in self.labels()
                                   if "1 open task not on this computer yet" in t], 30)
        self.assertTrue(header, self.labels())
        self.assertFalse([t for t in self.labels() if "downloads complete" in t])
        self.click(self.named("Download All"))
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if "downloads complete" in t], 60), self.labels())
        self.assertTrue([r for r in self.row_names("Worklist")
                         if r.startswith("Read · subject 102, Baseline · open")
                         and "available offline" in r], self.row_names("Worklist"))
        # Download All opened nothing: the list is still shown.
        self.assertIn("Worklist", self.labels())
        self.shot("2b-downloaded")
        self.click_row([r for r in self.list_items("Worklist")
                        if (r.name or "").startswith(want)][0])
        viewer = wait_for(lambda: "Worklist" not in self.labels() and
                          find(self.app, lambda n: (n.name or "") == "Image viewer"
                               and "slice" in (n.description or "")), 30)
        self.assertTrue(viewer, "the submitted read did not open")

        # Read-only, with the server's receipt; T1 is the caliper's 32.0 mm.
        receipt = wait_for(lambda: [t for t in self.labels()
                                    if t.startswith("Submitted and locked. Receipt")], 20)
        self.shot("3-opened")
        self.assertTrue(receipt, self.labels())
        self.assertIn(self.receipt, receipt[0])
        lesions = wait_for(lambda: [r for r in self.row_names("Lesions")
                                    if r.startswith("Target T1")], 20)
        self.assertTrue(lesions, self.row_names("Lesions"))
        self.assertIn("Baseline: 32.0 mm", lesions[0])
        self.assertFalse(self.named("Sign and submit").getState().contains(
            self.pyatspi.STATE_SENSITIVE))
        # The image shows T1's caliper as signed, as a read signed on this
        # computer does: in the viewer's measurements (its list), named for
        # T1, and Go To selects it on the image, locked.
        self.assertTrue(wait_for(lambda: self.caliper_count() == 1, 20),
                        self.row_names("Measurement list"))
        self.assertEqual(self.caliper_lesions(), ["T1"])
        self.assertEqual(self.caliper_values(), [(32.0, None)])
        self.click(self.named("Go to T1"))
        self.assertTrue(wait_for(lambda: "selected: Length 32.0 mm" in (viewer.description or ""),
                                 15), viewer.description)
        self.shot("3b-caliper")
        stop(cls.proc)

        # The admin's worklist (another computer): each row names its reader
        # as the server's task gives it (an admin is not blinded).
        env = dict(cls.env, XDG_DATA_HOME=os.path.join(cls.tmp, "admin-data"),
                   XDG_CACHE_HOME=os.path.join(cls.tmp, "admin-cache"))
        cls.proc, self.app = cls.launch_app([], env)
        self.sign_in("admin", ADMIN_PASSWORD)
        rows = wait_for(lambda: sorted(r.split(",")[0] for r in self.row_names("Worklist")
                                       if r.startswith("Read · ")), 60)
        self.shot("4-admin")
        self.assertEqual(rows, ["Read · subject 101 · reader1", "Read · subject 102 · reader1"])
        stop(cls.proc)


if __name__ == "__main__":
    main()
