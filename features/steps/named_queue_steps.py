"""Steps about named queues: jobs enqueued into a queue, workers serving some queues (in order
of preference) with per-queue limits."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when
from cli_steps import document
from helpers import make_worker

from cleveragents.domain.jobs import JobStatus
from cleveragents.worker.queues import QueueChoice


@given('a "{kind}" job "{label}" in queue "{queue}"')
@given('a "{kind}" job "{label}" in queue "{queue}" with priority {priority:d}')
def step_enqueue_in_queue(
    context: Any, kind: str, label: str, queue: str, priority: int = 0
) -> None:
    payload = {"name": label} if kind == "gate" else {}
    job = context.queue.enqueue(kind, payload, queue=queue, priority=priority)
    context.ids[label] = job.id


@given('worker "{name}" with {threads:d} threads serving "{queues}"')
@given('worker "{name}" with {threads:d} threads serving "{queues}" with limits "{limits}"')
def step_worker_serving(
    context: Any, name: str, threads: int, queues: str, limits: str = ""
) -> None:
    choice = QueueChoice.parse(queues, [part for part in limits.split() if part])
    worker = make_worker(context, name, max_workers=threads)
    worker.queues = choice
    worker.start(now=context.clock(), heartbeat=False)


@then("the running jobs are {labels}")
def step_running_jobs(context: Any, labels: str) -> None:
    wanted = {label.strip() for label in labels.replace(" and ", ", ").split(", ")}
    running = {
        label
        for label, job_id in context.ids.items()
        if context.store.get(job_id).status == JobStatus.RUNNING
    }
    assert running == wanted, sorted(running)


@when('gate "{gate}" opens and worker "{name}" records it')
def step_open_and_record(context: Any, gate: str, name: str) -> None:
    context.gates[gate].set()
    worker = context.workers[name]
    assert worker.wait_for_outcomes(60.0, 1), "the gated job did not finish"
    context.claimed_count = worker.run_once(context.clock())


@then("the queue check's details have the queues {queues}")
def step_queue_check_queues(context: Any, queues: str) -> None:
    found = next(c for c in document(context)["checks"] if c["name"] == "queue")
    assert found["details"]["queues"] == json.loads(queues), found
    assert "mail 2 queued 0 running" in found["message"], found
