"""Plan progress for people and scripts: a rich live display on a terminal, plain lines otherwise,
JSON Lines with ``--json``. The same view follows a run in this process (events from its tracker)
and a run elsewhere (`agents plan watch`, events read from ``plan_events``).

Handling an event only sets the leaf's state, so seeing one twice changes nothing. The counts
shown are of this run: the leaves completed before it (a resumed plan, a run watched half-way)
are said once at the start, not counted again as progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from cleveragents.cli.output import json_line, line
from cleveragents.cli.render import console
from cleveragents.domain.plans import EventKind, Plan, PlanEvent, Subplan, SubplanCounts

if TYPE_CHECKING:  # rich is imported where something is drawn
    from rich.console import Group
    from rich.live import Live

RUNNING_SHOWN = 12  # rows of "now running" in the live display


class ProgressMode(StrEnum):
    """How progress is shown."""

    LIVE = "live"
    PLAIN = "plain"
    JSON = "json"


def choose_mode(json_out: bool) -> ProgressMode:
    """JSON when asked, live on a terminal, plain lines otherwise."""
    if json_out:
        return ProgressMode.JSON
    return ProgressMode.LIVE if console().is_terminal else ProgressMode.PLAIN


class PlanProgressView:
    """Follows one plan's leaves and shows where they are."""

    def __init__(self, plan: Plan, leaves: Sequence[Subplan], mode: ProgressMode) -> None:
        self.plan = plan
        self.mode = mode
        self._lock = threading.Lock()
        self._labels = {leaf.id: leaf.label for leaf in leaves}
        self._states = {leaf.id: leaf.state.value for leaf in leaves}
        self._running_since: dict[str, float] = {}
        self._started = time.monotonic()
        done = {leaf_id for leaf_id, s in self._states.items() if s == "completed"}
        self._done_at_start = len(done)
        self._to_run = len(self._states) - len(done)  # the leaves of this run
        self._finished: set[str] = set()  # leaves of this run that have finished (so far)
        self.cost = sum(leaf.cost_usd or 0.0 for leaf in leaves)  # reported so far, in USD
        self._costed = any(leaf.cost_usd is not None for leaf in leaves)
        self.concurrency: int | None = None  # lowered by rate limits, as the events say
        self._live: Live | None = None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[eta]}"),
            console=console(),
        )
        described = f"subplans ({len(done)} done before)" if done else "subplans"
        self._task = self._bar.add_task(described, total=self._to_run, eta="")

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> PlanProgressView:
        if self._done_at_start and self.mode is ProgressMode.PLAIN:
            line(
                f"plan {self.plan.id}: {self._done_at_start} of {len(self._states)} leaves "
                f"completed already; {self._to_run} to run"
            )
        if self.mode is ProgressMode.LIVE:
            from rich.live import Live

            self._live = Live(
                console=console(), refresh_per_second=8, transient=True, get_renderable=self._render
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    # -- events ---------------------------------------------------------------------------
    def handle(self, event: PlanEvent) -> None:
        """Take one event into account and show it."""
        with self._lock:
            if event.kind is EventKind.SUBPLAN and event.subplan_id in self._states:
                self._states[event.subplan_id] = event.state
                if isinstance(event.data.get("concurrency"), int):
                    self.concurrency = event.data["concurrency"]
                spent = (event.data.get("result") or {}).get("cost_usd")
                if isinstance(spent, int | float):
                    self.cost += spent
                    self._costed = True
                if event.state == "running":
                    self._running_since.setdefault(event.subplan_id, time.monotonic())
                else:
                    self._running_since.pop(event.subplan_id, None)
                if event.state in ("completed", "failed", "cancelled"):
                    self._finished.add(event.subplan_id)
                else:  # back to pending or running: a retry, a re-run
                    self._finished.discard(event.subplan_id)
            if self.mode is ProgressMode.JSON:
                json_line(event.as_json())
            elif self.mode is ProgressMode.PLAIN:
                self._plain(event)

    def counts(self) -> SubplanCounts:
        """Leaves by state, as this view has seen them."""
        counts = SubplanCounts()
        with self._lock:
            for state in self._states.values():
                setattr(counts, state, getattr(counts, state) + 1)
        return counts

    def _plain(self, event: PlanEvent) -> None:
        if event.kind is not EventKind.SUBPLAN:
            extra = f" ({event.data['error_message']})" if event.data.get("error_message") else ""
            line(f"plan {event.plan_id} {event.state}{extra}")
            return
        if event.state in ("pending", "running"):
            return  # starting is not news on a log; finishing is
        total = self._to_run
        finished = len(self._finished)
        duration = event.data.get("duration_s")
        took = f" in {duration:.2f}s" if isinstance(duration, int | float) else ""
        why = f": {event.data['error_message']}" if event.state != "completed" else ""
        label = event.data.get("label", self._labels.get(event.subplan_id or "", "?"))
        width = len(str(total))
        spent = (event.data.get("result") or {}).get("cost_usd")
        cost = f" ${spent:.4f} (total ${self.cost:.4f})" if isinstance(spent, int | float) else ""
        line(f"[{finished:>{width}}/{total}] {event.state:<9} {label}{took}{cost}{why}")

    # -- the live display -----------------------------------------------------------------
    def _render(self) -> Group:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        counts = self.counts()
        self._bar.update(self._task, completed=len(self._finished), eta=self._eta(counts))
        tally = Text.from_markup(
            f"[cyan]running {counts.running}[/]  [green]completed {counts.completed}[/]  "
            f"[red]failed {counts.failed}[/]  [yellow]cancelled {counts.cancelled}[/]  "
            f"pending {counts.pending}"
            + (f"  cost ${self.cost:.4f}" if self._costed else "")
            + (
                f"  concurrency {self.concurrency}/{self.plan.profile.parallel}"
                if self.concurrency is not None
                else ""
            )
        )
        table = Table(box=None, show_header=False, padding=(0, 1))
        now = time.monotonic()
        with self._lock:
            running = sorted(self._running_since.items(), key=lambda item: item[1])
        for subplan_id, since in running[:RUNNING_SHOWN]:
            table.add_row(
                "[cyan]running[/]", self._labels.get(subplan_id, "?"), f"{now - since:.1f}s"
            )
        if len(running) > RUNNING_SHOWN:
            table.add_row("", f"... and {len(running) - RUNNING_SHOWN} more", "")
        return Group(self._bar, tally, table)

    def _eta(self, counts: SubplanCounts) -> str:
        done_now = len(self._finished)
        remaining = counts.pending + counts.running
        if done_now <= 0 or remaining == 0:
            return ""
        rate = done_now / max(time.monotonic() - self._started, 1e-6)
        return f"ETA {remaining / rate:.0f}s"


def summary(plan: Plan, counts: SubplanCounts, failures: Sequence[tuple[str, str]]) -> None:
    """The table at the end of a run: leaves by state, then each failure."""
    if console().is_terminal:
        from rich.table import Table

        table = Table(title=f"plan {plan.id}: {plan.phase.value}", title_justify="left")
        names = ("completed", "failed", "cancelled", "pending", "running")
        for name in names:
            table.add_column(name, justify="right")
        table.add_row(*(str(getattr(counts, n)) for n in names))
        console().print(table)
    else:
        line(
            f"plan {plan.id} {plan.phase.value}: completed {counts.completed}, failed "
            f"{counts.failed}, cancelled {counts.cancelled}, pending {counts.pending}"
        )
    for label, message in failures[:20]:
        line(f"  failed {label}: {message}")
    if len(failures) > 20:
        line(f"  ... and {len(failures) - 20} more (agents plan status {plan.id} --json)")
    if plan.error_message and not failures:
        line(f"  {plan.error_message}")
