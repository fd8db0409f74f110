"""What the side-by-side comparison scripts (compare_huey.py, compare_procrastinate.py) share:
which `agents` is measured, the Markdown table of medians beside a peer's, and the problems met."""

from __future__ import annotations

import os
import statistics
import subprocess
from pathlib import Path


def revision() -> str:
    """Which `agents` is measured: its checkout's commit (``-dirty`` if src/ has uncommitted
    changes), or ``$AGENTS_BENCH_REVISION`` for a snapshot outside git (``PYTHONPATH=snap/src``)."""
    import cleveragents

    root = Path(cleveragents.__file__).resolve().parents[2]
    label = os.environ.get("AGENTS_BENCH_REVISION")
    if label:
        return f"{label} (from {root})"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "alembic"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return str(root)
    return (head or str(root)) + ("-dirty" if dirty else "")


class PeerTable:
    """Rows of figure, ours, the peer's, ratio, target, from the medians of ``values``."""

    def __init__(self, values: dict[str, list[float]]) -> None:
        self.med = {key: statistics.median(found) for key, found in values.items()}
        self.rows: list[tuple[str, ...]] = []

    def rate(self, label: str, ours: str, theirs: str | None, target: str = "") -> None:
        """A rate (per second); the ratio is ours / theirs: above 1 means we are faster."""
        med = self.med
        peer = f"{med[theirs]:,.0f} /s" if theirs else "-"
        ratio = f"{med[ours] / med[theirs]:.2f}x" if theirs else "-"
        self.rows.append((label, f"{med[ours]:,.0f} /s", peer, ratio, target))

    def ms(self, label: str, ours: str, theirs: str, target: str = "") -> None:
        """A latency; the ratio is theirs / ours: above 1 means we pick up faster."""
        med = self.med
        ratio = f"{med[theirs] / med[ours]:.2f}x"
        self.rows.append((label, f"{med[ours]:.2f} ms", f"{med[theirs]:.2f} ms", ratio, target))

    def ours_only(self, label: str, value: str, target: str = "") -> None:
        """A figure the peer has no counterpart for."""
        self.rows.append((label, value, "-", "-", target))


def print_failures(failures: list[str], heading: str) -> None:
    """The problems met during the sitting, if any, under ``N HEADING:``."""
    if failures:
        print(f"\n{len(failures)} {heading}:")
        for failure in failures:
            print(failure)


def markdown(rows: list[tuple[str, ...]], ours: str, peer: str) -> str:
    """The rows as a Markdown table: the figure's name, ours, the peer's, ratio, target."""
    head = ("figure (medians)", ours, peer, f"{ours} vs {peer}", "target")
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|---:|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
