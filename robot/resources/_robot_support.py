"""What the keyword libraries of robot/resources share: one poll-until-deadline helper, the
lines of a log file, and the library instances they cooperate with.

Not a Robot library itself: the libraries import it (Robot puts their directory on ``sys.path``
while it imports them). Waiting is always polling against a deadline, never a fixed sleep.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from robot.libraries.BuiltIn import BuiltIn
from robot.utils import timestr_to_secs

T = TypeVar("T")

_PAUSE = threading.Event()  # never set: waiting on it is a pause between polls, not a sync
# The deadline of a wait for something that must happen: generous, since it only bounds a
# failure, and a loaded machine may take many seconds for what takes one on a quiet one.
WAIT_TIMEOUT = "60s"
POLL_INTERVAL_S = 0.1  # between two polls through an `agents` call (an interpreter start-up)
LOG_POLL_INTERVAL_S = 0.01  # between two reads of a file: that costs next to nothing


def poll_until(
    check: Callable[[], T | None],
    timeout: str | float,
    awaited: str | Callable[[], str],
    interval: float = POLL_INTERVAL_S,
) -> T:
    """Call ``check`` until it returns something other than ``None`` or ``False``; return that.

    ``check`` raises ``AssertionError`` itself for a state the wait can never leave (a job that
    ended otherwise, a process that exited). At the deadline (``timeout``, a Robot time string
    or seconds) this fails with an ``AssertionError`` naming what was awaited: ``awaited``, or
    what it returns when it is callable (so that it can say what was seen last).
    """
    deadline = time.monotonic() + timestr_to_secs(timeout)
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() >= deadline:
            what = awaited() if callable(awaited) else awaited
            raise AssertionError(f"timed out after {timeout} waiting for {what}")
        _PAUSE.wait(interval)


def read_text(path: Path | str) -> str:
    """A text file's content ('' when it does not exist yet); undecodable bytes replaced."""
    file = Path(path)
    return file.read_text(encoding="utf-8", errors="replace") if file.exists() else ""


def wait_for_log_line(
    path: Path | str,
    pattern: str,
    timeout: str | float,
    gone: Callable[[], str | None] = lambda: None,
) -> str:
    """Poll a log file until one of its lines matches ``pattern`` (a regular expression,
    searched); return that line. ``gone`` says why no such line can come any more (the process
    writing it exited), or ``None``; the file is read once more after that, then this fails."""
    regex = re.compile(pattern)
    seen = {"text": "", "why": ""}

    def matched() -> str | None:
        why = gone()
        seen["text"] = text = read_text(path)
        for line in text.splitlines():
            if regex.search(line):
                return line
        if why:
            raise AssertionError(f"{path}: {why} without logging {pattern!r}:\n{text}")
        return None

    def awaited() -> str:
        return f"a line of {path} matching {pattern!r}; it holds:\n{seen['text']}"

    return poll_until(matched, timeout, awaited, LOG_POLL_INTERVAL_S)


def counted(*found: tuple[str, list[Any]]) -> list[str]:
    """``N LABEL: [the first five]`` for each ``(LABEL, items)`` with items: the problems an
    assertion about a set of files lists."""
    return [f"{len(items)} {label}: {items[:5]}" for label, items in found if items]


def agents_library() -> Any:
    """The running AgentsLibrary: the test's work dir, environment and `agents` calls."""
    return BuiltIn().get_library_instance("AgentsLibrary")


def process_library() -> Any:
    """Robot's own Process library."""
    return BuiltIn().get_library_instance("Process")
