"""Helpers for the end-to-end tests: the accessibility bus, searching the
accessibility tree, and waiting for conditions (never for fixed times)."""
import os
import subprocess
import time
import unittest


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


def wait_for(fn, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        r = fn()
        if r:
            return r
        time.sleep(0.2)
    return None


def label_text(node):
    try:
        t = node.queryText()
        return t.getText(0, t.characterCount)
    except Exception:
        return node.name or ""


def start_app(pyatspi, argv, env):
    """Starts readroom and returns (process, its accessible application)."""
    proc = subprocess.Popen(argv, env=env)
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
