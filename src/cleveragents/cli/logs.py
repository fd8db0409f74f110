"""configure_logging: rich on a terminal, plain lines otherwise, JSON lines on request."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes, not what it was when set up
    (a test runner swaps it per command; a thread may log after that)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(verbose: int = 0, json_lines: bool = False) -> None:
    """Send the package's logs to stderr: INFO by default, DEBUG with ``-v``."""
    level = logging.DEBUG if verbose > 0 else logging.INFO
    handler: logging.Handler
    if json_lines:
        handler = _StderrHandler()
        handler.setFormatter(_JsonFormatter())
    elif sys.stderr.isatty():  # rich (slow to import) only where its output is seen
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(stderr=True), show_path=False)
    else:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("cleveragents")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
