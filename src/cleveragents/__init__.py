"""agents: run automation over whole codebases safely and in parallel, on a durable job queue."""

# The one place the version is written: pyproject.toml reads it from here (hatch's version
# source), and `agents --version` prints it without importlib.metadata (40 ms at every start).
__version__ = "0.1.0"
