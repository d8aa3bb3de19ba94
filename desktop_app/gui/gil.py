"""How often Python's threads take turns at the interpreter lock, set for what the app does.

Every Qt call releases the lock and must take it back, waiting up to the switch interval
(5 ms by default) while another thread runs Python code. During a sync, 0.2 ms keeps a
refresh of many calls from being stretched: on a slow day a sync of 100,000 versions
stalled the window for 63-75 ms with 1 ms, 29-56 ms with 0.2 ms, and was no slower. While
a transfer runs, 1 ms or less makes the transfer's own threads (network, checksum, two
writers) give way too often: the window's 1 GiB download measured about 86% of the CLI's
speed with 1 ms and about 96% with 5 ms, while the event loop's longest stall stayed under
7 ms either way.
"""

from __future__ import annotations

import math
import sys

EVENT_LOOP_SWITCH_S = 0.0002
TRANSFER_SWITCH_S = 0.005


def use_switch_interval(*, transferring: bool) -> None:
    """Set the interval for a window that is (or is not) running a transfer."""
    wanted = TRANSFER_SWITCH_S if transferring else EVENT_LOOP_SWITCH_S
    if not math.isclose(sys.getswitchinterval(), wanted, rel_tol=0.01):  # kept in whole µs
        sys.setswitchinterval(wanted)
