"""Projects: add, find, list and remove rows of ``projects``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, exc, func, insert, or_, select

from cleveragents.domain.ids import new_id
from cleveragents.domain.plans import PlanPhase
from cleveragents.domain.projects import Project
from cleveragents.errors import ConflictError, ProjectInUseError, ProjectNotFoundError
from cleveragents.store.engine import Database
from cleveragents.store.tables import plans, projects

_p = projects.c


def _to_project(row: Row[Any]) -> Project:
    return Project(**dict(row._mapping))


class ProjectStore:
    """Domain verbs over the ``projects`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, root_path: str, now: datetime) -> Project:
        """Register a project; :class:`ConflictError` if the name or the path is taken.

        The unique constraints decide, so two `project add` racing cannot both win.
        """
        project = Project(id=new_id(), name=name, root_path=root_path, created_at=now)
        try:
            with self.db.write() as conn:
                conn.execute(insert(projects).values(**project.model_dump()))
        except exc.IntegrityError as error:
            taken = self._holder(name, root_path)
            raise ConflictError(
                f"project {taken.name!r} already uses "
                + (f"the name {name!r}" if taken.name == name else f"the path {root_path}")
                + f" ({taken.root_path})"
            ) from error
        return project

    def _holder(self, name: str, root_path: str) -> Project:
        with self.db.read() as conn:
            row = conn.execute(
                select(projects).where(or_(_p.name == name, _p.root_path == root_path))
            ).first()
        assert row is not None, "a unique constraint failed without a holder"
        return _to_project(row)

    def get(self, ref: str) -> Project:
        """The project named ``ref`` (or with that id); :class:`ProjectNotFoundError` otherwise."""
        with self.db.read() as conn:
            row = conn.execute(select(projects).where(or_(_p.name == ref, _p.id == ref))).first()
        if row is None:
            raise ProjectNotFoundError.for_ref(ref)
        return _to_project(row)

    def at_path(self, root_path: str) -> Project | None:
        """The project registered at ``root_path`` (an absolute path), if any."""
        with self.db.read() as conn:
            row = conn.execute(select(projects).where(_p.root_path == root_path)).first()
        return None if row is None else _to_project(row)

    def find(self) -> list[Project]:
        """Every project, by name."""
        with self.db.read() as conn:
            return [_to_project(row) for row in conn.execute(select(projects).order_by(_p.name))]

    def remove(self, ref: str, force: bool = False) -> tuple[Project, int]:
        """Forget a project (its files are not touched); returns it and how many plans went.

        A project with plans is kept unless ``force``: then its plans (their subplans and
        events) are deleted with it, in the same transaction. :class:`ProjectInUseError` while
        any of its plans is executing, or when it has plans and ``force`` is not given.
        """
        project = self.get(ref)
        with self.db.write() as conn:
            count = int(
                conn.execute(
                    select(func.count()).select_from(plans).where(plans.c.project_id == project.id)
                ).scalar_one()
            )
            executing = int(
                conn.execute(
                    select(func.count())
                    .select_from(plans)
                    .where(
                        plans.c.project_id == project.id, plans.c.phase == PlanPhase.EXECUTING.value
                    )
                ).scalar_one()
            )
            if executing:
                raise ProjectInUseError.executing(project.name, executing)
            if count and not force:
                raise ProjectInUseError.has_plans(project.name, count)
            conn.execute(delete(plans).where(plans.c.project_id == project.id))
            conn.execute(delete(projects).where(_p.id == project.id))
        return project, count
