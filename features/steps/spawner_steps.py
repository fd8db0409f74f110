"""Steps about starting commands through a spawner's helper process (runtime/spawner.py)."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
from pathlib import Path
from typing import Any, BinaryIO

import parse
import psutil
from behave import given, register_type, then, when
from helpers import DEADLINE_S, wait_until

import cleveragents
from cleveragents.runtime.namespaces import SETUP_FAILED, Overlay, overlay_problem
from cleveragents.runtime.spawner import SpawnedProcess, Spawner, SpawnerDied


@parse.with_pattern(r'[^"]*')
def _quoted(text: str) -> str:
    return text


register_type(Quoted=_quoted)

ERRORS: dict[str, type[BaseException]] = {
    "FileNotFoundError": FileNotFoundError,
    "PermissionError": PermissionError,
    "SubprocessError": subprocess.SubprocessError,
    "ValueError": ValueError,
    "RuntimeError": RuntimeError,
    "SpawnerDied": SpawnerDied,
}


SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"  # what the scenarios run is there; a directory
# on this process's PATH its user may not enter (under /root) makes a missing program a
# PermissionError in a user namespace, as execvpe has it


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": SYSTEM_PATH, **extra}


def _output(context: Any) -> BinaryIO:
    """A fresh output file for the next command."""
    handle: BinaryIO = tempfile.TemporaryFile(prefix="agents-spawn-")
    context.cleanups.append(handle.close)
    context.spawn_output = handle
    return handle


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _end_later(context: Any, pid: int) -> None:
    """Make sure a command the scenario leaves running is ended after it."""

    def end() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    context.cleanups.append(end)


def _start(
    context: Any,
    argv: list[str],
    *,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    overlay: Overlay | None = None,
) -> SpawnedProcess:
    process = context.spawner.spawn(
        argv,
        cwd=str(cwd or context.tmp),
        env=env or _env(),
        stdout_fd=_output(context).fileno(),
        overlay=overlay,
    )
    context.process = process
    return process


def _run(context: Any, argv: list[str], **kwargs: Any) -> None:
    _start(context, argv, **kwargs).wait(timeout=DEADLINE_S)


def _spawn_error(context: Any, argv: list[str], **kwargs: Any) -> BaseException:
    try:
        process = _start(context, argv, **kwargs)
    except Exception as exc:
        return exc
    process.wait(timeout=DEADLINE_S)
    raise AssertionError(f"{argv} started (exit code {process.returncode})")


def _check_error(error: BaseException, name: str, filename: str | None = None) -> None:
    assert isinstance(error, ERRORS[name]), repr(error)
    if filename is not None:
        assert isinstance(error, OSError) and error.filename == filename, repr(error)


# -- a spawner and its commands ----------------------------------------------------------------


@given("a spawner")
def step_spawner(context: Any) -> None:
    stack = contextlib.ExitStack()  # as an owner would hold it, closed at the end
    context.spawner = stack.enter_context(Spawner())
    context.cleanups.append(stack.close)


@when('the spawner runs "{command:Quoted}"')
def step_runs(context: Any, command: str) -> None:
    _run(context, shlex.split(command))


@when('the spawner starts "{command:Quoted}"')
def step_starts(context: Any, command: str) -> None:
    process = _start(context, shlex.split(command))
    _end_later(context, process.pid)


@when(
    'the spawner runs "{command:Quoted}" in the scenario directory with {name:w}="{value:Quoted}"'
)
def step_runs_with(context: Any, command: str, name: str, value: str) -> None:
    _run(context, shlex.split(command), env=_env(**{name: value}))


@when(
    'the spawner runs "{command:Quoted}" in the scenario directory with {name:w} of {size:d} '
    "characters"
)
def step_runs_with_big(context: Any, command: str, name: str, size: int) -> None:
    _run(context, shlex.split(command), env=_env(**{name: "x" * size}))


@when('the spawner starts "{command:Quoted}" and the caller drops it')
def step_dropped(context: Any, command: str) -> None:
    _start(context, shlex.split(command))
    context.process = None
    gc.collect()


@when("the spawned command is killed with {name:w}")
def step_kill_command(context: Any, name: str) -> None:
    os.kill(context.process.pid, signal.Signals[name])
    context.process.wait(timeout=DEADLINE_S)


@then("the spawned command exited with {code:d}")
def step_exited(context: Any, code: int) -> None:
    assert context.process.wait(timeout=DEADLINE_S) == code, context.process.returncode
    assert context.process.returncode == code


@then("the spawned command did not exit with 0")
def step_not_zero(context: Any) -> None:
    assert context.process.wait(timeout=DEADLINE_S) != 0


@then("the spawned command exited with the workspace setup failure code")
def step_setup_failed(context: Any) -> None:
    assert context.process.wait(timeout=DEADLINE_S) == SETUP_FAILED


def _output_text(context: Any) -> str:
    context.spawn_output.seek(0)
    return context.spawn_output.read().decode()


@then('the spawned command\'s output is "{expected:Quoted}"')
def step_output(context: Any, expected: str) -> None:
    project = str(getattr(context, "project", ""))
    wanted = [
        line.replace("<scenario directory>", str(context.tmp)).replace("<project>", project)
        for line in expected.split("|")
    ]
    assert _output_text(context).splitlines() == wanted, _output_text(context)


@then('the spawned command\'s output mentions "{text:Quoted}"')
def step_output_mentions(context: Any, text: str) -> None:
    assert text in _output_text(context), _output_text(context)


@then("the spawned command leads a session of its own")
def step_session(context: Any) -> None:
    assert os.getsid(context.process.pid) == context.process.pid


@then("the spawned command's stdin is /dev/null and it holds descriptors 0, 1 and 2 only")
def step_descriptors(context: Any) -> None:
    fds = f"/proc/{context.process.pid}/fd"
    assert os.readlink(f"{fds}/0") == os.devnull
    assert sorted(os.listdir(fds)) == ["0", "1", "2"], os.listdir(fds)


@then("waiting {seconds:f} s for the spawned command times out")
def step_wait_times_out(context: Any, seconds: float) -> None:
    try:
        context.process.wait(timeout=seconds)
    except subprocess.TimeoutExpired as exc:
        assert exc.timeout == seconds
    else:
        raise AssertionError("the wait did not time out")


@then("polling the spawned command gives nothing yet")
def step_poll_none(context: Any) -> None:
    assert context.process.poll() is None
    assert context.process.returncode is None


@then("polling the spawned command gives {code:d}")
def step_poll_code(context: Any, code: int) -> None:
    assert context.process.poll() == code


# -- commands that cannot start ----------------------------------------------------------------


@given('an executable file "{name}" that is not executable')
def step_not_executable(context: Any, name: str) -> None:
    path = context.tmp / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o644)


@then('spawning "{program:Quoted}" fails with {error:w} naming "{filename:Quoted}"')
def step_spawn_fails_naming(context: Any, program: str, error: str, filename: str) -> None:
    _check_error(_spawn_error(context, [program]), error, filename)


@then('spawning "{program:Quoted}" fails with {error:w}')
def step_spawn_fails(context: Any, program: str, error: str) -> None:
    _check_error(_spawn_error(context, [program]), error)


@then(
    'spawning "{program:Quoted}" in a directory that does not exist fails with {error:w} naming '
    "the directory"
)
def step_spawn_bad_cwd(context: Any, program: str, error: str) -> None:
    missing = str(context.tmp / "missing")
    _check_error(_spawn_error(context, [program], cwd=missing), error, missing)


@then(
    'spawning "{program:Quoted}" with an environment variable named "{name:Quoted}" fails with '
    "{error:w}"
)
def step_spawn_bad_env(context: Any, program: str, name: str, error: str) -> None:
    _check_error(_spawn_error(context, [program], env=_env(**{name: "x"})), error)


@then("spawning nothing fails with {error:w}")
def step_spawn_nothing(context: Any, error: str) -> None:
    _check_error(_spawn_error(context, []), error)


# -- many threads ------------------------------------------------------------------------------


@when(
    "{threads:d} threads start {count:d} commands through the spawner, command N printing N and "
    "exiting with N % {modulo:d}"
)
def step_many(context: Any, threads: int, count: int, modulo: int) -> None:
    results: dict[int, tuple[int, str]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()
    numbers = iter(range(count))

    def work() -> None:
        try:
            while True:
                with lock:
                    n = next(numbers, None)
                if n is None:
                    return
                with tempfile.TemporaryFile() as out:
                    argv = ["sh", "-c", f"echo {n}; exit {n % modulo}"]
                    process = context.spawner.spawn(
                        argv, cwd=str(context.tmp), env=_env(), stdout_fd=out.fileno()
                    )
                    code = process.wait(timeout=DEADLINE_S)
                    out.seek(0)
                    results[n] = (code, out.read().decode())
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(DEADLINE_S)
    assert not errors, errors
    context.many = (count, modulo, results)


@then("every command exited with its own code and printed its own number")
def step_many_right(context: Any) -> None:
    count, modulo, results = context.many
    assert sorted(results) == list(range(count))
    for n, (code, text) in results.items():
        assert (code, text) == (n % modulo, f"{n}\n"), (n, code, text)


# -- overlays ----------------------------------------------------------------------------------


@given(
    'a project directory with "{name}" holding "{text}" and a .git directory, and an overlay of it'
)
def step_project_overlay(context: Any, name: str, text: str) -> None:
    project = context.tmp / "project"
    (project / ".git").mkdir(parents=True)
    (project / name).write_text(f"{text}\n")
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    problem = overlay_problem(str(project))
    if problem is not None:
        context.scenario.skip(f"no overlay here: {problem}")
        return
    layers = context.tmp / "layers"
    (layers / "upper").mkdir(parents=True)
    (layers / "work").mkdir()
    context.project = os.path.realpath(project)
    context.upper = layers / "upper"
    context.overlay = Overlay(
        context.project, str(layers / "upper"), str(layers / "work"), (".git",)
    )


@given("the overlay's upper directory is gone")
def step_upper_gone(context: Any) -> None:
    context.upper.rmdir()


@when('the spawner runs "{command:Quoted}" in the project through the overlay')
def step_runs_overlay(context: Any, command: str) -> None:
    _run(context, shlex.split(command), cwd=context.project, overlay=context.overlay)


@then('the overlay\'s upper directory holds "{a}" with "{a_text}" and "{b}" with "{b_text}"')
def step_upper_holds(context: Any, a: str, a_text: str, b: str, b_text: str) -> None:
    assert (context.upper / a).read_text() == f"{a_text}\n"
    assert (context.upper / b).read_text() == f"{b_text}\n"


@then('the project still holds "{name}" with "{text}" and no "{other}"')
def step_project_untouched(context: Any, name: str, text: str, other: str) -> None:
    assert Path(context.project, name).read_text() == f"{text}\n"
    assert not Path(context.project, other).exists()
    assert Path(context.project, ".git", "HEAD").read_text() == "ref: refs/heads/main\n"


@then("the spawned command's output is what Overlay.enter_hook writes for the same overlay")
def step_same_as_hook(context: Any) -> None:
    hooked = subprocess.run(
        ["true"],
        preexec_fn=context.overlay.enter_hook(context.project),  # the reference
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    assert hooked.returncode == SETUP_FAILED
    assert _output_text(context) == hooked.stderr.decode(), (_output_text(context), hooked)


@then(
    'spawning "{program:Quoted}" through the overlay fails with {error:w} naming '
    '"{filename:Quoted}"'
)
def step_overlay_fails_naming(context: Any, program: str, error: str, filename: str) -> None:
    failed = _spawn_error(context, [program], cwd=context.project, overlay=context.overlay)
    _check_error(failed, error, filename)


@then(
    'spawning "{program:Quoted}" through the overlay in a directory that does not exist fails '
    "with {error:w} naming the directory"
)
def step_overlay_bad_cwd(context: Any, program: str, error: str) -> None:
    missing = os.path.join(context.project, "missing")
    failed = _spawn_error(context, [program], cwd=missing, overlay=context.overlay)
    _check_error(failed, error, missing)


# -- another user --------------------------------------------------------------------------------

OTHER_USER_SCRIPT = """
import json, os, sys, tempfile
from cleveragents.runtime.namespaces import Overlay
from cleveragents.runtime.spawner import Spawner
base = sys.argv[1]
project, upper, work = (os.path.join(base, name) for name in ("project", "upper", "work"))
for path in (project, upper, work):
    os.mkdir(path)
