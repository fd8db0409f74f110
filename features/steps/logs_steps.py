"""Steps for leaves' logs: actions that print, `plan logs` output, following it elsewhere."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from behave import given, then, when
from cli_steps import fill
from helpers import DEADLINE_S
from plan_helpers import write_action

TWO_LEAVES = "[action.decompose]\nmax_files_per_subplan = 2\nmin_files_per_subplan = 1\n"
LEAF = 'leaf=$(basename "$(dirname "$1")")'  # the leaf's directory: its label


def _numbered(files: str) -> str:
    return "".join(f"line {n} {files}\n" for n in range(1, 301))


@given(
    'an action file "{name}" whose command prints 300 numbered lines naming its files, '
    "in two leaves"
)
def step_numbered_action(context: Any, name: str) -> None:
    script = 'for n in $(seq 1 300); do echo "line $n $*"; done'
    write_action(context, name, ["sh", "-c", script, "sh", "{files}"], TWO_LEAVES)


@then('stdout is exactly the 300 numbered lines naming "{files}"')
def step_exactly_numbered(context: Any, files: str) -> None:
    assert context.result.stdout == _numbered(files), context.result.stdout[:500]


@then('every line of stdout starts with "{first}" or "{second}" and there are {n:d}')
def step_prefixed_two(context: Any, first: str, second: str, n: int) -> None:
    lines = context.result.stdout.splitlines()
    assert len(lines) == n and all(x.startswith((first, second)) for x in lines), lines[:5]
    for prefix, files in ((first, "a/1.txt a/2.txt"), (second, "b/1.txt b/2.txt")):
        mine = "".join(x.removeprefix(prefix) + "\n" for x in lines if x.startswith(prefix))
        assert mine == _numbered(files), mine[:300]


@then('every line of stdout starts with "{prefix}" and there are {n:d}')
def step_prefixed_one(context: Any, prefix: str, n: int) -> None:
    lines = context.result.stdout.splitlines()
    assert len(lines) == n and all(x.startswith(prefix) for x in lines), lines[:5]


@then("stdout is JSON Lines whose texts joined per leaf are the 300 numbered lines of each")
def step_json_lines(context: Any) -> None:
    texts: dict[str, str] = {}
    for row in context.result.stdout.splitlines():
        chunk = json.loads(row)
        assert chunk["attempt"] == 1, chunk
        texts[chunk["label"]] = texts.get(chunk["label"], "") + chunk["text"]
    assert texts == {"a": _numbered("a/1.txt a/2.txt"), "b": _numbered("b/1.txt b/2.txt")}


@given('an action file "{name}" whose command prints {size:d} bytes in lines of 100')
def step_flood_action(context: Any, name: str, size: int) -> None:
    code = (
        "import sys\nline = b'x' * 99 + b'\\n'\n"
        f"for _ in range({size} // 100): sys.stdout.buffer.write(line)\n"
    )
    write_action(context, name, [sys.executable, "-c", code], TWO_LEAVES)


def _run_measured(context: Any, command: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run `agents ...` as its own process (through a Python that reports its peak RSS)."""
    env = {**context.env, **getattr(context, "extra_env", {})}
    probe = (
        "import resource, runpy, sys\n"
        "sys.argv = ['agents', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('cleveragents', run_name='__main__')\n"
        "finally:\n"
        "    sys.stderr.write(f'MAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
    )
    args = [sys.executable, "-c", probe, *fill(context, command).split()]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    rss = int(result.stderr.rsplit("MAXRSS ", 1)[1].split()[0])
    return result, rss


class _Result:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.exit_code = done.returncode
        self.stdout = done.stdout
        self.stderr = done.stderr


@when("I run `{command}` measuring its memory")
def step_run_measured(context: Any, command: str) -> None:
    quiet = command.replace("flood.toml", "quiet.toml")
    write_action(context, "quiet.toml", ["true"], TWO_LEAVES)
    _, context.quiet_rss = _run_measured(context, quiet)
    done, context.flood_rss = _run_measured(context, command)  # the newest plan: [plan]
    context.result = _Result(done)


@then('stdout holds {kept:d} bytes of the command\'s output, then "{marker}"')
def step_capped(context: Any, kept: int, marker: str) -> None:
    out = context.result.stdout
    body, _, rest = out.partition("\n[agents: ")
    assert len(body) == kept and set(body) <= {"x", "\n"}, (len(body), out[-300:])
    assert ("[agents: " + rest).strip() == marker, rest


