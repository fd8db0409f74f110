"""The job-kind registry: each kind is a handler with a versioned pydantic payload model."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from cleveragents.domain.clock import Clock
from cleveragents.domain.jobs import SCHEMA_VERSION_KEY, AsyncJob
from cleveragents.domain.markers import JOB_ATTEMPT, JOB_ID, WORKER_ID
from cleveragents.errors import PayloadError, UnknownJobKindError
from cleveragents.runtime.tokens import CancellationToken
from cleveragents.store.engine import Database

if TYPE_CHECKING:
    from cleveragents.diagnostics.results import JobKindFacts


class JobFailed(Exception):  # an outcome signal, not an error family
    """Raised by a handler whose work ran and failed; ``result`` is still recorded."""

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload."""

    job: AsyncJob
    token: CancellationToken
    worker_id: str
    clock: Clock
    db: Database | None = None  # the worker's database, for kinds that work on stored state

    @property
    def markers(self) -> dict[str, str]:
        """The environment markers of every process this run starts: a recovery on this host
        ends them by job and attempt, a worker that starts ends a dead worker's."""
        return {
            JOB_ID: self.job.id,
            JOB_ATTEMPT: str(self.job.attempts),
            WORKER_ID: self.worker_id,
        }


log = logging.getLogger("cleveragents.worker")

Handler = Callable[[Any, JobContext], Any]


Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    """A named kind of job: its payload model (at one schema version), its handler, and the
    upgrades that bring a payload of an older version to the next one (``upgrades[1]`` turns a
    version-1 payload into version 2), applied in turn when a job is read."""

    name: str
    payload_model: type[BaseModel]
    handler: Handler
    description: str
    schema_version: int = 1
    upgrades: Mapping[int, Upgrade] = field(default_factory=dict)

    @property
    def oldest_version(self) -> int:
        """The oldest payload version this kind can still run (through its upgrades)."""
        version = self.schema_version
        while version - 1 in self.upgrades:
            version -= 1
        return version

    def parse(self, payload: Any) -> BaseModel:
        """Validate a payload, upgraded from an older schema version first when the kind knows
        how; raise :class:`PayloadError` saying what is wrong (nothing has run then)."""
        if not isinstance(payload, dict):
            raise PayloadError(f"payload for job kind {self.name!r} must be a JSON object")
        body = dict(payload)
        version = body.pop(SCHEMA_VERSION_KEY, self.schema_version)
        if (
            isinstance(version, bool)
            or not isinstance(version, int)
            or not self.oldest_version <= version <= self.schema_version
        ):
            supported = f"{self.oldest_version} to {self.schema_version}"
            if self.oldest_version == self.schema_version:
                supported = str(self.schema_version)
            raise PayloadError(
                f"payload schema_version {version!r} is not supported by job kind "
                f"{self.name!r} (supported: {supported})"
            )
        while version < self.schema_version:
            try:
                body = self.upgrades[version](dict(body))
            except Exception as exc:
                raise PayloadError(
                    f"upgrading a payload of job kind {self.name!r} from schema_version "
                    f"{version} failed: {type(exc).__name__}: {exc}"
                ) from None
            version += 1
        try:
            return self.payload_model.model_validate(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or "payload"
            raise PayloadError(
                f"invalid payload for job kind {self.name!r}: {where}: {error['msg']}"
            ) from None

    def normalize(self, payload: Any) -> dict[str, Any]:
        """The payload as stored: validated, with defaults filled in and its schema version."""
        model = self.parse(payload)
        return {SCHEMA_VERSION_KEY: self.schema_version, **model.model_dump(mode="json")}


ENTRY_POINT_GROUP = "cleveragents.job_kinds"  # where installed packages register their kinds


class KindRegistry:
    """Job kinds by name: the built-in ones, and (loaded the first time a name is not among
    them, or when every name is asked for) those installed packages register under the entry
    point group ``cleveragents.job_kinds``. An entry point names a :class:`JobKind` or an
    iterable of them; one that fails to load is kept in :attr:`broken` (diagnostics reports
    it), and every other kind still runs."""

    def __init__(self, plugins: bool = True) -> None:
        self._kinds: dict[str, JobKind] = {}
        self._plugins_loaded = not plugins
        self.broken: dict[str, str] = {}  # entry point -> why it did not load
        self.plugin_kinds: list[str] = []

    def register(self, kind: JobKind) -> None:
        """Add a kind; a name can be registered once."""
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind

    def load_plugins(self) -> None:
        """Register the kinds of the ``cleveragents.job_kinds`` entry points (once)."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from importlib.metadata import entry_points

        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = point.load()
                kinds = [loaded] if isinstance(loaded, JobKind) else list(loaded)
                names: set[str] = set()
                for kind in kinds:
                    if not isinstance(kind, JobKind):
                        raise TypeError(f"{kind!r} is not a JobKind (use cleveragents.job_kind)")
                    if kind.name in self._kinds or kind.name in names:
                        raise ValueError(f"job kind {kind.name!r} is already registered")
                    names.add(kind.name)
            except Exception as exc:
                self.broken[point.name] = f"{point.value}: {type(exc).__name__}: {exc}"
                log.warning("job kinds of %r not loaded: %s", point.name, self.broken[point.name])
                continue
            for kind in kinds:
                self.register(kind)
                self.plugin_kinds.append(kind.name)

    def facts(self) -> JobKindFacts:
        """What diagnostics reports about the kinds (their ``job_kinds`` check)."""
        from cleveragents.diagnostics.results import JobKindFacts

        return JobKindFacts(self.names(), list(self.plugin_kinds), dict(self.broken))

    def names(self) -> list[str]:
        """Every kind's name, installed ones included, sorted."""
        self.load_plugins()
        return sorted(self._kinds)

    def get(self, name: str) -> JobKind:
        """The kind called ``name``; :class:`UnknownJobKindError` names the known ones."""
        if name not in self._kinds:
            self.load_plugins()
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownJobKindError(
                f"unknown job kind {name!r}; known kinds: {', '.join(sorted(self._kinds))}"
            ) from None
