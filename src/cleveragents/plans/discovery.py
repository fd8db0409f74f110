"""File discovery: the project's files as its user expects them, for a plan to work on.

One ``os.scandir`` walk (fast: no ``stat`` beyond what the directory listing already gives) that
respects git's ignore rules the way git does: ``.git/info/exclude``, the root ``.gitignore`` and
nested ones, each relative to its own directory, a deeper file overriding a shallower one, ``!``
negation, and an ignored directory never descended (so nothing under it can be re-included).
``.git`` (at any level) and the tool's state directory ``.agents`` (at the root) are never
entered. Symlinked directories are never followed, so the walk stays inside the project and
cannot loop; a symlinked file counts only when it resolves to a regular file inside the project.
The action's ``include`` / ``exclude`` globs then select from what is left.

Every pattern is matched by pathspec, a well-kept implementation of git's wildmatch rules
(``**``, anchoring on ``/``, directory-only patterns, character classes, escapes), rather than
by hand-written glob code: those rules have many corners and a near-miss silently changes which
files a plan touches.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from pathspec import GitIgnoreSpec

from cleveragents.errors import InvalidInputError

GIT_DIR = ".git"  # skipped at any level: a repository's internals, or a worktree's pointer file
STATE_DIR = ".agents"  # the tool's own state, at the project root only
IGNORE_FILE = ".gitignore"

# pathspec reports a malformed pattern as GitIgnorePatternError (a ValueError) or, for a bad
# character range such as "[z-a]", as the regex engine's error.
_PATTERN_ERRORS = (ValueError, re.error)
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]!# ])")  # escaped in a directory name used as a prefix


class _Rules(NamedTuple):
    """The ignore patterns in force in one directory, every one relative to the root.

    Two specs of the same patterns: ``files`` as written, for files; ``dirs`` with each
    pattern's trailing "/" (git's "directories only" mark) dropped, for directories, which are
    checked by their plain path. A directory checked as "deep/" would wrongly match "deep/**",
    which git reads as "everything inside deep" (so "!deep/keep" can still re-include).
    """

    files: GitIgnoreSpec
    dirs: GitIgnoreSpec


_NO_RULES = _Rules(GitIgnoreSpec([]), GitIgnoreSpec([]))


def discover_files(
    root: Path, include: Sequence[str] = ("**/*",), exclude: Sequence[str] = ()
) -> list[str]:
    """Sorted relative POSIX paths of the project's regular files under ``root``.

    Files ignored by git's rules, anything under ``.git`` or the root's ``.agents``, symlinked
    directories, broken symlinks and symlinks leading outside ``root`` are left out, as are
    directories that cannot be read. Of the rest, a file is kept when it matches at least one
    ``include`` glob and no ``exclude`` glob (git wildmatch syntax, relative to ``root``:
    ``**/*.py`` matches ``a.py`` at the top as well as ``src/b.py``).

    Raises :class:`InvalidInputError` when ``root`` is not an existing directory or a glob is
    malformed.
    """
    base = Path(root)
    if not base.is_dir():
        problem = "is not a directory" if base.exists() else "does not exist"
        raise InvalidInputError(f"project root {base} {problem}")
    included = _compile_globs(include, "include")
    excluded = _compile_globs(exclude, "exclude")
    found = _walk(base)
    return sorted(
        path for path in found if included.match_file(path) and not excluded.match_file(path)
    )


def _walk(base: Path) -> list[str]:
    """Every file git's rules keep, depth-first with an explicit stack (no recursion limit)."""
    real_root = os.path.realpath(base)
    # info/exclude has the lowest precedence, so its patterns come first: the last match wins.
    top = _with_ignore_file(_NO_RULES, base / GIT_DIR / "info" / "exclude", "")
    found: list[str] = []
    pending: list[tuple[str, str, _Rules]] = [(str(base), "", top)]
    while pending:
        directory, prefix, rules = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError:
            # Unreadable (permissions) or gone since its parent was listed: not the project's
            # files as far as anyone can tell, and no reason to lose the rest of the walk.
            continue
        for entry in entries:
            # git does not follow a symlinked .gitignore inside the work tree; neither do we.
            if entry.name == IGNORE_FILE and entry.is_file(follow_symlinks=False):
                rules = _with_ignore_file(rules, Path(entry.path), prefix)
                break
        ignored, ignored_dir = rules.files.match_file, rules.dirs.match_file
        for entry in entries:
            name = entry.name
            if name == GIT_DIR or (name == STATE_DIR and not prefix):
                continue
            path = prefix + name
            if entry.is_dir(follow_symlinks=False):
                if not ignored_dir(path):
                    pending.append((entry.path, path + "/", rules))
            elif entry.is_file(follow_symlinks=False):
                if not ignored(path):
                    found.append(path)
            elif entry.is_symlink() and _links_inside(entry.path, real_root):
                # git records a symlink as a file: directory-only patterns do not apply to it.
                if not ignored(path):
                    found.append(path)
    return found


class IgnoreRules:
    """git's verdict on paths under ``root`` (files that may not exist yet), by the rules the
    walk applies: a path under an ignored directory, or one an ignore pattern matches. The
    ``.gitignore`` files read are the project's own or, where ``over`` (a tree laid over the
    project: a workspace) holds one at the same place, that one: a cache directory a tool
    created with a ``.gitignore`` of ``*`` in it is ignored. Rules are read once per directory."""

    def __init__(self, root: Path, over: Path | None = None) -> None:
        self._root = Path(root)
        self._over = over
        top = _with_ignore_file(_NO_RULES, self._root / GIT_DIR / "info" / "exclude", "")
        self._rules_of: dict[str, _Rules] = {"": _with_ignore_file(top, self._file(""), "")}

    def _file(self, prefix: str) -> Path:
        if self._over is not None and (self._over / prefix / IGNORE_FILE).is_file():
            return self._over / prefix / IGNORE_FILE
        return self._root / prefix / IGNORE_FILE

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        """Whether git ignores ``path`` (a directory when ``is_dir``)."""
        parts = path.split("/")
        prefix, rules = "", self._rules_of[""]
        for name in parts[:-1]:
            if rules.dirs.match_file(prefix + name):
                return True
            prefix += name + "/"
            if prefix not in self._rules_of:
                self._rules_of[prefix] = _with_ignore_file(rules, self._file(prefix), prefix)
            rules = self._rules_of[prefix]
        return bool((rules.dirs if is_dir else rules.files).match_file(path))


def ignored_paths(root: Path, paths: Sequence[str], over: Path | None = None) -> set[str]:
    """Those of ``paths`` (relative POSIX paths of files) that :class:`IgnoreRules` ignores."""
    rules = IgnoreRules(root, over)
    return {path for path in paths if rules.ignored(path)}


def _links_inside(link: str, real_root: str) -> bool:
    """Whether the symlink ``link`` resolves to a regular file inside the project, outside its
    ``.git`` and ``.agents`` (a broken link or a loop resolves to nothing that is a file)."""
    target = os.path.realpath(link)
    if not target.startswith(real_root + os.sep) or not os.path.isfile(target):
        return False
    parts = target[len(real_root) + 1 :].split(os.sep)
    return GIT_DIR not in parts and parts[0] != STATE_DIR


def _with_ignore_file(rules: _Rules, path: Path, prefix: str) -> _Rules:
    """``rules`` followed by the patterns of the ignore file ``path`` in directory ``prefix``.

    Git lets a deeper .gitignore override a shallower one and, within one file, the last
    matching pattern win; so appending the deeper file's patterns, re-rooted at the project
    root, to its parents' gives git's verdict from one GitIgnoreSpec, whose own rules settle how
    file and directory patterns interact. An absent or unreadable file adds nothing; a malformed
    line is skipped and the rest kept, as git does.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return rules
    lines = [line for line in (_rebase(ln, prefix) for ln in text.splitlines()) if line]
    lines = [line for line in lines if _is_valid(line) and _is_valid(_for_dirs(line))]
    if not lines:
        return rules
    files = GitIgnoreSpec.from_lines(lines).patterns
    dirs = GitIgnoreSpec.from_lines(map(_for_dirs, lines)).patterns
    return _Rules(
        GitIgnoreSpec([*rules.files.patterns, *files]),
        GitIgnoreSpec([*rules.dirs.patterns, *dirs]),
    )


def _for_dirs(line: str) -> str:
    """The pattern without its "directories only" mark (it is checked against directories)."""
    stripped = line.rstrip(" ")
    return stripped[:-1] if stripped.endswith("/") and len(stripped) > 1 else line


def _rebase(line: str, prefix: str) -> str:
    """A .gitignore line of directory ``prefix`` ("a/b/") rewritten relative to the root.

    Per gitignore(5): a pattern with a "/" before its end is anchored to its file's directory;
    one without may match at any depth below it. Comments and blank lines become "". Two
    spellings pathspec reads differently from git are rewritten to equivalents it reads alike.
    """
    negate = "!" if line.startswith("!") else ""
    body = line[len(negate) :]
    core = body.rstrip(" ").removesuffix("/").removeprefix("/")
    if not core or line.startswith("#"):
        return ""
    if body.rstrip(" ").endswith("/**/"):
        # git: the directories inside; pathspec would read it as the directory itself ("a/").
        body = body.rstrip(" ")[:-1] + "*/"
    if not prefix:
        return negate + body
    anchor = _GLOB_SPECIAL.sub(r"\\\1", prefix)
    if "/" in core or body.startswith("/"):
        return f"{negate}{anchor}{body.removeprefix('/')}"
    if core == "**":
        # A lone "**" is a plain "*" to git; pathspec would fold "a/**/**/" into "a/".
        body = body.replace("**", "*", 1)
    return f"{negate}{anchor}**/{body}"


def _is_valid(pattern: str) -> bool:
    """Whether pathspec can compile ``pattern``."""
    try:
        GitIgnoreSpec.from_lines([pattern])
    except _PATTERN_ERRORS:
        return False
    return True


def _compile_globs(patterns: Sequence[str], kind: str) -> GitIgnoreSpec:
    """The ``include`` or ``exclude`` globs as one spec; InvalidInputError names a bad one."""
    # GitIgnoreSpec rather than PathSpec.from_lines("gitwildmatch", ...): the same wildmatch
    # rules, without the deprecation warning that factory name raises since pathspec 1.0.
    if isinstance(patterns, str):
        patterns = [patterns]  # one glob passed bare, not a sequence of one-character globs
    for pattern in patterns:
        try:
            GitIgnoreSpec.from_lines([pattern])
        except _PATTERN_ERRORS as exc:
            raise InvalidInputError(f"invalid {kind} glob {pattern!r}: {exc}") from exc
    return GitIgnoreSpec.from_lines(patterns)
