"""File discovery over a large project tree (target: 100,000 files in about a second).

The tree is built once per run by ``setup_cache`` in asv's working directory for this class
(asv removes it afterwards): 100,000 empty files in 300 directories, a root ``.gitignore``
and two nested ones. The walk is timed with the tree in the page cache, as it is when an
action runs over a project the user has just been working in.
"""

from __future__ import annotations

import os
from pathlib import Path

from cleveragents.plans.discovery import discover_files

FILES = 100_000
PACKAGES = 20
MODULES = 15  # directories: 20 packages x 15 modules = 300
EXTENSIONS = (".py", ".md", ".json", ".log", ".ts")

ROOT_GITIGNORE = "# build output and logs\n*.log\n!keep.log\n/pkg19/\n__pycache__/\n"
NESTED_GITIGNORES = {
    "pkg3/.gitignore": "*.json\n",  # floating: every .json under pkg3
    "pkg7/mod2/.gitignore": "/*.ts\n",  # anchored: the .ts files of pkg7/mod2 only
}


def build_tree(root: Path) -> int:
    """Create the tree under ``root``; return how many files discovery must keep."""
    kept = 0
    for package in range(PACKAGES):
        for module in range(MODULES):
            (root / f"pkg{package}" / f"mod{module}").mkdir(parents=True)
    for n in range(FILES):
        directory = n % (PACKAGES * MODULES)
        package, module = divmod(directory, MODULES)
        extension = EXTENSIONS[(n // (PACKAGES * MODULES)) % len(EXTENSIONS)]
        with open(root / f"pkg{package}" / f"mod{module}" / f"file{n}{extension}", "wb"):
            pass
        ignored = (
            extension == ".log"
            or package == 19
            or (package == 3 and extension == ".json")
            or (package == 7 and module == 2 and extension == ".ts")
        )
        kept += not ignored
    (root / ".gitignore").write_text(ROOT_GITIGNORE)
    for path, text in NESTED_GITIGNORES.items():
        (root / path).write_text(text)
    return kept + 1 + len(NESTED_GITIGNORES)  # the .gitignore files are project files too


class Discover:
    """``discover_files`` over 100,000 files with git's ignore rules applied."""

    number = 1
    repeat = (3, 10, 20.0)
    timeout = 120.0

    def setup_cache(self) -> tuple[str, int]:
        """Build the tree once; asv runs the benchmarks in this same directory."""
        root = Path(os.getcwd()) / "project"
        root.mkdir()
        expected = build_tree(root)
        found = len(discover_files(root))
        if found != expected:  # a fast wrong answer is not a figure
            raise RuntimeError(f"discovered {found} files, expected {expected}")
        return str(root), expected

    def time_discover_100k_files(self, cache: tuple[str, int]) -> None:
        """Walk, apply the ignore rules, sort."""
        discover_files(Path(cache[0]))

    def peakmem_discover_100k_files(self, cache: tuple[str, int]) -> None:
        """Peak memory while doing it."""
        discover_files(Path(cache[0]))
