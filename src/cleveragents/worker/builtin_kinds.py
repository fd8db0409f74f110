"""The job kinds that ship with agents: command, sleep, noop and diagnostics.probe."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cleveragents.domain.durations import DAY_S
from cleveragents.domain.redaction import redact
from cleveragents.runtime.processes import run_command
from cleveragents.runtime.tokens import JobCancelled
from cleveragents.settings import LoadedSettings
from cleveragents.worker.kinds import JobContext, JobFailed, JobKind, KindRegistry


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandPayload(_Payload):
    """Run ``argv`` (never a shell string) in ``cwd`` with extra ``env``, at most ``timeout_s``."""

    argv: list[str] = Field(min_length=1)
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    timeout_s: float | None = Field(None, gt=0)

    @field_validator("argv", "env")
    @classmethod
    def _no_secrets(cls, value: Any) -> Any:
        # Payloads are stored in the database, where secrets never go. A secret a command needs
        # belongs in the worker's environment, which every command inherits.
        items = [f"{k}={v}" for k, v in value.items()] if isinstance(value, dict) else value
        text = " ".join(items)
        if redact(text) != text:
            raise ValueError(
                "looks like it contains a secret; secrets are never stored: set it in the "
                "worker's environment instead (commands inherit it)"
            )
        return value


def run_command_job(payload: CommandPayload, ctx: JobContext) -> dict[str, Any]:
    """Run the command; a non-zero exit fails the job, with the result still recorded."""
    env = {**payload.env, **ctx.markers}
    try:
        outcome = run_command(
            payload.argv, token=ctx.token, cwd=payload.cwd, env=env, timeout_s=payload.timeout_s
        )
    except OSError as exc:
        raise JobFailed(f"command could not be started: {exc.strerror or exc}") from None
    result = {
        "exit_code": outcome.exit_code,
        "duration_s": outcome.duration_s,
        "output_tail": outcome.output_tail,
    }
    if outcome.cancelled:
        raise JobCancelled(str(ctx.token.reason))
    if outcome.timed_out:
        raise JobFailed(f"command timed out after {payload.timeout_s:g} s", result)
    if outcome.exit_code != 0:
        raise JobFailed(f"command exited with code {outcome.exit_code}", result)
    return result


class SleepPayload(_Payload):
    """Sleep ``seconds``, waking early when cancelled."""

    seconds: float = Field(ge=0, le=7 * DAY_S)


def run_sleep(payload: SleepPayload, ctx: JobContext) -> dict[str, Any]:
    """Wait on the token, so a cancel ends the sleep at once."""
    if ctx.token.wait(payload.seconds):
        raise JobCancelled(str(ctx.token.reason))
    return {"slept_s": payload.seconds}


class EmptyPayload(_Payload):
    """No fields."""


def run_noop(payload: EmptyPayload, ctx: JobContext) -> None:
    """Do nothing (for benchmarks and smoke tests)."""


def run_probe(payload: EmptyPayload, ctx: JobContext) -> dict[str, Any]:
    """Record when and where the probe ran."""
    return {"ran_at": ctx.clock().isoformat(), "worker_id": ctx.worker_id}


BUILTIN_KINDS = (
    JobKind("command", CommandPayload, run_command_job, "Run an argv list as a subprocess."),
    JobKind("sleep", SleepPayload, run_sleep, "Sleep for some seconds (cancellable)."),
    JobKind("noop", EmptyPayload, run_noop, "Do nothing (benchmarks, smoke tests)."),
    JobKind("diagnostics.probe", EmptyPayload, run_probe, "Record when a worker ran it."),
)


def default_registry(
    plan_lock_ttl_s: float | None = None, settings: LoadedSettings | None = None
) -> KindRegistry:
    """A registry holding the built-in kinds (plan kinds with that lock TTL, or the default;
    reports judged by ``settings``, or the worker's own)."""
    # plans and diagnostics import more; only when a registry is built
    from cleveragents.worker.plan_kinds import plan_kinds
    from cleveragents.worker.report_kinds import report_kinds

    registry = KindRegistry()
    ttls: dict[str, Any] = {}
    if plan_lock_ttl_s is not None:
        ttls["plan_lock_ttl_s"] = plan_lock_ttl_s
    if settings is not None:
        ttls["project_lock_ttl_s"] = settings.settings.locks.project_ttl
        ttls["sandbox_backend"] = settings.settings.sandbox.backend
        ttls["log_max_bytes"] = settings.settings.logs.max_bytes
    plan = plan_kinds(**ttls)
    for kind in (*BUILTIN_KINDS, *plan, *report_kinds(settings)):
        registry.register(kind)
    return registry
