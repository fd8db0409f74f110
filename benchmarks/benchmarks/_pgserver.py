"""A throwaway PostgreSQL cluster for the PostgreSQL measurements (``tools/pgcluster.py``).

Needs the PostgreSQL server programs (``postgres``, ``initdb``, ``pg_isready``, ``createdb``: the
Debian package ``postgresql``, or ``AGENTS_PG_BINDIR``) and psycopg 3 (the ``postgres`` extra):
:func:`unavailable` says why not when either is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]
PGCLUSTER = REPO / "tools" / "pgcluster.py"
SERVER_PROGRAMS = ("postgres", "initdb", "pg_isready", "createdb")
# PostgreSQL's own defaults for what pgcluster turns off for tests (all reloadable settings).
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
SHOWN = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "shared_buffers",
    "max_connections",
)


def load_pgcluster() -> ModuleType:
    """``tools/pgcluster.py`` as a module (``tools`` is not a package)."""
    loaded = sys.modules.get("pgcluster")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location("pgcluster", PGCLUSTER)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {PGCLUSTER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["pgcluster"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def unavailable() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    if not PGCLUSTER.exists():
        return f"{PGCLUSTER} is missing"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 is not installed (pip install -e '.[postgres]')"
    bindir = os.environ.get("AGENTS_PG_BINDIR")
    found = shutil.which("postgres")
    candidates = [Path(bindir)] if bindir else []
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if all((directory / name).is_file() for name in SERVER_PROGRAMS):
            return None
    return "PostgreSQL server programs not found (apt-get install postgresql, or AGENTS_PG_BINDIR)"


def _cpu_with_children_s(process: psutil.Process) -> float:
    """utime + stime of a process and of the children it reaped (cutime + cstime)."""
    times = process.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


class PgServer:
    """One throwaway cluster (``tools/pgcluster.py``) and the databases made on it.

    ``settings``: ``defaults`` switches PostgreSQL's durability defaults back on over pgcluster's
    fast test settings (as the peers' procrastinate anchor ran its server); ``pgcluster`` keeps
    those. Default: ``AGENTS_BENCH_PG_SETTINGS``, else ``defaults``.
    """

    def __init__(self, settings: str | None = None) -> None:
        self.settings = settings or os.environ.get("AGENTS_BENCH_PG_SETTINGS", "defaults")
        if self.settings not in ("defaults", "pgcluster"):
            raise ValueError(f"server settings {self.settings!r}: 'defaults' or 'pgcluster'")
        self.cluster: Any = None
        self._databases = 0

    def start(self) -> PgServer:
        """Start the cluster; with ``defaults``, switch durability back on and wait for it."""
        self.cluster = load_pgcluster().Cluster()
        self.cluster.start()
        try:
            if self.settings == "defaults":
                self._durable()
        except BaseException:
            self.stop()
            raise
        return self

    def _durable(self) -> None:
        import psycopg

        with psycopg.connect(self.cluster.dsn, autocommit=True) as conn:
            for name, value in DURABLE.items():
                conn.execute(f"ALTER SYSTEM SET {name} = {value}")
            conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while self.show(list(DURABLE)) != DURABLE:  # the postmaster reloads asynchronously
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not take {DURABLE}: {self.show(list(DURABLE))}")
            time.sleep(0.05)

    def show(self, names: list[str] | tuple[str, ...] = SHOWN) -> dict[str, str]:
        """``SHOW name`` for each name, from a fresh connection."""
        import psycopg

        with psycopg.connect(self.cluster.dsn) as conn:
            values = {}
            for name in names:
                row = conn.execute(f"SHOW {name}").fetchone()
                values[name] = str(row[0]) if row else ""
            return values

    def new_database(self, prefix: str = "bench") -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        self._databases += 1
        url: str = self.cluster.create_database(f"{prefix}_{self._databases}")
        return url

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`new_database` (its connections are ended first)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.cluster.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def server_cpu_s(self) -> float:
        """CPU seconds used by the server so far: the postmaster, the backends and other server
        processes alive now, and those that exited (reaped by the postmaster)."""
        postmaster = psutil.Process(self.cluster.pid)
        total = _cpu_with_children_s(postmaster)
        for child in postmaster.children():
            try:
                total += _cpu_with_children_s(child)
            except psutil.NoSuchProcess:
                continue  # gone meanwhile
        return total

    def stop(self) -> None:
        """Stop the server and remove its directory (idempotent)."""
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
