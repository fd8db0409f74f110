"""Steps for sparse files in a project: made with holes, and the sandbox copy's allocated size as
the leaf itself saw it (``stat`` run by the action inside its workspace)."""

from __future__ import annotations

import os
from typing import Any

from behave import given, then
from plan_helpers import leaves

_SPARSE_FILE = (
    'the project "{project}" holds a sparse file "{path}" of {mib:d} MiB with "{text}" at {offsets}'
)


@given(_SPARSE_FILE)
def step_sparse_file(
    context: Any, project: str, path: str, mib: int, text: str, offsets: str
) -> None:
    """A file of ``mib`` MiB, all hole but ``text`` written at each of the (comma-separated)
    byte offsets; checked to be sparse, or the scenario would prove nothing."""
    target = context.tmp / project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        handle.truncate(mib << 20)
        for offset in offsets.split(","):
            handle.seek(int(offset))
            handle.write(text.encode("utf-8"))
    allocated = os.stat(target).st_blocks * 512
    assert allocated < 1 << 20, f"{target}: {allocated} bytes allocated; no holes on this disk"


@then('the plan\'s only leaf saw "{path}" as {size:d} bytes in at most {kib:d} KiB of disk')
def step_leaf_saw_sparse(context: Any, path: str, size: int, kib: int) -> None:
    """The leaf's output ends with ``stat -c '%s %b %B' PATH``: size, blocks, block size."""
    (leaf,) = leaves(context)
    seen, blocks, block_size = (leaf.output_tail or "").split()[-3:]
    assert int(seen) == size, (path, leaf.output_tail)
    allocated = int(blocks) * int(block_size)
    assert allocated <= kib << 10, f"{path}: the sandbox copy has {allocated} bytes allocated"