with open(os.path.join(project, "a.txt"), "w") as handle:
    handle.write("original\\n")
env = {"PATH": "/usr/bin:/bin"}  # none of root's own directories: they are not ours
report = {}
with Spawner(helpers=1) as spawner, tempfile.TemporaryFile() as out:
    overlay = Overlay(project, upper, work)
    argv = ["sh", "-c", "id -u; cat a.txt; echo new > b.txt"]
    process = spawner.spawn(argv, cwd=project, env=env, stdout_fd=out.fileno(), overlay=overlay)
    report["exit"] = process.wait()
    out.seek(0)
    report["output"] = out.read().decode()
    report["upper"] = sorted(os.listdir(upper))
    report["project"] = sorted(os.listdir(project))
    try:
        spawner.spawn(["no-such-program"], cwd=project, env=env, stdout_fd=1, overlay=overlay)
    except OSError as exc:
        report["missing"] = type(exc).__name__
    out.seek(0)
    out.truncate()
    broken = Overlay(project, os.path.join(base, "gone"), work)
    process = spawner.spawn(["true"], cwd=project, env=env, stdout_fd=out.fileno(), overlay=broken)
    report["broken"] = process.wait()
    out.seek(0)
    report["broken_output"] = out.read().decode()
    out.seek(0)
    out.truncate()
    argv = ["sh", "-c", "id -u; cat /proc/self/uid_map"]
    process = spawner.spawn(argv, cwd=project, env=env, stdout_fd=out.fileno())
    report["plain_exit"] = process.wait()
    out.seek(0)
    report["plain_output"] = out.read().decode().split()
    report["helpers"] = len(spawner.helper_pids)
