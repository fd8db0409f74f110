"""Plain output: lines, JSON documents and errors, written without rich (which costs tens of
milliseconds to import; commands that print tables or progress import it through render.py)."""

from __future__ import annotations

import json
import sys
from typing import Any

from cleveragents.domain.paths import safe_text


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def json_line(document: Any) -> None:
    """One JSON document on one line of stdout (JSON Lines: events, outcomes after events)."""
    sys.stdout.write(json.dumps(document, default=str) + "\n")
    sys.stdout.flush()


def line(text: str) -> None:
    """One plain line on stdout (no markup); a file name that is not UTF-8 in it escaped."""
    sys.stdout.write(safe_text(text) + "\n")
    sys.stdout.flush()


def error(text: str) -> None:
    """One line on stderr; a file name that is not UTF-8 in it escaped."""
    sys.stderr.write(safe_text(text) + "\n")
    sys.stderr.flush()
