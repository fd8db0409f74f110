"""``redact()`` on 10 MB of hostile input (target: under 1 s each, linear in the size), and the
worst heartbeat gap of a worker whose jobs' output goes through it.

The shapes are those that made the old patterns quadratic (hex, dots, letters, ``a=`` and
``password`` repeated, random bytes decoded), plus log-like text full of real secrets. Each is
built once per process (``_inputs``); a timed call redacts one whole 10 MB text. The figures:
``time_redact`` per shape, ``track_redact_mb_per_s`` for the slowest shape (CPU time, so that a
busy machine skews it less), and ``WorkerHeartbeat.track_worst_heartbeat_gap_ms``.
"""

from __future__ import annotations

import random
import time
from typing import Any, ClassVar

from cleveragents.domain.redaction import redact

from ._heartbeat import worst_heartbeat_gap
from ._support import env_int

SIZE = env_int("AGENTS_BENCH_REDACT_BYTES", 10 * 1024 * 1024)
SHAPES = ["hex", "dots", "letters", "a=", "password", "random_bytes", "log_with_secrets"]

_built: dict[str, str] = {}


def _log_with_secrets(rng: random.Random) -> str:
    lines = [
        "export GITHUB_TOKEN=ghp_{} && make",
        "db_password='{}' host=db",
        "Authorization: Bearer {}",
        "cloning https://deploy:{}@gitlab.example/x.git failed",
        "mysql --password {} -h db",
        "12 files changed, 3 insertions(+), 1 deletion(-) {}",
    ]
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    out: list[str] = []
    total = 0
    while total < SIZE:
        line = rng.choice(lines).format("".join(rng.choices(alphabet, k=36))) + "\n"
        out.append(line)
        total += len(line)
    return "".join(out)[:SIZE]


def build(shape: str, size: int = SIZE) -> str:
    """``size`` characters of one hostile shape (deterministic)."""
    rng = random.Random(13)
    if shape == "hex":
        return rng.randbytes(size // 2 + 1).hex()[:size]
    if shape == "dots":
        return "." * size
    if shape == "letters":
        return "".join(rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", k=size))
    if shape == "a=":
        return ("a=" * (size // 2 + 1))[:size]
    if shape == "password":
        return ("password" * (size // 8 + 1))[:size]
    if shape == "random_bytes":
        return rng.randbytes(size).decode("utf-8", errors="replace")[:size]
    if shape == "log_with_secrets":
        return _log_with_secrets(rng)
    raise ValueError(f"unknown shape {shape!r}")


def _input(shape: str) -> str:
    if shape not in _built:
        _built[shape] = build(shape)
    return _built[shape]


def redact_rate(shapes: list[str] | None = None) -> dict[str, float]:
    """MB/s (CPU time) of ``redact`` on each shape."""
    rates = {}
    for shape in shapes or SHAPES:
        text = _input(shape)
        started = time.process_time()
        redact(text)
        rates[shape] = len(text) / 1e6 / (time.process_time() - started)
    return rates


class Redact:
    """``redact()`` of 10 MB of each hostile shape."""

    params: ClassVar[list[str]] = SHAPES
    param_names: ClassVar[list[str]] = ["shape"]
    number = 1
    repeat = (3, 10, 20.0)
    timeout = 300.0

    def setup(self, shape: str) -> None:
        self.text = _input(shape)

    def time_redact(self, shape: str) -> None:
        redact(self.text)


class RedactRate:
    """The slowest shape's throughput."""

    timeout = 300.0

    def track_redact_mb_per_s(self) -> float:
        """MB of input redacted per CPU second, for the slowest of the shapes."""
        return min(redact_rate().values())

    track_redact_mb_per_s.unit = "MB/s"  # type: ignore[attr-defined]


class WorkerHeartbeat:
    """A worker (heartbeat every 0.2 s) running command jobs that print several MB of hex,
    whose output tails and errors go through ``redact``: the longest time between two of its
    heartbeats. See ``_heartbeat.worst_heartbeat_gap``."""

    timeout = 600.0

    def setup_cache(self) -> dict[str, Any]:
        return worst_heartbeat_gap()

    setup_cache.timeout = 600.0  # type: ignore[attr-defined]

    def track_worst_heartbeat_gap_ms(self, cache: dict[str, Any]) -> float:
        """Worst gap between successive heartbeats, ms (the interval itself is 200 ms)."""
        return float(cache["worst_gap_ms"])

    track_worst_heartbeat_gap_ms.unit = "ms"  # type: ignore[attr-defined]
