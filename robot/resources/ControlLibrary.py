"""Keywords for the control suite (robot/control.robot): small Python projects that real tools
rewrite, action files running those tools, the same tools run directly on a copy, and
byte-for-byte comparisons of whole trees."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from _robot_support import WAIT_TIMEOUT, agents_library, counted, wait_for_log_line
from robot.api import logger
from robot.api.deco import keyword, library

TOOL_TIMEOUT_S = 120.0  # bounds a failure only: a tool over a dozen small files takes a second

# Old-style Python in four directories: every file but `clean.py` has something pyupgrade
# --py311-plus rewrites (percent and .format() strings, `super(C, self)`, `class C(object)`,
# typing.List/Optional, u-strings, set([...]), open(..., "r"), asyncio.TimeoutError, timezone.utc).
OLD_STYLE = {
    "app/core/models.py": (
        "from typing import List, Optional\n"
        "\n"
        "\n"
        "class Model(object):\n"
        "    def __init__(self, name):\n"
        "        super(Model, self).__init__()\n"
        "        self.name = name\n"
        "\n"
        "    def tags(self) -> List[str]:\n"
        "        return list(set([self.name, u'model']))\n"
        "\n"
        "    def describe(self) -> Optional[str]:\n"
        "        return 'model {}'.format(self.name)\n"
    ),
    "app/core/store.py": (
        "import io\n"
        "\n"
        "\n"
        "def load(path):\n"
        "    with open(path, 'r') as handle:\n"
        "        return handle.read()\n"
        "\n"
        "\n"
        "def load_all(paths):\n"
        "    return dict([(p, load(p)) for p in paths])\n"
        "\n"
        "\n"
        "class Buffer(io.StringIO, object):\n"
        "    pass\n"
    ),
    "app/web/views.py": (
        "import asyncio\n"
        "\n"
        "\n"
        "async def fetch(source, timeout):\n"
        "    try:\n"
        "        return await asyncio.wait_for(source(), timeout)\n"
        "    except asyncio.TimeoutError:\n"
        "        return '%s timed out after %d s' % (source.__name__, timeout)\n"
    ),
    "app/web/handlers.py": (
        "import datetime\n"
        "\n"
        "\n"
        "def stamp():\n"
        "    return datetime.datetime.now(tz=datetime.timezone.utc)\n"
        "\n"
        "\n"
        "def greet(name):\n"
        "    return 'hello {name}'.format(name=name)\n"
    ),
    "app/web/clean.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
    "tools/release.py": (
        "# -*- coding: utf-8 -*-\n"
        "from __future__ import print_function\n"
        "\n"
        "\n"
        "def main(version):\n"
        "    print('releasing {0}'.format(version))\n"
    ),
    "tools/bump.py": (
        "from typing import Dict, Tuple\n"
        "\n"
        "\n"
        "def parts(version: str) -> Tuple[int, ...]:\n"
        "    return tuple(int(p) for p in version.split(u'.'))\n"
        "\n"
        "\n"
        "def table() -> Dict[str, int]:\n"
        "    return dict(major=1)\n"
    ),
    "tests/test_models.py": (
        "import unittest\n"
        "\n"
        "\n"
        "class ModelTest(unittest.TestCase):\n"
        "    def test_name(self):\n"
        "        self.assertEquals(u'a', 'a')\n"
    ),
    "README.md": "# demo\n\nNot Python: no tool run here touches it.\n",
}

# Python that `ruff format` reflows (quotes, spacing, blank lines, a long call split at the
# project's line-length), in three directories, with a pyproject.toml the sandboxed tool must
# read as it would in place.
UNFORMATTED = {
    "pyproject.toml": (
        "[tool.ruff]\nline-length = 60\n\n[tool.ruff.format]\nquote-style = 'single'\n"
    ),
    "lib/alpha/one.py": "import os,sys\ndef f( a,b ):\n  return {\"a\":a,'b':b}\n",
    "lib/alpha/two.py": (
        "x = [1,2,3]\n"
        "def long_call():\n"
        "    return some_function_name(first_argument, second_argument, third_argument)\n"
    ),
    "lib/beta/three.py": 'class  C :\n  def m(self) : return  "three"\n',
    "lib/beta/four.py": "if True :\n    pass\n\n\n\n\ny=( 4 )\n",
    "lib/gamma/five.py": "def g():\n\n\n    return   5\n",
    "lib/gamma/six.py": "values = {  'k' : [ 6 ,6 ] }\n",
    "NOTES.txt": "not python\n",
}
# The file of `lib/beta` that is not Python, and the same file fixed (still unformatted).
BROKEN = ("lib/beta/three.py", 'class  C :\n  def m(self) return  "three"\n')
FIXED = 'class  C :\n  def m(self) : return  "three"  # fixed\n'


@library(scope="GLOBAL", auto_keywords=False)
class ControlLibrary:
    """Projects, tool actions and whole-tree comparisons."""

    # -- projects -------------------------------------------------------------------------------

    @keyword
    def write_old_style_project(self, name: str) -> str:
        """Write the old-style Python project (four directories) into the work dir; its path."""
        return self._write_tree(name, OLD_STYLE)

    @keyword
    def write_unformatted_project(self, name: str, broken: bool = True) -> str:
        """Write the unformatted project (three directories) into the work dir, with
        `lib/beta/three.py` not valid Python when ``broken``; its path."""
        files = dict(UNFORMATTED)
        if broken:
            files[BROKEN[0]] = BROKEN[1]
        return self._write_tree(name, files)

    @keyword
    def broken_file(self) -> str:
        """The project-relative path of the unformatted project's invalid Python file."""
        return BROKEN[0]

    @keyword
    def fix_broken_file(self, root: str) -> None:
        """Make the broken file of the unformatted project at ``root`` valid (still unformatted)."""
        (Path(root) / BROKEN[0]).write_text(FIXED, encoding="utf-8")

    def _write_tree(self, name: str, files: dict[str, str]) -> str:
        root = agents_library().work_dir() / name
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        return str(root)

    @keyword
    def copy_project(self, root: str, name: str) -> str:
        """Copy the project at ``root`` to ``NAME`` in the work dir (bytes and modes); its path."""
        target = agents_library().work_dir() / name
        shutil.copytree(root, target, symlinks=True)
        return str(target)

    # -- tools ----------------------------------------------------------------------------------

    @keyword
    def tool_path(self, tool: str) -> str:
        """The console script ``tool`` of the interpreter running Robot (the venv's)."""
        path = Path(sys.executable).parent / tool
        if not path.exists():
            raise AssertionError(f"{tool} is not installed next to {sys.executable}")
        return str(path)

    @keyword
    def run_tool_directly(self, root: str, tool: str, *args: str, expected_rc: int = 0) -> str:
        """Run ``TOOL ARGS FILES`` in ``root``, with every ``*.py`` file under it (relative,
        sorted) as FILES, as a user would run it in the project; it must exit ``expected_rc``.
        Returns its output."""
        base = Path(root)
        files = sorted(p.relative_to(base).as_posix() for p in base.rglob("*.py") if p.is_file())
        argv = [self.tool_path(tool), *args, *files]
        done = subprocess.run(
            argv,
            cwd=base,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        output = f"{' '.join(argv)} (in {root})\nrc: {done.returncode}\n{done.stdout}{done.stderr}"
        logger.info(output)
        if done.returncode != int(expected_rc):
            raise AssertionError(f"expected exit {expected_rc}\n{output}")
        return done.stdout + done.stderr

    @keyword
    def write_tool_action(
        self,
        name: str,
        tool: str,
        *args: str,
        success_exit_codes: str = "",
        failure_mode: str = "",
        verify: str = "",
        **decompose: str,
    ) -> str:
        """Write ``NAME.toml`` in the work dir: an action running the installed ``tool`` with
        ``ARGS`` (``{files}`` among them) on ``**/*.py``, in the default sandbox. Optional:
        ``success_exit_codes`` (``0, 1``), ``failure_mode``, a ``verify`` command (the installed
        tool first, then its arguments, space-separated); other named arguments go to
        ``[action.decompose]``. Returns the file's path."""
        command = [self.tool_path(tool), *args]
        lines = [
            "[action]",
            f"name = {json.dumps(name)}",
            f"command = {self._toml_list(command)}",
            'include = ["**/*.py"]',
        ]
        if success_exit_codes:
            lines.append(f"success_exit_codes = [{success_exit_codes}]")
        if decompose:
            lines += ["", "[action.decompose]"]
            lines += [f"{key} = {int(value)}" for key, value in decompose.items()]
        if failure_mode:
            lines += ["", "[action.profile]", f"failure_mode = {json.dumps(failure_mode)}"]
        if verify:
            verify_tool, *verify_args = verify.split()
            verify_argv = [self.tool_path(verify_tool), *verify_args]
            lines += ["", "[action.verify]", f"command = {self._toml_list(verify_argv)}"]
        path = agents_library().work_dir() / f"{name}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        logger.info(f"{path}:\n{path.read_text(encoding='utf-8')}")
        return str(path)

    @staticmethod
    def _toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(item) for item in items) + "]"

    # -- trees ----------------------------------------------------------------------------------

    @keyword
    def tree_bytes(self, root: str) -> dict[str, bytes]:
        """Every file under ``root`` (relative POSIX path) with its exact content."""
        base = Path(root)
        return {
            p.relative_to(base).as_posix(): p.read_bytes()
            for p in sorted(base.rglob("*"))
            if p.is_file() or p.is_symlink()
        }

    @keyword
    def trees_should_be_byte_identical(self, actual: str, expected: str) -> None:
        """The same files under both roots, each with the same bytes."""
        mine, theirs = self.tree_bytes(actual), self.tree_bytes(expected)
        differ = sorted(path for path in set(mine) & set(theirs) if mine[path] != theirs[path])
        problems = counted(
            (f"file(s) only in {actual}", sorted(set(mine) - set(theirs))),
            (f"file(s) only in {expected}", sorted(set(theirs) - set(mine))),
            ("file(s) with other bytes", differ),
        )
        if problems:
            for path in differ[:3]:
                logger.info(f"{path}:\n{mine[path]!r}\nexpected:\n{theirs[path]!r}")
            raise AssertionError("; ".join(problems))
        logger.info(f"{len(mine)} files, byte for byte the same")

    @keyword
    def files_should_be_as_in(self, root: str, other: str, paths: list[str]) -> None:
        """Each of ``paths`` has the same bytes under ``root`` as under ``other``."""
        differ = [
            path
            for path in paths
            if (Path(root) / path).read_bytes() != (Path(other) / path).read_bytes()
        ]
        if differ:
            raise AssertionError(f"{len(differ)} file(s) differ from {other}: {differ}")

    @keyword
    def files_should_differ_from(self, root: str, other: str, paths: list[str]) -> None:
        """Each of ``paths`` has other bytes under ``root`` than under ``other`` (a tool
        changed it)."""
        same = [
            path
            for path in paths
            if (Path(root) / path).read_bytes() == (Path(other) / path).read_bytes()
        ]
        if same:
            raise AssertionError(f"{len(same)} file(s) unchanged against {other}: {same}")

    # -- plans ----------------------------------------------------------------------------------

    @keyword
    def leaves_by_state(self, status: dict[str, Any], state: str) -> list[dict[str, Any]]:
        """The leaf subplans (those with files) of a `plan status --json` document in ``state``."""
        return [node for node in status["subplans"] if node["files"] and node["state"] == state]

    @keyword
    def files_of_leaves(self, leaves: list[dict[str, Any]]) -> list[str]:
        """Every file of these leaves, sorted."""
        return sorted(path for leaf in leaves for path in leaf["files"])

    @keyword
    def wait_until_process_prints(
        self, alias: str, pattern: str, timeout: str = WAIT_TIMEOUT
    ) -> str:
        """Poll the stdout of the process `Start Agents` started as ``alias`` until a line
        matches ``pattern`` (a regular expression); return that line."""
        return wait_for_log_line(agents_library().work_dir() / f"{alias}.stdout", pattern, timeout)
