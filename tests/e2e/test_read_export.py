#!/usr/bin/python3
"""A submitted read's "Save Report…" and "Export SR…" in the real window
against a real readroom-server: reader1 measures one target at baseline,
signs and submits; the locked form then offers both; each opens the file
chooser (in the home folder), and what it writes is checked: the PDF's
text holds the lesion, its organ, the timepoint and the signer; the SR
passes dsrdump and `readroom-cli sr import` gives back the target with the
caliper's value. The read workspace's own steps come from test_read."""
import io
import json
import os
import re
import subprocess
import sys
import unittest

import pydicom

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
import test_read  # noqa: E402
from a11y import find, main, wait_for  # noqa: E402

CLI = test_read.CLI
PASSWORD = test_read.PASSWORD


class ReadExport(test_read.Read):
    # Only this file's test runs here; test_read runs its own.
    test_baseline_read = None

    @classmethod
    def prepare(cls):
        super().prepare()
        cls.home = os.path.join(cls.tmp, "home")
        os.makedirs(cls.home)
        cls.env["HOME"] = cls.home

    def test_save_report_and_export_sr(self):
        p = self.pyatspi
        self.launch()
        self.sign_in_and_open("reader1")
        x, y, w, h = self.viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        cx, cy = x + w // 2, y + h // 2
        self.click(self.named("Bidirectional"))
        self.assertTrue(wait_for(lambda: "tool: Bidirectional" in (self.viewer.description or ""),
                                 10), self.viewer.description)
        # Across the phantom's large lesion below the mediastinum.
        self.drag(cx - 40, cy + 130, cx + 40, cy + 130)
        self.assertTrue(wait_for(lambda: len(self.caliper_values()) == 1, 15),
                        self.viewer.description)
        long_axis = self.caliper_values()[0][0]
        self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10),
                        self.row_names("Lesions"))
        self.choose_organ("T1", "Liver")
        # Nothing to save before the read is in the server's hands.
        self.assertIsNone(find(self.app, lambda n: (n.name or "").startswith("Save Report")
                               and n.getRole() == p.ROLE_PUSH_BUTTON
                               and n.getState().contains(p.STATE_SHOWING)))

        self.click(self.named("Sign and submit"))
        dialog = self.frame("Sign and Submit")
        self.assertIsNotNone(dialog)
        self.type_into("Password", PASSWORD, root=dialog)
        self.click(self.named("Sign and submit", root=dialog))
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Submitted and locked. Receipt")], 60),
                        self.labels())

        self.shot("export-0-submitted")
        # The report: named after the subject and timepoint, in the home folder.
        self.click(self.named("Save Report…"))
        self.chooser_accept("Save")
        pdf = os.path.join(self.home, "S-001-Baseline.pdf")
        self.assertEqual(self.status("Report saved to"), "Report saved to " + pdf)
        self.shot("export-1-report")
        text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                              text=True).stdout
        for word in ("T1", "Liver", "Baseline", "reader1", "I am the author of this read"):
            self.assertIn(word, text)
        self.assertIn("%.1f" % long_axis, text)
        # Whose read, in which trial, and that the server took it (the
        # workstation's export names all three, as the CLI's does).
        self.assertIn("Trial TR · Subject S-001", text)
        self.assertIn("Reader: reader1", text)
        self.assertIn("Server receipt", text)
        self.assertNotIn("No server receipt", text)
        images = subprocess.run(["pdfimages", "-list", pdf], capture_output=True,
                                text=True).stdout.splitlines()[2:]
        self.assertGreaterEqual(len(images), 1, "no key image in the report")

        # The SRs: one per timepoint, in the folder chosen (the home folder),
        # named by subject and timepoint as the PDF is: the next subject's
        # export must not land on this one's "Baseline.dcm" (walk finding 4).
        self.click(self.named("Export SR…"))
        self.chooser_accept("Export")
        self.assertEqual(self.status("1 structured report saved in"),
                         "1 structured report saved in %s: S-001-Baseline.dcm" % self.home)
        sr = os.path.join(self.home, "S-001-Baseline.dcm")
        self.assertFalse(os.path.exists(os.path.join(self.home, "Baseline.dcm")))
        r = subprocess.run(["dsrdump", sr], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([CLI, "sr", "import", sr, "--json"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["timepoints"], [{"id": "Baseline", "day": 0}])
        t1 = got["target_lesions"][0]
        self.assertEqual((t1["id"], t1["organ"]), ("T1", "liver"))
        self.assertEqual(t1["measurements"], {"Baseline": long_axis})
        self.assertTrue(re.match(r"^[0-9.]+$", t1["calipers"]["Baseline"]["sop_uid"]))
        self.assertEqual([s["name"] for s in got.get("signatures", [])], ["reader1"])

        # A file of that name there already (another export, the user's
        # own) is kept: the new one goes beside it, and says so.
        with open(sr, "rb") as f:
            first = f.read()
        with open(sr, "ab") as f:
            f.write(b"the user's own edit")
        self.click(self.named("Export SR…"))
        self.chooser_accept("Export")
        self.assertTrue(wait_for(lambda: [t for t in self.labels() if "(2).dcm" in t], 60),
                        self.labels())
        self.assertEqual(self.status("1 structured report saved in"),
                         "1 structured report saved in %s: S-001-Baseline (2).dcm" % self.home)
        with open(sr, "rb") as f:
            self.assertEqual(f.read(), first + b"the user's own edit")
        # The same read again: the same SR (its UIDs derive from the read),
        # written a few seconds later.
        again = pydicom.dcmread(os.path.join(self.home, "S-001-Baseline (2).dcm"))
        self.assertEqual(again.SOPInstanceUID,
                         pydicom.dcmread(io.BytesIO(first)).SOPInstanceUID)
        # Written by the workstation, not by readroom-cli (walk finding 14).
        self.assertEqual((again.Manufacturer, again.ManufacturerModelName),
                         ("Readroom", "readroom"))


if __name__ == "__main__":
    main()
