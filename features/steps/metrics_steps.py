"""Steps about a worker's Prometheus metrics: served on 127.0.0.1, scraped over HTTP and parsed
with the client library's own parser."""

from __future__ import annotations

import socket
import urllib.request
from typing import Any

from behave import given, then, when
from prometheus_client.parser import text_string_to_metric_families

from cleveragents.worker.metrics import WorkerMetrics


@given('worker "{name}" serves its metrics on a free port')
def step_serve(context: Any, name: str) -> None:
    worker = context.workers[name]
    metrics = WorkerMetrics(worker.db)
    metrics.serve(0)
    context.cleanups.append(metrics.close)
    worker.metrics = metrics
    worker.upkeep.on_recovery = metrics.recovered
    context.metrics = metrics


@when("the metrics are scraped")
def step_scrape(context: Any) -> None:
    url = f"http://127.0.0.1:{context.metrics.port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    context.samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            context.samples[key] = sample.value


def _value(context: Any, name: str, labels: str) -> float:
    pairs = tuple(
        sorted(
            (key.strip(), value.strip().strip('"'))
            for key, _, value in (part.partition("=") for part in labels.split(",") if part)
        )
    )
    found = context.samples.get((name, pairs))
    assert found is not None, sorted(k for k in context.samples if k[0] == name)
    return float(found)


@then('the metric {name} with "{labels}" is {value:g}')
def step_metric(context: Any, name: str, labels: str, value: float) -> None:
    assert _value(context, name, labels) == value, _value(context, name, labels)


@then("the metric {name} is {value:g}")
def step_metric_plain(context: Any, name: str, value: float) -> None:
    assert _value(context, name, "") == value


@given("another program listens on a port")
def step_port_taken(context: Any) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    context.cleanups.append(listener.close)
    context.ids = {**getattr(context, "ids", {}), "port": str(listener.getsockname()[1])}
