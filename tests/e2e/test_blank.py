#!/usr/bin/python3
"""The viewer's image stays drawn when only its overlays are drawn again.

Readers twice saw the viewer's panes go blank (the window's background,
only the captions and calipers drawn) mid-read: after typing in the read
form, and in the adjudication view. The viewport is a GtkGLArea; with its
image rendered only when queued (auto-render off), a draw of the overlays
alone (the pointer leaving the image, a lesion renamed, the adjudication's
colours) had GTK 4.8 show a texture nothing had been rendered into this
time: a new one (empty: the window's white shows through) or an old one
(the black of a frame the CPU drew the image over). Here the pointer
enters and leaves the image again and again, and after each time the
image must be there: the CT phantom's grey body in the pane's middle.
Run with the viewports on GL (READROOM_VIEWPORT=gl): Xvfb's software GL
would have them drawn on the CPU, without the GtkGLArea's texture this
guards. A screenshot of each step goes to the test's log folder."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
from a11y import AppCase, find, main, screen_image, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402

CLI = os.environ.get("READROOM_CLI", "build/src/cli/readroom-cli")
PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_blank")
PASSWORD = "reader-password"
ROUNDS = 8


class Blank(AppCase, WorkspaceDriver):
    out = OUT
    viewport = "gl"

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-blank-")
        os.makedirs(OUT, exist_ok=True)
        cls.proc = None
        cls.start_reading_trial(CLI, "TR", "reading", PASSWORD)
        admin = cls.admin
        study = os.path.join(cls.tmp, "study")
        subprocess.run([PHANTOM, study, "--kind", "ct", "--slices", "30", "--size", "256",
                        "--pixel-spacing", "1.4"], check=True, capture_output=True)
        admin("upload", study, "--trial", "TR", "--subject", "S-001", "--timepoint", "Baseline",
              "--day", "0")
        cls.start_bus()
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                              XDG_CACHE_HOME=os.path.join(cls.tmp, "cache"),
                              READROOM_NO_KEYRING="1")

    def body_share(self, x, y, w, h):
        """The share of the pixels in the middle of the box (x, y, w, h) on
        screen that are the phantom's body: grey, neither the air's black
        nor the window's near-white background (the overlays' captions are
        at the pane's edges). A blank pane, white or black, has none."""
        x0, y0, cw, ch = x + w // 5, y + h // 5, w * 3 // 5, h * 3 // 5
        raw = screen_image((x0, y0, cw, ch)).tobytes()
        n = len(raw) // 3
        self.assertGreater(n, 1000, "no pixels read from the screen")
        body = 0
        for i in range(0, n * 3, 3):
            r, g, b = raw[i], raw[i + 1], raw[i + 2]
            if 40 <= min(r, g, b) and max(r, g, b) <= 215 and max(r, g, b) - min(r, g, b) <= 8:
                body += 1
        return body / n

    def test_image_stays_drawn(self):
        p = self.pyatspi
        self.proc, self.app = self.launch_app([], self.env)
        self.sign_in("reader1", PASSWORD)
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if r.startswith("Read · subject S-001")], 30),
                        self.row_names("Worklist"))
        self.click(self.named("Download All"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Worklist")
                                          if "available offline" in r], 60),
                        self.row_names("Worklist"))
        self.click_row(self.list_items("Worklist")[0])
        viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                       and "slice 16 / 30" in (n.description or "")), 30)
        self.assertIsNotNone(viewer, "the task's series did not open")
        x, y, w, h = viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        # Once the GPU's copy is up (the CPU draws the image until then).
        self.shot("0-open")
        first = wait_for(lambda: self.body_share(x, y, w, h) > 0.15 or None, 20)
        self.assertTrue(first, "the image was never drawn")
        # Outside the image: the header bar's middle, above the viewer.
        ox, oy = x + w // 2, max(y - 20, 5)
        for i in range(ROUNDS):
            self.mouse(x + w // 2 + 3 * i, y + h // 2, "abs")
            self.mouse(ox, oy, "abs")
            self.shot("%d-left" % (i + 1))
            share = self.body_share(x, y, w, h)
            # The phantom's body fills about half of the pane's middle.
            self.assertGreater(share, 0.15, "after the pointer left the image (round %d), only "
                               "%.1f%% of the pane's middle is the phantom's body: the image is "
                               "not drawn" % (i + 1, share * 100))

        # The walk a reader made: a caliper made a target lesion, then its
        # location typed in the form, which names the caliper anew (a draw
        # of the overlays alone) and widens the side panel.
        self.click(self.named("Bidirectional"))
        self.assertTrue(wait_for(lambda: "tool: Bidirectional" in (viewer.description or ""), 10),
                        viewer.description)
        cx, cy = x + w // 2, y + h // 2
        self.drag(cx - 40, cy + 130, cx + 40, cy + 130)
        self.assertTrue(wait_for(lambda: self.caliper_count() == 1, 15), viewer.description)
        self.click(self.named("Make target"))
        self.assertTrue(wait_for(lambda: [r for r in self.row_names("Lesions")
                                          if r.startswith("Target T1")], 10),
                        self.row_names("Lesions"))
        for i, text in enumerate(["liver", "liver, segment", "liver, segment VII",
                                  "liver, segment VII, right lobe, subcapsular"]):
            self.type_into("Location of T1", text)
            self.shot("%d-location" % (i + 1))
            share = self.body_share(x, y, w, h)
            self.assertGreater(share, 0.15, "after typing %r in the location, only %.1f%% of the "
                               "pane's middle is the phantom's body: the image is not drawn"
                               % (text, share * 100))


if __name__ == "__main__":
    main()
