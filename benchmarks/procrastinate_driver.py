"""Runs inside ``--procrastinate-python`` (``compare_procrastinate.py`` passes this file's text
to ``python -c``): the anchor's ``procrastinate_bench.py``, pointed at the cluster of the
comparison, then its end-to-end figure again with N worker processes. ``argv[1]`` is a JSON
object (anchors, dsn, jobs, processes, concurrency, out_processes, argv).

Not a module of the ``benchmarks`` package: it imports the anchors' modules, which only the
peer's environment has.
"""

import json
import os
import shutil
import sys
import tempfile
import time

spec = json.loads(sys.argv[1])
sys.path.insert(0, spec["anchors"])
os.environ["ANCHORS_PG_DSN"] = spec["dsn"]
import procrastinate_bench as bench  # noqa: E402
import psycopg  # noqa: E402


class ClusterOfTheComparison:
    # Stands in for the anchor's PostgresServer: the server is already running.
    bindir = "started by compare_procrastinate.py"
    dsn = spec["dsn"]

    def start(self, extra_settings=()):
        return self

    def settings(self, names):
        with psycopg.connect(self.dsn) as conn:
            return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}

    def stop(self):
        pass


bench.PostgresServer = ClusterOfTheComparison
sys.argv = ["procrastinate_bench.py", *spec["argv"]]
bench.main()

import procrastinate_tasks as pt  # noqa: E402

n, processes, concurrency = spec["jobs"], spec["processes"], spec["concurrency"]
work = tempfile.mkdtemp(prefix="compare-procrastinate-")
log_path = os.path.join(work, "worker.log")
env = dict(os.environ, ANCHORS_PG_DSN=spec["dsn"], ANCHORS_PROBE_SOCK=os.path.join(work, "none"))
env["PYTHONPATH"] = bench.HERE
procs = []
out = {}
admin = psycopg.connect(spec["dsn"], autocommit=True)
try:
    with pt.app.open():
        admin.execute("TRUNCATE procrastinate_jobs RESTART IDENTITY CASCADE")
        pt.noop.batch_defer(*([{}] * n))
        t_spawn = time.time()
        procs = [bench.start_worker(env, log_path, concurrency) for _ in range(processes)]
        deadline = time.monotonic() + 600
        while (
            admin.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status='succeeded'"
            ).fetchone()[0]
            < n
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("procrastinate end-to-end did not finish")
            time.sleep(0.05)
        for proc in procs:
            bench.stop(proc)
        first, last = admin.execute(
            "SELECT extract(epoch FROM min(at) FILTER (WHERE type='started')), "
            "extract(epoch FROM max(at) FILTER (WHERE type='succeeded')) FROM procrastinate_events"
        ).fetchone()
        out["spawn_rate"] = n / (float(last) - t_spawn)
        out["steady_rate"] = n / (float(last) - float(first))
    with open(log_path, "rb") as fh:
        out["error_lines"] = sum(
            1
            for ln in fh.read().decode(errors="replace").splitlines()
            if "Traceback" in ln or "ERROR" in ln
        )
finally:
    for proc in procs:
        bench.stop(proc)
    admin.close()
    shutil.rmtree(work, ignore_errors=True)
with open(spec["out_processes"], "w") as fh:
    json.dump(out, fh)
