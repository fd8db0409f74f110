"""What the plan step modules share: the scenario's plan, its store and leaves, action
files, and a plan executing in the background."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from cli_steps import newest_plan_id
from helpers import DEADLINE_S, open_db

from cleveragents.plans.executor import PlanExecutor, PlanRunReport
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.plans import PlanStore

MARKER = "AGENTS-FAIL"


def plan_store(context: Any) -> PlanStore:
    """A PlanStore on the scenario's database (one Database object per scenario)."""
    if not hasattr(context, "plan_db"):
        context.plan_db = open_db(context)
    return PlanStore(context.plan_db)


def the_plan_id(context: Any) -> str:
    plan_id = getattr(context, "ids", {}).get("plan") or newest_plan_id(context)
    assert plan_id, "no plan in this scenario"
    return plan_id


def leaves(context: Any) -> list[Any]:
    return plan_store(context).subplans(the_plan_id(context), leaves_only=True)


def write_action(context: Any, name: str, command: list[str], extra: str = "") -> None:
    body = f'[action]\nname = "{Path(name).stem}"\ncommand = {json.dumps(command)}\n{extra}'
    (context.tmp / name).write_text(body, encoding="utf-8")


def start_background_execution(context: Any, **options: Any) -> None:
    """Execute the scenario's plan on a thread; the scenario's clean-up cancels and joins it."""
    executor = PlanExecutor(open_db(context), cancel_poll_s=0.05, **options)
    context.background: dict[str, PlanRunReport] = {}
    plan_id = the_plan_id(context)
    token = CancellationToken()

    def go() -> None:
        context.background["report"] = executor.execute(plan_id, token=token)

    context.background_thread = threading.Thread(target=go, daemon=True)
    context.background_thread.start()

    def stop() -> None:  # whatever happened in the scenario, the run ends with it
        token.cancel(CancelReason.CANCELLED)
        context.background_thread.join(DEADLINE_S)

    context.cleanups.append(stop)
