"""Pickup latency and idle CPU of a real ``agents worker run`` process at default settings.

One worker process per asv run (in ``setup_cache``): after it registered, its CPU time
(utime + stime, read with psutil) is sampled over ``AGENTS_BENCH_IDLE_S`` seconds of idling;
then ``AGENTS_BENCH_PROBES`` probes are sent one at a time, each after a random 0-0.2 s gap, the
way the peers' anchors do it. A probe is a ``diagnostics.probe`` job enqueued with
``JobQueue.enqueue`` from the benchmark process (its own connection); its handler records
``ran_at`` first thing on the pool thread. Latency = ran_at - time just before the enqueue call.
Targets: p50 < 10 ms, p99 < 25 ms, idle CPU < 2 % of a core. See ``_latency.pickup_latency``.
"""

from __future__ import annotations

from typing import Any

from ._latency import pickup_latency


def _measure() -> dict[str, Any]:
    result = pickup_latency()
    return {
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "max_ms": result.max_ms,
        "probes": len(result.latencies_s),
        "enqueue_call_ms": sorted(result.enqueue_s)[len(result.enqueue_s) // 2] * 1000,
        "idle_cpu_percent": result.idle_cpu_percent,
    }


class PickupLatency:
    """An idle worker process at default settings (4 threads, poll_interval 1 s)."""

    def setup_cache(self) -> dict[str, Any]:
        return _measure()

    setup_cache.timeout = 600.0  # type: ignore[attr-defined]

    def track_pickup_p50(self, cache: dict[str, Any]) -> float:
        """Median pickup latency, ms."""
        return float(cache["p50_ms"])

    track_pickup_p50.unit = "ms"  # type: ignore[attr-defined]

    def track_pickup_p99(self, cache: dict[str, Any]) -> float:
        """99th percentile pickup latency (nearest rank), ms."""
        return float(cache["p99_ms"])

    track_pickup_p99.unit = "ms"  # type: ignore[attr-defined]

    def track_pickup_max(self, cache: dict[str, Any]) -> float:
        """Worst pickup latency of the run, ms."""
        return float(cache["max_ms"])

    track_pickup_max.unit = "ms"  # type: ignore[attr-defined]

    def track_probe_enqueue_call(self, cache: dict[str, Any]) -> float:
        """Median duration of the probe's enqueue call itself (part of the latency), ms."""
        return float(cache["enqueue_call_ms"])

    track_probe_enqueue_call.unit = "ms"  # type: ignore[attr-defined]

    def track_idle_cpu(self, cache: dict[str, Any]) -> float:
        """CPU time of the idle worker process, as a percentage of one core."""
        return float(cache["idle_cpu_percent"])

    track_idle_cpu.unit = "% of a core"  # type: ignore[attr-defined]
