#!/usr/bin/python3
"""The viewer on a HiDPI screen: GDK_SCALE=2 on a 2560x1600 screen (an X
server of the test's own, whatever screen the run was given), the window
1200x760 logical pixels (2400x1520 on the screen). The CT phantom's axial
slice is opened, and what is drawn and measured is checked against the
phantom's geometry, computed here by hand:

- the field of view is 256 columns x 1.4 mm = 358.4 mm; fitted into the
  pane, one logical pixel is 358.4 mm / the pane's shorter side, one screen
  pixel half that (scale 2);
- the body is an ellipse of half-axes 160 mm (left-right) and 110 mm
  centred on the volume's centre (src/phantom/rr-phantom.c), the lungs
  ellipses of 50 x 70 mm centred at (+-75, -10) mm. On the row 40 mm
  anterior of the centre the body's edge is at 160 sqrt (1 - (40/110)^2)
  = 149.05 mm each side, the lungs span 75 -+ 50 sqrt (1 - (30/70)^2),
  29.8 to 120.2 mm each side.

The screenshot (screen pixels) must show tissue and air where that
geometry puts them; a Length caliper drawn with real pointer events from
one body edge to the other across the centre (x = -160 to +160 mm) must
read 320 mm; its handles must sit at the pointer's positions. It runs
twice (meson's hidpi and hidpi-gl): with the viewports on the CPU (the
application's choice on Xvfb's software GL), and on GL with
READROOM_VIEWPORT=gl (the GL area's framebuffer at the screen's scale). An image
drawn at scale 1 (a quarter of the pane), a pointer mapped without the
scale, or overlays drawn in screen pixels each move one of these.
A screenshot of each step goes to the test's log folder."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from a11y import AppCase, find, main, stop, wait_for  # noqa: E402
from workspace import WorkspaceDriver  # noqa: E402

PHANTOM = os.environ.get("READROOM_PHANTOM", "build/src/phantom/readroom-phantom")
OUT = os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()),
                   "test_hidpi" + ("-" + os.environ["READROOM_VIEWPORT"]
                                   if os.environ.get("READROOM_VIEWPORT") else ""))
SCALE = 2
SCREEN = (2560, 1600)
WINDOW = (1200, 760)            # logical pixels
FIELD_MM = 256 * 1.4            # --size 256 --pixel-spacing 1.4
BODY_HALF_MM = 160.0            # the body's left-right half-axis
ROW_MM = -40.0                  # the sampled row, anterior of the centre
BODY_EDGE_ROW_MM = 149.05       # 160 sqrt (1 - (40/110)^2)
LUNG_ROW_MM = (29.8, 120.2)     # 75 -+ 50 sqrt (1 - (30/70)^2)
LENGTH = re.compile(r"selected: Length (\d+\.\d) mm")


def start_screen(cls):
    """An X server of the class's own, SCREEN large, made the display of
    everything started from here on (this process, the accessibility bus
    and its registry, which sends the pointer events, the application);
    stopped, and the display given back, by class cleanups."""
    if shutil.which("Xvfb") is None:
        raise unittest.SkipTest("no Xvfb")
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0",
                             "%dx%dx24" % SCREEN, "-nolisten", "tcp"], pass_fds=(w,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    cls.addClassCleanup(stop, xvfb)
    number = b""
    with os.fdopen(r, "rb") as f:
        number = f.readline().strip()
    if not number:
        raise RuntimeError("Xvfb did not start")
    old = os.environ.get("DISPLAY")

    def give_back():
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
    cls.addClassCleanup(give_back)
    os.environ["DISPLAY"] = ":" + number.decode()
    # What the session bus starts by name (the accessibility bus) gets it
    # too.
    subprocess.run(["dbus-update-activation-environment", "DISPLAY=" + os.environ["DISPLAY"]],
                   check=True, capture_output=True)


class HiDpi(AppCase, WorkspaceDriver):
    out = OUT

    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-hidpi-")   # skips without a display
        start_screen(cls)
        os.makedirs(cls.out, exist_ok=True)
        cls.proc = None
        cls.study = os.path.join(cls.tmp, "study")
        subprocess.run([PHANTOM, cls.study, "--kind", "ct", "--slices", "30", "--size", "256",
                        "--pixel-spacing", "1.4"], check=True, capture_output=True)
        cls.start_bus()
        config = os.path.join(cls.tmp, "config")
        os.makedirs(os.path.join(config, "glib-2.0", "settings"))
        with open(os.path.join(config, "glib-2.0", "settings", "keyfile"), "w") as f:
            f.write("[org/readroom/Readroom]\nwindow-width=%d\nwindow-height=%d\n"
                    "window-maximized=false\n" % WINDOW)
        cls.env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                              XDG_CONFIG_HOME=config, GDK_SCALE=str(SCALE))
        cls.env["GSETTINGS_BACKEND"] = "keyfile"
        cls.env.pop("GDK_DPI_SCALE", None)

    # ---- the screen, in screen pixels ----

    def pixels(self, name):
        """The whole screen, shot to @name.png: (width, rows of RGB bytes)."""
        self.shot(name)
        raw = subprocess.run(["convert", os.path.join(self.out, name + ".png"), "-depth", "8",
                              "rgb:-"], capture_output=True, check=True).stdout
        self.assertEqual(len(raw), SCREEN[0] * SCREEN[1] * 3, "not the test's screen")
        return raw

    @staticmethod
    def mean(raw, x, y, r=3):
        """The mean grey of the (2r+1)^2 screen pixels round (x, y)."""
        x, y = int(round(x)), int(round(y))
        total, n = 0, 0
        for yy in range(y - r, y + r + 1):
            for xx in range(x - r, x + r + 1):
                i = (yy * SCREEN[0] + xx) * 3
                total += raw[i] + raw[i + 1] + raw[i + 2]
                n += 3
        return total / n

    def pane_origin(self, raw, x, y, w, h):
        """The pane's top-left corner on the screen: the first black pixel
        at or after where the accessibility tree puts it (its logical
        position times the scale; the tree does not count the window's
        own border), along the pane's middle row and column: six black
        pixels in a row (not a letter of the toolbar's)."""
        def first_black(points):
            run = 0
            for k, (px, py) in enumerate(points):
                i = (py * SCREEN[0] + px) * 3
                run = run + 1 if max(raw[i:i + 3]) < 15 else 0
                if run == 6:
                    return points[k - 5]
            self.fail("no black pane edge near %r" % (points[0],))
        mid_y, mid_x = SCALE * (y + h // 2), SCALE * (x + w // 2)
        left = first_black([(SCALE * x - 20 + i, mid_y) for i in range(80)])[0]
        top = first_black([(mid_x, SCALE * y - 20 + i) for i in range(80)])[1]
        return left, top

    def where(self, x_mm, y_mm):
        """The screen pixel where the phantom's (x_mm, y_mm) is drawn,
        computed from the pane alone: its centre is the volume's centre."""
        cx, cy = self.origin[0] + SCALE * self.w / 2, self.origin[1] + SCALE * self.h / 2
        return cx + x_mm * SCALE / self.mm_per_logical, cy + y_mm * SCALE / self.mm_per_logical

    def image_faults(self, raw):
        """What is not where the phantom's geometry puts it on the row
        ROW_MM: body inside its edge, air outside, lungs dark, the middle
        tissue. 3 mm from each edge: over two voxels (1.4 mm), the
        sampled square's half (1 mm) left clear of it."""
        expect = []
        for side in (-1, 1):
            expect += [(side * (BODY_EDGE_ROW_MM - 3), "tissue"),
                       (side * (BODY_EDGE_ROW_MM + 3), "air"),
                       (side * (LUNG_ROW_MM[1] + 3), "tissue"),
                       (side * (LUNG_ROW_MM[1] - 3), "air"),
                       (side * (LUNG_ROW_MM[0] + 3), "air"),
                       (side * (LUNG_ROW_MM[0] - 3), "tissue")]
        expect.append((0.0, "tissue"))
        wrong = []
        for x_mm, what in expect:
            sx, sy = self.where(x_mm, ROW_MM)
            grey = self.mean(raw, sx, sy)
            # Soft tissue at W 400 L 40 is mid-grey (about 128), air black.
            if (what == "tissue") != (grey > 60) or (what == "air" and grey > 20):
                wrong.append("%s at %+.1f mm (screen %d, %d): grey %.0f"
                             % (what, x_mm, sx, sy, grey))
        return wrong

    def check_image(self, raw, when):
        self.assertEqual(self.image_faults(raw), [], "%s: the image is not where the phantom's "
                         "geometry puts it at scale %d" % (when, SCALE))

    # ---- the test ----

    def test_caliper_at_scale_2(self):
        p = self.pyatspi
        self.proc, self.app = self.launch_app([self.study], self.env)
        viewer = wait_for(lambda: find(self.app, lambda n: (n.name or "") == "Image viewer"
                                       and "slice 16 / 30" in (n.description or "")
                                       and "mm per pixel" in (n.description or "")), 30)
        self.assertIsNotNone(viewer, "the series did not open")
        x, y, self.w, self.h = viewer.queryComponent().getExtents(p.DESKTOP_COORDS)
        self.mm_per_logical = FIELD_MM / min(self.w, self.h)
        raw = self.pixels("1-open")
        self.origin = self.pane_origin(raw, x, y, self.w, self.h)
        # The pane is as large on the screen as its logical size times the
        # scale: black up to its right edge, the side panel beyond.
        right = self.origin[0] + SCALE * self.w
        mid = self.origin[1] + SCALE * self.h // 2
        self.assertLess(max(raw[(mid * SCREEN[0] + right - 2) * 3:][:3]), 15, "the pane's right "
                        "edge is not at its logical width times %d" % SCALE)
        self.assertGreater(min(raw[(mid * SCREEN[0] + right + 2) * 3:][:3]), 15)

        # The image, once the final one is drawn: with GL, the CPU draws
        # until the GPU's copy is up, then GL at the framebuffer's scale; on
        # the CPU, at the screen's pixels from the first frame.
        if not wait_for(lambda: not self.image_faults(self.pixels("2-image")), 20):
            self.check_image(self.pixels("2-image"), "opened")

        # A Length caliper from one body edge to the other across the
        # centre: the pointer at the edges' screen pixels.
        self.click(self.named("Length"))
        self.assertTrue(wait_for(lambda: "tool: Length" in (viewer.description or ""), 10),
                        viewer.description)
        x0, y0 = self.where(-BODY_HALF_MM, 0)
        x1, y1 = self.where(BODY_HALF_MM, 0)
        x0, y0, x1, y1 = (int(round(v)) for v in (x0, y0, x1, y1))
        self.drag(x0, y0, x1, y1)
        got = wait_for(lambda: LENGTH.search(viewer.description or ""), 15)
        self.assertTrue(got, viewer.description)
        length = float(got[1])
        # The pointer's positions are whole screen pixels, half a logical
        # one: each end within 0.5 logical pixel (0.28 mm), the value
        # rounded to 0.1 mm.
        drawn_mm = (x1 - x0) / SCALE * self.mm_per_logical
        self.assertAlmostEqual(drawn_mm, 2 * BODY_HALF_MM, delta=self.mm_per_logical)
        self.assertAlmostEqual(length, 2 * BODY_HALF_MM, delta=self.mm_per_logical + 0.05,
                               msg="the caliper across the body (320 mm) reads %.1f mm" % length)
        self.assertEqual(self.caliper_count(), 1)

        # Its handles where the pointer pressed and let go (the selected
        # caliper's cyan squares, 8 logical = 16 screen pixels), and the
        # image still where it was under it.
        for name, (hx, hy) in (("3-start", (x0, y0)), ("4-end", (x1, y1))):
            n = self.handle_pixels(hx, hy, name)
            self.assertGreaterEqual(n, 27, "%s: %d of the handle's 54 pixels at screen (%d, %d)"
                                    % (name, n, hx, hy))
        self.check_image(self.pixels("5-measured"), "measured")


if __name__ == "__main__":
    main()
