"""Run an argv as a child process in its own process group, stoppable through a token.

Cancellation and timeouts terminate the whole group (SIGTERM, then SIGKILL after a grace period),
so a command that started children of its own does not leave them running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO

from cleveragents.domain.redaction import redact
from cleveragents.runtime.tokens import CancellationToken

KILL_GRACE_S = 5.0
OUTPUT_TAIL_BYTES = 8192
PIPE_DRAIN_S = 1.0  # how long what a command started may outlive it before its group is ended
GROUP_CHECK_S = 0.01  # how often, meanwhile, we look whether the group has gone


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
) -> CommandResult:
    """Run ``argv`` to completion, timeout or cancellation; never raises for a non-zero exit.

    ``env`` is added to this process's environment (or, with ``inherit_env=False``, is the whole
    environment). ``output`` is a file to reuse for the command's output (it is emptied first);
    by default a new temporary file is used. Raises ``OSError`` when the program cannot be
    started (not found, not executable, bad cwd).
    """
    child_env = {**os.environ, **(env or {})} if inherit_env else dict(env or {})
    if output is not None:
        output.seek(0)
        output.truncate()
        return _start(argv, cwd, child_env, output, token, timeout_s, kill_grace_s, tail_bytes)
    # Output goes to an anonymous temporary file rather than a pipe: no reader thread per
    # command, and a command that writes a lot never blocks on a full pipe.
    with tempfile.TemporaryFile(prefix="agents-output-") as scratch:
        return _start(argv, cwd, child_env, scratch, token, timeout_s, kill_grace_s, tail_bytes)


def _start(
    argv: list[str],
    cwd: str | None,
    env: Mapping[str, str],
    output: IO[bytes],
    token: CancellationToken,
    timeout_s: float | None,
    kill_grace_s: float,
    tail_bytes: int,
) -> CommandResult:
    started = time.monotonic()
    if token.cancelled:  # cancelled before it started: it does not start
        return CommandResult(-signal.SIGTERM, 0.0, "", timed_out=False, cancelled=True)
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so we can stop everything it starts
    )
    return _supervise(proc, output, token, timeout_s, kill_grace_s, tail_bytes, started)


def _supervise(
    proc: subprocess.Popen[bytes],
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
        # Something it started outlives it: give it a moment, then end the group.
        deadline = time.monotonic() + PIPE_DRAIN_S
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            if token.wait(GROUP_CHECK_S):
                break  # stopped meanwhile: end the group now
        _signal_group(proc.pid, signal.SIGKILL)
    return CommandResult(
        exit_code=proc.returncode,
        duration_s=round(time.monotonic() - started, 6),
        output_tail=_tail(output, tail_bytes),
        timed_out=timed_out,
        cancelled=token.cancelled and not timed_out,
    )


def end_processes_with_env(name: str, value: str) -> int:
    """SIGKILL the process groups of this user's processes whose environment has ``name=value``.

    This is how the leftovers of a run that was killed (its commands live on in their own
    process groups) are found: by the ``AGENTS_PLAN_ID`` every command is given, never by a
    stored pid that may have been reused. Processes whose environment cannot be read (another
    user's, or on a system where psutil cannot read environments) are not found. Returns how
    many groups were signalled.
    """
    import psutil  # here, not at the top: most commands never ask, and it costs start-up

    own_pid, own_group = os.getpid(), os.getpgid(0)
    groups: set[int] = set()
    for proc in psutil.process_iter():
        if proc.pid == own_pid:
            continue
        try:
            if proc.environ().get(name) != value:
                continue
            groups.add(os.getpgid(proc.pid))
        except (psutil.Error, OSError):
            continue  # gone, or not ours to read
    groups.discard(own_group)  # never our own group
    for pgid in groups:
        _signal_group(pgid, signal.SIGKILL)
    return len(groups)
