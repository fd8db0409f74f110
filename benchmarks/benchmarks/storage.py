"""What recorded changes cost in the database: 20 plans running the same codemod over one
3,000-file project (30 directories of 100 Python-like files, about 1.7 KB each), each plan run
to its end by a real ``agents plan run`` process in sandboxes (every file modified: a ``sed``
that renames a word on each line).

- ``track_db_bytes_after_1_plan`` / ``..._after_20_plans``: the SQLite file's size (after a WAL
  checkpoint) once the first plan has run, and once all 20 have;
- ``track_db_growth_20_plans``: the second over the first. File contents are stored once per
  content hash, so the 19 later plans add their rows, events and output, not the files again;
  the issue's goal is a ratio under 1.5 (nothing is asserted);
- ``track_db_bytes_after_delete_and_vacuum``: after `plan delete` of the 20 plans and
  `db vacuum`: the database back near its empty size.

Knob: ``AGENTS_BENCH_STORAGE_PLANS`` (default 20).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import string
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ._processes import agents_argv, worker_env
from ._support import env_int

PLANS = env_int("AGENTS_BENCH_STORAGE_PLANS", 20)
DIRECTORIES, FILES_PER_DIRECTORY = 30, 100
CODEMOD = """\
[action]
name = "rename"
command = ["sed", "-i", "s/value/amount/g", "{files}"]
include = ["**/*.py"]
"""

Cache = dict[str, Any]


def _project(root: Path) -> None:
    """Source-like files of about 6 KB that compress as code does (3-4x): functions over names
    drawn from a vocabulary of 2,000 words, a fixed seed."""
    rng = random.Random(1207)
    words = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 10))) for _ in range(2000)
    ]
    for d in range(DIRECTORIES):
        folder = root / f"pkg{d:02d}"
        folder.mkdir(parents=True)
        for f in range(FILES_PER_DIRECTORY):
            lines = []
            for _ in range(24):
                name, a, b = rng.sample(words, 3)
                body = f"return value + {a} * {b}({rng.randint(0, 999)})"
                lines.append(f"def {name}(value, {a}):\n    {body}\n\n")
            (folder / f"mod{f:03d}.py").write_text("".join(lines), encoding="utf-8")


def _agents(db: Path, *args: str) -> str:
    done = subprocess.run(
        agents_argv(*args), env=worker_env(db), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"agents {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def _size(db: Path) -> int:
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(db)


def measure(directory: Path, plans: int = PLANS) -> dict[str, int]:
    """Run ``plans`` plans of the codemod over a fresh project; the database's sizes."""
    root = directory / "project"
    _project(root)
    action = directory / "rename.toml"
    action.write_text(CODEMOD, encoding="utf-8")
    db = directory / "agents.db"
    _agents(db, "project", "add", str(root), "--name", "big")
    sizes: dict[str, int] = {}
    for n in range(plans):
        _agents(db, "plan", "run", "--project", "big", "--action", str(action), "--json")
        if n == 0:
            sizes["after_1"] = _size(db)
    sizes["after_all"] = _size(db)
    listed = json.loads(_agents(db, "plan", "list", "--json", "--limit", str(plans)))
    _agents(db, "plan", "delete", *(plan["id"] for plan in listed))
    _agents(db, "db", "vacuum")
    sizes["after_vacuum"] = _size(db)
    return sizes


class Storage:
    """The database of 20 runs of one codemod over a 3,000-file project."""

    timeout = 1800.0

    def setup_cache(self) -> Cache:
        return measure(Path(tempfile.mkdtemp(prefix="agents-storage-")))

    setup_cache.timeout = 1800.0  # type: ignore[attr-defined]

    def track_db_bytes_after_1_plan(self, sizes: Cache) -> int:
        """The database after the first plan."""
        return int(sizes["after_1"])

    track_db_bytes_after_1_plan.unit = "bytes"  # type: ignore[attr-defined]

    def track_db_bytes_after_20_plans(self, sizes: Cache) -> int:
        """The database after all the plans."""
        return int(sizes["after_all"])

    track_db_bytes_after_20_plans.unit = "bytes"  # type: ignore[attr-defined]

    def track_db_growth_20_plans(self, sizes: Cache) -> float:
        """After all the plans / after the first (goal: under 1.5)."""
        return float(sizes["after_all"]) / float(sizes["after_1"])

    track_db_growth_20_plans.unit = "ratio"  # type: ignore[attr-defined]

    def track_db_bytes_after_delete_and_vacuum(self, sizes: Cache) -> int:
        """After deleting every plan and `agents db vacuum`."""
        return int(sizes["after_vacuum"])

    track_db_bytes_after_delete_and_vacuum.unit = "bytes"  # type: ignore[attr-defined]
