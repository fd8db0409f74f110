"""Decomposition of a large project's paths (issue target: 100,000 paths in well under 1 s)."""

from __future__ import annotations

from cleveragents.plans.decompose import DecomposeConfig, Decomposer

PATHS = 100_000


def _paths(count: int) -> list[str]:
    # 40 top-level packages, 8 modules each, 5 extensions: a large monorepo's shape.
    extensions = (".py", ".ts", ".md", ".json", ".go")
    return [
        f"pkg{n % 40}/mod{(n // 40) % 8}/sub{(n // 320) % 4}/file{n}{extensions[n % 5]}"
        for n in range(count)
    ]


class Decompose:
    """``Decomposer.decompose`` over 100,000 paths with the default configuration."""

    number = 1
    repeat = (3, 10, 20.0)

    def setup(self) -> None:
        self.paths = _paths(PATHS)
        self.decomposer = Decomposer(DecomposeConfig())

    def time_decompose_100k(self) -> None:
        """Build the whole tree."""
        self.decomposer.decompose(self.paths)

    def peakmem_decompose_100k(self) -> None:
        """Peak memory while building it."""
        self.decomposer.decompose(self.paths)
