"""Which queues a worker serves, and how many of its threads each may hold.

A worker serves ``default`` unless told otherwise (as Celery's and RQ's workers do); `agents
worker run --queues a,b` serves those, preferring ``a`` (a pass claims from ``a`` first, then
from ``b`` with the threads left); ``--queues '*'`` serves every queue. `--concurrency-limit
a=2` keeps at most 2 jobs of ``a`` running on this worker at once. Each pass turns this into a
:class:`~cleveragents.domain.jobs.ClaimPlan` for the claim (store/jobs.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cleveragents.domain.jobs import ALL_QUEUES, DEFAULT_QUEUE, ClaimPlan, check_queue_name
from cleveragents.errors import InvalidInputError


@dataclass(frozen=True)
class QueueChoice:
    """The queues of one worker (``names`` None: every queue) and its per-queue limits."""

    names: tuple[str, ...] | None = (DEFAULT_QUEUE,)
    limits: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, queues: str | None, limits: Iterable[str] = ()) -> QueueChoice:
        """From `--queues a,b` (or ``*``) and `--concurrency-limit a=2` options; one clear
        :class:`InvalidInputError` for anything else."""
        names: tuple[str, ...] | None = (DEFAULT_QUEUE,)
        if queues is not None:
            parts = [part.strip() for part in queues.split(",")]
            if parts == [ALL_QUEUES]:
                names = None
            else:
                names = tuple(dict.fromkeys(check_queue_name(part) for part in parts))
        bounds: dict[str, int] = {}
        for text in limits:
            name, sep, number = text.partition("=")
            if not sep or not number.strip().isdigit() or int(number) < 1:
                raise InvalidInputError(
                    f"invalid --concurrency-limit {text!r}: use QUEUE=N with N at least 1"
                )
            bounds[check_queue_name(name.strip())] = int(number)
        unknown = [name for name in bounds if names is not None and name not in names]
        if unknown:
            raise InvalidInputError(
                f"--concurrency-limit names {unknown[0]!r}, which this worker does not serve"
            )
        return cls(names, bounds)

    def describe(self) -> str:
        """As `worker list` shows it: ``default``, ``a,b=2``, ``*,b=2``."""
        shown = [ALL_QUEUES] if self.names is None else list(self.names)
        limited = [f"{name}={limit}" for name, limit in self.limits.items()]
        if self.names is None:
            return ",".join(shown + limited)
        return ",".join(f"{n}={self.limits[n]}" if n in self.limits else n for n in shown)

    def plan(self, free: int, busy: Mapping[str, int]) -> ClaimPlan | None:
        """Where a pass with ``free`` threads claims, ``busy`` the running jobs of each queue;
        None: from any queue, as many as are free."""
        if self.names is None and not self.limits:
            return None

        def quota(name: str) -> int:
            if name not in self.limits:
                return free
            return max(0, min(free, self.limits[name] - busy.get(name, 0)))

        if self.names is None:  # the limited queues first, then any other
            return ClaimPlan(tuple((n, quota(n)) for n in self.limits), rest=free)
        return ClaimPlan(tuple((n, quota(n)) for n in self.names))
