"""Steps about the processes a job's command started (runtime/processes.py)."""

from __future__ import annotations

import re
from typing import Any

import psutil
from behave import then
from helpers import wait_until


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # ended, not reaped yet
    except psutil.NoSuchProcess:
        return True


@then('the process whose pid job "{label}" printed as "{name}" is gone')
def step_printed_process_gone(context: Any, label: str, name: str) -> None:
    job = context.store.get(context.ids[label])
    found = re.search(rf"{name}=(\d+)", job.result["output_tail"])
    assert found, job.result
    pid = int(found.group(1))
    wait_until(lambda: _gone(pid), f"process {pid} to end")
