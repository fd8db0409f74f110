"""The names of the workspace backends (``sandbox.backend``), apart from the backends themselves:
the worker's plan kinds take one as a default without loading the workspace machinery."""

AUTO = "auto"  # an overlay where the kernel allows one, else a copy
OVERLAY = "overlay"
COPY = "copy"
BACKENDS = (AUTO, OVERLAY, COPY)
