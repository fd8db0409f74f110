"""File names that are not UTF-8: how they are stored, shown and written as JSON.

A POSIX file name is bytes. Python hands one that is not valid UTF-8 over as a ``str`` holding
"surrogate escapes" (``os.fsdecode``: byte 0xFF becomes U+DCFF), which every ``os`` function turns
back into the same bytes; that is how the plans layer carries paths (discovery, sandboxes, apply,
a command's argv). A database text column (SQLite, PostgreSQL) cannot hold a lone surrogate, a
terminal cannot print one, and JSON readers reject one. Three forms, one for each audience:

- **Stored text** (:func:`path_to_text`, :func:`path_from_text`): what a database column and
  ``--json`` hold. A valid UTF-8 name is itself, unchanged (so databases written before, and the
  outputs of such names, stay as they were). A name that is not valid UTF-8 is ``//`` followed by
  the name with every backslash doubled and every byte that is not part of valid UTF-8 written
  ``\\xHH`` (two lowercase hex digits): ``bad<0xFF>.txt`` is ``//bad\\xff.txt``. A stored path is
  relative and normalised (it never starts with ``/``, let alone ``//``), so the escaped form
  cannot collide with a real name; decoding is exact, and gives the original bytes. Any other
  string that starts with ``//`` is escaped the same way, so the codec is reversible for every
  string; a plain absolute path (``/etc/x``) is itself, and stays absolute when read back (so
  ``plan apply`` still refuses it).
- **Shown** (:func:`display_path`): what a person reads on a terminal. A name with bytes that are
  not UTF-8, a control character (a newline, a tab, ESC) or a leading double quote is C-quoted the
  way git quotes paths (``"bad\\377.txt"``, ``"two\\nlines"``): octal for such bytes, ``\\n`` and
  friends for controls, ``\\"`` and ``\\\\`` inside. Every other name is shown as it is.
- **Prose** (:func:`safe_text`): messages, output tails and labels that mention a name; one way
  only, each undecodable byte as ``\\xHH`` (Python's ``backslashreplace``), so the text can be
  stored and printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

ESCAPED_MARK = "//"  # starts the stored text of a name that is not valid UTF-8
_SURROGATE = re.compile("[\ud800-\udfff]")
_STORED_ESCAPE = re.compile(r"\\(\\|x[89a-f][0-9a-f])|\\")
_NEEDS_QUOTES = re.compile('[\x00-\x1f\x7f-\x9f\ud800-\udfff]|^"')
_NAMED_ESCAPES = {
    "\a": "a",
    "\b": "b",
    "\t": "t",
    "\n": "n",
    "\v": "v",
    "\f": "f",
    "\r": "r",
    '"': '"',
    "\\": "\\",
}


def _normalised(path: str) -> str:
    """``path`` as the bytes it stands for, decoded again: surrogate escapes that spell valid
    UTF-8 become the characters they spell. ValueError for a surrogate that stands for no byte."""
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError as exc:
        raise ValueError(f"{path!r} is not a file name (a surrogate stands for no byte)") from exc
    return raw.decode("utf-8", "surrogateescape")


def path_to_text(path: str) -> str:
    """The stored text of ``path`` (see the module docstring): valid UTF-8 names unchanged."""
    if _SURROGATE.search(path) is None and not path.startswith(ESCAPED_MARK):
        return path
    name = _normalised(path)
    if _SURROGATE.search(name) is None and not name.startswith(ESCAPED_MARK):
        return name
    out = [ESCAPED_MARK]
    for char in name:
        if "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char == "\\":
            out.append("\\\\")
        else:
            out.append(char)
    return "".join(out)


def paths_to_text(paths: Sequence[str]) -> list[str]:
    """:func:`path_to_text` of each of ``paths`` (one scan when none needs escaping)."""
    joined = "\0" + "\0".join(paths)
    if f"\0{ESCAPED_MARK}" not in joined:
        try:
            joined.encode("utf-8")  # fails on a surrogate; far faster than searching for one
        except UnicodeEncodeError:
            pass
        else:
            return list(paths)
    return [path_to_text(path) for path in paths]


def path_from_text(text: str) -> str:
    """The path whose stored text is ``text``: the inverse of :func:`path_to_text`.

    ValueError for an escaped form no :func:`path_to_text` writes (a stray backslash, an escape
    of a byte below 0x80).
    """
    if not text.startswith(ESCAPED_MARK):
        return text

    def unescape(found: re.Match[str]) -> str:
        escape = found.group(1)
        if escape is None:
            raise ValueError(f"{text!r} is not a stored path: a stray backslash")
        return "\\" if escape == "\\" else chr(0xDC00 + int(escape[1:], 16))

    return _normalised(_STORED_ESCAPE.sub(unescape, text[len(ESCAPED_MARK) :]))


def paths_from_text(texts: Sequence[str]) -> list[str]:
    """:func:`path_from_text` of each of ``texts``."""
    if f"\0{ESCAPED_MARK}" not in "\0" + "\0".join(texts):
        return list(texts)
    return [path_from_text(text) for text in texts]


def display_path(path: str) -> str:
    """``path`` for a person to read: C-quoted as git quotes it when it holds bytes that are not
    UTF-8, control characters or a leading ``"``; otherwise as it is."""
    if _NEEDS_QUOTES.search(path) is None:
        return path
    out = ['"']
    for char in path:
        if char in _NAMED_ESCAPES:
            out.append("\\" + _NAMED_ESCAPES[char])
        elif "\udc80" <= char <= "\udcff":
            out.append(f"\\{ord(char) - 0xDC00:03o}")
        elif char < " " or "\x7f" <= char <= "\x9f" or "\ud800" <= char <= "\udfff":
            out.extend(f"\\{byte:03o}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def safe_text(text: str) -> str:
    """``text`` with each surrogate escape as ``\\xHH``: storable and printable, not reversible.

    For prose that may quote a file name (an error message, a command's output, a label)."""
    return _SURROGATE.sub(_escape_surrogate, text)


def _escape_surrogate(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
