"""An action's verification: a command run in the leaf's workspace after the action.

``[action.verify] command = [...]`` runs where the action ran, seeing what it changed (the same
placeholders, ``{files}`` and ``{file}``). A non-zero exit fails the leaf ("verification
failed"), its changes are not recorded, and its output is kept. With ``baseline = true`` the
command first runs on the untouched project: in the leaf's own workspace before the action when
it names the leaf's files, else once for the whole run (in the first leaf's workspace, before
its action). A leaf whose verification fails where the base failed too is not blamed: it
completes, marked ``failed on the base too``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from cleveragents.domain.plans import FAILED_ON_BASE, VERIFIED, VERIFY_FAILED

FILE_MARKS = ("{files}", "{file}")
RunCommand = Callable[[Sequence[str]], tuple[int | None, str, bool]]  # exit code, output, stopped


class VerifySpec(BaseModel):
    """The ``[action.verify]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: list[str] = Field(min_length=1)
    baseline: bool = False

    @property
    def per_leaf(self) -> bool:
        """Whether the command names the leaf's files (else it is the same for every leaf)."""
        return any(mark in part for part in self.command for mark in FILE_MARKS)


class _Once:
    """A value computed by the first caller; the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._value: bool | None = None

    def get(self, compute: Callable[[], bool | None]) -> bool | None:
        with self._lock:
            if not self._done:
                self._value = compute()
                self._done = self._value is not None  # a stopped run is asked again
            return self._value


class Verification:
    """How one leaf's verification came out."""

    def __init__(self, outcome: str, output: str, exit_code: int | None) -> None:
        self.outcome = outcome
        self.output = output
        self.exit_code = exit_code

    @property
    def blames_leaf(self) -> bool:
        """Whether the leaf fails for it."""
        return self.outcome == VERIFY_FAILED


class Verifier:
    """Runs one action's verification for the leaves of one run."""

    def __init__(self, spec: VerifySpec) -> None:
        self.spec = spec
        self._shared = _Once()

    def baseline(self, run: RunCommand) -> bool | None:
        """Whether the command passes on the untouched project (None: not asked, or stopped)."""
        if not self.spec.baseline:
            return None
        if self.spec.per_leaf:
            return self._passes(run)
        return self._shared.get(lambda: self._passes(run))

    def _passes(self, run: RunCommand) -> bool | None:
        code, _output, stopped = run(self.spec.command)
        return None if stopped else code == 0

    def check(self, run: RunCommand, base_passed: bool | None) -> Verification:
        """Run the command after the action."""
        code, output, _stopped = run(self.spec.command)
        if code == 0:
            return Verification(VERIFIED, output, code)
        if base_passed is False:
            return Verification(FAILED_ON_BASE, output, code)
        return Verification(VERIFY_FAILED, output, code)
