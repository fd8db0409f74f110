"""asv benchmarks of `agents`: enqueue, claim, end-to-end drain, pickup latency, idle CPU.

Figures are reported, never asserted. The issue's targets and the peers' figures they are
compared with (huey, measured in the same sitting by ``benchmarks/compare_huey.py``):

- end to end: 4 threads draining 5,000 queued ``noop`` jobs, at least 2x huey (``end_to_end``);
- pickup latency of an idle worker at default settings p50 < 10 ms, p99 < 25 ms, idle CPU
  < 2 % of a core (``latency``);
- ``JobQueue.enqueue`` >= 4,000 jobs/s, ``JobQueue.enqueue_many`` of 10,000 >= 50,000 jobs/s
  (``enqueue``);
- ``JobStore.claim`` flat with 1,000,000 finished rows in the table (``claim``).
"""
