#!/bin/sh
# The walk's session, run under
#   xvfb-run -a -s "-screen 0 1600x1000x24" dbus-run-session -- walk/session.sh
# Records the display and session bus for the step scripts (drive.py),
# starts the accessibility bus, then runs tools/demo with the walk's own
# folders and port, the app's stderr and watchdog log kept in $OUT.
set -u
OUT=/tmp/walk-run
cd "$(dirname "$0")/.."
echo "DISPLAY=$DISPLAY" > $OUT/env
echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS" >> $OUT/env
echo "XAUTHORITY=$XAUTHORITY" >> $OUT/env
/usr/libexec/at-spi-bus-launcher --launch-immediately >/dev/null 2>&1 &
A11Y=$!
sleep 2
mkdir -p $OUT/xdg-data $OUT/xdg-cache $OUT/xdg-config
export XDG_DATA_HOME=$OUT/xdg-data XDG_CACHE_HOME=$OUT/xdg-cache XDG_CONFIG_HOME=$OUT/xdg-config
export READROOM_DEMO_PORT=${WALK_PORT:-18642} GTK_A11Y=atspi NO_AT_BRIDGE=0
export GSETTINGS_BACKEND=keyfile READROOM_WATCHDOG_LOG=$OUT/watchdog.log
export MESA_SHADER_CACHE_DIR=$OUT/mesa-cache
tools/demo > $OUT/demo.stdout 2> $OUT/demo.stderr
echo "demo exited $?" >> $OUT/demo.stdout
kill $A11Y 2>/dev/null
