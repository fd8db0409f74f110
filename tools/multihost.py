"""Simulated hosts on one machine, for multi-host tests: network namespaces on a private bridge.

``up`` creates a bridge namespace (``NAME-db``) holding a Linux bridge with the address
:data:`DB_ADDR`, and N host namespaces (``NAME-h1`` ...), each with one veth (``eth0``,
``SUBNET.(10+i)``) whose peer (``vhI``) is attached to the bridge. A throwaway PostgreSQL server
(``tools/pgcluster.py``) runs inside the bridge namespace and listens on the bridge address
only, accepting the hosts' subnet and nothing else. The addresses (:data:`SUBNET` ``.0/24``)
exist only inside these namespaces: nothing is routed to or from the machine's own network.

A command run on a host (``exec HOST -- CMD``) runs in that host's network namespace and in a
UTS namespace of its own whose hostname is the host's name, so a worker there has that host's
identity. ``kill HOST`` sends SIGKILL to every process in the host's namespace (a host dying);
``cut HOST`` sets its veth down on the bridge side (a partition), ``heal HOST`` up again.
``restart-db`` restarts the server (a fast shutdown ends every session). ``down`` stops the
server, kills what is left in the namespaces and deletes them.

It needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN), iproute2's ``ip``, util-linux's
``unshare`` and the PostgreSQL server programs; :func:`unavailable` says which is missing.
Every command takes ``--state FILE``, the JSON file ``up`` writes::

    python tools/multihost.py up --state F [--hosts 4]   # prints the database URL
    python tools/multihost.py exec --state F h2 -- agents worker run
    python tools/multihost.py kill|cut|heal --state F h2
    python tools/multihost.py restart-db --state F     # a fast restart of the server
    python tools/multihost.py down --state F
    python tools/multihost.py sweep      # what harnesses of processes now gone left behind
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _pgcluster.common import process_alive  # tools/ is on sys.path, as for pgcluster.py

SUBNET = "10.213.0"
DB_ADDR = f"{SUBNET}.1"
HOST_ADDR_BASE = 10  # host i has SUBNET.(10+i)
DB_HOST = "db"  # the bridge namespace's name in commands: where the server runs
PGCLUSTER = Path(__file__).resolve().parent / "pgcluster.py"
KILL_TIMEOUT_S = 30.0
PREFIX = "agmh"


class HarnessError(Exception):
    """Something the harness could not do; the message says what."""


def unavailable() -> str | None:
    """Why the harness cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the multi-host harness needs root (network and UTS namespaces)"
    for program, package in (
        ("ip", "iproute2"),
        ("unshare", "util-linux"),
        ("hostname", "hostname"),
    ):
        if shutil.which(program) is None:
            return f"the multi-host harness needs {program} (Debian package {package})"
    if shutil.which("postgres") is None and not os.environ.get("AGENTS_PG_BINDIR"):
        return "the multi-host harness needs the PostgreSQL server programs (postgres, initdb)"
    probe = f"{PREFIX}probe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except HarnessError as error:
        return f"cannot create a network namespace here: {error}"
    _ip("netns", "del", probe)
    return None


def _ip(*args: str) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HarnessError(f"ip {' '.join(args)}: {result.stderr.strip() or result.returncode}")
    return result.stdout


class Harness:
    """The namespaces and the server one ``up`` made, as its state file describes them."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.name: str = state["name"]
        self.hosts: list[str] = list(state["hosts"])
        self.url: str = state.get("url", "")
        self.pg_state = Path(state["pg_state"])

    @classmethod
    def load(cls, state_file: Path) -> Harness:
        try:
            return cls(json.loads(state_file.read_text()))
        except FileNotFoundError:
            raise HarnessError(f"{state_file} does not exist: run up first") from None

    def state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hosts": self.hosts,
            "url": self.url,
            "pg_state": str(self.pg_state),
            "db_addr": DB_ADDR,
        }

    def namespace(self, host: str) -> str:
        if host != DB_HOST and host not in self.hosts:
            raise HarnessError(f"no host {host!r}: the hosts are {', '.join(self.hosts)}")
        return f"{self.name}-{host}"

    def veth(self, host: str) -> str:
        self.namespace(host)
        if host == DB_HOST:
            raise HarnessError("the bridge namespace has no link of its own to cut")
        return f"v{host}"

    # -- up and down -----------------------------------------------------------------------

    def up(self) -> None:
        db = self.namespace(DB_HOST)
        _ip("netns", "add", db)
        _ip("-n", db, "link", "set", "lo", "up")
        _ip("-n", db, "link", "add", "br0", "type", "bridge")
        _ip("-n", db, "addr", "add", f"{DB_ADDR}/24", "dev", "br0")
        _ip("-n", db, "link", "set", "br0", "up")
        for index, host in enumerate(self.hosts, start=1):
            ns, veth = self.namespace(host), self.veth(host)
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("link", "add", veth, "netns", db, "type", "veth", "peer", "eth0", "netns", ns)
            _ip("-n", db, "link", "set", veth, "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{SUBNET}.{HOST_ADDR_BASE + index}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
        self.url = self._pgcluster(
            "the PostgreSQL server did not start",
            *("start", "--host", DB_ADDR, "--clients", f"{SUBNET}.0/24"),
        )

    def _pgcluster(self, failure: str, command: str, *args: str) -> str:
        """Run ``pgcluster.py COMMAND --state ... ARGS`` inside the bridge namespace (where
        the server listens); its stdout."""
        done = subprocess.run(
            [
                *("ip", "netns", "exec", self.namespace(DB_HOST), sys.executable),
                *(str(PGCLUSTER), command, "--state", str(self.pg_state), *args),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise HarnessError(f"{failure}: {done.stderr.strip()}")
        return done.stdout.strip()

    def down(self) -> None:
        """Stop the server, end every process in the namespaces, delete them. Idempotent."""
        if self.pg_state.exists():
            subprocess.run(
                [sys.executable, str(PGCLUSTER), "stop", "--state", str(self.pg_state)],
                check=False,
            )
        for host in [*self.hosts, DB_HOST]:
            namespace = self.namespace(host)
            if namespace in _ip("netns", "list"):
                self.kill(host)
                _ip("netns", "del", namespace)

    # -- faults ----------------------------------------------------------------------------

    def kill(self, host: str) -> int:
        """SIGKILL every process on ``host`` until none is left; how many were killed."""
        return _kill_all(self.namespace(host))

    def cut(self, host: str) -> None:
        """Partition ``host`` from the database: its link goes down on the bridge side."""
        _ip("-n", self.namespace(DB_HOST), "link", "set", self.veth(host), "down")

    def heal(self, host: str) -> None:
        """Bring ``host``'s link back up."""
        _ip("-n", self.namespace(DB_HOST), "link", "set", self.veth(host), "up")

    def restart_database(self) -> None:
        """Restart the server (a fast shutdown ends every session), on the same address."""
        self._pgcluster("the server did not restart", "restart")

    def exec_argv(self, host: str, command: Sequence[str]) -> list[str]:
        """The argv that runs ``command`` on ``host``, with the host's name as its hostname."""
        if not command:
            raise HarnessError("exec needs a command: multihost.py exec HOST -- CMD ...")
        ns = self.namespace(host)
        set_name = 'hostname "$0" && exec "$@"'
        prefix = ["ip", "netns", "exec", ns, "unshare", "--uts", "--", "sh", "-c", set_name, host]
        return prefix + list(command)


