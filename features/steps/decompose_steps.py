"""Steps about decomposing a project's files into a tree of subplans."""

from __future__ import annotations

import random
from typing import Any

from behave import given, then, when

from cleveragents.plans.decompose import DecomposeConfig, Decomposer


@given("the files")
def step_files(context: Any) -> None:
    context.files = [row["path"] for row in context.table]
    sized = "bytes" in context.table.headings
    context.sizes = {row["path"]: int(row["bytes"]) for row in context.table if sized}


@given("{count:d} files in {dirs:d} directories of {subdirs:d} subdirectories each")
def step_layout(context: Any, count: int, dirs: int, subdirs: int) -> None:
    rng = random.Random(7)
    extensions = [".py", ".md", ".json", ".ts"]
    context.files = [
        f"src/pkg{n % dirs}/mod{(n // dirs) % subdirs}/file{n}{rng.choice(extensions)}"
        for n in range(count)
    ]
    context.sizes = {}


@given("{count:d} files in one directory")
def step_flat(context: Any, count: int) -> None:
    context.files = [f"src/file{n:05d}.py" for n in range(count)]
    context.sizes = {}


@when("they are decomposed with {options}")
@when("they are decomposed")
def step_decompose(context: Any, options: str = "") -> None:
    values: dict[str, Any] = {}
    for part in options.split(","):
        if part.strip():
            key, _, value = part.partition("=")
            value = value.strip()
            values[key.strip()] = int(value) if value.isdigit() else value
    context.decompose_config = DecomposeConfig(**values)
    context.tree = Decomposer(context.decompose_config, context.sizes).decompose(context.files)


@then("every file is in exactly one leaf")
def step_partition(context: Any) -> None:
    leaves = context.tree.leaves()
    placed = [path for leaf in leaves for path in leaf.files]
    assert sorted(placed) == sorted(set(context.files)), "files lost or duplicated"
    assert len(placed) == len(set(placed))


@then("no leaf holds more than {count:d} files")
def step_max(context: Any, count: int) -> None:
    biggest = max(len(leaf.files) for leaf in context.tree.leaves())
    assert biggest <= count, biggest


@then("no leaf holds fewer than {count:d} files")
def step_min(context: Any, count: int) -> None:
    smallest = min(len(leaf.files) for leaf in context.tree.leaves())
    assert smallest >= count, smallest


@then("the tree is {depth:d} levels deep")
def step_depth(context: Any, depth: int) -> None:
    deepest = max(node.depth for node in context.tree.walk())
    assert deepest == depth, deepest


@then("the tree has {count:d} leaves")
def step_leaf_count(context: Any, count: int) -> None:
    assert len(context.tree.leaves()) == count, [leaf.label for leaf in context.tree.leaves()]


@then("the leaves are labelled {labels}")
def step_labels(context: Any, labels: str) -> None:
    got = [leaf.label for leaf in context.tree.leaves()]
    wanted = [label.strip() for label in labels.split(";")]
    assert got == wanted, got


@then("decomposing them again in another order gives the same tree")
def step_deterministic(context: Any) -> None:
    shuffled = list(context.files)
    random.Random(3).shuffle(shuffled)
    again = Decomposer(context.decompose_config, context.sizes).decompose(shuffled)

    def shape(node: Any) -> Any:
        return (node.label, node.files, [shape(child) for child in node.children])

    assert shape(again) == shape(context.tree)


@then("the root is a single leaf")
def step_single(context: Any) -> None:
    assert context.tree.is_leaf and context.tree.label == "."
