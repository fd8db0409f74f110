"""Run an argv as a child process in its own process group, stoppable through a token.

Cancellation and timeouts terminate the whole group (SIGTERM, then SIGKILL after a grace period).
Every command carries a run id of its own in its environment (``AGENTS_RUN_ID``); when it ends,
however it ends, whatever still carries that id is ended too: children in its group, and daemons
that left the group with ``setsid`` (``runtime/sweep.py``). Nothing a command starts outlives it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Protocol

from cleveragents.domain.ids import new_id
from cleveragents.domain.markers import RUN_ID
from cleveragents.domain.redaction import redact
from cleveragents.runtime.sweep import WINDOW_MAX_S, end_marked
from cleveragents.runtime.tokens import CancellationToken, CancelReason

KILL_GRACE_S = 5.0
OUTPUT_TAIL_BYTES = 8192
PIPE_DRAIN_S = 1.0  # how long what a command started may outlive it in its group
GROUP_CHECK_S = 0.01  # how often, meanwhile, we look whether the group has gone


class Child(Protocol):
    """What supervising a started command needs of it (a ``Popen``, a ``SpawnedProcess``)."""

    @property
    def pid(self) -> int:
        """Its pid, which is also its process group's id."""

    @property
    def returncode(self) -> int | None:
        """Its exit status once waited for (minus the signal number if a signal ended it)."""

    def wait(self, timeout: float | None = None) -> int:
        """Wait for it; ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""


Spawn = Callable[[list[str], str, Mapping[str, str], int], Child]  # argv, cwd, env, output fd


@dataclass(frozen=True)
class CommandResult:
    """How a command ended."""

    exit_code: int
    duration_s: float
    output_tail: str
    timed_out: bool
    cancelled: bool


def _tail(output: IO[bytes], limit: int) -> str:
    """The last ``limit`` bytes the command wrote, decoded and redacted."""
    size = output.seek(0, os.SEEK_END)
    output.seek(max(size - limit, 0))
    return redact(output.read().decode("utf-8", errors="replace"))


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    inherit_env: bool = True,
    output: IO[bytes] | None = None,
    spawn: Spawn | None = None,
    emptied: bool = False,
) -> CommandResult:
    """Run ``argv`` to completion, timeout or cancellation; never raises for a non-zero exit.

    ``env`` is added to this process's environment (or, with ``inherit_env=False``, is the whole
    environment). ``output`` is a file to reuse for the command's output (it is emptied first,
    unless ``emptied`` says the caller just did);
    by default a new temporary file is used. ``spawn`` starts the command instead of
    ``subprocess.Popen`` (a ``runtime/spawner.py`` helper entering a workspace's overlay).
    Raises ``OSError`` when the program cannot be started (not found, not executable, bad cwd).
    """
    child_env = {**os.environ, **(env or {})} if inherit_env else dict(env or {})
    child_env[RUN_ID] = new_id()
    if output is not None:
        if not emptied:  # the caller did not empty it already
            output.seek(0)
            output.truncate()
        return _start(
            argv, cwd, child_env, output, token, timeout_s, kill_grace_s, tail_bytes, spawn
        )
    # Output goes to an anonymous temporary file rather than a pipe: no reader thread per
    # command, and a command that writes a lot never blocks on a full pipe.
    with tempfile.TemporaryFile(prefix="agents-output-") as scratch:
        return _start(
            argv, cwd, child_env, scratch, token, timeout_s, kill_grace_s, tail_bytes, spawn
        )


def _start(
    argv: list[str],
    cwd: str | None,
    env: Mapping[str, str],
    output: IO[bytes],
    token: CancellationToken,
    timeout_s: float | None,
    kill_grace_s: float,
    tail_bytes: int,
    spawn: Spawn | None = None,
) -> CommandResult:
    started = time.monotonic()
    if token.cancelled:  # cancelled before it started: it does not start
        return CommandResult(-signal.SIGTERM, 0.0, "", timed_out=False, cancelled=True)
    proc: Child
    if spawn is not None:  # its own session too, and its output in the same file
        try:
            proc = spawn(argv, cwd or os.getcwd(), env, output.fileno())
        except OSError:
            # Not started, or started by a helper that died before it said so: whatever
            # carries the run's id is ended, so "cannot run" stays true.
            end_marked({RUN_ID: env[RUN_ID]})
            raise
    else:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so we can stop everything it starts
        )
    try:
        return _supervise(proc, output, token, timeout_s, kill_grace_s, tail_bytes, started)
    finally:
        # However it ended (even if supervising raised): what it started goes with it, daemons
        # that left its process group included. One scan; for a short command only among the
        # pids allocated since it started.
        short = time.monotonic() - started < WINDOW_MAX_S
        end_marked({RUN_ID: env[RUN_ID]}, since_pid=proc.pid if short else None)


def _supervise(
    proc: Child,
    output: IO[bytes],
    token: CancellationToken,
    timeout_s: float | None,
    kill_grace_s: float,
    tail_bytes: int,
    started: float,
) -> CommandResult:
    escalation: list[threading.Timer] = []
    lock = threading.Lock()
    finished = False

    def terminate() -> None:
        with lock:
            if finished:  # reaped already: its pid (and group id) may belong to someone else now
                return
            if token.reason is CancelReason.LOST:  # another run may start: no grace period
                _signal_group(proc.pid, signal.SIGKILL)
                return
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
    with lock:
        finished = True
        for timer in escalation:
            timer.cancel()
    if timed_out or token.cancelled:
        _signal_group(proc.pid, signal.SIGKILL)  # we are stopping it: end the whole group
    elif _group_alive(proc.pid):
        # Something it started outlives it in its group (a pipe's reader): give it a moment,
        # then end the group (the caller ends what left the group).
        deadline = time.monotonic() + PIPE_DRAIN_S
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            if token.wait(GROUP_CHECK_S):
                break  # stopped meanwhile: end them now
        _signal_group(proc.pid, signal.SIGKILL)
    return CommandResult(
        exit_code=proc.wait(),  # waited for already: its status
        duration_s=round(time.monotonic() - started, 6),
        output_tail=_tail(output, tail_bytes),
        timed_out=timed_out,
        cancelled=token.cancelled and not timed_out,
    )
