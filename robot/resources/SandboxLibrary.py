"""Keywords for the sandbox suite: projects whose files have trailing whitespace, byte-for-byte
snapshots of a project and the content a whitespace-stripping action must give it (computed here,
independently of the product), `plan diff` output parsed, and git repositories of a project.

The `agents` calls themselves go through AgentsLibrary (its environment and coverage set-up); the
one pipeline this library runs (`agents plan diff PLAN | git apply ...`) uses that environment too.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

from _robot_support import agents_library, counted
from robot.api import logger
from robot.api.deco import keyword, library

RUN_TIMEOUT_S = 120.0
GIT_IDENTITY = ["-c", "user.name=Robot", "-c", "user.email=robot@example.invalid"]
_TRAILING = re.compile(rb"[ \t\r\v\f]+$")  # what sed's [[:space:]]*$ takes off a line (ASCII)
_STAT_LINE = re.compile(r"^ (\S.*?) +\| (.+)$")
_STAT_SUMMARY = re.compile(r"^ ([\d,]+) files? changed, \+([\d,]+) -([\d,]+)$")
_TEMP_NAME = re.compile(r"^\..+\.agents-[0-9a-z]+\.tmp$")

Snapshot = dict[str, bytes]


@library(scope="GLOBAL", auto_keywords=False)
class SandboxLibrary:
    """Projects with trailing whitespace, snapshots, expected content, diffs and git."""

    # -- projects -----------------------------------------------------------------------------

    @keyword
    def generate_whitespace_project(
        self, root: str, files: int = 300, dirs: int = 10, dirty_every: int = 3
    ) -> str:
        """Write ``files`` text files over ``dirs`` directories under ``root``
        (``dNN/fNNNNN.txt``); every ``dirty_every``-th one has lines ending in spaces or tabs
        (some CRLF, some without a final newline, some executable, two with a space or non-ASCII
        letters in their names), the others have whitespace only inside or at the start of
        lines. Also writes two files a ``**/*.txt`` action does
        not select, both with trailing whitespace: ``assets/blob.bin`` (binary) and
        ``README.md``. Returns ``root``."""
        base = Path(root)
        count, spread, every = int(files), int(dirs), int(dirty_every)
        for index in range(count):
            path = base / f"d{index % spread:02d}" / f"f{index:05d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_text_file(index, dirty=index % every == 0))
        for rel in ("d00/with space.txt", "d01/ünï cödé.txt"):  # names git has to quote
            (base / rel).write_bytes(b"odd name  \nsecond\t\n")
        for index in range(3, count, 50):  # executable files to strip: they must stay so
            os.chmod(base / f"d{index % spread:02d}" / f"f{index:05d}.txt", 0o755)
        (base / "assets").mkdir(parents=True, exist_ok=True)
        (base / "assets" / "blob.bin").write_bytes(
            bytes(range(256)) + b"\x00binary  \n\t \n" + bytes(range(255, -1, -1)) + b"  \n"
        )
        (base / "README.md").write_bytes(b"# Project  \n\nNot selected by the action.\t\n")
        return str(base)

    @keyword
    def generate_flat_project(
        self, root: str, files: int, dirs: int, prefix: str = "d", dirty: bool = True
    ) -> list[str]:
        """Add ``files`` text files in ``dirs`` directories (``PREFIXNN/gNNNNN.txt``) under
        ``root``, each with trailing whitespace when ``dirty``; return their relative paths."""
        base = Path(root)
        made = []
        for index in range(int(files)):
            rel = f"{prefix}{index % int(dirs):02d}/g{index:05d}.txt"
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            trail = b" \t" if _flag(dirty) else b""
            path.write_bytes(b"file %d%s\nsecond line%s\n" % (index, trail, trail))
            made.append(rel)
        return sorted(made)

    @keyword
    def snapshot_files(self, root: str) -> Snapshot:
        """Every file under ``root`` (``.git`` excluded) by relative POSIX path: its bytes."""
        base = Path(root)
        found: Snapshot = {}
        for directory, subdirs, names in os.walk(base):
            subdirs[:] = [name for name in subdirs if name != ".git"]
            for name in names:
                path = Path(directory) / name
                found[path.relative_to(base).as_posix()] = path.read_bytes()
        logger.info(f"{len(found)} files under {root}")
        return found

    @keyword
    def snapshot_modes(self, root: str) -> dict[str, str]:
        """Every file under ``root`` (``.git`` excluded): its permission bits in octal."""
        base = Path(root)
        modes = {}
        for directory, subdirs, names in os.walk(base):
            subdirs[:] = [name for name in subdirs if name != ".git"]
            for name in names:
                path = Path(directory) / name
                modes[path.relative_to(base).as_posix()] = self.file_mode(str(path))
        return modes

    @keyword
    def strip_trailing_whitespace(self, snapshot: Snapshot, suffix: str = ".txt") -> Snapshot:
        """What ``sed -i -e 's/[[:space:]]*$//'`` makes of every ``suffix`` file of a
        snapshot (each line loses its trailing spaces, tabs and CRs; a last line without a
        newline keeps going without one); the other files as they are."""
        expected: Snapshot = {}
        for path, data in snapshot.items():
            if not path.endswith(suffix):
                expected[path] = data
                continue
            lines = data.split(b"\n")
            expected[path] = b"\n".join(_TRAILING.sub(b"", line) for line in lines)
        return expected

    @keyword
    def take_files(self, snapshot: Snapshot, source: Snapshot, paths: list[str]) -> Snapshot:
        """A copy of ``snapshot`` in which ``paths`` hold what ``source`` has for them."""
        merged = dict(snapshot)
        merged.update({path: source[path] for path in paths})
        return merged

    @keyword
    def changed_paths(self, before: Snapshot, after: Snapshot) -> list[str]:
        """Sorted paths whose bytes differ between two snapshots, or that only one holds."""
        return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))

    @keyword
    def files_should_be(self, root: str, expected: Snapshot, msg: str = "") -> None:
        """The files under ``root`` (``.git`` excluded) are exactly ``expected``, byte for
        byte: none missing, none extra, none different. The message names the first few."""
        actual = self.snapshot_files(root)
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        different = sorted(p for p in set(expected) & set(actual) if expected[p] != actual[p])
        problems = counted(("missing", missing), ("unexpected", extra))
        if different:
            shown = [
                f"{p}: {actual[p][:60]!r}, expected {expected[p][:60]!r}" for p in different[:5]
            ]
            problems.append(f"{len(different)} different:\n  " + "\n  ".join(shown))
        if problems:
            raise AssertionError(
                (f"{msg}: " if msg else "") + f"files under {root}: " + "; ".join(problems)
            )

    @keyword
    def write_files(self, root: str, snapshot: Snapshot, *paths: str) -> None:
        """Write ``paths`` (all of the snapshot when none) under ``root`` as the snapshot
        holds them."""
        for path in paths or sorted(snapshot):
            target = Path(root) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(snapshot[path])

    @keyword
    def temp_files_left(self, root: str) -> list[str]:
        """Files under ``root`` named like an apply's temp files (``.NAME.agents-ID.tmp``)."""
        base = Path(root)
        return sorted(
            path.relative_to(base).as_posix()
            for path in base.rglob("*")
            if _TEMP_NAME.match(path.name)
        )

    @keyword
    def file_mode(self, path: str) -> str:
        """The permission bits of ``path`` in octal (``644``)."""
        return f"{stat.S_IMODE(os.lstat(path).st_mode):o}"

    # -- plan diff ----------------------------------------------------------------------------

    @keyword
    def parse_diff_stat(self, text: str) -> dict[str, Any]:
        """`plan diff --stat` output as ``{"paths": {path: detail}, "files", "added",
        "removed"}``; every line must be a file line or the one summary line, last."""
        lines = text.splitlines()
        if not lines:
            raise AssertionError("empty --stat output")
        summary = _STAT_SUMMARY.match(lines[-1])
        if summary is None:
            raise AssertionError(f"no summary line at the end: {lines[-1]!r}")
        paths: dict[str, str] = {}
        for text_line in lines[:-1]:
            match = _STAT_LINE.match(text_line)
            if match is None:
                raise AssertionError(f"not a --stat line: {text_line!r}")
            if match[1] in paths:
                raise AssertionError(f"{match[1]} listed twice")
            paths[match[1]] = match[2]
        files, added, removed = (int(group.replace(",", "")) for group in summary.groups())
        if files != len(paths):
            raise AssertionError(f"the summary says {files} files, {len(paths)} are listed")
        return {"paths": paths, "files": files, "added": added, "removed": removed}

    @keyword
    def expected_line_counts(self, before: Snapshot, after: Snapshot) -> dict[str, int]:
        """Lines removed and added (``{"added", "removed"}``) when every changed line of each
        file is replaced in place: each line that differs counts once each way."""
        added = removed = 0
        for path in self.changed_paths(before, after):
            old = before[path].split(b"\n")
            new = after[path].split(b"\n")
            if len(old) != len(new):
                raise AssertionError(f"{path}: line count changed")
            differing = sum(1 for a, b in zip(old, new, strict=True) if a != b)
            added += differing
            removed += differing
        return {"added": added, "removed": removed}

    @keyword
    def changes_should_be(
        self, changes: list[dict[str, Any]], before: Snapshot, after: Snapshot, applied: bool
    ) -> None:
        """`plan diff --json` lists exactly the files that differ between the snapshots, each
        ``modified`` from the SHA-256 of its bytes before to that of its bytes after, as text,
        with no conflict, and ``applied`` as given."""
        wrong = []
        paths = [change["path"] for change in changes]
        if paths != self.changed_paths(before, after):
            wrong.append(
                f"paths {paths[:5]}... differ from {self.changed_paths(before, after)[:5]}"
            )
        for change in changes:
            path = change["path"]
            if path not in before or path not in after:
                continue
            want = {
                "change": "modified",
                "base_sha256": hashlib.sha256(before[path]).hexdigest(),
                "new_sha256": hashlib.sha256(after[path]).hexdigest(),
                "binary": False,
                "size": len(after[path]),
                "applied": _flag(applied),
                "conflict": None,
            }
            for name, value in want.items():
                if change[name] != value:
                    wrong.append(f"{path}: {name} is {change[name]!r}, expected {value!r}")
        if wrong:
            raise AssertionError(f"{len(wrong)} problem(s):\n" + "\n".join(wrong[:10]))

    @keyword
    def conflict_lines(self, stderr: str) -> dict[str, str]:
        """The ``conflict: PATH: REASON`` lines of ``stderr`` as ``{path: reason}``."""
        found: dict[str, str] = {}
        for text_line in stderr.splitlines():
            if text_line.startswith("conflict: "):
                path, _, reason = text_line[len("conflict: ") :].partition(": ")
                found[path] = reason
        return found

    # -- git ----------------------------------------------------------------------------------

    @keyword
    def init_git_repository(self, root: str) -> str:
        """Make ``root`` a git repository with one commit of everything in it; return the
        commit's id."""
        self.git(root, "init", "-q", "-b", "main")
        self.git(root, "add", "-A")
        self.git(root, *GIT_IDENTITY, "commit", "-q", "--no-gpg-sign", "-m", "base")
        return self.git(root, "rev-parse", "HEAD").strip()

    @keyword
    def git(self, root: str, *args: str) -> str:
        """``git ARGS`` in ``root`` (user and system config ignored); must exit 0; stdout."""
        completed = subprocess.run(
            ["git", *args],
            cwd=root,
            env=_git_env(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        logger.info(
            f"git {' '.join(args)} (in {root}) -> {completed.returncode}\n"
            f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        )
        if completed.returncode != 0:
            raise AssertionError(
                f"git {' '.join(args)} exited {completed.returncode}:\n{completed.stderr}"
            )
        return completed.stdout

    @keyword
    def pipe_plan_diff_into_git(self, plan_id: str, root: str, *git_args: str) -> str:
        """``agents plan diff PLAN | git GIT_ARGS`` run in ``root`` as a real pipeline (the
        diff's stdout a pipe, not a terminal); both must exit 0. Returns git's output."""
        agents = agents_library()
        env = {**os.environ, **agents.environment}  # the test's database, as every `agents` call
        started = time.monotonic()
        producer = subprocess.Popen(
            [agents.agents_executable(), "plan", "diff", plan_id],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        assert producer.stdout is not None
        consumer = subprocess.Popen(
            ["git", *git_args],
            cwd=root,
            env=_git_env(),
            stdin=producer.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        producer.stdout.close()  # git holds the read end now
        git_out, _ = consumer.communicate(timeout=RUN_TIMEOUT_S)
        diff_err = producer.stderr.read() if producer.stderr else b""
        producer.wait(timeout=RUN_TIMEOUT_S)
        if producer.stderr:
            producer.stderr.close()
        output = git_out.decode("utf-8", "replace")
        logger.info(
            f"agents plan diff {plan_id} | git {' '.join(git_args)} (in {root}): agents "
            f"{producer.returncode}, git {consumer.returncode} "
            f"({time.monotonic() - started:.2f} s)\nagents stderr:\n"
            f"{diff_err.decode('utf-8', 'replace')}\ngit:\n{output}"
        )
        if producer.returncode != 0 or consumer.returncode != 0:
            raise AssertionError(
                f"agents plan diff exited {producer.returncode}, git {' '.join(git_args)} "
                f"exited {consumer.returncode}:\n{output[-3000:]}"
            )
        return output


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")


def _text_file(index: int, *, dirty: bool) -> bytes:
    """A small text file; with ``dirty``, some of its lines end in whitespace."""
    crlf = dirty and index % 7 == 0
    lines = [
        b"line one of file %d" % index,
        b"  indented\tline with  inner   spaces",
        b"",
        b"last words of %d" % index,
    ]
    if dirty:
        tails = [b" ", b"\t", b"  \t ", b"   "]
        lines[index % 2] += tails[index % 4]
        lines[2] = tails[(index + 1) % 4]  # a blank line that is not empty
        if index % 5 == 0:
            lines[3] += b" \t"
    newline = b"\r\n" if crlf else b"\n"
    body = newline.join(lines)
    if index % 4 != 1:  # a quarter of the files end without a newline
        body += newline
    return body


def _git_env() -> dict[str, str]:
    """The environment for git: no user or system configuration, no pager, no prompts."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") and not key.startswith("AGENTS_")
    }
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        LC_ALL="C",
    )
    return env
