"""Redact secrets before anything is stored or printed.

Covers what commonly leaks through command output and error messages: credentials in URLs,
Authorization headers, ``key=value`` pairs whose key names a secret, and well-known token
shapes (GitHub, GitLab, Slack, AWS access keys, OpenAI/Anthropic-style ``sk-`` keys, JWTs,
PEM private keys).

Linear time, whatever the input. Every pattern starts at a literal (``://`` read backwards,
``authorization``, a secret word, ``--``, a token prefix), so the regex engine jumps from one
occurrence to the next, and every scan after it is possessive and stops where the next attempt
would start: no character is scanned more than a bounded number of times. The case-insensitive
patterns run on a folded copy of the text, the same length, where the secret words are
replaced by markers (``_mark_words``), which turns "a key that contains a secret word" into a
scan for one character. What they match is the same as the plain patterns this module used to
have (``[\\w.-]*(?:password|...)[\\w.-]*=...`` and the like), which backtracked quadratically.

Big texts are redacted in chunks of about ``CHUNK`` characters, cut at a whitespace run that no
match can span (``_split_after``), so that no single regex call holds the GIL for long; PEM
private keys, which span lines, are masked in one pass over the whole text first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"
CHUNK = 64 * 1024  # characters per chunk (a chunk ends at the first safe split after this)
SPLIT_WINDOW = 4096  # how far past a chunk's nominal end a safe split is looked for

# Case-insensitive matching as Python's re does it (``(?i)``): besides the ASCII case pairs,
# U+0130 and U+0131 match ``i``, U+017F matches ``s`` and U+212A (which lower() turns into
# ``k``) matches ``k``. ``_fold`` maps every character onto what it matches, keeping the length.
_FOLDS = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"))

# The secret words (lower case): ``password|passwd|pwd|secret|token|api[_-]?key|apikey|
# access[_-]?key|private[_-]?key|client[_-]?secret|auth[_-]?token|session[_-]?key|credentials?``.
# ``client_secret``, ``auth_token`` and ``credentials`` contain shorter words and need no entry.
# Grouped by a part they share, which is looked for first.
_SEPARATORS = ("_", "-", "")
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("passw", ("password", "passwd")),
    ("pwd", ("pwd",)),
    ("secret", ("secret",)),
    ("token", ("token",)),
    ("credential", ("credential",)),
    (
        "key",
        tuple(f"{a}{s}key" for a in ("api", "access", "private", "session") for s in _SEPARATORS),
    ),
)
_WORD_START, _WORD_BODY = "\x01", "\x03"  # markers in the folded copy
_NEUTRAL = "\x02"  # what a marker character already in the text becomes in that copy

_PEM = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"(?:[^-]++|-(?!----END [A-Z ]*PRIVATE KEY-----))*+"
    r"(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"
)
# scheme://user:password@host, on the reversed text: "@" drowssap ":" resu "//:" emehcs, where
# the password may contain ":" and the user may not, and the scheme's run of [\w+.-] holds an
# ASCII letter. The password becomes the reversed mask; user and scheme, looked at, are kept.
_URL_REVERSED = re.compile(
    r"@(?:[^\s@/:]*+:)*+(?<=[^@]:)(?=[^\s@/:]++//:(?:[^\Wa-zA-Z]|[+.-])*+[a-zA-Z])"
)
_URL_REPLACEMENT = "@" + MASK[::-1] + ":"  # no group reference: re.sub substitutes it in C
# Authorization: Bearer xyz / Basic xyz / token xyz (also Proxy-Authorization)
_AUTH = re.compile(
    r"authorization(?<!\wauthorization)\s*+[:=]\s*+"
    r"(?P<v>(?:[\w-]++\s++(?=[^\s,;\"'])|)[^\s,;\"']++)"
)
# password=..., "api_key": "...", TOKEN: ... -- from the last secret word of the key on.
_KEY_VALUE = re.compile(
    rf"{_WORD_START}[\w.{_WORD_BODY}-]*+[\"']?\s*+[:=]\s*+[\"']?"
    rf"(?!\[redacted\])(?P<v>[^\s\"',;&]{{3,}}+)"
)
# --password hunter2, --api-key xyz: a "--", then a secret word before the next "--" (the
# "segment" of the [\w-] run after it), then the rest of the run; that scan stops at a later
# "--" whose segment holds a word too, since the attempt from there covers the rest.
_SEGMENT_WITH_WORD = rf"(?:[\w{_WORD_BODY}]++|-(?!-))*+{_WORD_START}"
_FLAG = re.compile(
    rf"--{_SEGMENT_WITH_WORD}"
    rf"(?:[\w{_WORD_START}{_WORD_BODY}]++|-(?!-)|-{{2,}}+(?!{_SEGMENT_WITH_WORD}))*+"
    r"\s++(?!-)(?P<v>[^\s\"']++)"
)
# Token shapes that are secrets wherever they appear (each: a prefix after a non-word char),
# with a character of the prefix that is looked for first.
_TOKENS: list[tuple[str, str, re.Pattern[str]]] = [
    ("_", "gh", re.compile(r"gh(?<!\wgh)[pousr]_[A-Za-z0-9_]{20,}+\b")),
    ("_", "github_pat_", re.compile(r"github_pat_(?<!\wgithub_pat_)[A-Za-z0-9_]{20,}+\b")),
    ("-", "glpat-", re.compile(r"glpat-(?<!\wglpat-)[A-Za-z0-9_-]{20,}\b")),
    ("-", "xox", re.compile(r"xox(?<!\wxox)[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("A", "AKIA", re.compile(r"AKIA(?<!\wAKIA)[0-9A-Z]{16}\b")),
    ("A", "ASIA", re.compile(r"ASIA(?<!\wASIA)[0-9A-Z]{16}\b")),
    # sk-proj-..., sk-ant-api03-...: an optional dash-separated prefix changes nothing to the
    # span (the match ends at the run's last word boundary either way).
    ("-", "sk-", re.compile(r"sk-(?<!\wsk-)[A-Za-z0-9_-]{20,}\b")),
    (
        "J",
        "eyJ",
        re.compile(r"eyJ(?<!\weyJ)[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}\b"),
    ),
]
# A whitespace run W that no match can span (the chunks are cut at its start): not followed by
# ":" or "=" (a key's separator), not preceded by one (a value), and if a [\w-] run T precedes
# it, T holds no "--" (a flag) and is no Authorization scheme: T does not follow a ":" or "="
# (and blanks) that follows "n" or a blank. The cases, by what precedes W or T: a character that
# is neither a word character, "-", ":", "=" nor a blank; blanks not after ":" or "="; ":" or
# "=" (and blanks) after a character other than "n" or a blank.
_BLANK = re.compile(r"\s")
_SPLIT = re.compile(
    r"(?:(?<=[^\s\w:=-])"
    r"|(?:(?<=[^\s\w:=-])|(?<![\s:=])\s++|(?<=[^\snN])[:=]\s*+)(?:\w|-(?!-))++)"
    r"(?P<w>\s++)(?![:=])"
)


def redact(text: str) -> str:
    """``text`` with every secret it contains replaced by ``[REDACTED]``."""
    if not text:
        return text
    if "-----BEGIN " in text:
        text = _PEM.sub(MASK, text)
    if len(text) <= CHUNK + SPLIT_WINDOW:
        return _redact_chunk(text)
    parts, start = [], 0
    while start < len(text):
        end = _split_after(text, start + CHUNK)
        parts.append(_redact_chunk(text[start:end]))
        start = end
    return "".join(parts)


def redact_url(url: str) -> str:
    """A database URL with its password hidden."""
    return redact(url)


def _split_after(text: str, nominal: int) -> int:
    """The first safe place to cut ``text`` at or after ``nominal`` (its length if none).

    Only a window after the nominal end is searched, from its first blank on; without a safe
    split there the chunk grows by another ``CHUNK`` and the search goes on from there, so the
    search reads at most one window per chunk."""
    size = len(text)
    while nominal + SPLIT_WINDOW < size:
        endpos = nominal + SPLIT_WINDOW
        blank = _BLANK.search(text, nominal, endpos)
        found = _SPLIT.search(text, blank.start(), endpos) if blank else None
        if found is not None and found.end() < endpos:  # the run is whole: it ends before endpos
            return found.start("w")
        nominal += CHUNK
    return size


def _redact_chunk(text: str) -> str:
    """Apply every pattern but the PEM one, in order, to a chunk. A pattern runs only where
    the characters it needs occur (one character first: ``in`` is memchr then)."""
    if "@" in text and "://" in text:
        done, count = _URL_REVERSED.subn(_URL_REPLACEMENT, text[::-1])
        if count:
            text = done[::-1]
    separator = "=" in text or ":" in text
    if separator or ("-" in text and "--" in text):
        text = _redact_keys(text, separator)
    for gate, literal, pattern in _TOKENS:
        if gate in text and literal in text:
            text = pattern.sub(MASK, text)
    return text


def _redact_keys(text: str, separator: bool) -> str:
    """The case-insensitive patterns: Authorization headers, ``key=value``, ``--flag value``."""
    folded = _fold(text)
    if separator and "authorization" in folded:
        text, folded = _mask(text, folded, _AUTH.finditer(folded))
    words = _words_in(folded)
    if words and separator:
        text, folded = _mask(text, folded, _KEY_VALUE.finditer(_mark_words(folded, words)))
        words = [w for w in words if w in folded]
    if words and "--" in folded:
        text, _ = _mask(text, None, _FLAG.finditer(_mark_words(folded, words)))
    return text


def _fold(text: str) -> str:
    """``text`` as case-insensitive matching sees it, character for character."""
    if not text.isascii():
        for char, folded in _FOLDS:
            if char in text:
                text = text.replace(char, folded)
    return text.lower()


def _words_in(folded: str) -> list[str]:
    """The secret words that occur in ``folded``."""
    return [w for part, words in _WORDS if part in folded for w in words if w in folded]


def _mark_words(folded: str, words: Iterable[str]) -> str:
    """``folded`` with each secret word (of ``words``) replaced by a start marker and body
    markers, and marker characters already in it made neutral: same length."""
    for marker in (_WORD_START, _WORD_BODY):
        if marker in folded:
            folded = folded.replace(marker, _NEUTRAL)
    for word in words:
        folded = folded.replace(word, _WORD_START + _WORD_BODY * (len(word) - 1))
    return folded


def _mask(text: str, folded: str | None, found: Iterable[re.Match[str]]) -> tuple[str, str]:
    """``text`` and ``folded`` (unless None: no longer needed) with the ``v`` group of each
    match replaced by the mask."""
    spans = [match.span("v") for match in found]
    if not spans:
        return text, folded or ""
    return _splice(text, spans, MASK), _splice(folded, spans, MASK.lower()) if folded else ""


def _splice(text: str, spans: list[tuple[int, int]], mask: str) -> str:
    """``text`` with each span replaced by ``mask``."""
    starts = [0] + [end for _, end in spans]
    ends = [start for start, _ in spans] + [len(text)]
    return mask.join([text[a:b] for a, b in zip(starts, ends, strict=True)])
