"""Git-style patches: one file's change rendered in the format ``git apply`` accepts.

:func:`render_patch` takes a file's old and new bytes and modes (``None`` for a side where the file
does not exist) and returns what git would print for it: the ``diff --git`` header, mode lines, the
``index`` line, then unified hunks for text (as ``git diff``, less the function name git adds after
a hunk's range) or a ``GIT binary patch`` with forward and reverse literal hunks for binary content
(as ``git diff --binary`` when it picks literals over deltas). Patches of several files concatenate
into one patch. Text is UTF-8; content with a NUL byte in its first 8000 bytes (git's rule) or that
is not valid UTF-8 is binary, where git would still diff non-UTF-8 bytes as text. Lines keep their
endings byte for byte, so CRLF files survive the trip.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from dataclasses import dataclass

from cleveragents.plans.linediff import count_changes, diff_opcodes, group_opcodes

BINARY_SNIFF_BYTES = 8000  # git looks this far into a file for a NUL byte (FIRST_FEW_BYTES)

_NULL_SHA = "0" * 40
_ABBREV = 7  # git's abbreviation of object names in a small repository
_NO_NEWLINE = "\\ No newline at end of file\n"
_ZLIB_LEVEL = 1  # git deflates binary patches at Z_BEST_SPEED (its default core.compression)
_BINARY_LINE_BYTES = 52  # git writes at most 52 bytes of deflated data per base85 line
# A base85 line starts with its byte count: 'A'-'Z' for 1-26 bytes, 'a'-'z' for 27-52.
_LENGTH_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NAMED_ESCAPES = {0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r"}


@dataclass(frozen=True)
class LineStats:
    """Lines added and removed by a change, as ``git diff --numstat`` reports them."""

    added: int
    removed: int


def is_binary(data: bytes) -> bool:
    """Whether content is binary: a NUL byte in its first 8000 bytes, or not valid UTF-8."""
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def git_blob_sha1(data: bytes) -> str:
    """The object name git gives a blob holding ``data`` (40 lowercase hex digits)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def git_mode(mode: int | None) -> str:
    """Git's mode for a regular file: ``100755`` if any execute bit is set, else ``100644``."""
    return "100755" if mode is not None and mode & 0o111 else "100644"


def line_stats(old: bytes | None, new: bytes | None) -> LineStats:
    """Lines added and removed going from ``old`` to ``new`` (``None``: the file does not exist).

    These are the ``+`` and ``-`` lines of the patch :func:`render_patch` writes, counted the way
    ``git diff --numstat`` counts its own: both come from :mod:`.linediff`, which aligns lines as
    git does. Binary content on either side gives ``LineStats(0, 0)`` where git prints ``-``.
    """
    if _binary_change(old, new):
        return LineStats(0, 0)
    added, removed = count_changes(_lines(old), _lines(new))
    return LineStats(added, removed)


def render_patch(
    path: str,
    old: bytes | None,
    new: bytes | None,
    old_mode: int | None,
    new_mode: int | None,
    *,
    context: int = 3,
) -> str:
    """One file's change as a git patch ending with a newline; ``""`` if nothing changed.

    ``path`` is the file's relative POSIX path. ``old`` is ``None`` for a created file and ``new``
    is ``None`` for a deleted one; the modes are ``st_mode`` values (only the execute bits count).
    Text gets unified hunks with ``context`` lines around each change; binary content gets a
    ``GIT binary patch`` with literal hunks both ways, so ``git apply -R`` works too.
    """
    old_git_mode, new_git_mode = git_mode(old_mode), git_mode(new_mode)
    if old == new and (old is None or old_git_mode == new_git_mode):
        return ""
    a_name, b_name = _quote("a/" + path), _quote("b/" + path)
    out = [f"diff --git {a_name} {b_name}\n"]
    index_mode = ""
    if old is None:
        out.append(f"new file mode {new_git_mode}\n")
    elif new is None:
        out.append(f"deleted file mode {old_git_mode}\n")
    elif old_git_mode != new_git_mode:
        out.append(f"old mode {old_git_mode}\nnew mode {new_git_mode}\n")
    else:
        index_mode = f" {old_git_mode}"
    if old == new:
        return "".join(out)
    old_sha = _NULL_SHA if old is None else git_blob_sha1(old)
    new_sha = _NULL_SHA if new is None else git_blob_sha1(new)
    if _binary_change(old, new):
        out.append(f"index {old_sha}..{new_sha}{index_mode}\n")
        out.append("GIT binary patch\n")
        out.append(_literal(new or b""))
        out.append(_literal(old or b""))
        return "".join(out)
    out.append(f"index {old_sha[:_ABBREV]}..{new_sha[:_ABBREV]}{index_mode}\n")
    a, b = _lines(old), _lines(new)
    if not a and not b:
        return "".join(out)  # an empty file created or deleted: git writes no hunk
    out.append(_label("---", "/dev/null" if old is None else a_name))
    out.append(_label("+++", "/dev/null" if new is None else b_name))
    for group in group_opcodes(diff_opcodes(a, b), context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n")
        for tag, g1, g2, h1, h2 in group:
            if tag == "equal":
                out.extend(_hunk_line(" ", line) for line in a[g1:g2])
                continue
            out.extend(_hunk_line("-", line) for line in a[g1:g2])
            out.extend(_hunk_line("+", line) for line in b[h1:h2])
    return "".join(out)


def _binary_change(old: bytes | None, new: bytes | None) -> bool:
    return any(side is not None and is_binary(side) for side in (old, new))


def _lines(data: bytes | None) -> list[str]:
    """The lines of UTF-8 text, each keeping its ``\\n`` (only ``\\n`` ends a line, as in git)."""
    if data is None:
        return []
    parts = data.decode("utf-8").split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _range(start: int, end: int) -> str:
    """A hunk range in git's form: ``start`` alone for one line, ``start-1,0`` for none."""
    length = end - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _hunk_line(prefix: str, line: str) -> str:
    if line.endswith("\n"):
        return prefix + line
    return prefix + line + "\n" + _NO_NEWLINE


def _label(marker: str, name: str) -> str:
    """A ``---``/``+++`` line; git ends it with a tab when the name holds a space."""
    tab = "\t" if " " in name else ""
    return f"{marker} {name}{tab}\n"


def _quote(name: str) -> str:
    """A path as git prints it with ``core.quotePath`` on: C-style quoted if it needs to be."""
    raw = os.fsencode(name)  # a name that is not UTF-8: its own bytes, in octal
    if not any(byte < 0x20 or byte >= 0x7F or byte in b'"\\' for byte in raw):
        return name
    out = ['"']
    for byte in raw:
        if byte in b'"\\':
            out.append("\\" + chr(byte))
        elif byte in _NAMED_ESCAPES:
            out.append("\\" + _NAMED_ESCAPES[byte])
        elif byte < 0x20 or byte >= 0x7F:
            out.append(f"\\{byte:03o}")
        else:
            out.append(chr(byte))
    out.append('"')
    return "".join(out)


def _literal(data: bytes) -> str:
    """A ``literal`` binary hunk: the deflated data in git's base85 lines, then a blank line."""
    deflated = zlib.compress(data, _ZLIB_LEVEL)
    out = [f"literal {len(data)}\n"]
    for start in range(0, len(deflated), _BINARY_LINE_BYTES):
        chunk = deflated[start : start + _BINARY_LINE_BYTES]
        encoded = base64.b85encode(chunk, pad=True).decode("ascii")
        out.append(f"{_LENGTH_CHARS[len(chunk) - 1]}{encoded}\n")
    out.append("\n")
    return "".join(out)
