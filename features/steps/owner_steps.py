"""Steps about owner ids (domain/owners.py) and owner liveness (runtime/owners.py)."""

from __future__ import annotations

from typing import Any
from unittest import mock

from behave import then, when

from cleveragents.domain.owners import describe_owner, new_owner, parse_owner
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
