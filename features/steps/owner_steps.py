"""Steps about owner ids (domain/owners.py) and owner liveness (runtime/owners.py)."""

from __future__ import annotations

import subprocess
import time
from typing import Any
from unittest import mock

from behave import given, then, when
from ulid import ULID

from cleveragents.domain.owners import describe_owner, new_owner, parse_owner, this_host
from cleveragents.runtime.owners import owner_alive


@when('an owner id is made for host "{host}" and pid {pid:d}')
def step_make_owner(context: Any, host: str, pid: int) -> None:
    context.owner = new_owner(host, pid)


@then('the owner id reads as host "{host}" and pid {pid:d}')
def step_owner_reads(context: Any, host: str, pid: int) -> None:
    owner = parse_owner(context.owner)
    assert owner is not None and (owner.host, owner.pid) == (host, pid), owner


@then('another owner id made for host "{host}" and pid {pid:d} differs from it')
def step_owner_differs(context: Any, host: str, pid: int) -> None:
    assert new_owner(host, pid) != context.owner


@then('the owner id is described as "{text}"')
def step_owner_described(context: Any, text: str) -> None:
    assert describe_owner(context.owner) == f"{context.owner} {text}", describe_owner(context.owner)


@then("the owner id is at most {n:d} characters long")
def step_owner_length(context: Any, n: int) -> None:
    assert len(context.owner) <= n, (len(context.owner), context.owner)


@then('judged on host "{host}" the owner is {verdict}')
def step_owner_judged(context: Any, host: str, verdict: str) -> None:
    with mock.patch("socket.gethostname", return_value=host):
        alive = owner_alive(context.owner)
    assert alive == (verdict == "alive"), (context.owner, host, alive)


@then('the owner "{owner_id}" is alive')
def step_owner_alive(context: Any, owner_id: str) -> None:
    assert owner_alive(owner_id)


@given("a process of this host started an hour after an owner id naming its pid was made")
def step_reused_pid(context: Any) -> None:
    proc = subprocess.Popen(["sleep", "300"])
    context.cleanups.append(lambda: (proc.kill(), proc.wait()))
    context.reused_pid = proc.pid
    an_hour_ago = ULID.from_timestamp(time.time() - 3600)
    context.owner = f"{this_host()}:{proc.pid}:{an_hour_ago}"


@then("that owner is gone")
def step_reused_gone(context: Any) -> None:
    assert not owner_alive(context.owner), context.owner


@then("an owner id made now for that pid is alive")
def step_fresh_alive(context: Any) -> None:
    assert owner_alive(new_owner(this_host(), context.reused_pid))