print(json.dumps(report))
"""


@given("the scenario runs as root with setpriv available")
def step_root_setpriv(context: Any) -> None:
    if os.geteuid() != 0:
        context.scenario.skip("not root: every overlay scenario runs the way of another user")
    elif shutil.which("setpriv") is None:
        context.scenario.skip("no setpriv to run as another user")


@when("a spawner owned by user {uid:d} runs a command through an overlay of a project of that user")
def step_other_user(context: Any, uid: int) -> None:
    context.tmp.chmod(0o711)  # theirs below it: they may pass, in their user namespace too
    base = context.tmp / "theirs"
    base.mkdir()
    os.chown(base, uid, uid)
    source = str(Path(cleveragents.__file__).parents[1])
    argv = [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        # to reach this interpreter and the source wherever they are (under /root, say)
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        sys.executable,
        "-c",
        OTHER_USER_SCRIPT,
        str(base),
    ]
    env = _env(PYTHONPATH=source)
    done = subprocess.run(argv, env=env, capture_output=True, timeout=DEADLINE_S, check=False)
    assert done.returncode == 0, done.stderr.decode()
    context.other_user = json.loads(done.stdout)
    context.other_uid = uid


@then("that command ran as uid {uid:d}, saw the project's file and wrote to the upper layer only")
def step_other_user_ran(context: Any, uid: int) -> None:
    report = context.other_user
    assert report["exit"] == 0, report
    assert report["output"] == f"{uid}\noriginal\n", report
    assert report["upper"] == ["b.txt"], report
    assert report["project"] == ["a.txt"], report


@then(
    "that spawner reported a missing program as FileNotFoundError and a missing upper directory "
    "as the workspace setup failure"
)
def step_other_user_failures(context: Any) -> None:
    report = context.other_user
    assert report["missing"] == "FileNotFoundError", report
    assert report["broken"] == SETUP_FAILED, report
    assert report["broken_output"].startswith("agents: workspace: cannot mount"), report


@then("that spawner ran a command without an overlay outside any user namespace")
def step_other_user_plain(context: Any) -> None:
    report = context.other_user
    assert report["plain_exit"] == 0, report
    assert report["plain_output"] == [str(context.other_uid), "0", "0", "4294967295"], report
    assert report["helpers"] == 2, report  # one for overlays, one for the rest


# -- the helper's death, close, and the owner's death ---------------------------------------------


def _signal_helpers(context: Any, signum: signal.Signals) -> None:
    pids = context.spawner.helper_pids
    assert pids
    context.old_helpers = pids
    for pid in pids:
        os.kill(pid, signum)


@when("another thread waits for the spawned command")
def step_other_waits(context: Any) -> None:
    process = context.process
    context.other_outcome = []

    def wait() -> None:
        try:
            context.other_outcome.append(process.wait(timeout=DEADLINE_S))
        except BaseException as exc:
            context.other_outcome.append(exc)

    context.other_thread = threading.Thread(target=wait)
    context.other_thread.start()
    # it holds the process's wait lock once it blocks on the status (private, for this check)
    wait_until(lambda: process._lock.locked(), "the other thread to wait")
    assert process.poll() is None  # the status is the other thread's to receive: not yet


@when("the spawner's helper is killed with SIGKILL")
def step_kill_helpers(context: Any) -> None:
    _signal_helpers(context, signal.SIGKILL)
    pids = context.old_helpers
    wait_until(lambda: all(_gone(pid) for pid in pids), "the helpers to die")


@when("the spawner's helper is stopped")
def step_stop_helpers(context: Any) -> None:
    _signal_helpers(context, signal.SIGSTOP)
    pids = context.old_helpers

    def stopped() -> bool:
        return all(psutil.Process(pid).status() == psutil.STATUS_STOPPED for pid in pids)

    wait_until(stopped, "stopped helpers")


@when('another thread spawns "{command:Quoted}" and the request is queued for the stopped helper')
def step_other_spawns(context: Any, command: str) -> None:
    context.other_outcome = []
    out = _output(context)

    def spawn() -> None:
        try:
            argv = shlex.split(command)
            context.other_outcome.append(
                context.spawner.spawn(
                    argv, cwd=str(context.tmp), env=_env(), stdout_fd=out.fileno()
                )
            )
        except BaseException as exc:
            context.other_outcome.append(exc)

    context.other_thread = threading.Thread(target=spawn)
    context.other_thread.start()
    # private: the bytes of the helpers' control sockets their helper has not read yet
    controls = [helper.control for helper in context.spawner._helpers() if helper.control]

    def queued() -> bool:
        unread = (fcntl.ioctl(c.fileno(), termios.TIOCOUTQ, b"\0\0\0\0") for c in controls)
        return any(struct.unpack("i", value)[0] > 0 for value in unread)

    wait_until(queued, "the request to be queued")


@then("the other thread's {what:w} failed with SpawnerDied")
def step_other_failed(context: Any, what: str) -> None:
    context.other_thread.join(DEADLINE_S)
    assert not context.other_thread.is_alive()
    (outcome,) = context.other_outcome
    assert isinstance(outcome, SpawnerDied), (what, outcome)
    assert outcome.strerror == "spawner died"


@then("waiting for the spawned command fails with SpawnerDied")
@then("waiting for the spawned command again fails with SpawnerDied")
def step_wait_died(context: Any) -> None:
    try:
        context.process.wait(timeout=DEADLINE_S)
    except SpawnerDied:
        pass
    else:
        raise AssertionError(f"wait gave {context.process.returncode}")
    assert context.process.returncode is None


@then("the spawned command is still running")
def step_still_running(context: Any) -> None:
    assert not _gone(context.process.pid)


@then("the spawner has a new helper")
def step_new_helpers(context: Any) -> None:
    pids = context.spawner.helper_pids
    assert pids and not set(pids) & set(context.old_helpers), (pids, context.old_helpers)


@when("the spawner is closed")
def step_close(context: Any) -> None:
    if context.spawner.helper_pids:
        context.old_helpers = context.spawner.helper_pids
    context.spawner.close()
    assert context.spawner.helper_pids == ()


@then("the spawner's old helpers are gone")
def step_old_gone(context: Any) -> None:
    assert all(_gone(pid) for pid in context.old_helpers)


@given("a spawner with one helper")
@given("a spawner with {count:d} helpers")
def step_spawner_helpers(context: Any, count: int = 1) -> None:
    stack = contextlib.ExitStack()
    context.spawner = stack.enter_context(Spawner(helpers=count))
    context.cleanups.append(stack.close)


@when('the spawner starts "{command:Quoted}" {count:d} times')
def step_starts_many(context: Any, command: str, count: int) -> None:
    context.started = [_start(context, shlex.split(command)) for _ in range(count)]
    for process in context.started:
        _end_later(context, process.pid)


@then("each of the {count:d} helpers started {each:d} of them")
def step_each_helper(context: Any, count: int, each: int) -> None:
    parents = [psutil.Process(process.pid).ppid() for process in context.started]
    assert sorted(set(parents)) == sorted(context.spawner.helper_pids), parents
    assert len(set(parents)) == count
    assert all(parents.count(parent) == each for parent in parents), parents


@then("a spawner with {count:d} helpers cannot be made")
def step_no_spawner(context: Any, count: int) -> None:
    try:
        Spawner(helpers=count)
    except ValueError:
        return
    raise AssertionError("made")


OWNER_SCRIPT = """
import os, sys
from cleveragents.runtime.spawner import Spawner
spawner = Spawner()
env = {"PATH": os.environ["PATH"]}
process = spawner.spawn(["sleep", "60"], cwd="/", env=env, stdout_fd=2)
print(*spawner.helper_pids, process.pid, flush=True)
sys.stdin.read()
"""


@when('a process that owns a spawner starts "sleep 60" through it and is killed with SIGKILL')
def step_owner_killed(context: Any) -> None:
    source = str(Path(cleveragents.__file__).parents[1])
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT],
        env={**os.environ, "PYTHONPATH": source},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert owner.stdout is not None and owner.stdin is not None
    line = owner.stdout.readline().decode()  # ends when the owner prints, or dies
    *helpers, command = (int(word) for word in line.split())
    _end_later(context, command)
    for helper in helpers:
        _end_later(context, helper)
    owner.kill()
    owner.wait(DEADLINE_S)
    owner.stdin.close()
    owner.stdout.close()
    context.owner_helpers = helpers
    context.owner_command = command


@then("that spawner's helper exits")
def step_owner_helper_exits(context: Any) -> None:
    pids = context.owner_helpers
    assert len(pids) == 1  # one command: one helper started
    wait_until(lambda: _gone(pids[0]), "the helper of a dead owner to exit")


@then("the command it started is still running")
def step_owner_command_runs(context: Any) -> None:
    assert not _gone(context.owner_command)
