"""Find and end the processes a run started, by the markers in their environment.

Every command agents starts carries markers (``domain/markers.py``): its own run id, and its job,
attempt and worker, or its plan and subplan. A process keeps its environment across ``setsid``,
a double fork and the death of its parent, so the markers find a daemon that left its command's
process group, and the leftovers of a worker killed with ``kill -9`` — never a stored pid that
may have been reused.

On Linux the environments are read straight from ``/proc`` (a scan of a few hundred processes
costs well under a millisecond per hundred); elsewhere psutil reads them. Only this user's
processes can be read; others are never found (and never ours to end).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping

from cleveragents.domain.owners import parse_owner, this_host

END_WAIT_S = 5.0  # how long ending waits for SIGKILLed processes to be gone
WINDOW_MAX_S = 10.0  # a command that ran longer is swept among every process, not by pid order
_GONE_CHECK_S = 0.005
_PROC = "/proc"


def _started_after(pid: int) -> Callable[[int], bool]:
    """Which pids may belong to processes started after ``pid`` was: Linux hands out pids in
    increasing order until they wrap at ``pid_max``, so those are the pids allocated since, up
    to the last one given (``ns_last_pid``), across one wrap. Callers use it only for a short
    interval (a command's run, bounded by ``WINDOW_MAX_S``): pids do not go round twice."""
    try:
        with open(f"{_PROC}/sys/kernel/ns_last_pid", "rb") as handle:
            last = int(handle.read())
    except (OSError, ValueError):  # pragma: no cover - a kernel without it: every pid may be
        return lambda candidate: True
    if last >= pid:
        return lambda candidate: pid < candidate <= last
    return lambda candidate: candidate > pid or candidate <= last  # wrapped once


def _environments(since_pid: int | None = None) -> Iterator[tuple[int, bytes]]:
    """Every readable process but this one (or only those that may have started after
    ``since_pid``), with its environment as ``\\0NAME=VALUE\\0...``."""
    own = os.getpid()
    if not os.path.isdir(f"{_PROC}/self"):  # pragma: no cover - Linux CI; psutil elsewhere
        yield from _psutil_environments(own)
        return
    window = _started_after(since_pid) if since_pid is not None else None
    for name in os.listdir(_PROC):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == own or (window is not None and not window(pid)):
            continue
        try:
            fd = os.open(f"{_PROC}/{name}/environ", os.O_RDONLY)
        except OSError:
            continue  # gone meanwhile, or not ours to read
        try:
            chunks = [b"\0"]
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        except OSError:
            continue
        finally:
            os.close(fd)
        yield pid, b"".join(chunks)


def _psutil_environments(own: int) -> Iterator[tuple[int, bytes]]:  # pragma: no cover - non-Linux
    import psutil

    for proc in psutil.process_iter():
        if proc.pid == own:
            continue
        try:
            pairs = proc.environ().items()
        except (psutil.Error, OSError):
            continue
        yield proc.pid, b"\0" + b"".join(f"{k}={v}\0".encode() for k, v in pairs)


def _needles(markers: Mapping[str, str]) -> list[bytes]:
    return [b"\0" + os.fsencode(f"{name}={value}") + b"\0" for name, value in markers.items()]


def marked(markers: Mapping[str, str], since_pid: int | None = None) -> list[int]:
    """Pids of the processes whose environment holds every one of ``markers`` (only among those
    started after ``since_pid``, when given: what a command that has that pid started)."""
    needles = _needles(markers)
    return [pid for pid, env in _environments(since_pid) if all(n in env for n in needles)]


def _value(env: bytes, name: str) -> str | None:
    needle = b"\0" + name.encode() + b"="
    start = env.find(needle)
    if start < 0:
        return None
    start += len(needle)
    return os.fsdecode(env[start : env.index(b"\0", start)])


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie has ended: only its exit status is left)."""
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False
    except (OSError, IndexError):  # pragma: no cover - non-Linux: ask the kernel instead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _kill(pid: int) -> None:
    try:
        group = os.getpgid(pid)
    except OSError:
        group = None
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass  # gone already
    if group is not None and group != os.getpgid(0) and group > 1:
        try:
            os.killpg(group, signal.SIGKILL)  # and what shares its group, marked or not
        except OSError:
            pass


def end_pids(pids: list[int], wait_s: float = END_WAIT_S) -> int:
    """SIGKILL ``pids`` (and their process groups) and wait up to ``wait_s`` for them to be gone.
    Returns how many there were."""
    for pid in pids:
        _kill(pid)
    deadline = time.monotonic() + wait_s
    left = [pid for pid in pids if _alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(_GONE_CHECK_S)  # SIGKILL is delivered asynchronously; nothing to wait on
        left = [pid for pid in left if _alive(pid)]
    return len(pids)


def end_marked(
    markers: Mapping[str, str], wait_s: float = END_WAIT_S, since_pid: int | None = None
) -> int:
    """End every process carrying all of ``markers`` (see :func:`marked`); returns how many."""
    return end_pids(marked(markers, since_pid), wait_s)


def end_orphans_of_dead_owners(variable: str) -> int:
    """End the processes whose ``variable`` names an owner (``host:pid:ulid``) of this host
    whose process is gone: what a worker killed with ``kill -9`` left running."""
    from cleveragents.runtime.owners import owner_alive

    host = this_host()
    verdicts: dict[str, bool] = {}
    orphans = []
    for pid, env in _environments():
        owner_id = _value(env, variable)
        if owner_id is None:
            continue
        if owner_id not in verdicts:
            owner = parse_owner(owner_id)
            verdicts[owner_id] = (
                owner is not None and owner.host == host and not owner_alive(owner_id)
            )
        if verdicts[owner_id]:
            orphans.append(pid)
    return end_pids(orphans)
