"""The parts of ``tools/pgcluster.py``: settings and process helpers (``common``), stopping a
server by its pid and data directory (``shutdown``), the :class:`Cluster` itself (``cluster``) and
the command line (``cli``). Import them through ``pgcluster``, which puts this package's directory
on ``sys.path`` (``tools`` is no package)."""
