"""Projects: a named directory that plans run over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Project(BaseModel):
    """One row of ``projects``."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    root_path: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The project as a JSON-ready dict."""
        return self.model_dump(mode="json")
