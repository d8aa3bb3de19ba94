"""How often Python's threads take turns at the interpreter lock, set for what the app does.

Every Qt call releases the lock and must take it back, waiting up to the switch interval
(5 ms by default) while another thread runs Python code. During a sync, 1 ms keeps a
refresh of many calls from being stretched five times. During a transfer, the same 1 ms
makes the transfer's own threads (network, checksum, two writers) give way five times as
often: the window's 1 GiB download measured about 86% of the CLI's speed with it and
about 96% with 5 ms, while the event loop's longest stall stayed under 7 ms either way.
"""

from __future__ import annotations

import sys

EVENT_LOOP_SWITCH_S = 0.001
TRANSFER_SWITCH_S = 0.005


def use_switch_interval(*, transferring: bool) -> None:
    """Set the interval for a window that is (or is not) running a transfer."""
    wanted = TRANSFER_SWITCH_S if transferring else EVENT_LOOP_SWITCH_S
    if sys.getswitchinterval() != wanted:
        sys.setswitchinterval(wanted)
