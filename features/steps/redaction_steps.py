"""Steps about redacting big and hostile texts: hostile shapes, chunk boundaries, PEM blocks."""

from __future__ import annotations

import random
from typing import Any

from behave import then, when

from cleveragents.domain import redaction
from cleveragents.domain.redaction import redact

_LOG_LINE = "12:00:01 worker-1 job 42 step {n} ok, 3 files changed\n"


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\x01", "\x01").replace("\\x03", "\x03")


def _shape(name: str, size: int) -> str:
    rng = random.Random(13)
    if name == "hex":
        return rng.randbytes(size // 2).hex()
    if name == "dots":
        return "." * size
    if name == "letters":
        return "".join(rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", k=size))
    if name == "control characters":  # those the redactor uses as markers in its own copy
        unit = "\x01\x02\x03\x04 password "
        return (unit * (size // len(unit) + 1))[:size]
    if name == "random bytes":
        return rng.randbytes(size).decode("utf-8", errors="replace")
    repeated = name.removesuffix(" repeated").strip('"')
    return (repeated * (size // len(repeated) + 1))[:size]


def _log_lines(size: int, first: int = 0) -> str:
    """At least ``size`` characters of ordinary log lines, cut to exactly ``size``, ending with
    a newline."""
    lines, total, n = [], 0, first
    while total < size:
        lines.append(_LOG_LINE.format(n=n))
        total += len(lines[-1])
        n += 1
    text = "".join(lines)[: size - 1]
    return text + "\n"


@when('I redact {size:d} characters of {shape} followed by "{tail}"')
def step_redact_shape(context: Any, size: int, shape: str, tail: str) -> None:
    context.hostile = _shape(shape, size)
    assert len(context.hostile) >= size * 0.9, len(context.hostile)
    context.redacted = redact(context.hostile + _unescape(tail))


@then('the result is those characters unchanged followed by "{redacted}"')
def step_shape_result(context: Any, redacted: str) -> None:
    expected = context.hostile + _unescape(redacted)
    assert context.redacted == expected, (len(context.redacted), context.redacted[-200:])


@when(
    'I redact log lines with "{text}" placed so that the first chunk ends {offset:d} characters'
    " into it"
)
def step_redact_across(context: Any, text: str, offset: int) -> None:
    text = _unescape(text)
    assert 0 < offset < len(text)
    context.before = _log_lines(redaction.CHUNK - offset)
    context.after = "\n" + _log_lines(2 * redaction.CHUNK, first=10_000)
    whole = context.before + text + context.after
    assert len(whole) > redaction.CHUNK + redaction.SPLIT_WINDOW  # so that it is chunked
    context.redacted = redact(whole)


@then('the result is the same log lines with "{redacted}" in its place')
def step_across_result(context: Any, redacted: str) -> None:
    expected = context.before + _unescape(redacted) + context.after
    assert context.redacted == expected, context.redacted[len(context.before) - 100 :][:300]


@when("I redact log lines with a private key longer than four chunks among them")
def step_redact_pem(context: Any) -> None:
    body = "\n".join(random.Random(7).randbytes(48).hex() for _ in range(3000))
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    assert len(key) > 4 * redaction.CHUNK
    context.before = _log_lines(redaction.CHUNK // 2)
    context.after = "\n" + _log_lines(redaction.CHUNK, first=10_000)
    context.key = key
    context.redacted = redact(context.before + key + context.after)


@then('the result is the same log lines with "[REDACTED]" in place of the key')
def step_pem_result(context: Any) -> None:
    assert context.redacted == context.before + "[REDACTED]" + context.after, len(context.redacted)
