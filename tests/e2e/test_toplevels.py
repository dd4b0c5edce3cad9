#!/usr/bin/python3
"""The application's toplevels as an assistive technology sees them, asked
past the ones shown. A screen reader (or the e2e tests) counts them while a
file chooser is open and asks for the last one after it closed: GTK 4.8's
AT-SPI bridge then answers with the last toplevel GTK keeps, shown or not,
and a hidden window without an object path there (GTK's automatic help
overlay) crashed readroom (SIGSEGV in g_variant_new). Run inside
dbus-run-session with DISPLAY set."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from a11y import AppCase, main, wait_for  # noqa: E402


class Toplevels(AppCase):
    @classmethod
    def setUpClass(cls):
        cls.make_tmp("rr-e2e-top-")
        cls.start_bus()
        env = cls.app_env(XDG_DATA_HOME=os.path.join(cls.tmp, "data"),
                          XDG_CONFIG_HOME=os.path.join(cls.tmp, "config"))
        cls.app_proc, cls.app = cls.launch_app([], env)

    def test_past_the_shown_toplevels(self):
        self.assertTrue(wait_for(lambda: self.app.childCount >= 1, 20))
        # Only the main window is shown at start-up: ask for the one after.
        n = self.app.childCount
        self.assertEqual(n, 1)
        try:
            self.app.getChildAtIndex(n)
        except Exception:
            pass        # an error answer is fine: only a crash is not
        self.assertTrue(wait_for(lambda: self.app.getChildAtIndex(0) is not None, 10))
        self.assertIsNone(self.app_proc.poll(), "readroom died when asked for toplevel %d" % n)


if __name__ == "__main__":
    main()
