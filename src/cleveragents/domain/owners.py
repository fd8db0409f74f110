"""Owner ids: who holds a job, a lock or a plan run. One format for workers and plan runs.

An owner id is ``host:pid:ULID``: the host (its name, or for a name longer than 28 characters a
prefix and a hash of the whole name, so that an id fits the 64-character ``worker_id`` columns and
two hosts whose names share a long prefix never pass for one), the process id, and a fresh ULID,
unique per process *and per start* (a restarted worker that got its dead predecessor's pid still
has an id of its own). A colon separates the parts because a host name cannot hold one, so
parsing is unambiguous.

Whether the process an owner id names is still running is a question for the machine, not the
domain: see :mod:`cleveragents.runtime.owners`.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass

from ulid import ULID

from cleveragents.domain.ids import new_id

HOST_CHARS = 28  # 28 + ":" + pid (<= 7 digits) + ":" + 26 = 63 <= the 64-character columns


@dataclass(frozen=True)
class Owner:
    """The parts of an owner id."""

    host: str
    pid: int
    nonce: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.nonce}"

    @property
    def minted_at(self) -> float | None:
        """When the id was made (Unix seconds, from its ULID), or None if the nonce is no ULID:
        a process with this pid that started later is another process (the pid was reused)."""
        try:
            return ULID.from_str(self.nonce).timestamp
        except ValueError:
            return None


def host_token(hostname: str) -> str:
    """A host as owner ids name it: its name when it fits in ``HOST_CHARS``, else the name's
    first characters, ``~`` and 8 hex digits of the SHA-256 of the whole name."""
    if len(hostname) <= HOST_CHARS:
        return hostname
    digest = hashlib.sha256(hostname.encode()).hexdigest()[:8]
    return f"{hostname[: HOST_CHARS - 9]}~{digest}"


def this_host() -> str:
    """This machine, as owner ids name it."""
    return host_token(socket.gethostname())


def new_owner(host: str | None = None, pid: int | None = None) -> str:
    """A fresh owner id for this process (or for ``host`` and ``pid``, in tests)."""
    token = this_host() if host is None else host_token(host)
    return str(Owner(token, os.getpid() if pid is None else pid, new_id()))


def parse_owner(owner_id: str) -> Owner | None:
    """The host, pid and nonce of an owner id, or None for an id of another form (an id a
    person chose, such as ``locks release --owner``)."""
    host, sep, rest = owner_id.partition(":")
    pid_text, sep2, nonce = rest.partition(":")
    if not (host and sep and sep2 and nonce and pid_text.isdigit()):
        return None
    return Owner(host, int(pid_text), nonce)


def describe_owner(owner_id: str) -> str:
    """``owner-id (host H, pid N)``, or the bare id when it names neither."""
    owner = parse_owner(owner_id)
    return f"{owner_id} (host {owner.host}, pid {owner.pid})" if owner else owner_id
