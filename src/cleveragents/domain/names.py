"""Names people give things (actions, projects): one rule, checked wherever a name comes in."""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def is_valid_name(name: str) -> bool:
    """True when ``name`` is 1 to 100 letters, digits, '.', '_' and '-', starting with a letter
    or digit (so it is also a safe file name: no separators, no leading dot)."""
    return NAME_PATTERN.match(name) is not None
