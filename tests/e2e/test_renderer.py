#!/usr/bin/python3
"""Which renderer GTK draws the window with. Xvfb has no GPU: its GL is
Mesa's software rasteriser (llvmpipe), where GTK 4.8's GL renderer redraws
the whole window every frame on the CPU. The application then chooses
GTK's cairo renderer, as GTK itself does from 4.13.8 on; a GSK_RENDERER
the user set stands. Its viewports then draw their images with the CPU
reslicer, not through GL (which is the CPU too, with a read-back each
frame); READROOM_VIEWPORT=gl or =cpu chooses either way. Read from the line the application writes into its
watchdog log once its first window has drawn (the renderer's GType, asked
of the window itself). Run inside dbus-run-session with DISPLAY set."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a11y import AppCase, main, stop, wait_for  # noqa: E402


class Renderer(AppCase):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-renderer-")
        cls.start_bus()

    def renderer_line(self, **extra):
        """Starts the application and returns its "renderer ..." line."""
        cls = type(self)
        env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"), **extra)
        if "GSK_RENDERER" not in extra:
            env.pop("GSK_RENDERER", None)
        with open(cls.watchdog_log, "a"):
            pass
        start = os.path.getsize(cls.watchdog_log)
        proc, _ = cls.launch_app([], env)

        def line():
            with open(cls.watchdog_log) as f:
                f.seek(start)
                m = re.search(r"^renderer .*$", f.read(), re.M)
            return m[0] if m else None
        try:
            found = wait_for(line, 60)
        finally:
            stop(proc)
        self.assertIsNotNone(found, "the application logged no renderer")
        return found

    def test_software_gl_draws_with_cairo(self):
        found = self.renderer_line()
        self.assertTrue(found.startswith("renderer GskCairoRenderer;"), found)
        # The probe saw Mesa's software GL: that was why.
        self.assertRegex(found, r'GL renderer "[^"]*(llvmpipe|softpipe|Software Rasterizer)')
        self.assertIn("viewports drawn on the CPU", found)

    def test_viewports_with_gl_when_asked(self):
        found = self.renderer_line(READROOM_VIEWPORT="gl")
        self.assertTrue(found.startswith("renderer GskCairoRenderer;"), found)
        self.assertIn("viewports drawn with GL", found)

    def test_the_users_choice_stands(self):
        found = self.renderer_line(GSK_RENDERER="gl")
        self.assertTrue(found.startswith("renderer GskGLRenderer;"), found)
        self.assertIn("GSK_RENDERER=gl set by the user", found)
        # The viewports' choice follows the rasteriser, not GTK's renderer.
        self.assertIn("viewports drawn on the CPU", found)


if __name__ == "__main__":
    main()