@then("the run's peak memory was within {mb:d} MB of a run printing nothing")
def step_flat_memory(context: Any, mb: int) -> None:
    grown = (context.flood_rss - context.quiet_rss) / 1024
    assert grown < mb, f"{context.flood_rss} KiB vs {context.quiet_rss} KiB"


@given(
    'an action file "{name}" whose command prints a password, a token and a private key, '
    "pausing inside the key"
)
def step_leak_action(context: Any, name: str) -> None:
    script = (
        "echo password=hunter2; echo token: ghp_abcdefghijklmnopqrstuvwxyz0123456789; "
        "echo '-----BEGIN PRIVATE KEY-----'; echo MIIEvQIBADANBgkqhkiG9w0BAQEFAASC; "
        "sleep 1.2; echo MIIEvQIBADANBgkqhkiG9w0BAQEFAASC; echo '-----END PRIVATE KEY-----'"
    )
    write_action(context, name, ["sh", "-c", script])


@given('an action file "{name}" whose command prints its attempt and fails the first time')
def step_flaky_logged(context: Any, name: str) -> None:
    script = (
        f'{LEAF}; mark="{context.tmp}/seen-$leaf"; '
        'if [ -e "$mark" ]; then echo "attempt 2 of $leaf"; exit 0; fi; '
        'touch "$mark"; echo "attempt 1 of $leaf"; echo failing; exit 1'
    )
    write_action(
        context, name, ["sh", "-c", script, "sh", "{files}"], "backoff_s = 0\n" + TWO_LEAVES
    )


@then('stdout is "{text}"')
def step_stdout_is(context: Any, text: str) -> None:
    assert context.result.stdout == text.replace("\\n", "\n"), context.result.stdout


@given('an action file "{name}" whose command prints 30 lines and fails in leaf "{bad}"')
def step_half_action(context: Any, name: str, bad: str) -> None:
    script = (
        f'{LEAF}; for n in $(seq 1 30); do echo "line $n of $leaf"; echo; done; '
        f'if [ "$leaf" = "{bad}" ]; then echo "$leaf fails"; exit 3; fi'
    )
    write_action(context, name, ["sh", "-c", script, "sh", "{files}"], TWO_LEAVES)


@given(
    'an action file "{name}" whose command prints "{first}", waits for the file "{gate}", '
    'then prints "{last}"'
)
def step_gated_talk(context: Any, name: str, first: str, gate: str, last: str) -> None:
    path = context.tmp / gate
    script = f'echo {first}; while [ ! -e "{path}" ]; do sleep 0.05; done; echo {last}'
    write_action(context, name, ["sh", "-c", script, "sh", "{files}"], TWO_LEAVES)


@when("I start `{command}` in another process")
def step_start_process(context: Any, command: str) -> None:
    env = {**context.env, **getattr(context, "extra_env", {})}
    args = [sys.executable, "-m", "cleveragents", *fill(context, command).split()]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE)
    os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
    context.follower, context.followed = proc, ""

    def end() -> None:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]

    context.cleanups.append(end)


def _read_more(context: Any) -> None:
    try:
        chunk = os.read(context.follower.stdout.fileno(), 65536)
    except BlockingIOError:
        return
    context.followed += chunk.decode()


@then('that process soon prints "{text}"')
def step_soon_prints(context: Any, text: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while text not in context.followed:
        assert time.monotonic() < deadline, context.followed
        assert context.follower.poll() is None, f"it ended: {context.followed}"
        time.sleep(0.02)  # polling another process's output with a deadline
        _read_more(context)


@when('the file "{name}" is created')
def step_create_file(context: Any, name: str) -> None:
    (context.tmp / name).write_text("", encoding="utf-8")


@then('that process ends with exit code {code:d}, having printed "{first}" and "{second}"')
def step_follower_ends(context: Any, code: int, first: str, second: str) -> None:
    assert context.follower.wait(DEADLINE_S) == code
    os.set_blocking(context.follower.stdout.fileno(), True)
    context.followed += context.follower.stdout.read().decode()
    lines = context.followed.splitlines()
    assert first in lines and second in lines, context.followed
    assert lines.count("a | started") == 1, context.followed  # nothing printed twice


_ = resource  # the measured run imports it in its own process


@given('an action file "{name}" whose command prints {size:d} bytes and shows its output')
def step_shown_action(context: Any, name: str, size: int) -> None:
    code = f"import sys\nsys.stdout.write(('y' * 99 + '\\n') * ({size} // 100))\n"
    write_action(context, name, [sys.executable, "-c", code], 'output = "show"\n' + TWO_LEAVES)
