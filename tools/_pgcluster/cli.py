"""The command line of ``tools/pgcluster.py``: ``start``, ``stop`` and ``run``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from _pgcluster.cluster import Cluster
from _pgcluster.common import HOST, URL_ENV, ClusterError


def _write_state(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` as JSON, all at once."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(path)


def _start(state_file: Path, cluster: Cluster) -> int:
    """Start a cluster that outlives this process and describe it in ``state_file``."""
    if state_file.exists():
        raise ClusterError(f"{state_file} exists: stop that cluster first")
    cluster.start()
    try:
        _write_state(state_file, cluster.state())
    except BaseException:
        cluster.stop()
        raise
    print(cluster.url)
    return 0


def _restart(state_file: Path) -> int:
    """Restart the server ``state_file`` describes; write its new pid there."""
    cluster = Cluster.from_state(json.loads(state_file.read_text()))
    cluster.restart()
    _write_state(state_file, cluster.state())
    return 0


def _stop(state_file: Path) -> int:
    """Stop the cluster ``state_file`` describes and remove the file."""
    try:
        state = json.loads(state_file.read_text())
    except FileNotFoundError:
        print(f"{state_file} does not exist: nothing to stop", file=sys.stderr)
        return 0
    Cluster.from_state(state).stop()
    state_file.unlink(missing_ok=True)
    return 0


@contextlib.contextmanager
def _forwarding_signals(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Pass SIGTERM and SIGHUP on to ``process`` and ignore SIGINT while it runs.

    A Ctrl-C in the terminal reaches the command directly; we wait for it to finish and then
    stop the cluster.
    """

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(command: list[str], cluster: Cluster) -> int:
    """Run ``command`` against a fresh cluster; return its exit code (128 + N for signal N)."""
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise ClusterError("run needs a command: pgcluster.py run -- CMD ...")
    with cluster:
        env = dict(os.environ, **{URL_ENV: cluster.url})
        try:
            process = subprocess.Popen(command, env=env)
        except OSError as error:
            raise ClusterError(f"cannot run {command[0]}: {error}") from None
        with _forwarding_signals(process):
            code = process.wait()
    return code if code >= 0 else 128 - code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line tool; return its exit code."""
    parser = argparse.ArgumentParser(
        prog="pgcluster.py", description="Throwaway PostgreSQL clusters for tests."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start a cluster in the background")
    stop = commands.add_parser("stop", help="stop a cluster started with start")
    restart = commands.add_parser("restart", help="restart it: a fast shutdown, then start")
    run = commands.add_parser("run", help=f"run a command with {URL_ENV} set, then stop")
    for sub in (start, stop, restart):
        sub.add_argument("--state", required=True, type=Path, help="JSON file describing it")
    for sub in (start, run):
        sub.add_argument("--base-dir", help="where to create the cluster's temporary directory")
        sub.add_argument("--port", type=int, help="TCP port (default: a free one)")
        sub.add_argument("--host", default=HOST, help="the one address to listen on")
        sub.add_argument("--clients", help="the network (CIDR) that may connect (default: host)")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    try:
        if args.command == "stop":
            return _stop(args.state)
        if args.command == "restart":
            return _restart(args.state)
        cluster = Cluster(args.base_dir, args.port, host=args.host, clients=args.clients)
        if args.command == "start":
            return _start(args.state, cluster)
        return _run(args.cmd, cluster)
    except ClusterError as error:
        print(f"pgcluster: {error}", file=sys.stderr)
        return 1
