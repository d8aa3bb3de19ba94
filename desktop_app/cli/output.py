"""The one place the CLI writes to: messages, errors, tables, JSON and a progress line."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from desktop_app.client.units import format_size

PROG = "artifact-desk"
PROGRESS_INTERVAL = 0.1


class Output:
    """Writes results to stdout and messages, errors and progress to stderr.

    ``quiet`` drops informational messages and progress; results a script asked for
    (listings, JSON, the folder ``get`` wrote) and errors are always written.
    """

    def __init__(
        self,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        *,
        quiet: bool = False,
    ) -> None:
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.quiet = quiet

    # -- stdout ------------------------------------------------------------------------
    def result(self, text: str) -> None:
        """A line a script may read; written even when quiet."""
        self._write(self.stdout, text)

    def message(self, text: str) -> None:
        """A line for a person; dropped when quiet."""
        if not self.quiet:
            self._write(self.stdout, text)

    def json(self, data: Any) -> None:
        """``data`` as indented JSON on stdout."""
        self._write(self.stdout, json.dumps(data, indent=2, ensure_ascii=False))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Left-aligned columns separated by two spaces, with a header row."""
        widths = [len(h) for h in headers]
        for row in rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
        for row in [headers, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
            self._write(self.stdout, "  ".join(cells).rstrip())

    # -- stderr ------------------------------------------------------------------------
    def note(self, text: str) -> None:
        """A remark on stderr (keeps stdout clean for scripts); dropped when quiet."""
        if not self.quiet:
            self._write(self.stderr, text)

    def error(self, text: str, *, prog: str = PROG) -> None:
        """``artifact-desk: error: <text>`` on stderr; never dropped."""
        self._write(self.stderr, f"{prog}: error: {text}")

    def cancelled(self, text: str | None = None) -> None:
        """``artifact-desk: cancelled`` on stderr."""
        detail = f" ({text})" if text else ""
        self._write(self.stderr, f"{PROG}: cancelled{detail}")

    def raw_error(self, text: str) -> None:
        """Text as it is on stderr (usage, help, tracebacks)."""
        text = printable(text)
        self.stderr.write(text if text.endswith("\n") or not text else text + "\n")
        self.stderr.flush()

    def progress(self, label: str) -> Progress:
        """A progress line on stderr, drawn only when stderr is a terminal and not quiet."""
        return Progress(self.stderr, label, enabled=not self.quiet and _isatty(self.stderr))

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        stream.write(printable(text) + "\n")
        stream.flush()


def printable(text: str) -> str:
    """``text`` with the bytes of a file name that is not UTF-8 shown as ``\\xNN``: Python
    hands such a name over with surrogates in it, which cannot be written to a terminal."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """One updating line on a terminal: ``label  1.2 MiB / 3 MiB  40%``.

    Redraws at most every ``interval`` seconds, plus once when the work is complete.
    Callable as a client ``on_progress(done, total)`` callback, also from worker threads.
    """

    def __init__(
        self,
        stream: TextIO,
        label: str,
        *,
        enabled: bool,
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.label = printable(label)
        self.enabled = enabled
        self._interval = interval
        self._clock = clock
        self._last_draw: float | None = None
        self._drawn = False
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        self.update(done, total)

    def update(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` bytes if enough time has passed (or it is complete)."""
        if not self.enabled:
            return
        with self._lock:
            now = self._clock()
            complete = total > 0 and done >= total
            if (
                self._last_draw is not None
                and now - self._last_draw < self._interval
                and not complete
            ):
                return
            self._last_draw = now
            percent = f"{100 * done // total:3d}%" if total > 0 else ""
            line = f"{self.label}  {format_size(done)} / {format_size(total)}  {percent}"
            self.stream.write("\r\x1b[K" + line.rstrip())
            self.stream.flush()
            self._drawn = True

    def close(self) -> None:
        """Erase the line so that the next message starts on a clean line."""
        with self._lock:
            if self._drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
