"""Capture each attempt's output while it runs: read from the command's output file, redacted,
capped, handed to the plan's journal in chunks.

A command writes to a file (``runtime/processes.py``); the :class:`LogPump` thread reads what
is new in each running attempt's file every ``LOG_FLUSH_S`` (``os.pread``, so the command's own
offset is untouched) and passes complete lines on, which is what `agents plan logs --follow`
shows. When a command ends the rest is read at once, so a leaf that is terminal has all of its
output stored. Past ``max_bytes`` per attempt nothing more is read: the command keeps writing
to its file (the disk, not this process, bounds it) and a marker says how much was not kept.

Secrets are redacted per chunk (``domain/redaction.py``). A chunk ends at a line end, which no
redacted pattern spans, except a PEM private key: text from a ``-----BEGIN`` without its
``-----END`` yet is held back (up to ``HOLD_MAX`` characters) until the key is whole.
"""

from __future__ import annotations

import codecs
import os
import threading
from collections.abc import Callable
from typing import IO

from cleveragents.domain.redaction import redact
from cleveragents.store.logs import LogChunk

LOG_FLUSH_S = 0.5  # how often running attempts' new output is passed on
DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # per attempt
READ_BLOCK = 64 * 1024
CHUNK_TEXT = 64 * 1024  # pending text past this is passed on at its last line end
HOLD_MAX = 1024 * 1024  # the most text held back waiting for a line end or a key's end
_PEM_BEGIN, _PEM_END = "-----BEGIN", "-----END"

Sink = Callable[[LogChunk], None]
_DECODER = codecs.getincrementaldecoder("utf-8")


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:g} MiB" if count % (1024 * 1024) == 0 else f"{count} bytes"


class AttemptLog:
    """The output of one attempt at one leaf, from one or several commands in turn."""

    def __init__(self, subplan_id: str, attempt: int, sink: Sink, max_bytes: int) -> None:
        self.subplan_id = subplan_id
        self.attempt = attempt
        self._sink = sink
        self._max = max_bytes
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._offset = 0
        self.kept = 0  # bytes read and kept
        self.dropped = 0  # bytes written past max_bytes
        self._pending = ""
        self._decoder = _DECODER("replace")

    def attach(self, output: IO[bytes]) -> None:
        """A command starts writing to ``output`` (emptied by the caller first)."""
        with self._lock:
            self._file, self._offset = output, 0

    def poll(self) -> None:
        """Pass on what the running command wrote since the last look (complete lines)."""
        with self._lock:
            if self._file is not None:
                self._read()
                self._flush(final=False)

    def detach(self) -> None:
        """The command ended: everything it wrote is passed on."""
        with self._lock:
            if self._file is not None:
                self._read()
                self._file = None
            self._take(self._decoder.decode(b"", final=True))
            self._flush(final=True)

    def write(self, text: str) -> None:
        """Output produced in this process (a built-in's), capped like a command's."""
        with self._lock:
            data = text.encode("utf-8", "surrogateescape")
            room = max(self._max - self.kept, 0)
            self.kept += min(len(data), room)
            self.dropped += max(len(data) - room, 0)
            self._take(data[:room].decode("utf-8", "replace"))
            self._flush(final=True)

    def close(self) -> None:
        """The attempt is over: the rest (if a command is still attached), then the marker if
        output was cut."""
        if self._file is not None:
            self.detach()
        if self.dropped:
            self._sink(
                LogChunk(
                    self.subplan_id,
                    self.attempt,
                    f"\n[agents: output cut at {_size(self._max)}; "
                    f"{self.dropped} more bytes not kept]\n",
                )
            )

    def _read(self) -> None:
        assert self._file is not None
        fd = self._file.fileno()
        while True:
            room = self._max - self.kept
            if room <= 0:  # count the rest, read none of it
                size = os.fstat(fd).st_size
                self.dropped += max(size - self._offset, 0)
                self._offset = max(size, self._offset)
                return
            data = os.pread(fd, min(READ_BLOCK, room), self._offset)
            if not data:
                return
            self._offset += len(data)
            self.kept += len(data)
            self._take(self._decoder.decode(data))

    def _take(self, text: str) -> None:
        self._pending += text
        if len(self._pending) > CHUNK_TEXT:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        pending = self._pending
        cut = len(pending) if final else pending.rfind("\n") + 1
        if not final:
            begin = pending.rfind(_PEM_BEGIN, 0, cut)
            if begin != -1 and _PEM_END not in pending[begin:]:
                cut = begin  # a private key not whole yet: hold it back
            if cut == 0 and len(pending) > HOLD_MAX:
                cut = len(pending)  # no line end for too long: pass it on as it is
        if cut:
            self._pending = pending[cut:]
            self._sink(LogChunk(self.subplan_id, self.attempt, redact(pending[:cut])))


class LogPump:
    """Opens attempts' logs and, on one thread, passes on their new output periodically."""

    def __init__(
        self, sink: Sink, max_bytes: int = DEFAULT_MAX_BYTES, interval_s: float = LOG_FLUSH_S
    ) -> None:
        self._sink = sink
        self._max = max_bytes
        self._interval = interval_s
        self._lock = threading.Lock()
        self._open: set[AttemptLog] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def open(self, subplan_id: str, attempt: int) -> AttemptLog:
        """A new attempt's log, polled until :meth:`finish`."""
        log = AttemptLog(subplan_id, attempt, self._sink, self._max)
        self._open.add(log)  # one operation on a set: atomic, no lock for the leaves to share
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="agents-logs", daemon=True
                    )
                    self._thread.start()
        return log

    def finish(self, log: AttemptLog) -> None:
        """The attempt is over: its log is closed (all of it passed on)."""
        self._open.discard(log)
        log.close()

    def close(self) -> None:
        """Stop the polling thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            for log in list(self._open):  # a copy made in one step (the set may change after)
                log.poll()
