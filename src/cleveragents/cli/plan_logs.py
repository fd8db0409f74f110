"""`agents plan logs`: each leaf attempt's output, whole, as the command printed it (redacted)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from cleveragents.cli.output import error, json_line, line
from cleveragents.cli.state import PlanRef, state
from cleveragents.cli.state import subplan_ids as resolve_subplans
from cleveragents.domain.clock import utcnow
from cleveragents.domain.plans import Plan
from cleveragents.errors import InvalidInputError
from cleveragents.plans.logs import LogQuery, follow_logs, log_query, read_logs
from cleveragents.store.logs import LogChunk, LogStore

if TYPE_CHECKING:
    from cleveragents.store.engine import Database

SHOWN_MAX = 64 * 1024  # characters of output `plan run` prints for an action that shows it
SubplansArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Only these leaf subplans (ids).", show_default=False),
]


class LogPrinter:
    """Writes chunks as they come: raw for one leaf, each line prefixed by its leaf's label (and
    attempt, past the first) for several."""

    def __init__(
        self, labels: dict[str, str], prefix: bool, write: Callable[[str], object]
    ) -> None:
        self.labels = labels
        self.prefix = prefix
        self.write = write
        self.current: tuple[str, int] | None = None
        self.line_start = True
        self.printed = 0

    def __call__(self, chunk: LogChunk) -> None:
        key = (chunk.subplan_id, chunk.attempt)
        if key != self.current:
            if not self.line_start:
                self.write("\n")  # a leaf's unfinished line does not run into another's
                self.line_start = True
            if not self.prefix and self.current is not None:
                self.write(f"--- attempt {chunk.attempt} ---\n")
            self.current = key
        self.printed += len(chunk.text)
        if not self.prefix:
            self.write(chunk.text)
            self.line_start = chunk.text.endswith("\n")
            return
        label = self.labels.get(chunk.subplan_id, chunk.subplan_id)
        tag = f"{label} | " if chunk.attempt == 1 else f"{label} (attempt {chunk.attempt}) | "
        for text in chunk.text.splitlines(keepends=True):
            self.write(tag + text if self.line_start else text)
            self.line_start = text.endswith("\n")

    def end(self) -> None:
        """Finish an unfinished last line."""
        if not self.line_start:
            self.write("\n")


def show_output(db: Database, plan: Plan) -> None:
    """After a run of an action with ``output = "show"``: its leaves' output, or, past
    ``SHOWN_MAX`` characters, the command that prints it."""
    query = log_query(db, plan.id)
    if LogStore(db).size(plan.id) > SHOWN_MAX:
        line(f"output: see `agents plan logs {plan.id}`")
        return
    print_logs(db, query)


def print_logs(
    db: Database,
    query: LogQuery,
    *,
    follow: bool = False,
    json_out: bool = False,
    prefix: bool = True,
) -> int:
    """Print the chosen output (following the run with ``follow``; each line prefixed with its
    leaf's label with ``prefix``); characters printed."""
    labels = query.labels
    if json_out:

        def emit(chunk: LogChunk) -> None:
            json_line(
                {
                    "subplan_id": chunk.subplan_id,
                    "label": labels.get(chunk.subplan_id),
                    "attempt": chunk.attempt,
                    "text": chunk.text,
                }
            )
            printed.append(len(chunk.text))

        printed: list[int] = []
        handle: Callable[[LogChunk], None] = emit
    else:
        printer = LogPrinter(labels, prefix, sys.stdout.write)
        handle = printer
        if follow:  # each chunk reaches a pipe as it comes

            def handle(chunk: LogChunk) -> None:
                printer(chunk)
                sys.stdout.flush()

    if follow:
        follow_logs(db, query, handle, utcnow)
    else:
        for chunk in read_logs(db, query):
            handle(chunk)
    if json_out:
        return sum(printed)
    printer.end()
    sys.stdout.flush()
    return printer.printed


def logs(
    ctx: typer.Context,
    plan_id: PlanRef,
    subplan_ids: SubplansArgument = None,
    attempt: Annotated[
        int | None,
        typer.Option("--attempt", help="That attempt of each leaf (default: the latest).", min=1),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="Keep printing what a running plan writes, until it ends."
        ),
    ] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Only the leaves that failed.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="JSON Lines: subplan_id, label, attempt, text.")
    ] = False,
) -> None:
    """Print each leaf's output: the whole of it, as its command printed it (redacted; past
    logs.max_bytes per attempt a marker says how much was cut). Several leaves' lines are
    prefixed with the leaf's label."""
    if follow and failed:
        raise InvalidInputError("--failed shows leaves that have failed; it cannot --follow a run")
    db = state(ctx).db()
    subplan_ids = resolve_subplans(ctx, plan_id, subplan_ids)
    query = log_query(db, plan_id, subplan_ids or (), attempt=attempt, failed=failed)
    one = len(set(subplan_ids or ())) == 1  # one leaf named: its output as it was printed
    printed = print_logs(db, query, follow=follow, json_out=json_out, prefix=not one)
    if printed == 0 and not json_out:
        which = "its failed leaves" if failed else "these leaves" if subplan_ids else "its leaves"
        error(f"plan {plan_id}: no output recorded for {which}")
