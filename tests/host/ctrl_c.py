"""Children a test presses Ctrl-C in: a shell starting a job in the background makes it ignore SIGINT, and children
inherit that, so such a child restores the default first (Python then turns SIGINT into KeyboardInterrupt)."""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """`preexec_fn` of a child the test will send SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
