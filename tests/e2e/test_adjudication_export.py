#!/usr/bin/python3
"""A locked adjudication's "Save Report…" and "Export SR…": the
adjudication workspace's own end-to-end test (test_adjudication) runs
first, to the decision signed, locked and reopened; then the final read
(the one chosen, the read that says SD at Week 8) is saved as a PDF and as
one SR per timepoint from the file chooser (in the home folder), each
checked: the PDF's text holds the chosen sizes, the response, the
adjudicator's signature and rationale, and says it is an adjudication's;
the SRs pass dsrdump and `readroom-cli sr import` gives back the chosen
read's Week 8 size on its caliper's instance."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
import test_adjudication  # noqa: E402
from a11y import main, wait_for  # noqa: E402

CLI = test_adjudication.CLI


class AdjudicationExport(test_adjudication.Adjudication):
    # The workspace's test runs inside this one, once.
    test_adjudication = None

    @classmethod
    def prepare(cls):
        super().prepare()
        cls.home = os.path.join(cls.tmp, "home")
        os.makedirs(cls.home)
        cls.env["HOME"] = cls.home

    def test_final_saved_and_exported(self):
        test_adjudication.Adjudication.test_adjudication(self)
        # That test ends on a second workstation, which never held the
        # signed decision in its outbox: the report is saved on the one that
        # signed it, opened again.
        self.launch_and_open(download=False)
        self.assertTrue(wait_for(lambda: [t for t in self.labels()
                                          if t.startswith("Submitted and locked. Receipt")], 30),
                        self.labels())
        chosen = test_adjudication.SIZES["reader2"]     # Reader 2's read, SD at Week 8
        self.click(self.named("Save Report…"))
        self.chooser_accept("Save")
        pdf = os.path.join(self.home, "S-001-Week_8.pdf")
        self.assertEqual(self.status("Report saved to"), "Report saved to " + pdf)
        self.shot("9-final-report")
        text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True,
                              text=True).stdout
        for word in ("Baseline", "Week 8", "%.1f" % chosen[0], "%.1f" % chosen[1], "SD", "adj1",
                     "Adjudication: I choose", "stable disease (SD)"):
            self.assertIn(word, text)
        # The trial's subject, not the images' Patient ID (PHANTOM-001 here).
        self.assertIn("Trial TA · Subject S-001 ·", text)
        # The chosen read's reader by label only: the adjudicator is blinded.
        self.assertIn("Reader: Reader 2", text)
        self.assertNotIn("reader2", text)
        self.assertIn("Server receipt", text)
        # An adjudication's report says so, and carries the adjudicator's
        # rationale, its reasons first, beside the signature (walk finding
        # 17: the sponsor's PDF had neither; the JSON export had both).
        flat = " ".join(text.split())
        self.assertIn("Tumour response report: Adjudication", flat)
        self.assertIn("Adjudication: Reader 2's read chosen as the final assessment.", flat)
        self.assertIn("Adjudicator's rationale, as signed: Reasons: Measurement variability. "
                      "Reader 2's Week 8 caliper spans the whole lesion", flat)
        self.assertIn("so Reader 2's sum and response stand.", flat)
        self.assertLess(flat.index("Signature and receipt"), flat.index("Adjudicator's rationale"))

        self.click(self.named("Export SR…"))
        self.chooser_accept("Export")
        # Named by subject and timepoint, as the PDF is (walk finding 4).
        names = ("S-001-Baseline.dcm", "S-001-Week_8.dcm")
        self.assertEqual(self.status("2 structured reports saved in"),
                         "2 structured reports saved in %s: %s" % (self.home, ", ".join(names)))
        paths = [os.path.join(self.home, n) for n in names]
        for path in paths:
            r = subprocess.run(["dsrdump", path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([CLI, "sr", "import", *paths, "--json"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual([t["id"] for t in got["timepoints"]], ["Baseline", "Week 8"])
        t1 = got["target_lesions"][0]
        self.assertEqual(t1["measurements"], {"Baseline": chosen[0], "Week 8": chosen[1]})
        self.assertEqual([s["name"] for s in got.get("signatures", [])], ["adj1"])


if __name__ == "__main__":
    main()
