#!/usr/bin/python3
"""When the machine itself stopped: one process per core, at real-time
priority and bound to its core, sleeps 5 ms at a time and notes every
wake-up that came late by PAUSE_MS or more. A real-time task preempts
every ordinary one, the busy loops and the window included, so on a core
that runs at all it wakes within a fraction of a millisecond; coming late
by tens of milliseconds, its core did not run: the hypervisor had stopped
the virtual CPU (seen here: 99-100 ms at a time, some minutes dozens of
times, idle or not). A window's stall that falls in such a pause is the
machine's, and no code in the window can shorten it.

Run by bench/stall.py beside the window:
  python3 bench/machine_pauses.py CORE LOG
Each pause is a line "pause <ms> ms on core <n> ending at <ms since the
epoch>" in LOG. Without the right to real-time priority (CAP_SYS_NICE or
an RLIMIT_RTPRIO) the probe writes "no real-time priority" and exits 3:
an ordinary task's lateness would be the scheduler's as much as the
machine's."""
import os
import sys
import time

PERIOD = 0.005
PAUSE_MS = 10


def probe(core, log):
    parent = os.getppid()
    os.sched_setaffinity(0, {core})
    with open(log, "a", buffering=1) as out:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
        except PermissionError:
            out.write("no real-time priority\n")
            return 3
        out.write("probe on core %d\n" % core)
        # Until stopped, or until the bench that started it is gone.
        while os.getppid() == parent:
            t = time.monotonic()
            time.sleep(PERIOD)
            late = (time.monotonic() - t - PERIOD) * 1000
            if late >= PAUSE_MS:
                out.write("pause %.0f ms on core %d ending at %d\n"
                          % (late, core, time.time() * 1000))
    return 0


def read(log):
    """(pauses, whether a probe ran at real-time priority): each pause a
    (start, end, core), its bounds in ms since the epoch: from when the
    probe was due to wake to when it did, the time its core surely did not
    run (the pause may have begun up to a period earlier: not counted)."""
    pauses, ran = [], False
    try:
        with open(log) as f:
            for line in f:
                if line.startswith("probe on core"):
                    ran = True
                elif line.startswith("pause "):
                    words = line.split()
                    late, core, end = float(words[1]), int(words[5]), int(words[-1])
                    pauses.append((end - late, end, core))
    except FileNotFoundError:
        pass
    return pauses, ran


def overlap(pauses, start, end):
    """How much of [start, end] (ms) the machine was paused: the union of
    the pauses' overlaps with it."""
    cut = sorted((max(a, start), min(b, end)) for a, b in pauses if b > start and a < end)
    total, reach = 0.0, start
    for a, b in cut:
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


if __name__ == "__main__":
    sys.exit(probe(int(sys.argv[1]), sys.argv[2]))
