"""Helpers for the end-to-end tests: the accessibility bus, searching the
accessibility tree, and waiting for conditions (never for fixed times)."""
import collections
import glob
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

# Any main-loop stall longer than this once the window is on screen fails a
# test, whatever held the loop (the application's work, a frame, the X
# server, the machine): the accessibility bus gives up on an application
# after about 0.8 s, a reader much sooner. Stalls before the first frame is
# drawn (GTK and the GL driver starting; no window yet) are listed only.
MAX_STALL_MS = int(os.environ.get("READROOM_MAX_STALL_MS", "250"))
# An application a test made draw with GL on a software rasteriser
# (READROOM_VIEWPORT=gl or GSK_RENDERER=gl on Xvfb's llvmpipe: a GPU's work
# done by the CPU, which the application never chooses there) may take
# this long over a frame.
MAX_SOFTWARE_GL_STALL_MS = max(1500, MAX_STALL_MS)
# The renderer line of such an application: a software rasteriser, and
# anything but the application's own choice on one.
SOFTWARE_GL = re.compile(r'GL renderer "[^"]*(llvmpipe|softpipe|swrast|software rasterizer)')
OWN_CHOICE_ON_SOFTWARE_GL = "GSK renderer cairo chosen; viewports drawn on the CPU"


def start_a11y_bus():
    for launcher in ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher"):
        if os.path.exists(launcher):
            proc = subprocess.Popen([launcher, "--launch-immediately"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            break
    else:
        raise unittest.SkipTest("no at-spi-bus-launcher")
    # The application registers at start-up: the bus and its registry must
    # answer before it is launched.
    def ready():
        r = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.a11y.Bus",
                            "/org/a11y/bus", "org.a11y.Bus.GetAddress"], capture_output=True)
        return r.returncode == 0
    if not wait_for(ready, 15):
        stop(proc)
        raise RuntimeError("the accessibility bus did not start")
    return proc


def find(node, pred, depth=0):
    """The first node under @node (itself included) for which @pred holds.
    A node that vanishes while it is looked at is skipped, not fatal."""
    if node is None or depth > 60:
        return None
    try:
        if pred(node):
            return node
        n = node.childCount
    except Exception:
        return None
    for i in range(n):
        try:
            child = node.getChildAtIndex(i)
        except Exception:
            continue
        r = find(child, pred, depth + 1)
        if r is not None:
            return r
    return None


def find_all(node, pred, out, depth=0):
    if node is None or depth > 60:
        return out
    try:
        if pred(node):
            out.append(node)
        for i in range(node.childCount):
            find_all(node.getChildAtIndex(i), pred, out, depth + 1)
    except Exception:
        pass
    return out


def common_ancestor(app, *names):
    """The innermost node of @app holding a node named each of @names
    (a workspace: the viewer and the form), None if one is missing."""
    nodes = [find(app, lambda n, name=name: (n.name or "") == name) for name in names]
    if None in nodes:
        return None
    paths = []
    for n in nodes:
        path = []
        while n is not None:
            path.append(n)
            n = n.parent
        paths.append(path)
    for n in paths[0]:
        if all(any(n == m for m in path) for path in paths[1:]):
            return n
    return None


def unnamed_focusable(root, pyatspi):
    """The controls shown under @root that take the keyboard focus and a
    screen reader has no name for: none, or GTK's type name
    ("GtkToggleButton") in its place. Containers GTK marks focusable
    (scroll panes, panes) are not controls: their children are read."""
    controls = {pyatspi.ROLE_PUSH_BUTTON, pyatspi.ROLE_TOGGLE_BUTTON, pyatspi.ROLE_CHECK_BOX,
                pyatspi.ROLE_RADIO_BUTTON, pyatspi.ROLE_COMBO_BOX, pyatspi.ROLE_ENTRY,
                pyatspi.ROLE_TEXT, pyatspi.ROLE_PASSWORD_TEXT, pyatspi.ROLE_SPIN_BUTTON,
                pyatspi.ROLE_SLIDER, pyatspi.ROLE_LABEL, pyatspi.ROLE_LINK, pyatspi.ROLE_IMAGE}
    out = []

    def unnamed(n):
        st = n.getState()
        # GTK 4.8 says SHOWING of hardly anything: VISIBLE, under @root.
        if not (st.contains(pyatspi.STATE_FOCUSABLE) and st.contains(pyatspi.STATE_VISIBLE)
                and n.getRole() in controls):
            return False
        name = n.name or ""
        return not name.strip() or re.match(r"^Gtk[A-Z]\w*$", name)
    for n in find_all(root, unnamed, []):
        try:
            parent = n.parent
            out.append("%s %r in %s %r" % (n.getRoleName(), n.name or "",
                                           parent.getRoleName() if parent else "-",
                                           parent.name if parent else ""))
        except Exception:
            pass  # gone while it was read
    return out


