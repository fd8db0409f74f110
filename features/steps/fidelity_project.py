"""A generated Python project whose configuration (pyproject.toml) changes what ruff, black and
isort do, for the fidelity features: every tool has work to do in every module, and the result
differs from the tool's defaults.

- ``[tool.ruff] line-length = 120`` and ``quote-style = "single"``: ruff format keeps lines of 89
  to 120 characters that its default (88) would wrap, and turns double quotes into single ones.
- ``requires-python = ">=3.10"``: ``ruff check --select UP`` targets 3.10 and so must leave
  ``datetime.timezone.utc`` alone (``datetime.UTC`` is 3.11); without the file ruff targets the
  Python it runs under.
- ``[tool.ruff.lint] ignore = ["UP015"]``: the redundant ``open(..., "r")`` mode stays.
- ``[tool.ruff] extend-exclude`` with ``force-exclude`` and ``[tool.black] force-exclude``: the
  module ``shop/broken_fixture.py`` holds a syntax error and is skipped even when it is named
  on the command line; without the configuration both tools fail on it.
- ``[tool.black] line-length = 100``: black keeps lines of 89 to 100 characters.
- ``[tool.isort] profile = "black"``: vertical hanging indents at 88 columns instead of isort's
  grid at 79; in the git repository, ``skip_gitignore = true`` makes ``isort .`` skip what the
  .gitignore ignores, as ruff and black do.
- Modules import each other across the two packages (``shop``, ``toolkit``): isort puts them in
  the first-party section only when it sees both packages at the project's root.
- ``shop/names.py`` names a function to rename (``OLD``, ``NEW``), for a codemod that reads it.

With ``gitignore=True`` the project is a git repository (no commit) with a ``.gitignore`` that
ignores ``generated/`` (a badly formatted module that no tool must touch), ``*.log`` and
``__pycache__/``; without it there is neither a ``.gitignore`` nor a repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

PYPROJECT = """\
[project]
name = "fidelity-fixture"
version = "0.1.0"
requires-python = ">=3.10"

[tool.ruff]
line-length = 120
extend-exclude = ["broken_fixture.py"]
force-exclude = true

[tool.ruff.format]
quote-style = "single"

[tool.ruff.lint]
select = ["E", "F", "UP"]
ignore = ["UP015"]

[tool.black]
line-length = 100
force-exclude = "broken_fixture\\\\.py"

[tool.isort]
profile = "black"
"""

# In the git repository only: elsewhere isort would ask git, and print git's complaint.
ISORT_SKIP_GITIGNORE = "skip_gitignore = true\n"

GITIGNORE = "__pycache__/\n*.log\ngenerated/\n"

NAMES = '''\
"""Which function the rename codemod replaces, and with what."""
OLD = "old_func"
NEW = "new_func"
'''

LEGACY = '''\
"""The function that is being renamed."""
import typing

def old_func(value: typing.Optional[int] = None) -> typing.List[int]:
    return [value or 0, (value or 0) + 1]

def new_func(value: typing.Optional[int] = None) -> typing.List[int]:
    return old_func(value)
'''

BROKEN = '''\
"""A module with a syntax error, which the project's configuration excludes."""
def broken(:
    return "never parsed"
'''

INIT = '"""The {name} package."""\n'

GENERATED = """\
# generated, ignored by git: no tool must touch it
import sys,os
x = {"a":1,'b':2}
class Generated(object): pass
def f(a,b): return "{} {}".format(a,b)
"""

# Deliberately unformatted: unsorted imports (standard library, third party and first party
# mixed), an import longer than 88 columns, double and single quotes, old syntax, and lines of
# about 95, 110 and 135 characters.
MODULE = """\
import sys
import json
from {other_pkg} import {other_mod}
import attr
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence, Set
import datetime
from toolkit import legacy
from typing import Optional
import typing

LABEL = "{pkg} module {index}"
SETTINGS = {{'name': 'mod{index}', "retries": {index}, 'timeout': {index}.5, "tags": ["a", 'b', "c"]}}


class Record{index}(object):
    def __init__(self, name: str, values: Optional[typing.List[int]] = None) -> None:
        self.name = name
        self.values = values or []

    def describe(self) -> str:
        return "record {{}} holds {{}} values".format(self.name, len(self.values))

    def stamp(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.timezone.utc)


def combine_{index}(first_value: int, second_value: int, third_value: int, fourth: int) -> int:
    return first_value + second_value + third_value + fourth


def summarize_{index}(records: Iterable[Record{index}], prefix: str = "summary", separator: str = ", ") -> int:
    return len([r for r in records if r.name.startswith(prefix) or separator in r.name])


def render_{index}(mapping: Mapping[str, int], keys: Sequence[str], default_value: int = 0, fallback: Optional[Callable[[str], int]] = None) -> str:
    return ", ".join(str(mapping.get(key, default_value)) for key in keys)


def run_{index}(argv: typing.List[str]) -> int:
    with open(argv[0], "r") as handle:
        data = json.load(handle)
    print("running {{}} with {{}} arguments".format(LABEL, len(argv)), file=sys.stderr)
    total = legacy.old_func(len(data))[0] + legacy.old_func({index})[1]
    return total + {other_mod}.VALUE + len(os.sep) + len(Set.__name__) + len(Iterator.__name__)


VALUE = {index}
UNUSED = (MutableMapping, attr)
"""  # noqa: E501 (lines too long for the tools, on purpose)


def _module(pkg: str, index: int, other_pkg: str, other_mod: str) -> str:
    return MODULE.format(pkg=pkg, index=index, other_pkg=other_pkg, other_mod=other_mod)


def write_project(root: Path, *, gitignore: bool) -> list[str]:
    """Write the project under ``root`` (created); the relative paths of its files."""
    files: dict[str, str] = {
        "pyproject.toml": PYPROJECT + (ISORT_SKIP_GITIGNORE if gitignore else ""),
        "README.md": "# fixture\n\nNot Python: no tool touches it.\n",
        "shop/__init__.py": INIT.format(name="shop"),
        "shop/names.py": NAMES,
        "shop/broken_fixture.py": BROKEN,
        "shop/api/__init__.py": INIT.format(name="shop.api"),
        "toolkit/__init__.py": INIT.format(name="toolkit"),
        "toolkit/legacy.py": LEGACY,
    }
    for index in range(10):
        files[f"shop/orders_{index}.py"] = _module("shop", index, "toolkit", f"helpers_{index}")
        files[f"toolkit/helpers_{index}.py"] = _module(
            "toolkit", 10 + index, "shop.api", f"views_{index % 6}"
        )
    for index in range(6):
        files[f"shop/api/views_{index}.py"] = _module("shop.api", 20 + index, "shop", "orders_0")
    if gitignore:
        files[".gitignore"] = GITIGNORE
        files["generated/schema_gen.py"] = GENERATED
        files["debug.log"] = "a log line\n"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if gitignore:
        subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)
    return sorted(files)
