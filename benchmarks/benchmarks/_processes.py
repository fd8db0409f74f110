"""Real ``agents`` processes for the measurements: their environment, the bytecode cache, a
long-running worker (start, CPU time, stop) and burst workers run to their exit.

Every process is ``python -m cleveragents`` (what the ``agents`` console script runs) at default
settings on one database, given by its URL (see ``_db.db_url``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from sqlalchemy import text

from cleveragents.store.engine import Database

from ._db import Target, db_url
from ._support import temp_dir

WORKER_TIMEOUT_S = 600.0

# Worker processes get a bytecode cache of their own in the temp dir. An environment with
# PYTHONDONTWRITEBYTECODE=1 and a virtualenv installed without .pyc files (uv's default) would
# otherwise recompile ~400 modules at every `agents` start (~0.8 s here), which is not what an
# installed tool costs; the peers' virtualenvs (pip) have their .pyc files.
PYCACHE = Path(tempfile.gettempdir()) / "agents-bench-pycache"


def worker_env(target: Target) -> dict[str, str]:
    """The environment of an ``agents`` process at default settings on ``target``: no AGENTS_*
    but the database URL and a config file that does not exist."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTS_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["AGENTS_DATABASE_URL"] = db_url(target)
    env["AGENTS_CONFIG"] = str(Path(tempfile.gettempdir()) / "agents-bench-no-config.toml")
    return env


def agents_argv(*args: str) -> list[str]:
    """``agents ARGS`` as this interpreter runs it."""
    return [sys.executable, "-m", "cleveragents", *args]


def warm_worker_bytecode(url: str | None = None) -> None:
    """One ``agents worker run --burst`` on an empty database (``url``, or a temp SQLite file),
    filling :data:`PYCACHE`; a PostgreSQL URL fills it for that path too (psycopg, SQLAlchemy's
    dialect), which an SQLite run never imports."""
    with temp_dir() as tmp:
        subprocess.run(
            agents_argv("worker", "run", "--burst"),
            env=worker_env(url or tmp / "agents.db"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            cwd=tmp,
            timeout=WORKER_TIMEOUT_S,
        )


def enqueue_noops_cli(url: str, count: int) -> None:
    """``agents jobs enqueue noop --count COUNT`` (migrates a fresh database first)."""
    with temp_dir() as tmp:
        subprocess.run(
            agents_argv("jobs", "enqueue", "noop", "--count", str(count)),
            env=worker_env(url),
            stdout=subprocess.DEVNULL,
            check=True,
            cwd=tmp,
            timeout=WORKER_TIMEOUT_S,
        )


def process_cpu_s(pid: int) -> float:
    """utime + stime of one process so far (all its threads)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


class WorkerProcess:
    """``agents worker run`` at default settings on ``target``, its log in ``directory``."""

    def __init__(self, target: Target, directory: Path) -> None:
        self.url = db_url(target)
        self.directory = directory
        self.log_path = directory / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.hang_report = ""  # what its threads were doing, when it did not stop in time

    def start(self, timeout: float = 60.0) -> None:
        """Spawn the worker and wait until its ``workers`` row says it is running."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                agents_argv("worker", "run"),
                env=worker_env(self.url),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        db = Database(self.url)
        query = text("SELECT COUNT(*) FROM workers WHERE pid = :pid AND status = 'running'")
        try:
            deadline = time.monotonic() + timeout
            while True:
                with db.read() as conn:
                    if conn.execute(query, {"pid": self.proc.pid}).scalar_one():
                        return
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start; log:\n{self.log()}")
                time.sleep(0.05)
        finally:
            db.dispose()

    def cpu_s(self) -> float:
        """Its CPU time so far (utime + stime, all its threads)."""
        assert self.proc is not None
        return process_cpu_s(self.proc.pid)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (graceful stop), then wait; SIGKILL if it hangs. Returns the exit code.

        If it hangs, :attr:`hang_report` says what each of its threads was blocked in.
        """
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.hang_report = thread_report(self.proc.pid)
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        """Its output so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_errors(self) -> list[str]:
        """The lines of its log that report an error or a traceback."""
        return [ln for ln in self.log().splitlines() if "ERROR" in ln or "Traceback" in ln]


def thread_report(pid: int) -> str:
    """Each thread of ``pid``: its id, name and state (psutil), and on Linux the kernel wait
    channel and the syscall it is blocked in (``/proc/PID/task/TID/{wchan,syscall}``: psutil
    has no counterpart of these two)."""
    lines = []
    for thread in sorted(psutil.Process(pid).threads(), key=lambda t: t.id):
        try:
            task = psutil.Process(thread.id)
            name, state = task.name(), task.status()
        except psutil.Error as error:
            name, state = "?", f"? ({error})"
        extra = []
        for item in ("wchan", "syscall"):
            try:
                value = Path(f"/proc/{pid}/task/{thread.id}/{item}").read_text().strip()
            except OSError as error:
                value = f"? ({error.strerror})"
            extra.append(f"{item} {value!r}")
        lines.append(f"tid {thread.id} {name!r} state {state} " + " ".join(extra))
    return "\n".join(lines)


def run_workers(
    target: Target, processes: int, threads: int | None, directory: Path
) -> tuple[float, float]:
    """Spawn ``processes`` x ``agents worker run --burst`` (``--max-workers THREADS`` unless
    ``threads`` is None: the default) and wait for all; returns (time.time() before the first
    spawn, seconds until the last exited). Raises if one exits with an error."""
    argv = agents_argv("worker", "run", "--burst")
    if threads is not None:
        argv += ["--max-workers", str(threads)]
    env = worker_env(target)
    logs = [directory / f"worker-{i}.log" for i in range(processes)]
    handles = [path.open("wb") for path in logs]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        spawned_at = time.time()
        started = time.perf_counter()
        for handle in handles:
            procs.append(
                subprocess.Popen(
                    argv, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=directory
                )
            )
        codes = [proc.wait(timeout=WORKER_TIMEOUT_S) for proc in procs]
        seconds = time.perf_counter() - started
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for handle in handles:
            handle.close()
    if any(codes):
        output = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in logs)
        raise RuntimeError(f"worker exit codes {codes}:\n{output}")
    return spawned_at, seconds
