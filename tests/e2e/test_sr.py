#!/usr/bin/python3
"""A structured report made elsewhere, shown in the real window under Xvfb:
a TID 1500 report written by dcmtk's own classes (tests/dicom/make-tid1500,
none of Readroom's code) lies among a phantom series' files; opening the
folder lists its measurement with the series, on the slice the report
references, draws it there, and refuses to delete it. Run inside
dbus-run-session with DISPLAY set."""
import os
import subprocess
import sys
import tempfile

import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a11y import AppCase, find, find_all, main, screenshot, wait_for  # noqa: E402

PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
SR_HELPER = os.environ.get("READROOM_SR_HELPER", "build/tests/make-tid1500")
OUT = os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir())
SLICES = 30
SPACING = 3.5


class ForeignSr(AppCase):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-sr-")
        cls.study = os.path.join(cls.tmp, "study")
        subprocess.run([PHANTOM, cls.study, "--kind", "ct", "--slices", str(SLICES),
                        "--size", "96", "--pixel-spacing", str(SPACING), "--noise", "0"],
                       check=True, capture_output=True)
        files = []
        for root, _, names in os.walk(cls.study):
            for n in names:
                p = os.path.join(root, n)
                ds = pydicom.dcmread(p, stop_before_pixels=True)
                files.append((float(ds.ImagePositionPatient[2]), p, ds))
        files.sort(key=lambda t: t[0])
        # The axial stack runs foot to head (slice 1 lowest z); the report
        # references the 8th slice, away from the middle one first shown.
        cls.slice_no = 8
        _, image, cls.ds = files[cls.slice_no - 1]
        # One group: "lesion-A", liver, Long Axis 2.4 cm, its polyline from
        # pixel (10.5, 20.5) to (17.5, 20.5): 7 pixels of 3.5 mm = 24.5 mm.
        r = subprocess.run([SR_HELPER, os.path.join(os.path.dirname(image), "foreign-sr.dcm"),
                            image], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        cls.start_bus()
        env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"))
        cls.app_proc, cls.app = cls.launch_app([cls.study], env)

    def screenshot(self, name):
        return screenshot(os.path.join(OUT, name))

    def rows(self):
        lst = find(self.app, lambda n: (n.name or "") == "Measurement list")
        if lst is None:
            return lst, []
        return lst, [n.name for n in find_all(lst, lambda n: n.getRole() ==
                                              self.pyatspi.ROLE_LIST_ITEM, [])
                     if (n.name or "").startswith("Length")]

    def test_measurement_listed_drawn_and_read_only(self):
        viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"))
        self.assertIsNotNone(viewer)
        mid = "Axial · slice %d / %d" % (SLICES // 2 + 1, SLICES)
        self.assertTrue(wait_for(lambda: (viewer.description or "").startswith(mid), 30),
                        viewer.description)
        expected = "Length 24.5 mm, Axial · slice %d / %d" % (self.slice_no, SLICES)
        # (The list item's name is its label and its title.)
        listed = lambda: [r for r in self.rows()[1] if r.startswith(expected)]  # noqa: E731
        self.assertTrue(wait_for(lambda: len(self.rows()[1]) == 1 and listed(), 20),
                        self.rows()[1])
        # Named after the report's lesion; a report without a Time Point
        # is the first timepoint, BL (docs/sr.md).
        self.assertIn("lesion-A at BL (structured report)", listed()[0])

        # Chosen in the list, it brings its slice into view, selected.
        lst, _ = self.rows()
        lst.querySelection().selectChild(0)
        where = "Axial · slice %d / %d" % (self.slice_no, SLICES)
        self.assertTrue(wait_for(lambda: (viewer.description or "").startswith(where), 15),
                        viewer.description)
        self.assertTrue(wait_for(lambda: "selected: Length" in (viewer.description or ""), 15),
                        viewer.description)
        self.screenshot("readroom-foreign-sr.png")

        # Read-only: deleting it is refused, and it stays.
        delete = find(lst, lambda n: (n.name or "") == "Delete measurement")
        self.assertIsNotNone(delete)
        delete.queryAction().doAction(0)
        self.assertTrue(wait_for(lambda: find(self.app, lambda n: "structured report cannot"
                                              in (n.name or "")) is not None, 10),
                        "no refusal shown")
        self.assertEqual(len(self.rows()[1]), 1)
        self.assertTrue(listed(), self.rows()[1])


if __name__ == "__main__":
    main()
