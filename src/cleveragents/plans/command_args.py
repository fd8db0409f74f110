"""A leaf command's arguments: its argv with the placeholders filled, and its files list.

Names go to both as the bytes they are on disk, UTF-8 or not (``os.fsencode``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cleveragents.domain.paths import display_path
from cleveragents.errors import AgentsError
from cleveragents.plans.actions import (
    FILE_PLACEHOLDER,
    FILES_PLACEHOLDER,
    FILES_SEPARATORS,
    NEWLINE,
)
from cleveragents.plans.prompts import PROMPT_PLACEHOLDER


def expand_argv(
    command: Sequence[str], files: Sequence[str], prompt: str | None = None
) -> list[list[str]]:
    """The argvs to run for ``files``: one, or one per file if an argument holds ``{file}``;
    an argument ``{prompt}`` is the leaf's rendered prompt.

    A name that is not UTF-8 stays a str with surrogate escapes (as ``os.fsdecode`` gives it);
    subprocess turns every argument into bytes with ``os.fsencode``, so the program gets the
    name's bytes exactly as they are on disk."""
    if prompt is not None:
        command = [prompt if part == PROMPT_PLACEHOLDER else part for part in command]
    if any(FILE_PLACEHOLDER in part for part in command):
        return [[part.replace(FILE_PLACEHOLDER, path) for part in command] for path in files]
    argv: list[str] = []
    for part in command:
        if part == FILES_PLACEHOLDER:
            argv.extend(files)
        else:
            argv.append(part)
    return [argv]


def files_list(files: Sequence[str], separator: str) -> bytes:
    """The content of ``$AGENTS_FILES_FILE``: each name's bytes ended by the separator.

    Raises :class:`AgentsError` for a name holding a newline when names are one per line: a
    reader would see two names (``files_separator = "nul"`` lists any name)."""
    end = FILES_SEPARATORS[separator]
    listed = "".join(f"{path}{end}" for path in files)  # one encoding of it all: fast
    if separator == NEWLINE and listed.count("\n") != len(files):
        broken = next(path for path in files if "\n" in path)
        raise AgentsError(
            f"file name with a newline: {display_path(broken)}: $AGENTS_FILES_FILE lists one "
            'name per line; set files_separator = "nul" in the action to run such names'
        )
    return os.fsencode(listed)
