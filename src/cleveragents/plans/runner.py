"""Run one leaf subplan: a built-in action in-process, or the action's command as a child process.

With ``isolation = "sandbox"`` (the default) a leaf runs in a fresh workspace holding the whole
project (an overlay or a copy: ``workspaces.py``), with ``"files"`` in one holding copies of its
own files; when it completes, what it changed there is recorded for review and ``plan apply``,
and the workspace is removed whatever happened. With ``"in-place"`` it runs in the project
directory itself. Commands run in their own process group, with a timeout, the subplan's
files in ``$AGENTS_FILES_FILE`` (one per line, or each ended by a NUL with ``files_separator =
"nul"``) and in the argv where it says ``{files}`` (or once per file where an argument contains
``{file}``), relative to their working directory. Names go to both as the bytes they are on disk,
UTF-8 or not (``os.fsencode``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from cleveragents.domain.changes import CapturedChange
from cleveragents.domain.markers import PLAN_ID, SUBPLAN_ID
from cleveragents.domain.plans import Subplan
from cleveragents.domain.redaction import redact
from cleveragents.errors import AgentsError
from cleveragents.plans.actions import (
    IN_PLACE,
    SANDBOX,
    ActionSpec,
)
from cleveragents.plans.backends import AUTO
from cleveragents.plans.builtin_actions import BUILTIN_ACTIONS, ActionContext
from cleveragents.plans.capture import DEFAULT_MAX_BYTES, AttemptLog, LogPump, Sink
from cleveragents.plans.command_args import expand_argv, files_list
from cleveragents.plans.leaf_result import OUTPUT_KEPT, LeafResult, command_result
from cleveragents.plans.prompts import render
from cleveragents.plans.results import (
    STDOUT_JSON,
    raw_tail,
    read_result_file,
    result_from_output,
)
from cleveragents.plans.scope import check_scope
from cleveragents.plans.scratch import RunScratch
from cleveragents.plans.verify import Verifier
from cleveragents.plans.workspaces import Backend, choose_backend, make_workspace
from cleveragents.runtime.deadlines import Deadlines
from cleveragents.runtime.namespaces import Overlay
from cleveragents.runtime.processes import KILL_GRACE_S, run_command
from cleveragents.runtime.tokens import CancellationToken, CancelReason

TIMEOUT = CancelReason.TIMEOUT
log = logging.getLogger("cleveragents.plans.runner")
Setup = Overlay | None  # what a leaf's commands must enter to see its workspace
RecordChanges = Callable[[str, list[CapturedChange]], None]  # (subplan id, its changes)


class SubplanRunner:
    """Runs leaves of one plan's action against one project."""

    def __init__(
        self,
        action: ActionSpec,
        project_root: Path,
        plan_id: str,
        timeout_s: float,
        kill_grace_s: float = KILL_GRACE_S,
        record_changes: RecordChanges | None = None,
        markers: Mapping[str, str] | None = None,
        backend: str = AUTO,
        log_sink: Sink | None = None,
        log_max_bytes: int = DEFAULT_MAX_BYTES,
        project_name: str = "",
    ) -> None:
        self.action = action
        self.sandboxed = action.isolation != IN_PLACE
        # Built-ins run in this process and read only their own files: copies of those suffice.
        self.whole_project = action.isolation == SANDBOX and action.builtin is None
        self.backend_setting = backend
        self._backend: Backend | None = None
        self._verifier = Verifier(action.verify) if action.verify is not None else None
        self.record_changes = record_changes
        self._attempts = itertools.count(1)
        self.project_root = project_root
        self.project_name = project_name or project_root.name
        self.plan_id = plan_id
        self.timeout_s = timeout_s
        self.kill_grace_s = kill_grace_s
        self._scratch = RunScratch(plan_id)
        self._lock = threading.Lock()
        self._local = threading.local()  # the attempt log of the attempt this thread runs
        self._tries: dict[str, int] = {}  # the attempt numbers given so far, per leaf
        self._base_env = {**os.environ, **(markers or {})}
        self._deadlines = Deadlines()
        self._pump = LogPump(log_sink, log_max_bytes) if log_sink is not None else None

    def run(self, leaf: Subplan, token: CancellationToken) -> LeafResult:
        """One attempt at ``leaf``, its output kept when a log sink is set; never raises for a
        failure of the action itself. Attempts are numbered on from ``leaf.attempts`` (what
        earlier runs made), one per call, as the tracker numbers them."""
        if self._pump is None:
            return self._run(leaf, token)
        with self._lock:
            attempt = self._tries[leaf.id] = self._tries.get(leaf.id, leaf.attempts) + 1
        log = self._local.log = self._pump.open(leaf.id, attempt)
        try:
            return self._run(leaf, token)
        finally:
            self._local.log = None
            self._pump.finish(log)

    def _run(self, leaf: Subplan, token: CancellationToken) -> LeafResult:
        if not self.sandboxed:
            return self._attempt(leaf, token, self.project_root, None)
        try:
            backend = self.backend()
            place = self._scratch.dir() / f"{leaf.id}-{next(self._attempts)}"
            workspace = make_workspace(backend, self.whole_project, self.project_root, place)
        except AgentsError as exc:
            return LeafResult(exit_code=None, error_message=f"sandbox: {exc.message}")
        except OSError as exc:  # TMPDIR full or not writable
            return LeafResult(exit_code=None, error_message=f"sandbox: {exc}")
        try:
            workspace.populate(leaf.files)
            result = self._attempt(leaf, token, workspace.root, workspace.overlay)
            if result.ok:
                found = check_scope(self.action.scope, leaf.files, workspace.capture())
                # A leaf about to run has no changes stored (the executor drops them when the
                # run begins, and only a completed attempt records): nothing to write for none.
                if found and self.record_changes is not None:
                    self.record_changes(leaf.id, found)
            return result
        except AgentsError as exc:  # a sandbox it cannot set up or record fails the leaf
            return LeafResult(exit_code=None, error_message=f"sandbox: {exc.message}")
        except OSError as exc:  # a disk that is full, a directory gone
            return LeafResult(exit_code=None, error_message=f"sandbox: {exc}")
        finally:
            try:
                workspace.remove()
            except OSError as exc:  # what is left goes with the run's scratch directory
                log.warning("plan %s: could not remove a workspace: %s", self.plan_id, exc)

    def backend(self) -> Backend:
        """The whole-project backend, chosen (and said) once per run."""
        with self._lock:
            if self._backend is None:
                if not self.whole_project:
                    self._backend = Backend("files")
                else:
                    self._backend = choose_backend(self.backend_setting, self.project_root)
                    say = log.info if self._backend.fallback_reason is None else log.warning
                    say("plan %s: workspaces: %s", self.plan_id, self._backend.describe())
            return self._backend

    def _attempt(
        self, leaf: Subplan, token: CancellationToken, workspace: Path, setup: Setup
    ) -> LeafResult:
        """The action, with its verification (``verify.py``) around it when it has one."""
        if self._verifier is None:
            return self._run_in(leaf, token, workspace, setup)

        stops: list[LeafResult] = []
        started = time.monotonic()

        def run(command: Sequence[str]) -> tuple[int | None, str, bool]:
            left = self.timeout_s - (time.monotonic() - started)  # one budget for the leaf
            done = self._run_command(leaf, token, workspace, setup, command, left)
            if done.cancelled or done.timed_out:
                stops.append(done)
            return done.exit_code, done.output or (done.error_message or ""), bool(stops)

        base_passed = self._verifier.baseline(run)
        if stops:
            return stops[0]
        result = self._run_in(leaf, token, workspace, setup)
        if not result.ok:
            return result
        checked = self._verifier.check(run, base_passed)
        if stops:  # cancelled or out of time while verifying: that, not a failed check
            return stops[0]
        output = (result.output + checked.output)[-OUTPUT_KEPT:]
        if not checked.blames_leaf:
            return dataclasses.replace(result, output=output, verification=checked.outcome)
        last = checked.output.strip().splitlines()[-1:] or [""]
        return LeafResult(
            exit_code=checked.exit_code,
            output=output,
            error_message=f"verification failed: exit code {checked.exit_code}: {last[0][:200]}",
            verification=checked.outcome,
            duration_s=result.duration_s,
            result=result.result,  # what the action reported (and cost) stands
        )

    def _run_in(
        self, leaf: Subplan, token: CancellationToken, workspace: Path, setup: Setup
    ) -> LeafResult:
        if self.action.builtin is not None:
            return self._run_builtin(leaf, token, workspace)
        return self._run_command(leaf, token, workspace, setup)

    def _run_builtin(self, leaf: Subplan, token: CancellationToken, workspace: Path) -> LeafResult:
        builtin = BUILTIN_ACTIONS[str(self.action.builtin)]
        context = ActionContext(
            plan_id=self.plan_id,
            subplan_id=leaf.id,
            project_root=self.project_root,
            params=self.action.params,
            token=token,
            workspace=workspace,
        )
        started = time.monotonic()
        # A built-in honours timeout_s through its token, as it honours a cancel.
        timer = self._deadlines.call_later(self.timeout_s, lambda: token.cancel(TIMEOUT))
        try:
            outcome = builtin.run(leaf.files, context)
        except Exception as exc:  # a built-in's bug fails its subplan, not the plan run
            return LeafResult(exit_code=None, error_message=redact(f"{type(exc).__name__}: {exc}"))
        finally:
            timer.cancel()
        duration = time.monotonic() - started
        output = redact(outcome.output)
        log: AttemptLog | None = getattr(self._local, "log", None)
        if log is not None:
            log.write(outcome.output)
        if token.reason is CancelReason.TIMEOUT:
            return self._result(outcome.exit_code, output, False, True, duration)
        return self._result(outcome.exit_code, output, token.cancelled, False, duration)

    def _run_command(
        self,
        leaf: Subplan,
        token: CancellationToken,
        workspace: Path,
        setup: Setup,
        command: Sequence[str] | None = None,
        timeout_s: float | None = None,
    ) -> LeafResult:
        # The action's own command succeeds on its success_exit_codes; a verification on 0 only.
        success = self.action.success_exit_codes if command is None else (0,)
        own = command is None  # the action's command, not a verify command: a prompt, a result
        prompt = self.prompt(leaf) if own else None
        command = command or self.action.command
        budget = self.timeout_s if timeout_s is None else max(timeout_s, 0.001)
        assert command is not None
        base = os.path.join(self._scratch.dir(), leaf.id)  # strings: pathlib costs per leaf
        files_file, prompt_file, result_file = (
            f"{base}.{k}" for k in ("files", "prompt", "result")
        )
        try:
            with open(files_file, "wb") as handle:
                handle.write(files_list(leaf.files, self.action.files_separator))
            if prompt is not None:
                with open(prompt_file, "w", encoding="utf-8", errors="surrogateescape") as text:
                    text.write(prompt)
        except AgentsError as exc:
            return LeafResult(exit_code=None, error_message=exc.message)
        try:
            env = {
                **self._base_env,
                PLAN_ID: self.plan_id,  # what a takeover of a dead run ends
                SUBPLAN_ID: leaf.id,
                "AGENTS_PROJECT_ROOT": str(self.project_root),
                "AGENTS_WORKSPACE": str(workspace),  # in-place: the project itself
                "AGENTS_FILES_FILE": str(files_file),
                **({"AGENTS_PROMPT_FILE": str(prompt_file)} if prompt is not None else {}),
                **({"AGENTS_RESULT_FILE": str(result_file)} if own else {}),
                **dict(setup.env if setup is not None else ()),
            }
            outputs: list[str] = []
            duration = 0.0
            exit_code = 0
            log: AttemptLog | None = getattr(self._local, "log", None)
            output = self._scratch.output()  # this thread's: each command of the leaf reuses it
            for argv in expand_argv(command, leaf.files, prompt):
                if log is not None:  # emptied before the log looks at it
                    output.seek(0)
                    output.truncate()
                    log.attach(output)
                try:
                    result = run_command(
                        argv,
                        token=token,
                        cwd=str(workspace),
                        env=env,
                        timeout_s=max(budget - duration, 0.001),
                        kill_grace_s=self.kill_grace_s,
                        inherit_env=False,
                        output=output,
                        spawn=self._scratch.spawn(setup),
                        emptied=log is not None,
                    )
                except OSError as exc:
                    return LeafResult(
                        exit_code=None,
                        error_message=f"cannot run {argv[0]!r}: {exc.strerror or exc}",
                        duration_s=duration,
                    )
                finally:
                    if log is not None:
                        log.detach()
                duration += result.duration_s
                if result.output_tail:
                    outputs.append(result.output_tail)
                exit_code = result.exit_code
                if result.timed_out or result.cancelled or exit_code not in success:
                    stopped = (result.cancelled, result.timed_out)
                    ended = self._result(exit_code, "".join(outputs), *stopped, duration, success)
                    return self._with_result(ended, own, output, result_file)
            ended = self._result(exit_code, "".join(outputs), False, False, duration, success)
            return self._with_result(ended, own, output, result_file)
        finally:  # an attempt's result file goes with it: the next attempt starts without one
            made = [files_file, result_file] if own else [files_file]
            if prompt is not None:
                made.append(prompt_file)
            for path in made:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    def _with_result(
        self, ended: LeafResult, own: bool, output: IO[bytes], path: str
    ) -> LeafResult:
        """``ended`` with what the action's command reported about itself, if it did (what it
        printed is read unredacted from its output file: the result's values are redacted)."""
        if not own:
            return ended
        paths = self.action.result_fields
        printed = self.action.result_from == STDOUT_JSON
        found = result_from_output(raw_tail(output), paths) if printed else None
        found = found or read_result_file(path, paths)
        return ended if found is None else dataclasses.replace(ended, result=found)

    def prompt(self, leaf: Subplan) -> str | None:
        """The action's prompt rendered for ``leaf`` (``prompts.py``), if it has one."""
        if self.action.prompt is None:
            return None
        return render(
            self.action.prompt,
            files=leaf.files,
            label=leaf.label,
            project=self.project_name,
            params=self.action.params,
        )

    def close(self) -> None:
        """Remove the run's scratch directory and output files; stop its deadline thread."""
        self._deadlines.close()
        if self._pump is not None:
            self._pump.close()
        self._scratch.close()

    def _result(
        self,
        exit_code: int,
        output: str,
        cancelled: bool,
        timed_out: bool,
        duration: float,
        success: Sequence[int] | None = None,
    ) -> LeafResult:
        return command_result(
            exit_code,
            output,
            cancelled=cancelled,
            timed_out=timed_out,
            duration=duration,
            success=self.action.success_exit_codes if success is None else success,
            timeout_s=self.timeout_s,
        )
