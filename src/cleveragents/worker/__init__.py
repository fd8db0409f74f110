"""Everything that owns threads, clocks or signals: the AsyncWorker, tokens, job kinds."""
