"""Stopping a cluster's server, found by its data directory: harder and harder, and cleaning up
after a postmaster that crashed (its backends, its shared memory segment)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

from _pgcluster.common import (
    QUIT_TIMEOUT,
    STOP_TIMEOUT,
    ClusterError,
    poll,
    process_alive,
)


def postmaster_pid_lines(data_dir: Path) -> list[str]:
    """Return the lines of postmaster.pid (pid, data dir, ..., shared memory key and id)."""
    try:
        return (data_dir / "postmaster.pid").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def postmaster_pid(data_dir: Path) -> int | None:
    """Return the pid in postmaster.pid, or None when the file is missing or unreadable."""
    lines = postmaster_pid_lines(data_dir)
    return int(lines[0]) if lines and lines[0].strip().isdigit() else None


def is_our_postmaster(pid: int, data_dir: Path) -> bool:
    """Return whether ``pid`` runs postgres on ``data_dir`` (and not a reused pid)."""
    try:
        args = psutil.Process(pid).cmdline()
    except psutil.NoSuchProcess:  # gone, or a zombie: not a running postmaster
        return False
    except psutil.Error:
        return True
    return str(data_dir) in args


def server_processes(data_dir: Path) -> list[int]:
    """Return the processes working in ``data_dir``: the postmaster and its children.

    Every PostgreSQL process changes into its data directory. Backends call ``setsid()``, so
    they are not in the postmaster's process group, and when the postmaster dies they are
    re-parented: their working directory is what still identifies them.
    """
    target = str(data_dir)
    found = []
    for process in psutil.process_iter(["pid", "cwd"]):
        pid = process.info["pid"]
        if process.info["cwd"] == target and process_alive(pid):
            found.append(pid)
    return found


def wait_gone(alive: Callable[[int], bool], pids: Sequence[int], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for all ``pids`` to exit; return whether they did."""
    return poll(lambda: not any(alive(pid) for pid in pids), timeout)


def stop_server(data_dir: Path, pid: int | None, alive: Callable[[int], bool]) -> None:
    """Shut the postmaster ``pid`` down, harder and harder, then kill whatever server process is
    left in ``data_dir``. ``alive`` tells whether a pid still runs (reaping our own child)."""
    if pid is not None and alive(pid) and is_our_postmaster(pid, data_dir):
        # Fast shutdown (what pg_ctl stop -m fast sends), then immediate shutdown.
        for how, timeout in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, QUIT_TIMEOUT)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, how)
            if wait_gone(alive, [pid], timeout):
                break
    # Whatever is left (a hung postmaster, or backends of one that crashed) is killed.
    leftovers = server_processes(data_dir)
    for leftover in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(leftover, signal.SIGKILL)
    if not wait_gone(alive, leftovers, QUIT_TIMEOUT):
        raise ClusterError(f"postgres processes {leftovers} survived SIGKILL")


def release_shared_memory(data_dir: Path) -> None:
    """Remove the System V segment of a postmaster that died without cleaning up.

    A clean exit removes postmaster.pid and the segment; a crash leaves both behind, and
    the (small) segment would stay until the machine restarts.
    """
    lines = postmaster_pid_lines(data_dir)
    ipcrm = shutil.which("ipcrm")
    if len(lines) < 7 or ipcrm is None:
        return
    fields = lines[6].split()
    if len(fields) == 2 and fields[1].isdigit():
        subprocess.run([ipcrm, "-m", fields[1]], capture_output=True, check=False)