def gone(error):
    """Whether @error is AT-SPI's for an object the application removed
    (a widget it replaced): "The application no longer exists" is said of
    that one object, not of the application (a test's tearDown reports an
    application that died)."""
    # ATSPI_ERROR_APPLICATION_GONE
    return getattr(error, "domain", None) == "atspi_error" and getattr(error, "code", None) == 0


def wait_for(fn, timeout=30.0):
    """@fn's result once true. A poll that meets an object the window
    replaced meanwhile is not an answer yet: the next one sees the new."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            r = fn()
        except Exception as e:
            if not gone(e):
                raise
            r = None
        if r:
            return r
        time.sleep(0.2)
    return None


def label_text(node):
    try:
        t = node.queryText()
        return t.getText(0, t.characterCount)
    except Exception:
        try:
            return node.name or ""
        except Exception:
            return ""


def out_of_sight(pyatspi, node):
    """Why @node cannot be seen without scrolling or resizing, or None: it
    must have a size and lie wholly inside every ancestor up to its window
    (a scrolled window's viewport clips what is scrolled away, the window
    what falls beyond its edge)."""
    x, y, w, h = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    if w <= 0 or h <= 0:
        return "no size: %r" % ((x, y, w, h),)
    if not node.getState().contains(pyatspi.STATE_VISIBLE):
        return "hidden"
    parent = node.parent
    while parent is not None and parent.getRole() != pyatspi.ROLE_APPLICATION:
        try:
            px, py, pw, ph = parent.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        except NotImplementedError:
            parent = parent.parent
            continue
        if pw > 0 and ph > 0 and not (px <= x and x + w <= px + pw and
                                      py <= y and y + h <= py + ph):
            return "%r outside %s %r %r" % ((x, y, w, h), parent.getRoleName(), parent.name,
                                             (px, py, pw, ph))
        parent = parent.parent
    return None


def tooltip_shortcut(node):
    """The shortcut a control's tooltip ends with, "(Shift+Ctrl+T)", as
    written there; None without one. (GTK gives the tooltip as the
    accessible description.)"""
    m = re.search(r" \(([^()]+)\)$", node.description or "")
    return m[1] if m else None


def shortcuts_window_entries(pyatspi, app):
    """Opens the Keyboard Shortcuts window from the main menu; returns it
    and its entries, title to keys as its keycaps spell them ("Shift+Ctrl+T";
    alternatives joined by " / ")."""
    menu = find(app, lambda n: (n.name or "") == "Main Menu")
    x, y, w, h = menu.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    pyatspi.Registry.generateMouseEvent(x + w // 2, y + h // 2, "b1c")
    item = wait_for(lambda: find(app, lambda n: n.getRole() == pyatspi.ROLE_MENU_ITEM and
                                 (n.name or "") == "Keyboard Shortcuts"), 10)
    try:
        item.queryAction().doAction(0)
    except Exception:
        x, y, w, h = item.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        pyatspi.Registry.generateMouseEvent(x + w // 2, y + h // 2, "b1c")
    desktop = pyatspi.Registry.getDesktop(0)
    win = wait_for(lambda: find(desktop, lambda n: n.getRole() == pyatspi.ROLE_FRAME and
                                (n.name or "") == "Keyboard Shortcuts"), 10)
    entries = {}
    # Each entry: the keycaps (a GtkShortcutLabel), then a box with its title.
    for keys in find_all(win, lambda n: (n.name or "") == "GtkShortcutLabel", []) if win else []:
        caps = "".join(label_text(keys.getChildAtIndex(i)) for i in range(keys.childCount))
        title = [label_text(n) for n in find_all(keys.parent, lambda n: n.getRole() ==
                                                 pyatspi.ROLE_LABEL, [])
                 if n.parent != keys]
        if title:
            entries[title[0]] = caps.replace("/", " / ")
    return win, entries


def close_shortcuts_window(pyatspi, win):
    """Escape, with the pointer over it (no window manager under Xvfb: keys
    go where the pointer is)."""
    if win is None:
        return
    x, y, w, h = win.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    pyatspi.Registry.generateMouseEvent(x + w // 2, y + 10, "abs")
    pyatspi.Registry.generateKeyboardEvent(0xff1b, None, pyatspi.KEY_SYM)
    wait_for(lambda: find(pyatspi.Registry.getDesktop(0), lambda n: n.getRole() ==
                          pyatspi.ROLE_FRAME and (n.name or "") == "Keyboard Shortcuts")
             is None, 10)


def all_texts(root):
    """Every name, description and text under @root, for checking what the
    window shows; objects replaced while they are read are skipped."""
    texts = []
    for n in find_all(root, lambda n: True, []):
        for get in (lambda: n.name or "", lambda: n.description or "", lambda: label_text(n)):
            try:
                texts.append(get())
            except Exception as e:
                if not gone(e):
                    raise
    return texts


def screen_image(box=None):
    """The screen as the X server holds it (or the part @box, x, y, w, h,
    of it): a PIL image, RGB. One GetImage request of the root window, on
    a connection of its own.

    Not ImageMagick's `import -window root`: it grabs the X server
    (XGrabServer) while it walks the window tree and reads each window,
    and every other client's requests wait until it lets go. The window
    waits for the X server as it is laid out (GDK asks it which monitor
    the window is on, and that monitor's work area), so its main loop
    stood still for as long as the grab lasted: 170-280 ms beside two
    busy loops, the whole of the stalls that failed the e2e suites in CI
    (issue 21). A GetImage is one request the server answers at once,
    between the window's own."""
    from PIL import Image
    from Xlib import X, display
    d = display.Display()
    try:
        root = d.screen().root
        geometry = root.get_geometry()
        x, y, w, h = box or (0, 0, geometry.width, geometry.height)
        if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > geometry.width or y + h > geometry.height:
            raise ValueError("screen_image: %r is not within the %dx%d screen"
                             % (box, geometry.width, geometry.height))
        image = root.get_image(x, y, w, h, X.ZPixmap, 0xffffffff)
        formats = [f for f in d.display.info.pixmap_formats if f.depth == image.depth]
        if image.depth != 24 or not formats or formats[0].bits_per_pixel != 32:
            raise RuntimeError("screen_image: a %d-bit screen; the tests run at 24 bits" % image.depth)
        order = "BGRX" if d.display.info.image_byte_order == X.LSBFirst else "XRGB"
        return Image.frombytes("RGB", (w, h), image.data, "raw", order)
    finally:
        d.close()


def screenshot(path, box=None):
    """The screen (or @box of it) shot to @path, a PNG, without holding
    the window up (screen_image). Returns @path."""
    screen_image(box).save(path)
    return path


def start_app(pyatspi, argv, env, **popen):
    """Starts readroom and returns (process, its accessible application)."""
    proc = subprocess.Popen(argv, env=env, **popen)
    desktop = pyatspi.Registry.getDesktop(0)
    app = wait_for(lambda: find(desktop, lambda n: n.getRole() == pyatspi.ROLE_APPLICATION
                                and "readroom" in (n.name or "").lower()
                                and _pid(n) == proc.pid), 30)
    if app is None:
        proc.kill()
        raise RuntimeError("readroom did not appear on the accessibility bus")
    return proc, app


def _pid(node):
    try:
        return node.get_process_id()
    except Exception:
        return None


def wait_registry(pyatspi):
    def registry_ready():
        try:
            return pyatspi.Registry.getDesktop(0).childCount >= 0
        except Exception:
            return False
    if not wait_for(registry_ready, 15):
        raise RuntimeError("the accessibility registry did not answer")


def stop(proc, timeout=5):
    """Stops @proc (SIGTERM, then SIGKILL) if it still runs."""
    if proc is None or proc.poll() is not None:
        return
    proc.stopped = True
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def symbolize(frame):
    """'module+0xoffset symbol' from the watchdog, with the function and line
    addr2line finds for it (the application's own frames have no exported
    symbol)."""
    m = re.match(r"\s*(\S+)\+(0x[0-9a-f]+) (\S+)", frame)
    # System libraries have no line tables here: their nearest exported
    # symbol would mislead.
    if not m or m[3] != "?" or not os.path.exists(m[1]) or m[1].startswith(("/lib", "/usr")):
        return frame.strip()
    # The return address points after the call: one byte back is the call.
    r = subprocess.run(["addr2line", "-f", "-C", "-i", "-e", m[1], hex(int(m[2], 16) - 1)],
                       capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if l and not l.startswith("??")]
    where = " / ".join(lines) if lines else "?"
    return "%s+%s %s" % (os.path.basename(m[1]), m[2], where)


def app_frames(stack):
    """The application's own frames in one stack of the watchdog's, past
    main(): what of its code was running."""
    frames = [symbolize(l) for l in stack.splitlines() if re.search(r"/readroom\+0x", l)]
    # The watchdog's wrapper of poll() is the loop waiting, not working.
    if any(re.search(r" watched_poll( |$)", f) for f in frames):
        return []
    return [f for f in frames if not re.search(r" (main|_start)( |$)", f)]


def in_display_stack(block):
    """Whether a stall was the display's or the machine's, not the
    application's own code. From the watchdog's breadcrumbs: every sample
    inside a frame (GTK's layout and paint: the tests' GPU is Mesa's
    llvmpipe, the CPU itself, hundreds of ms a frame when the machine is
    loaded), or in poll (the process was not given the CPU), or none taken
    at all (nor was the watchdog's own thread, which wakes every 10 ms). A
    sample while a main-loop source was dispatched outside a frame (a signal
    handler, an idle, a worker's result, a D-Bus call) is the
    application's. With stacks (READROOM_WATCHDOG_STACKS=1): every stack in
    the GL driver, GTK's renderer or an X round trip, or with none of the
    application's functions on it. Held to their own bound; the log lists
    them."""
    crumbs = re.findall(r"^  at -?\d+ ms: (.*)$", block, flags=re.M)
    stacks = block.split("  stack at")[1:]
    if stacks:
        return all(re.search(r"/(swrast_dri|libLLVM|libgallium)[^/]*\.so"
                             r"| (gsk_renderer_render|_XReply)$", s, flags=re.M)
                   or not app_frames(s) for s in stacks)
    return all(", frame " in c or c.startswith("waiting in poll") for c in crumbs)


Stall = collections.namedtuple("Stall", "ms startup text software_gl")


def read_stalls(path, offset=0):
    """The stalls the application's watchdog logged from byte @offset on,
    as Stall (ms, before the first frame?, the stall's lines, drawn with GL
    on a software rasteriser?), and the offset to read from next time. The
    log is read from its start for which application logged each stall
    (each one's lines begin with "watchdog pid"), but only whole lines."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    stalls, pos, software_gl, current = [], 0, False, None
    for raw in data[:end].splitlines(keepends=True):
        at, pos = pos, pos + len(raw)
        line = raw.decode(errors="replace")
        if line.startswith("watchdog pid "):
            software_gl = False
        elif line.startswith("renderer "):
            software_gl = bool(SOFTWARE_GL.search(line)) and OWN_CHOICE_ON_SOFTWARE_GL not in line
        m = re.match(r"stall (\d+) ms", line)
        if m:
            current = None
            if at >= offset:
                current = [int(m[1]), "(start-up)" in line, line, software_gl]
                stalls.append(current)
        elif current is not None and line.startswith("  "):
            current[2] += line
        else:
            current = None
    return [Stall(*s) for s in stalls], max(end, offset)


def failing_stalls(stalls):
    """The stalls that fail a test (MAX_STALL_MS)."""
    return [s for s in stalls if not s.startup and
            s.ms > (MAX_SOFTWARE_GL_STALL_MS if s.software_gl else MAX_STALL_MS)]


class AppCase(unittest.TestCase):
    """A test of the real application: its accessibility bus and every
    process it starts are stopped whatever fails (class cleanups run even
    when setUpClass raises half-way); the application's stderr, its
    sanitizer reports and the backtrace of any core it leaves go into the
    test log; and a test fails when the main loop stalled for longer than
    MAX_STALL_MS while it ran, or the application died under it.

    viewport: how the application's viewports draw ("gl" or "cpu",
    READROOM_VIEWPORT); None leaves it the application's choice (the CPU
    on Xvfb's software GL)."""

    viewport = None

    @classmethod
    def make_tmp(cls, prefix):
        if not os.environ.get("DISPLAY"):
            raise unittest.SkipTest("no display")
        cls.tmp = tempfile.mkdtemp(prefix=prefix)
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.logs = os.path.join(cls.tmp, "logs")
        os.makedirs(cls.logs)
        cls.watchdog_log = os.path.join(cls.logs, "watchdog.log")
        cls.watchdog_offset = 0
        cls.apps = []           # every application process, for the report
        cls.killed = set()      # ...and those the test itself killed
        cls.addClassCleanup(cls.report_apps)
        return cls.tmp

    @classmethod
    def start_bus(cls):
        import pyatspi
        cls.bus = start_a11y_bus()
        cls.addClassCleanup(stop, cls.bus)
        wait_registry(pyatspi)
        cls.pyatspi = pyatspi
        return pyatspi

    @classmethod
    def app_env(cls, **extra):
        env = dict(os.environ, GTK_A11Y="atspi", NO_AT_BRIDGE="0", GSETTINGS_BACKEND="memory",
                   READROOM_WATCHDOG_LOG=cls.watchdog_log, **extra)
        if cls.viewport is not None:
            env["READROOM_VIEWPORT"] = cls.viewport
        # Mesa's software renderer compiles each shader variant on first use,
        # on the thread that draws: for hundreds of ms, cold. Its cache is
        # kept across runs (apart from the application's own cache, which a
        # test may want empty), as a reader's machine keeps it.
        env.setdefault("MESA_SHADER_CACHE_DIR",
                       os.path.join(os.environ.get("READROOM_TEST_OUT", tempfile.gettempdir()),
                                    "mesa-shader-cache"))
        # An application built with the sanitizers reports into the log
        # folder (the process' stderr may be cut short by its death).
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
        env["ASAN_OPTIONS"] += ":log_path=" + os.path.join(cls.logs, "asan")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        env["UBSAN_OPTIONS"] += ":log_path=" + os.path.join(cls.logs, "ubsan")
        return env

    @classmethod
    def launch_app(cls, args, env):
        """Starts the application (READROOM_E2E_APP, when set, is the one to
        test: tools/test points it at the sanitizer build) with core dumps
        on, in a folder of its own where a core would land."""
        app = os.environ.get("READROOM_E2E_APP") or os.environ.get("READROOM_APP",
                                                                   "build/src/app/readroom")
        n = len(cls.apps)
        cwd = os.path.join(cls.logs, "app%d" % n)
        os.makedirs(cwd)

        def cores():
            resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,
                                                      resource.RLIM_INFINITY))
        err = open(os.path.join(cwd, "stderr"), "wb")
        try:
            proc, acc = start_app(cls.pyatspi, [os.path.abspath(app)] + list(args), env,
                                  cwd=cwd, stderr=err, preexec_fn=cores)
        finally:
            err.close()
        proc.app_path = os.path.abspath(app)
        proc.cwd = cwd
        cls.apps.append(proc)
        cls.addClassCleanup(stop, proc)
        return proc, acc

    @classmethod
    def kill_app(cls, proc, sig=signal.SIGKILL):
        """Kills the application on purpose: not reported as a death."""
        cls.killed.add(proc.pid)
        proc.send_signal(sig)
        proc.wait(10)

    @classmethod
    def death_report(cls, proc):
        """What is known of a death: exit status, stderr, sanitizer
        reports, and the backtrace of its core."""
        out = ["readroom (pid %d) exited with status %s" % (proc.pid, proc.returncode)]
        try:
            with open(os.path.join(proc.cwd, "stderr"), errors="replace") as f:
                tail = f.read()[-6000:]
            out.append("--- its stderr (end) ---\n" + tail)
        except OSError:
            pass
        for log in sorted(glob.glob(os.path.join(cls.logs, "[au]bsan.*")) +
                          glob.glob(os.path.join(cls.logs, "asan.*"))):
            with open(log, errors="replace") as f:
                out.append("--- %s ---\n%s" % (os.path.basename(log), f.read()[-20000:]))
        for core in glob.glob(os.path.join(proc.cwd, "core*")):
            r = subprocess.run(["gdb", "-batch", "-nx", "-ex", "thread apply all bt 30",
                                proc.app_path, core], capture_output=True, text=True,
                               timeout=300)
            out.append("--- backtrace of %s ---\n%s" % (core, r.stdout[-30000:]))
            os.unlink(core)
        return "\n".join(out)

    @classmethod
    def report_apps(cls):
        for proc in cls.apps:
            if (proc.poll() is not None and proc.pid not in cls.killed and proc.returncode != 0
                    and not getattr(proc, "stopped", False)):
                print(cls.death_report(proc), file=sys.stderr)
        # The whole watchdog log, kept beside the test log.
        if os.path.exists(cls.watchdog_log):
            out = os.environ.get("READROOM_TEST_OUT")
            if out and os.path.isdir(out):
                shutil.copy(cls.watchdog_log, os.path.join(out, "watchdog-%s.log" % cls.__name__))
            stalls, _ = read_stalls(cls.watchdog_log)
            if stalls:
                print("main-loop stalls over 50 ms: %s" %
                      ", ".join("%d%s" % (ms, " (start-up)" if st else "")
                                for ms, st, _, _ in stalls), file=sys.stderr)

    def tearDown(self):
        cls = type(self)
        dead = [p for p in cls.apps if p.poll() is not None and p.pid not in cls.killed
                and not getattr(p, "stopped", False)]
        for p in dead:
            cls.killed.add(p.pid)    # reported once
        stalls, cls.watchdog_offset = read_stalls(cls.watchdog_log, cls.watchdog_offset)
        long = failing_stalls(stalls)
        if dead:
            self.fail("the application died:\n" + "\n".join(self.death_report(p) for p in dead))
        if long:
            summary = []
            for ms, _, block, _ in long:
                lines = block.splitlines()
                frames = [symbolize(l) for l in lines[1:] if l.startswith("    ")]
                print("\n".join([lines[0]] + [l for l in lines[1:] if l.startswith("  at ")] +
                                ["  " + f for f in frames]), file=sys.stderr)
                summary.append("%d ms in %s" % (ms, where(frames) if frames
                                                 else breadcrumbs(block) or "nothing sampled"))
            self.fail("the main loop stalled for longer than %d ms (%d ms drawing with GL on a "
                      "software rasteriser; details above): %s"
                      % (MAX_STALL_MS, MAX_SOFTWARE_GL_STALL_MS, "; ".join(summary)))


