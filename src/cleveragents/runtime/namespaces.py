"""A private mount namespace in which a command sees a directory through an overlay.

The command's child process, between ``fork`` and ``exec``, enters a new mount namespace (with a
user namespace too when not root: kernels since 5.11 let any user mount an overlay there), makes
every mount in it private, and mounts an overlay over the project's own path: the project as the
read-only lower layer, a private upper directory that receives whatever the command writes. The
command then sees the project at its usual path, its configuration and its other modules
included, and nothing it does reaches the project. ``.git`` is bound read-only on top.

The namespace lives exactly as long as the processes in it: when the command and everything it
started have ended (``runtime/sweep.py`` sees to that), the kernel unmounts it, so even a
``kill -9`` of ``agents`` leaves no mount behind.

A plan run's commands enter an overlay through ``runtime/spawner.py`` (small helper processes,
so the worker never forks for them); :meth:`Overlay.enter_hook` does the same steps as a
``preexec_fn``, for the one-off probe below. It calls nothing but system calls on arguments
built beforehand, and reports a failure on the command's own output (file descriptor 2) before
it ends the child with :data:`SETUP_FAILED`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

SETUP_FAILED = 125  # the child's exit code when the namespace could not be set up
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
OVERLAY = b"overlay"
PREFIX = b"agents: workspace: "


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:  # pragma: no cover - every Linux has a C library to load
        return None


def _escape(path: str) -> str:
    """A path as an overlay option value: ``\\``, ``,`` and ``:`` escaped."""
    return path.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:")


@dataclass(frozen=True)
class Overlay:
    """An overlay of ``lower`` (mounted over ``lower`` itself) writing to ``upper``/``work``."""

    lower: str
    upper: str
    work: str
    readonly: tuple[str, ...] = ()  # paths to bind read-only on top (``.git``), absolute or
    # relative to ``lower``
    env: tuple[tuple[str, str], ...] = ()  # variables a command that enters it is given

    def options(self) -> bytes:
        """The mount options: the three directories, and the features that would make the upper
        directory mean something else pinned off, whatever the kernel's defaults (a renamed
        directory recorded as a redirect, a chmod as a metadata-only copy). An unprivileged
        mount keeps its marks in ``user.`` extended attributes (``userxattr``)."""
        parts = [f"{key}={_escape(value)}" for key, value in self._dirs()]
        parts += ["redirect_dir=nofollow", "metacopy=off", "index=off"]
        if os.geteuid() != 0:
            parts.append("userxattr")
        return os.fsencode(",".join(parts))

    def _dirs(self) -> tuple[tuple[str, str], ...]:
        return (("lowerdir", self.lower), ("upperdir", self.upper), ("workdir", self.work))

    def enter_hook(self, cwd: str) -> Callable[[], None]:
        """The ``preexec_fn`` that sets the overlay up in the child, then enters ``cwd``."""
        libc = _libc()
        uid, gid = os.geteuid(), os.getegid()
        flags = CLONE_NEWNS if uid == 0 else CLONE_NEWNS | CLONE_NEWUSER
        target = os.fsencode(self.lower)
        options = self.options()
        binds = [os.fsencode(os.path.join(self.lower, path)) for path in self.readonly]
        maps = (
            (b"/proc/self/setgroups", b"deny"),
            (b"/proc/self/uid_map", f"{uid} {uid} 1".encode()),
            (b"/proc/self/gid_map", f"{gid} {gid} 1".encode()),
        )
        where = os.fsencode(cwd)

        # Both run in the forked child, which execs (or _exits) before coverage could save what
        # it measured there; features/workspaces.feature and the probe exercise them.
        def fail(step: bytes, err: int) -> None:  # pragma: no cover - runs in the forked child
            message = PREFIX + step + b": " + os.strerror(err).encode() + b"\n"
            os.write(2, message)
            os._exit(SETUP_FAILED)

        def enter() -> None:  # pragma: no cover - runs in the forked child (see above)
            if libc is None:  # pragma: no cover - every Linux has a C library to load
                fail(b"no C library", 0)
                return
            if libc.unshare(flags) != 0:
                fail(b"cannot create a mount namespace", ctypes.get_errno())
            if uid != 0:
                for path, text in maps:  # map our own ids only: the command keeps its uid
                    fd = os.open(path, os.O_WRONLY)
                    os.write(fd, text)
                    os.close(fd)
            if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
                fail(b"cannot make mounts private", ctypes.get_errno())
            if libc.mount(OVERLAY, target, OVERLAY, 0, options) != 0:
                fail(b"cannot mount the overlay", ctypes.get_errno())
            for bind in binds:
                if libc.mount(bind, bind, None, MS_BIND | MS_REC, None) != 0:
                    fail(b"cannot bind " + bind, ctypes.get_errno())
                flags_ro = MS_REMOUNT | MS_BIND | MS_RDONLY
                if libc.mount(None, bind, None, flags_ro, None) != 0:
                    fail(b"cannot make read-only " + bind, ctypes.get_errno())
            os.chdir(where)  # the cwd the child had is the project under the overlay

        return enter


def overlay_problem(lower: str, scratch: str | None = None) -> str | None:
    """Why an overlay of ``lower`` cannot be used here (None when it can): one real attempt,
    a child that mounts one and writes through it."""
    key = (lower, scratch or tempfile.gettempdir(), os.geteuid())
    return _probe(*key)


@cache
def _probe(lower: str, scratch: str, _uid: int) -> str | None:
    if _libc() is None or not os.path.isdir("/proc/self"):  # pragma: no cover - not Linux
        return "not Linux: no mount namespaces"
    with tempfile.TemporaryDirectory(prefix="agents-probe-", dir=scratch) as place:
        upper, work = os.path.join(place, "upper"), os.path.join(place, "work")
        os.mkdir(upper)
        os.mkdir(work)
        overlay = Overlay(lower, upper, work)
        probe = os.path.join(lower, ".agents-overlay-probe")
        try:
            done = subprocess.run(
                ["sh", "-c", 'echo > "$1"', "sh", probe],
                preexec_fn=overlay.enter_hook(lower),  # see the module doc
                capture_output=True,
                check=False,
            )
        except OSError as exc:  # pragma: no cover - sh is everywhere
            return f"cannot run sh: {exc.strerror}"
        if done.returncode != 0:
            text = done.stderr.decode(errors="replace").strip().splitlines()
            return (text[-1] if text else f"exit code {done.returncode}").removeprefix(
                PREFIX.decode()
            )
        if os.path.exists(probe):  # pragma: no cover - the mount did not hide the project
            os.unlink(probe)
            return "the overlay did not keep writes away from the project"
        return None
