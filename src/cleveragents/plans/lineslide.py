"""Where a diff shows a change that could sit in several places: git's choice.

A run of inserted lines ``b c`` after ``a b`` reads the same as ``c b`` after ``a``; the edit
is equally short either way. :func:`compact` settles each such run of changed lines the way
``git diff`` does (with its default indent heuristic): slide the run up, then down, as far as
equal lines allow, merging it with any run it touches; then, if it may move,

- line it up with the last place where the other side has a change too, so the two show as one
  replacement; otherwise
- put it where its two edges score best by indentation and blank lines (a run that starts a
  block and ends before a dedent, rather than one cut in the middle of a block), looking at most
  100 positions up.

The weights are the ones git chose from a corpus of human-rated diffs (``diff.indentHeuristic``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_MAX_INDENT = 200  # indentation counted up to here
_MAX_BLANKS = 20  # blank lines counted up to here
_MAX_SLIDING = 100  # positions the heuristic considers
_START_OF_FILE = 1
_END_OF_FILE = 21
_TOTAL_BLANK = -30
_POST_BLANK = 6
_INDENT = -4
_INDENT_WITH_BLANK = 10
_OUTDENT = 24
_OUTDENT_WITH_BLANK = 17
_DEDENT = 23
_DEDENT_WITH_BLANK = 17
_INDENT_WEIGHT = 60
_WHITESPACE = " \t\n\r\v\f"


@dataclass
class _Run:
    """The changed lines ``start .. end - 1`` of one side (``start == end``: an empty run
    sitting above line ``start``)."""

    start: int
    end: int


class _Side:
    """One side's lines (as numbers) and changed flags; ``changed[-1]`` is a ``False``
    sentinel that also stands for index ``-1``."""

    def __init__(self, ids: list[int], changed: list[bool]) -> None:
        self.ids = ids
        self.changed = changed
        self.size = len(ids)

    def first(self) -> _Run:
        run = _Run(0, 0)
        while self.changed[run.end]:
            run.end += 1
        return run

    def next(self, run: _Run) -> bool:
        """Move to the following (maybe empty) run; ``False`` at the end of the side."""
        if run.end == self.size:
            return False
        run.start = run.end = run.end + 1
        while self.changed[run.end]:
            run.end += 1
        return True

    def previous(self, run: _Run) -> None:
        """Move to the preceding (maybe empty) run; there is one, since this side's run faces
        one that just slid up past an unchanged line."""
        run.start = run.end = run.start - 1
        while self.changed[run.start - 1]:
            run.start -= 1

    def slide_down(self, run: _Run) -> bool:
        """Shift the run one line down if the line after it equals its first, absorbing a run
        it then touches."""
        if run.end >= self.size or self.ids[run.start] != self.ids[run.end]:
            return False
        self.changed[run.start] = False
        self.changed[run.end] = True
        run.start += 1
        run.end += 1
        while self.changed[run.end]:
            run.end += 1
        return True

    def slide_up(self, run: _Run) -> bool:
        """Shift the run one line up if the line before it equals its last, absorbing a run it
        then touches."""
        if run.start == 0 or self.ids[run.start - 1] != self.ids[run.end - 1]:
            return False
        run.start -= 1
        run.end -= 1
        self.changed[run.start] = True
        self.changed[run.end] = False
        while self.changed[run.start - 1]:
            run.start -= 1
        return True


def compact(
    ids: list[int],
    changed: list[bool],
    other_ids: list[int],
    other_changed: list[bool],
    lines: Sequence[str],
) -> None:
    """Move this side's runs of changed lines to where git shows them (``changed`` in place).

    The other side's runs are followed in step (the n-th run of one side faces the n-th of the
    other, since unchanged lines pair up in order) but never moved.
    """
    side, other = _Side(ids, changed), _Side(other_ids, other_changed)
    run, facing = side.first(), other.first()
    indents: dict[int, int] = {}
    while True:
        if run.end > run.start:
            _settle(side, run, other, facing, lines, indents)
        if not side.next(run):
            break
        other.next(facing)


def _settle(
    side: _Side,
    run: _Run,
    other: _Side,
    facing: _Run,
    lines: Sequence[str],
    indents: dict[int, int],
) -> None:
    """Slide one run to its place, merging the runs it meets on the way."""
    while True:
        size = run.end - run.start
        while side.slide_up(run):
            other.previous(facing)
        earliest_end = run.end
        aligned_end = run.end if facing.end > facing.start else -1
        while side.slide_down(run):
            other.next(facing)
            if facing.end > facing.start:
                aligned_end = run.end
        if size == run.end - run.start:
            break
    if run.end == earliest_end:
        return
    if aligned_end != -1:
        while facing.end == facing.start:
            side.slide_up(run)
            other.previous(facing)
        return
    best = _best_end(lines, indents, earliest_end, run.end, run.end - run.start)
    while run.end > best:
        side.slide_up(run)
        other.previous(facing)


def _best_end(
    lines: Sequence[str], indents: dict[int, int], earliest: int, latest: int, size: int
) -> int:
    """The end position, in ``[earliest, latest]``, that the indent heuristic likes best (the
    last one on a tie)."""
    best_end, best_indent, best_penalty = -1, 0, 0
    for end in range(max(earliest, latest - size - 1, latest - _MAX_SLIDING), latest + 1):
        indent_a, penalty_a = _score(lines, indents, end)
        indent_b, penalty_b = _score(lines, indents, end - size)
        indent, penalty = indent_a + indent_b, penalty_a + penalty_b
        if best_end != -1:
            order = (indent > best_indent) - (indent < best_indent)
            if _INDENT_WEIGHT * order + penalty - best_penalty > 0:
                continue
        best_end, best_indent, best_penalty = end, indent, penalty
    return best_end


def _indent(lines: Sequence[str], indents: dict[int, int], index: int) -> int:
    """Columns of leading space of a line (a tab to the next multiple of 8), up to 200; ``-1``
    for a line of whitespace only."""
    found = indents.get(index)
    if found is not None:
        return found
    columns = -1
    width = 0
    for char in lines[index]:
        if char not in _WHITESPACE:
            columns = width
            break
        if char == " ":
            width += 1
        elif char == "\t":
            width += 8 - width % 8
        if width >= _MAX_INDENT:
            columns = _MAX_INDENT
            break
    indents[index] = columns
    return columns


def _nearest_text(lines: Sequence[str], indents: dict[int, int], order: range) -> tuple[int, int]:
    """Blank lines passed, and the indent of the first line with text, walking ``order``
    (an indent of 0 once ``_MAX_BLANKS`` blank lines were passed; -1 if none has text)."""
    blank = 0
    for index in order:
        indent = _indent(lines, indents, index)
        if indent != -1:
            return blank, indent
        blank += 1
        if blank == _MAX_BLANKS:
            return blank, 0
    return blank, -1


def _score(lines: Sequence[str], indents: dict[int, int], split: int) -> tuple[int, int]:
    """The effective indent and the penalty of cutting the lines just above ``split``."""
    end_of_file = split >= len(lines)
    indent = -1 if end_of_file else _indent(lines, indents, split)
    pre_blank, pre_indent = _nearest_text(lines, indents, range(split - 1, -1, -1))
    post_blank, post_indent = _nearest_text(lines, indents, range(split + 1, len(lines)))
    penalty = 0
    if pre_indent == -1 and pre_blank == 0:
        penalty += _START_OF_FILE
    if end_of_file:
        penalty += _END_OF_FILE
    blanks_after = 1 + post_blank if indent == -1 else 0
    total_blank = pre_blank + blanks_after
    penalty += _TOTAL_BLANK * total_blank + _POST_BLANK * blanks_after
    effective = indent if indent != -1 else post_indent
    blanks = total_blank != 0
    if effective == -1 or pre_indent == -1 or effective == pre_indent:
        pass
    elif effective > pre_indent:
        penalty += _INDENT_WITH_BLANK if blanks else _INDENT
    elif post_indent != -1 and post_indent > effective:
        penalty += _OUTDENT_WITH_BLANK if blanks else _OUTDENT
    else:
        penalty += _DEDENT_WITH_BLANK if blanks else _DEDENT
    return effective, penalty
