"""Throwaway PostgreSQL clusters for tests.

A :class:`Cluster` runs ``initdb`` into a fresh directory under the system temporary directory,
starts ``postgres`` listening on 127.0.0.1 only (plus a Unix socket inside that directory) and
creates a superuser role ``agents`` that owns a database ``agents``. Authentication is ``trust``
for that role on the loopback address and the private socket; nothing else may connect. Stopping
the cluster shuts the server down by its pid and deletes the directory, so every run starts from
an empty server.

PostgreSQL refuses to run as root. When this module runs as root it starts the server programs
(``initdb`` and ``postgres``) as the unprivileged user ``nobody`` instead and hands the
directory to that user. The client programs (``pg_isready``, ``createdb``) only talk to the
server over TCP, so they run as whoever calls us.

The module uses the standard library, psutil (a dependency of the project: processes are looked
up through it, not by reading /proc) and the PostgreSQL binaries. It also works as a command line
tool::

    python tools/pgcluster.py start --state FILE   # start detached, write FILE, print the URL
    python tools/pgcluster.py stop --state FILE    # stop that cluster, remove its directory, FILE
    python tools/pgcluster.py run -- CMD ...       # run CMD with AGENTS_TEST_POSTGRES_URL set

The server binaries are looked up next to the ``postgres`` found on ``PATH`` (following
symbolic links, so Debian's ``/usr/lib/postgresql/N/bin`` is found from ``/usr/local/bin``);
``AGENTS_PG_BINDIR`` overrides that directory.

The code lives in the package ``_pgcluster`` beside this file (``common``: settings, errors and
process helpers; ``shutdown``: stopping a server; ``cluster``: :class:`Cluster`; ``cli``: the
command line). This module is what callers import, by name with ``tools`` on ``sys.path``
(robot/resources/PostgresLibrary.py) or by path (benchmarks/benchmarks/_pgserver.py): either way
it puts its own directory on ``sys.path`` first, so the package is found.
"""

from __future__ import annotations

import sys
from pathlib import Path

# tools/ is no package. Run as a script, this directory is sys.path[0] already; loaded by path
# (importlib's spec_from_file_location) it may not be on sys.path at all.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from _pgcluster.cli import main  # noqa: E402
from _pgcluster.cluster import Cluster  # noqa: E402
from _pgcluster.common import (  # noqa: E402
    BINDIR_ENV,
    COMMAND_TIMEOUT,
    DATABASE,
    HOST,
    LOG_TAIL_LINES,
    PORT_ATTEMPTS,
    QUIT_TIMEOUT,
    ROLE,
    SERVER_SETTINGS,
    START_TIMEOUT,
    STOP_TIMEOUT,
    TEMP_PREFIX,
    UNPRIVILEGED_USER,
    URL_ENV,
    ClusterError,
    hba_conf,
)

__all__ = [
    "BINDIR_ENV",
    "COMMAND_TIMEOUT",
    "DATABASE",
    "HOST",
    "LOG_TAIL_LINES",
    "PORT_ATTEMPTS",
    "QUIT_TIMEOUT",
    "ROLE",
    "SERVER_SETTINGS",
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "TEMP_PREFIX",
    "UNPRIVILEGED_USER",
    "URL_ENV",
    "Cluster",
    "ClusterError",
    "hba_conf",
    "main",
]

if __name__ == "__main__":
    sys.exit(main())
