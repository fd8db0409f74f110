"""Redact secrets before anything is stored or printed.

Covers what commonly leaks through command output and error messages: credentials in URLs,
Authorization headers, ``key=value`` pairs whose key names a secret, and well-known token
shapes (GitHub, GitLab, Slack, AWS access keys, OpenAI/Anthropic-style ``sk-`` keys, JWTs,
PEM private keys).
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_SECRET_WORDS = (
    r"password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"client[_-]?secret|auth[_-]?token|session[_-]?key|credentials?"
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # -----BEGIN ... PRIVATE KEY----- blocks, possibly spanning lines.
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        MASK,
    ),
    # scheme://user:password@host -> keep the user, hide the password.
    (re.compile(r"(?P<pre>[a-zA-Z][\w+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)"), rf"\g<pre>{MASK}"),
    # Authorization: Bearer xyz / Basic xyz / token xyz
    (
        re.compile(r"(?i)(?P<pre>\b(?:proxy-)?authorization\s*[:=]\s*)(?:[\w-]+\s+)?[^\s,;\"']+"),
        rf"\g<pre>{MASK}",
    ),
    # password=..., "api_key": "...", TOKEN: ...
    (
        re.compile(
            rf"(?i)(?P<pre>[\w.-]*(?:{_SECRET_WORDS})[\w.-]*[\"']?\s*[:=]\s*[\"']?)"
            rf"(?!{re.escape(MASK)})[^\s\"',;&]{{3,}}"
        ),
        rf"\g<pre>{MASK}",
    ),
    # --password hunter2, --api-key xyz
    (
        re.compile(rf"(?i)(?P<pre>--[\w-]*(?:{_SECRET_WORDS})[\w-]*\s+)(?!-)[^\s\"']+"),
        rf"\g<pre>{MASK}",
    ),
    # Token shapes that are secrets wherever they appear.
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}\b"), MASK),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\bsk-(?:[A-Za-z0-9_-]{2,}-)?[A-Za-z0-9_-]{20,}\b"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"), MASK),
]


def redact(text: str) -> str:
    """``text`` with every secret it contains replaced by ``[REDACTED]``."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """A database URL with its password hidden."""
    return redact(url)
