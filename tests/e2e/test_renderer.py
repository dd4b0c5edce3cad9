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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a11y import AppCase, main, stop, wait_for  # noqa: E402


class Renderer(AppCase):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-renderer-")
        cls.start_bus()

    def renderer_line(self, while_up=None, **extra):
        """Starts the application and returns its "renderer ..." line
        (and what @while_up, given the process and a function that reads
        the process' part of the log, returned before it was stopped)."""
        cls = type(self)
        env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"), **extra)
        if "GSK_RENDERER" not in extra:
            env.pop("GSK_RENDERER", None)
        with open(cls.watchdog_log, "a"):
            pass
        start = os.path.getsize(cls.watchdog_log)
        proc, _ = cls.launch_app([], env)

        def log():
            with open(cls.watchdog_log) as f:
                f.seek(start)
                return f.read()

        def line():
            m = re.search(r"^renderer .*$", log(), re.M)
            return m[0] if m else None
        try:
            found = wait_for(line, 60)
            seen = while_up(proc, log) if while_up and found else None
        finally:
            stop(proc)
        self.assertIsNotNone(found, "the application logged no renderer")
        return (found, seen) if while_up else found

    @staticmethod
    def shm_segments(proc):
        """The SysV shared-memory segments the process has attached, as
        (address, size in bytes): cairo's pools of X shared memory."""
        out = []
        with open("/proc/%d/maps" % proc.pid) as f:
            for entry in f:
                if "SYSV" in entry:
                    lo, hi = (int(x, 16) for x in entry.split()[0].split("-"))
                    out.append((lo, hi - lo))
        return out

    @staticmethod
    def shm_resident(proc):
        """How much of each SysV shared-memory segment of the process is in
        memory (mapped into it), in bytes, by its address."""
        out, at = {}, None
        with open("/proc/%d/smaps" % proc.pid) as f:
            for entry in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", entry):
                    at = int(entry.split("-")[0], 16) if "SYSV" in entry else None
                elif at is not None and entry.startswith("Rss:"):
                    out[at] = int(entry.split()[1]) * 1024
        return out

    def test_software_gl_draws_with_cairo(self):
        found = self.renderer_line()
        self.assertTrue(found.startswith("renderer GskCairoRenderer;"), found)
        # The probe saw Mesa's software GL: that was why.
        self.assertRegex(found, r'GL renderer "[^"]*(llvmpipe|softpipe|Software Rasterizer)')
        self.assertIn("viewports drawn on the CPU", found)

    def test_no_window_manager_no_frame_sync(self):
        """Xvfb here runs no window manager: the window turns GDK's frame
        synchronisation off, which would otherwise ask the X server at
        every frame's end whether a manager has appeared (rr-frame-sync.c;
        the asking itself is counted by the render suite's frame-sync)."""
        def logged_off(proc, log):
            return wait_for(lambda: "frame synchronisation off" in log() or None, 10)
        _, off = self.renderer_line(while_up=logged_off)
        self.assertTrue(off, "the window kept frame synchronisation on a display "
                        "with no window manager")

    def test_cairo_frames_keep_their_shared_memory(self):
        """GTK's cairo frames on X11 reach the window through cairo's pools
        of X shared memory, and cairo gives back a pool large enough for a
        whole window as each frame ends: every large frame then faults its
        pages in anew. The application holds one pool, as large as the
        window's frames, for as long as the window lives."""
        pattern = r"frames drawn from a held X shared-memory pool, made for (\d+)x(\d+)"

        def segments_between_frames(proc, log):
            wait_for(lambda: re.search(pattern, log()), 30)
            first = self.shm_segments(proc)
            time.sleep(1)
            later = self.shm_segments(proc)

            def pool_in_memory():
                resident = self.shm_resident(proc)
                return resident if any(16 << 20 <= size <= 64 << 20 and
                                       resident.get(at, 0) >= size * 0.9
                                       for at, size in later) else None
            # A thread brings it in: a while, beside the busy loops.
            resident = wait_for(pool_in_memory, 20) or self.shm_resident(proc)
            return first, later, re.findall(pattern, log()), resident

        found, (first, later, held, resident) = self.renderer_line(
            while_up=segments_between_frames)
        self.assertTrue(found.startswith("renderer GskCairoRenderer;"), found)
        self.assertTrue(held, "no pool held")
        width, height = (int(x) for x in held[-1])
        self.assertGreaterEqual(width * height, 800 * 600, held)
        # cairo makes a pool 8 times (rounded up to a power of two) the
        # image that asks for it, and gives images up to an eighth of it:
        # a pool that can give a whole frame (4 bytes a pixel) is at least
        # 8 frames large. Without the hold, what stays between frames is
        # cairo's own pool of smaller images (16 MB beside a 1280x860
        # window, whose frames of 4.4 MB need one of 35 MB at least). It is
        # there a second later.
        large = [seg for seg in first if seg[1] >= 8 * 4 * width * height]
        self.assertTrue(large, "no pool for whole frames between frames: %r" % first)
        self.assertTrue(set(large) <= set(later), (first, later))
        # The held pool is in memory whole (rr-frame-pool.c), up to 64 MB:
        # the frames' copies land on blocks of it no frame has touched,
        # which would otherwise be faulted in, in the frame. The window's
        # own frames touch a fifth of it.
        small_enough = [seg for seg in large if seg[1] <= 64 * 1024 * 1024]
        self.assertTrue(small_enough, "the window's pool is over 64 MB: %r" % large)
        for address, size in small_enough:
            self.assertGreaterEqual(resident.get(address, 0), size * 0.9,
                                    "the held pool is not in memory: %d of %d bytes"
                                    % (resident.get(address, 0), size))

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
