"""Keywords for the workspaces suite: the overlay mounts a process's mount namespace holds, and
the workspaces a plan's runs left in TMPDIR."""

from __future__ import annotations

import os
from pathlib import Path

from robot.api.deco import keyword


@keyword
def overlay_mounts_seen_by(pid: str = "self") -> list[str]:
    """The overlay mounts in the mount namespace of process ``pid`` (``self``: a new look from
    this process, whose namespace is the host's)."""
    try:
        lines = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
    except OSError:
        return []
    return [line for line in lines if " - overlay " in line]


@keyword
def overlay_mounts_of_plan_anywhere(plan_id: str) -> list[str]:
    """Every process whose mount namespace still holds an overlay of ``plan_id``'s workspaces."""
    marker = f"agents-plan-{plan_id}-"
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            mounts = overlay_mounts_seen_by(entry)
            if any(marker in line for line in mounts):
                found.append(entry)
    return found


@keyword
def workspaces_of_plan_left(plan_id: str, tmpdir: str) -> list[str]:
    """The directories of ``plan_id``'s runs left in ``tmpdir`` (the TMPDIR the `agents`
    processes had), upper directories included."""
    return sorted(str(p) for p in Path(tmpdir).glob(f"agents-plan-{plan_id}-*"))