def app_share_ms(ms, block):
    """How much of a stall was the application's own: all of it when its
    stacks say so (READROOM_WATCHDOG_STACKS=1), else the part sampled
    while a source was dispatched outside a frame (the first sample at 50
    ms covers those 50, each next one the 40 ms since the one before)."""
    if "  stack at" in block:
        return 0 if in_display_stack(block) else ms
    crumbs = re.findall(r"^  at -?\d+ ms: (.*)$", block, flags=re.M)
    n = sum(1 for c in crumbs if ", frame " not in c and not c.startswith("waiting in poll"))
    return 0 if n == 0 else min(ms, 50 + 40 * (n - 1))


def breadcrumbs(block):
    """The phases the watchdog saw during a stall, most seen first."""
    seen = {}
    for c in re.findall(r"^  at -?\d+ ms: (.*)$", block, flags=re.M):
        seen[c] = seen.get(c, 0) + 1
    return ", ".join("%s (%dx)" % (c, n) for c, n in sorted(seen.items(), key=lambda x: -x[1]))


def where(frames):
    """A stall's stacks in a few words: the application's innermost frame,
    and the innermost named one."""
    app = [f for f in frames if f.startswith("readroom+") and " main " not in f
           and "_start" not in f]
    named = [f.split(" ", 1)[1] for f in frames if not f.endswith(" ?")]
    return "%s (innermost: %s)" % (app[0] if app else "no readroom frame",
                                   named[0] if named else "?")


def main():
    """unittest.main, but a run where anything was skipped exits 77, so
    meson counts it as skipped, not passed."""
    prog = unittest.main(verbosity=2, exit=False)
    r = prog.result
    if not r.wasSuccessful():
        sys.exit(1)
    if r.skipped or r.testsRun == 0:
        print("skipped: %s" % "; ".join(str(why) for _, why in r.skipped), file=sys.stderr)
        sys.exit(77)
    sys.exit(0)
