"""Decomposer: split a project's files into a deterministic tree of subplans.

A node is split while it holds more than ``max_files`` files (or more estimated tokens than
``max_tokens``) and is shallower than ``max_depth``: by the next directory level, else by file
extension, else into even chunks. A split that makes no progress (everything lands in one cluster)
falls through to the next strategy instead of recursing. Clusters smaller than ``min_files`` are
merged into a neighbouring sibling. The same paths always give the same tree, in the same order.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

BYTES_PER_TOKEN = 4  # a rough, conservative estimate for source code
ROOT_LABEL = "."


class DecomposeConfig(BaseModel):
    """The ``[action.decompose]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str = Field("directory", pattern="^(directory|extension|flat)$")
    max_files_per_subplan: int = Field(50, ge=1, le=100_000)
    min_files_per_subplan: int = Field(5, ge=1, le=100_000)
    max_depth: int = Field(4, ge=0, le=32)
    max_tokens_per_subplan: int | None = Field(None, ge=1)


@dataclass
class Cluster:
    """A node of the tree: a label, its files (all of them, for inner nodes too), its children."""

    label: str
    files: list[str]
    depth: int
    children: list[Cluster] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        """Leaves are the subplans that run."""
        return not self.children

    def leaves(self) -> list[Cluster]:
        """The leaves under this node, in tree order."""
        if self.is_leaf:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def walk(self) -> list[Cluster]:
        """This node and every node under it, parents before children."""
        return [self, *(node for child in self.children for node in child.walk())]


Clusters = list[tuple[str, list[str]]]
# A strategy gets a node's files, the directory level they are at, and the node's label; it
# returns the clusters and the directory level the children are at.
_Split = Callable[[Sequence[str], int, str], tuple[Clusters, int]]


def _by_directory(files: Sequence[str], level: int, label: str) -> tuple[Clusters, int]:
    """Group by the next directory level, skipping levels that every file shares."""
    deepest = max(path.count("/") for path in files)
    while True:
        groups: dict[str, list[str]] = {}
        for path in files:
            parts = path.split("/")
            # Files directly at this level form their own group, named after their directory.
            key = "/".join(parts[: level + 1]) if len(parts) > level + 1 else _here(parts, level)
            groups.setdefault(key, []).append(path)
        only_subdirectory = len(groups) == 1 and not next(iter(groups)).endswith("*")
        if not only_subdirectory or level >= deepest:
            return sorted(groups.items()), level + 1
        level += 1


def _here(parts: list[str], level: int) -> str:
    base = "/".join(parts[:level])
    return f"{base}/*" if base else "*"


def _by_extension(files: Sequence[str], level: int, label: str) -> tuple[Clusters, int]:
    groups: dict[str, list[str]] = {}
    for path in files:
        extension = posixpath.splitext(path)[1] or "(none)"
        groups.setdefault(extension, []).append(path)
    prefix = "" if label == ROOT_LABEL else f"{label} "
    return sorted((f"{prefix}{ext}", paths) for ext, paths in groups.items()), level


def for_parallelism(config: DecomposeConfig, files: int, parallel: int) -> DecomposeConfig:
    """``config`` as a plan of ``files`` files running ``parallel`` leaves at once decomposes
    with: so that it has at least ``min(parallel, files // min_files_per_subplan)`` leaves, no
    leaf holds more than ``ceil(files / that)`` files (nor ``max_files_per_subplan``). A small
    project then still runs in parallel: 34 files, 4 at once, at least 5 files a leaf, become
    4 leaves or more instead of one. (Leaves of at most ``ceil(n / t)`` files are at least
    ``t`` in number.) ``max_depth`` can still stop a split."""
    wanted = min(parallel, files // config.min_files_per_subplan)
    if wanted < 2:
        return config
    cap = math.ceil(files / wanted)
    if cap >= config.max_files_per_subplan:
        return config
    return config.model_copy(update={"max_files_per_subplan": cap})


class Decomposer:
    """Builds the tree for one configuration; optional file sizes feed the token budget."""

    def __init__(self, config: DecomposeConfig, sizes: Mapping[str, int] | None = None) -> None:
        self.config = config
        self.sizes = sizes or {}

    def decompose(self, files: Sequence[str]) -> Cluster:
        """The tree over ``files`` (relative POSIX paths); the root is labelled ``.``."""
        root = Cluster(ROOT_LABEL, sorted(set(files)), depth=0)
        self._split(root, level=0)
        return root

    def _too_big(self, files: Sequence[str]) -> bool:
        if len(files) > self.config.max_files_per_subplan:
            return True
        budget = self.config.max_tokens_per_subplan
        if budget is None:
            return False
        tokens = sum(self.sizes.get(path, 0) for path in files) / BYTES_PER_TOKEN
        return tokens > budget and len(files) > 1

    def _strategies(self) -> list[_Split]:
        chosen = self.config.strategy
        if chosen == "directory":
            return [_by_directory, _by_extension, self._chunks]
        if chosen == "extension":
            return [_by_extension, self._chunks]
        return [self._chunks]

    def _chunks(self, files: Sequence[str], level: int, label: str) -> tuple[Clusters, int]:
        count = max(math.ceil(len(files) / self.config.max_files_per_subplan), 2)
        size = math.ceil(len(files) / count)
        name = "part {n}/{count}" if label == ROOT_LABEL else f"{label} ({{n}}/{{count}})"
        chunks = [
            (name.format(n=n + 1, count=count), list(files[start : start + size]))
            for n, start in enumerate(range(0, len(files), size))
        ]
        return chunks, level

    def _split(self, node: Cluster, level: int) -> None:
        if node.depth >= self.config.max_depth or not self._too_big(node.files):
            return
        for strategy in self._strategies():
            clusters, next_level = strategy(node.files, level, node.label)
            clusters = self._merge_small(clusters)
            if len(clusters) > 1:  # the non-progress guard: one cluster is the input again
                break
        else:
            return
        for label, files in clusters:
            child = Cluster(label, files, depth=node.depth + 1)
            node.children.append(child)
            self._split(child, next_level)

    def _merge_small(self, clusters: Clusters) -> Clusters:
        """Merge clusters under ``min_files`` into their neighbours, keeping the order."""
        smallest = self.config.min_files_per_subplan
        merged: Clusters = []
        for label, files in clusters:
            if merged and (len(files) < smallest or len(merged[-1][1]) < smallest):
                last_label, last_files = merged[-1]
                merged[-1] = (f"{last_label} + {label}", last_files + files)
            else:
                merged.append((label, list(files)))
        return merged
