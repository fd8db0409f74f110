"""agents: run automation over whole codebases safely and in parallel, on a durable job queue."""

# The one place the version is written: pyproject.toml reads it from here (hatch's version
# source), and `agents --version` prints it without importlib.metadata (40 ms at every start).
__version__ = "0.1.0"

# The Python API (cleveragents/api.py), imported on first use: `agents` itself never needs it.
_API = frozenset(
    {"JobContext", "JobFailed", "JobKind", "enqueue", "enqueue_many", "job_kind", "wait"}
)


def __getattr__(name: str) -> object:
    if name in _API:
        from cleveragents import api

        return getattr(api, name)
    raise AttributeError(f"module 'cleveragents' has no attribute {name!r}")
