"""agents: run automation over whole codebases safely and in parallel, on a durable job queue."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cleveragents")
except (
    PackageNotFoundError
):  # pragma: no cover - only when run from a tree that was never installed
    __version__ = "0+unknown"
