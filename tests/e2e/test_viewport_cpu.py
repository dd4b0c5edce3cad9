#!/usr/bin/python3
"""The viewports draw on the CPU what they draw with GL.

Where GL is a software rasteriser (Xvfb's llvmpipe here) the viewports
draw their images with the CPU reslicer (rr_gl_probe_viewports_on_cpu);
on a GPU they draw with the reslice shader. A reader must see the same
image either way. The same CT and PET phantom is opened twice, once with
READROOM_VIEWPORT=gl and once with =cpu, in the multi-planar layout with
the PET fused over the CT in hot iron (the colour table and the blend),
then inverted (the grey table read backwards), and the viewer's pixels
are compared: the same within the rounding of the two samplers. A CPU
image without the fused PET, without the inversion, in another place or
at another size fails. Screenshots of both go to the test's log folder.
Run inside dbus-run-session with DISPLAY set."""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a11y import AppCase, find, main, screen_image, stop, wait_for  # noqa: E402

PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()), "test_viewport_cpu")
THREE = re.compile(r" — panes: Axial[^;]*; (Sagittal|Coronal)[^;]*; (Sagittal|Coronal)")


class ViewportCpu(AppCase):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-viewport-cpu-")
        os.makedirs(OUT, exist_ok=True)
        subprocess.run([PHANTOM, os.path.join(cls.tmp, "study"), "--kind", "ct,pet",
                        "--slices", "40", "--size", "256", "--pixel-spacing", "1.4"],
                       check=True, capture_output=True)
        cls.start_bus()

    def grab(self, name, box):
        """The screen inside @box (x, y, w, h), shot to @name.png: RGB bytes."""
        screen = screen_image()
        screen.save(os.path.join(OUT, name + ".png"))
        x, y, w, h = box
        return screen.crop((x, y, x + w, y + h)).tobytes()

    def settled(self, name, box):
        """The viewer's pixels once three shots a second apart agree (GL
        draws a softer CPU image until the GPU's copy is up: under a second
        for this 256x256x40 volume)."""
        shots, deadline = [], time.monotonic() + 40
        while time.monotonic() < deadline:
            shots = (shots + [self.grab(name, box)])[-3:]
            if len(shots) == 3 and shots[0] == shots[1] == shots[2]:
                return shots[2]
            time.sleep(1)
        self.fail("the viewer's image did not settle (%s)" % name)

    def views(self, mode):
        """The viewer's pixels with the viewports on @mode: as it opened,
        fused, then fused and inverted; and the viewer's box."""
        env = self.app_env(XDG_DATA_HOME=os.path.join(self.tmp, "data-" + mode),
                           READROOM_VIEWPORT=mode)
        proc, app = self.launch_app([os.path.join(self.tmp, "study")], env)
        try:
            viewer = wait_for(lambda: find(app, lambda n: (n.name or "") == "Image viewer" and
                                           (n.description or "").startswith(
                                               "Axial · slice 21 / 40")), 60)
            self.assertIsNotNone(viewer, "the CT did not open (%s)" % mode)
            # The image as it opens, nothing touched: the CPU makes a
            # pane's first image of a volume coarse and the final one in a
            # frame of its own, which nothing else asks for here.
            box = viewer.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
            first = self.settled("%s-first" % mode, (box[0], box[1], box[2], box[3]))
            find(app, lambda n: (n.name or "") == "Multi-planar").queryAction().doAction(0)
            self.assertTrue(wait_for(lambda: THREE.search(viewer.description or ""), 15),
                            viewer.description)
            find(app, lambda n: (n.name or "") == "Fuse PET").queryAction().doAction(0)
            self.assertTrue(wait_for(lambda: "fused with PT" in (viewer.description or ""), 20),
                            viewer.description)
            box = viewer.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
            box = (box[0], box[1], box[2], box[3])
            fused = self.settled("%s-fused" % mode, box)
            # Inversion, from the keyboard: the pointer over the image.
            self.pyatspi.Registry.generateMouseEvent(box[0] + box[2] // 3, box[1] + box[3] // 2,
                                                     "abs")
            self.pyatspi.Registry.generateMouseEvent(box[0] + box[2] // 3, box[1] + box[3] // 2,
                                                     "b1c")
            self.assertTrue(wait_for(lambda: viewer.getState().contains(
                self.pyatspi.STATE_FOCUSED), 15), "the viewer did not take the focus")
            self.pyatspi.Registry.generateKeyboardEvent(ord("i"), None, self.pyatspi.KEY_SYM)
            self.assertTrue(wait_for(lambda: "inverted" in (viewer.description or ""), 10),
                            viewer.description)
            inverted = self.settled("%s-inverted" % mode, box)
            return first, fused, inverted, box
        finally:
            stop(proc)

    def assert_same(self, gl, cpu, what):
        n = len(gl) // 3
        self.assertEqual(len(gl), len(cpu), what)
        near = far = 0
        for i in range(0, len(gl), 3):
            d = max(abs(gl[i] - cpu[i]), abs(gl[i + 1] - cpu[i + 1]), abs(gl[i + 2] - cpu[i + 2]))
            if d <= 4:
                near += 1
            elif d > 48:
                far += 1
        # Edges of the phantom's shapes may fall on either side of a sample
        # in the two samplers; nothing else may differ.
        self.assertGreater(near / n, 0.995, "%s: only %.2f%% of the viewer's pixels agree "
                           "between GL and the CPU" % (what, 100 * near / n))
        self.assertLess(far / n, 0.001, "%s: %.2f%% of the viewer's pixels differ by more "
                        "than 48 levels" % (what, 100 * far / n))

    def test_cpu_draws_what_gl_draws(self):
        gl_first, gl_fused, gl_inverted, gl_box = self.views("gl")
        cpu_first, cpu_fused, cpu_inverted, cpu_box = self.views("cpu")
        self.assertEqual(gl_box, cpu_box)
        # The views differ from each other (the comparison can fail), and
        # the fused PET is there: hot iron's reds.
        self.assertNotEqual(gl_fused, gl_inverted)
        reds = sum(1 for i in range(0, len(cpu_fused), 3)
                   if cpu_fused[i] > cpu_fused[i + 1] + 40 and cpu_fused[i] > cpu_fused[i + 2] + 40)
        self.assertGreater(reds, len(cpu_fused) // 3 // 20, "no hot iron in the CPU's image")
        self.assert_same(gl_first, cpu_first, "as it opened")
        self.assert_same(gl_fused, cpu_fused, "fused")
        self.assert_same(gl_inverted, cpu_inverted, "fused and inverted")


if __name__ == "__main__":
    main()
