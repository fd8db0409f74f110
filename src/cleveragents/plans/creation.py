"""Creating a plan: discover the project's files, decompose them, resolve the profile, store it all.

Everything is worked out before anything is written, and the plan and its whole subplan tree are
stored in one transaction, so bad input leaves nothing half-created.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cleveragents.domain.ids import new_id, new_ids
from cleveragents.domain.plans import Plan, Subplan
from cleveragents.domain.profile import resolve_profile
from cleveragents.domain.projects import Project
from cleveragents.errors import InvalidInputError
from cleveragents.plans.actions import ActionSpec
from cleveragents.plans.decompose import Cluster, Decomposer, for_parallelism
from cleveragents.plans.discovery import discover_files
from cleveragents.store.engine import Database
from cleveragents.store.plans import PlanStore

PLAN_SOURCE = "plan (command line)"


def tree_to_subplans(plan_id: str, root: Cluster) -> list[Subplan]:
    """The rows of a decomposed tree: parents before children, ``position`` in tree order."""
    nodes = root.walk()
    ids = new_ids(len(nodes))
    id_of = {id(node): node_id for node, node_id in zip(nodes, ids, strict=True)}
    rows: list[Subplan] = []
    for position, node in enumerate(nodes):
        rows.append(
            Subplan(
                id=id_of[id(node)],
                plan_id=plan_id,
                parent_id=None,
                depth=node.depth,
                position=position,
                label=node.label,
                is_leaf=node.is_leaf,
                files=list(node.files) if node.is_leaf else [],
                file_count=len(node.files),
            )
        )
    parent_of = {id_of[id(child)]: id_of[id(node)] for node in nodes for child in node.children}
    return [row.model_copy(update={"parent_id": parent_of.get(row.id)}) for row in rows]


def _sizes(root: Path, files: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in files:
        try:
            sizes[path] = os.stat(root / path).st_size
        except OSError:
            sizes[path] = 0
    return sizes


def create_plan(
    db: Database,
    project: Project,
    action: ActionSpec,
    *,
    overrides: Mapping[str, Any],
    global_values: Mapping[str, tuple[Any, str]],
    now: datetime,
) -> tuple[Plan, list[Subplan]]:
    """Decompose ``project`` for ``action`` and store the new plan; returns it and its subplans.

    ``overrides`` are the plan's own profile values (flags); ``global_values`` map a profile
    field to ``(value, source)`` from the settings.
    """
    profile = resolve_profile(
        [
            (PLAN_SOURCE, {k: v for k, v in overrides.items() if v is not None}),
            action.profile_layer(),
        ],
        global_values,
    )
    root = Path(project.root_path)
    files = discover_files(root, action.include, action.exclude)
    if not files:
        raise InvalidInputError(
            f"no files of project {project.name!r} match action {action.name!r} "
            f"(include {list(action.include)}, exclude {list(action.exclude)})"
        )
    sizes = _sizes(root, files) if action.decompose.max_tokens_per_subplan else None
    decompose = for_parallelism(action.decompose, len(files), profile.parallel)
    tree = Decomposer(decompose, sizes).decompose(files)
    plan_id = new_id()
    nodes = tree_to_subplans(plan_id, tree)
    plan = Plan(
        id=plan_id,
        project_id=project.id,
        project_name=project.name,
        action_name=action.name,
        action=action.snapshot(),
        profile=profile,
        created_at=now,
    )
    PlanStore(db).create(plan, nodes)
    return plan, nodes