def up(state_file: Path, hosts: int, owner: int | None = None) -> Harness:
    """Create the namespaces and start the server; write ``state_file``. The namespaces' names
    carry ``owner`` (default: this process), the process they belong to: :func:`sweep`
    deletes them once it is gone."""
    if state_file.exists():
        raise HarnessError(f"{state_file} exists: run down first")
    if not 1 <= hosts <= 200:
        raise HarnessError("--hosts must be between 1 and 200")
    reason = unavailable()
    if reason:
        raise HarnessError(reason)
    sweep()
    name = f"{PREFIX}{owner or os.getpid()}-{secrets.token_hex(2)}"
    harness = Harness(
        {
            "name": name,
            "hosts": [f"h{i}" for i in range(1, hosts + 1)],
            "pg_state": str(state_file.with_name(state_file.name + ".pg.json")),
        }
    )
    state_file.write_text(json.dumps(harness.state(), indent=2) + "\n")  # so down can clean up
    try:
        harness.up()
    except BaseException:
        harness.down()
        state_file.unlink(missing_ok=True)
        raise
    state_file.write_text(json.dumps(harness.state(), indent=2) + "\n")
    return harness


def sweep() -> list[str]:
    """Delete the namespaces a harness whose process is gone left behind (a test run killed
    before its ``down``), with what still runs in them; returns their names."""
    swept = []
    for line in _ip("netns", "list").splitlines():
        namespace = line.split()[0] if line.strip() else ""
        owner = namespace[len(PREFIX) :].split("-")[0]
        if not namespace.startswith(PREFIX) or not owner.isdigit() or process_alive(int(owner)):
            continue
        _kill_all(namespace)
        _ip("netns", "del", namespace)
        swept.append(namespace)
    return swept


def _kill_all(namespace: str) -> int:
    """SIGKILL every process in a network namespace until none is left; how many there were."""
    killed: set[int] = set()
    deadline = time.monotonic() + KILL_TIMEOUT_S
    while pids := [int(pid) for pid in _ip("netns", "pids", namespace).split()]:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise HarnessError(f"processes in {namespace} outlived SIGKILL: {pids}")
        time.sleep(0.05)  # zombies leave the namespace once their parents reap them
    return len(killed)


def down(state_file: Path) -> None:
    """Undo ``up``; nothing to do when ``state_file`` does not exist."""
    if not state_file.exists():
        return
    Harness.load(state_file).down()
    state_file.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="multihost.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    subs = {
        name: commands.add_parser(name)
        for name in ("up", "down", "exec", "kill", "cut", "heal", "restart-db", "check", "sweep")
    }
    for name, sub in subs.items():
        sub.add_argument("--state", type=Path, required=name not in ("check", "sweep"))
    subs["up"].add_argument("--hosts", type=int, default=4)
    for name in ("exec", "kill", "cut", "heal"):
        subs[name].add_argument("host")
    subs["exec"].add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            reason = unavailable()
            print(reason or "ok")
            return 1 if reason else 0
        if args.command == "up":  # the namespaces belong to the shell that ran us
            print(up(args.state, args.hosts, owner=os.getppid()).url)
        elif args.command == "sweep":
            print("\n".join(sweep()))
        elif args.command == "down":
            down(args.state)
        else:
            harness = Harness.load(args.state)
            if args.command == "exec":
                command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
                full = harness.exec_argv(args.host, command)
                os.execvp(full[0], full)
            elif args.command == "restart-db":
                harness.restart_database()
            elif args.command == "kill":
                print(harness.kill(args.host))
            elif args.command == "cut":
                harness.cut(args.host)
            else:
                harness.heal(args.host)
    except HarnessError as error:
        print(f"multihost: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
