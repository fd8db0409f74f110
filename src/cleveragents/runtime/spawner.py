"""Start commands from small helper processes (zygotes) instead of forking this one.

With a ``preexec_fn`` (entering a workspace's overlay: ``runtime/namespaces.py``), CPython forks
the whole process (a big heap, many threads) and runs its after-fork hooks, where it otherwise
uses ``vfork``: milliseconds per command. A :class:`Spawner` starts, on first use, helpers that
import only the standard library (``_spawner_helper.py``, run by path with ``-I -S``) and asks
them, in turn, to start each command. A helper is small and single-threaded: it starts a command
with ``posix_spawn`` (as root with an overlay, from inside a mount namespace it enters for the
moment, the overlay mounted there), or, with an overlay when not root, with a fork of itself
whose child enters a user and a mount namespace and mounts the overlay before it execs, as
``Overlay.enter_hook`` does. Linux only.

Requests go over an AF_UNIX ``SOCK_SEQPACKET`` control socket; each command gets a socket pair
of its own (its reply channel) and its output descriptor, passed with ``SCM_RIGHTS``. The helper
answers on the reply channel when the command runs (its pid) or could not start (an ``OSError``
raised by :meth:`Spawner.spawn`, as ``subprocess.Popen`` raises ``FileNotFoundError``), and
again with its exit status once it has reaped it: :meth:`SpawnedProcess.wait` blocks on that
channel.

Failures:

- the owner dies (even ``kill -9``): the helper reads end of file on its control socket and
  exits; the commands run on in their own sessions (``runtime/sweep.py`` ends them by their
  markers, as for any command of a dead run);
- a helper dies: every ``wait`` still pending on it raises :class:`SpawnerDied` (a
  ``ChildProcessError``: the command's status is unknown, it may still run; so does a ``spawn``
  it had not answered), and the next :meth:`Spawner.spawn` that comes to it starts a new one;
- :meth:`Spawner.close` ends the helpers (the commands they started run on); the spawner
  cannot be used after that.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import marshal
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from cleveragents.runtime.namespaces import Overlay

HELPER = Path(__file__).with_name("_spawner_helper.py")
INLINE_MAX = 32 * 1024  # a larger request (a big environment) goes in a memfd
REPLY_MAX = 4096
DEFAULT_HELPERS = 2  # see Spawner
CLOSE_WAIT_S = 5.0  # how long close() waits for a helper to exit before it kills it


class SpawnerDied(ChildProcessError):
    """The helper died before it reported what became of a command (which may still run)."""

    def __init__(self) -> None:
        super().__init__(errno.ECHILD, "spawner died")


class SpawnedProcess:
    """A command the helper started: what ``runtime/processes.py`` uses of a ``Popen``.

    ``returncode`` is None until the command ended; then its exit code, or minus the signal that
    ended it. ``wait`` and ``poll`` raise :class:`SpawnerDied` when the helper died first.
    """

    def __init__(self, args: list[str], pid: int, channel: socket.socket) -> None:
        self.args = args
        self.pid = pid
        self.returncode: int | None = None
        self._channel: socket.socket | None = channel
        self._lock = threading.Lock()

    def poll(self) -> int | None:
        """The exit code if the command has ended, else None."""
        try:
            return self.wait(timeout=0)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the command to end; ``subprocess.TimeoutExpired`` after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)  # another thread waits
        try:
            return self._receive(timeout, deadline)
        finally:
            self._lock.release()

    def _receive(self, timeout: float | None, deadline: float | None) -> int:
        if self._channel is None:  # the status came already, or the helper died first
            if self.returncode is None:
                raise SpawnerDied()
            return self.returncode
        self._channel.settimeout(None if deadline is None else max(deadline - time.monotonic(), 0))
        try:
            data = self._channel.recv(REPLY_MAX)
        except (TimeoutError, BlockingIOError):
            raise subprocess.TimeoutExpired(self.args, timeout or 0) from None
        self._channel.close()
        self._channel = None
        if not data:
            raise SpawnerDied()
        _, code = marshal.loads(data)
        self.returncode = int(code)
        return self.returncode

    def __del__(self) -> None:
        if self._channel is not None:  # never waited for: nobody will read its status
            self._channel.close()


class _Helper:
    """One helper process and our end of its control socket, started on first use."""

    def __init__(self, userns: bool = False) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.mode = ["userns"] if userns else []  # a helper in a user namespace: for overlays

    def send(self, data: bytes, fds: list[int], closed: Callable[[], bool]) -> None:
        with self.lock:
            if closed():
                raise RuntimeError("spawner closed")
            try:
                socket.send_fds(self.control or self.start(), [data], fds)
            except ConnectionError:  # it died since its last command: a new one
                self.stop(kill=True)
                socket.send_fds(self.start(), [data], fds)

    def start(self) -> socket.socket:
        with contextlib.ExitStack() as stack:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            stack.enter_context(ours)  # closed if the helper cannot start
            with theirs:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", "-S", str(HELPER), str(theirs.fileno()), *self.mode],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,  # stderr stays ours: a crash of it is seen
                    pass_fds=(theirs.fileno(),),
                    cwd="/",  # it pins no directory
                )
            stack.pop_all()
        self.control = ours
        return ours

    def stop(self, *, kill: bool) -> None:
        """Close our end of the control socket (the helper exits at end of file) and reap it."""
        control, process = self.control, self.process
        self.control = self.process = None
        if control is not None:
            control.close()
        if process is None:
            return
        if kill:
            process.kill()
        try:
            process.wait(timeout=CLOSE_WAIT_S)
        except subprocess.TimeoutExpired:  # pragma: no cover - it exits at end of file
            process.kill()
            process.wait()


class _Pool:
    """Helpers taken in turn."""

    def __init__(self, helpers: list[_Helper]) -> None:
        self.helpers = helpers
        self._turn = itertools.count()

    def next(self) -> _Helper:
        return self.helpers[next(self._turn) % len(self.helpers)]


class Spawner:
    """Starts commands through ``helpers`` helper processes, each started on first use, taken in
    turn; thread-safe. Its owner calls :meth:`close` when it is done (or uses it as a context
    manager).

    One helper starts one command at a time, and ``posix_spawn`` waits for the command's
    ``exec``: with commands from several threads, more than one helper keeps them from queueing
    (``DEFAULT_HELPERS``; each is a Python process of about 12 MB, 6 MB of it its own). When not
    root, commands with an overlay go to ``helpers`` more, which live in a user namespace.
    """

    def __init__(self, helpers: int = DEFAULT_HELPERS) -> None:
        if helpers < 1:
            raise ValueError("a spawner needs at least one helper")
        self._plain = _Pool([_Helper() for _ in range(helpers)])
        # Not root: overlays are mounted by helpers that live in a user namespace of their own
        # (commands without one must not run there), started only when an overlay is asked for.
        as_root = os.geteuid() == 0
        self._overlaid = self._plain if as_root else _Pool([_Helper(True) for _ in range(helpers)])
        self._closed = False

    @property
    def helper_pids(self) -> tuple[int, ...]:
        """The pids of the helpers running now (none before the first command, after close)."""
        processes = [helper.process for helper in self._helpers()]
        return tuple(p.pid for p in processes if p is not None and p.poll() is None)

    def spawn(
        self,
        argv: Sequence[str],
        *,
        cwd: str,
        env: Mapping[str, str],
        stdout_fd: int,
        overlay: Overlay | None = None,
    ) -> SpawnedProcess:
        """Start ``argv`` in a session of its own: stdin ``/dev/null``, stdout and stderr on
        ``stdout_fd``, in ``cwd`` (seen through ``overlay`` when given), with exactly ``env``
        (``PATH`` from it finds the program).

        Raises ``OSError`` when it cannot start (``FileNotFoundError`` for a program or ``cwd``
        that does not exist, ``PermissionError``, ...; ``filename`` says which),
        ``subprocess.SubprocessError`` for an environment ``exec`` refuses, :class:`SpawnerDied`
        when the helper died before it answered, ``RuntimeError`` after :meth:`close`. A
        workspace that cannot be set up is not an error here: the command ends with
        ``namespaces.SETUP_FAILED`` and says why on its output, as with ``Overlay.enter_hook``.
        """
        args = list(argv)
        if not args:
            raise ValueError("spawn: empty argv")
        where = os.path.abspath(cwd)  # the helper's own cwd is "/"
        request = marshal.dumps((args, where, dict(env), _overlay(overlay)))
        memfd = None
        if len(request) > INLINE_MAX:
            memfd = os.memfd_create("agents-spawn", os.MFD_CLOEXEC)
            _write_all(memfd, request)
        helper = (self._plain if overlay is None else self._overlaid).next()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            try:
                fds = [theirs.fileno(), stdout_fd] + ([] if memfd is None else [memfd])
                helper.send(b"I" + request if memfd is None else b"M", fds, self._is_closed)
            finally:  # the helper holds its copies now: its death is end of file on ``mine``
                theirs.close()
                if memfd is not None:
                    os.close(memfd)
            reply = mine.recv(REPLY_MAX)
        except BaseException:
            mine.close()
            raise
        if not reply:
            mine.close()
            raise SpawnerDied()
        message = marshal.loads(reply)
        if message[0] == "pid":
            return SpawnedProcess(args, int(message[1]), mine)
        mine.close()
        raise _failure(message, args[0], cwd)

    def close(self) -> None:
        """End the helpers (the commands they started run on). Idempotent."""
        self._closed = True
        for helper in self._helpers():
            with helper.lock:
                helper.stop(kill=False)

    def _helpers(self) -> list[_Helper]:
        return list(dict.fromkeys([*self._plain.helpers, *self._overlaid.helpers]))

    def _is_closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Spawner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _overlay(overlay: Overlay | None) -> tuple[bytes, bytes, list[bytes]] | None:
    """What the helper needs to mount ``overlay`` (``Overlay.enter_hook``'s arguments)."""
    if overlay is None:
        return None
    binds = [os.fsencode(os.path.join(overlay.lower, path)) for path in overlay.readonly]
    return os.fsencode(overlay.lower), overlay.options(), binds


def _failure(message: tuple[object, ...], program: str, cwd: str) -> Exception:
    """The exception for a command that could not start, as ``subprocess`` raises it."""
    _, step, err, text = message
    if not isinstance(err, int) or err == 0:  # not a system call's failure (a bad environment)
        return subprocess.SubprocessError(f"cannot start {program!r}: {text}")
    filename = {"exec": program, "chdir": cwd}.get(str(step))
    return OSError(err, os.strerror(err), filename)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
