"""Line diffs the way ``git diff`` computes them, in time bounded by the size of the change.

:func:`diff_opcodes` aligns two lists of lines and returns difflib-style opcodes
(``equal``/``replace``/``delete``/``insert`` with half-open ranges); :func:`group_opcodes` cuts
them into unified-diff hunks. The alignment follows git's default ("myers") behaviour:

1. Lines the two sides share at the start and at the end are matched outright.
2. In what is left, a line with no copy on the other side is changed for certain and is taken
   out before the search; so is a line with very many copies that sits in a run of such lines
   (git's "cleanup" of records).
3. Myers' O(ND) algorithm, in its linear-space form (a forward and a backward search that meet
   at a middle snake, then each half solved the same way), marks the remaining changed lines.
   A search that has spent ``max(256, sqrt(lines))`` edits without meeting gives up on being
   minimal and splits at the furthest point either search reached, as git does, so no input
   costs more than about ``lines * 256`` steps per level of the split.
4. Each run of changed lines is slid up and down as far as equal lines allow, merged with the
   runs it touches, and put back where git would show it (:mod:`.lineslide`).

difflib's :class:`~difflib.SequenceMatcher` needs quadratic time on repetitive text (every copy
of a repeated line is a candidate match); none of the steps above looks at more than the lines
between two differences, and a single edit in a long repetitive file is found by step 1 alone.
Only counts are needed for ``--stat``: :func:`count_changes` skips step 4, which moves changes
but never changes how many lines are added or removed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from cleveragents.plans.lineslide import compact

Opcode = tuple[str, int, int, int, int]

_MIN_COST_CAP = 256  # edits one search may spend before it settles for a good split
_MAX_COPIES_LIMIT = 1024  # a line with this many copies on the other side counts as "many"
_SCAN_WINDOW = 100  # how far the cleanup looks around a many-copies line
_KEEP_RATIO = 4  # a many-copies line goes when its run is more than 1/4 lines without a match


def diff_opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """The edit from ``a`` to ``b`` as opcodes covering both sequences in order."""
    ids_a, ids_b = _intern(a, b)
    changed_a, changed_b = _changed(ids_a, ids_b)
    compact(ids_a, changed_a, ids_b, changed_b, a)
    compact(ids_b, changed_b, ids_a, changed_a, b)
    return _opcodes(changed_a, len(a), changed_b, len(b))


def count_changes(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """Lines added and lines removed going from ``a`` to ``b`` (what ``--numstat`` prints)."""
    changed_a, changed_b = _changed(*_intern(a, b))
    return sum(changed_b), sum(changed_a)


def group_opcodes(opcodes: Sequence[Opcode], context: int) -> Iterator[list[Opcode]]:
    """The opcodes cut into hunks with ``context`` equal lines around each change.

    Changes at most ``2 * context`` lines apart share a hunk (git's rule, and difflib's). Yields
    nothing when there is no change.
    """
    codes = list(opcodes)
    if codes and codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if codes and codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


def _intern(a: Sequence[str], b: Sequence[str]) -> tuple[list[int], list[int]]:
    """Each line as a small integer, equal lines getting equal numbers."""
    numbers: dict[str, int] = {}
    ids_a = [numbers.setdefault(line, len(numbers)) for line in a]
    ids_b = [numbers.setdefault(line, len(numbers)) for line in b]
    return ids_a, ids_b


def _changed(ids_a: list[int], ids_b: list[int]) -> tuple[list[bool], list[bool]]:
    """Which lines of each side are changed, one flag per line plus a ``False`` sentinel.

    The sentinel at index ``len`` also answers for index ``-1``, so the sliding code can look one
    line past either end without bounds checks.
    """
    n, m = len(ids_a), len(ids_b)
    changed_a, changed_b = [False] * (n + 1), [False] * (m + 1)
    start = 0
    while start < n and start < m and ids_a[start] == ids_b[start]:
        start += 1
    end_a, end_b = n, m
    while end_a > start and end_b > start and ids_a[end_a - 1] == ids_b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    kept_a = _kept(ids_a, start, end_a, Counter(ids_b), changed_a)
    kept_b = _kept(ids_b, start, end_b, Counter(ids_a), changed_b)
    _search(
        [ids_a[i] for i in kept_a], [ids_b[j] for j in kept_b], kept_a, kept_b, changed_a, changed_b
    )
    return changed_a, changed_b


def _kept(
    ids: list[int], start: int, end: int, other: Counter[int], changed: list[bool]
) -> list[int]:
    """Indexes in ``[start, end)`` worth searching; the lines left out are marked changed.

    A line with no copy on the other side is changed whatever the alignment. A line with many
    copies there (at least ``sqrt(len)``, at most 1024) is left out too when it sits among lines
    without a match: it would only tie the search to arbitrary copies.
    """
    limit = min(_isqrt_ceil(len(ids)), _MAX_COPIES_LIMIT)
    kinds = bytearray(end - start)  # 0: no match, 1: some matches, 2: many matches
    for offset in range(end - start):
        copies = other.get(ids[start + offset], 0)
        kinds[offset] = 0 if copies == 0 else 2 if copies >= limit else 1
    kept = []
    for offset, kind in enumerate(kinds):
        if kind == 1 or (kind == 2 and not _among_unmatched(kinds, offset)):
            kept.append(start + offset)
        else:
            changed[start + offset] = True
    return kept


def _among_unmatched(kinds: bytearray, at: int) -> bool:
    """Whether the many-copies line ``at`` sits in a run mostly made of lines without a match."""
    before, many = _run(kinds, range(at - 1, max(-1, at - _SCAN_WINDOW - 1), -1))
    if before == 0:
        return False
    after, more = _run(kinds, range(at + 1, min(len(kinds), at + _SCAN_WINDOW + 1)))
    if after == 0:
        return False
    many += more + 2  # git counts the line itself on both sides
    return many * _KEEP_RATIO < many + before + after


def _run(kinds: bytearray, indexes: range) -> tuple[int, int]:
    """Lines without a match and lines with many copies, walking ``indexes`` until a line with
    a few matches."""
    unmatched = many = 0
    for index in indexes:
        if kinds[index] == 0:
            unmatched += 1
        elif kinds[index] == 2:
            many += 1
        else:
            break
    return unmatched, many


def _isqrt_ceil(n: int) -> int:
    """A power of two near ``sqrt(n)`` and at least 1 (git's cheap square root)."""
    root = 1
    while n > 0:
        n >>= 2
        root <<= 1
    return root


def _search(
    a: list[int],
    b: list[int],
    index_a: list[int],
    index_b: list[int],
    changed_a: list[bool],
    changed_b: list[bool],
) -> None:
    """Mark the changed lines of ``a`` and ``b`` (their real indexes are in ``index_*``)."""
    cap = max(_MIN_COST_CAP, _isqrt_ceil(len(a) + len(b) + 3))
    boxes = [(0, len(a), 0, len(b), False)]
    while boxes:
        lo1, hi1, lo2, hi2, minimal = boxes.pop()
        while lo1 < hi1 and lo2 < hi2 and a[lo1] == b[lo2]:
            lo1 += 1
            lo2 += 1
        while lo1 < hi1 and lo2 < hi2 and a[hi1 - 1] == b[hi2 - 1]:
            hi1 -= 1
            hi2 -= 1
        if lo1 == hi1 or lo2 == hi2:
            for i in range(lo1, hi1):
                changed_a[index_a[i]] = True
            for j in range(lo2, hi2):
                changed_b[index_b[j]] = True
            continue
        x, y, low_minimal, high_minimal = _split(a, b, lo1, hi1, lo2, hi2, None if minimal else cap)
        boxes.append((x, hi1, y, hi2, high_minimal))
        boxes.append((lo1, x, lo2, y, low_minimal))


def _split(
    a: list[int], b: list[int], lo1: int, hi1: int, lo2: int, hi2: int, cap: int | None
) -> tuple[int, int, bool, bool]:
    """A point where a shortest edit path through the box crosses, and whether each half must
    be solved minimally; past ``cap`` edits, the furthest point reached instead.

    Diagonal ``k`` holds the points with ``x - y == k``; the forward search starts at
    ``(lo1, lo2)`` on diagonal ``lo1 - lo2``, the backward one at ``(hi1, hi2)``. The ends of
    the box are known to differ, so neither search starts with a snake.
    """
    kmin, kmax = lo1 - hi2, hi1 - lo2
    shift = hi2 - lo1 + 1  # list index of diagonal k is k + shift
    fwd = [-1] * (kmax - kmin + 3)  # furthest x per diagonal; -1: not reached
    bwd = [hi1 + 1] * (kmax - kmin + 3)  # smallest x per diagonal; hi1 + 1: not reached
    fmid, bmid = lo1 - lo2, hi1 - hi2
    odd = (fmid - bmid) & 1
    fwd[fmid + shift], bwd[bmid + shift] = lo1, hi1
    flo = fhi = fmid
    blo = bhi = bmid
    cost = 0
    while True:
        cost += 1
        flo = flo - 1 if flo > kmin else flo + 1
        fhi = fhi + 1 if fhi < kmax else fhi - 1
        for k in range(fhi, flo - 1, -2):
            left, right = fwd[k - 1 + shift], fwd[k + 1 + shift]
            if left >= hi1:  # a step right would leave the box
                left = -1
            if right >= 0 and right - k > hi2:  # a step down would leave the box
                right = -1
            if left < 0 and right < 0:
                fwd[k + shift] = -1  # not reachable with this many edits
                continue
            x = left + 1 if left >= right else right
            y = x - k
            while x < hi1 and y < hi2 and a[x] == b[y]:
                x += 1
                y += 1
            fwd[k + shift] = x
            if odd and blo <= k <= bhi and bwd[k + shift] <= x:
                return x, y, True, True
        blo = blo - 1 if blo > kmin else blo + 1
        bhi = bhi + 1 if bhi < kmax else bhi - 1
        for k in range(bhi, blo - 1, -2):
            left, right = bwd[k - 1 + shift], bwd[k + 1 + shift]
            if left <= hi1 and left - k + 1 <= lo2:  # a step up would leave the box
                left = hi1 + 1
            if right <= lo1:  # a step left would leave the box
                right = hi1 + 1
            if left > hi1 and right > hi1:
                bwd[k + shift] = hi1 + 1  # not reachable with this many edits
                continue
            x = left if left < right else right - 1
            y = x - k
            while x > lo1 and y > lo2 and a[x - 1] == b[y - 1]:
                x -= 1
                y -= 1
            bwd[k + shift] = x
            if not odd and flo <= k <= fhi and x <= fwd[k + shift]:
                return x, y, True, True
        if cap is not None and cost >= cap:
            return _furthest(fwd, bwd, shift, (flo, fhi, blo, bhi), (lo1, hi1, lo2, hi2))


def _furthest(
    fwd: list[int],
    bwd: list[int],
    shift: int,
    ranges: tuple[int, int, int, int],
    box: tuple[int, int, int, int],
) -> tuple[int, int, bool, bool]:
    """The point either search got furthest with (by ``x + y``), clipped to the box."""
    flo, fhi, blo, bhi = ranges
    lo1, hi1, lo2, hi2 = box
    forward_best, forward_x = -1, lo1
    for k in range(fhi, flo - 1, -2):
        x = min(fwd[k + shift], hi1)
        if x - k > hi2:
            x = hi2 + k
        if x + (x - k) > forward_best:
            forward_best, forward_x = x + (x - k), x
    backward_best, backward_x = hi1 + hi2 + 1, hi1
    for k in range(bhi, blo - 1, -2):
        x = max(bwd[k + shift], lo1)
        if x - k < lo2:
            x = lo2 + k
        if x + (x - k) < backward_best:
            backward_best, backward_x = x + (x - k), x
    if (hi1 + hi2) - backward_best < forward_best - (lo1 + lo2):
        return forward_x, forward_best - forward_x, True, False
    return backward_x, backward_best - backward_x, False, True


def _opcodes(changed_a: list[bool], n: int, changed_b: list[bool], m: int) -> list[Opcode]:
    """difflib-style opcodes from the changed flags (unchanged lines pair up in order)."""
    codes: list[Opcode] = []
    i = j = 0
    while i < n or j < m:
        i0, j0 = i, j
        while i < n and j < m and not changed_a[i] and not changed_b[j]:
            i += 1
            j += 1
        if i > i0:
            codes.append(("equal", i0, i, j0, j))
            continue
        while i < n and changed_a[i]:
            i += 1
        while j < m and changed_b[j]:
            j += 1
        tag = "replace" if i > i0 and j > j0 else "delete" if i > i0 else "insert"
        codes.append((tag, i0, i, j0, j))
    return codes
