"""Steps about job kinds from installed packages and the Python API (cleveragents.enqueue,
enqueue_many, wait), run against the scenario's database."""

from __future__ import annotations

import json
from typing import Any

from behave import then, when


@when("I enqueue {count:d} \"{kind}\" jobs from Python with payload '{payload}'")
def step_api_enqueue(context: Any, count: int, kind: str, payload: str) -> None:
    import cleveragents

    body = json.loads(payload)
    if count == 1:
        context.api_ids = [cleveragents.enqueue(kind, body, database_url=context.db_url)]
    else:
        context.api_ids = cleveragents.enqueue_many(
            kind, [body] * count, database_url=context.db_url, queue="default"
        )
    context.ids = {**getattr(context, "ids", {}), "API": context.api_ids[0]}


@then('waiting from Python gives each of them {status} with result "{field}" equal to "{value}"')
def step_api_wait(context: Any, status: str, field: str, value: str) -> None:
    import cleveragents

    for job_id in context.api_ids:
        job = cleveragents.wait(job_id, timeout=60, database_url=context.db_url)
        assert job.status.value == status, job
        assert job.result[field] == value, job.result


@when("I enqueue from Python with an unknown option")
def step_api_bad(context: Any) -> None:
    import cleveragents
    from cleveragents.errors import AgentsError

    try:
        cleveragents.enqueue("noop", {}, database_url=context.db_url, priority=-1)
    except AgentsError as exc:
        context.error = exc
    else:
        raise AssertionError("a negative priority was accepted")


@then('the Python error says "{text}"')
def step_api_error(context: Any, text: str) -> None:
    assert text in str(context.error), context.error
