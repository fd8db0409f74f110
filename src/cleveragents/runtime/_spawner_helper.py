"""The spawner's helper process: it starts commands for its owner (``spawner.py``).

Run by path as ``python -I -S _spawner_helper.py CONTROL_FD [userns]``, it imports only the
standard library: it starts in milliseconds, and stays small and single-threaded. Coverage does
not measure it (no ``site``, so no ``.pth`` file starts coverage, in a process of its own).

Protocol, on AF_UNIX ``SOCK_SEQPACKET`` sockets, one ``marshal``-encoded record per message:

- the control socket brings one request per command, ``b"I"`` and ``(argv, cwd, env, overlay)``
  (or ``b"M"`` with that in a memfd passed as a third descriptor: a large environment), with the
  command's reply socket and its output as descriptors; ``overlay`` is None or ``(target,
  options, binds)``. End of file (the owner closed it or died) ends the helper; the commands it
  started run on.
- a command's reply socket gets ``("pid", pid)`` once it runs (a command whose overlay could not
  be set up runs too: it says why on its output and ends with :data:`SETUP_FAILED`), then
  ``("exit", code)`` (``Popen.returncode``'s meaning); or only ``("fail", step, errno, text)``
  when it could not start (``step``: ``fork``, ``chdir``, ``exec`` or ``setup``).

A command runs in a session of its own, stdin ``/dev/null``, stdout and stderr on the given
descriptor, in ``cwd``, with no other descriptor (ours are close-on-exec), its program found on
the ``PATH`` of its environment, started by ``posix_spawn`` (a ``vfork``). With an overlay, this
process first enters a new mount namespace where it mounts the overlay, starts the command
there and comes back: as root, or (``userns``, for the overlays of another user) in a user
namespace it entered once at its start. Where it cannot, a forked child sets the overlay up as
``namespaces.Overlay.enter_hook`` does (its failure reported the same way), then execs.
"""

from __future__ import annotations

import array
import contextlib
import errno
import marshal
import os
import selectors
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")
Mounts = tuple[bytes, bytes, list[bytes]]  # an overlay: target, options, read-only binds

SETUP_FAILED = 125  # as namespaces.SETUP_FAILED: the workspace could not be set up
PREFIX = b"agents: workspace: "  # as namespaces.PREFIX
REQUEST_MAX = 64 * 1024  # an inline request is smaller (the owner sends larger ones in a memfd)
TEXT_MAX = 1000
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
OVERLAY = b"overlay"
IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # the owner decides when we end
DEFAULTED = (*IGNORED, signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ)  # reset in a command


class _Request(NamedTuple):
    argv: list[str]
    cwd: str
    env: dict[str, str]
    overlay: Mounts | None
    output: int
    reply: socket.socket


class _Command:
    """A child until it is reaped: its reply socket and, until ``exec``, its error pipe."""

    def __init__(self, pid: int, reply: socket.socket | None, errpipe: int) -> None:
        self.pid, self.reply, self.errpipe = pid, reply, errpipe


def _send(reply: socket.socket, message: tuple[Any, ...]) -> None:
    try:
        reply.send(marshal.dumps(message), socket.MSG_DONTWAIT)
    except OSError:
        pass  # the owner no longer listens (it died, or dropped the command)


def _refuse(reply: socket.socket, step: str, err: int, text: str) -> None:
    _send(reply, ("fail", step, err, text[:TEXT_MAX]))
    reply.close()


