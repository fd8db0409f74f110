"""Run an argv as a child process in its own process group, stoppable through a token.

Cancellation and timeouts terminate the whole group (SIGTERM, then SIGKILL after a grace period),
so a command that started children of its own does not leave them running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO

from cleveragents.domain.redaction import redact
from cleveragents.worker.tokens import CancellationToken

KILL_GRACE_S = 5.0
OUTPUT_TAIL_BYTES = 8192
PIPE_DRAIN_S = 1.0  # how long to wait for the output pipe after the command itself exited


@dataclass(frozen=True)
class CommandResult:
    """How a command ended."""

    exit_code: int
    duration_s: float
    output_tail: str
    timed_out: bool
    cancelled: bool


class _Tail:
    """Keeps the last ``limit`` bytes of a stream, read on its own thread."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._buffer = bytearray()
        self.thread = threading.Thread(target=self._read, name="agents-output", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        read = getattr(self._stream, "read1", self._stream.read)
        for chunk in iter(lambda: read(65536), b""):
            self._buffer += chunk
            if len(self._buffer) > 2 * self._limit:
                del self._buffer[: -self._limit]
        self._stream.close()

    def text(self) -> str:
        return redact(bytes(self._buffer[-self._limit :]).decode("utf-8", errors="replace"))


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


def run_command(
    argv: list[str],
    *,
    token: CancellationToken,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
    kill_grace_s: float = KILL_GRACE_S,
    tail_bytes: int = OUTPUT_TAIL_BYTES,
) -> CommandResult:
    """Run ``argv`` to completion, timeout or cancellation; never raises for a non-zero exit.

    Raises ``OSError`` when the program cannot be started (not found, not executable, bad cwd).
    """
    started = time.monotonic()
    child_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so we can stop everything it starts
    )
    assert proc.stdout is not None
    tail = _Tail(proc.stdout, tail_bytes)
    escalation: list[threading.Timer] = []

    def terminate() -> None:
        _signal_group(proc.pid, signal.SIGTERM)
        timer = threading.Timer(kill_grace_s, _signal_group, (proc.pid, signal.SIGKILL))
        timer.daemon = True
        escalation.append(timer)
        timer.start()

    token.on_cancel(terminate)
    timed_out = False
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        terminate()
        proc.wait()
    for timer in escalation:
        timer.cancel()
    tail.thread.join(PIPE_DRAIN_S)
    if tail.thread.is_alive() or timed_out or token.cancelled:
        # Something it started still holds the output open, or we are stopping it: end the group.
        _signal_group(proc.pid, signal.SIGKILL)
        tail.thread.join()
    return CommandResult(
        exit_code=proc.returncode,
        duration_s=round(time.monotonic() - started, 6),
        output_tail=tail.text(),
        timed_out=timed_out,
        cancelled=token.cancelled and not timed_out,
    )
