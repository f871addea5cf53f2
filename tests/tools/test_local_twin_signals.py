"""The local twin stops everything it started on SIGTERM as it does on Ctrl-C (its ExitStack unwinds on
KeyboardInterrupt), so `kill` or a time-out leaves no emulator or web server behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap


def test_sigterm_unwinds_the_twin_like_ctrl_c() -> None:
    probe = textwrap.dedent("""
        import os, signal, sys, time
        from contextlib import ExitStack
        from tools.local.local_twin import stop_on_sigterm
        stop_on_sigterm()
        try:
            with ExitStack() as stack:
                stack.callback(print, "stopped the servers", flush=True)
                print("ready", flush=True)
                time.sleep(30)
        except KeyboardInterrupt:
            sys.exit(0)
        sys.exit(1)
    """)
    process = subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    os.kill(process.pid, signal.SIGTERM)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 0 and "stopped the servers" in out