class Helper:
    def __init__(self, control: socket.socket, userns: bool) -> None:
        self.control = control
        self.selector = selectors.DefaultSelector()
        self.commands: dict[int, _Command] = {}
        self.libc: Any = _libc() if userns else None
        self.uid, self.gid = os.geteuid(), os.getegid()
        # Not root: a helper for overlays enters a user namespace of its own once, where it may
        # mount (its commands see their own uid, as with enter_hook's namespace of their own).
        flags = CLONE_NEWUSER | CLONE_NEWNS
        self.can_mount = self.uid == 0 or (userns and _unshare(self.libc, flags, self) is None)
        self.maxfd = os.sysconf("SC_OPEN_MAX")
        self.devnull = os.open(os.devnull, os.O_RDWR)
        while self.devnull <= 2:  # fds 0-2 must be open: a received fd must never land there
            self.devnull = os.open(os.devnull, os.O_RDWR)
        self.home = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)  # our mounts
        self.wakeup, wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wakeup_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # wakes the selector
        for signum in IGNORED:
            signal.signal(signum, signal.SIG_IGN)
        self.selector.register(control, selectors.EVENT_READ)
        self.selector.register(self.wakeup, selectors.EVENT_READ)

    def run(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.control:
                    if not self.receive():
                        return
                elif key.fd == self.wakeup:
                    _drain(self.wakeup)
                    self.reap()
                elif key.data.errpipe >= 0:  # not read already by a reap in this round
                    self.started(key.data)

    def receive(self) -> bool:
        """One request; False at end of file."""
        data, fds, flags = _receive(self.control)
        if not data and not fds:
            return False
        if len(fds) < 2:  # not a request of ours: nobody to answer
            for fd in fds:
                os.close(fd)
            return True
        reply = socket.socket(fileno=fds[0])
        try:
            if data[:1] == b"M" and len(fds) == 3:
                data = b"I" + os.pread(fds[2], os.fstat(fds[2]).st_size, 0)  # a memfd: all
            if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or data[:1] != b"I":
                raise ValueError("a request cut short")
            argv, cwd, env, overlay = marshal.loads(data[1:])
            request = _Request(argv, cwd, env, overlay, fds[1], reply)
            if request.overlay is not None and self.libc is None:
                self.libc = _libc()  # only once a workspace is asked for
        except Exception as exc:  # a bad request fails that command, never the helper
            _refuse(reply, "setup", 0, repr(exc))
        else:
            self.spawn(request)
        finally:
            for fd in fds[1:]:
                os.close(fd)
        return True

    def spawn(self, request: _Request) -> None:
        if request.overlay is None:
            self.spawn_direct(request)
        elif self.can_mount and self.enter_here(*request.overlay):
            try:
                self.spawn_direct(request)  # into the overlay's namespace
            finally:
                self.leave()
        else:  # we may not mount, or it fails: a child tries (and reports the failure)
            self.spawn_forked(request)

    def enter_here(self, target: bytes, options: bytes, binds: list[bytes]) -> bool:
        """Into a new mount namespace with the overlay mounted (no fork, no Python in a child:
        the cheapest way); it lives on as long as the command started there does."""
        if self.libc.unshare(CLONE_NEWNS) != 0:
            return False
        if _mount(self.libc, target, options, binds) is None:
            return True
        self.leave()
        return False

    def leave(self) -> None:
        if self.libc.setns(self.home, CLONE_NEWNS) != 0:  # cannot happen; if it did, later
            os._exit(70)  # commands would see this overlay: end, the owner starts another
        os.chdir("/")

    def spawn_direct(self, request: _Request) -> None:
        """``posix_spawn`` (a ``vfork``: no copy of even this small process), from ``cwd``."""
        argv, cwd, env, _, output, reply = request
        actions = [
            (os.POSIX_SPAWN_DUP2, self.devnull, 0),
            (os.POSIX_SPAWN_DUP2, output, 1),
            (os.POSIX_SPAWN_DUP2, output, 2),
        ]  # every other descriptor of ours is close-on-exec

        def start(path: str) -> int:
            return os.posix_spawn(
                path, argv, env, file_actions=actions, setsid=True, setsigdef=DEFAULTED
            )

        step = "chdir"
        try:
            os.chdir(cwd)
            step = "exec"
            pid = _search(argv, env, start)
        except OSError as exc:
            return _refuse(reply, step, exc.errno or 0, str(exc))
        except Exception as exc:  # a NUL or a '=' where none may be
            return _refuse(reply, "setup", 0, repr(exc))
        finally:
            os.chdir("/")  # pin no directory
        self.commands[pid] = _Command(pid, reply, -1)
        _send(reply, ("pid", pid))

    def spawn_forked(self, request: _Request) -> None:
        """``fork``: the child enters the overlay's namespaces before it execs."""
        errpipe, errpipe_w = os.pipe2(os.O_CLOEXEC)
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(errpipe)
            os.close(errpipe_w)
            return _refuse(request.reply, "fork", exc.errno or 0, str(exc))
        if pid == 0:
            try:
                self.child(request, errpipe_w)
            finally:
                os._exit(255)
        os.close(errpipe_w)
        command = _Command(pid, request.reply, errpipe)
        self.commands[pid] = command
        self.selector.register(errpipe, selectors.EVENT_READ, command)

    def started(self, command: _Command) -> None:
        """The command exec'd (end of file on its error pipe) or could not (a message)."""
        data = os.read(command.errpipe, 4096)  # one write of under PIPE_BUF, or end of file
        self.selector.unregister(command.errpipe)
        os.close(command.errpipe)
        command.errpipe = -1
        assert command.reply is not None
        if data:
            _refuse(command.reply, *marshal.loads(data))
            command.reply = None  # its exit status is nobody's business
        else:
            _send(command.reply, ("pid", command.pid))

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            command = self.commands.pop(pid, None)
            if command is None:
                continue
            if command.errpipe >= 0:  # ended before we read its pipe: say it started first
                self.started(command)
            if command.reply is not None:
                _send(command.reply, ("exit", os.waitstatus_to_exitcode(status)))
                command.reply.close()

    # -- in the child, between fork and exec ----------------------------------------------

    def child(self, request: _Request, errpipe: int) -> None:
        argv, cwd, env, overlay, output, _ = request
        assert overlay is not None
        step = "setup"
        try:
            signal.set_wakeup_fd(-1)
            for signum in DEFAULTED:
                signal.signal(signum, signal.SIG_DFL)
            os.setsid()
            os.dup2(self.devnull, 0)
            os.dup2(output, 1)
            os.dup2(output, 2)
            flags = CLONE_NEWNS if self.uid == 0 else CLONE_NEWNS | CLONE_NEWUSER
            failed = _unshare(self.libc, flags, self) or _mount(self.libc, *overlay)
            if failed is not None:
                _fail(*failed)
            step = "chdir"
            os.chdir(cwd)
            step = "setup"
            os.closerange(3, errpipe)
            os.closerange(errpipe + 1, self.maxfd)
            step = "exec"
            _search(argv, env, lambda path: os.execve(path, argv, env))
        except OSError as exc:
            _report(errpipe, step, exc.errno or 0, str(exc))
        except BaseException as exc:
            _report(errpipe, "setup", 0, repr(exc))


def _libc() -> Any:
    import ctypes  # only in a helper that mounts

    return ctypes.CDLL(None, use_errno=True)


def _unshare(libc: Any, flags: int, ids: Helper) -> tuple[bytes, int] | None:
    """New namespaces (``flags``); in a new user namespace, our own ids mapped only. The step
    that failed and its errno, or None."""
    if libc.unshare(flags) != 0:
        return b"cannot create a mount namespace", _errno()
    if flags & CLONE_NEWUSER:
        maps = (
            (b"/proc/self/setgroups", b"deny"),
            (b"/proc/self/uid_map", f"{ids.uid} {ids.uid} 1".encode()),
            (b"/proc/self/gid_map", f"{ids.gid} {ids.gid} 1".encode()),
        )
        for path, text in maps:
            try:
                fd = os.open(path, os.O_WRONLY)
                os.write(fd, text)
                os.close(fd)
            except OSError as exc:
                return b"cannot write " + path, exc.errno or 0
    return None


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def _mount(
    libc: Any, target: bytes, options: bytes, binds: list[bytes]
) -> tuple[bytes, int] | None:
    """In a new mount namespace: mounts private, the overlay over ``target``, ``binds`` read-only
    on top. The step that failed and its errno, or None."""
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return b"cannot make mounts private", _errno()
    if libc.mount(OVERLAY, target, OVERLAY, 0, options) != 0:
        return b"cannot mount the overlay", _errno()
    for bind in binds:
        if libc.mount(bind, bind, None, MS_BIND | MS_REC, None) != 0:
            return b"cannot bind " + bind, _errno()
        if libc.mount(None, bind, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None) != 0:
            return b"cannot make read-only " + bind, _errno()
    return None


def _search(argv: list[str], env: dict[str, str], run: Callable[[str], T]) -> T:
    """``run`` the program ``argv[0]`` found on the ``PATH`` of ``env`` (os.execvpe's search,
    without its import of ``warnings`` at every call). The error is the first that is not "no
    such file", else the last, as ``subprocess`` reports it."""
    program = argv[0]
    if os.sep in program:
        return run(program)
    saved: OSError | None = None
    last: OSError = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
    for directory in env.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(directory, program)
        try:
            os.stat(path)  # a cheap first look: most directories on PATH do not have it
            return run(path)
        except (FileNotFoundError, NotADirectoryError) as exc:
            last = exc
        except OSError as exc:
            last = exc
            saved = saved or exc
    raise saved or last


def _fail(step: bytes, err: int) -> None:
    """A workspace that cannot be set up: one line on the command's output, SETUP_FAILED."""
    os.write(2, PREFIX + step + b": " + os.strerror(err).encode() + b"\n")
    os._exit(SETUP_FAILED)


def _report(errpipe: int, step: str, err: int, text: str) -> None:
    os.write(errpipe, marshal.dumps((step, err, text[:TEXT_MAX])))
    os._exit(255)


def _receive(control: socket.socket) -> tuple[bytes, list[int], int]:
    """``socket.recv_fds``, but the descriptors close-on-exec (3.11's ignores its flags)."""
    fds = array.array("i")
    space = socket.CMSG_SPACE(3 * fds.itemsize)
    data, ancillary, flags, _ = control.recvmsg(REQUEST_MAX, space, socket.MSG_CMSG_CLOEXEC)
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return data, list(fds), flags


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 512):
            pass


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    control.set_inheritable(False)
    Helper(control, userns=sys.argv[2:] == ["userns"]).run()


if __name__ == "__main__":
    main()
